/* test_pool.c - pooling and layout changes (cpu/pool.h):
 *   1. central finite differences in double of max pool (distinct values: differentiable),
 *      average pool and global average pool, over paddings, strides and overlapping windows;
 *   2. PyTorch fixtures (tests/fixtures/pool.txt): out, dx (and max pool's argmax) in double
 *      and float, including padding and stride edge cases and ties (the first maximum wins);
 *   3. max pool semantics: padding counts as -inf, NaN propagates; the vectorised 2x2 path
 *      against the rule on every pattern of ties/NaN/-inf and on the fashion_cnn plane sizes;
 *   4. geometry: PyTorch's rule padding <= kernel/2, window within the padded input;
 *   5. the NCHW <-> channel-major transposes on known values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cpu/pool.h"
#include "fixture.h"
#include "rng.h"

enum { KMAX = 0, KAVG = 1, KGAP = 2 };

/* Forward of kind on P planes (double). */
static void fwd(int kind, double *out, int32_t *idx, const double *x, int64_t P, const hp_pool_geom *g) {
    if (kind == KMAX) hp_maxpool_forward_f64(out, idx, x, P, g);
    else if (kind == KAVG) hp_avgpool_forward_f64(out, x, P, g);
    else hp_gap_forward_f64(out, x, P, (int64_t)g->H * g->W);
}
static int64_t out_plane(int kind, const hp_pool_geom *g) { return kind == KGAP ? 1 : (int64_t)g->Ho * g->Wo; }

static void finite_differences(int kind, int P, int H, int W, int k, int s, int p, uint64_t seed) {
    hp_pool_geom g;
    char name[96], what[160];
    snprintf(name, sizeof name, "%s pool %dx%d k%d s%d p%d", kind == KMAX ? "max" : kind == KAVG ? "avg" : "global avg",
             H, W, k, s, p);
    if (kind == KGAP) g = (hp_pool_geom){H, W, 0, 0, 0, 1, 1};
    else if (!CHECK(hp_pool_geom_make(&g, H, W, k, s, p) == 0, "%s: geometry", name)) return;
    int64_t nx = (int64_t)P * H * W, no = P * out_plane(kind, &g);
    double *x = malloc(sizeof(double) * nx), *dx = malloc(sizeof(double) * nx), *num = malloc(sizeof(double) * nx);
    double *r = malloc(sizeof(double) * no), *out = malloc(sizeof(double) * no);
    int32_t *idx = malloc(sizeof(int32_t) * no);
    if (!CHECK(x && dx && num && r && out && idx, "allocation")) goto done;
    hp_rng rng = hp_rng_make(seed);
    for (int64_t i = 0; i < nx; i++) x[i] = 2 * hp_rng_uniform(&rng) - 1;
    for (int64_t i = 0; i < no; i++) r[i] = 2 * hp_rng_uniform(&rng) - 1;
    fwd(kind, out, idx, x, P, &g);
    if (kind == KMAX) hp_maxpool_backward_f64(dx, r, idx, P, &g);
    else if (kind == KAVG) hp_avgpool_backward_f64(dx, r, P, &g);
    else hp_gap_backward_f64(dx, r, P, (int64_t)H * W);
    const double h = 1e-6;
    for (int64_t i = 0; i < nx; i++) {
        double keep = x[i], lp = 0, lm = 0;
        x[i] = keep + h;
        fwd(kind, out, idx, x, P, &g);
        for (int64_t j = 0; j < no; j++) lp += out[j] * r[j];
        x[i] = keep - h;
        fwd(kind, out, idx, x, P, &g);
        for (int64_t j = 0; j < no; j++) lm += out[j] * r[j];
        x[i] = keep;
        num[i] = (lp - lm) / (2 * h);
    }
    snprintf(what, sizeof what, "%s: d/d input vs finite differences", name);
    CHECK_ALLCLOSE(dx, num, nx, 1e-7, 1e-6, what);
done:
    free(x), free(dx), free(num), free(r), free(out), free(idx);
}

/* ---- PyTorch fixtures ---------------------------------------------------------------------- */

