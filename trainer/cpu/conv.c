/* conv.c - see conv.h. The geometry and workspace rules here; the float and double bodies
 * come from one template, conv_tmpl.h. */
#include "conv.h"

#include <cblas.h> /* OpenBLAS: also openblas_get/set_num_threads */
#include <omp.h>
#include <string.h>

/* Images per block: the largest power of two whose column buffer stays within 64K values
 * (256 KiB of floats: a quarter of the L2 cache of these cores, so that the block's columns,
 * its output and the GEMM's packed panels stay in L2) and whose product has at most 512
 * columns. Measured on the fashion_cnn shapes: one 14x14 image of 32 channels per block
 * (N = 196, K = 288) runs the GEMMs at 90% of the 1024^3 rate and beats bigger blocks, whose
 * im2col output no longer stays in cache. A function of the shape alone, so the blocking never
 * depends on the thread count. */
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

/* 1x1, stride 1, no padding: the input planes are the column matrix already. */
static int conv_direct(const hp_conv_geom *g) { return g->k == 1 && g->stride == 1 && g->pad == 0; }

/* The backward pass accumulates the weight gradient of consecutive blocks into one partial
 * per group (the blocks of a group run in order on one thread), then sums the groups in order:
 * at most HP_CONV_GROUPS groups, a function of the block count only. */
#define HP_CONV_GROUPS 32
static int conv_groups(int nblk) { return nblk < HP_CONV_GROUPS ? nblk : HP_CONV_GROUPS; }

int64_t hp_conv_work_size(const hp_conv_geom *g, int max_batch, int nslots) {
    int64_t ckk = (int64_t)g->C * g->k * g->k, hwo = (int64_t)g->Ho * g->Wo;
    int nblk = (max_batch + g->G - 1) / g->G, ngrp = conv_groups(nblk);
    if (nslots > nblk) nslots = nblk;
    if (nslots < 1) nslots = 1;
    int64_t cols = conv_direct(g) ? 0 : (int64_t)nslots * ckk * g->G * hwo;
    int64_t partials = ngrp > 1 ? ngrp * g->F * ckk : 0;
    return cols + partials;
}

/* Threads to run nblk blocks with at most nslots column buffers. */
static int conv_threads(int nblk, int nslots) {
    int nt = omp_get_max_threads();
    if (nt > nslots) nt = nslots;
    if (nt > nblk) nt = nblk;
    return nt < 1 ? 1 : nt;
}

/* Each block's products run on one OpenBLAS thread (ours share out the blocks). */
static void blas_one_thread(void) {
    if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
}

#define REAL float
#define SFX(name) name##_f32
#define GEMM cblas_sgemm
#include "conv_tmpl.h"
#undef REAL
#undef SFX
#undef GEMM

#define REAL double
#define SFX(name) name##_f64
#define GEMM cblas_dgemm
#include "conv_tmpl.h"
#undef REAL
#undef SFX
#undef GEMM
