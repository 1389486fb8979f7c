/* test_batchnorm.c - batch normalisation (cpu/norm.h).
 *
 * - central finite differences in double of dinp, dweight and dbias in training mode (the batch
 *   statistics depend on the input), for HW = 1 (after a dense layer), HW > 1 with and without
 *   a tail after the 8-lane blocks, B = 1 with HW > 1, and affine off;
 * - B = 1 and HW = 1 (one value per channel), which PyTorch refuses to train on: documented
 *   behaviour (out = bias, dinp = 0, running_var unchanged);
 * - mean, invstd and the running-statistics update against a naive two-pass computation, for
 *   more than one group of channels (HW = 1) and a layer large enough to be split over threads,
 *   whose results must be bitwise the same with 1 and 2 threads;
 * - in place: out == inp, xhat == inp, dinp == dout, dinp == xhat;
 * - PyTorch (tests/fixtures/batchnorm.txt): three training steps (outputs, running statistics),
 *   the gradients of the third, and evaluation mode, in double (rtol 1e-4) and float (rtol 1e-3).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cpu_threads.h"
#include "check.h"
#include "cpu/norm.h"
#include "fixture.h"
#include "rng.h"

enum { MAXN = 256, MAXC = 16 };

/* ---- finite differences ----------------------------------------------------------------- */

typedef struct fd_case {
    int B, C, HW, affine;
} fd_case;

/* L = sum(bn_train(x) * r), so dL/dout = r; running statistics are not touched (NULL). */
static double objective(const double *x, const double *w, const double *b, const double *r, int B, int C, int HW) {
    double out[MAXN], xhat[MAXN], mean[MAXC], invstd[MAXC];
    hp_bn_forward_train_f64(out, xhat, mean, invstd, NULL, NULL, x, w, b, B, C, HW, 0.1, 1e-5);
    double L = 0;
    for (int i = 0; i < B * C * HW; i++) L += out[i] * r[i];
    return L;
}

/* Central difference of the objective with respect to v[i]. */
static double fd(double *v, int i, const double *x, const double *w, const double *b, const double *r, fd_case c) {
    const double h = 1e-5, keep = v[i];
    v[i] = keep + h;
    double lp = objective(x, w, b, r, c.B, c.C, c.HW);
    v[i] = keep - h;
    double lm = objective(x, w, b, r, c.B, c.C, c.HW);
    v[i] = keep;
    return (lp - lm) / (2 * h);
}

static void finite_differences(fd_case c, uint64_t seed) {
    const int n = c.B * c.C * c.HW;
    hp_rng rng = hp_rng_make(seed);
    double x[MAXN], r[MAXN], w[MAXC], b[MAXC];
    for (int i = 0; i < n; i++) x[i] = 2 * hp_rng_normal(&rng) + 0.5, r[i] = hp_rng_normal(&rng);
    for (int k = 0; k < c.C; k++) w[k] = 1 + 0.5 * hp_rng_normal(&rng), b[k] = hp_rng_normal(&rng);
    const double *wp = c.affine ? w : NULL, *bp = c.affine ? b : NULL;

    double out[MAXN], xhat[MAXN], mean[MAXC], invstd[MAXC], dx[MAXN], dw[MAXC], db[MAXC];
    hp_bn_forward_train_f64(out, xhat, mean, invstd, NULL, NULL, x, wp, bp, c.B, c.C, c.HW, 0.1, 1e-5);
    hp_bn_backward_f64(dx, c.affine ? dw : NULL, c.affine ? db : NULL, r, xhat, invstd, wp, c.B, c.C, c.HW);

    double gx[MAXN], gw[MAXC], gb[MAXC];
    for (int i = 0; i < n; i++) gx[i] = fd(x, i, x, wp, bp, r, c);
    char what[128];
    snprintf(what, sizeof what, "B=%d C=%d HW=%d affine=%d: dinp vs finite differences", c.B, c.C, c.HW, c.affine);
    CHECK_ALLCLOSE(dx, gx, n, 1e-7, 1e-6, what);
    if (c.affine) {
        for (int k = 0; k < c.C; k++) gw[k] = fd(w, k, x, w, b, r, c), gb[k] = fd(b, k, x, w, b, r, c);
        snprintf(what, sizeof what, "B=%d C=%d HW=%d: dweight vs finite differences", c.B, c.C, c.HW);
        CHECK_ALLCLOSE(dw, gw, c.C, 1e-7, 1e-6, what);
        snprintf(what, sizeof what, "B=%d C=%d HW=%d: dbias vs finite differences", c.B, c.C, c.HW);
        CHECK_ALLCLOSE(db, gb, c.C, 1e-7, 1e-6, what);
    }
    // the input gradient of each channel sums to 0 (the output is invariant to a shift of x)
    double worst = 0;
    for (int k = 0; k < c.C; k++) {
        double s = 0;
        for (int bb = 0; bb < c.B; bb++)
            for (int j = 0; j < c.HW; j++) s += dx[(bb * c.C + k) * c.HW + j];
        worst = fabs(s) > worst ? fabs(s) : worst;
    }
    CHECK(worst < 1e-10, "B=%d C=%d HW=%d: each channel's dinp sums to 0 (worst %g)", c.B, c.C, c.HW, worst);
}

