/* test_conv.c - the conv2d layer (cpu/conv.h):
 *   1. central finite differences in double of d/d input, d/d weight and d/d bias of
 *      L = sum(out * r), over strides 1 and 2, paddings 0, 1 and 2, kernels 1, 3 and 5,
 *      non-square inputs, C and F > 1, the 1x1 direct path and batches of several blocks;
 *   2. PyTorch fixtures (tests/fixtures/conv.txt): out, dx, dweight, dbias in double
 *      (rtol 1e-4) and float (rtol 1e-3), inputs given in NCHW and run channel-major;
 *   3. results bit-identical for 1, 2 and 3 threads (forward and every gradient);
 *   4. geometry: output sizes, rejection of a kernel larger than the padded input. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cpu/conv.h"
#include "cpu/pool.h"
#include "fixture.h"
#include "rng.h"

enum { SLOTS = 3 };

typedef struct cfg {
    int B, C, H, W, F, k, s, p, bias;
} cfg;

static int64_t out_size(const hp_conv_geom *g, int B) { return (int64_t)g->F * B * g->Ho * g->Wo; }

/* L = sum(out * r) for the given input, weight and bias. */
static double objective(const cfg *c, const hp_conv_geom *g, const double *x, const double *wt, const double *b,
                        const double *r, double *out, double *work) {
    hp_conv_forward_f64(out, x, wt, c->bias ? b : NULL, c->B, g, work, SLOTS);
    double L = 0;
    for (int64_t i = 0; i < out_size(g, c->B); i++) L += out[i] * r[i];
    return L;
}

/* d/d v[i] of the objective by central differences, for every i < n. */
static void numeric(const cfg *c, const hp_conv_geom *g, double *x, double *wt, double *b, const double *r,
                    double *out, double *work, double *v, int64_t n, double *num) {
    const double h = 1e-6;
    for (int64_t i = 0; i < n; i++) {
        double keep = v[i];
        v[i] = keep + h;
        double lp = objective(c, g, x, wt, b, r, out, work);
        v[i] = keep - h;
        double lm = objective(c, g, x, wt, b, r, out, work);
        v[i] = keep;
        num[i] = (lp - lm) / (2 * h);
    }
}

static void finite_differences(const cfg *c, uint64_t seed) {
    hp_conv_geom g;
    char name[96], what[160];
    snprintf(name, sizeof name, "conv B%d C%d %dx%d F%d k%d s%d p%d%s", c->B, c->C, c->H, c->W, c->F, c->k, c->s,
             c->p, c->bias ? "" : " no-bias");
    if (!CHECK(hp_conv_geom_make(&g, c->C, c->H, c->W, c->F, c->k, c->s, c->p) == 0, "%s: geometry", name)) return;
    int64_t nx = (int64_t)c->C * c->B * c->H * c->W, nw = (int64_t)c->F * c->C * c->k * c->k, no = out_size(&g, c->B);
    double *x = malloc(sizeof(double) * nx), *dx = malloc(sizeof(double) * nx), *wt = malloc(sizeof(double) * nw);
    double *dw = malloc(sizeof(double) * nw), *b = malloc(sizeof(double) * c->F), *db = malloc(sizeof(double) * c->F);
    double *r = malloc(sizeof(double) * no), *out = malloc(sizeof(double) * no);
    double *num = malloc(sizeof(double) * (nx > nw ? nx : nw));
    double *work = malloc(sizeof(double) * hp_conv_work_size(&g, c->B, SLOTS));
    if (!CHECK(x && dx && wt && dw && b && db && r && out && num && work, "allocation")) goto done;
    hp_rng rng = hp_rng_make(seed);
    for (int64_t i = 0; i < nx; i++) x[i] = 2 * hp_rng_uniform(&rng) - 1;
    for (int64_t i = 0; i < nw; i++) wt[i] = 2 * hp_rng_uniform(&rng) - 1;
    for (int i = 0; i < c->F; i++) b[i] = 2 * hp_rng_uniform(&rng) - 1;
    for (int64_t i = 0; i < no; i++) r[i] = 2 * hp_rng_uniform(&rng) - 1;
    // dL/dout = r
    hp_conv_backward_f64(dx, dw, c->bias ? db : NULL, r, x, wt, c->B, &g, work, SLOTS);
    numeric(c, &g, x, wt, b, r, out, work, x, nx, num);
    snprintf(what, sizeof what, "%s: d/d input vs finite differences", name);
    // atol 1e-6: the rounding of L (a sum of up to ~1e3 terms) over 2h, where gradients cancel
    CHECK_ALLCLOSE(dx, num, nx, 1e-6, 1e-6, what);
    numeric(c, &g, x, wt, b, r, out, work, wt, nw, num);
    snprintf(what, sizeof what, "%s: d/d weight vs finite differences", name);
    CHECK_ALLCLOSE(dw, num, nw, 1e-6, 1e-6, what);
    if (c->bias) {
        numeric(c, &g, x, wt, b, r, out, work, b, c->F, num);
        snprintf(what, sizeof what, "%s: d/d bias vs finite differences", name);
        CHECK_ALLCLOSE(db, num, c->F, 1e-6, 1e-6, what);
    }
    // dinp NULL computes the weight gradients alone, identically
    double *dw2 = num;
    hp_conv_backward_f64(NULL, dw2, NULL, r, x, wt, c->B, &g, work, SLOTS);
    CHECK(memcmp(dw2, dw, sizeof(double) * nw) == 0, "%s: dweight without dinp is the same", name);
done:
    free(x), free(dx), free(wt), free(dw), free(b), free(db), free(r), free(out), free(num), free(work);
}

