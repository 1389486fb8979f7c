/* model_check.c - see model_check.h */
#include "model_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "optim.h"
#include "rng.h"

hp_layer_spec mc_layer(hp_layer_type t) {
    hp_layer_spec l;
    memset(&l, 0, sizeof l);
    l.type = t;
    return l;
}
hp_layer_spec mc_dense(int units) {
    hp_layer_spec l = mc_layer(HP_LAYER_DENSE);
    l.units = units;
    return l;
}
hp_layer_spec mc_conv(int filters, int kernel, int stride, int padding, int bias) {
    hp_layer_spec l = mc_layer(HP_LAYER_CONV);
    l.filters = filters, l.kernel = kernel, l.stride = stride, l.padding = padding;
    l.bias = bias ? HP_BIAS_ON : HP_BIAS_OFF;
    return l;
}
hp_layer_spec mc_pool(hp_layer_type t, int kernel, int stride, int padding) {
    hp_layer_spec l = mc_layer(t);
    l.kernel = kernel, l.stride = stride, l.padding = padding;
    return l;
}
hp_layer_spec mc_add(int from) {
    hp_layer_spec l = mc_layer(HP_LAYER_ADD);
    l.from = from;
    return l;
}
hp_layer_spec mc_dropout(double p) {
    hp_layer_spec l = mc_layer(HP_LAYER_DROPOUT);
    l.p = p;
    return l;
}
hp_model_spec mc_spec(int n, const hp_layer_spec *layers) {
    hp_model_spec s;
    memset(&s, 0, sizeof s);
    s.nlayers = n;
    for (int i = 0; i < n; i++) {
        s.layers[i] = layers[i];
        s.layers[i].line = 100 + i;
    }
    return s;
}

void mc_finite_differences(const char *name, const hp_model_spec *spec, int c, int h, int w, int nclasses, int B,
                           uint64_t seed) {
    hp_err err;
    hp_model64 *m = NULL;
    if (!CHECK(hp_model64_create(spec, c, h, w, nclasses, B, &m, &err) == 0, "%s: %s", name, err.msg)) return;
    hp_model64_init(m, seed);
    int64_t np = hp_model64_param_count(m), dim = (int64_t)c * h * w;
    double *x = calloc((size_t)(B * dim), sizeof(double));
    int32_t *y = calloc((size_t)B, sizeof(int32_t));
    double *g = calloc((size_t)np, sizeof(double)), *num = calloc((size_t)np, sizeof(double));
    if (!CHECK(x && y && g && num, "allocation")) goto done;
    hp_rng r = hp_rng_make(seed + 1);
    for (int64_t i = 0; i < B * dim; i++) x[i] = 2 * hp_rng_uniform(&r) - 1;
    for (int b = 0; b < B; b++) y[b] = (int32_t)hp_rng_below(&r, (uint64_t)nclasses);
    double *p = hp_model64_state(m);
    // every parameter at a generic point: biases (zero at init) and batch-norm affine (1, 0)
    const hp_tensor_info *t;
    int nt = hp_model64_layout(m, &t);
    for (int k = 0; k < nt; k++) {
        if (t[k].is_buffer || t[k].ndim != 1) continue;
        int bnw = strstr(t[k].name, "batchnorm") && strstr(t[k].name, ".weight");
        for (int64_t i = 0; i < t[k].size; i++)
            p[t[k].offset + i] = bnw ? 0.5 + hp_rng_uniform(&r) : 0.2 * (2 * hp_rng_uniform(&r) - 1);
    }
    uint64_t key, step;
    hp_model64_rng_state(m, &key, &step);
    double loss0;
    int64_t correct;
    hp_model64_step(m, x, y, B, &loss0, &correct);
    memcpy(g, hp_model64_grad(m), (size_t)np * sizeof(double));
    const double hstep = 1e-6;
    for (int64_t i = 0; i < np; i++) {
        double keep = p[i], lp, lm;
        p[i] = keep + hstep;
        hp_model64_set_rng_state(m, key, step);
        hp_model64_step(m, x, y, B, &lp, &correct);
        p[i] = keep - hstep;
        hp_model64_set_rng_state(m, key, step);
        hp_model64_step(m, x, y, B, &lm, &correct);
        p[i] = keep;
        num[i] = (lp - lm) / B / (2 * hstep); // the step returns the summed loss; the gradient is of the mean
    }
    char what[160];
    for (int k = 0; k < nt; k++) {
        if (t[k].is_buffer) continue;
        snprintf(what, sizeof what, "%s: d loss / d %s vs finite differences", name, t[k].name);
        CHECK_ALLCLOSE(g + t[k].offset, num + t[k].offset, t[k].size, 1e-8, 1e-5, what);
    }
    double gn = 0;
    for (int64_t i = 0; i < np; i++) gn += g[i] * g[i];
    CHECK(gn > 1e-6, "%s: the gradient is not trivially zero (|g|^2 = %g)", name, gn);
done:
    free(x), free(y), free(g), free(num);
    hp_model64_free(m);
}

