/* test_dense.c - the dense layer (cpu/layers.h): central finite differences in double of
 * every gradient (weight, bias, input), with and without the fused ReLU, and forward output
 * and gradients against PyTorch (tests/fixtures/dense.txt) in double and in float. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cpu/layers.h"
#include "fixture.h"
#include "rng.h"

/* Scalar objective L = sum(out * r) for a fixed random r [B, n_out], so dL/dout = r. */
static double objective(const double *x, const double *w, const double *b, const double *r, double *out,
                        int B, int n_in, int n_out, int relu) {
    hp_dense_forward_f64(out, x, w, b, B, n_in, n_out, relu);
    double L = 0;
    for (int i = 0; i < B * n_out; i++) L += out[i] * r[i];
    return L;
}

static void fill(hp_rng *r, double *v, int n) {
    for (int i = 0; i < n; i++) v[i] = 2 * hp_rng_uniform(r) - 1;
}

/* d L / d v[i] by central differences, for every i, into g. */
static void numeric_grad(double *v, int n, double *g, const double *x, const double *w, const double *b,
                         const double *r, double *out, int B, int n_in, int n_out, int relu) {
    const double h = 1e-6;
    for (int i = 0; i < n; i++) {
        double keep = v[i];
        v[i] = keep + h;
        double lp = objective(x, w, b, r, out, B, n_in, n_out, relu);
        v[i] = keep - h;
        double lm = objective(x, w, b, r, out, B, n_in, n_out, relu);
        v[i] = keep;
        g[i] = (lp - lm) / (2 * h);
    }
}

/* Largest shapes the finite-difference check uses (stack arrays). */
enum { MB = 8, MI = 16, MO = 8 };

static void finite_differences(int B_, int n_in, int n_out, int relu, uint64_t seed) {
    if (!CHECK(B_ <= MB && n_in <= MI && n_out <= MO, "finite-difference shape within the test's arrays"))
        return;
    hp_rng rng = hp_rng_make(seed);
    int nx = B_ * n_in, nw = n_out * n_in, no = B_ * n_out;
    double x[MB * MI], w[MO * MI], b[MO], r[MB * MO]; // inputs, parameters, dL/dout
    double out[MB * MO], dout[MB * MO];               // out [B, n_out]
    double dx[MB * MI], dw[MO * MI], db[MO];          // analytic gradients
    double gx[MB * MI], gw[MO * MI], gb[MO];          // numeric gradients
    double dw2[MO * MI], db2[MO];
    fill(&rng, x, nx);
    fill(&rng, w, nw);
    fill(&rng, b, n_out);
    fill(&rng, r, no);
    // Keep pre-activations away from the ReLU kink, where the derivative jumps.
    hp_dense_forward_f64(out, x, w, b, B_, n_in, n_out, 0);
    for (int i = 0; i < no; i++)
        if (fabs(out[i]) < 1e-3) b[i % n_out] += 0.01;

    hp_dense_forward_f64(out, x, w, b, B_, n_in, n_out, relu);
    // analytic: dout = r, masked by the fused ReLU
    if (relu)
        hp_relu_backward_f64(dout, r, out, no);
    else
        memcpy(dout, r, sizeof(double) * no);
    hp_dense_backward_f64(dx, dw, db, dout, x, w, B_, n_in, n_out);
    numeric_grad(x, nx, gx, x, w, b, r, out, B_, n_in, n_out, relu);
    numeric_grad(w, nw, gw, x, w, b, r, out, B_, n_in, n_out, relu);
    numeric_grad(b, n_out, gb, x, w, b, r, out, B_, n_in, n_out, relu);
    char what[96];
    snprintf(what, sizeof what, "dense B=%d %d->%d relu=%d: dx vs finite differences", B_, n_in, n_out, relu);
    CHECK_ALLCLOSE(dx, gx, nx, 1e-8, 1e-6, what);
    snprintf(what, sizeof what, "dense B=%d %d->%d relu=%d: dweight vs finite differences", B_, n_in, n_out,
             relu);
    CHECK_ALLCLOSE(dw, gw, nw, 1e-8, 1e-6, what);
    snprintf(what, sizeof what, "dense B=%d %d->%d relu=%d: dbias vs finite differences", B_, n_in, n_out,
             relu);
    CHECK_ALLCLOSE(db, gb, n_out, 1e-8, 1e-6, what);

    // dinp = NULL (first layer) must still give the same parameter gradients.
    hp_dense_backward_f64(NULL, dw2, db2, dout, x, w, B_, n_in, n_out);
    CHECK_ALLCLOSE(dw2, dw, nw, 0, 0, "dense: dweight without dinp");
    CHECK_ALLCLOSE(db2, db, n_out, 0, 0, "dense: dbias without dinp");
}

