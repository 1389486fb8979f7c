/* test_cuda_layers.c - every GPU op of cuda/gpu.h against its CPU kernel, on random inputs.
 *
 * Skipped (exit 77) when no CUDA device is visible. The context runs deterministic, with TF32
 * off (CUBLAS_DEFAULT_MATH, CUDNN_FMA_MATH), so fp32 GPU results differ from the CPU's only by
 * summation order. Tolerances (|got - want| <= atol + rtol |want|):
 *   dense, conv (forward and all gradients)     atol 1e-5, rtol 1e-4  (sums of 10..300 products)
 *   batch norm (out, stats, running, grads)     atol 1e-5, rtol 1e-4
 *   conv at batch 128 (dweight, dbias)          rtol 3e-4 (sums of B*Ho*Wo = 100k products); every
 *                                               conv also atol 2e-6 max|value| (FFT algorithms' error
 *                                               scales with the operand, not each value)
 *   pools, gap                                  atol 1e-6, rtol 1e-5
 *   max pool on ties, -inf and NaN              bit-identical (our kernels take the CPU's argmax)
 *   batch norm at 6 shapes (chunked channels)   atol 1e-5, rtol 1e-4, twice (scratch counters reset)
 *   activations (cuDNN or kernel, libm vs CUDA) atol 1e-6, rtol 1e-5
 *   softmax cross-entropy (losses, dlogits)     atol 1e-6, rtol 1e-5; hit count exact
 *   dropout                                     mask and output bit-identical (same draw, drawn at the
 *                                               CPU's channel-major position of each NCHW value)
 * Image tensors are in the device layout, packed NCHW (cudnn_rules.h); the CPU references run on
 * the same values in the CPU's channel-major order, transposed there and back (exact).
 *   SGD / Adam / AdamW, 3 steps                 atol 0, rtol 1e-6 (the kernels avoid FMA contraction
 *                                               and are expected to match bit for bit)
 *   RMSProp / AdaGrad, 3 steps                  parameters and moments bit-identical
 *   copy, zero, add, augmented gather           bit-identical (copies, zeros, one rounding per add)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"
#include "gpu_device.h"
#include "check.h"
#include "cpu/act.h"
#include "cpu/conv.h"
#include "cpu/dropout.h"
#include "cpu/layers.h"
#include "cpu/norm.h"
#include "cpu/pool.h"
#include "cuda/gpu.h"
#include "gpu_test.h"
#include "optim.h"
#include "rng.h"

static float *host(int64_t n) {
    float *p = calloc((size_t)(n > 0 ? n : 1), sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}
static float *randn(int64_t n, double scale) {
    float *p = host(n);
    for (int64_t i = 0; i < n; i++) p[i] = (float)(scale * (2 * hp_rng_uniform(&g_rng) - 1));
    return p;
}
static double maxabs(const float *a, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i]));
    return m;
}
static float *back(const float *d, int64_t n) {
    float *h = host(n);
    OK(hp_gpu_download(g_ctx, h, d, (size_t)n * sizeof(float), &g_err));
    return h;
}
#define CMP(dptr, want, n, atol, rtol, what)                                                               \
    do {                                                                                                   \
        float *got_ = back((dptr), (n));                                                                   \
        CHECK_ALLCLOSEF(got_, (want), (n), (atol), (rtol), (what));                                        \
        free(got_);                                                                                        \
    } while (0)

static void test_dense(void) {
    enum { B = 7, NI = 13, NO = 5 };
    float *x = randn(B * NI, 1), *w = randn(NO * NI, 0.5), *b = randn(NO, 0.5), *dy = randn(B * NO, 1);
    float *y = host(B * NO), *dx = host(B * NI), *dw = host(NO * NI), *db = host(NO);
    float *gx = devf(x, B * NI), *gw = devf(w, NO * NI), *gb = devf(b, NO), *gdy = devf(dy, B * NO);
    float *gy = devf(NULL, B * NO), *gdx = devf(NULL, B * NI), *gdw = devf(NULL, NO * NI), *gdb = devf(NULL, NO);
    for (int relu = 0; relu <= 1; relu++) {
        hp_dense_forward_f32(y, x, w, b, B, NI, NO, relu);
        OK(hp_gpu_dense_forward(g_ctx, gy, gx, gw, gb, B, NI, NO, relu, &g_err));
        CMP(gy, y, B * NO, 1e-5, 1e-4, relu ? "dense forward + relu" : "dense forward");
    }
    hp_dense_backward_f32(dx, dw, db, dy, x, w, B, NI, NO);
    OK(hp_gpu_dense_backward(g_ctx, gdx, gdw, gdb, gdy, gx, gw, B, NI, NO, &g_err));
    CMP(gdx, dx, B * NI, 1e-5, 1e-4, "dense dinp");
    CMP(gdw, dw, NO * NI, 1e-5, 1e-4, "dense dweight");
    CMP(gdb, db, NO, 1e-5, 1e-4, "dense dbias");
    float *p[] = {x, w, b, dy, y, dx, dw, db};
    for (int i = 0; i < 8; i++) free(p[i]);
    float *q[] = {gx, gw, gb, gdy, gy, gdx, gdw, gdb};
    for (int i = 0; i < 8; i++) hp_gpu_free(q[i]);
}

static void test_xent(void) {
    enum { B = 9, C = 6 };
    float *z = randn(B * C, 3), *probs = host(B * C), *loss = host(B), *dz = host(B * C);
    int32_t y[B];
    for (int b = 0; b < B; b++) y[b] = (int32_t)hp_rng_below(&g_rng, C);
    const float dloss = 1.0f / B;
    int64_t hits = hp_xent_forward_f32(probs, loss, z, y, B, C);
    hp_xent_backward_f32(dz, probs, y, dloss, B, C);
    double lsum = 0;
    for (int b = 0; b < B; b++) lsum += loss[b];
    float *gz = devf(z, B * C), *gdz = devf(NULL, B * C), *gl = devf(NULL, B);
    int32_t *gyy = dev(y, sizeof y);
    double *gs = dev(NULL, 2 * sizeof(double)), st[2];
    OK(hp_gpu_xent(g_ctx, gdz, gl, gs, gz, gyy, dloss, B, C, &g_err));
    CMP(gl, loss, B, 1e-6, 1e-5, "xent losses");
    CMP(gdz, dz, B * C, 1e-6, 1e-5, "xent dlogits");
    OK(hp_gpu_download(g_ctx, st, gs, sizeof st, &g_err));
    CHECK_CLOSE(st[0], lsum, 1e-5, 1e-5, "xent loss sum");
    CHECK(st[1] == (double)hits, "xent hits: got %g, want %lld", st[1], (long long)hits);
    free(z), free(probs), free(loss), free(dz);
    hp_gpu_free(gz), hp_gpu_free(gdz), hp_gpu_free(gl), hp_gpu_free(gyy), hp_gpu_free(gs);
}

static void test_act(void) {
    enum { N = 1000 };
    const hp_layer_type types[] = {HP_LAYER_RELU, HP_LAYER_LEAKY_RELU, HP_LAYER_ELU,
                                   HP_LAYER_GELU, HP_LAYER_TANH,       HP_LAYER_SIGMOID};
    const char *names[] = {"relu", "leaky_relu", "elu", "gelu", "tanh", "sigmoid"};
    float *x = randn(N, 4), *dy = randn(N, 1), *y = host(N), *dx = host(N);
    float *gx = devf(x, N), *gdy = devf(dy, N), *gy = devf(NULL, N), *gdx = devf(NULL, N);
    for (int t = 0; t < 6; t++) {
        const double param = types[t] == HP_LAYER_LEAKY_RELU ? 0.01 : 1.0;
        char what[64];
        hp_act_forward_f32(y, x, N, types[t], param);
        OK(hp_gpu_act_forward(g_ctx, gy, gx, N, types[t], param, &g_err));
        snprintf(what, sizeof what, "%s forward", names[t]);
        CMP(gy, y, N, 1e-6, 1e-5, what);
        hp_act_backward_f32(dx, dy, x, y, N, types[t], param);
        OK(hp_gpu_act_backward(g_ctx, gdx, gdy, gx, gy, N, types[t], param, &g_err));
        snprintf(what, sizeof what, "%s backward", names[t]);
        CMP(gdx, dx, N, 1e-6, 1e-5, what);
    }
    free(x), free(dy), free(y), free(dx);
    hp_gpu_free(gx), hp_gpu_free(gdy), hp_gpu_free(gy), hp_gpu_free(gdx);
}

/* Dropout over [B, C, HW] in the device layout (NCHW): each value is drawn at its position in the
 * CPU's channel-major order, so mask and output equal the CPU kernel's on the same tensor stored
 * [C, B, HW]. C = 1 is a flat tensor (no reordering). */
