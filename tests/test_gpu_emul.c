/* test_gpu_emul.c - the host emulation of cuda/gpu.h (trainer/gpu_emul/gpu_emul.c, hp_trainer_emul).
 *
 * Asserts what the emulation adds to the CPU kernels, which is what makes it worth running the
 * GPU trainer's host code on: a pointer that is not a live device allocation (a host array, a
 * freed block, bytes past the end, a misaligned float) is refused with -1 and a message naming
 * the op and the argument; under ASan, device memory is poisoned between ops (a child process
 * that dereferences it dies); new blocks read as NaN; transfers round-trip; and a bad
 * hp_gpu_free is reported by the next sync. Then a few ops against the CPU kernels called
 * directly, bit for bit (the emulation runs the same kernels on the same inputs): dense forward
 * and backward, batch norm train + backward (whose xhat the emulation recomputes from the saved
 * statistics) with the running variance checked against the unbiased formula in double, max
 * pooling backward (argmax recomputed from inp), gather with draws, softmax cross-entropy
 * statistics, and Adam with m1, m2 in separate blocks. test_cuda_layers_emul runs the GPU
 * parity test on the emulation as well.
 */
#define _POSIX_C_SOURCE 200809L /* fork, waitpid */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "augment.h"
#include "cpu_threads.h"
#include "check.h"
#include "cpu/conv.h"
#include "cpu/layers.h"
#include "cpu/norm.h"
#include "cpu/pool.h"
#include "cuda/gpu.h"
#include "gpu_test.h"
#include "optim.h"
#include "rng.h"

/* The call fails with -1 and its message contains every one of the given pieces. */
#define FAILS(call, ...)                                                                                   \
    do {                                                                                                   \
        g_err.msg[0] = 0;                                                                                  \
        int rc_ = (call);                                                                                  \
        const char *want_[] = {__VA_ARGS__};                                                               \
        int has_ = 1;                                                                                      \
        for (size_t i_ = 0; i_ < sizeof want_ / sizeof *want_; i_++) has_ &= strstr(g_err.msg, want_[i_]) != NULL; \
        CHECK(rc_ == -1 && has_, "%s: want -1 and a message with \"%s\"..., got %d: \"%s\"", #call, want_[0], rc_, \
              g_err.msg);                                                                                  \
    } while (0)

