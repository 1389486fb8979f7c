/* test_schedule.c - the learning-rate schedules of schedule.h against torch.optim.lr_scheduler
 * (tests/fixtures/sched.txt, made by gen_optim_sched.py): every schedule's per-epoch sequence
 * without and with 3 warm-up epochs; reduce-on-plateau on a synthetic validation-loss sequence
 * (ReduceLROnPlateau), its state saved and restored mid-run; values past the end; spec checks
 * with one-line messages naming field, value and range. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "schedule.h"

enum { E = 12, SCFG_LEN = 6, MAX_EP = 64 };
static const double BASE = 0.1;

/* scfg.NAME = type step_size gamma min_lr patience threshold; sms.NAME = milestones */
static int spec_from_fixture(const hp_fixture *f, const char *name, const double *c, hp_sched_spec *s) {
    memset(s, 0, sizeof *s);
    s->type = (hp_sched_type)c[0];
    s->step_size = (int)c[1];
    s->gamma = c[2];
    s->min_lr = c[3];
    s->patience = (int)c[4];
    s->threshold = c[5];
    char key[96];
    snprintf(key, sizeof key, "sms.%s", name);
    const hp_fixture_tensor *ms = hp_fixture_find(f, key);
    if (ms) {
        if (ms->size > HP_MAX_MILESTONES) return -1;
        s->nmilestones = (int)ms->size;
        for (int i = 0; i < s->nmilestones; i++) s->milestones[i] = (int)ms->v[i];
    }
    return 0;
}

/* lr.NAME.wW: the rate in force during each epoch; plateau observes plateau_loss after each. */
static void run_sequence(const hp_fixture *f, const char *name, hp_sched_spec spec, int w, const double *loss,
                         int nloss) {
    char key[96], what[160];
    snprintf(key, sizeof key, "lr.%s.w%d", name, w);
    const hp_fixture_tensor *want = hp_fixture_find(f, key);
    int plateau = spec.type == HP_SCHED_PLATEAU;
    int epochs = plateau ? nloss : E;
    if (!CHECK(want && want->size == epochs && epochs <= MAX_EP, "sched.txt holds %s [%d]", key, epochs)) return;
    spec.warmup_epochs = w;
    hp_err err = {{0}};
    hp_sched *s = NULL;
    if (!CHECK(hp_sched_create(&spec, BASE, epochs, &s, &err) == 0, "%s: %s", key, err.msg)) return;
    double got[MAX_EP];
    for (int e = 0; e < epochs; e++) {
        got[e] = hp_sched_lr(s, e);
        hp_sched_observe(s, e, loss[e]);
    }
    snprintf(what, sizeof what, "%s (%s, warm-up %d) vs torch", name, hp_sched_type_name(spec.type), w);
    CHECK_ALLCLOSE(got, want->v, epochs, 1e-15, 1e-12, what);
    hp_sched_free(s);
}

/* Plateau: run to epoch `cut`, save the 3-double state, restore it into a fresh schedule, run
 * the rest: the same rates as torch's uninterrupted run, bit for bit, for every cut. */
static void plateau_resume(const hp_fixture *f, const char *name, hp_sched_spec spec, int w, const double *loss,
                           int nloss) {
    char key[96];
    snprintf(key, sizeof key, "lr.%s.w%d", name, w);
    const hp_fixture_tensor *want = hp_fixture_find(f, key);
    if (!want || want->size != nloss || nloss > MAX_EP) return; // reported by run_sequence
    spec.warmup_epochs = w;
    int bad_cuts = 0, first_bad = -1;
    for (int cut = 1; cut < nloss; cut++) {
        hp_err err = {{0}};
        hp_sched *a = NULL, *b = NULL;
        if (!CHECK(hp_sched_create(&spec, BASE, nloss, &a, &err) == 0 &&
                       hp_sched_create(&spec, BASE, nloss, &b, &err) == 0,
                   "%s", err.msg)) {
            hp_sched_free(a);
            return;
        }
        double got[MAX_EP], st[3];
        for (int e = 0; e < cut; e++) {
            got[e] = hp_sched_lr(a, e);
            hp_sched_observe(a, e, loss[e]);
        }
        hp_sched_get_state(a, st);
        hp_sched_set_state(b, st);
        for (int e = cut; e < nloss; e++) {
            got[e] = hp_sched_lr(b, e);
            hp_sched_observe(b, e, loss[e]);
        }
        int same = 1;
        for (int e = 0; e < nloss; e++) same &= got[e] == want->v[e];
        if (!same && bad_cuts++ == 0) first_bad = cut;
        hp_sched_free(a);
        hp_sched_free(b);
    }
    CHECK(bad_cuts == 0, "%s: restored after any epoch, the run continues torch's sequence exactly "
                         "(%d cuts differ, first %d)", key, bad_cuts, first_bad);
}