static void test_dropout(int B, int C, int HW) {
    const int64_t N = (int64_t)B * C * HW;
    const uint64_t key = hp_key3(7, HP_STREAM_DROPOUT, 12);
    float *x = randn(N, 1), *xc = host(N), *yc = host(N), *y = host(N), *dy = randn(N, 1), *dx = host(N);
    uint8_t *mc = malloc((size_t)N), *mask = malloc((size_t)N), *gmask = malloc((size_t)N);
    if (!mc || !mask || !gmask) exit(1);
    hp_nchw_to_cnhw_f32(xc, x, B, C, HW);
    hp_dropout_forward_f32(yc, mc, xc, N, 0.3, key); // the CPU model's draw, [C, B, HW]
    hp_cnhw_to_nchw_f32(y, yc, B, C, HW);
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) memcpy(mask + ((int64_t)b * C + c) * HW, mc + ((int64_t)c * B + b) * HW, (size_t)HW);
    hp_dropout_backward_f32(dx, dy, mask, N, 0.3);
    float *gx = devf(x, N), *gy = devf(NULL, N), *gdy = devf(dy, N), *gdx = devf(NULL, N);
    uint8_t *gm = dev(NULL, (size_t)N);
    OK(hp_gpu_dropout_forward(g_ctx, gy, gm, gx, B, C, HW, 0.3, key, &g_err));
    OK(hp_gpu_dropout_backward(g_ctx, gdx, gdy, gm, N, 0.3, &g_err));
    OK(hp_gpu_download(g_ctx, gmask, gm, (size_t)N, &g_err));
    CHECK(memcmp(mask, gmask, (size_t)N) == 0, "dropout [%d, %d, %d]: GPU mask == CPU mask bit for bit", B, C, HW);
    float *oy = back(gy, N), *odx = back(gdx, N);
    CHECK(memcmp(oy, y, sizeof(float) * (size_t)N) == 0, "dropout [%d, %d, %d] forward bit-identical", B, C, HW);
    CHECK(memcmp(odx, dx, sizeof(float) * (size_t)N) == 0, "dropout [%d, %d, %d] backward bit-identical", B, C, HW);
    free(x), free(xc), free(yc), free(y), free(dy), free(dx), free(oy), free(odx), free(mc), free(mask), free(gmask);
    hp_gpu_free(gx), hp_gpu_free(gy), hp_gpu_free(gdy), hp_gpu_free(gdx), hp_gpu_free(gm);
}