static void fixture_case(const hp_fixture *f, int i, int dbl) {
    char key[64], what[160];
    snprintf(key, sizeof key, "p%d.cfg", i);
    const double *cv = hp_fixture_values(f, key, 8);
    if (!CHECK(cv != NULL, "pool.txt holds %s", key)) return;
    int B = (int)cv[0], C = (int)cv[1], H = (int)cv[2], W = (int)cv[3], k = (int)cv[4], s = (int)cv[5], p = (int)cv[6];
    int kind = (int)cv[7];
    hp_pool_geom g = {H, W, 0, 0, 0, 1, 1};
    if (kind != KGAP && !CHECK(hp_pool_geom_make(&g, H, W, k, s, p) == 0, "p%d geometry", i)) return;
    // NCHW planes are [B, C] planes of [H, W]: pools treat every plane alike
    int64_t P = (int64_t)B * C, nx = P * H * W, no = P * out_plane(kind, &g);
    const char *sfx = dbl ? "f64" : "f32";
    double *x = malloc(sizeof(double) * nx), *dout = malloc(sizeof(double) * no);
    double *out = malloc(sizeof(double) * no), *dx = malloc(sizeof(double) * nx);
    float *xf = malloc(sizeof(float) * nx), *doutf = malloc(sizeof(float) * no);
    float *outf = malloc(sizeof(float) * no), *dxf = malloc(sizeof(float) * nx);
    int32_t *idx = malloc(sizeof(int32_t) * no);
    snprintf(key, sizeof key, "p%d.x", i);
    char k2[64];
    snprintf(k2, sizeof k2, "p%d.dout", i);
    if (!CHECK(x && dout && out && dx && xf && doutf && outf && dxf && idx, "allocation") ||
        !CHECK(hp_fixture_copyd(f, key, x, nx) == 0 && hp_fixture_copyd(f, k2, dout, no) == 0, "pool.txt holds p%d",
               i))
        goto done;
    if (dbl) {
        if (kind == KMAX) {
            hp_maxpool_forward_f64(out, idx, x, P, &g);
            hp_maxpool_backward_f64(dx, dout, idx, P, &g);
        } else if (kind == KAVG) {
            hp_avgpool_forward_f64(out, x, P, &g);
            hp_avgpool_backward_f64(dx, dout, P, &g);
        } else {
            hp_gap_forward_f64(out, x, P, (int64_t)H * W);
            hp_gap_backward_f64(dx, dout, P, (int64_t)H * W);
        }
    } else {
        for (int64_t j = 0; j < nx; j++) xf[j] = (float)x[j];
        for (int64_t j = 0; j < no; j++) doutf[j] = (float)dout[j];
        if (kind == KMAX) {
            hp_maxpool_forward_f32(outf, idx, xf, P, &g);
            hp_maxpool_backward_f32(dxf, doutf, idx, P, &g);
        } else if (kind == KAVG) {
            hp_avgpool_forward_f32(outf, xf, P, &g);
            hp_avgpool_backward_f32(dxf, doutf, P, &g);
        } else {
            hp_gap_forward_f32(outf, xf, P, (int64_t)H * W);
            hp_gap_backward_f32(dxf, doutf, P, (int64_t)H * W);
        }
        for (int64_t j = 0; j < no; j++) out[j] = outf[j];
        for (int64_t j = 0; j < nx; j++) dx[j] = dxf[j];
    }
    const char *kn = kind == KMAX ? "max" : kind == KAVG ? "avg" : "global avg";
    snprintf(key, sizeof key, "p%d.out.%s", i, sfx);
    snprintf(what, sizeof what, "%s pool p%d %s (%dx%d k%d s%d p%d): out vs PyTorch", kn, i, sfx, H, W, k, s, p);
    const double *want = hp_fixture_values(f, key, no);
    if (CHECK(want != NULL, "pool.txt holds %s", key)) CHECK_ALLCLOSE(out, want, no, 1e-7, dbl ? 1e-10 : 1e-6, what);
    snprintf(key, sizeof key, "p%d.dx.%s", i, sfx);
    snprintf(what, sizeof what, "%s pool p%d %s (%dx%d k%d s%d p%d): dx vs PyTorch", kn, i, sfx, H, W, k, s, p);
    want = hp_fixture_values(f, key, nx);
    if (CHECK(want != NULL, "pool.txt holds %s", key)) CHECK_ALLCLOSE(dx, want, nx, 1e-7, dbl ? 1e-10 : 1e-6, what);
    if (kind == KMAX) {
        snprintf(key, sizeof key, "p%d.idx", i);
        want = hp_fixture_values(f, key, no);
        int64_t bad = 0;
        for (int64_t j = 0; want && j < no; j++) bad += idx[j] != (int32_t)want[j];
        CHECK(want && bad == 0, "max pool p%d %s: argmax equals PyTorch's (%lld differ)", i, sfx, (long long)bad);
    }
done:
    free(x), free(dout), free(out), free(dx), free(xf), free(doutf), free(outf), free(dxf), free(idx);
}

