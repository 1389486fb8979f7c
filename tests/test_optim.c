/* test_optim.c - the optimizers of optim.h against torch.optim.
 *  - SGD against torch.optim.SGD (tests/fixtures/optim.txt, 4 fixed gradients): plain, weight
 *    decay, momentum, Nesterov, in double and float;
 *  - every optimizer (SGD, Adam, AdamW, RMSProp with and without momentum, AdaGrad), with and
 *    without weight decay: 10 steps on a small least-squares problem against torch float64
 *    (rtol 1e-10) and float32 (rtol 1e-5) trajectories (tests/fixtures/optim_traj.txt, made by
 *    gen_optim_sched.py);
 *  - the flat state: its documented layout, and 2N steps straight equal N steps, save, restore
 *    into a fresh optimizer, N more, bit for bit, for every type;
 *  - PyTorch's defaults, and invalid specs rejected with one line naming field, value, range. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "optim.h"

enum { N = 9, STEPS = 4 };

static void run_config(const hp_fixture *f, const char *name, hp_optim_spec spec) {
    char key[64], what[128];
    snprintf(key, sizeof key, "traj.%s.f64", name);
    double p0[N], grads[STEPS * N];
    const double *want = hp_fixture_values(f, key, STEPS * N);
    if (!CHECK(want && hp_fixture_copyd(f, "p0", p0, N) == 0 &&
                   hp_fixture_copyd(f, "grads", grads, STEPS * N) == 0,
               "optim.txt holds %s", key))
        return;
    hp_err err;
    hp_optim *o = NULL, *of = NULL;
    if (!CHECK(hp_optim_create64(&spec, N, &o, &err) == 0 && hp_optim_create(&spec, N, &of, &err) == 0,
               "%s: %s", name, err.msg))
        goto done;
    double p[N];
    float pf[N], gf[N], wf[N];
    memcpy(p, p0, sizeof p);
    for (int i = 0; i < N; i++) pf[i] = (float)p0[i];
    for (int s = 0; s < STEPS; s++) {
        hp_optim_step64(o, p, grads + s * N, spec.lr);
        for (int i = 0; i < N; i++) gf[i] = (float)grads[s * N + i];
        hp_optim_step(of, pf, gf, spec.lr);
        snprintf(what, sizeof what, "SGD %s f64, step %d vs torch.optim.SGD", name, s + 1);
        CHECK_ALLCLOSE(p, want + s * N, N, 1e-12, 1e-10, what);
        for (int i = 0; i < N; i++) wf[i] = (float)want[s * N + i];
        snprintf(what, sizeof what, "SGD %s f32, step %d vs torch.optim.SGD", name, s + 1);
        CHECK_ALLCLOSEF(pf, wf, N, 1e-6, 1e-5, what);
    }
done:
    hp_optim_free(o);
    hp_optim_free(of);
}

/* Two steps, save the flat state, restore it into a fresh optimizer, two more steps: the
 * parameters must equal four uninterrupted steps bit for bit. */
