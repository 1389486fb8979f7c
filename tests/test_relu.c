/* test_relu.c - the ReLU layer (cpu/layers.h): central finite differences in double of the
 * input gradient, NaN propagation and the in-place mask, and forward output and gradient
 * against PyTorch (tests/fixtures/relu.txt) in double and in float. */
#include <math.h>
#include <stdio.h>

#include "check.h"
#include "cpu/layers.h"
#include "fixture.h"
#include "rng.h"

enum { N = 24, FD = 17 };

/* L = sum(relu(x) * r), so dL/dout = r. */
static double objective(const double *x, const double *r, double *out, int n) {
    hp_relu_forward_f64(out, x, n);
    double L = 0;
    for (int i = 0; i < n; i++) L += out[i] * r[i];
    return L;
}

static void finite_differences(void) {
    hp_rng rng = hp_rng_make(21);
    double x[FD], r[FD], out[FD], dx[FD], g[FD];
    for (int i = 0; i < FD; i++) {
        x[i] = 2 * hp_rng_uniform(&rng) - 1;
        if (fabs(x[i]) < 1e-3) x[i] = 0.25; // away from the kink
        r[i] = 2 * hp_rng_uniform(&rng) - 1;
    }
    hp_relu_forward_f64(out, x, FD);
    hp_relu_backward_f64(dx, r, out, FD);
    const double h = 1e-6;
    for (int i = 0; i < FD; i++) {
        double keep = x[i];
        x[i] = keep + h;
        double lp = objective(x, r, out, FD);
        x[i] = keep - h;
        double lm = objective(x, r, out, FD);
        x[i] = keep;
        g[i] = (lp - lm) / (2 * h);
    }
    CHECK_ALLCLOSE(dx, g, FD, 1e-8, 1e-6, "relu: dx vs finite differences");
    int neg = 0, pos = 0;
    for (int i = 0; i < FD; i++) neg += x[i]<0, pos += x[i]> 0;
    CHECK(neg > 2 && pos > 2, "finite differences cover both sides (%d negative, %d positive)", neg, pos);

    // in place: forward out == inp, backward dinp == dout
    hp_relu_forward_f64(out, x, FD); // (the loop above left out at x - h)
    double y[FD], d[FD];
    for (int i = 0; i < FD; i++) y[i] = x[i], d[i] = r[i];
    hp_relu_forward_f64(y, y, FD);
    hp_relu_backward_f64(d, d, y, FD);
    CHECK_ALLCLOSE(y, out, FD, 0, 0, "relu: in-place forward");
    CHECK_ALLCLOSE(d, dx, FD, 0, 0, "relu: in-place backward (mask)");
}

static void special_values(void) {
    float in[4] = {NAN, -0.0f, 0.0f, -INFINITY}, out[4];
    hp_relu_forward_f32(out, in, 4);
    CHECK(isnan(out[0]), "relu(NaN) is NaN as in torch.relu, so divergence stays visible (got %g)", out[0]);
    CHECK(out[1] == 0 && out[2] == 0 && out[3] == 0, "relu of -0, 0, -inf is 0");
    float dout[4] = {1, 1, 1, 1}, din[4];
    float o2[4] = {0, 0, 1e-30f, 2};
    hp_relu_backward_f32(din, dout, o2, 4);
    CHECK(din[0] == 0 && din[1] == 0 && din[2] == 1 && din[3] == 1,
          "relu backward: gradient 0 at 0, 1 above");
}

static void against_pytorch(const hp_fixture *f) {
    double x[N], dout[N], out[N], dx[N];
    if (!CHECK(hp_fixture_copyd(f, "x", x, N) == 0 && hp_fixture_copyd(f, "dout", dout, N) == 0,
               "relu.txt holds the inputs"))
        return;
    const double *want_out = hp_fixture_values(f, "out.f64", N), *want_dx = hp_fixture_values(f, "dx.f64", N);
    if (!CHECK(want_out && want_dx, "relu.txt holds the f64 results")) return;
    hp_relu_forward_f64(out, x, N);
    hp_relu_backward_f64(dx, dout, out, N);
    CHECK_ALLCLOSE(out, want_out, N, 1e-10, 1e-4, "relu f64: out vs PyTorch");
    CHECK_ALLCLOSE(dx, want_dx, N, 1e-10, 1e-4, "relu f64: dx vs PyTorch");

    float xf[N], doutf[N], outf[N], dxf[N], wo[N], wd[N];
    if (!CHECK(hp_fixture_copyf(f, "x", xf, N) == 0 && hp_fixture_copyf(f, "dout", doutf, N) == 0 &&
                   hp_fixture_copyf(f, "out.f32", wo, N) == 0 && hp_fixture_copyf(f, "dx.f32", wd, N) == 0,
               "relu.txt holds the f32 results"))
        return;
    hp_relu_forward_f32(outf, xf, N);
    hp_relu_backward_f32(dxf, doutf, outf, N);
    CHECK_ALLCLOSEF(outf, wo, N, 1e-6, 1e-3, "relu f32: out vs PyTorch");
    CHECK_ALLCLOSEF(dxf, wd, N, 1e-6, 1e-3, "relu f32: dx vs PyTorch");
}

int main(void) {
    finite_differences();
    special_values();
    hp_fixture f;
    char err[512];
    if (CHECK(hp_fixture_load("relu.txt", &f, err, sizeof err) == 0, "%s", err)) {
        against_pytorch(&f);
        hp_fixture_free(&f);
    }
    return hp_check_summary("test_relu");
}