/* ---- one value per channel -------------------------------------------------------------- */

static void single_value(void) {
    // B = 1, HW = 1: n = 1. var = 0, xhat = 0, out = bias; running_mean moves, running_var stays.
    float x[3] = {2.5f, -1.0f, 7.0f}, w[3] = {1.5f, -2.0f, 0.5f}, b[3] = {0.25f, -0.5f, 3.0f};
    float out[3], xhat[3], mean[3], invstd[3], rm[3] = {1, 2, 3}, rv[3] = {4, 5, 6};
    hp_bn_forward_train_f32(out, xhat, mean, invstd, rm, rv, x, w, b, 1, 3, 1, 0.1, 1e-5);
    int ok = 1;
    for (int k = 0; k < 3; k++) {
        ok &= out[k] == b[k] && xhat[k] == 0 && mean[k] == x[k];
        ok &= fabsf(rm[k] - (0.9f * (float)(k + 1) + 0.1f * x[k])) < 1e-6f && rv[k] == (float)(k + 4);
    }
    CHECK(ok, "n = 1: out = bias, xhat = 0, running_mean updated, running_var unchanged (got out %g rm %g rv %g)",
          out[0], rm[0], rv[0]);
    CHECK_CLOSE(invstd[0], 1 / sqrt(1e-5), 0, 1e-6, "n = 1: invstd = 1/sqrt(eps)");
    float dout[3] = {1, -2, 3}, dx[3], dw[3], db[3];
    hp_bn_backward_f32(dx, dw, db, dout, xhat, invstd, w, 1, 3, 1);
    CHECK(dx[0] == 0 && dx[1] == 0 && dx[2] == 0, "n = 1: dinp = 0 (got %g %g %g)", dx[0], dx[1], dx[2]);
    CHECK(db[0] == 1 && db[1] == -2 && db[2] == 3 && dw[0] == 0 && dw[1] == 0 && dw[2] == 0,
          "n = 1: dbias = dout, dweight = 0");
}

/* ---- statistics against a naive computation, chunks, threads ----------------------------- */

/* mean, biased var of channel c by two passes in double */
static void naive_stats(const float *x, int B, int C, int HW, int c, double *mean, double *var) {
    double s = 0, q = 0;
    for (int b = 0; b < B; b++)
        for (int j = 0; j < HW; j++) s += x[((long)b * C + c) * HW + j];
    double m = s / ((double)B * HW);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < HW; j++) {
            double d = x[((long)b * C + c) * HW + j] - m;
            q += d * d;
        }
    *mean = m;
    *var = q / ((double)B * HW);
}

enum { BIG_B = 16, BIG_C = 8, BIG_HW = 1030, BIG = BIG_B * BIG_C * BIG_HW }; /* 131840 values: threaded */

typedef struct bn_run {
    float out[BIG], xhat[BIG], dx[BIG], mean[BIG_C * 10], invstd[BIG_C * 10], rm[BIG_C * 10], rv[BIG_C * 10],
        dw[BIG_C * 10], db[BIG_C * 10];
} bn_run;

static float g_x[BIG], g_dout[BIG], g_w[BIG_C * 10], g_b[BIG_C * 10];
static bn_run g_r1, g_r2;