static void test_gap(void) {
    enum { B = 3, C = 4, HW = 10 };
    const int n = B * C * HW;
    float *x = randn(n, 1), *g = host(B * C), *dg = randn(B * C, 1), *dx = host(n);
    float *gx = devf(x, n), *gg = devf(NULL, B * C), *gdg = devf(dg, B * C), *gdx = devf(NULL, n);
    hp_gap_forward_f32(g, x, B * C, HW);
    OK(hp_gpu_gap_forward(g_ctx, gg, gx, B * C, HW, &g_err));
    CMP(gg, g, B * C, 1e-6, 1e-5, "gap forward");
    hp_gap_backward_f32(dx, dg, B * C, HW);
    OK(hp_gpu_gap_backward(g_ctx, gdx, gdg, B * C, HW, &g_err));
    CMP(gdx, dx, n, 1e-6, 1e-5, "gap backward");
    free(x), free(g), free(dg), free(dx);
    hp_gpu_free(gx), hp_gpu_free(gg), hp_gpu_free(gdg), hp_gpu_free(gdx);
}

static void test_optim(hp_optim_type type, int nesterov, const char *what) {
    enum { N = 777 };
    hp_optim_spec s = {.type = type, .lr = 0.01, .weight_decay = 0.05};
    if (type == HP_OPTIM_SGD) s.momentum = 0.9, s.nesterov = nesterov;
    hp_optim_spec_defaults(&s);
    hp_optim *o;
    OK(hp_optim_create(&s, N, &o, &g_err));
    float *p = randn(N, 1), *gp = devf(p, N), *m1 = devf(NULL, N), *m2 = devf(NULL, N);
    float zeros[N] = {0};
    OK(hp_gpu_upload(g_ctx, m1, zeros, sizeof zeros, &g_err));
    OK(hp_gpu_upload(g_ctx, m2, zeros, sizeof zeros, &g_err));
    for (int t = 1; t <= 3; t++) {
        float *gr = randn(N, 1), *ggr = devf(gr, N);
        hp_optim_step(o, p, gr, s.lr);
        if (type == HP_OPTIM_SGD) OK(hp_gpu_sgd_step(g_ctx, gp, ggr, m1, N, &s, s.lr, t, &g_err));
        else OK(hp_gpu_adam_step(g_ctx, gp, ggr, m1, m2, N, &s, s.lr, t, &g_err));
        OK(hp_gpu_sync(g_ctx, &g_err));
        free(gr), hp_gpu_free(ggr);
    }
    CMP(gp, p, N, 0, 1e-6, what);
    hp_optim_free(o);
    free(p), hp_gpu_free(gp), hp_gpu_free(m1), hp_gpu_free(m2);
}

/* Bit-for-bit comparison of a device array with host floats; names the first differing element. */
static void same_bits(const float *dptr, const float *want, int64_t n, const char *what) {
    float *got = back(dptr, n);
    int64_t k = 0;
    while (k < n && memcmp(&got[k], &want[k], sizeof *got) == 0) k++;
    CHECK(k == n, "%s: bit-identical (first difference at [%lld]: got %a, want %a)", what, (long long)k,
          k < n ? got[k] : 0.0f, k < n ? want[k] : 0.0f);
    free(got);
}

