/* test_activations.c - elementwise activations (cpu/act.h): relu, leaky_relu, elu, gelu, tanh,
 * sigmoid.
 *
 * - central finite differences in double of each backward, away from the kinks, on both sides
 *   of 0; for relu, leaky_relu and elu also the backward taken from the output (inp = NULL, as
 *   after an in-place forward);
 * - PyTorch (tests/fixtures/activations.txt): forward and backward in double (rtol 1e-4) and in
 *   float (rtol 1e-3), on a grid, random values and |x| up to 1e4;
 * - large |x| (100 and 1e4, both signs): finite values and gradients, and the limits
 *   (sigmoid 0/1, tanh -1/1, gelu 0/x, elu -alpha/x);
 * - in place (out == inp, dinp == dout); a type that is not an activation gives NaN;
 * - a large array (split into blocks over threads) equals the same values taken one call per
 *   value, with 1 and with 2 threads.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cpu_threads.h"
#include "check.h"
#include "cpu/act.h"
#include "fixture.h"
#include "rng.h"

typedef struct act {
    const char *name;
    hp_layer_type type;
    double param; /* as in the fixture file: slope 0.1, alpha 1.5 */
} act;

static const act ACTS[] = {
    {"relu", HP_LAYER_RELU, 0.0},       {"leaky_relu", HP_LAYER_LEAKY_RELU, 0.1}, {"elu", HP_LAYER_ELU, 1.5},
    {"gelu", HP_LAYER_GELU, 0.0},       {"tanh", HP_LAYER_TANH, 0.0},             {"sigmoid", HP_LAYER_SIGMOID, 0.0},
};
enum { NACT = sizeof ACTS / sizeof ACTS[0], FD = 40, NMAX = 64 };

/* L = sum(act(x) * r) */
static double objective(const act *a, const double *x, const double *r, int n) {
    double out[FD];
    hp_act_forward_f64(out, x, n, a->type, a->param);
    double L = 0;
    for (int i = 0; i < n; i++) L += out[i] * r[i];
    return L;
}

static void finite_differences(const act *a) {
    hp_rng rng = hp_rng_make(31);
    double x[FD], r[FD], out[FD], dx[FD], dx_out[FD], g[FD];
    for (int i = 0; i < FD; i++) {
        x[i] = 8 * hp_rng_uniform(&rng) - 4; // [-4, 4): both sides, the tails and the bend
        if (fabs(x[i]) < 1e-3) x[i] = 0.3;   // away from the kinks at 0
        r[i] = hp_rng_normal(&rng);
    }
    hp_act_forward_f64(out, x, FD, a->type, a->param);
    hp_act_backward_f64(dx, r, x, out, FD, a->type, a->param);
    const double h = 1e-6;
    for (int i = 0; i < FD; i++) {
        double keep = x[i];
        x[i] = keep + h;
        double lp = objective(a, x, r, FD);
        x[i] = keep - h;
        double lm = objective(a, x, r, FD);
        x[i] = keep;
        g[i] = (lp - lm) / (2 * h);
    }
    char what[96];
    snprintf(what, sizeof what, "%s: dx vs finite differences", a->name);
    CHECK_ALLCLOSE(dx, g, FD, 1e-8, 1e-6, what);
    if (a->type == HP_LAYER_RELU || a->type == HP_LAYER_LEAKY_RELU || a->type == HP_LAYER_ELU) {
        hp_act_backward_f64(dx_out, r, NULL, out, FD, a->type, a->param);
        snprintf(what, sizeof what, "%s: dx from the output (inp = NULL) vs finite differences", a->name);
        CHECK_ALLCLOSE(dx_out, g, FD, 1e-8, 1e-6, what);
    }

    // in place: forward out == inp, backward dinp == dout, same bits as out of place
    double y[FD], d[FD];
    memcpy(y, x, sizeof y);
    memcpy(d, r, sizeof d);
    hp_act_forward_f64(y, y, FD, a->type, a->param);
    hp_act_backward_f64(d, d, x, y, FD, a->type, a->param);
    CHECK(memcmp(y, out, sizeof y) == 0 && memcmp(d, dx, sizeof d) == 0, "%s: in place forward and backward",
          a->name);
}