static void run_once(bn_run *r, int B, int C, int HW) {
    memset(r, 0, sizeof *r); // the bitwise comparison covers the unused tails too
    for (int k = 0; k < C; k++) r->rm[k] = 0.5f, r->rv[k] = 2.0f;
    hp_bn_forward_train_f32(r->out, r->xhat, r->mean, r->invstd, r->rm, r->rv, g_x, g_w, g_b, B, C, HW, 0.1,
                            1e-5);
    hp_bn_backward_f32(r->dx, r->dw, r->db, g_dout, r->xhat, r->invstd, g_w, B, C, HW);
}

static void check_stats(const bn_run *r, int B, int C, int HW, const char *what) {
    double worst_m = 0, worst_v = 0, worst_rm = 0, worst_rv = 0, worst_o = 0;
    const double n = (double)B * HW;
    for (int c = 0; c < C; c++) {
        double m, v;
        naive_stats(g_x, B, C, HW, c, &m, &v);
        double is = 1 / sqrt(v + 1e-5);
        worst_m = fmax(worst_m, fabs(r->mean[c] - m) / (fabs(m) + 1));
        worst_v = fmax(worst_v, fabs(r->invstd[c] - is) / is);
        worst_rm = fmax(worst_rm, fabs(r->rm[c] - (0.9 * 0.5 + 0.1 * m)));
        worst_rv = fmax(worst_rv, fabs(r->rv[c] - (0.9 * 2.0 + 0.1 * v * n / (n - 1))) / 2);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < HW; j++) {
                long i = ((long)b * C + c) * HW + j;
                double want = (g_x[i] - m) * is * g_w[c] + g_b[c];
                worst_o = fmax(worst_o, fabs(r->out[i] - want) / (fabs(want) + 1));
            }
    }
    CHECK(worst_m < 1e-6 && worst_v < 1e-5 && worst_rm < 1e-6 && worst_rv < 1e-6 && worst_o < 1e-5,
          "%s: stats vs naive two-pass (mean %g, invstd %g, running mean %g, running var %g, out %g)", what,
          worst_m, worst_v, worst_rm, worst_rv, worst_o);
}

static void statistics_and_threads(void) {
    hp_rng rng = hp_rng_make(77);
    for (int i = 0; i < BIG; i++) {
        g_x[i] = (float)(3 * hp_rng_normal(&rng) - 1);
        g_dout[i] = (float)hp_rng_normal(&rng);
    }
    for (int k = 0; k < BIG_C * 10; k++) {
        g_w[k] = (float)(1 + 0.3 * hp_rng_normal(&rng));
        g_b[k] = (float)hp_rng_normal(&rng);
    }

    // HW = 1 with 80 channels: two groups of the row sweep (64 + 16)
    run_once(&g_r1, 12, 80, 1);
    check_stats(&g_r1, 12, 80, 1, "HW=1, C=80");

    // a layer over the threading threshold: identical bits with 1 and 2 threads
    int threads = hp_cpu_threads();
    hp_cpu_set_threads(1);
    run_once(&g_r1, BIG_B, BIG_C, BIG_HW);
    hp_cpu_set_threads(2);
    run_once(&g_r2, BIG_B, BIG_C, BIG_HW);
    hp_cpu_set_threads(threads);
    check_stats(&g_r1, BIG_B, BIG_C, BIG_HW, "B=16 C=8 HW=1030");
    CHECK(memcmp(&g_r1, &g_r2, sizeof g_r1) == 0, "1 and 2 threads give bitwise identical batch norm");

    // large mean, small spread (|mean| / std = 1e4): the shifted sums keep the variance
    float xs[4 * 2 * 6], out[48], xhat[48], mean[2], invstd[2];
    for (int i = 0; i < 48; i++) xs[i] = 1000.0f + (float)(i % 7) * 0.0625f; // exact in float
    hp_bn_forward_train_f32(out, xhat, mean, invstd, NULL, NULL, xs, NULL, NULL, 4, 2, 6, 0.1, 1e-5);
    for (int i = 0; i < 48; i++) g_x[i] = xs[i];
    double m, v;
    naive_stats(g_x, 4, 2, 6, 1, &m, &v);
    CHECK_CLOSE(invstd[1], 1 / sqrt(v + 1e-5), 0, 1e-5, "mean 1000, std 0.13: invstd in float");
}

/* ---- in place --------------------------------------------------------------------------- */