/* RMSProp (momentum 0 or m) and AdaGrad against hp_optim_step for 3 steps: parameters and every
 * moment block of hp_optim_state (layout in optim.h) bit-identical. */
static void test_optim_rms_ada(hp_optim_type type, double momentum, double wd) {
    enum { N = 777 };
    hp_optim_spec s = {.type = type, .lr = 0.01, .momentum = momentum, .weight_decay = wd};
    hp_optim_spec_defaults(&s);
    hp_optim *o;
    OK(hp_optim_create(&s, N, &o, &g_err));
    const int nmom = hp_optim_moment_count(&s);
    CHECK(nmom == (type == HP_OPTIM_ADAGRAD ? 1 : momentum > 0 ? 2 : 1), "%s moment blocks: %d",
          hp_optim_type_name(type), nmom);
    float *p = randn(N, 1), *gp = devf(p, N), *gm = devf(NULL, 2 * N);
    OK(hp_gpu_zero(g_ctx, gm, 2 * N * sizeof(float), &g_err)); // moments start at 0, as the CPU's calloc
    for (int t = 1; t <= 3; t++) {
        float *gr = randn(N, 1), *ggr = devf(gr, N);
        hp_optim_step(o, p, gr, s.lr);
        if (type == HP_OPTIM_RMSPROP)
            OK(hp_gpu_rmsprop_step(g_ctx, gp, ggr, gm, nmom == 2 ? gm + N : NULL, N, &s, s.lr, t, &g_err));
        else OK(hp_gpu_adagrad_step(g_ctx, gp, ggr, gm, N, &s, s.lr, t, &g_err));
        OK(hp_gpu_sync(g_ctx, &g_err));
        free(gr), hp_gpu_free(ggr);
    }
    char what[96];
    snprintf(what, sizeof what, "%s momentum %g wd %g, 3 steps: params", hp_optim_type_name(type), momentum, wd);
    same_bits(gp, p, N, what);
    snprintf(what, sizeof what, "%s momentum %g wd %g, 3 steps: moments", hp_optim_type_name(type), momentum, wd);
    same_bits(gm, hp_optim_state(o), (int64_t)nmom * N, what);
    hp_optim_free(o);
    free(p), hp_gpu_free(gp), hp_gpu_free(gm);
}

/* Copy, zero (of a middle range: the rest untouched), add (out of place and in place). */
static void test_copy_zero_add(void) {
    enum { N = 1000, Z0 = 100, Z1 = 317 };
    float *a = randn(N, 3), *b = randn(N, 3), *sum = host(N), *part = host(N);
    for (int i = 0; i < N; i++) sum[i] = a[i] + b[i];
    float *ga = devf(a, N), *gb = devf(b, N), *gc = devf(NULL, N);
    OK(hp_gpu_copy(g_ctx, gc, ga, N * sizeof(float), &g_err));
    same_bits(gc, a, N, "copy");
    OK(hp_gpu_zero(g_ctx, gc + Z0, (Z1 - Z0) * sizeof(float), &g_err));
    memcpy(part, a, N * sizeof(float));
    memset(part + Z0, 0, (Z1 - Z0) * sizeof(float));
    same_bits(gc, part, N, "zero of [100, 317), the rest kept");
    OK(hp_gpu_add(g_ctx, gc, ga, gb, N, &g_err));
    same_bits(gc, sum, N, "add");
    OK(hp_gpu_add(g_ctx, ga, ga, gb, N, &g_err)); // out = a
    same_bits(ga, sum, N, "add in place");
    free(a), free(b), free(sum), free(part);
    hp_gpu_free(ga), hp_gpu_free(gb), hp_gpu_free(gc);
}

/* hp_gpu_gather against hp_augment_example on host copies of the rows, bit for bit: plain
 * (draws NULL), and with random draws (flips, shifts in [-4, 4], cutout centres anywhere) with
 * cutout 8 and 0. Some draws are fixed to reach the corners: the identity, cutouts clipped at
 * both corners, and a shift past the whole image (all padding). Indices repeat. */