enum { B = 4, NI = 7, NO = 5 };

static void against_pytorch(const hp_fixture *f) {
    double x[B * NI], w[NO * NI], b[NO], dout[B * NO];
    double out[B * NO], dx[B * NI], dw[NO * NI], db[NO];
    if (!CHECK(hp_fixture_copyd(f, "x", x, B * NI) == 0 && hp_fixture_copyd(f, "weight", w, NO * NI) == 0 &&
                   hp_fixture_copyd(f, "bias", b, NO) == 0 && hp_fixture_copyd(f, "dout", dout, B * NO) == 0,
               "dense.txt holds the inputs"))
        return;
    const double *want_out = hp_fixture_values(f, "out.f64", B * NO);
    const double *want_dx = hp_fixture_values(f, "dx.f64", B * NI);
    const double *want_dw = hp_fixture_values(f, "dweight.f64", NO * NI);
    const double *want_db = hp_fixture_values(f, "dbias.f64", NO);
    if (!CHECK(want_out && want_dx && want_dw && want_db, "dense.txt holds the f64 results")) return;
    hp_dense_forward_f64(out, x, w, b, B, NI, NO, 0);
    hp_dense_backward_f64(dx, dw, db, dout, x, w, B, NI, NO);
    CHECK_ALLCLOSE(out, want_out, B * NO, 1e-10, 1e-4, "dense f64: out vs PyTorch");
    CHECK_ALLCLOSE(dx, want_dx, B * NI, 1e-10, 1e-4, "dense f64: dx vs PyTorch");
    CHECK_ALLCLOSE(dw, want_dw, NO * NI, 1e-10, 1e-4, "dense f64: dweight vs PyTorch");
    CHECK_ALLCLOSE(db, want_db, NO, 1e-10, 1e-4, "dense f64: dbias vs PyTorch");
    // fused ReLU = relu(PyTorch's linear)
    double relu_want[B * NO];
    for (int i = 0; i < B * NO; i++) relu_want[i] = want_out[i] > 0 ? want_out[i] : 0;
    hp_dense_forward_f64(out, x, w, b, B, NI, NO, 1);
    CHECK_ALLCLOSE(out, relu_want, B * NO, 1e-10, 1e-4, "dense f64 + fused relu: out vs relu(PyTorch)");

    float xf[B * NI], wf[NO * NI], bf[NO], doutf[B * NO];
    float outf[B * NO], dxf[B * NI], dwf[NO * NI], dbf[NO];
    float wantf_out[B * NO], wantf_dx[B * NI], wantf_dw[NO * NI], wantf_db[NO];
    if (!CHECK(hp_fixture_copyf(f, "x", xf, B * NI) == 0 && hp_fixture_copyf(f, "weight", wf, NO * NI) == 0 &&
                   hp_fixture_copyf(f, "bias", bf, NO) == 0 &&
                   hp_fixture_copyf(f, "dout", doutf, B * NO) == 0 &&
                   hp_fixture_copyf(f, "out.f32", wantf_out, B * NO) == 0 &&
                   hp_fixture_copyf(f, "dx.f32", wantf_dx, B * NI) == 0 &&
                   hp_fixture_copyf(f, "dweight.f32", wantf_dw, NO * NI) == 0 &&
                   hp_fixture_copyf(f, "dbias.f32", wantf_db, NO) == 0,
               "dense.txt holds the f32 results"))
        return;
    hp_dense_forward_f32(outf, xf, wf, bf, B, NI, NO, 0);
    hp_dense_backward_f32(dxf, dwf, dbf, doutf, xf, wf, B, NI, NO);
    CHECK_ALLCLOSEF(outf, wantf_out, B * NO, 1e-5, 1e-3, "dense f32: out vs PyTorch");
    CHECK_ALLCLOSEF(dxf, wantf_dx, B * NI, 1e-5, 1e-3, "dense f32: dx vs PyTorch");
    CHECK_ALLCLOSEF(dwf, wantf_dw, NO * NI, 1e-5, 1e-3, "dense f32: dweight vs PyTorch");
    CHECK_ALLCLOSEF(dbf, wantf_db, NO, 1e-5, 1e-3, "dense f32: dbias vs PyTorch");
}

int main(void) {
    finite_differences(3, 5, 4, 0, 11);
    finite_differences(3, 5, 4, 1, 12);
    finite_differences(1, 1, 3, 0, 13);
    finite_differences(6, 9, 2, 1, 14);

    hp_fixture f;
    char err[512];
    if (CHECK(hp_fixture_load("dense.txt", &f, err, sizeof err) == 0, "%s", err)) {
        against_pytorch(&f);
        hp_fixture_free(&f);
    }
    return hp_check_summary("test_dense");
}
