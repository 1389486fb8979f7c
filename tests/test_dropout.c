/* test_dropout.c - inverted dropout (cpu/dropout.h).
 *
 * - p = 0 is the identity (bitwise), forward and backward; p >= 1 drops everything;
 * - the mask is exactly the documented draw: mask[i] = (i-th hp_rng_uniform of hp_rng_make(key)
 *   >= p), so a mask can be reproduced from the key alone; same key same mask, another key
 *   another mask, float and double the same mask;
 * - kept values are inp * float(1/(1-p)) exactly, dropped ones 0;
 * - the kept fraction is within 6 binomial standard deviations of 1 - p, for several p;
 * - E[out] = inp: sum(out) - sum(inp) within 6 standard deviations, sd^2 = sum inp^2 p/(1-p);
 * - backward masks and scales dout the same way; in place (out == inp, dinp == dout) works;
 * - a mask over the threading threshold is bitwise the same with 1 and 2 threads.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cpu_threads.h"
#include "check.h"
#include "cpu/dropout.h"
#include "rng.h"

enum { N = 100000 };

static float g_x[N], g_out[N], g_out2[N], g_dout[N], g_din[N];
static double g_xd[N], g_outd[N];
static uint8_t g_mask[N], g_mask2[N];

static void identity(void) {
    hp_dropout_forward_f32(g_out, g_mask, g_x, N, 0.0, 42);
    int ones = 1;
    for (int i = 0; i < N; i++) ones &= g_mask[i] == 1;
    CHECK(ones && memcmp(g_out, g_x, sizeof g_out) == 0, "p = 0: mask all ones and out == inp bitwise");
    hp_dropout_backward_f32(g_din, g_dout, g_mask, N, 0.0);
    CHECK(memcmp(g_din, g_dout, sizeof g_din) == 0, "p = 0: backward dinp == dout bitwise");

    hp_dropout_forward_f32(g_out, g_mask, g_x, N, 1.0, 42);
    int zeros = 1;
    for (int i = 0; i < N; i++) zeros &= g_mask[i] == 0 && g_out[i] == 0;
    CHECK(zeros, "p = 1: everything dropped, out = 0");
    hp_dropout_backward_f32(g_din, g_dout, g_mask, N, 1.0);
    zeros = 1;
    for (int i = 0; i < N; i++) zeros &= g_din[i] == 0;
    CHECK(zeros, "p = 1: dinp = 0");
}

static void rate_scale_and_draw(double p, uint64_t key) {
    hp_dropout_forward_f32(g_out, g_mask, g_x, N, p, key);
    const float scale = (float)(1.0 / (1.0 - p));
    // the documented draw
    hp_rng r = hp_rng_make(key);
    int64_t kept = 0, draw_ok = 1, values_ok = 1;
    for (int i = 0; i < N; i++) {
        int want = hp_rng_uniform(&r) >= p;
        draw_ok &= g_mask[i] == want;
        values_ok &= g_out[i] == (g_mask[i] ? g_x[i] * scale : 0.0f);
        kept += g_mask[i];
    }
    CHECK(draw_ok, "p = %g: mask[i] == (i-th uniform of hp_rng_make(key) >= p)", p);
    CHECK(values_ok, "p = %g: kept values are inp * float(1/(1-p)), dropped ones 0", p);
    const double mu = N * (1 - p), sd = sqrt(N * p * (1 - p));
    CHECK(fabs((double)kept - mu) <= 6 * sd, "p = %g: kept %lld of %d, expected %.0f +- 6*%.1f", p, (long long)kept,
          N, mu, sd);

    // E[out_i] = inp_i: the sum of out is the sum of inp within 6 sd, var(out_i) = inp_i^2 p / (1-p)
    double so = 0, si = 0, v = 0;
    for (int i = 0; i < N; i++) so += g_out[i], si += g_x[i], v += (double)g_x[i] * g_x[i] * p / (1 - p);
    CHECK(fabs(so - si) <= 6 * sqrt(v), "p = %g: sum(out) %.2f vs sum(inp) %.2f, 6 sd = %.2f", p, so, si,
          6 * sqrt(v));

    // backward: dinp = dout * mask * scale (same p)
    hp_dropout_backward_f32(g_din, g_dout, g_mask, N, p);
    int back_ok = 1;
    for (int i = 0; i < N; i++) back_ok &= g_din[i] == (g_mask[i] ? g_dout[i] * scale : 0.0f);
    CHECK(back_ok, "p = %g: backward dinp = dout * mask * scale", p);

    // same key, same mask and output; in place
    memcpy(g_out2, g_x, sizeof g_out2);
    hp_dropout_forward_f32(g_out2, g_mask2, g_out2, N, p, key);
    CHECK(memcmp(g_mask2, g_mask, sizeof g_mask) == 0 && memcmp(g_out2, g_out, sizeof g_out) == 0,
          "p = %g: same key gives the same mask; out == inp in place", p);
    memcpy(g_out2, g_dout, sizeof g_out2);
    hp_dropout_backward_f32(g_out2, g_out2, g_mask, N, p);
    CHECK(memcmp(g_out2, g_din, sizeof g_din) == 0, "p = %g: backward with dinp == dout", p);

    // double: the same mask for the same key
    hp_dropout_forward_f64(g_outd, g_mask2, g_xd, N, p, key);
    CHECK(memcmp(g_mask2, g_mask, sizeof g_mask) == 0, "p = %g: float and double draw the same mask", p);
    int dvals = 1;
    for (int i = 0; i < N; i++) dvals &= g_outd[i] == (g_mask[i] ? g_xd[i] * (1.0 / (1.0 - p)) : 0.0);
    CHECK(dvals, "p = %g: double values inp / (1-p)", p);

    // another key: another mask, differing where the two independent masks disagree
    // (probability 2p(1-p) each)
    hp_dropout_forward_f32(g_out2, g_mask2, g_x, N, p, key + 1);
    int64_t diff = 0;
    for (int i = 0; i < N; i++) diff += g_mask2[i] != g_mask[i];
    const double dm = N * 2 * p * (1 - p), dsd = sqrt(N * 2 * p * (1 - p) * (1 - 2 * p * (1 - p)));
    CHECK(fabs((double)diff - dm) <= 6 * dsd, "p = %g: keys k and k+1 differ on %lld values, expected %.0f", p,
          (long long)diff, dm);
}

static void threads(void) {
    // N = 100000 > the parallel threshold: split over threads, element i still uses draw i
    int t = hp_cpu_threads();
    hp_cpu_set_threads(1);
    hp_dropout_forward_f32(g_out, g_mask, g_x, N, 0.5, 7);
    hp_cpu_set_threads(2);
    hp_dropout_forward_f32(g_out2, g_mask2, g_x, N, 0.5, 7);
    hp_cpu_set_threads(t);
    CHECK(memcmp(g_mask, g_mask2, sizeof g_mask) == 0 && memcmp(g_out, g_out2, sizeof g_out) == 0,
          "1 and 2 threads draw the same mask");
}

int main(void) {
    hp_rng r = hp_rng_make(3);
    for (int i = 0; i < N; i++) {
        g_x[i] = (float)(0.5 + hp_rng_uniform(&r)); // in [0.5, 1.5): a non-zero mean to test E[out]
        g_xd[i] = g_x[i];
        g_dout[i] = (float)hp_rng_normal(&r);
    }
    identity();
    rate_scale_and_draw(0.5, 11);
    rate_scale_and_draw(0.1, 12);
    rate_scale_and_draw(0.9, 13);
    threads();
    return hp_check_summary("test_dropout");
}
