/* test_mlp.c - whole models (model.h) and SGD (optim.h) on a small MLP:
 *   1. central finite differences in double of d(mean loss)/d(every parameter) for MLPs with
 *      fused and standalone ReLUs;
 *   2. PyTorch fixture (tests/fixtures/mlp.txt), MLP 20-16-12-5 at batch 8: logits, loss and
 *      every gradient in double (rtol 1e-4) and float (rtol 1e-3);
 *   3. 10 steps of SGD (lr 0.1, momentum 0.9, weight decay 5e-4) compared parameter by
 *      parameter with PyTorch's trajectory after every step, in float and in double. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "model.h"
#include "optim.h"
#include "rng.h"

static hp_model_spec make_spec(int n, const hp_layer_type *types, const int *units) {
    hp_model_spec s;
    memset(&s, 0, sizeof s);
    s.nlayers = n;
    for (int i = 0; i < n; i++) {
        s.layers[i].type = types[i];
        s.layers[i].units = units[i];
        s.layers[i].line = i + 1;
    }
    return s;
}

/* ---- 1. finite differences ---------------------------------------------------------------- */

static void finite_differences(const char *name, const hp_model_spec *spec, int in_dim, int nclasses, int B,
                               uint64_t seed) {
    hp_err err;
    hp_model64 *m = NULL;
    if (!CHECK(hp_model64_create(spec, 1, 1, in_dim, nclasses, B, &m, &err) == 0, "%s: %s", name, err.msg))
        return;
    hp_model64_init(m, seed);
    int64_t np = hp_model64_param_count(m);
    double *x = calloc((size_t)B * in_dim, sizeof(double));
    int32_t *y = calloc((size_t)B, sizeof(int32_t));
    double *g = calloc((size_t)np, sizeof(double)), *num = calloc((size_t)np, sizeof(double));
    if (!CHECK(x && y && g && num, "allocation")) goto done;
    hp_rng r = hp_rng_make(seed + 1);
    for (int i = 0; i < B * in_dim; i++) x[i] = 2 * hp_rng_uniform(&r) - 1;
    for (int b = 0; b < B; b++) y[b] = (int32_t)hp_rng_below(&r, (uint64_t)nclasses);
    double *p = hp_model64_state(m);
    // random (not zero) biases, so their gradients are checked at a generic point
    const hp_tensor_info *t;
    int nt = hp_model64_layout(m, &t);
    for (int k = 0; k < nt; k++)
        if (t[k].ndim == 1)
            for (int64_t i = 0; i < t[k].size; i++) p[t[k].offset + i] = 0.2 * (2 * hp_rng_uniform(&r) - 1);

    double loss0;
    int64_t correct;
    hp_model64_step(m, x, y, B, &loss0, &correct);
    memcpy(g, hp_model64_grad(m), (size_t)np * sizeof(double));
    const double h = 1e-6;
    for (int64_t i = 0; i < np; i++) {
        double keep = p[i], lp, lm;
        p[i] = keep + h;
        hp_model64_eval(m, x, y, B, &lp, &correct);
        p[i] = keep - h;
        hp_model64_eval(m, x, y, B, &lm, &correct);
        p[i] = keep;
        num[i] = (lp - lm) / B / (2 * h); // eval returns the summed loss; the gradient is of the mean
    }
    char what[128];
    for (int k = 0; k < nt; k++) {
        snprintf(what, sizeof what, "%s: d loss / d %s vs finite differences", name, t[k].name);
        CHECK_ALLCLOSE(g + t[k].offset, num + t[k].offset, t[k].size, 1e-8, 1e-6, what);
    }
    double gn = 0;
    for (int64_t i = 0; i < np; i++) gn += g[i] * g[i];
    CHECK(gn > 1e-6, "%s: the gradient is not trivially zero (|g|^2 = %g)", name, gn);
done:
    free(x), free(y), free(g), free(num);
    hp_model64_free(m);
}

/* ---- 2. and 3. PyTorch fixture ------------------------------------------------------------ */

enum { B = 8, IN = 20, NC = 5, STEPS = 10 };

/* Load init.<tensor name> for every tensor of the layout into state (float or double). */
static int load_init(const hp_fixture *f, const hp_tensor_info *t, int nt, float *sf, double *sd) {
    char key[96];
    for (int k = 0; k < nt; k++) {
        snprintf(key, sizeof key, "init.%s", t[k].name);
        const hp_fixture_tensor *ft = hp_fixture_find(f, key);
        if (!CHECK(ft && ft->size == t[k].size && ft->ndim == t[k].ndim && ft->shape[0] == t[k].shape[0],
                   "mlp.txt: %s matches the layout's shape", key))
            return -1;
        for (int64_t i = 0; i < t[k].size; i++) {
            if (sf) sf[t[k].offset + i] = (float)ft->v[i];
            if (sd) sd[t[k].offset + i] = ft->v[i];
        }
    }
    return 0;
}