static void *host(size_t bytes) {
    void *p = calloc(bytes ? bytes : 1, 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}
static float *randn(int64_t n, double scale) {
    float *p = host((size_t)n * sizeof *p);
    for (int64_t i = 0; i < n; i++) p[i] = (float)(scale * (2 * hp_rng_uniform(&g_rng) - 1));
    return p;
}
/* The device array equals want bit for bit. */
static void same_bits(const void *dptr, const void *want, size_t bytes, const char *what) {
    void *got = host(bytes);
    OK(hp_gpu_download(g_ctx, got, dptr, bytes, &g_err));
    CHECK(memcmp(got, want, bytes) == 0, "%s: bit-identical to the CPU kernel", what);
    free(got);
}

static void test_bind(void) {
    int dev_id = -7;
    char name[64] = "";
    OK(hp_gpu_bind(3, &dev_id, name, sizeof name, &g_err));
    CHECK(dev_id == 0 && strcmp(name, "host emulation of cuda/gpu.h") == 0, "bind: device %d, name \"%s\"", dev_id,
          name);
    FAILS(hp_gpu_bind(-1, &dev_id, name, sizeof name, &g_err), "negative");
    CHECK(hp_gpu_visible() == 1, "one emulated device visible");
}

/* Fresh memory reads as NaN (float and double) and -1 (int32); transfers and copies round-trip. */
static void test_memory(void) {
    enum { N = 1001 };
    float *f = host(N * sizeof *f), *gf = devf(NULL, N);
    OK(hp_gpu_download(g_ctx, f, gf, N * sizeof *f, &g_err));
    int nan = 0;
    for (int i = 0; i < N; i++) nan += isnan(f[i]) != 0;
    CHECK(nan == N, "new floats read as NaN: %d of %d", nan, N);
    double d[3];
    int32_t k[3];
    void *gd = dev(NULL, sizeof d), *gk = dev(NULL, sizeof k);
    OK(hp_gpu_download(g_ctx, d, gd, sizeof d, &g_err));
    OK(hp_gpu_download(g_ctx, k, gk, sizeof k, &g_err));
    CHECK(isnan(d[0]) && isnan(d[2]) && k[0] == -1 && k[2] == -1, "new doubles NaN, int32 -1");
    float *x = randn(N, 3), *gx = devf(x, N);
    same_bits(gx, x, N * sizeof *x, "upload + download");
    OK(hp_gpu_copy(g_ctx, gf, gx, N * sizeof *x, &g_err));
    same_bits(gf, x, N * sizeof *x, "device copy");
    OK(hp_gpu_zero(g_ctx, gf + 10, 5 * sizeof *x, &g_err));
    memset(x + 10, 0, 5 * sizeof *x);
    same_bits(gf, x, N * sizeof *x, "zero of [10, 15)");
    free(f), free(x);
    hp_gpu_free(gf), hp_gpu_free(gd), hp_gpu_free(gk), hp_gpu_free(gx);
}

/* Every way a pointer can be wrong, on a dense layer and the transfers. */
static void test_registry(void) {
    enum { B = 3, NI = 4, NO = 5 };
    float *x = randn(B * NI, 1), *w = randn(NO * NI, 1);
    float *gx = devf(x, B * NI), *gw = devf(w, NO * NI), *gy = devf(NULL, B * NO);
    float *small = devf(NULL, B * NO - 1), *big = devf(NULL, B * NO + 5), hy[B * NO];
    OK(hp_gpu_dense_forward(g_ctx, gy, gx, gw, NULL, B, NI, NO, 0, &g_err));
    FAILS(hp_gpu_dense_forward(g_ctx, gy, gx, w, NULL, B, NI, NO, 0, &g_err), "hp_gpu_dense_forward: argument 'weight'",
          "is not inside a device allocation (a host pointer");
    FAILS(hp_gpu_dense_forward(g_ctx, small, gx, gw, NULL, B, NI, NO, 0, &g_err), "argument 'out'",
          "needs 60 bytes, but only 56 remain in the device allocation 'a test array'");
    OK(hp_gpu_dense_forward(g_ctx, big + 5, gx, gw, NULL, B, NI, NO, 0, &g_err)); // exactly fits
    FAILS(hp_gpu_dense_forward(g_ctx, big + 6, gx, gw, NULL, B, NI, NO, 0, &g_err), "needs 60 bytes, but only 56");
    FAILS(hp_gpu_dense_forward(g_ctx, (float *)((char *)big + 2), gx, gw, NULL, B, NI, NO, 0, &g_err), "not aligned");
    FAILS(hp_gpu_dense_forward(g_ctx, gy, gx, NULL, NULL, B, NI, NO, 0, &g_err), "argument 'weight' is NULL");
    FAILS(hp_gpu_dense_forward(NULL, gy, gx, gw, NULL, B, NI, NO, 0, &g_err), "context is NULL");
    FAILS(hp_gpu_dense_backward(g_ctx, gx, gw, NULL, gy, gx, gy, B, NI, NO, &g_err), "argument 'weight'",
          "only 60 remain"); // weight [NO, NI] is 80 bytes; gy holds 60
    hp_gpu_free(small);
    FAILS(hp_gpu_dense_forward(g_ctx, small, gx, gw, NULL, B, NI, NO, 0, &g_err), "argument 'out'",
          "not inside a device allocation"); // freed
    // Transfers: the device side is checked, and the host side must not be a device block.
    FAILS(hp_gpu_upload(g_ctx, hy, x, sizeof hy, &g_err), "hp_gpu_upload: argument 'dst'", "not inside");
    FAILS(hp_gpu_upload(g_ctx, gy, gx, 8, &g_err), "argument 'src'", "must be host memory");
    FAILS(hp_gpu_download(g_ctx, hy, x, 8, &g_err), "hp_gpu_download: argument 'src'", "not inside");
    FAILS(hp_gpu_download(g_ctx, gy, gx, 8, &g_err), "argument 'dst'", "must be host memory");
    FAILS(hp_gpu_download(g_ctx, hy, gy, sizeof hy + 4, &g_err), "needs 64 bytes, but only 60");
    FAILS(hp_gpu_copy(g_ctx, big + 1, big, 8 * sizeof(float), &g_err), "overlaps"); // cudaMemcpy: undefined
    // A double free is reported by the next synchronisation, once.
    hp_gpu_free(gx);
    hp_gpu_free(gx);
    FAILS(hp_gpu_sync(g_ctx, &g_err), "hp_gpu_free", "not the start of a live device allocation");
    OK(hp_gpu_sync(g_ctx, &g_err));
    free(x), free(w);
    hp_gpu_free(gw), hp_gpu_free(gy), hp_gpu_free(big);
}

/* Under AddressSanitizer, host code reading device memory directly is reported (a GPU would
 * fault): a child process tries it and must die. Without ASan there is nothing to check. */
static void test_host_deref(void) {
#if defined(__SANITIZE_ADDRESS__)
    float one = 1.0f, *g = devf(&one, 1);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY); // keep the sanitizer's report out of the log
        if (fd >= 0) dup2(fd, 2);
        volatile float v = g[0];
        _exit(v == 1.0f ? 0 : 3);
    }
    int st = 0;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid, "fork and wait");
    CHECK(!(WIFEXITED(st) && WEXITSTATUS(st) == 0), "reading a device pointer on the host is reported (status %d)",
          st);
    same_bits(g, &one, sizeof one, "the value itself is intact, read through download");
    hp_gpu_free(g);