static void pytorch(void) {
    hp_fixture f;
    char err[512], key[32];
    if (!CHECK(hp_fixture_load("pool.txt", &f, err, sizeof err) == 0, "%s", err)) return;
    int n = 0;
    for (;; n++) {
        snprintf(key, sizeof key, "p%d.cfg", n);
        if (!hp_fixture_find(&f, key)) break;
        fixture_case(&f, n, 1);
        fixture_case(&f, n, 0);
    }
    CHECK(n == 9, "pool.txt holds 9 cases (got %d)", n);
    hp_fixture_free(&f);
}

/* ---- semantics, geometry, layout ----------------------------------------------------------- */

static void semantics(void) {
    hp_pool_geom g;
    // all-negative plane, padding 1: padding is -inf, so the max is a real (negative) value
    double x[9] = {-5, -4, -3, -6, -2, -7, -8, -9, -1}, out[4], dx[9], d[4] = {1, 2, 3, 4};
    int32_t idx[4];
    hp_pool_geom_make(&g, 3, 3, 2, 2, 1); // windows: {-5}, {-4,-3}, {-6,-8}, {-2,-7,-9,-1}
    hp_maxpool_forward_f64(out, idx, x, 1, &g);
    CHECK(out[0] == -5 && out[1] == -3 && out[2] == -6 && out[3] == -1, "padding is -inf: [%g %g %g %g]", out[0],
          out[1], out[2], out[3]);
    CHECK(idx[0] == 0 && idx[1] == 2 && idx[2] == 3 && idx[3] == 8, "argmax [%d %d %d %d]", idx[0], idx[1], idx[2],
          idx[3]);
    hp_maxpool_backward_f64(dx, d, idx, 1, &g);
    CHECK(dx[0] == 1 && dx[2] == 2 && dx[3] == 3 && dx[8] == 4 && dx[1] == 0 && dx[4] == 0, "gradient to the winners");
    // NaN wins over any number, in the 2x2/2 fast path and the general one
    double y[8] = {1, NAN, 5, 2, 3, 4, 0, 7}; // planes 2x4: windows {1,NaN,3,4} and {5,2,0,7}
    double o2[2];
    int32_t i2[2];
    hp_pool_geom_make(&g, 2, 4, 2, 2, 0);
    hp_maxpool_forward_f64(o2, i2, y, 1, &g);
    CHECK(isnan(o2[0]) && i2[0] == 1 && o2[1] == 7 && i2[1] == 7, "NaN propagates (fast path)");
    hp_pool_geom_make(&g, 2, 4, 2, 2, 1);
    double o3[6];
    int32_t i3[6];
    hp_maxpool_forward_f64(o3, i3, y, 1, &g);
    // padded windows: (0,0) {1}, (0,1) {NaN, 5}, (1,1) {4, 0}
    CHECK(isnan(o3[1]) && i3[1] == 1 && o3[0] == 1 && o3[4] == 4, "NaN propagates (general path)");
    // ties: the first in row-major order
    double t[4] = {2, 2, 2, 2};
    hp_pool_geom_make(&g, 2, 2, 2, 2, 0);
    hp_maxpool_forward_f64(o2, i2, t, 1, &g);
    CHECK(i2[0] == 0, "ties go to the first maximum (got %d)", i2[0]);
    // avg with padding divides by k*k (count_include_pad)
    double a[4] = {1, 2, 3, 4}, ao[4];
    hp_pool_geom_make(&g, 2, 2, 2, 2, 1);
    hp_avgpool_forward_f64(ao, a, 1, &g);
    CHECK(ao[0] == 0.25 && ao[3] == 1.0, "avg pool counts padding: %g %g", ao[0], ao[3]);
}