static void check_grads(const hp_fixture *f, const hp_tensor_info *t, int nt, const float *gf,
                        const double *gd, const char *sfx) {
    char key[96], what[128];
    for (int k = 0; k < nt; k++) {
        snprintf(key, sizeof key, "grad.%s.%s", t[k].name, sfx);
        const double *want = hp_fixture_values(f, key, t[k].size);
        if (!CHECK(want != NULL, "mlp.txt holds %s", key)) continue;
        snprintf(what, sizeof what, "MLP %s: gradient of %s vs PyTorch", sfx, t[k].name);
        if (gd) {
            CHECK_ALLCLOSE(gd + t[k].offset, want, t[k].size, 1e-10, 1e-4, what);
        } else {
            float *wf = malloc((size_t)t[k].size * sizeof(float));
            if (!CHECK(wf != NULL, "allocation")) continue;
            for (int64_t i = 0; i < t[k].size; i++) wf[i] = (float)want[i];
            CHECK_ALLCLOSEF(gf + t[k].offset, wf, t[k].size, 1e-5, 1e-3, what);
            free(wf);
        }
    }
}

/* Parameters after step s vs traj.<name>.<sfx>[s]. */
static void check_traj(const hp_fixture *f, const hp_tensor_info *t, int nt, const float *pf,
                       const double *pd, const char *sfx, int s) {
    char key[96], what[128];
    for (int k = 0; k < nt; k++) {
        snprintf(key, sizeof key, "traj.%s.%s", t[k].name, sfx);
        const double *all = hp_fixture_values(f, key, STEPS * t[k].size);
        if (!CHECK(all != NULL, "mlp.txt holds %s", key)) continue;
        const double *want = all + (int64_t)s * t[k].size;
        snprintf(what, sizeof what, "SGD %s step %d: %s vs PyTorch", sfx, s + 1, t[k].name);
        if (pd) {
            CHECK_ALLCLOSE(pd + t[k].offset, want, t[k].size, 1e-10, 1e-4, what);
        } else {
            float *wf = malloc((size_t)t[k].size * sizeof(float));
            if (!CHECK(wf != NULL, "allocation")) continue;
            for (int64_t i = 0; i < t[k].size; i++) wf[i] = (float)want[i];
            CHECK_ALLCLOSEF(pf + t[k].offset, wf, t[k].size, 1e-5, 1e-3, what);
            free(wf);
        }
    }
}

static const hp_optim_spec sgd = {.type = HP_OPTIM_SGD, .lr = 0.1, .momentum = 0.9, .weight_decay = 5e-4};

static void pytorch_double(const hp_fixture *f, const hp_model_spec *spec) {
    hp_err err;
    hp_model64 *m = NULL;
    hp_optim *o = NULL;
    if (!CHECK(hp_model64_create(spec, 1, 1, IN, NC, B, &m, &err) == 0, "%s", err.msg)) return;
    const hp_tensor_info *t;
    int nt = hp_model64_layout(m, &t);
    double x[B * IN], xs[STEPS * B * IN], logits[B * NC];
    int32_t y[B], ys[STEPS * B];
    if (!CHECK(hp_fixture_copyd(f, "x", x, B * IN) == 0 && hp_fixture_copyi(f, "y", y, B) == 0 &&
                   hp_fixture_copyd(f, "xs", xs, STEPS * B * IN) == 0 &&
                   hp_fixture_copyi(f, "ys", ys, STEPS * B) == 0 &&
                   hp_fixture_copyd(f, "logits.f64", logits, B * NC) == 0,
               "mlp.txt holds the inputs") ||
        load_init(f, t, nt, NULL, hp_model64_state(m)) != 0)
        goto done;
    double loss;
    int64_t correct;
    hp_model64_step(m, x, y, B, &loss, &correct);
    CHECK_ALLCLOSE(hp_model64_logits(m), logits, B * NC, 1e-10, 1e-4, "MLP f64: logits vs PyTorch");
    const double *wl = hp_fixture_values(f, "loss.f64", 1);
    if (CHECK(wl != NULL, "mlp.txt holds loss.f64"))
        CHECK_CLOSE(loss / B, wl[0], 1e-10, 1e-4, "MLP f64: loss vs PyTorch");
    check_grads(f, t, nt, NULL, hp_model64_grad(m), "f64");

    if (!CHECK(hp_optim_create64(&sgd, hp_model64_param_count(m), &o, &err) == 0, "%s", err.msg)) goto done;
    const double *wtl = hp_fixture_values(f, "traj.loss.f64", STEPS);
    for (int s = 0; s < STEPS; s++) {
        hp_model64_step(m, xs + s * B * IN, ys + s * B, B, &loss, &correct);
        if (wtl) CHECK_CLOSE(loss / B, wtl[s], 1e-10, 1e-4, "SGD f64: loss before the step vs PyTorch");
        hp_optim_step64(o, hp_model64_state(m), hp_model64_grad(m), sgd.lr);
        check_traj(f, t, nt, NULL, hp_model64_state(m), "f64", s);
    }
done:
    hp_optim_free(o);
    hp_model64_free(m);
}