#endif
}

static void test_dense(void) {
    enum { B = 7, NI = 13, NO = 5 };
    float *x = randn(B * NI, 1), *w = randn(NO * NI, 0.5), *b = randn(NO, 0.5), *dy = randn(B * NO, 1);
    float *y = host(B * NO * 4), *dx = host(B * NI * 4), *dw = host(NO * NI * 4), *db = host(NO * 4);
    float *gx = devf(x, B * NI), *gw = devf(w, NO * NI), *gb = devf(b, NO), *gdy = devf(dy, B * NO);
    float *gy = devf(NULL, B * NO), *gdx = devf(NULL, B * NI), *gdw = devf(NULL, NO * NI), *gdb = devf(NULL, NO);
    hp_dense_forward_f32(y, x, w, b, B, NI, NO, 1);
    OK(hp_gpu_dense_forward(g_ctx, gy, gx, gw, gb, B, NI, NO, 1, &g_err));
    same_bits(gy, y, B * NO * 4, "dense forward + relu");
    hp_dense_backward_f32(dx, dw, db, dy, x, w, B, NI, NO);
    OK(hp_gpu_dense_backward(g_ctx, gdx, gdw, gdb, gdy, gx, gw, B, NI, NO, &g_err));
    same_bits(gdx, dx, B * NI * 4, "dense dinp");
    same_bits(gdw, dw, NO * NI * 4, "dense dweight");
    same_bits(gdb, db, NO * 4, "dense dbias");
    float *p[] = {x, w, b, dy, y, dx, dw, db}, *q[] = {gx, gw, gb, gdy, gy, gdx, gdw, gdb};
    for (int i = 0; i < 8; i++) free(p[i]), hp_gpu_free(q[i]);
}