static void test_gather(int C, int H, int W) {
    enum { N = 11, B = 16, SHIFT = 4 };
    const int64_t chw = (int64_t)C * H * W;
    float *X = randn(N * chw, 2), *want = host(B * chw), *plain = host(B * chw), *scratch = host(chw);
    X[3] = -0.0f; // copies keep the sign of zero
    int32_t Y[N], idx[B], ylab[B];
    for (int i = 0; i < N; i++) Y[i] = 100 + i;
    for (int b = 0; b < B; b++) idx[b] = (int32_t)hp_rng_below(&g_rng, N);
    idx[1] = idx[0], idx[B - 1] = idx[0]; // repeats
    hp_augment_draw d[B];
    for (int b = 0; b < B; b++) {
        d[b].flip = (int)hp_rng_below(&g_rng, 2);
        d[b].dy = (int)hp_rng_below(&g_rng, 2 * SHIFT + 1) - SHIFT;
        d[b].dx = (int)hp_rng_below(&g_rng, 2 * SHIFT + 1) - SHIFT;
        d[b].cy = (int)hp_rng_below(&g_rng, (uint64_t)H);
        d[b].cx = (int)hp_rng_below(&g_rng, (uint64_t)W);
    }
    d[0] = (hp_augment_draw){.flip = 0, .dy = 0, .dx = 0, .cy = H / 2, .cx = W / 2};
    d[1] = (hp_augment_draw){.flip = 1, .dy = -SHIFT, .dx = SHIFT, .cy = 0, .cx = 0};
    d[2] = (hp_augment_draw){.flip = 1, .dy = SHIFT, .dx = -SHIFT, .cy = H - 1, .cx = W - 1};
    d[3] = (hp_augment_draw){.flip = 0, .dy = 1, .dx = W + 3, .cy = 3, .cx = W - 2};
    d[4] = (hp_augment_draw){.flip = 1, .dy = 0, .dx = 0, .cy = 1, .cx = 2};
    float *gX = devf(X, N * chw), *gxb = devf(NULL, B * chw);
    int32_t *gY = dev(Y, sizeof Y), *gidx = dev(idx, sizeof idx), *gyb = dev(NULL, sizeof ylab);
    hp_augment_draw *gd = dev(d, sizeof d);
    char what[96];
    for (int mode = 0; mode < 3; mode++) { // 0: plain gather, 1: draws + cutout 8, 2: draws, no cutout
        const hp_augment_spec spec = {.flip = 1, .shift = SHIFT, .cutout = mode == 1 ? 8 : 0};
        for (int b = 0; b < B; b++) {
            memcpy(want + b * chw, X + idx[b] * chw, (size_t)chw * sizeof *X);
            if (mode > 0) hp_augment_example(&spec, &d[b], want + b * chw, C, H, W, scratch);
        }
        OK(hp_gpu_zero(g_ctx, gyb, sizeof ylab, &g_err));
        OK(hp_gpu_gather(g_ctx, gxb, gyb, gX, gY, gidx, mode > 0 ? gd : NULL, spec.cutout, B, C, H, W, &g_err));
        snprintf(what, sizeof what, "gather %dx%dx%d %s", C, H, W,
                 mode == 0 ? "plain" : mode == 1 ? "flip, shift 4, cutout 8" : "flip, shift 4");
        same_bits(gxb, want, B * chw, what);
        if (mode == 0) memcpy(plain, want, (size_t)(B * chw) * sizeof *want);
        else { // the comparison is only worth something if the draws changed most examples
            int changed = 0;
            for (int b = 0; b < B; b++)
                changed += memcmp(want + b * chw, plain + b * chw, (size_t)chw * sizeof *want) != 0;
            CHECK(changed >= B / 2, "%s: the draws change %d of %d examples", what, changed, B);
        }
        OK(hp_gpu_download(g_ctx, ylab, gyb, sizeof ylab, &g_err));
        int bad = 0;
        for (int b = 0; b < B; b++) bad += ylab[b] != Y[idx[b]];
        CHECK(bad == 0, "%s: labels yb[b] == Y[idx[b]] (%d wrong)", what, bad);
    }
    free(X), free(want), free(plain), free(scratch);
    hp_gpu_free(gX), hp_gpu_free(gxb), hp_gpu_free(gY), hp_gpu_free(gidx), hp_gpu_free(gyb), hp_gpu_free(gd);
}

#if HPSWEEP_HAVE_CUDNN
/* Convolution in the device layout (NCHW) against the CPU kernel on the same values in the CPU's
 * channel-major order, transposed there and back (exact). */