/* The vectorised 2x2/2 path against a plain reading of the rule on every pattern of values
 * from {1, 2, NaN, -inf, 2} in a window (ties, NaN, -inf), as one 2 x 1250 plane, in float
 * and double; and its backward against the scatter. */
static void all_patterns(void) {
    enum { NW = 625, WID = 2 * NW };
    static double xd[2 * WID], od[NW], dxd[2 * WID], dd[NW];
    static float xf[2 * WID], of[NW];
    static int32_t id[NW], iff[NW];
    const double vals[5] = {1, 2, NAN, -INFINITY, 2};
    for (int p = 0; p < NW; p++) {
        int q = p;
        for (int t = 0; t < 4; t++, q /= 5) xd[(t / 2) * WID + 2 * p + t % 2] = vals[q % 5];
        dd[p] = p + 1;
    }
    for (int i = 0; i < 2 * WID; i++) xf[i] = (float)xd[i];
    hp_pool_geom g;
    hp_pool_geom_make(&g, 2, WID, 2, 2, 0);
    hp_maxpool_forward_f64(od, id, xd, 1, &g);
    hp_maxpool_forward_f32(of, iff, xf, 1, &g);
    int64_t bad = 0, badf = 0;
    for (int p = 0; p < NW; p++) {
        int at[4] = {2 * p, 2 * p + 1, WID + 2 * p, WID + 2 * p + 1}, bi = at[0];
        double best = -INFINITY;
        for (int t = 0; t < 4; t++)
            if (xd[at[t]] > best || isnan(xd[at[t]])) best = xd[at[t]], bi = at[t];
        bad += id[p] != bi || !(od[p] == best || (isnan(od[p]) && isnan(best)));
        badf += iff[p] != bi || !(of[p] == (float)best || (isnan(of[p]) && isnan(best)));
    }
    CHECK(bad == 0 && badf == 0, "2x2 fast path: all 625 patterns as the rule says (%lld, %lld differ)",
          (long long)bad, (long long)badf);
    hp_maxpool_backward_f64(dxd, dd, id, 1, &g);
    int64_t badb = 0;
    for (int i = 0; i < 2 * WID; i++) {
        int p = (i % WID) / 2;
        badb += dxd[i] != (id[p] == i ? dd[p] : 0);
    }
    CHECK(badb == 0, "2x2 fast backward: the gradient lands on the argmax only (%lld differ)", (long long)badb);
}

/* The 2x2/2 path on the fashion_cnn plane sizes (output rows of 14 and 7, whose last values
 * the kernel computes twice) and odd sizes (a dropped last row and column), forward and
 * backward, against the rule written out plainly. */
static void fast_path_shapes(void) {
    const int sizes[][2] = {{28, 28}, {14, 14}, {5, 9}, {6, 10}, {2, 2}};
    for (int k = 0; k < 5; k++) {
        const int H = sizes[k][0], W = sizes[k][1], P = 3;
        hp_pool_geom g;
        hp_pool_geom_make(&g, H, W, 2, 2, 0);
        int64_t nx = (int64_t)P * H * W, no = (int64_t)P * g.Ho * g.Wo;
        float *x = malloc(sizeof(float) * nx), *o = malloc(sizeof(float) * no), *d = malloc(sizeof(float) * no);
        float *dx = malloc(sizeof(float) * nx), *want = malloc(sizeof(float) * nx);
        int32_t *ix = malloc(sizeof(int32_t) * no);
        if (!CHECK(x && o && d && dx && want && ix, "allocation")) return;
        hp_rng r = hp_rng_make(500 + k);
        for (int64_t i = 0; i < nx; i++) x[i] = (float)(int)(4 * hp_rng_uniform(&r)) - 1; // ties
        for (int64_t i = 0; i < no; i++) d[i] = (float)(i + 1);
        hp_maxpool_forward_f32(o, ix, x, P, &g);
        hp_maxpool_backward_f32(dx, d, ix, P, &g);
        memset(want, 0, sizeof(float) * nx);
        int64_t bad = 0;
        for (int p = 0; p < P; p++)
            for (int oh = 0; oh < g.Ho; oh++)
                for (int ow = 0; ow < g.Wo; ow++) {
                    const float *pl = x + (int64_t)p * H * W;
                    int bi = 2 * oh * W + 2 * ow;
                    for (int t = 1; t < 4; t++) {
                        int at = (2 * oh + t / 2) * W + 2 * ow + t % 2;
                        if (pl[at] > pl[bi]) bi = at;
                    }
                    int64_t j = ((int64_t)p * g.Ho + oh) * g.Wo + ow;
                    bad += ix[j] != bi || o[j] != pl[bi];
                    want[(int64_t)p * H * W + bi] += d[j];
                }
        CHECK(bad == 0, "2x2 fast path on %dx%d: %lld of %lld outputs differ", H, W, (long long)bad, (long long)no);
        CHECK(memcmp(dx, want, sizeof(float) * nx) == 0, "2x2 fast backward on %dx%d", H, W);
        free(x), free(o), free(d), free(dx), free(want), free(ix);
    }
}