static void against_torch(void) {
    hp_fixture f;
    char errbuf[512];
    if (!CHECK(hp_fixture_load("sched.txt", &f, errbuf, sizeof errbuf) == 0, "%s", errbuf)) return;
    const hp_fixture_tensor *loss = hp_fixture_find(&f, "plateau_loss");
    if (!CHECK(loss && loss->size <= MAX_EP, "sched.txt holds plateau_loss")) goto done;
    int seen[HP_SCHED_COUNT_] = {0}, nconfigs = 0;
    for (int i = 0; i < f.n; i++) {
        const hp_fixture_tensor *t = &f.t[i];
        if (strncmp(t->name, "scfg.", 5) != 0) continue;
        const char *name = t->name + 5;
        hp_sched_spec spec;
        if (!CHECK(t->size == SCFG_LEN && t->v[0] >= 0 && t->v[0] < HP_SCHED_COUNT_ &&
                       spec_from_fixture(&f, name, t->v, &spec) == 0,
                   "%s is a valid schedule config", t->name))
            continue;
        for (int w = 0; w <= 3; w += 3) {
            run_sequence(&f, name, spec, w, loss->v, (int)loss->size);
            if (spec.type == HP_SCHED_PLATEAU) plateau_resume(&f, name, spec, w, loss->v, (int)loss->size);
        }
        seen[spec.type]++;
        nconfigs++;
    }
    CHECK(nconfigs == 10, "sched.txt holds the 10 configurations (found %d)", nconfigs);
    for (int t = 0; t < HP_SCHED_COUNT_; t++)
        CHECK(seen[t] > 0, "schedule %s is compared with torch", hp_sched_type_name((hp_sched_type)t));
done:
    hp_fixture_free(&f);
}

/* Behaviour the fixtures do not reach: the ends of the range, NaN losses, stateless types. */
static void edges(void) {
    hp_err err = {{0}};
    hp_sched *s = NULL;
    hp_sched_spec cos = {.type = HP_SCHED_COSINE, .min_lr = 0.001, .warmup_epochs = 2};
    if (CHECK(hp_sched_create(&cos, BASE, 10, &s, &err) == 0, "%s", err.msg)) {
        CHECK(hp_sched_lr(s, 10) == 0.001 && hp_sched_lr(s, 50) == 0.001, "cosine holds min_lr past the end");
        CHECK(hp_sched_lr(s, -3) == hp_sched_lr(s, 0) && hp_sched_lr(s, 0) == BASE / 3,
              "epoch < 0 reads as 0, the first warm-up epoch base/(w+1)");
        CHECK(hp_sched_lr(s, 2) == BASE, "the first epoch after warm-up runs at the base lr");
        double st[3];
        hp_sched_get_state(s, st);
        CHECK(isinf(st[0]) && st[1] == 0 && st[2] == BASE, "stateless types give {inf, 0, base}");
        hp_sched_free(s);
    }
    hp_sched_spec lin = {.type = HP_SCHED_LINEAR, .min_lr = 0.2};
    if (CHECK(hp_sched_create(&lin, BASE, 4, &s, &err) == 0, "%s", err.msg)) {
        CHECK_CLOSE(hp_sched_lr(s, 2), 0.15, 0, 1e-15, "linear towards a min_lr above base rises (allowed)");
        hp_sched_free(s);
    }
    // Plateau, patience 0: a NaN loss never improves, so it reduces at once (as in PyTorch,
    // where nan < best is false); a corrupt restored state is sanitised.
    hp_sched_spec pl = {.type = HP_SCHED_PLATEAU, .gamma = 0.5, .patience = 0, .threshold = 1e-4};
    if (CHECK(hp_sched_create(&pl, BASE, 10, &s, &err) == 0, "%s", err.msg)) {
        hp_sched_observe(s, 0, 1.0);
        CHECK(hp_sched_lr(s, 1) == BASE, "the first finite loss improves on +inf");
        hp_sched_observe(s, 1, NAN);
        CHECK(hp_sched_lr(s, 2) == BASE / 2, "a NaN loss counts as a bad epoch (lr %g)", hp_sched_lr(s, 2));
        hp_sched_set_state(s, (const double[3]){NAN, -4, -1});
        double st[3];
        hp_sched_get_state(s, st);
        CHECK(isinf(st[0]) && st[1] == 0 && st[2] == BASE, "corrupt state read as {inf, 0, base}");
        hp_sched_free(s);
    }
}