/* ---- PyTorch fixtures ---------------------------------------------------------------------- */

/* Case `pre` of conv.txt in double (dbl) or float: inputs NCHW -> channel-major, run, and the
 * results back to NCHW for the comparison. */
static void fixture_case(const hp_fixture *f, const char *pre, int dbl) {
    char key[64], what[160];
    snprintf(key, sizeof key, "%scfg", pre);
    const double *cv = hp_fixture_values(f, key, 9);
    if (!CHECK(cv != NULL, "conv.txt holds %s", key)) return;
    cfg c = {(int)cv[0], (int)cv[1], (int)cv[2], (int)cv[3], (int)cv[4],
             (int)cv[5], (int)cv[6], (int)cv[7], (int)cv[8]};
    hp_conv_geom g;
    if (!CHECK(hp_conv_geom_make(&g, c.C, c.H, c.W, c.F, c.k, c.s, c.p) == 0, "%s geometry", pre)) return;
    const char *sfx = dbl ? "f64" : "f32";
    int64_t HW = (int64_t)c.H * c.W, HWo = (int64_t)g.Ho * g.Wo;
    int64_t nx = c.C * c.B * HW, nw = (int64_t)c.F * c.C * c.k * c.k, no = out_size(&g, c.B);
    int64_t ntot = 2 * nx + 2 * nw + 2 * c.F + 3 * no + hp_conv_work_size(&g, c.B, SLOTS);
    double *buf = calloc((size_t)ntot, sizeof(double)), *ref = calloc((size_t)ntot, sizeof(double));
    if (!CHECK(buf && ref, "allocation")) goto done;
    // double: every array in buf; the float run uses the same memory as floats
    double *x = buf, *dx = x + nx, *wt = dx + nx, *dw = wt + nw, *b = dw + nw, *db = b + c.F, *dout = db + c.F;
    double *out = dout + no, *tmp = out + no, *work = tmp + no;
    struct {
        const char *name;
        double *dst;
        int64_t n;
    } in[] = {{"x", ref, nx}, {"weight", wt, nw}, {"bias", b, c.F}, {"dout", ref + nx, no}};
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "%s%s", pre, in[i].name);
        if (!CHECK(hp_fixture_copyd(f, key, in[i].dst, in[i].n) == 0, "conv.txt holds %s", key)) goto done;
    }
    hp_nchw_to_cnhw_f64(x, ref, c.B, c.C, HW);          // x [C, B, H, W]
    hp_nchw_to_cnhw_f64(dout, ref + nx, c.B, c.F, HWo); // dout [F, B, Ho, Wo]
    double *res[4] = {out, dx, dw, db};
    if (dbl) {
        hp_conv_forward_f64(out, x, wt, c.bias ? b : NULL, c.B, &g, work, SLOTS);
        hp_conv_backward_f64(dx, dw, c.bias ? db : NULL, dout, x, wt, c.B, &g, work, SLOTS);
    } else {
        // the same arrays rounded to float, computed in float, widened back for the comparison
        float *fb = malloc(sizeof(float) * (size_t)ntot);
        if (!CHECK(fb != NULL, "allocation")) goto done;
        for (int64_t i = 0; i < ntot; i++) fb[i] = (float)buf[i];
        float *fx = fb, *fdx = fx + nx, *fw = fdx + nx, *fdw = fw + nw, *fbias = fdw + nw, *fdb = fbias + c.F;
        float *fdout = fdb + c.F, *fout = fdout + no, *fwork = fout + 2 * no;
        hp_conv_forward_f32(fout, fx, fw, c.bias ? fbias : NULL, c.B, &g, fwork, SLOTS);
        hp_conv_backward_f32(fdx, fdw, c.bias ? fdb : NULL, fdout, fx, fw, c.B, &g, fwork, SLOTS);
        for (int64_t i = 0; i < ntot; i++) buf[i] = fb[i];
        free(fb);
    }
    hp_cnhw_to_nchw_f64(tmp, out, c.B, c.F, HWo); // back to [B, F, Ho, Wo]
    memcpy(out, tmp, sizeof(double) * no);
    hp_cnhw_to_nchw_f64(tmp, dx, c.B, c.C, HW);
    memcpy(dx, tmp, sizeof(double) * nx);
    const char *names[4] = {"out", "dx", "dweight", "dbias"};
    int64_t sizes[4] = {no, nx, nw, c.F};
    for (int i = 0; i < (c.bias ? 4 : 3); i++) {
        snprintf(key, sizeof key, "%s%s.%s", pre, names[i], sfx);
        const double *want = hp_fixture_values(f, key, sizes[i]);
        if (!CHECK(want != NULL, "conv.txt holds %s", key)) continue;
        snprintf(what, sizeof what, "conv %s (B%d C%d %dx%d F%d k%d s%d p%d) %s vs PyTorch", sfx, c.B, c.C, c.H, c.W,
                 c.F, c.k, c.s, c.p, names[i]);
        CHECK_ALLCLOSE(res[i], want, sizes[i], dbl ? 1e-10 : 1e-5, dbl ? 1e-4 : 1e-3, what);
    }