static void geometry(void) {
    hp_pool_geom g;
    CHECK(hp_pool_geom_make(&g, 28, 28, 2, 2, 0) == 0 && g.Ho == 14 && g.Wo == 14, "2x2/2 halves 28x28");
    CHECK(hp_pool_geom_make(&g, 7, 7, 2, 2, 0) == 0 && g.Ho == 3, "2x2/2 floors 7 to 3");
    CHECK(hp_pool_geom_make(&g, 6, 7, 3, 2, 1) == 0 && g.Ho == 3 && g.Wo == 4, "3x3/2 pad 1 on 6x7 gives 3x4");
    CHECK(hp_pool_geom_make(&g, 8, 8, 3, 1, 2) == -1, "padding 2 > 3/2 rejected");
    CHECK(hp_pool_geom_make(&g, 8, 8, 2, 2, 2) == -1, "padding 2 > 2/2 rejected");
    CHECK(hp_pool_geom_make(&g, 1, 8, 4, 4, 1) == -1, "a 4x4 window on a 1-row input padded to 3 rejected");
    CHECK(hp_pool_geom_make(&g, 4, 4, 0, 1, 0) == -1 && hp_pool_geom_make(&g, 4, 4, 2, 0, 0) == -1,
          "kernel 0 and stride 0 rejected");
}

static void layout(void) {
    // B = 2, C = 3, HW = 2: NCHW value = 100 b + 10 c + i
    double nchw[12], cnhw[12], back[12];
    for (int b = 0; b < 2; b++)
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 2; i++) nchw[(b * 3 + c) * 2 + i] = 100 * b + 10 * c + i;
    hp_nchw_to_cnhw_f64(cnhw, nchw, 2, 3, 2);
    int ok = 1;
    for (int c = 0; c < 3; c++)
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 2; i++) ok &= cnhw[(c * 2 + b) * 2 + i] == 100 * b + 10 * c + i;
    CHECK(ok, "nchw_to_cnhw puts (b, c, i) at [c, b, i]");
    hp_cnhw_to_nchw_f64(back, cnhw, 2, 3, 2);
    CHECK(memcmp(back, nchw, sizeof nchw) == 0, "cnhw_to_nchw inverts it");
    float cb[6] = {0, 1, 10, 11, 20, 21}, bc[6]; // [C=3, B=2] -> [B, C]
    hp_cnhw_to_nchw_f32(bc, cb, 2, 3, 1);
    CHECK(bc[0] == 0 && bc[1] == 10 && bc[2] == 20 && bc[3] == 1 && bc[5] == 21, "HW = 1 transposes [C, B]");
}

int main(void) {
    finite_differences(KMAX, 3, 5, 5, 2, 2, 0, 401);
    finite_differences(KMAX, 2, 6, 7, 3, 2, 1, 402);
    finite_differences(KMAX, 2, 5, 4, 3, 1, 1, 403);
    finite_differences(KMAX, 2, 4, 5, 2, 1, 1, 404);
    finite_differences(KMAX, 2, 7, 5, 3, 3, 0, 405);
    finite_differences(KAVG, 3, 5, 5, 2, 2, 0, 406);
    finite_differences(KAVG, 2, 6, 7, 3, 2, 1, 407);
    finite_differences(KAVG, 2, 5, 4, 3, 1, 1, 408);
    finite_differences(KAVG, 2, 4, 6, 4, 2, 2, 409);
    finite_differences(KGAP, 4, 3, 5, 0, 0, 0, 410);
    pytorch();
    semantics();
    all_patterns();
    fast_path_shapes();
    geometry();
    layout();
    return hp_check_summary("test_pool");
}