static void bad_specs(void) {
    struct {
        hp_sched_spec s;
        const char *needle;
    } cases[] = {
        {{.type = HP_SCHED_COUNT_}, "unknown type 7; valid types: constant, step, multistep, cosine, linear, inv_sqrt, "
                                    "plateau"},
        {{.type = HP_SCHED_CONSTANT, .warmup_epochs = -1}, "warmup_epochs -1 is invalid; it must be >= 0"},
        {{.type = HP_SCHED_STEP, .step_size = 0, .gamma = 0.1}, "step_size 0 is invalid for step; it must be >= 1"},
        {{.type = HP_SCHED_STEP, .step_size = 3, .gamma = 0}, "gamma 0 is invalid for step; it must lie in (0, 1]"},
        {{.type = HP_SCHED_STEP, .step_size = 3, .gamma = 1.5}, "gamma 1.5 is invalid for step"},
        {{.type = HP_SCHED_MULTISTEP, .gamma = 0.1, .nmilestones = 0},
         "0 milestones is invalid for multistep; give 1 to 16"},
        {{.type = HP_SCHED_MULTISTEP, .gamma = 0.1, .nmilestones = 17}, "17 milestones"},
        {{.type = HP_SCHED_MULTISTEP, .gamma = 0.1, .nmilestones = 3, .milestones = {2, 5, 5}},
         "milestone 5 follows 5; milestones must be strictly increasing"},
        {{.type = HP_SCHED_MULTISTEP, .gamma = 0.1, .nmilestones = 1, .milestones = {0}},
         "milestone 0 is invalid; milestones are epochs after warm-up, >= 1"},
        {{.type = HP_SCHED_COSINE, .min_lr = -1e-3},
         "min_lr -0.001 is invalid for cosine; it must be a finite number >= 0"},
        {{.type = HP_SCHED_LINEAR, .min_lr = INFINITY}, "min_lr inf is invalid for linear"},
        {{.type = HP_SCHED_PLATEAU, .gamma = 1.0, .patience = 2},
         "gamma 1 is invalid for plateau; it must lie in (0, 1)"},
        {{.type = HP_SCHED_PLATEAU, .gamma = 0.1, .patience = -1},
         "patience -1 is invalid for plateau; it must be >= 0"},
        {{.type = HP_SCHED_PLATEAU, .gamma = 0.1, .patience = 2, .threshold = 1},
         "threshold 1 is invalid for plateau; it must lie in [0, 1)"},
        {{.type = HP_SCHED_PLATEAU, .gamma = 0.1, .patience = 2, .threshold = NAN}, "threshold nan is invalid"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hp_err err = {{0}};
        hp_sched *s = NULL;
        int rc = hp_sched_create(&cases[i].s, BASE, 10, &s, &err);
        CHECK(rc == -1 && s == NULL, "bad schedule spec %zu rejected", i);
        CHECK(strstr(err.msg, cases[i].needle) != NULL && !strchr(err.msg, '\n'), "message '%s' names '%s'", err.msg,
              cases[i].needle);
    }
    struct {
        double base;
        int epochs, warmup;
        const char *needle;
    } create_cases[] = {
        {0.1, 5, 5, "warmup_epochs 5 leaves no epoch of the constant schedule in 5 epochs; use fewer than 5"},
        {0.0, 5, 0, "base lr 0 is invalid; it must be a finite number > 0"},
        {NAN, 5, 0, "base lr nan is invalid"},
        {0.1, 0, 0, "0 epochs is invalid; it must be >= 1"},
    };
    for (size_t i = 0; i < sizeof create_cases / sizeof create_cases[0]; i++) {
        hp_sched_spec c = {.type = HP_SCHED_CONSTANT, .warmup_epochs = create_cases[i].warmup};
        hp_err err = {{0}};
        hp_sched *s = NULL;
        int rc = hp_sched_create(&c, create_cases[i].base, create_cases[i].epochs, &s, &err);
        CHECK(rc == -1 && s == NULL && strstr(err.msg, create_cases[i].needle) != NULL,
              "create case %zu: '%s' names '%s'", i, err.msg, create_cases[i].needle);
    }
    // A zero spec is the constant schedule, valid as is (train specs default to it).
    hp_sched_spec zero;
    memset(&zero, 0, sizeof zero);
    hp_err err = {{0}};
    CHECK(hp_sched_spec_check(&zero, &err) == 0, "the all-zero spec is valid (%s)", err.msg);
    const char *names[] = {"constant", "step", "multistep", "cosine", "linear", "inv_sqrt", "plateau"};
    for (int t = 0; t < HP_SCHED_COUNT_; t++)
        CHECK(hp_sched_type_parse(names[t]) == t && strcmp(hp_sched_type_name((hp_sched_type)t), names[t]) == 0,
              "schedule %d is called '%s' both ways", t, names[t]);
    CHECK(hp_sched_type_parse("Cosine") == -1 && hp_sched_type_parse(NULL) == -1, "unknown schedule names refused");
}

int main(void) {
    against_torch();
    edges();
    bad_specs();
    return hp_check_summary("test_schedule");
}