static void pytorch_float(const hp_fixture *f, const hp_model_spec *spec) {
    hp_err err;
    hp_model *m = NULL;
    hp_optim *o = NULL;
    if (!CHECK(hp_model_create(spec, 1, 1, IN, NC, B, &m, &err) == 0, "%s", err.msg)) return;
    const hp_tensor_info *t;
    int nt = hp_model_layout(m, &t);
    float x[B * IN], xs[STEPS * B * IN], logits[B * NC];
    int32_t y[B], ys[STEPS * B];
    if (!CHECK(hp_fixture_copyf(f, "x", x, B * IN) == 0 && hp_fixture_copyi(f, "y", y, B) == 0 &&
                   hp_fixture_copyf(f, "xs", xs, STEPS * B * IN) == 0 &&
                   hp_fixture_copyi(f, "ys", ys, STEPS * B) == 0 &&
                   hp_fixture_copyf(f, "logits.f32", logits, B * NC) == 0,
               "mlp.txt holds the inputs") ||
        load_init(f, t, nt, hp_model_state(m), NULL) != 0)
        goto done;
    double loss;
    int64_t correct;
    hp_model_step(m, x, y, B, &loss, &correct);
    CHECK_ALLCLOSEF(hp_model_logits(m), logits, B * NC, 1e-5, 1e-3, "MLP f32: logits vs PyTorch");
    const double *wl = hp_fixture_values(f, "loss.f32", 1);
    if (CHECK(wl != NULL, "mlp.txt holds loss.f32"))
        CHECK_CLOSE(loss / B, wl[0], 1e-5, 1e-3, "MLP f32: loss vs PyTorch");
    check_grads(f, t, nt, hp_model_grad(m), NULL, "f32");

    if (!CHECK(hp_optim_create(&sgd, hp_model_param_count(m), &o, &err) == 0, "%s", err.msg)) goto done;
    const double *wtl = hp_fixture_values(f, "traj.loss.f32", STEPS);
    for (int s = 0; s < STEPS; s++) {
        hp_model_step(m, xs + s * B * IN, ys + s * B, B, &loss, &correct);
        if (wtl) CHECK_CLOSE(loss / B, wtl[s], 1e-5, 1e-3, "SGD f32: loss before the step vs PyTorch");
        hp_optim_step(o, hp_model_state(m), hp_model_grad(m), sgd.lr);
        check_traj(f, t, nt, hp_model_state(m), NULL, "f32", s);
    }
    CHECK(hp_optim_steps(o) == STEPS, "optimizer counted %lld steps", (long long)hp_optim_steps(o));
done:
    hp_optim_free(o);
    hp_model_free(m);
}

int main(void) {
    const hp_layer_type D = HP_LAYER_DENSE, R = HP_LAYER_RELU;
    {
        hp_layer_type ty[] = {D, R, D, R, D};
        int un[] = {6, 0, 5, 0, 3};
        hp_model_spec s = make_spec(5, ty, un);
        finite_differences("MLP 4-6-5-3 (fused ReLUs)", &s, 4, 3, 5, 41);
    }
    {
        // a ReLU first (no parameters below it), a standalone ReLU after a fused one
        hp_layer_type ty[] = {R, D, R, R, D, D};
        int un[] = {0, 7, 0, 0, 4, 3};
        hp_model_spec s = make_spec(6, ty, un);
        finite_differences("MLP relu-7-relu-relu-4-3", &s, 5, 3, 4, 42);
    }
    {
        hp_layer_type ty[] = {D};
        int un[] = {4};
        hp_model_spec s = make_spec(1, ty, un);
        finite_differences("linear model 6-4", &s, 6, 4, 3, 43);
    }

    hp_layer_type ty[] = {D, R, D, R, D};
    int un[] = {16, 0, 12, 0, NC};
    hp_model_spec spec = make_spec(5, ty, un);
    hp_fixture f;
    char err[512];
    if (CHECK(hp_fixture_load("mlp.txt", &f, err, sizeof err) == 0, "%s", err)) {
        pytorch_double(&f, &spec);
        pytorch_float(&f, &spec);
        hp_fixture_free(&f);
    }
    return hp_check_summary("test_mlp");
}