static void checkpoint_roundtrip(void) {
    hp_optim_spec spec = {
        .type = HP_OPTIM_SGD, .lr = 0.05, .momentum = 0.9, .nesterov = 1, .weight_decay = 1e-3};
    hp_err err;
    hp_optim *a = NULL, *b = NULL;
    if (!CHECK(hp_optim_create(&spec, N, &a, &err) == 0 && hp_optim_create(&spec, N, &b, &err) == 0, "%s",
               err.msg))
        goto done;
    CHECK(hp_optim_state_size(a) == N + 2, "state holds momentum and the 2-float step count (%lld floats)",
          (long long)hp_optim_state_size(a));
    float pa[N], pb[N], g[4][N];
    for (int i = 0; i < N; i++) {
        pa[i] = pb[i] = (float)(0.1 * i - 0.3);
        for (int s = 0; s < 4; s++) g[s][i] = (float)sin(1.0 + i + 3 * s);
    }
    for (int s = 0; s < 4; s++) hp_optim_step(a, pa, g[s], spec.lr);
    hp_optim *c = NULL;
    if (!CHECK(hp_optim_create(&spec, N, &c, &err) == 0, "%s", err.msg)) goto done;
    for (int s = 0; s < 2; s++) hp_optim_step(c, pb, g[s], spec.lr);
    memcpy(hp_optim_state(b), hp_optim_state(c), sizeof(float) * (size_t)hp_optim_state_size(c));
    hp_optim_free(c);
    for (int s = 2; s < 4; s++) hp_optim_step(b, pb, g[s], spec.lr);
    CHECK_ALLCLOSEF(pb, pa, N, 0, 0, "SGD resumed from its flat state equals the uninterrupted run");
    // Without momentum the state is just the step count.
    hp_optim_spec plain = {.type = HP_OPTIM_SGD, .lr = 0.1, .momentum = 0, .nesterov = 0, .weight_decay = 0};
    hp_optim *d = NULL;
    if (CHECK(hp_optim_create(&plain, N, &d, &err) == 0, "%s", err.msg))
        CHECK(hp_optim_state_size(d) == 2, "momentum 0 keeps no buffer");
    hp_optim_free(d);
done:
    hp_optim_free(a);
    hp_optim_free(b);
}

