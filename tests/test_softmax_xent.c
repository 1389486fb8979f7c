/* test_softmax_xent.c - softmax cross-entropy (cpu/layers.h): central finite differences in
 * double of d(mean loss)/d(logits), stability for huge logits, the argmax count, and losses,
 * softmax and gradient against PyTorch (tests/fixtures/xent.txt) in double and in float. */
#include <math.h>
#include <stdio.h>

#include "check.h"
#include "cpu/layers.h"
#include "fixture.h"
#include "rng.h"

enum { B = 6, C = 5 };

static double mean_loss(const double *z, const int32_t *y, int nb, int nc) {
    double probs[8 * 8], losses[8];
    hp_xent_forward_f64(probs, losses, z, y, nb, nc);
    double s = 0;
    for (int b = 0; b < nb; b++) s += losses[b];
    return s / nb;
}

static void finite_differences(void) {
    enum { NB = 5, NC = 7 };
    hp_rng rng = hp_rng_make(31);
    double z[NB * NC], probs[NB * NC], losses[NB], dz[NB * NC], g[NB * NC];
    int32_t y[NB];
    for (int i = 0; i < NB * NC; i++) z[i] = 4 * hp_rng_uniform(&rng) - 2;
    for (int b = 0; b < NB; b++) y[b] = (int32_t)hp_rng_below(&rng, NC);
    hp_xent_forward_f64(probs, losses, z, y, NB, NC);
    hp_xent_backward_f64(dz, probs, y, 1.0 / NB, NB, NC);
    const double h = 1e-6;
    for (int i = 0; i < NB * NC; i++) {
        double keep = z[i];
        z[i] = keep + h;
        double lp = mean_loss(z, y, NB, NC);
        z[i] = keep - h;
        double lm = mean_loss(z, y, NB, NC);
        z[i] = keep;
        g[i] = (lp - lm) / (2 * h);
    }
    CHECK_ALLCLOSE(dz, g, NB * NC, 1e-9, 1e-6, "xent: dlogits vs finite differences");
    // rows of the gradient of a softmax cross-entropy sum to zero
    for (int b = 0; b < NB; b++) {
        double s = 0;
        for (int c = 0; c < NC; c++) s += dz[b * NC + c];
        CHECK_CLOSE(s, 0, 1e-15, 0, "xent: a row of dlogits sums to 0");
    }
}

static void stability_and_accuracy(void) {
    // Logits of 1e4 overflow exp() in float and double without the max shift.
    float z[2 * 3] = {1e4f, 0, -1e4f, -3e4f, -3e4f + 1, -3e4f - 1};
    int32_t y[2] = {1, 1};
    float probs[6], losses[2];
    int64_t correct = hp_xent_forward_f32(probs, losses, z, y, 2, 3);
    CHECK(isfinite(losses[0]) && isfinite(losses[1]), "xent: finite losses for huge logits");
    CHECK_CLOSE(losses[0], 1e4, 0, 1e-6, "xent: loss = lse - z_y = 1e4");
    CHECK_CLOSE(losses[1], 0.40760596444438, 1e-6, 1e-5, "xent: loss of the shifted row");
    CHECK(correct == 1, "xent: one argmax hit (got %lld)", (long long)correct);
    // ties: the first maximum wins
    double zt[3] = {2, 2, 1}, pt[3], lt[1];
    int32_t y0[1] = {0}, y1[1] = {1};
    CHECK(hp_xent_forward_f64(pt, lt, zt, y0, 1, 3) == 1, "xent: a tie counts for the first class");
    CHECK(hp_xent_forward_f64(pt, lt, zt, y1, 1, 3) == 0, "xent: a tie does not count for the second");
    // uniform logits: loss ln(C)
    double zu[10] = {0}, pu[10], lu[1];
    int32_t yu[1] = {7};
    hp_xent_forward_f64(pu, lu, zu, yu, 1, 10);
    CHECK_CLOSE(lu[0], log(10.0), 1e-15, 1e-14, "xent: uniform logits give ln(C)");
}

static void against_pytorch(const hp_fixture *f) {
    double z[B * C], probs[B * C], losses[B], dz[B * C];
    int32_t y[B];
    if (!CHECK(hp_fixture_copyd(f, "logits", z, B * C) == 0 && hp_fixture_copyi(f, "y", y, B) == 0,
               "xent.txt holds the inputs"))
        return;
    const double *w_losses = hp_fixture_values(f, "losses.f64", B),
                 *w_loss = hp_fixture_values(f, "loss.f64", 1);
    const double *w_dz = hp_fixture_values(f, "dlogits.f64", B * C);
    const double *w_p = hp_fixture_values(f, "probs.f64", B * C);
    if (!CHECK(w_losses && w_loss && w_dz && w_p, "xent.txt holds the f64 results")) return;
    int64_t correct = hp_xent_forward_f64(probs, losses, z, y, B, C);
    int64_t want_correct = 0;
    for (int b = 0; b < B; b++) {
        int am = 0;
        for (int c = 1; c < C; c++)
            if (z[b * C + c] > z[b * C + am]) am = c;
        want_correct += am == y[b];
    }
    CHECK(correct == want_correct, "xent: %lld argmax hits, want %lld", (long long)correct,
          (long long)want_correct);
    CHECK_ALLCLOSE(losses, w_losses, B, 1e-10, 1e-4, "xent f64: per-example losses vs PyTorch");
    CHECK_ALLCLOSE(probs, w_p, B * C, 1e-10, 1e-4, "xent f64: softmax vs PyTorch");
    double mean = 0;
    for (int b = 0; b < B; b++) mean += losses[b] / B;
    CHECK_CLOSE(mean, w_loss[0], 1e-10, 1e-4, "xent f64: mean loss vs PyTorch");
    hp_xent_backward_f64(dz, probs, y, 1.0 / B, B, C);
    CHECK_ALLCLOSE(dz, w_dz, B * C, 1e-10, 1e-4, "xent f64: dlogits vs PyTorch");
    // in place: dlogits written over probs
    hp_xent_backward_f64(probs, probs, y, 1.0 / B, B, C);
    CHECK_ALLCLOSE(probs, dz, B * C, 0, 0, "xent f64: in-place backward");

    float zf[B * C], pf[B * C], lf[B], dzf[B * C], wl[B], wdz[B * C];
    if (!CHECK(hp_fixture_copyf(f, "logits", zf, B * C) == 0 &&
                   hp_fixture_copyf(f, "losses.f32", wl, B) == 0 &&
                   hp_fixture_copyf(f, "dlogits.f32", wdz, B * C) == 0,
               "xent.txt holds the f32 results"))
        return;
    hp_xent_forward_f32(pf, lf, zf, y, B, C);
    hp_xent_backward_f32(dzf, pf, y, 1.0f / B, B, C);
    CHECK_ALLCLOSEF(lf, wl, B, 1e-5, 1e-3, "xent f32: per-example losses vs PyTorch");
    CHECK_ALLCLOSEF(dzf, wdz, B * C, 1e-6, 1e-3, "xent f32: dlogits vs PyTorch");
}

int main(void) {
    finite_differences();
    stability_and_accuracy();
    hp_fixture f;
    char err[512];
    if (CHECK(hp_fixture_load("xent.txt", &f, err, sizeof err) == 0, "%s", err)) {
        against_pytorch(&f);
        hp_fixture_free(&f);
    }
    return hp_check_summary("test_softmax_xent");
}