done:
    free(buf), free(ref);
}

static void pytorch(void) {
    hp_fixture f;
    char err[512], pre[16];
    if (!CHECK(hp_fixture_load("conv.txt", &f, err, sizeof err) == 0, "%s", err)) return;
    int ncases = 0;
    for (int i = 0;; i++) {
        snprintf(pre, sizeof pre, "c%d.", i);
        char key[32];
        snprintf(key, sizeof key, "%scfg", pre);
        if (!hp_fixture_find(&f, key)) break;
        fixture_case(&f, pre, 1);
        fixture_case(&f, pre, 0);
        ncases++;
    }
    CHECK(ncases == 8, "conv.txt holds 8 cases (got %d)", ncases);
    hp_fixture_free(&f);
}

/* ---- thread-count independence ------------------------------------------------------------- */

static void threads(void) {
    // 12 images of 13x11: several blocks per thread count
    cfg c = {12, 3, 13, 11, 5, 3, 1, 1, 1};
    hp_conv_geom g;
    hp_conv_geom_make(&g, c.C, c.H, c.W, c.F, c.k, c.s, c.p);
    CHECK((c.B + g.G - 1) / g.G >= 3, "the batch spans several blocks (G = %d)", g.G);
    int64_t nx = (int64_t)c.C * c.B * c.H * c.W, nw = (int64_t)c.F * c.C * 9, no = out_size(&g, c.B);
    int64_t per = no + nx + nw + c.F; // out, dx, dw, db of one run
    float *x = malloc(sizeof(float) * nx), *wt = malloc(sizeof(float) * nw), *b = malloc(sizeof(float) * c.F);
    float *dout = malloc(sizeof(float) * no), *res = malloc(sizeof(float) * per * 3);
    float *work = malloc(sizeof(float) * hp_conv_work_size(&g, c.B, SLOTS));
    if (!CHECK(x && wt && b && dout && res && work, "allocation")) goto done;
    hp_rng r = hp_rng_make(77);
    for (int64_t i = 0; i < nx; i++) x[i] = (float)(2 * hp_rng_uniform(&r) - 1);
    for (int64_t i = 0; i < nw; i++) wt[i] = (float)(2 * hp_rng_uniform(&r) - 1);
    for (int i = 0; i < c.F; i++) b[i] = (float)(2 * hp_rng_uniform(&r) - 1);
    for (int64_t i = 0; i < no; i++) dout[i] = (float)(2 * hp_rng_uniform(&r) - 1);
    int keep = omp_get_max_threads();
    for (int t = 1; t <= 3; t++) {
        omp_set_num_threads(t);
        float *o = res + (t - 1) * per;
        hp_conv_forward_f32(o, x, wt, b, c.B, &g, work, SLOTS);
        hp_conv_backward_f32(o + no, o + no + nx, o + no + nx + nw, dout, x, wt, c.B, &g, work, SLOTS);
    }
    omp_set_num_threads(keep);
    CHECK(memcmp(res, res + per, sizeof(float) * per) == 0, "conv: 1 and 2 threads give identical bits");
    CHECK(memcmp(res, res + 2 * per, sizeof(float) * per) == 0, "conv: 1 and 3 threads give identical bits");
done:
    free(x), free(wt), free(b), free(dout), free(res), free(work);
}