static void in_place(int B, int C, int HW) {
    const int n = B * C * HW;
    hp_rng rng = hp_rng_make(9);
    float x[MAXN], w[MAXC], b[MAXC], dout[MAXN];
    for (int i = 0; i < n; i++) x[i] = (float)hp_rng_normal(&rng), dout[i] = (float)hp_rng_normal(&rng);
    for (int k = 0; k < C; k++) w[k] = (float)hp_rng_normal(&rng), b[k] = (float)hp_rng_normal(&rng);
    float out[MAXN], xhat[MAXN], mean[MAXC], invstd[MAXC], dx[MAXN], dw[MAXC], db[MAXC];
    hp_bn_forward_train_f32(out, xhat, mean, invstd, NULL, NULL, x, w, b, B, C, HW, 0.1, 1e-5);
    hp_bn_backward_f32(dx, dw, db, dout, xhat, invstd, w, B, C, HW);

    float y[MAXN], xh2[MAXN], m2[MAXC], is2[MAXC], d[MAXN], dw2[MAXC], db2[MAXC];
    memcpy(y, x, sizeof y);
    hp_bn_forward_train_f32(y, xh2, m2, is2, NULL, NULL, y, w, b, B, C, HW, 0.1, 1e-5); // out == inp
    CHECK(memcmp(y, out, n * sizeof *y) == 0 && memcmp(xh2, xhat, n * sizeof *y) == 0,
          "HW=%d: forward with out == inp", HW);
    memcpy(y, x, sizeof y);
    hp_bn_forward_train_f32(xh2, y, m2, is2, NULL, NULL, y, w, b, B, C, HW, 0.1, 1e-5); // xhat == inp
    CHECK(memcmp(xh2, out, n * sizeof *y) == 0 && memcmp(y, xhat, n * sizeof *y) == 0,
          "HW=%d: forward with xhat == inp", HW);
    memcpy(d, dout, sizeof d);
    hp_bn_backward_f32(d, dw2, db2, d, xhat, invstd, w, B, C, HW); // dinp == dout
    CHECK(memcmp(d, dx, n * sizeof *d) == 0 && memcmp(dw2, dw, C * sizeof *dw) == 0 &&
              memcmp(db2, db, C * sizeof *db) == 0,
          "HW=%d: backward with dinp == dout", HW);
    memcpy(d, xhat, sizeof d);
    hp_bn_backward_f32(d, NULL, NULL, dout, d, invstd, w, B, C, HW); // dinp == xhat; sums not stored
    CHECK(memcmp(d, dx, n * sizeof *d) == 0, "HW=%d: backward with dinp == xhat", HW);

    // evaluation in place
    float rm[MAXC], rv[MAXC], e[MAXN];
    for (int k = 0; k < C; k++) rm[k] = (float)k - 1, rv[k] = 0.5f + (float)k;
    hp_bn_forward_eval_f32(e, x, w, b, rm, rv, B, C, HW, 1e-5);
    memcpy(y, x, sizeof y);
    hp_bn_forward_eval_f32(y, y, w, b, rm, rv, B, C, HW, 1e-5);
    CHECK(memcmp(y, e, n * sizeof *y) == 0, "HW=%d: evaluation with out == inp", HW);
}

/* ---- PyTorch ---------------------------------------------------------------------------- */