static void large_values(const act *a) {
    const double xs[8] = {-1e4, -100, 100, 1e4, -1e4, -100, 100, 1e4};
    double x[8], y[8], dx[8], dout[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    float xf[8], yf[8], dxf[8], doutf[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    for (int i = 0; i < 8; i++) x[i] = xs[i], xf[i] = (float)xs[i];
    hp_act_forward_f64(y, x, 8, a->type, a->param);
    hp_act_backward_f64(dx, dout, x, y, 8, a->type, a->param);
    hp_act_forward_f32(yf, xf, 8, a->type, a->param);
    hp_act_backward_f32(dxf, doutf, xf, yf, 8, a->type, a->param);
    int finite = 1;
    for (int i = 0; i < 8; i++) finite &= isfinite(y[i]) && isfinite(dx[i]) && isfinite(yf[i]) && isfinite(dxf[i]);
    CHECK(finite, "%s: finite outputs and gradients for |x| = 100, 1e4 in double and float", a->name);
    // the limits: y(-big), y(+big), dy/dx(+big)
    double lo = 0, hi = 0, dhi = 1;
    switch (a->type) {
    case HP_LAYER_LEAKY_RELU: lo = a->param * -1e4, hi = 1e4; break;
    case HP_LAYER_ELU: lo = -a->param, hi = 1e4; break;
    case HP_LAYER_RELU:
    case HP_LAYER_GELU: lo = 0, hi = 1e4; break;
    case HP_LAYER_TANH: lo = -1, hi = 1, dhi = 0; break;
    case HP_LAYER_SIGMOID: lo = 0, hi = 1, dhi = 0; break;
    default: break;
    }
    CHECK_CLOSE(y[0], lo, 1e-12, 1e-12, a->name);
    CHECK_CLOSE(y[3], hi, 1e-12, 1e-12, a->name);
    CHECK_CLOSE(yf[0], lo, 1e-6, 1e-6, a->name);
    CHECK_CLOSE(yf[3], hi, 1e-6, 1e-6, a->name);
    CHECK_CLOSE(dx[3], dhi, 1e-12, 1e-12, a->name);
    CHECK_CLOSE(dxf[3], dhi, 1e-6, 1e-6, a->name);
}

static void against_pytorch(const hp_fixture *f, const act *a) {
    double x[NMAX], dout[NMAX], out[NMAX], dx[NMAX];
    float xf[NMAX], doutf[NMAX], outf[NMAX], dxf[NMAX], wo[NMAX], wd[NMAX];
    const hp_fixture_tensor *t = hp_fixture_find(f, "x");
    if (!CHECK(t && t->size <= NMAX, "activations.txt holds x [<= %d]", NMAX)) return;
    const int n = (int)t->size;
    char k1[64], k2[64], what[96];
    snprintf(k1, sizeof k1, "%s.param", a->name);
    const double *param = hp_fixture_values(f, k1, 1);
    if (!CHECK(param && *param == a->param, "%s: fixture parameter %g", a->name, param ? *param : NAN)) return;

    snprintf(k1, sizeof k1, "%s.out.f64", a->name);
    snprintf(k2, sizeof k2, "%s.dx.f64", a->name);
    const double *want_out = hp_fixture_values(f, k1, n), *want_dx = hp_fixture_values(f, k2, n);
    if (!CHECK(hp_fixture_copyd(f, "x", x, n) == 0 && hp_fixture_copyd(f, "dout", dout, n) == 0 && want_out &&
                   want_dx,
               "activations.txt holds %s f64", a->name))
        return;
    hp_act_forward_f64(out, x, n, a->type, a->param);
    hp_act_backward_f64(dx, dout, x, out, n, a->type, a->param);
    snprintf(what, sizeof what, "%s f64: out vs PyTorch", a->name);
    CHECK_ALLCLOSE(out, want_out, n, 1e-12, 1e-4, what);
    snprintf(what, sizeof what, "%s f64: dx vs PyTorch", a->name);
    CHECK_ALLCLOSE(dx, want_dx, n, 1e-12, 1e-4, what);

    snprintf(k1, sizeof k1, "%s.out.f32", a->name);
    snprintf(k2, sizeof k2, "%s.dx.f32", a->name);
    if (!CHECK(hp_fixture_copyf(f, "x", xf, n) == 0 && hp_fixture_copyf(f, "dout", doutf, n) == 0 &&
                   hp_fixture_copyf(f, k1, wo, n) == 0 && hp_fixture_copyf(f, k2, wd, n) == 0,
               "activations.txt holds %s f32", a->name))
        return;
    hp_act_forward_f32(outf, xf, n, a->type, a->param);
    hp_act_backward_f32(dxf, doutf, xf, outf, n, a->type, a->param);
    // atol 1e-6: PyTorch's float sigmoid(-20) etc. are ~1e-9 and differ in the last bits
    snprintf(what, sizeof what, "%s f32: out vs PyTorch", a->name);
    CHECK_ALLCLOSEF(outf, wo, n, 1e-6, 1e-3, what);
    snprintf(what, sizeof what, "%s f32: dx vs PyTorch", a->name);
    CHECK_ALLCLOSEF(dxf, wd, n, 1e-6, 1e-3, what);
}

static void unsupported(void) {
    float x[3] = {1, 2, 3}, y[3], d[3];
    hp_act_forward_f32(y, x, 3, HP_LAYER_CONV, 0);
    hp_act_backward_f32(d, x, x, x, 3, HP_LAYER_DENSE, 0);
    CHECK(isnan(y[0]) && isnan(y[2]) && isnan(d[1]), "a non-activation type writes NaN");
    int ok = 1;
    for (int i = 0; i < NACT; i++) ok &= hp_act_supported(ACTS[i].type);
    CHECK(ok && !hp_act_supported(HP_LAYER_CONV) && !hp_act_supported(HP_LAYER_BATCHNORM),
          "hp_act_supported: the six activations and nothing else");
    // NaN propagates through every activation (a diverging trial stays visible)
    float nan_in = NAN, nan_out = 0;
    int nan_ok = 1;
    for (int i = 0; i < NACT; i++) {
        hp_act_forward_f32(&nan_out, &nan_in, 1, ACTS[i].type, ACTS[i].param);
        nan_ok &= isnan(nan_out);
    }
    CHECK(nan_ok, "NaN in gives NaN out for every activation");
}

enum { BIG = 70001 }; /* over both parallel thresholds, and not a multiple of the block size */
static float g_x[BIG], g_y[BIG], g_d[BIG], g_dout[BIG];

static void large_arrays(const act *a) {
    hp_rng rng = hp_rng_make(55);
    for (int i = 0; i < BIG; i++) g_x[i] = (float)(3 * hp_rng_normal(&rng)), g_dout[i] = (float)hp_rng_normal(&rng);
    int threads = hp_cpu_threads(), ok = 1;
    for (int t = 1; t <= 2; t++) {
        hp_cpu_set_threads(t);
        hp_act_forward_f32(g_y, g_x, BIG, a->type, a->param);
        hp_act_backward_f32(g_d, g_dout, g_x, g_y, BIG, a->type, a->param);
        for (int i = 0; i < BIG; i += 1 + i % 7) { // every value near the ends of blocks, and many others
            float y1, d1;
            hp_act_forward_f32(&y1, &g_x[i], 1, a->type, a->param);
            hp_act_backward_f32(&d1, &g_dout[i], &g_x[i], &y1, 1, a->type, a->param);
            ok &= memcmp(&y1, &g_y[i], sizeof y1) == 0 && memcmp(&d1, &g_d[i], sizeof d1) == 0;
        }
        float y1;
        hp_act_forward_f32(&y1, &g_x[BIG - 1], 1, a->type, a->param);
        ok &= memcmp(&y1, &g_y[BIG - 1], sizeof y1) == 0;
    }
    hp_cpu_set_threads(threads);
    CHECK(ok, "%s: %d values in blocks over 1 and 2 threads equal one call per value", a->name, BIG);
}

int main(void) {
    for (int i = 0; i < NACT; i++) {
        finite_differences(&ACTS[i]);
        large_values(&ACTS[i]);
        large_arrays(&ACTS[i]);
    }
    unsupported();
    hp_fixture f;
    char err[512];
    if (CHECK(hp_fixture_load("activations.txt", &f, err, sizeof err) == 0, "%s", err)) {
        for (int i = 0; i < NACT; i++) against_pytorch(&f, &ACTS[i]);
        hp_fixture_free(&f);
    }
    return hp_check_summary("test_activations");
}