/* Train-mode forward and backward; the running variance against n/(n-1) * biased variance. */
static void test_bn(void) {
    enum { B = 4, C = 3, HW = 6, N = B * C * HW };
    const double mom = 0.1, eps = 1e-5;
    float *x = randn(N, 2), *w = randn(C, 1), *b = randn(C, 1), *dy = randn(N, 1);
    float *y = host(N * 4), *xhat = host(N * 4), *mean = host(C * 4), *invstd = host(C * 4), *dx = host(N * 4),
          *dw = host(C * 4), *db = host(C * 4), rm[C], rv[C], rv0 = 2.0f;
    for (int c = 0; c < C; c++) rm[c] = 0.5f, rv[c] = rv0;
    float *grm = devf(rm, C), *grv = devf(rv, C);
    hp_bn_forward_train_f32(y, xhat, mean, invstd, rm, rv, x, w, b, B, C, HW, mom, eps);
    hp_bn_backward_f32(dx, dw, db, dy, xhat, invstd, w, B, C, HW);
    float *gx = devf(x, N), *gw = devf(w, C), *gb = devf(b, C), *gdy = devf(dy, N), *gy = devf(NULL, N);
    float *gm = devf(NULL, C), *gi = devf(NULL, C), *gdx = devf(NULL, N), *gdw = devf(NULL, C), *gdb = devf(NULL, C);
    OK(hp_gpu_bn_forward_train(g_ctx, gy, gm, gi, grm, grv, gx, gw, gb, B, C, HW, mom, eps, &g_err));
    same_bits(gy, y, N * 4, "bn train out");
    same_bits(gm, mean, C * 4, "bn saved mean");
    same_bits(gi, invstd, C * 4, "bn saved invstd");
    same_bits(grm, rm, C * 4, "bn running mean");
    same_bits(grv, rv, C * 4, "bn running var");
    float grv_h[C];
    OK(hp_gpu_download(g_ctx, grv_h, grv, sizeof grv_h, &g_err));
    for (int c = 0; c < C; c++) { // unbiased: (1 - m) rv0 + m * var * n / (n - 1), var biased, in double
        double s = 0, q = 0;
        for (int bb = 0; bb < B; bb++)
            for (int j = 0; j < HW; j++) s += x[(bb * C + c) * HW + j];
        const double mu = s / (B * HW);
        for (int bb = 0; bb < B; bb++)
            for (int j = 0; j < HW; j++) q += pow(x[(bb * C + c) * HW + j] - mu, 2);
        const double want = (1 - mom) * rv0 + mom * q / (B * HW - 1);
        CHECK_CLOSE(grv_h[c], want, 1e-6, 1e-5, "bn running var = unbiased batch variance, momentum 0.1");
    }
    OK(hp_gpu_bn_backward(g_ctx, gdx, gdw, gdb, gdy, gx, gm, gi, gw, B, C, HW, eps, &g_err));
    same_bits(gdx, dx, N * 4, "bn dinp (xhat recomputed from inp, mean, invstd)");
    same_bits(gdw, dw, C * 4, "bn dweight");
    same_bits(gdb, db, C * 4, "bn dbias");
    FAILS(hp_gpu_bn_forward_train(g_ctx, gy, gm, gi, grm, grv, gx, gw, gb, B, C, HW, mom, 0.0, &g_err), "eps");
    float *p[] = {x, w, b, dy, y, xhat, mean, invstd, dx, dw, db};
    for (int i = 0; i < 11; i++) free(p[i]);
    float *q[] = {grm, grv, gx, gw, gb, gdy, gy, gm, gi, gdx, gdw, gdb};
    for (int i = 0; i < 12; i++) hp_gpu_free(q[i]);
}

/* Max-pool backward from (out, inp), with ties (first maximum wins) and overlapping windows. */
static void test_maxpool(void) {
    enum { P = 5, H = 7, W = 6 };
    hp_pool_geom g;
    CHECK(hp_pool_geom_make(&g, H, W, 3, 2, 1) == 0, "pool geometry");
    const int64_t ni = (int64_t)P * H * W, no = (int64_t)P * g.Ho * g.Wo;
    float *x = randn(ni, 1), *dy = randn(no, 1), *y = host(no * 4), *dx = host(ni * 4);
    for (int64_t i = 0; i < ni; i++) x[i] = roundf(x[i] * 2); // values in {-2..2}: many ties
    int32_t *idx = host(no * 4);
    hp_maxpool_forward_f32(y, idx, x, P, &g);
    hp_maxpool_backward_f32(dx, dy, idx, P, &g);
    float *gx = devf(x, ni), *gdy = devf(dy, no), *gy = devf(NULL, no), *gdx = devf(NULL, ni);
    OK(hp_gpu_pool_forward(g_ctx, gy, gx, P, &g, 1, &g_err));
    same_bits(gy, y, no * 4, "maxpool forward");
    OK(hp_gpu_pool_backward(g_ctx, gdx, gdy, gy, gx, P, &g, 1, &g_err));
    same_bits(gdx, dx, ni * 4, "maxpool backward (argmax recomputed, ties to the first)");
    OK(hp_gpu_zero(g_ctx, gy, sizeof(float), &g_err)); // out no longer the forward's output
    FAILS(hp_gpu_pool_backward(g_ctx, gdx, gdy, gy, gx, P, &g, 1, &g_err), "'out' is not the max-pool forward's");
    free(x), free(dy), free(y), free(dx), free(idx);
    hp_gpu_free(gx), hp_gpu_free(gdy), hp_gpu_free(gy), hp_gpu_free(gdx);
}