static void bad_specs(void) {
    struct {
        hp_optim_spec s;
        const char *needle;
    } cases[] = {
        {{.type = HP_OPTIM_SGD, .lr = 0, .momentum = 0.9, .nesterov = 0, .weight_decay = 0}, "lr 0"},
        {{.type = HP_OPTIM_SGD, .lr = NAN, .momentum = 0.9, .nesterov = 0, .weight_decay = 0}, "lr nan"},
        {{.type = HP_OPTIM_SGD, .lr = 0.1, .momentum = 1.0, .nesterov = 0, .weight_decay = 0}, "momentum 1"},
        {{.type = HP_OPTIM_SGD, .lr = 0.1, .momentum = -0.1, .nesterov = 0, .weight_decay = 0},
         "momentum -0.1"},
        {{.type = HP_OPTIM_SGD, .lr = 0.1, .momentum = 0.9, .nesterov = 0, .weight_decay = -1e-4},
         "weight_decay -0.0001"},
        {{.type = HP_OPTIM_SGD, .lr = 0.1, .momentum = 0, .nesterov = 1, .weight_decay = 0},
         "nesterov needs momentum"},
        {{.type = HP_OPTIM_COUNT_, .lr = 0.1, .momentum = 0, .nesterov = 0, .weight_decay = 0},
         "valid types: sgd, adam, adamw, rmsprop, adagrad"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hp_err err = {{0}};
        hp_optim *o = NULL;
        int rc = hp_optim_create(&cases[i].s, N, &o, &err);
        CHECK(rc == -1 && o == NULL, "bad spec %zu rejected", i);
        CHECK(strstr(err.msg, cases[i].needle) != NULL, "message '%s' names '%s'", err.msg, cases[i].needle);
    }
    const char *names[] = {"sgd", "adam", "adamw", "rmsprop", "adagrad"};
    for (int t = 0; t < HP_OPTIM_COUNT_; t++)
        CHECK(hp_optim_type_parse(names[t]) == t && strcmp(hp_optim_type_name((hp_optim_type)t), names[t]) == 0,
              "optimizer %d is called '%s' both ways", t, names[t]);
    CHECK(hp_optim_type_parse("Adam") == -1 && hp_optim_type_parse("lamb") == -1 && hp_optim_type_parse(NULL) == -1,
          "unknown optimizer names are refused");
}

/* ---- every optimizer, 10 steps on f(p) = 0.5 p^T H p - b^T p (optim_traj.txt) ---- */

enum { TN = 7, TSTEPS = 10, CFG_LEN = 9 };

/* cfg.NAME = type lr momentum nesterov weight_decay beta1 beta2 eps alpha (PyTorch's values) */
static hp_optim_spec spec_from_cfg(const double *c) {
    return (hp_optim_spec){.type = (hp_optim_type)c[0], .lr = c[1], .momentum = c[2], .nesterov = (int)c[3],
                           .weight_decay = c[4], .beta1 = c[5], .beta2 = c[6], .eps = c[7], .alpha = c[8]};
}

/* grad [TN] = H [TN,TN] @ p - b in double, as the generator computes it. */
static void quad_grad(double *grad, const double *H, const double *b, const double *p) {
    for (int i = 0; i < TN; i++) {
        double s = 0;
        for (int j = 0; j < TN; j++) s += H[i * TN + j] * p[j];
        grad[i] = s - b[i];
    }
}

static void run_traj(const hp_fixture *f, const char *name, const double *cfg, const double *H, const double *b,
                     const double *p0) {
    char key64[96], key32[96], what[160];
    snprintf(key64, sizeof key64, "traj.%s.f64", name);
    snprintf(key32, sizeof key32, "traj.%s.f32", name);
    const double *want64 = hp_fixture_values(f, key64, TSTEPS * TN);
    const double *want32 = hp_fixture_values(f, key32, TSTEPS * TN);
    if (!CHECK(want64 && want32, "optim_traj.txt holds %s and %s", key64, key32)) return;
    hp_optim_spec spec = spec_from_cfg(cfg);
    const char *tname = hp_optim_type_name(spec.type);
    hp_err err = {{0}};
    hp_optim *o64 = NULL, *o32 = NULL, *omix = NULL;
    if (!CHECK(hp_optim_create64(&spec, TN, &o64, &err) == 0 && hp_optim_create(&spec, TN, &o32, &err) == 0 &&
                   hp_optim_create(&spec, TN, &omix, &err) == 0,
               "%s: %s", name, err.msg))
        goto done;
    double p[TN], pm[TN], g[TN], pd[TN];
    float pf[TN], gf[TN], wf[TN];
    for (int i = 0; i < TN; i++) p[i] = pm[i] = p0[i], pf[i] = (float)p0[i];
    for (int s = 0; s < TSTEPS; s++) {
        quad_grad(g, H, b, p); // double run
        hp_optim_step64(o64, p, g, spec.lr);
        snprintf(what, sizeof what, "%s (%s) f64 step %d vs torch float64", name, tname, s + 1);
        CHECK_ALLCLOSE(p, want64 + s * TN, TN, 1e-13, 1e-10, what);
        quad_grad(g, H, b, pm); // double parameters over float moments
        hp_optim_step64(omix, pm, g, spec.lr);
        snprintf(what, sizeof what, "%s (%s) f64 params, f32 moments, step %d vs torch float64", name, tname, s + 1);
        CHECK_ALLCLOSE(pm, want64 + s * TN, TN, 1e-6, 1e-5, what);
        for (int i = 0; i < TN; i++) pd[i] = pf[i]; // float run: float64 gradient rounded to float
        quad_grad(g, H, b, pd);
        for (int i = 0; i < TN; i++) gf[i] = (float)g[i];
        hp_optim_step(o32, pf, gf, spec.lr);
        for (int i = 0; i < TN; i++) wf[i] = (float)want32[s * TN + i];
        snprintf(what, sizeof what, "%s (%s) f32 step %d vs torch float32", name, tname, s + 1);
        CHECK_ALLCLOSEF(pf, wf, TN, 1e-6, 1e-5, what);
    }
    CHECK(hp_optim_steps(o64) == TSTEPS && hp_optim_steps(o32) == TSTEPS, "%s counted %lld and %lld steps", name,
          (long long)hp_optim_steps(o64), (long long)hp_optim_steps(o32));
done:
    hp_optim_free(o64);
    hp_optim_free(o32);
    hp_optim_free(omix);
}

/* Runs every cfg.* of the fixture; each type must appear with and without weight decay. */
static void trajectories(void) {
    hp_fixture f;
    char errbuf[512];
    if (!CHECK(hp_fixture_load("optim_traj.txt", &f, errbuf, sizeof errbuf) == 0, "%s", errbuf)) return;
    double H[TN * TN], b[TN], p0[TN];
    int seen[HP_OPTIM_COUNT_][2] = {{0}}, nconfigs = 0;
    if (!CHECK(hp_fixture_copyd(&f, "H", H, TN * TN) == 0 && hp_fixture_copyd(&f, "b", b, TN) == 0 &&
                   hp_fixture_copyd(&f, "p0", p0, TN) == 0,
               "optim_traj.txt holds H [7,7], b [7], p0 [7]"))
        goto done;
    for (int i = 0; i < f.n; i++) {
        const hp_fixture_tensor *t = &f.t[i];
        if (strncmp(t->name, "cfg.", 4) != 0) continue;
        if (!CHECK(t->size == CFG_LEN && t->v[0] >= 0 && t->v[0] < HP_OPTIM_COUNT_, "%s is a valid config", t->name))
            continue;
        run_traj(&f, t->name + 4, t->v, H, b, p0);
        seen[(int)t->v[0]][t->v[4] > 0]++;
        nconfigs++;
    }
    CHECK(nconfigs == 14, "optim_traj.txt holds the 14 configurations (found %d)", nconfigs);
    for (int t = 0; t < HP_OPTIM_COUNT_; t++)
        CHECK(seen[t][0] && seen[t][1], "%s is tested with and without weight decay",
              hp_optim_type_name((hp_optim_type)t));
done:
    hp_fixture_free(&f);
}

/* The documented layout: after one Adam step from zero moments, m1 = (1 - b1) g and
 * m2 = (1 - b2) g^2 in blocks [0, n) and [n, 2n), then the step count (lo 1, hi 0). */
static void state_layout(void) {
    hp_optim_spec spec = {.type = HP_OPTIM_ADAM, .lr = 0.01, .weight_decay = 0};
    hp_optim_spec_defaults(&spec);
    hp_err err = {{0}};
    hp_optim *o = NULL;
    if (!CHECK(hp_optim_create(&spec, N, &o, &err) == 0, "%s", err.msg)) return;
    CHECK(hp_optim_state_size(o) == 2 * N + 2, "Adam state: m1, m2, step count (%lld floats)",
          (long long)hp_optim_state_size(o));
    float p[N], g[N], m1[N], m2[N];
    for (int i = 0; i < N; i++) {
        p[i] = 0.5f;
        g[i] = (float)(0.25 * (i - 4));
        m1[i] = (float)(1.0 - spec.beta1) * g[i];
        m2[i] = (float)(1.0 - spec.beta2) * g[i] * g[i];
    }
    hp_optim_step(o, p, g, spec.lr);
    const float *st = hp_optim_state(o);
    CHECK_ALLCLOSEF(st, m1, N, 0, 1e-7, "state [0, n) is Adam's first moment");
    CHECK_ALLCLOSEF(st + N, m2, N, 0, 1e-7, "state [n, 2n) is Adam's second moment");
    CHECK(st[2 * N] == 1.0f && st[2 * N + 1] == 0.0f, "the step count follows the moments (%g, %g)",
          (double)st[2 * N], (double)st[2 * N + 1]);
    // A count past 2^24 is exact: lo + 2^24 hi.
    hp_optim_state(o)[2 * N] = 5.0f;
    hp_optim_state(o)[2 * N + 1] = 3.0f;
    CHECK(hp_optim_steps(o) == 5 + 3 * 16777216LL, "steps = lo + 2^24 hi (%lld)", (long long)hp_optim_steps(o));
    // ... and a step carries from lo into hi.
    hp_optim_state(o)[2 * N] = 16777215.0f;
    hp_optim_state(o)[2 * N + 1] = 0.0f;
    hp_optim_step(o, p, g, spec.lr);
    CHECK(st[2 * N] == 0.0f && st[2 * N + 1] == 1.0f && hp_optim_steps(o) == 16777216LL,
          "step 2^24 carries into hi (lo %g, hi %g)", (double)st[2 * N], (double)st[2 * N + 1]);
    hp_optim_free(o);
    struct {
        hp_optim_spec s;
        int64_t size;
    } sizes[] = {
        {{.type = HP_OPTIM_RMSPROP, .lr = 0.01, .alpha = 0.99, .eps = 1e-8}, N + 2},
        {{.type = HP_OPTIM_RMSPROP, .lr = 0.01, .momentum = 0.9, .alpha = 0.99, .eps = 1e-8}, 2 * N + 2},
        {{.type = HP_OPTIM_ADAGRAD, .lr = 0.01, .eps = 1e-10}, N + 2},
        {{.type = HP_OPTIM_ADAMW, .lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8}, 2 * N + 2},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (!CHECK(hp_optim_create(&sizes[i].s, N, &o, &err) == 0, "%s", err.msg)) continue;
        CHECK(hp_optim_state_size(o) == sizes[i].size, "%s (momentum %g) state holds %lld floats, want %lld",
              hp_optim_type_name(sizes[i].s.type), sizes[i].s.momentum, (long long)hp_optim_state_size(o),
              (long long)sizes[i].size);
        hp_optim_free(o);
    }
}

/* For every type: 2K steps straight against K steps, save the flat state, restore it into a
 * fresh optimizer, K more steps: identical parameters, bit for bit, and the same step count. */
static void resume_every_type(void) {
    enum { K = 5 };
    const hp_optim_spec specs[] = {
        {.type = HP_OPTIM_SGD, .lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3},
        {.type = HP_OPTIM_ADAM, .lr = 0.01, .weight_decay = 1e-2, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8},
        {.type = HP_OPTIM_ADAMW, .lr = 0.01, .weight_decay = 0.1, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-8},
        {.type = HP_OPTIM_RMSPROP, .lr = 0.01, .momentum = 0.5, .weight_decay = 1e-3, .alpha = 0.9, .eps = 1e-8},
        {.type = HP_OPTIM_RMSPROP, .lr = 0.01, .alpha = 0.99, .eps = 1e-8},
        {.type = HP_OPTIM_ADAGRAD, .lr = 0.1, .weight_decay = 1e-3, .eps = 1e-10},
    };
    float g[2 * K][N];
    for (int s = 0; s < 2 * K; s++)
        for (int i = 0; i < N; i++) g[s][i] = (float)sin(0.7 + 1.3 * i + 2.1 * s);
    for (size_t c = 0; c < sizeof specs / sizeof specs[0]; c++) {
        const hp_optim_spec *sp = &specs[c];
        hp_err err = {{0}};
        hp_optim *a = NULL, *first = NULL, *second = NULL;
        if (!CHECK(hp_optim_create(sp, N, &a, &err) == 0 && hp_optim_create(sp, N, &first, &err) == 0 &&
                       hp_optim_create(sp, N, &second, &err) == 0,
                   "%s", err.msg))
            goto next;
        float pa[N], pb[N];
        for (int i = 0; i < N; i++) pa[i] = pb[i] = (float)(0.1 * i - 0.3);
        for (int s = 0; s < 2 * K; s++) hp_optim_step(a, pa, g[s], sp->lr);
        for (int s = 0; s < K; s++) hp_optim_step(first, pb, g[s], sp->lr);
        memcpy(hp_optim_state(second), hp_optim_state(first), sizeof(float) * (size_t)hp_optim_state_size(first));
        hp_optim_free(first);
        first = NULL;
        CHECK(hp_optim_steps(second) == K, "%s: the restored state carries the step count (%lld)",
              hp_optim_type_name(sp->type), (long long)hp_optim_steps(second));
        for (int s = K; s < 2 * K; s++) hp_optim_step(second, pb, g[s], sp->lr);
        CHECK(memcmp(pa, pb, sizeof pa) == 0,
              "%s (momentum %g): %d + restore + %d steps equal %d straight, bit for bit",
              hp_optim_type_name(sp->type), sp->momentum, K, K, 2 * K);
        CHECK(memcmp(hp_optim_state(a), hp_optim_state(second), sizeof(float) * (size_t)hp_optim_state_size(a)) == 0,
              "%s: the final states are identical too", hp_optim_type_name(sp->type));
    next:
        hp_optim_free(a);
        hp_optim_free(first);
        hp_optim_free(second);
    }
}

/* hp_optim_spec_defaults fills PyTorch's values into zero fields only, per type. */
static void defaults(void) {
    hp_optim_spec a = {.type = HP_OPTIM_ADAM, .lr = 1e-3};
    hp_optim_spec_defaults(&a);
    CHECK(a.beta1 == 0.9 && a.beta2 == 0.999 && a.eps == 1e-8 && a.alpha == 0 && a.momentum == 0,
          "adam defaults: betas (0.9, 0.999), eps 1e-8");
    hp_optim_spec w = {.type = HP_OPTIM_ADAMW, .lr = 1e-3, .beta2 = 0.95};
    hp_optim_spec_defaults(&w);
    CHECK(w.beta1 == 0.9 && w.beta2 == 0.95 && w.eps == 1e-8 && w.weight_decay == 0,
          "adamw defaults keep a given beta2 (0.95) and leave weight_decay alone");
    hp_optim_spec r = {.type = HP_OPTIM_RMSPROP, .lr = 1e-2};
    hp_optim_spec_defaults(&r);
    CHECK(r.alpha == 0.99 && r.eps == 1e-8 && r.beta1 == 0 && r.beta2 == 0, "rmsprop defaults: alpha 0.99, eps 1e-8");
    hp_optim_spec g = {.type = HP_OPTIM_ADAGRAD, .lr = 1e-2};
    hp_optim_spec_defaults(&g);
    CHECK(g.eps == 1e-10 && g.alpha == 0, "adagrad defaults: eps 1e-10");
    hp_optim_spec s = {.type = HP_OPTIM_SGD, .lr = 1e-2};
    hp_optim_spec_defaults(&s);
    CHECK(s.eps == 0 && s.beta1 == 0 && s.alpha == 0, "sgd has no such defaults");
    hp_err err = {{0}};
    CHECK(hp_optim_spec_check(&a, &err) == 0 && hp_optim_spec_check(&w, &err) == 0 &&
              hp_optim_spec_check(&r, &err) == 0 && hp_optim_spec_check(&g, &err) == 0,
          "defaulted specs are valid (%s)", err.msg);
}

/* Per-type field checks: each message names the field, the value and the valid range. */
static void bad_type_specs(void) {
    const hp_optim_type AD = HP_OPTIM_ADAM, RMS = HP_OPTIM_RMSPROP, AG = HP_OPTIM_ADAGRAD;
    struct {
        hp_optim_spec s;
        const char *needle;
    } cases[] = {
        {{.type = AD, .lr = 1e-3, .beta1 = 1.0, .beta2 = 0.999, .eps = 1e-8},
         "beta1 1 is invalid for adam; it must lie in [0, 1)"},
        {{.type = AD, .lr = 1e-3, .beta1 = 0.9, .beta2 = -0.1, .eps = 1e-8},
         "beta2 -0.1 is invalid for adam; it must lie in [0, 1)"},
        {{.type = AD, .lr = 1e-3, .beta1 = NAN, .beta2 = 0.999, .eps = 1e-8}, "beta1 nan is invalid for adam"},
        {{.type = AD, .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 0},
         "eps 0 is invalid for adam; it must be a finite number > 0"},
        {{.type = AD, .lr = 1e-3, .momentum = 0.9, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8},
         "momentum 0.9 is not used by adam; it applies to sgd and rmsprop"},
        {{.type = HP_OPTIM_ADAMW, .lr = 1e-3, .beta1 = 0.9, .beta2 = 1.5, .eps = 1e-8},
         "beta2 1.5 is invalid for adamw; it must lie in [0, 1)"},
        {{.type = RMS, .lr = 1e-2, .alpha = 1.0, .eps = 1e-8}, "alpha 1 is invalid for rmsprop; it must lie in [0, 1)"},
        {{.type = RMS, .lr = 1e-2, .momentum = 1.0, .alpha = 0.99, .eps = 1e-8},
         "momentum 1 is invalid; it must lie in [0, 1)"},
        {{.type = RMS, .lr = 1e-2, .momentum = 0.9, .nesterov = 1, .alpha = 0.99, .eps = 1e-8},
         "nesterov 1 is not available for rmsprop; it applies to sgd only"},
        {{.type = AG, .lr = 1e-2, .eps = INFINITY},
         "eps inf is invalid for adagrad; it must be a finite number > 0 (PyTorch's default 1e-10"},
        {{.type = AG, .lr = 1e-2, .weight_decay = -1, .eps = 1e-10}, "weight_decay -1 is invalid"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hp_err err = {{0}};
        hp_optim *o = NULL;
        int rc = hp_optim_create(&cases[i].s, N, &o, &err);
        CHECK(rc == -1 && o == NULL, "bad %s spec %zu rejected", hp_optim_type_name(cases[i].s.type), i);
        CHECK(strstr(err.msg, cases[i].needle) != NULL && !strchr(err.msg, '\n'), "message '%s' names '%s'", err.msg,
              cases[i].needle);
    }
    // Fields a type does not use are ignored: an SGD spec with zero betas/eps/alpha is valid,
    // and so is beta1 = 0 for Adam (a legal value, not a missing one).
    hp_err err = {{0}};
    hp_optim_spec sgd = {.type = HP_OPTIM_SGD, .lr = 0.1, .alpha = 0.5};
    hp_optim_spec adam0 = {.type = AD, .lr = 1e-3, .beta1 = 0, .beta2 = 0.999, .eps = 1e-8};
    CHECK(hp_optim_spec_check(&sgd, &err) == 0 && hp_optim_spec_check(&adam0, &err) == 0,
          "unused fields and beta1 0 are accepted (%s)", err.msg);
}

int main(void) {
    hp_fixture f;
    char err[512];
    if (CHECK(hp_fixture_load("optim.txt", &f, err, sizeof err) == 0, "%s", err)) {
        run_config(&f, "plain",
                   (hp_optim_spec){
                       .type = HP_OPTIM_SGD, .lr = 0.1, .momentum = 0, .nesterov = 0, .weight_decay = 0});
        run_config(&f, "wd",
                   (hp_optim_spec){
                       .type = HP_OPTIM_SGD, .lr = 0.1, .momentum = 0, .nesterov = 0, .weight_decay = 0.01});
        run_config(
            &f, "momentum",
            (hp_optim_spec){
                .type = HP_OPTIM_SGD, .lr = 0.05, .momentum = 0.9, .nesterov = 0, .weight_decay = 5e-4});
        run_config(
            &f, "nesterov",
            (hp_optim_spec){
                .type = HP_OPTIM_SGD, .lr = 0.05, .momentum = 0.8, .nesterov = 1, .weight_decay = 1e-3});
        hp_fixture_free(&f);
    }
    checkpoint_roundtrip();
    bad_specs();
    trajectories();
    state_layout();
    resume_every_type();
    defaults();
    bad_type_specs();
    return hp_check_summary("test_optim");
}