static void against_pytorch_f64(const hp_fixture *f, const char *name) {
    char key[96];
#define VALS(suffix, size) (snprintf(key, sizeof key, "%s.%s", name, suffix), hp_fixture_values(f, key, size))
    const double *meta = VALS("meta", 6);
    if (!CHECK(meta != NULL, "%s.meta in batchnorm.txt", name)) return;
    const int B = (int)meta[0], C = (int)meta[1], HW = (int)meta[2], affine = meta[5] != 0;
    const double momentum = meta[3], eps = meta[4];
    const int n = B * C * HW;
    if (!CHECK(n <= MAXN && C <= MAXC, "%s fits the test's buffers", name)) return;
    const double *w = affine ? VALS("weight", C) : NULL, *b = affine ? VALS("bias", C) : NULL;
    const double *dout = VALS("dout", n), *xe = VALS("xe", n), *rm0 = VALS("rm0", C), *rv0 = VALS("rv0", C);
    if (!CHECK(dout && xe && rm0 && rv0 && (!affine || (w && b)), "%s inputs in batchnorm.txt", name)) return;
    double rm[MAXC], rv[MAXC], out[MAXN], xhat[MAXN], mean[MAXC], invstd[MAXC], dx[MAXN], dw[MAXC], db[MAXC];
    memcpy(rm, rm0, C * sizeof *rm);
    memcpy(rv, rv0, C * sizeof *rv);
    char what[128];
    for (int k = 0; k < 3; k++) {
        char s[32];
        snprintf(s, sizeof s, "x%d", k);
        const double *x = VALS(s, n);
        snprintf(s, sizeof s, "out%d.f64", k);
        const double *want = VALS(s, n);
        if (!CHECK(x && want, "%s step %d in batchnorm.txt", name, k)) return;
        hp_bn_forward_train_f64(out, xhat, mean, invstd, rm, rv, x, w, b, B, C, HW, momentum, eps);
        snprintf(what, sizeof what, "%s f64: training output of step %d vs PyTorch", name, k + 1);
        CHECK_ALLCLOSE(out, want, n, 1e-10, 1e-4, what);
    }
    const double *want_rm = VALS("rm.f64", C), *want_rv = VALS("rv.f64", C), *want_dx = VALS("dx.f64", n);
    if (!CHECK(want_rm && want_rv && want_dx, "%s f64 results in batchnorm.txt", name)) return;
    snprintf(what, sizeof what, "%s f64: running_mean after 3 steps vs PyTorch", name);
    CHECK_ALLCLOSE(rm, want_rm, C, 1e-10, 1e-4, what);
    snprintf(what, sizeof what, "%s f64: running_var (unbiased) after 3 steps vs PyTorch", name);
    CHECK_ALLCLOSE(rv, want_rv, C, 1e-10, 1e-4, what);
    hp_bn_backward_f64(dx, dw, db, dout, xhat, invstd, w, B, C, HW);
    snprintf(what, sizeof what, "%s f64: dinp vs PyTorch", name);
    CHECK_ALLCLOSE(dx, want_dx, n, 1e-10, 1e-4, what);
    if (affine) {
        const double *want_dw = VALS("dweight.f64", C), *want_db = VALS("dbias.f64", C);
        if (CHECK(want_dw && want_db, "%s f64 parameter gradients in batchnorm.txt", name)) {
            snprintf(what, sizeof what, "%s f64: dweight vs PyTorch", name);
            CHECK_ALLCLOSE(dw, want_dw, C, 1e-10, 1e-4, what);
            snprintf(what, sizeof what, "%s f64: dbias vs PyTorch", name);
            CHECK_ALLCLOSE(db, want_db, C, 1e-10, 1e-4, what);
        }
    }
    const double *want_eval = VALS("eval.f64", n);
    if (!CHECK(want_eval != NULL, "%s.eval.f64 in batchnorm.txt", name)) return;
    hp_bn_forward_eval_f64(out, xe, w, b, rm, rv, B, C, HW, eps);
    snprintf(what, sizeof what, "%s f64: evaluation output vs PyTorch", name);
    CHECK_ALLCLOSE(out, want_eval, n, 1e-10, 1e-4, what);
#undef VALS
}