static void test_conv(int B, int C, int H, int W, int F, int k, int stride, int pad) {
    hp_conv_geom g;
    CHECK(hp_conv_geom_make(&g, C, H, W, F, k, stride, pad) == 0, "conv geometry");
    const int64_t HW = (int64_t)H * W, HWo = (int64_t)g.Ho * g.Wo;
    const int64_t ni = (int64_t)C * B * HW, no = (int64_t)F * B * HWo, nw = (int64_t)F * C * k * k;
    float *x = randn(ni, 1), *w = randn(nw, 0.3), *b = randn(F, 0.3), *dy = randn(no, 1); // x [B,C,H,W], dy [B,F,Ho,Wo]
    float *xc = host(ni), *dyc = host(no), *yc = host(no), *dxc = host(ni);                 // [C,B,H,W], [F,B,Ho,Wo]
    float *y = host(no), *dx = host(ni), *dw = host(nw), *db = host(F);
    float *work = host(hp_conv_work_size(&g, B, 1));
    hp_nchw_to_cnhw_f32(xc, x, B, C, HW);
    hp_nchw_to_cnhw_f32(dyc, dy, B, F, HWo);
    hp_conv_forward_f32(yc, xc, w, b, B, &g, work, 1);
    hp_conv_backward_f32(dxc, dw, db, dyc, xc, w, B, &g, work, 1);
    hp_cnhw_to_nchw_f32(y, yc, B, F, HWo);
    hp_cnhw_to_nchw_f32(dx, dxc, B, C, HW);
    float *gx = devf(x, ni), *gw = devf(w, nw), *gb = devf(b, F), *gdy = devf(dy, no);
    float *gy = devf(NULL, no), *gdx = devf(NULL, ni), *gdw = devf(NULL, nw), *gdb = devf(NULL, F);
    OK(hp_gpu_conv_forward(g_ctx, gy, gx, gw, gb, B, &g, &g_err));
    OK(hp_gpu_conv_backward(g_ctx, gdx, gdw, gdb, gdy, gx, gw, B, &g, &g_err));
    // cuDNN's deterministic heuristics pick FFT algorithms for the large shapes (seen on an H200),
    // whose error is relative to the operand's scale, not to each value: atol 2e-6 of the
    // largest |value| on top of the small cases' bounds.
    char what[128];
    snprintf(what, sizeof what, "conv B%d C%d %dx%d F%d k%d s%d p%d forward", B, C, H, W, F, k, stride, pad);
    CMP(gy, y, no, fmax(1e-5, 2e-6 * maxabs(y, no)), 1e-4, what);
    snprintf(what, sizeof what, "conv B%d C%d %dx%d F%d k%d s%d p%d dinp", B, C, H, W, F, k, stride, pad);
    CMP(gdx, dx, ni, fmax(1e-5, 2e-6 * maxabs(dx, ni)), 1e-4, what);
    snprintf(what, sizeof what, "conv B%d C%d %dx%d F%d k%d s%d p%d dweight", B, C, H, W, F, k, stride, pad);
    CMP(gdw, dw, nw, fmax(1e-5, 2e-6 * maxabs(dw, nw)), B > 8 ? 3e-4 : 1e-4, what); // 100k-term sums at B 128
    snprintf(what, sizeof what, "conv B%d C%d %dx%d F%d k%d s%d p%d dbias", B, C, H, W, F, k, stride, pad);
    CMP(gdb, db, F, fmax(1e-5, 2e-6 * maxabs(db, F)), B > 8 ? 3e-4 : 1e-4, what);
    float *p[] = {x, w, b, dy, xc, dyc, yc, dxc, y, dx, dw, db, work};
    for (int i = 0; i < 13; i++) free(p[i]);
    float *q[] = {gx, gw, gb, gdy, gy, gdx, gdw, gdb};
    for (int i = 0; i < 8; i++) hp_gpu_free(q[i]);
}

/* Batch norm [B, C, HW]; `offset` shifts the inputs (the statistics use shifted sums). The shapes
 * in main cover one chunk per channel, several uneven chunks (gpu_bnpool.cu splits a channel's
 * rows over blocks), HW 1 (after a dense layer), and layers of different C one after another (the
 * kernels' counters, reset by each channel's last block, are shared by all layers). */
static void test_bn(int B, int C, int HW, double offset) {
    const int N = B * C * HW;
    const double mom = 0.1, eps = 1e-5;
    float *x = randn(N, 2), *w = randn(C, 1), *b = randn(C, 1), *dy = randn(N, 1);
    for (int i = 0; i < N; i++) x[i] += (float)offset;
    float *y = host(N), *xhat = host(N), *mean = host(C), *invstd = host(C), *dx = host(N), *dw = host(C),
          *db = host(C), *rm = host(C), *rv = host(C);
    for (int c = 0; c < C; c++) rm[c] = 0.5f, rv[c] = 2.0f;
    float *grm = devf(rm, C), *grv = devf(rv, C);
    hp_bn_forward_train_f32(y, xhat, mean, invstd, rm, rv, x, w, b, B, C, HW, mom, eps);
    hp_bn_backward_f32(dx, dw, db, dy, xhat, invstd, w, B, C, HW);
    float *gx = devf(x, N), *gw = devf(w, C), *gb = devf(b, C), *gdy = devf(dy, N), *gy = devf(NULL, N);
    float *gm = devf(NULL, C), *gi = devf(NULL, C), *gdx = devf(NULL, N), *gdw = devf(NULL, C), *gdb = devf(NULL, C);
    char what[160];
#define BN_CMP(d, h, n, name)                                                                              \
    do {                                                                                                   \
        snprintf(what, sizeof what, "bn [%d, %d, %d] +%g: %s", B, C, HW, offset, name);                    \
        CMP(d, h, n, 1e-5, 1e-4, what);                                                                    \
    } while (0)
    for (int rep = 0; rep < 2; rep++) { // twice: the second call finds the counters reset
        OK(hp_gpu_bn_forward_train(g_ctx, gy, gm, gi, grm, grv, gx, gw, gb, B, C, HW, mom, eps, &g_err));
        BN_CMP(gy, y, N, "train out");
        BN_CMP(gm, mean, C, "saved mean");
        BN_CMP(gi, invstd, C, "saved invstd");
        OK(hp_gpu_bn_backward(g_ctx, gdx, gdw, gdb, gdy, gx, gm, gi, gw, B, C, HW, eps, &g_err));
        BN_CMP(gdx, dx, N, "dinp");
        BN_CMP(gdw, dw, C, "dweight");
        BN_CMP(gdb, db, C, "dbias");
        if (rep == 0) {
            BN_CMP(grm, rm, C, "running mean");
            BN_CMP(grv, rv, C, "running var (unbiased, momentum)");
            hp_bn_forward_train_f32(y, xhat, mean, invstd, rm, rv, x, w, b, B, C, HW, mom, eps); // 2nd update
        }
    }
    BN_CMP(grm, rm, C, "running mean after 2 steps");
    BN_CMP(grv, rv, C, "running var after 2 steps");
    hp_bn_forward_eval_f32(y, x, w, b, rm, rv, B, C, HW, eps);
    OK(hp_gpu_bn_forward_eval(g_ctx, gy, gx, gw, gb, grm, grv, B, C, HW, eps, &g_err));
    BN_CMP(gy, y, N, "eval out");
#undef BN_CMP
    float *p[] = {x, w, b, dy, y, xhat, mean, invstd, dx, dw, db, rm, rv};
    for (int i = 0; i < 13; i++) free(p[i]);
    float *q[] = {grm, grv, gx, gw, gb, gdy, gy, gm, gi, gdx, gdw, gdb};
    for (int i = 0; i < 12; i++) hp_gpu_free(q[i]);
}