static void geometry(void) {
    hp_conv_geom g;
    CHECK(hp_conv_geom_make(&g, 3, 28, 28, 32, 3, 1, 1) == 0 && g.Ho == 28 && g.Wo == 28, "3x3 pad 1 keeps 28x28");
    CHECK(hp_conv_geom_make(&g, 1, 7, 6, 2, 5, 2, 2) == 0 && g.Ho == 4 && g.Wo == 3, "5x5/2 pad 2 on 7x6 gives 4x3");
    CHECK(hp_conv_geom_make(&g, 1, 3, 3, 2, 3, 1, 0) == 0 && g.Ho == 1 && g.Wo == 1, "3x3 on 3x3 gives 1x1");
    CHECK(hp_conv_geom_make(&g, 1, 4, 4, 2, 5, 1, 0) == -1, "5x5 on an unpadded 4x4 rejected");
    CHECK(hp_conv_geom_make(&g, 1, 4, 9, 2, 7, 1, 1) == -1, "7x7 on 4x9 with padding 1 (6x11) rejected");
    CHECK(hp_conv_geom_make(&g, 1, 4, 4, 2, 3, 0, 0) == -1 && hp_conv_geom_make(&g, 1, 4, 4, 2, 3, 1, -1) == -1,
          "stride 0 and negative padding rejected");
    CHECK(hp_conv_geom_make(&g, 32, 14, 14, 64, 3, 1, 1) == 0 && g.G >= 1 && (int64_t)g.G * 196 <= 1024,
          "block size %d within the column budget", g.G);
}

int main(void) {
    const cfg cases[] = {
        {2, 2, 5, 6, 3, 3, 1, 1, 1}, {2, 3, 6, 5, 2, 3, 2, 0, 1}, {2, 2, 7, 5, 2, 5, 2, 2, 0},
        {3, 2, 4, 3, 3, 1, 1, 0, 1}, {2, 2, 5, 4, 2, 1, 2, 1, 1}, {2, 1, 4, 4, 2, 5, 1, 2, 1},
        {1, 2, 3, 5, 2, 3, 1, 0, 1}, {5, 2, 12, 11, 2, 3, 1, 1, 1}, {2, 3, 5, 7, 4, 3, 2, 2, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) finite_differences(&cases[i], 300 + i);
    pytorch();
    threads();
    geometry();
    return hp_check_summary("test_conv");
}