/* Gather with draws against hp_augment_example on host copies of the rows; idx out of range. */
static void test_gather(void) {
    enum { N = 9, B = 6, C = 2, H = 5, W = 4, CHW = C * H * W, CUT = 2 };
    float *X = randn(N * CHW, 2), *want = host(B * CHW * 4), *scratch = host(CHW * 4);
    int32_t Y[N], idx[B] = {3, 0, 8, 3, 5, 1}, yb[B];
    hp_augment_draw d[B] = {{0, 0, 0, 2, 2}, {1, 0, 0, 0, 0}, {1, -1, 1, 4, 3},
                            {0, 1, -1, 1, 1}, {1, 1, 1, 2, 0}, {0, -1, 0, 0, 3}};
    for (int i = 0; i < N; i++) Y[i] = 40 + i;
    const hp_augment_spec spec = {.flip = 1, .shift = 1, .cutout = CUT};
    for (int b = 0; b < B; b++) {
        memcpy(want + b * CHW, X + idx[b] * CHW, CHW * sizeof *X);
        hp_augment_example(&spec, &d[b], want + b * CHW, C, H, W, scratch);
    }
    float *gX = devf(X, N * CHW), *gxb = devf(NULL, B * CHW);
    int32_t *gY = dev(Y, sizeof Y), *gidx = dev(idx, sizeof idx), *gyb = dev(NULL, sizeof yb);
    hp_augment_draw *gd = dev(d, sizeof d);
    OK(hp_gpu_gather(g_ctx, gxb, gyb, gX, gY, gidx, gd, CUT, B, C, H, W, &g_err));
    same_bits(gxb, want, B * CHW * 4, "gather with draws (flip, shift, cutout)");
    OK(hp_gpu_download(g_ctx, yb, gyb, sizeof yb, &g_err));
    CHECK(yb[0] == 43 && yb[2] == 48 && yb[5] == 41, "gather labels: %d %d %d", yb[0], yb[2], yb[5]);
    idx[4] = N; // one past the data set
    OK(hp_gpu_upload(g_ctx, gidx, idx, sizeof idx, &g_err));
    FAILS(hp_gpu_gather(g_ctx, gxb, gyb, gX, gY, gidx, gd, CUT, B, C, H, W, &g_err), "idx[4] = 9 is out of range");
    FAILS(hp_gpu_gather(g_ctx, gX + CHW, gyb, gX, gY, gidx, NULL, 0, B, C, H, W, &g_err), "'xb'", "overlaps 'X'");
    free(X), free(want), free(scratch);
    hp_gpu_free(gX), hp_gpu_free(gxb), hp_gpu_free(gY), hp_gpu_free(gidx), hp_gpu_free(gyb), hp_gpu_free(gd);
}

static void test_xent(void) {
    enum { B = 6, C = 4 };
    float *z = randn(B * C, 3), *probs = host(B * C * 4), *loss = host(B * 4), *dz = host(B * C * 4);
    int32_t y[B] = {0, 3, 1, 1, 2, 0};
    const int64_t hits = hp_xent_forward_f32(probs, loss, z, y, B, C);
    hp_xent_backward_f32(dz, probs, y, 0.5f, B, C);
    double lsum = 0, st[2];
    for (int b = 0; b < B; b++) lsum += loss[b];
    float *gz = devf(z, B * C), *gl = devf(NULL, B);
    int32_t *gyy = dev(y, sizeof y);
    double *gs = dev(NULL, sizeof st);
    OK(hp_gpu_xent(g_ctx, gz, gl, gs, gz, gyy, 0.5f, B, C, &g_err)); // dlogits in place of logits
    same_bits(gz, dz, B * C * 4, "xent dlogits");
    same_bits(gl, loss, B * 4, "xent losses");
    OK(hp_gpu_download(g_ctx, st, gs, sizeof st, &g_err));
    CHECK(st[0] == lsum && st[1] == (double)hits, "xent stats (%g, %g), want (%g, %lld)", st[0], st[1], lsum,
          (long long)hits);
    y[1] = C;
    OK(hp_gpu_upload(g_ctx, gyy, y, sizeof y, &g_err));
    FAILS(hp_gpu_xent(g_ctx, gz, gl, gs, gz, gyy, 0.5f, B, C, &g_err), "y[1] = 4 is outside [0, 4)");
    free(z), free(probs), free(loss), free(dz);
    hp_gpu_free(gz), hp_gpu_free(gl), hp_gpu_free(gyy), hp_gpu_free(gs);
}