static void test_pool(int is_max, int k, int stride, int pad) {
    enum { P = 6, H = 8, W = 7 };
    hp_pool_geom g;
    CHECK(hp_pool_geom_make(&g, H, W, k, stride, pad) == 0, "pool geometry");
    const int64_t ni = (int64_t)P * H * W, no = (int64_t)P * g.Ho * g.Wo;
    float *x = randn(ni, 1), *dy = randn(no, 1), *y = host(no), *dx = host(ni);
    int32_t *idx = calloc((size_t)no, sizeof *idx);
    if (!idx) exit(1);
    if (is_max) {
        hp_maxpool_forward_f32(y, idx, x, P, &g);
        hp_maxpool_backward_f32(dx, dy, idx, P, &g);
    } else {
        hp_avgpool_forward_f32(y, x, P, &g);
        hp_avgpool_backward_f32(dx, dy, P, &g);
    }
    float *gx = devf(x, ni), *gdy = devf(dy, no), *gy = devf(NULL, no), *gdx = devf(NULL, ni);
    OK(hp_gpu_pool_forward(g_ctx, gy, gx, P, &g, is_max, &g_err));
    OK(hp_gpu_pool_backward(g_ctx, gdx, gdy, gy, gx, P, &g, is_max, &g_err));
    char what[96];
    snprintf(what, sizeof what, "%s k%d s%d p%d forward", is_max ? "maxpool" : "avgpool", k, stride, pad);
    CMP(gy, y, no, 1e-6, 1e-5, what);
    snprintf(what, sizeof what, "%s k%d s%d p%d backward", is_max ? "maxpool" : "avgpool", k, stride, pad);
    CMP(gdx, dx, ni, 1e-6, 1e-5, what);
    free(x), free(dy), free(y), free(dx), free(idx);
    hp_gpu_free(gx), hp_gpu_free(gdy), hp_gpu_free(gy), hp_gpu_free(gdx);
}

/* Equal bits, NaN included. */
static void cmp_bits(const float *dptr, const float *want, int64_t n, const char *what) {
    float *got = back(dptr, n);
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) bad += memcmp(&got[i], &want[i], sizeof(float)) != 0;
    CHECK(bad == 0, "%s: %lld of %lld values differ in their bits", what, (long long)bad, (long long)n);
    free(got);
}

/* Max pooling on ties (values in steps of 0.5), -inf and NaN: the GPU's argmax must be the CPU's
 * (first maximum in row-major order, the last NaN wins), so outputs and gradients are bit-equal. */