/* ---- PyTorch fixture ---------------------------------------------------------------------- */

/* Compare n values of got (float or double) with fixture tensor key. */
static void compare(const hp_fixture *f, const char *key, const float *gf, const double *gd, int64_t n,
                    const char *what) {
    const double *want = hp_fixture_values(f, key, n);
    if (!CHECK(want != NULL, "fixture holds %s with %lld values", key, (long long)n)) return;
    if (gd) {
        CHECK_ALLCLOSE(gd, want, n, 1e-9, 1e-4, what);
        return;
    }
    float *wf = malloc((size_t)n * sizeof(float));
    if (!CHECK(wf != NULL, "allocation")) return;
    for (int64_t i = 0; i < n; i++) wf[i] = (float)want[i];
    CHECK_ALLCLOSEF(gf, wf, n, 2e-5, 1e-3, what);
    free(wf);
}

/* One precision's run; exactly one of the float / double model pointers is set. */
static void run_fixture(const hp_fixture *f, const char *fname, const hp_model_spec *spec, int c, int h, int w,
                        int nclasses, int B, int steps, int dbl) {
    const char *sfx = dbl ? "f64" : "f32";
    hp_err err;
    hp_model *mf = NULL;
    hp_model64 *md = NULL;
    hp_optim *o = NULL;
    int rc = dbl ? hp_model64_create(spec, c, h, w, nclasses, B, &md, &err)
                 : hp_model_create(spec, c, h, w, nclasses, B, &mf, &err);
    if (!CHECK(rc == 0, "%s %s: %s", fname, sfx, err.msg)) return;
    const hp_tensor_info *t;
    int nt = dbl ? hp_model64_layout(md, &t) : hp_model_layout(mf, &t);
    int64_t ns = dbl ? hp_model64_state_size(md) : hp_model_state_size(mf);
    int64_t np = dbl ? hp_model64_param_count(md) : hp_model_param_count(mf);
    int64_t dim = (int64_t)c * h * w;
    float *sf = dbl ? NULL : hp_model_state(mf);
    double *sd = dbl ? hp_model64_state(md) : NULL;
    double *init = malloc((size_t)ns * sizeof(double));
    double *xd = malloc((size_t)(steps + 1) * B * dim * sizeof(double));
    float *xf = malloc((size_t)(steps + 1) * B * dim * sizeof(float));
    int32_t *y = malloc((size_t)(steps + 1) * B * sizeof(int32_t));
    char key[128], what[192];
    if (!CHECK(init && xd && xf && y, "allocation")) goto done;
    // inputs: x, y for the single step; xs, ys for the trajectory
    if (!CHECK(hp_fixture_copyd(f, "x", xd, B * dim) == 0 && hp_fixture_copyi(f, "y", y, B) == 0 &&
                   hp_fixture_copyd(f, "xs", xd + B * dim, steps * B * dim) == 0 &&
                   hp_fixture_copyi(f, "ys", y + B, steps * B) == 0,
               "%s holds x, y, xs, ys of the expected sizes", fname))
        goto done;
    for (int64_t i = 0; i < (steps + 1) * B * dim; i++) xf[i] = (float)xd[i];
    for (int k = 0; k < nt; k++) {
        snprintf(key, sizeof key, "init.%s", t[k].name);
        const double *v = hp_fixture_values(f, key, t[k].size);
        if (!CHECK(v != NULL, "%s holds %s with %lld values", fname, key, (long long)t[k].size)) goto done;
        memcpy(init + t[k].offset, v, (size_t)t[k].size * sizeof(double));
    }
    for (int64_t i = 0; i < ns; i++) {
        if (dbl) sd[i] = init[i];
        else sf[i] = (float)init[i];
    }

    double loss;
    int64_t correct;
    if (dbl) hp_model64_step(md, xd, y, B, &loss, &correct);
    else hp_model_step(mf, xf, y, B, &loss, &correct);
    snprintf(key, sizeof key, "logits.%s", sfx);
    snprintf(what, sizeof what, "%s %s: training-mode logits vs PyTorch", fname, sfx);
    compare(f, key, dbl ? NULL : hp_model_logits(mf), dbl ? hp_model64_logits(md) : NULL, (int64_t)B * nclasses,
            what);
    snprintf(key, sizeof key, "loss.%s", sfx);
    double lm = loss / B;
    snprintf(what, sizeof what, "%s %s: loss vs PyTorch", fname, sfx);
    compare(f, key, NULL, &lm, 1, what);
    for (int k = 0; k < nt; k++) {
        snprintf(key, sizeof key, "%s.%s.%s", t[k].is_buffer ? "after" : "grad", t[k].name, sfx);
        snprintf(what, sizeof what, "%s %s: %s of %s vs PyTorch", fname, sfx,
                 t[k].is_buffer ? "value after the step" : "gradient", t[k].name);
        if (t[k].is_buffer)
            compare(f, key, sf ? sf + t[k].offset : NULL, sd ? sd + t[k].offset : NULL, t[k].size, what);
        else if (dbl)
            compare(f, key, NULL, hp_model64_grad(md) + t[k].offset, t[k].size, what);
        else
            compare(f, key, hp_model_grad(mf) + t[k].offset, NULL, t[k].size, what);
    }
    // evaluation mode after that step: running statistics, and no state change
    if (dbl) hp_model64_eval(md, xd, y, B, &loss, &correct);
    else hp_model_eval(mf, xf, y, B, &loss, &correct);
    snprintf(key, sizeof key, "eval_logits.%s", sfx);
    snprintf(what, sizeof what, "%s %s: evaluation-mode logits vs PyTorch", fname, sfx);
    compare(f, key, dbl ? NULL : hp_model_logits(mf), dbl ? hp_model64_logits(md) : NULL, (int64_t)B * nclasses,
            what);
    snprintf(key, sizeof key, "eval_loss.%s", sfx);
    lm = loss / B;
    snprintf(what, sizeof what, "%s %s: evaluation-mode loss vs PyTorch", fname, sfx);
    compare(f, key, NULL, &lm, 1, what);

    // SGD trajectory from the initial state
    for (int64_t i = 0; i < ns; i++) {
        if (dbl) sd[i] = init[i];
        else sf[i] = (float)init[i];
    }
    hp_optim_spec sgd = {.type = HP_OPTIM_SGD, .lr = 0.1, .momentum = 0.9, .weight_decay = 5e-4};
    rc = dbl ? hp_optim_create64(&sgd, np, &o, &err) : hp_optim_create(&sgd, np, &o, &err);
    if (!CHECK(rc == 0, "%s", err.msg)) goto done;
    snprintf(key, sizeof key, "traj.loss.%s", sfx);
    const double *tl = hp_fixture_values(f, key, steps);
    CHECK(tl != NULL, "%s holds %s", fname, key);
    for (int s = 0; s < steps; s++) {
        const int64_t xo = (int64_t)(s + 1) * B * dim;
        if (dbl) {
            hp_model64_step(md, xd + xo, y + (s + 1) * B, B, &loss, &correct);
            hp_optim_step64(o, sd, hp_model64_grad(md), sgd.lr);
        } else {
            hp_model_step(mf, xf + xo, y + (s + 1) * B, B, &loss, &correct);
            hp_optim_step(o, sf, hp_model_grad(mf), sgd.lr);
        }
        if (tl) {
            snprintf(what, sizeof what, "%s %s: SGD step %d loss vs PyTorch", fname, sfx, s + 1);
            CHECK_CLOSE(loss / B, tl[s], 1e-6, dbl ? 1e-4 : 1e-3, what);
        }
        for (int k = 0; k < nt; k++) {
            snprintf(key, sizeof key, "traj.%s.%s", t[k].name, sfx);
            const hp_fixture_tensor *ft = hp_fixture_find(f, key);
            if (!CHECK(ft && ft->size == (int64_t)steps * t[k].size, "%s holds %s", fname, key)) continue;
            snprintf(what, sizeof what, "%s %s: SGD step %d, %s vs PyTorch", fname, sfx, s + 1, t[k].name);
            const double *want = ft->v + (int64_t)s * t[k].size;
            if (dbl) {
                CHECK_ALLCLOSE(sd + t[k].offset, want, t[k].size, 1e-9, 1e-4, what);
            } else {
                float *wf = malloc((size_t)t[k].size * sizeof(float));
                if (!CHECK(wf != NULL, "allocation")) continue;
                for (int64_t i = 0; i < t[k].size; i++) wf[i] = (float)want[i];
                CHECK_ALLCLOSEF(sf + t[k].offset, wf, t[k].size, 2e-5, 1e-3, what);
                free(wf);
            }
        }
    }
done:
    free(init), free(xd), free(xf), free(y);
    hp_optim_free(o);
    hp_model_free(mf);
    hp_model64_free(md);
}

void mc_pytorch_fixture(const char *fname, const hp_model_spec *spec, int c, int h, int w, int nclasses, int B,
                        int steps) {
    hp_fixture f;
    char err[512];
    if (!CHECK(hp_fixture_load(fname, &f, err, sizeof err) == 0, "%s", err)) return;
    run_fixture(&f, fname, spec, c, h, w, nclasses, B, steps, 1);
    run_fixture(&f, fname, spec, c, h, w, nclasses, B, steps, 0);
    hp_fixture_free(&f);
}