/* The same in float: inputs copied to float, results compared with PyTorch's float32 run. */
static void against_pytorch_f32(const hp_fixture *f, const char *name) {
    char key[96], what[128];
#define COPYF(suffix, dst, size)                                                                             \
    (snprintf(key, sizeof key, "%s.%s", name, suffix), hp_fixture_copyf(f, key, dst, size) == 0)
    float meta[6];
    if (!CHECK(COPYF("meta", meta, 6), "%s.meta in batchnorm.txt", name)) return;
    const int B = (int)meta[0], C = (int)meta[1], HW = (int)meta[2], affine = meta[5] != 0;
    snprintf(key, sizeof key, "%s.meta", name);
    const double momentum = hp_fixture_values(f, key, 6)[3], eps = hp_fixture_values(f, key, 6)[4];
    const int n = B * C * HW;
    if (!CHECK(n <= MAXN && C <= MAXC, "%s fits the test's buffers", name)) return;
    float w[MAXC], b[MAXC], dout[MAXN], xe[MAXN], rm[MAXC], rv[MAXC], x[MAXN], want[MAXN];
    if (!CHECK(COPYF("dout", dout, n) && COPYF("xe", xe, n) && COPYF("rm0", rm, C) && COPYF("rv0", rv, C) &&
                   (!affine || (COPYF("weight", w, C) && COPYF("bias", b, C))),
               "%s inputs in batchnorm.txt", name))
        return;
    float out[MAXN], xhat[MAXN], mean[MAXC], invstd[MAXC], dx[MAXN], dw[MAXC], db[MAXC];
    const float *wp = affine ? w : NULL, *bp = affine ? b : NULL;
    // atol 1e-5: outputs near 0 (a float's last bits of x - mean, times invstd)
    const double atol = 1e-5, rtol = 1e-3;
    for (int k = 0; k < 3; k++) {
        char sx[32], so[32];
        snprintf(sx, sizeof sx, "x%d", k);
        snprintf(so, sizeof so, "out%d.f32", k);
        if (!CHECK(COPYF(sx, x, n) && COPYF(so, want, n), "%s step %d in batchnorm.txt", name, k)) return;
        hp_bn_forward_train_f32(out, xhat, mean, invstd, rm, rv, x, wp, bp, B, C, HW, momentum, eps);
        snprintf(what, sizeof what, "%s f32: training output of step %d vs PyTorch", name, k + 1);
        CHECK_ALLCLOSEF(out, want, n, atol, rtol, what);
    }
    if (!CHECK(COPYF("rm.f32", want, C), "%s.rm.f32", name)) return;
    snprintf(what, sizeof what, "%s f32: running_mean after 3 steps vs PyTorch", name);
    CHECK_ALLCLOSEF(rm, want, C, atol, rtol, what);
    if (!CHECK(COPYF("rv.f32", want, C), "%s.rv.f32", name)) return;
    snprintf(what, sizeof what, "%s f32: running_var after 3 steps vs PyTorch", name);
    CHECK_ALLCLOSEF(rv, want, C, atol, rtol, what);
    hp_bn_backward_f32(dx, dw, db, dout, xhat, invstd, wp, B, C, HW);
    if (!CHECK(COPYF("dx.f32", want, n), "%s.dx.f32", name)) return;
    snprintf(what, sizeof what, "%s f32: dinp vs PyTorch", name);
    CHECK_ALLCLOSEF(dx, want, n, atol, rtol, what);
    if (affine) {
        if (!CHECK(COPYF("dweight.f32", want, C), "%s.dweight.f32", name)) return;
        snprintf(what, sizeof what, "%s f32: dweight vs PyTorch", name);
        CHECK_ALLCLOSEF(dw, want, C, atol, rtol, what);
        if (!CHECK(COPYF("dbias.f32", want, C), "%s.dbias.f32", name)) return;
        snprintf(what, sizeof what, "%s f32: dbias vs PyTorch", name);
        CHECK_ALLCLOSEF(db, want, C, atol, rtol, what);
    }
    if (!CHECK(COPYF("eval.f32", want, n), "%s.eval.f32", name)) return;
    hp_bn_forward_eval_f32(out, xe, wp, bp, rm, rv, B, C, HW, eps);
    snprintf(what, sizeof what, "%s f32: evaluation output vs PyTorch", name);
    CHECK_ALLCLOSEF(out, want, n, atol, rtol, what);
#undef COPYF
}

int main(void) {
    const fd_case cases[] = {
        {5, 3, 1, 1},  // after a dense layer
        {3, 2, 5, 1},  // HW > 1, tail only
        {2, 3, 13, 1}, // one 8-lane block and a tail
        {1, 2, 6, 1},  // B = 1: statistics over the positions of one example
        {2, 2, 9, 0},  // affine off
        {4, 2, 1, 0},  // HW = 1, affine off
    };
    for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) finite_differences(cases[i], 100 + i);
    single_value();
    statistics_and_threads();
    in_place(6, 5, 1);
    in_place(3, 4, 11);

    hp_fixture f;
    char err[512];
    if (CHECK(hp_fixture_load("batchnorm.txt", &f, err, sizeof err) == 0, "%s", err)) {
        const char *names[] = {"bn2d", "bn1d", "bnb1", "bnoff"};
        for (int i = 0; i < 4; i++) {
            against_pytorch_f64(&f, names[i]);
            against_pytorch_f32(&f, names[i]);
        }
        hp_fixture_free(&f);
    }
    return hp_check_summary("test_batchnorm");
}