static void test_pool_ties(int k, int stride, int pad, int H, int W) {
    enum { P = 5 };
    hp_pool_geom g;
    CHECK(hp_pool_geom_make(&g, H, W, k, stride, pad) == 0, "pool geometry");
    const int64_t ni = (int64_t)P * H * W, no = (int64_t)P * g.Ho * g.Wo;
    float *x = randn(ni, 2), *dy = randn(no, 1), *y = host(no), *dx = host(ni);
    for (int64_t i = 0; i < ni; i++) {
        x[i] = floorf(x[i]) * 0.5f; // many ties
        if (i % 17 == 3) x[i] = NAN;
        if (i % 23 == 5) x[i] = -INFINITY;
    }
    for (int64_t i = 0; i < 4 * W; i++) x[i] = -INFINITY; // windows of -inf only
    int32_t *idx = calloc((size_t)no, sizeof *idx);
    if (!idx) exit(1);
    hp_maxpool_forward_f32(y, idx, x, P, &g);
    hp_maxpool_backward_f32(dx, dy, idx, P, &g);
    float *gx = devf(x, ni), *gdy = devf(dy, no), *gy = devf(NULL, no), *gdx = devf(NULL, ni);
    OK(hp_gpu_pool_forward(g_ctx, gy, gx, P, &g, 1, &g_err));
    OK(hp_gpu_pool_backward(g_ctx, gdx, gdy, gy, gx, P, &g, 1, &g_err));
    char what[96];
    snprintf(what, sizeof what, "maxpool k%d s%d p%d on ties, -inf and NaN: forward", k, stride, pad);
    cmp_bits(gy, y, no, what);
    snprintf(what, sizeof what, "maxpool k%d s%d p%d on ties, -inf and NaN: backward", k, stride, pad);
    cmp_bits(gdx, dx, ni, what);
    free(x), free(dy), free(y), free(dx), free(idx);
    hp_gpu_free(gx), hp_gpu_free(gdy), hp_gpu_free(gy), hp_gpu_free(gdx);
}
#endif

int main(void) {
    if (hp_gpu_visible() == 0) return hp_check_skip("no CUDA device visible");
    int device = -1;
    char name[128];
    OK(hp_gpu_bind(0, &device, name, sizeof name, &g_err));
    printf("GPU %d: %s\n", device, name);
    const hp_gpu_opts opts = {.deterministic = 1, .allow_tf32 = 0, .workspace_max = 0};
    OK(hp_gpu_ctx_create(&g_ctx, &opts, &g_err));
    g_rng = hp_rng_make(hp_key2(2026, 6));

    test_dense();
    test_xent();
    test_act();
    test_dropout(40, 1, 125); // flat
    test_dropout(5, 4, 250);  // images
    test_gap();
    test_optim(HP_OPTIM_SGD, 0, "sgd momentum, 3 steps");
    test_optim(HP_OPTIM_SGD, 1, "sgd nesterov, 3 steps");
    test_optim(HP_OPTIM_ADAM, 0, "adam, 3 steps");
    test_optim(HP_OPTIM_ADAMW, 0, "adamw, 3 steps");
    for (int m = 0; m < 2; m++)
        for (int w = 0; w < 2; w++) test_optim_rms_ada(HP_OPTIM_RMSPROP, m ? 0.9 : 0.0, w ? 1e-4 : 0.0);
    test_optim_rms_ada(HP_OPTIM_ADAGRAD, 0, 0.0);
    test_optim_rms_ada(HP_OPTIM_ADAGRAD, 0, 1e-4);
    test_copy_zero_add();
    test_gather(3, 32, 32);
    test_gather(1, 28, 28);
#if HPSWEEP_HAVE_CUDNN
    test_conv(3, 4, 9, 8, 5, 3, 1, 1);
    test_conv(3, 4, 9, 8, 5, 3, 2, 0);
    test_conv(3, 4, 9, 8, 5, 1, 1, 0);
    test_conv(128, 1, 28, 28, 32, 3, 1, 1);  // fashion_cnn's first conv (the shape that failed with CNHW strides)
    test_conv(128, 32, 14, 14, 64, 3, 1, 1); // and its second
    test_bn(4, 3, 6, 0);       // one chunk per channel
    test_bn(37, 5, 300, 3);    // 3 uneven chunks of rows, shifted inputs
    test_bn(64, 16, 196, 0);   // another C: the counters were reset
    test_bn(128, 32, 196, -1); // fashion_cnn's first batch norm's channel count, 8 chunks
    test_bn(1000, 7, 1, 0.5);  // HW 1: a batch norm after a dense layer
    test_bn(37, 5, 300, 0);    // the first shape again, after larger ones
    test_pool(1, 2, 2, 0);
    test_pool(1, 3, 2, 1);
    test_pool(1, 2, 3, 1); // windows apart (stride > k), padded
    test_pool_ties(2, 2, 0, 8, 6); // windows tile the plane (one thread per window)
    test_pool_ties(2, 2, 0, 9, 8); // a row left over (one thread per input)
    test_pool_ties(2, 3, 1, 9, 8);
    test_pool_ties(3, 2, 1, 9, 8); // overlapping windows: gradients summed in the CPU's order
    test_pool_ties(3, 1, 1, 9, 8);
    test_pool(0, 2, 2, 0);
    test_pool(0, 3, 1, 1);
#endif
    hp_gpu_ctx_free(g_ctx);
    return hp_check_summary("test_cuda_layers");
}
