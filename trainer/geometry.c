/* geometry.c - see geometry.h: the conv and pool geometry rules. */
#include "geometry.h"

#include <stdint.h>
#include <string.h>

/* Images per block of the CPU convolution (cpu/conv.h): the largest power of two whose column
 * buffer stays within 64K values (256 KiB of floats: a quarter of the L2 cache of these cores,
 * so that the block's columns, its output and the GEMM's packed panels stay in L2) and whose
 * product has at most 512 columns. Measured on the fashion_cnn shapes: one 14x14 image of 32
 * channels per block (N = 196, K = 288) runs the GEMMs at 90% of the 1024^3 rate and beats
 * bigger blocks, whose im2col output no longer stays in cache. A function of the shape alone,
 * so the blocking never depends on the thread count. */
static int block_images(int64_t ckk, int64_t hwo) {
    int G = 1;
    while (G < 256 && 2 * G * hwo <= 512 && 2 * G * hwo * ckk <= 64 * 1024) G *= 2;
    return G;
}

int hp_conv_geom_make(hp_conv_geom *g, int C, int H, int W, int F, int k, int stride, int pad) {
    if (C <= 0 || H <= 0 || W <= 0 || F <= 0 || k <= 0 || stride <= 0 || pad < 0) return -1;
    if ((int64_t)H + 2 * (int64_t)pad < k || (int64_t)W + 2 * (int64_t)pad < k) return -1;
    hp_conv_geom r;
    memset(&r, 0, sizeof r);
    r.C = C, r.H = H, r.W = W, r.F = F, r.k = k, r.stride = stride, r.pad = pad;
    r.Ho = (H + 2 * pad - k) / stride + 1;
    r.Wo = (W + 2 * pad - k) / stride + 1;
    r.G = block_images((int64_t)C * k * k, (int64_t)r.Ho * r.Wo);
    *g = r;
    return 0;
}

int hp_pool_geom_make(hp_pool_geom *g, int H, int W, int k, int stride, int pad) {
    if (H <= 0 || W <= 0 || k <= 0 || stride <= 0 || pad < 0 || pad > k / 2) return -1;
    if ((int64_t)H + 2 * (int64_t)pad < k || (int64_t)W + 2 * (int64_t)pad < k) return -1;
    hp_pool_geom r = {H, W, k, stride, pad, (H + 2 * pad - k) / stride + 1, (W + 2 * pad - k) / stride + 1};
    *g = r;
    return 0;
}
