/* test_optim.c - SGD (optim.h) against torch.optim.SGD (tests/fixtures/optim.txt): plain,
 * weight decay, momentum, Nesterov, in double and float; restoring the flat state continues
 * the exact trajectory; invalid specs are rejected with a message naming the value. */
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
    CHECK(hp_optim_state_size(a) == N + 1, "state holds momentum and the step count (%lld floats)",
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
        CHECK(hp_optim_state_size(d) == 1, "momentum 0 keeps no buffer");
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
         "valid types: sgd"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hp_err err = {{0}};
        hp_optim *o = NULL;
        int rc = hp_optim_create(&cases[i].s, N, &o, &err);
        CHECK(rc == -1 && o == NULL, "bad spec %zu rejected", i);
        CHECK(strstr(err.msg, cases[i].needle) != NULL, "message '%s' names '%s'", err.msg, cases[i].needle);
    }
    CHECK(hp_optim_type_parse("sgd") == HP_OPTIM_SGD && hp_optim_type_parse("adam") == -1, "optimizer names");
    CHECK(strcmp(hp_optim_type_name(HP_OPTIM_SGD), "sgd") == 0, "sgd's name");
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
    return hp_check_summary("test_optim");
}