/* Adam with m1, m2 in two blocks (not optim.h's adjacent layout) equals hp_optim_step. */
static void test_adam_split(void) {
    enum { N = 50 };
    hp_optim_spec s = {.type = HP_OPTIM_ADAMW, .lr = 0.01, .weight_decay = 0.1};
    hp_optim_spec_defaults(&s);
    hp_optim *o;
    OK(hp_optim_create(&s, N, &o, &g_err));
    float *p = randn(N, 1), *gp = devf(p, N), *m1 = devf(NULL, N), *m2 = devf(NULL, N);
    OK(hp_gpu_zero(g_ctx, m1, N * sizeof(float), &g_err));
    OK(hp_gpu_zero(g_ctx, m2, N * sizeof(float), &g_err));
    for (int t = 1; t <= 3; t++) {
        float *gr = randn(N, 1), *ggr = devf(gr, N);
        hp_optim_step(o, p, gr, s.lr);
        OK(hp_gpu_adam_step(g_ctx, gp, ggr, m1, m2, N, &s, s.lr, t, &g_err));
        free(gr), hp_gpu_free(ggr);
    }
    same_bits(gp, p, N * sizeof *p, "adamw, 3 steps, moments in separate blocks: params");
    same_bits(m2, hp_optim_state(o) + N, N * sizeof *p, "adamw: m2");
    FAILS(hp_gpu_sgd_step(g_ctx, gp, gp, m1, N, &s, s.lr, 1, &g_err), "the spec is for adamw");
    FAILS(hp_gpu_adam_step(g_ctx, gp, gp, m1, m2, N, &s, s.lr, 0, &g_err), "steps count from 1");
    hp_optim_free(o);
    free(p), hp_gpu_free(gp), hp_gpu_free(m1), hp_gpu_free(m2);
}

/* The real context caches 64 convolution shapes and then reuses the slots: 65 shapes, and a
 * known one again, all work; an output overlapping its input is refused. */
static void test_conv_plans(void) {
    hp_conv_geom g;
    CHECK(hp_conv_geom_make(&g, 1, 2, 2, 1, 1, 1, 0) == 0, "conv geometry");
    float *gx = devf(NULL, 65 * 4), *gy = devf(NULL, 65 * 4), *gw = devf(NULL, 1);
    OK(hp_gpu_zero(g_ctx, gx, 65 * 4 * sizeof(float), &g_err));
    OK(hp_gpu_zero(g_ctx, gw, sizeof(float), &g_err));
    for (int B = 1; B <= 64; B++) OK(hp_gpu_conv_forward(g_ctx, gy, gx, gw, NULL, B, &g, &g_err));
    OK(hp_gpu_conv_forward(g_ctx, gy, gx, gw, NULL, 7, &g, &g_err)); // a known shape
    OK(hp_gpu_conv_forward(g_ctx, gy, gx, gw, NULL, 65, &g, &g_err));
    FAILS(hp_gpu_conv_forward(g_ctx, gx, gx, gw, NULL, 3, &g, &g_err), "'out'", "overlaps 'inp'");
    hp_gpu_free(gx), hp_gpu_free(gy), hp_gpu_free(gw);
}

int main(void) {
    g_rng = hp_rng_make(hp_key2(2024, 11));
    const hp_gpu_opts opts = {.deterministic = 1};
    OK(hp_gpu_ctx_create(&g_ctx, &opts, &g_err));
    test_bind();
    test_memory();
    test_registry();
    test_host_deref();
    test_dense();
    test_bn();
    test_maxpool();
    test_gather();
    test_xent();
    test_adam_split();
    test_conv_plans();
    OK(hp_gpu_sync(g_ctx, &g_err));
    hp_gpu_ctx_free(g_ctx);
    return hp_check_summary("test_gpu_emul");
}
