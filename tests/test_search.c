/* test_search.c - the search planner (orchestrator/search.c): sampling, grids, narrowing.
 *
 * Specs are built directly in C (zeroed, search part filled), so this test does not depend on
 * the YAML parser.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rng.h"
#include "search.h"

#define NKS 2000
/* Asymptotic one-sample Kolmogorov-Smirnov critical value at alpha = 0.001:
 * sqrt(-ln(alpha / 2) / 2) = 1.9495 over sqrt(n). */
#define KS_C_001 1.949

static void base_spec(hp_spec *s) {
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "test.yaml");
    s->seed = 42;
    s->optim.lr = 0.1;
    s->optim.weight_decay = 5e-4;
    s->has_search = 1;
    s->search.nparams = 2;
    hp_param_range *lr = &s->search.params[HP_PARAM_LR], *wd = &s->search.params[HP_PARAM_WD];
    snprintf(lr->name, sizeof lr->name, "lr");
    snprintf(wd->name, sizeof wd->name, "weight_decay");
    lr->enabled = 1, lr->low = 1e-5, lr->high = 1.0, lr->scale = HP_SCALE_LOG;
    lr->bound_low = 0, lr->bound_high = INFINITY;
    wd->enabled = 1, wd->low = 1e-6, wd->high = 1e-1, wd->scale = HP_SCALE_LOG;
    wd->bound_low = 0, wd->bound_high = INFINITY;
    s->search.nstages = 2;
    s->search.stages[0] = (hp_stage_spec){.method = HP_METHOD_RANDOM, .trials = 24, .epochs = 1, .top_k = 3,
                                          .margin = 0.25};
    s->search.stages[1] = (hp_stage_spec){.method = HP_METHOD_RANDOM, .trials = 8, .epochs = 3, .top_k = 3,
                                          .margin = 0.25};
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : (x > y ? 1 : 0);
}

/* One-sample KS statistic D of x[0..n) against uniform(a, b). Sorts x. */
static double ks_uniform(double *x, int n, double a, double b) {
    qsort(x, (size_t)n, sizeof *x, cmp_double);
    double d = 0;
    for (int i = 0; i < n; i++) {
        double f = (x[i] - a) / (b - a);
        f = f < 0 ? 0 : (f > 1 ? 1 : f);
        d = fmax(d, fmax((i + 1.0) / n - f, f - (double)i / n));
    }
    return d;
}

/* Draw NKS trials of a random stage 0 and return parameter p's values. */
static void draw_stage0(const hp_spec *s, int p, double *out) {
    hp_stage_plan plan;
    hp_err err;
    CHECK(hp_search_plan_stage(s, 0, NULL, NULL, 0, &plan, &err) == 0, "plan stage 0: %s", err.msg);
    CHECK(plan.ntrials == NKS, "ntrials (got %d, want %d)", plan.ntrials, NKS);
    for (int i = 0; i < NKS; i++) {
        hp_trial_plan t;
        hp_search_trial(s, &plan, i, &t);
        out[i] = t.values[p];
    }
}

static void test_random_log_uniform(void) {
    hp_spec s;
    base_spec(&s);
    s.search.stages[0].trials = NKS;
    static double v[NKS], x[NKS];
    double crit = KS_C_001 / sqrt((double)NKS);
    for (int p = 0; p < HP_NFIXED_PARAMS; p++) {
        const hp_param_range *r = &s.search.params[p];
        draw_stage0(&s, p, v);
        int inside = 1;
        for (int i = 0; i < NKS; i++) {
            inside &= v[i] >= r->low && v[i] <= r->high;
            x[i] = log10(v[i]);
        }
        CHECK(inside, "param %d: every draw lies in [%g, %g]", p, r->low, r->high);
        double d = ks_uniform(x, NKS, log10(r->low), log10(r->high));
        printf("KS log10 draws, param %d: D = %.6f, critical %.4f\n", p, d, crit);
        CHECK(d < crit, "param %d: log10 draws pass KS vs uniform (D %.4f, critical %.4f)", p, d, crit);
    }

    /* Control: linear-uniform draws on [1e-5, 1] must fail the same log-space test. */
    s.search.params[HP_PARAM_LR].scale = HP_SCALE_LINEAR;
    draw_stage0(&s, HP_PARAM_LR, v);
    for (int i = 0; i < NKS; i++) x[i] = log10(v[i]);
    double d = ks_uniform(x, NKS, -5.0, 0.0);
    printf("KS control (linear draws in log10 space): D = %.4f, critical %.4f\n", d, crit);
    CHECK(d > crit, "linear draws must fail the log-space KS test (D %.4f, critical %.4f)", d, crit);

    /* ... and pass it in linear space. */
    for (int i = 0; i < NKS; i++) x[i] = v[i];
    d = ks_uniform(x, NKS, 1e-5, 1.0);
    printf("KS linear draws in linear space: D = %.4f, critical %.4f\n", d, crit);
    CHECK(d < crit, "linear draws pass KS vs uniform(1e-5, 1) (D %.4f, critical %.4f)", d, crit);
}

static int within_ulp(double got, double want) {
    return got == want || got == nextafter(want, INFINITY) || got == nextafter(want, -INFINITY);
}

static void test_grid(void) {
    hp_spec s;
    base_spec(&s);
    s.search.params[HP_PARAM_LR].low = 1e-5, s.search.params[HP_PARAM_LR].high = 1e-1;
    s.search.params[HP_PARAM_WD].low = 1e-6, s.search.params[HP_PARAM_WD].high = 1e-2;
    s.search.stages[0] = (hp_stage_spec){.method = HP_METHOD_GRID, .points = 5, .epochs = 2};
    hp_stage_plan plan;
    hp_err err;
    CHECK(hp_search_plan_stage(&s, 0, NULL, NULL, 0, &plan, &err) == 0, "plan grid: %s", err.msg);
    CHECK(plan.ntrials == 25, "grid trials = 5^2 (got %d)", plan.ntrials);
    const double lr_want[5] = {1e-5, 1e-4, 1e-3, 1e-2, 1e-1};
    const double wd_want[5] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2};
    int exact = 1, pairs_seen = 0;
    for (int i = 0; i < 25; i++) {
        hp_trial_plan t;
        hp_search_trial(&s, &plan, i, &t);
        /* Full factorial, lr varying slowest. */
        int ok = t.values[HP_PARAM_LR] == lr_want[i / 5] && t.values[HP_PARAM_WD] == wd_want[i % 5];
        if (!ok)
            CHECK(0, "grid trial %d: (%.17g, %.17g), want (%g, %g)", i, t.values[0], t.values[1], lr_want[i / 5],
                  wd_want[i % 5]);
        exact &= ok;
        pairs_seen += ok;
        CHECK(t.epochs == 2 && t.index == i && t.id == i, "grid trial %d: epochs, index, id", i);
    }
    CHECK(exact && pairs_seen == 25, "decade grid exact and in order (%d of 25)", pairs_seen);

    /* A grid whose exponents are not integers: within one ulp of 10^(a + i (b - a) / (p - 1)),
     * both ends exactly the spec's values. */
    s.search.params[HP_PARAM_LR].low = 3e-4, s.search.params[HP_PARAM_LR].high = 2e-2;
    s.search.params[HP_PARAM_WD].enabled = 0;
    s.search.stages[0].points = 4;
    CHECK(hp_search_plan_stage(&s, 0, NULL, NULL, 0, &plan, &err) == 0, "plan grid 2: %s", err.msg);
    CHECK(plan.ntrials == 4, "grid with one searched parameter: 4^1 trials (got %d)", plan.ntrials);
    double a = log10(3e-4), b = log10(2e-2);
    for (int i = 0; i < 4; i++) {
        hp_trial_plan t;
        hp_search_trial(&s, &plan, i, &t);
        double want = i == 0 ? 3e-4 : (i == 3 ? 2e-2 : pow(10.0, a + i * (b - a) / 3));
        if (i == 0 || i == 3)
            CHECK(t.values[0] == want, "grid end %d exact (got %.17g, want %.17g)", i, t.values[0], want);
        else
            CHECK(within_ulp(t.values[0], want), "grid point %d within 1 ulp (got %.17g, want %.17g)", i,
                  t.values[0], want);
        CHECK(t.values[HP_PARAM_WD] == 5e-4, "fixed wd on the grid (got %g)", t.values[HP_PARAM_WD]);
    }

    /* Linear grid. */
    s.search.params[HP_PARAM_LR].scale = HP_SCALE_LINEAR;
    s.search.params[HP_PARAM_LR].low = 0.0, s.search.params[HP_PARAM_LR].high = 1.0;
    s.search.params[HP_PARAM_LR].bound_low = -INFINITY;
    s.search.stages[0].points = 5;
    CHECK(hp_search_plan_stage(&s, 0, NULL, NULL, 0, &plan, &err) == 0, "plan linear grid: %s", err.msg);
    const double lin_want[5] = {0.0, 0.25, 0.5, 0.75, 1.0};
    for (int i = 0; i < 5; i++) {
        hp_trial_plan t;
        hp_search_trial(&s, &plan, i, &t);
        CHECK(t.values[0] == lin_want[i], "linear grid point %d (got %.17g, want %g)", i, t.values[0], lin_want[i]);
    }
}

static void test_determinism(void) {
    enum { N = 300 };
    hp_spec s;
    base_spec(&s);
    s.search.stages[0].trials = N;
    hp_stage_plan plan;
    hp_err err;
    CHECK(hp_search_plan_stage(&s, 0, NULL, NULL, 0, &plan, &err) == 0, "plan: %s", err.msg);
    static hp_trial_plan fwd[N], rev[N], strided[N];
    for (int i = 0; i < N; i++) hp_search_trial(&s, &plan, i, &fwd[i]);
    for (int i = N - 1; i >= 0; i--) hp_search_trial(&s, &plan, i, &rev[i]);
    for (int i = 0; i < N; i++) { /* 7 is coprime with 300: visits every index once */
        int j = (int)((i * 7L) % N);
        hp_search_trial(&s, &plan, j, &strided[j]);
    }
    CHECK(memcmp(fwd, rev, sizeof fwd) == 0, "same trials in reverse order");
    CHECK(memcmp(fwd, strided, sizeof fwd) == 0, "same trials in strided order");

    /* Seeds: the documented key, all distinct, and distinct from the values' stream. */
    int seeds_ok = 1, distinct = 1;
    for (int i = 0; i < N; i++) {
        seeds_ok &= fwd[i].seed == hp_key3(42, 0, (uint64_t)i);
        for (int j = 0; j < i; j++) distinct &= fwd[i].seed != fwd[j].seed;
    }
    CHECK(seeds_ok, "trial seed = hp_key3(sweep seed, stage, index)");
    CHECK(distinct, "trial seeds distinct");

    /* Another sweep seed: every trial's values differ. */
    s.seed = 43;
    int differ = 0;
    for (int i = 0; i < N; i++) {
        hp_trial_plan t;
        hp_search_trial(&s, &plan, i, &t);
        differ += t.values[0] != fwd[i].values[0] && t.values[1] != fwd[i].values[1] && t.seed != fwd[i].seed;
    }
    CHECK(differ == N, "seed 43 changes every trial (%d of %d differ)", differ, N);
    s.seed = 42;

    /* Switching weight decay off leaves the lr values unchanged (draw p belongs to parameter p). */
    s.search.params[HP_PARAM_WD].enabled = 0;
    int same_lr = 0;
    for (int i = 0; i < N; i++) {
        hp_trial_plan t;
        hp_search_trial(&s, &plan, i, &t);
        same_lr += t.values[0] == fwd[i].values[0] && t.values[1] == 5e-4;
    }
    CHECK(same_lr == N, "lr values unchanged with wd fixed (%d of %d)", same_lr, N);
}

/* Stage 0 plan of base_spec and 24 synthetic outcomes: the top 3 interior. */
static int make_outcomes(hp_trial_outcome *o) {
    int n = 0;
    /* Filler: poor scores spread over the range. */
    for (int i = 0; i < 18; i++) {
        o[n].values[0] = pow(10.0, -5.0 + 5.0 * (i + 0.5) / 18);
        o[n].values[1] = pow(10.0, -6.0 + 5.0 * ((i * 7) % 18 + 0.5) / 18);
        o[n].score = 0.1 + 0.01 * i;
        o[n++].usable = 1;
    }
    /* The top three (interior in both parameters). */
    o[n++] = (hp_trial_outcome){{1e-3, 1e-4}, 0.90, 1, 0};
    o[n++] = (hp_trial_outcome){{3e-3, 1e-5}, 0.88, 1, 0};
    o[n++] = (hp_trial_outcome){{2e-3, 3e-5}, 0.87, 1, 0};
    /* Must be ignored: diverged / failed with high "scores", a usable one with a NaN score. */
    o[n++] = (hp_trial_outcome){{0.5, 0.05}, 0.99, 0, 0};
    o[n++] = (hp_trial_outcome){{0.9, 0.09}, 0.98, 0, 0};
    o[n++] = (hp_trial_outcome){{2e-5, 2e-6}, NAN, 1, 0};
    for (int i = 0; i < n; i++) o[i].trial = i; /* ids: ties of score go to the lower */
    return n;
}

static void plan_two(const hp_spec *s, const hp_trial_outcome *o, int n, hp_stage_plan *p0, hp_stage_plan *p1,
                     int want_rc) {
    hp_err err;
    err.msg[0] = 0;
    CHECK(hp_search_plan_stage(s, 0, NULL, NULL, 0, p0, &err) == 0, "plan stage 0: %s", err.msg);
    int rc = hp_search_plan_stage(s, 1, p0, o, n, p1, &err);
    CHECK(rc == want_rc, "plan stage 1 rc (got %d, want %d): %s", rc, want_rc, err.msg);
}

static void test_narrowing(void) {
    hp_spec s;
    base_spec(&s);
    hp_trial_outcome o[32];
    int n = make_outcomes(o);
    hp_stage_plan p0, p1;
    plan_two(&s, o, n, &p0, &p1, 0);
    CHECK(p1.derivation[0] == HP_DERIV_NARROWED && p1.derivation[1] == HP_DERIV_NARROWED,
          "derivations narrowed (got %s, %s)", hp_derivation_name(p1.derivation[0]),
          hp_derivation_name(p1.derivation[1]));
    /* [min - 0.25, max + 0.25] decades of the top 3. */
    CHECK_CLOSE(p1.low[0], pow(10.0, -3.25), 0, 1e-12, "lr low = 10^(log10 1e-3 - 0.25)");
    CHECK_CLOSE(p1.high[0], pow(10.0, log10(3e-3) + 0.25), 0, 1e-12, "lr high = 10^(log10 3e-3 + 0.25)");
    CHECK_CLOSE(p1.low[1], pow(10.0, -5.25), 0, 1e-12, "wd low = 10^(-5 - 0.25)");
    CHECK_CLOSE(p1.high[1], pow(10.0, -3.75), 0, 1e-12, "wd high = 10^(-4 + 0.25)");
    for (int p = 0; p < HP_NFIXED_PARAMS; p++) {
        CHECK(p1.low[p] >= p0.low[p] && p1.high[p] <= p0.high[p], "param %d: new range inside the old", p);
        CHECK(log10(p1.high[p] / p1.low[p]) < log10(p0.high[p] / p0.low[p]), "param %d: narrower", p);
        for (int i = 18; i < 21; i++)
            CHECK(o[i].values[p] >= p1.low[p] && o[i].values[p] <= p1.high[p], "param %d: top-k %d inside", p, i);
    }
    CHECK(p1.high[0] < 0.5, "diverged trial at lr 0.5 ignored (high %g)", p1.high[0]);
    CHECK(p1.first_trial_id == 24 && p1.ntrials == 8 && p1.epochs == 3 && p1.stage == 1,
          "stage 1 header (first id %lld, trials %d)", (long long)p1.first_trial_id, p1.ntrials);

    /* The outcomes' order does not matter. */
    hp_trial_outcome rev[32];
    for (int i = 0; i < n; i++) rev[i] = o[n - 1 - i];
    hp_stage_plan q1;
    plan_two(&s, rev, n, &p0, &q1, 0);
    CHECK(memcmp(&p1, &q1, sizeof p1) == 0, "plan independent of outcome order");

    /* The trials of a narrowed stage lie in its range and carry global ids. */
    int inside = 1;
    for (int i = 0; i < p1.ntrials; i++) {
        hp_trial_plan t;
        hp_search_trial(&s, &p1, i, &t);
        inside &= t.id == 24 + i && t.stage == 1;
        for (int p = 0; p < HP_NFIXED_PARAMS; p++) inside &= t.values[p] >= p1.low[p] && t.values[p] <= p1.high[p];
    }
    CHECK(inside, "stage 1 trials inside the narrowed range with ids 24..31");

    /* The margin never reaches past the old range: a top-3 trial 0.08 decades above the low
     * edge (the best is interior, so no widening) leaves the low edge exactly where it was. */
    n = make_outcomes(o);
    o[20].values[0] = 1.2e-5;
    plan_two(&s, o, n, &p0, &p1, 0);
    CHECK(p1.low[0] == 1e-5 && p1.derivation[0] == HP_DERIV_NARROWED,
          "margin clipped to the old low edge (low %.17g, %s)", p1.low[0], hp_derivation_name(p1.derivation[0]));

    /* Top-k spread over the whole old range, best interior: the range comes out unchanged, "kept". */
    hp_stage_plan small = p0;
    small.low[0] = 1e-3, small.high[0] = 1e-2;
    hp_trial_outcome spread[3] = {{{3e-3, 1e-4}, 0.9, 1, 0}, {{1.2e-3, 1e-4}, 0.8, 1, 1}, {{8e-3, 1e-4}, 0.7, 1, 2}};
    hp_err err;
    CHECK(hp_search_plan_stage(&s, 1, &small, spread, 3, &p1, &err) == 0, "spread plan: %s", err.msg);
    CHECK(p1.low[0] == 1e-3 && p1.high[0] == 1e-2 && p1.derivation[0] == HP_DERIV_KEPT,
          "spread top-k: range kept ([%.17g, %.17g], %s)", p1.low[0], p1.high[0], hp_derivation_name(p1.derivation[0]));

    /* Linear scale: margin is a fraction of the old width. */
    base_spec(&s);
    hp_param_range *lr = &s.search.params[HP_PARAM_LR];
    lr->scale = HP_SCALE_LINEAR, lr->low = 0.0, lr->high = 1.0, lr->bound_low = -INFINITY;
    s.search.params[HP_PARAM_WD].enabled = 0;
    s.search.stages[1].margin = 0.1;
    hp_trial_outcome lin[4] = {{{0.4, 0}, 0.8, 1, 0}, {{0.6, 0}, 0.7, 1, 1}, {{0.5, 0}, 0.75, 1, 2}, {{0.05, 0}, 0.1, 1, 3}};
    plan_two(&s, lin, 4, &p0, &p1, 0);
    CHECK_CLOSE(p1.low[0], 0.3, 1e-15, 0, "linear low = 0.4 - 0.1 * 1");
    CHECK_CLOSE(p1.high[0], 0.7, 1e-15, 0, "linear high = 0.6 + 0.1 * 1");
    CHECK(p1.derivation[0] == HP_DERIV_NARROWED, "linear narrowed");
    CHECK(p1.derivation[1] == HP_DERIV_FIXED && p1.low[1] == 5e-4 && p1.high[1] == 5e-4, "wd fixed in stage 1");
}

static void test_widening(void) {
    hp_spec s;
    base_spec(&s);
    hp_trial_outcome o[32];
    int n = make_outcomes(o);
    hp_stage_plan p0, p1;

    /* Best lr 1.1e-5: 0.04 decades above the low edge, inside 5% of 5 decades. */
    o[18].values[0] = 1.1e-5;
    plan_two(&s, o, n, &p0, &p1, 0);
    CHECK(p1.derivation[0] == HP_DERIV_WIDENED_LOW, "best at the low edge: widened_low (got %s)",
          hp_derivation_name(p1.derivation[0]));
    CHECK(p1.low[0] < p0.low[0], "widened below the old low (%g < %g)", p1.low[0], p0.low[0]);
    CHECK_CLOSE(p1.low[0], 1e-10, 0, 1e-12, "low = 10^(L - W) = 1e-10");
    CHECK_CLOSE(p1.high[0], pow(10.0, log10(3e-3) + 0.25), 0, 1e-12, "high side still narrows");
    CHECK(p1.derivation[1] == HP_DERIV_NARROWED, "wd still narrowed");

    /* Ties: a tie at the top goes to the lower trial id (hp_better_score), whatever the
     * input order: the tie at the low edge wins with id 5, loses with id 99. */
    o[18].values[0] = 1e-3;
    hp_trial_outcome tie = {{1.05e-5, 1e-4}, 0.90, 1, 5};
    o[n] = tie;
    plan_two(&s, o, n + 1, &p0, &p1, 0);
    CHECK(p1.derivation[0] == HP_DERIV_WIDENED_LOW, "tie to the lower id (5 < 18, at the low edge): widened");
    hp_trial_outcome t2[32];
    t2[0] = tie;
    memcpy(t2 + 1, o, (size_t)n * sizeof *o);
    hp_stage_plan q1;
    plan_two(&s, t2, n + 1, &p0, &q1, 0);
    CHECK(memcmp(&p1, &q1, sizeof p1) == 0, "tie handling independent of order");
    o[n].trial = 99;
    plan_two(&s, o, n + 1, &p0, &p1, 0);
    CHECK(p1.derivation[0] == HP_DERIV_NARROWED, "tie to the lower id (18 < 99, interior): narrowed (got %s)",
          hp_derivation_name(p1.derivation[0]));
    t2[0] = o[n];
    plan_two(&s, t2, n + 1, &p0, &q1, 0);
    CHECK(memcmp(&p1, &q1, sizeof p1) == 0, "tie handling independent of order (id 99)");

    /* Best lr 0.9 at the high edge: widened_high, up to 10^(0 + 5). */
    n = make_outcomes(o);
    o[18].values[0] = 0.9;
    plan_two(&s, o, n, &p0, &p1, 0);
    CHECK(p1.derivation[0] == HP_DERIV_WIDENED_HIGH, "best at the high edge: widened_high (got %s)",
          hp_derivation_name(p1.derivation[0]));
    CHECK_CLOSE(p1.high[0], 1e5, 0, 1e-12, "high = 10^(H + W)");
    CHECK_CLOSE(p1.low[0], pow(10.0, log10(2e-3) - 0.25), 0, 1e-12, "low side still narrows (top 3: 0.9, 3e-3, 2e-3)");

    /* Hard bound 10: widening stops there, exactly. */
    s.search.params[HP_PARAM_LR].bound_high = 10.0;
    plan_two(&s, o, n, &p0, &p1, 0);
    CHECK(p1.derivation[0] == HP_DERIV_WIDENED_HIGH && p1.high[0] == 10.0,
          "widening clipped to the hard bound (high %.17g)", p1.high[0]);

    /* Old edge on the hard bound: cannot widen; that side stays at the old edge. */
    s.search.params[HP_PARAM_LR].bound_high = 1.0;
    plan_two(&s, o, n, &p0, &p1, 0);
    CHECK(p1.high[0] == 1.0 && p1.derivation[0] == HP_DERIV_NARROWED,
          "edge on the bound stays (high %.17g, %s)", p1.high[0], hp_derivation_name(p1.derivation[0]));

    /* Low hard bound 1e-7 clips the widening at the low edge (1e-10 without it). */
    n = make_outcomes(o);
    o[18].values[0] = 1.1e-5;
    s.search.params[HP_PARAM_LR].bound_low = 1e-7;
    s.search.params[HP_PARAM_LR].bound_high = 1.0;
    plan_two(&s, o, n, &p0, &p1, 0);
    CHECK(p1.low[0] == 1e-7 && p1.derivation[0] == HP_DERIV_WIDENED_LOW, "low widening clipped to 1e-7 (got %.17g)",
          p1.low[0]);

    /* Repeated widening stays representable: implicit floor 1e-300. */
    base_spec(&s);
    hp_stage_plan far = p0;
    far.low[0] = 1e-290, far.high[0] = 1e-280;
    hp_trial_outcome edge[1] = {{{1e-290, 1e-4}, 0.5, 1, 0}};
    hp_err err;
    CHECK(hp_search_plan_stage(&s, 1, &far, edge, 1, &p1, &err) == 0, "far plan: %s", err.msg);
    CHECK(p1.low[0] == 1e-300 && p1.derivation[0] == HP_DERIV_WIDENED_LOW, "implicit floor 1e-300 (got %g)",
          p1.low[0]);
}

static void test_kept_fixed_collapse(void) {
    hp_spec s;
    base_spec(&s);
    hp_trial_outcome o[32];
    int n = make_outcomes(o);
    for (int i = 0; i < n; i++) o[i].usable = 0;
    hp_stage_plan p0, p1;
    plan_two(&s, o, n, &p0, &p1, 0);
    for (int p = 0; p < HP_NFIXED_PARAMS; p++)
        CHECK(p1.derivation[p] == HP_DERIV_KEPT && p1.low[p] == p0.low[p] && p1.high[p] == p0.high[p],
              "no usable outcome: param %d kept", p);
    plan_two(&s, NULL, 0, &p0, &p1, 0);
    CHECK(p1.derivation[0] == HP_DERIV_KEPT && p1.low[0] == 1e-5 && p1.high[0] == 1.0, "no outcomes: kept");

    /* Fixed weight decay: optimizer's value in every stage and every trial. */
    n = make_outcomes(o);
    s.search.params[HP_PARAM_WD].enabled = 0;
    plan_two(&s, o, n, &p0, &p1, 0);
    CHECK(p0.derivation[1] == HP_DERIV_FIXED && p1.derivation[1] == HP_DERIV_FIXED, "wd fixed in both stages");
    CHECK(p1.derivation[0] == HP_DERIV_NARROWED, "lr still narrows with wd fixed");
    int fixed = 0;
    for (int i = 0; i < p1.ntrials; i++) {
        hp_trial_plan t;
        hp_search_trial(&s, &p1, i, &t);
        fixed += t.values[1] == 5e-4;
    }
    CHECK(fixed == p1.ntrials, "every trial uses optim.weight_decay (%d of %d)", fixed, p1.ntrials);

    /* Margin 0 and top-k on one value: the range keeps 1% of the old width around it. */
    base_spec(&s);
    s.search.stages[1].margin = 0;
    hp_trial_outcome same[3] = {{{1e-3, 1e-4}, 0.9, 1, 0}, {{1e-3, 1e-4}, 0.8, 1, 1}, {{1e-3, 1e-4}, 0.7, 1, 2}};
    plan_two(&s, same, 3, &p0, &p1, 0);
    CHECK_CLOSE(log10(p1.high[0] / p1.low[0]), 0.05, 1e-12, 0, "collapsed top-k: width 0.01 * 5 decades");
    CHECK(p1.low[0] < 1e-3 && p1.high[0] > 1e-3 && p1.derivation[0] == HP_DERIV_NARROWED, "point inside");

    /* Errors: bad range, wrong previous plan. */
    hp_err err;
    s.search.params[HP_PARAM_LR].low = 2.0;
    CHECK(hp_search_plan_stage(&s, 0, NULL, NULL, 0, &p0, &err) == -1 && strstr(err.msg, "lr") &&
              strstr(err.msg, "test.yaml"),
          "low > high is an error naming file and parameter: %s", err.msg);
    base_spec(&s);
    CHECK(hp_search_plan_stage(&s, 1, NULL, o, n, &p1, &err) == -1, "stage 1 without a previous plan: %s", err.msg);
    s.search.params[HP_PARAM_LR].bound_low = 1e-3;
    CHECK(hp_search_plan_stage(&s, 0, NULL, NULL, 0, &p0, &err) == -1 && strstr(err.msg, "bounds"),
          "range outside hard bounds: %s", err.msg);
}

static void test_totals(void) {
    hp_spec s;
    base_spec(&s);
    s.search.nstages = 3;
    s.search.stages[1] = (hp_stage_spec){.method = HP_METHOD_GRID, .points = 3, .epochs = 2, .top_k = 3,
                                         .margin = 0.25};
    s.search.stages[2] = (hp_stage_spec){.method = HP_METHOD_RANDOM, .trials = 8, .epochs = 5, .top_k = 2,
                                         .margin = 0.5};
    CHECK(hp_search_total_trials(&s) == 24 + 9 + 8, "total = 24 + 3^2 + 8 (got %lld)",
          (long long)hp_search_total_trials(&s));
    CHECK(hp_search_stage_trials(&s, 1) == 9 && hp_search_stage_trials(&s, 3) == -1, "stage trials");
    CHECK(hp_search_first_trial_id(&s, 0) == 0 && hp_search_first_trial_id(&s, 1) == 24 &&
              hp_search_first_trial_id(&s, 2) == 33,
          "first ids 0, 24, 33");
    hp_trial_outcome o[32];
    int n = make_outcomes(o);
    hp_stage_plan p0, p1, p2;
    hp_err err;
    CHECK(hp_search_plan_stage(&s, 0, NULL, NULL, 0, &p0, &err) == 0, "%s", err.msg);
    CHECK(hp_search_plan_stage(&s, 1, &p0, o, n, &p1, &err) == 0, "%s", err.msg);
    CHECK(hp_search_plan_stage(&s, 2, &p1, NULL, 0, &p2, &err) == 0, "%s", err.msg);
    CHECK(p1.first_trial_id == 24 && p2.first_trial_id == 33 && p1.ntrials == 9 && p2.ntrials == 8,
          "plans accumulate ids (%lld, %lld)", (long long)p1.first_trial_id, (long long)p2.first_trial_id);
    hp_trial_plan t;
    hp_search_trial(&s, &p2, 7, &t);
    CHECK(t.id == 40 && t.stage == 2 && t.index == 7 && t.epochs == 5, "last trial id 40 (got %lld)",
          (long long)t.id);
    s.search.params[HP_PARAM_WD].enabled = 0;
    CHECK(hp_search_total_trials(&s) == 24 + 3 + 8, "one searched parameter: grid of 3");
}

/* The worked example of docs/search.md, number for number. */
static void test_doc_example(void) {
    hp_spec s;
    base_spec(&s);
    hp_trial_outcome o[5] = {
        {{3e-2, 1e-4}, 0.86, 1, 0}, {{1e-1, 2e-5}, 0.85, 1, 1}, {{1e-2, 3e-3}, 0.84, 1, 2},
        {{0.8, 1e-6}, 0.10, 0, 3}, {{1e-5, 1e-3}, 0.55, 1, 4},
    };
    hp_stage_plan p0, p1;
    plan_two(&s, o, 5, &p0, &p1, 0);
    printf("doc example: lr [%.4g, %.4g] %s, wd [%.4g, %.4g] %s\n", p1.low[0], p1.high[0],
           hp_derivation_name(p1.derivation[0]), p1.low[1], p1.high[1], hp_derivation_name(p1.derivation[1]));
    CHECK_CLOSE(p1.low[0], 5.623413251903491e-3, 0, 1e-9, "doc: lr low 10^-2.25");
    CHECK_CLOSE(p1.high[0], 0.1778279410038923, 0, 1e-9, "doc: lr high 10^-0.75");
    CHECK_CLOSE(p1.low[1], 1.1246826503806982e-5, 0, 1e-9, "doc: wd low 10^(log10 2e-5 - 0.25)");
    CHECK_CLOSE(p1.high[1], 5.334838230116769e-3, 0, 1e-9, "doc: wd high 10^(log10 3e-3 + 0.25)");
    /* Now the best trial at lr 1.2e-5 (0.08 decades from the low edge). */
    o[0].values[0] = 1.2e-5;
    plan_two(&s, o, 5, &p0, &p1, 0);
    printf("doc example, edge: lr [%.4g, %.4g] %s\n", p1.low[0], p1.high[0], hp_derivation_name(p1.derivation[0]));
    CHECK(p1.derivation[0] == HP_DERIV_WIDENED_LOW, "doc: widened_low");
    CHECK_CLOSE(p1.low[0], 1e-10, 0, 1e-12, "doc: lr low 1e-10");
    CHECK_CLOSE(p1.high[0], 0.1778279410038923, 0, 1e-9, "doc: lr high 10^-0.75");
}

/* The median pruning rule: below the median of the references stops, at or above it goes on;
 * an even count takes the mean of the middle two; too few references, or a non-finite accuracy,
 * never stop a trial. */
static void test_prune_median(void) {
    double r1[3] = {0.7, 0.5, 0.9};
    CHECK(hp_prune_median(0.69, r1, 3, 2) == 1, "0.69 < median 0.7 of {0.7, 0.5, 0.9}: stop");
    double r2[3] = {0.7, 0.5, 0.9};
    CHECK(hp_prune_median(0.7, r2, 3, 2) == 0, "0.7 = the median: go on");
    double r3[4] = {0.9, 0.5, 0.6, 0.8};
    CHECK(hp_prune_median(0.69, r3, 4, 2) == 1, "0.69 < median 0.7 (mean of 0.6 and 0.8): stop");
    double r4[4] = {0.9, 0.5, 0.6, 0.8};
    CHECK(hp_prune_median(0.71, r4, 4, 2) == 0, "0.71 > median 0.7: go on");
    double r5[2] = {0.9, 0.8};
    CHECK(hp_prune_median(0.1, r5, 2, 3) == 0, "2 references, 3 needed: go on");
    double r6[3] = {0.9, 0.8, 0.7};
    CHECK(hp_prune_median(NAN, r6, 3, 1) == 0, "a NaN accuracy is not judged here (divergence is)");
    CHECK(hp_prune_median(0.1, r6, 0, 1) == 0, "no reference: go on");
}

/* Successive halving at a rung: among the references and the trial, the best ceil((n+1)/eta)
 * go on (a tie goes to the reference, the lower id); the rungs are after * eta^k. */
static void test_prune_halving(void) {
    const double r[5] = {0.9, 0.8, 0.7, 0.6, 0.5}; /* with the trial: 6, keep ceil(6/3) = 2 */
    CHECK(hp_prune_halving(0.85, r, 5, 3, 3) == 0, "0.85: second of 6, in the top 2: go on");
    CHECK(hp_prune_halving(0.75, r, 5, 3, 3) == 1, "0.75: third of 6, out of the top 2: stop");
    CHECK(hp_prune_halving(0.8, r, 5, 3, 3) == 1, "0.8 ties 0.8: the lower id ranks first, third: stop");
    CHECK(hp_prune_halving(0.79, r, 2, 2, 1) == 1, "eta 2, 3 in all, keep 2: 0.79 below 0.9 and 0.8: stop");
    CHECK(hp_prune_halving(0.81, r, 2, 2, 1) == 0, "eta 2, keep 2: 0.81 second: go on");
    CHECK(hp_prune_halving(0.1, r, 2, 3, 3) == 0, "2 references, 3 needed: go on");
    CHECK(hp_prune_halving(NAN, r, 5, 3, 1) == 0, "a NaN accuracy is not judged here");
    CHECK(hp_prune_is_rung(1, 1, 3) && hp_prune_is_rung(3, 1, 3) && hp_prune_is_rung(9, 1, 3) &&
              !hp_prune_is_rung(2, 1, 3) && !hp_prune_is_rung(4, 1, 3),
          "rungs of after 1, eta 3: 1, 3, 9, not 2 or 4");
    CHECK(hp_prune_is_rung(2, 2, 2) && hp_prune_is_rung(8, 2, 2) && !hp_prune_is_rung(1, 2, 2) &&
              !hp_prune_is_rung(6, 2, 2),
          "rungs of after 2, eta 2: 2, 4, 8, not 1 or 6");
}

/* ---- other parameters: int, int_log, choice ------------------------------------------------- */

/* Chi-square critical values at alpha = 0.001 by degrees of freedom (1, 2, 6, 26). */
#define CHI2_001_DF1 10.828
#define CHI2_001_DF2 13.816
#define CHI2_001_DF6 22.458
#define CHI2_001_DF26 54.052
#define NDRAW 20000

/* Append a searched parameter (as the spec parser would: default bounds = its range). */
static int add_param(hp_spec *s, const char *name, hp_scale scale, double lo, double hi) {
    int p = s->search.nparams++;
    hp_param_range *r = &s->search.params[p];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->path, sizeof r->path, "%s", name);
    r->enabled = 1, r->scale = scale, r->low = lo, r->high = hi;
    r->bound_low = lo, r->bound_high = hi;
    return p;
}

static int add_choice(hp_spec *s, const char *name, int n) {
    int p = add_param(s, name, HP_SCALE_CHOICE, 0, n - 1);
    hp_param_range *r = &s->search.params[p];
    r->nchoices = n;
    for (int i = 0; i < n; i++) snprintf(r->choices[i], sizeof r->choices[i], "c%d", i);
    r->bound_low = r->bound_high = 0;
    return p;
}

/* Pearson's chi-square of counts against expected counts. */
static double chi2(const double *count, const double *expect, int n) {
    double x = 0;
    for (int i = 0; i < n; i++) x += (count[i] - expect[i]) * (count[i] - expect[i]) / expect[i];
    return x;
}

/* NDRAW trials of stage 0 (random); parameter p's values into v. */
static void draw_many(hp_spec *s, int p, double *v) {
    s->search.stages[0].trials = NDRAW;
    hp_stage_plan plan;
    hp_err err = {{0}};
    CHECK(hp_search_plan_stage(s, 0, NULL, NULL, 0, &plan, &err) == 0, "plan %d draws: %s", NDRAW, err.msg);
    for (int i = 0; i < NDRAW; i++) {
        hp_trial_plan t;
        hp_search_trial(s, &plan, i, &t);
        v[i] = t.values[p];
    }
}

/* int [3, 9]: integers, each of the 7 equally likely. */
static void test_int_uniform(void) {
    hp_spec s;
    base_spec(&s);
    int p = add_param(&s, "train.batch_size", HP_SCALE_INT, 3, 9);
    static double v[NDRAW];
    draw_many(&s, p, v);
    double count[7] = {0}, expect[7];
    int ok = 1;
    for (int i = 0; i < NDRAW; i++) {
        ok &= v[i] == floor(v[i]) && v[i] >= 3 && v[i] <= 9;
        if (v[i] >= 3 && v[i] <= 9) count[(int)v[i] - 3]++;
    }
    CHECK(ok, "int [3, 9]: every draw an integer in range");
    for (int k = 0; k < 7; k++) expect[k] = NDRAW / 7.0;
    double x = chi2(count, expect, 7);
    printf("int [3, 9]: counts %g %g %g %g %g %g %g, chi2 %.3f (critical %.3f)\n", count[0], count[1], count[2],
           count[3], count[4], count[5], count[6], x, CHI2_001_DF6);
    CHECK(x < CHI2_001_DF6, "int [3, 9] uniform over 7 values: chi2 %.3f, critical %.3f", x, CHI2_001_DF6);
    CHECK(count[0] > 0 && count[6] > 0, "both ends drawn (3: %g, 9: %g)", count[0], count[6]);
}

/* int_log [1, 1000]: floor(10^u), u uniform in [0, log10 1001): P(v = k) = log10((k+1)/k) / log10 1001.
 * Bins: 1..9 singly, then tens 10-19 .. 90-99, then hundreds 100-199 .. 900-1000 (27 bins). */
static void int_log_bins(const double *v, int n, double *count, double *expect) {
    int lo[27], hi[27];
    for (int b = 0; b < 9; b++) lo[b] = hi[b] = b + 1;
    for (int b = 0; b < 9; b++) lo[9 + b] = 10 * (b + 1), hi[9 + b] = 10 * (b + 1) + 9;
    for (int b = 0; b < 9; b++) lo[18 + b] = 100 * (b + 1), hi[18 + b] = 100 * (b + 1) + 99;
    hi[26] = 1000;
    for (int b = 0; b < 27; b++) {
        count[b] = 0;
        expect[b] = n * (log10(hi[b] + 1.0) - log10((double)lo[b])) / log10(1001.0);
    }
    for (int i = 0; i < n; i++)
        for (int b = 0; b < 27; b++)
            if (v[i] >= lo[b] && v[i] <= hi[b]) count[b]++;
}

static void test_int_log_uniform(void) {
    hp_spec s;
    base_spec(&s);
    int p = add_param(&s, "model.layers.0.units", HP_SCALE_INT_LOG, 1, 1000);
    static double v[NDRAW];
    draw_many(&s, p, v);
    int ok = 1;
    double below10 = 0;
    for (int i = 0; i < NDRAW; i++) {
        ok &= v[i] == floor(v[i]) && v[i] >= 1 && v[i] <= 1000;
        below10 += v[i] < 10;
    }
    CHECK(ok, "int_log [1, 1000]: every draw an integer in range");
    double count[27], expect[27];
    int_log_bins(v, NDRAW, count, expect);
    double x = chi2(count, expect, 27);
    printf("int_log [1, 1000]: %g of %d below 10 (1/3 expected), chi2 %.3f over 27 bins (critical %.3f)\n", below10,
           NDRAW, x, CHI2_001_DF26);
    CHECK(x < CHI2_001_DF26, "int_log draws follow floor(10^uniform): chi2 %.3f, critical %.3f", x, CHI2_001_DF26);
    /* a third of the draws below 10 (1 decade of 3.0004): within 5 standard deviations */
    double want = NDRAW / log10(1001.0), sd = sqrt(NDRAW * (1 / log10(1001.0)) * (1 - 1 / log10(1001.0)));
    CHECK(fabs(below10 - want) < 5 * sd, "int_log: %g draws below 10, want %.0f +- %.0f", below10, want, 5 * sd);

    /* Control: int (linear) draws on the same range fail the same test. */
    s.search.params[p].scale = HP_SCALE_INT;
    draw_many(&s, p, v);
    int_log_bins(v, NDRAW, count, expect);
    x = chi2(count, expect, 27);
    CHECK(x > CHI2_001_DF26, "control: linear int draws fail the int_log test (chi2 %.1f)", x);
}

/* A choice of 3: indices 0..2, uniform; a stage set {0, 2} draws only those, uniformly. */
static void test_choice_uniform(void) {
    hp_spec s;
    base_spec(&s);
    int p = add_choice(&s, "optimizer.type", 3);
    static double v[NDRAW];
    draw_many(&s, p, v);
    double count[3] = {0}, expect[3] = {NDRAW / 3.0, NDRAW / 3.0, NDRAW / 3.0};
    int ok = 1;
    for (int i = 0; i < NDRAW; i++) {
        ok &= v[i] == 0 || v[i] == 1 || v[i] == 2;
        if (v[i] >= 0 && v[i] <= 2) count[(int)v[i]]++;
    }
    CHECK(ok, "choice of 3: every value an index 0, 1 or 2");
    double x = chi2(count, expect, 3);
    printf("choice of 3: counts %g %g %g, chi2 %.3f (critical %.3f)\n", count[0], count[1], count[2], x, CHI2_001_DF2);
    CHECK(x < CHI2_001_DF2, "choice of 3 uniform: chi2 %.3f, critical %.3f", x, CHI2_001_DF2);

    hp_stage_plan plan;
    hp_err err = {{0}};
    CHECK(hp_search_plan_stage(&s, 0, NULL, NULL, 0, &plan, &err) == 0, "plan: %s", err.msg);
    CHECK(plan.choices[p] == 7u && plan.derivation[p] == HP_DERIV_INITIAL && plan.low[p] == 0 && plan.high[p] == 2,
          "stage 0 of a choice of 3: set 0x%x, [%g, %g]", plan.choices[p], plan.low[p], plan.high[p]);
    plan.choices[p] = 5u; /* {0, 2} */
    double c2[2] = {0}, e2[2] = {NDRAW / 2.0, NDRAW / 2.0};
    ok = 1;
    for (int i = 0; i < NDRAW; i++) {
        hp_trial_plan t;
        hp_search_trial(&s, &plan, i, &t);
        ok &= t.values[p] == 0 || t.values[p] == 2;
        c2[t.values[p] == 2]++;
    }
    x = chi2(c2, e2, 2);
    CHECK(ok && x < CHI2_001_DF1, "set {0, 2}: only 0 and 2 (%d), uniform: chi2 %.3f (counts %g %g)", ok, x, c2[0],
          c2[1]);
}

/* Draw p of a trial's stream is parameter p's: adding parameters leaves lr and weight decay (and
 * the trial seeds) bit for bit as they were, and a third parameter as it was when a fourth comes. */
static void test_params_added(void) {
    enum { N = 500 };
    hp_spec s;
    base_spec(&s);
    s.search.stages[0].trials = N;
    hp_stage_plan plan;
    hp_err err = {{0}};
    static hp_trial_plan two[N], three[N];
    CHECK(hp_search_plan_stage(&s, 0, NULL, NULL, 0, &plan, &err) == 0, "plan: %s", err.msg);
    for (int i = 0; i < N; i++) hp_search_trial(&s, &plan, i, &two[i]);
    int p2 = add_param(&s, "optimizer.momentum", HP_SCALE_LINEAR, 0.5, 0.99);
    CHECK(hp_search_plan_stage(&s, 0, NULL, NULL, 0, &plan, &err) == 0, "plan with 3: %s", err.msg);
    int same = 0, inside = 0;
    for (int i = 0; i < N; i++) {
        hp_search_trial(&s, &plan, i, &three[i]);
        same += memcmp(two[i].values, three[i].values, 2 * sizeof(double)) == 0 && two[i].seed == three[i].seed;
        inside += three[i].values[p2] >= 0.5 && three[i].values[p2] <= 0.99;
    }
    CHECK(same == N, "a third parameter leaves lr, wd and seed bit-identical (%d of %d)", same, N);
    CHECK(inside == N, "third parameter within [0.5, 0.99] (%d of %d)", inside, N);
    add_choice(&s, "optimizer.type", 4);
    CHECK(hp_search_plan_stage(&s, 0, NULL, NULL, 0, &plan, &err) == 0, "plan with 4: %s", err.msg);
    same = 0;
    for (int i = 0; i < N; i++) {
        hp_trial_plan t;
        hp_search_trial(&s, &plan, i, &t);
        same += memcmp(t.values, three[i].values, 3 * sizeof(double)) == 0;
    }
    CHECK(same == N, "a fourth parameter leaves the first three bit-identical (%d of %d)", same, N);
}

/* Grid: lr (3 points), an int [1, 4] (3 points: 1, 2.5 rounded to 3, 4) and a choice of 2, weight
 * decay fixed: 3 * 3 * 2 = 18 trials in mixed radix order, the last parameter fastest. */
static void test_grid_mixed(void) {
    hp_spec s;
    base_spec(&s);
    s.search.params[HP_PARAM_LR].low = 1e-4, s.search.params[HP_PARAM_LR].high = 1e-2;
    s.search.params[HP_PARAM_WD].enabled = 0;
    s.search.stages[0] = (hp_stage_spec){.method = HP_METHOD_GRID, .points = 3, .epochs = 2};
    int pc = add_choice(&s, "optimizer.type", 2);
    hp_stage_plan plan;
    hp_err err = {{0}};
    CHECK(hp_search_stage_trials(&s, 0) == 6, "lr 3 points x choice of 2 = 6 (got %lld)",
          (long long)hp_search_stage_trials(&s, 0));
    CHECK(hp_search_plan_stage(&s, 0, NULL, NULL, 0, &plan, &err) == 0 && plan.ntrials == 6, "plan: %s", err.msg);
    static const double lr3[3] = {1e-4, 1e-3, 1e-2};
    int exact = 0;
    for (int i = 0; i < 6; i++) {
        hp_trial_plan t;
        hp_search_trial(&s, &plan, i, &t);
        int ok = t.values[0] == lr3[i / 2] && t.values[1] == 5e-4 && t.values[pc] == i % 2;
        if (!ok)
            CHECK(0, "grid 3x2 trial %d: (%.17g, %g, %g), want (%g, 5e-4, %d)", i, t.values[0], t.values[1],
                  t.values[pc], lr3[i / 2], i % 2);
        exact += ok;
    }
    CHECK(exact == 6, "grid 3x2: %d of 6 exact, choice fastest", exact);

    /* an int between them */
    s.search.nparams = HP_NFIXED_PARAMS;
    int pi = add_param(&s, "model.layers.0.units", HP_SCALE_INT, 1, 4);
    pc = add_choice(&s, "optimizer.type", 2);
    CHECK(hp_search_stage_trials(&s, 0) == 18, "3 x 3 x 2 = 18 (got %lld)", (long long)hp_search_stage_trials(&s, 0));
    CHECK(hp_search_plan_stage(&s, 0, NULL, NULL, 0, &plan, &err) == 0 && plan.ntrials == 18, "plan: %s", err.msg);
    static const double int3[3] = {1, 3, 4};
    exact = 0;
    for (int i = 0; i < 18; i++) {
        hp_trial_plan t;
        hp_search_trial(&s, &plan, i, &t);
        int ok = t.values[0] == lr3[i / 6] && t.values[pi] == int3[(i / 2) % 3] && t.values[pc] == i % 2 &&
                 t.index == i && t.id == i;
        if (!ok)
            CHECK(0, "grid 3x3x2 trial %d: (%.17g, %g, %g), want (%g, %g, %d)", i, t.values[0], t.values[pi],
                  t.values[pc], lr3[i / 6], int3[(i / 2) % 3], i % 2);
        exact += ok;
    }
    CHECK(exact == 18, "grid 3x3x2: %d of 18 exact in mixed radix order", exact);

    /* A narrowed choice set {0, 2} of 3 fills the 3 grid slots with 0, 2, 0. */
    s.search.nparams = HP_NFIXED_PARAMS;
    s.search.params[HP_PARAM_LR].enabled = 0;
    pc = add_choice(&s, "optimizer.type", 3);
    CHECK(hp_search_plan_stage(&s, 0, NULL, NULL, 0, &plan, &err) == 0 && plan.ntrials == 3, "plan: %s", err.msg);
    plan.choices[pc] = 5u;
    static const double slots[3] = {0, 2, 0};
    exact = 0;
    for (int i = 0; i < 3; i++) {
        hp_trial_plan t;
        hp_search_trial(&s, &plan, i, &t);
        exact += t.values[pc] == slots[i] && t.values[0] == 0.1;
    }
    CHECK(exact == 3, "grid of a narrowed set {0, 2}: slots 0, 2, 0 (%d of 3)", exact);
}

/* Stage 1 after outcomes whose top 3 (scores 0.9, 0.8, 0.7) have the given values of parameter p;
 * filler outcomes below them take filler[i]. */
static void narrow_with(hp_spec *s, int p, const double *top, const double *filler, int nfill, hp_stage_plan *p0,
                        hp_stage_plan *p1) {
    hp_trial_outcome o[16];
    memset(o, 0, sizeof o);
    int n = 0;
    for (int i = 0; i < 3 + nfill; i++, n++) {
        o[n].values[0] = 1e-3 * (1 + i % 3); /* interior lr */
        o[n].values[1] = 1e-4;
        o[n].values[p] = i < 3 ? top[i] : filler[i - 3];
        o[n].score = i < 3 ? 0.9 - 0.1 * i : 0.1;
        o[n].usable = 1;
        o[n].trial = i;
    }
    plan_two(s, o, n, p0, p1, 0);
}

static void test_narrow_choice(void) {
    hp_spec s;
    base_spec(&s);
    int p = add_choice(&s, "optimizer.type", 4);
    hp_stage_plan p0, p1, p2;
    const double filler[4] = {0, 2, 0, 2};
    narrow_with(&s, p, (const double[]){1, 3, 1}, filler, 4, &p0, &p1);
    CHECK(p0.choices[p] == 0xfu, "stage 0: all 4 (0x%x)", p0.choices[p]);
    CHECK(p1.choices[p] == 0xau && p1.derivation[p] == HP_DERIV_NARROWED && p1.low[p] == 0 && p1.high[p] == 3,
          "top-3 values {1, 3}: set 0x%x (want 0xa), %s", p1.choices[p], hp_derivation_name(p1.derivation[p]));
    int ok = 1;
    for (int i = 0; i < p1.ntrials; i++) {
        hp_trial_plan t;
        hp_search_trial(&s, &p1, i, &t);
        ok &= t.values[p] == 1 || t.values[p] == 3;
    }
    CHECK(ok, "stage 1 draws only 1 and 3");

    /* top 3 covering the whole set: kept */
    narrow_with(&s, p, (const double[]){3, 0, 2}, (const double[]){1}, 1, &p0, &p1);
    CHECK(p1.choices[p] == 0xdu && p1.derivation[p] == HP_DERIV_NARROWED, "{3, 0, 2}: 0x%x", p1.choices[p]);
    s.search.stages[1].top_k = 4;
    narrow_with(&s, p, (const double[]){3, 0, 2}, (const double[]){1}, 1, &p0, &p1);
    CHECK(p1.choices[p] == 0xfu && p1.derivation[p] == HP_DERIV_KEPT, "top 4 cover all: 0x%x, %s", p1.choices[p],
          hp_derivation_name(p1.derivation[p]));
    s.search.stages[1].top_k = 3;

    /* a further stage narrows within the set; values outside it keep the set */
    s.search.nstages = 3;
    s.search.stages[2] = s.search.stages[1];
    narrow_with(&s, p, (const double[]){1, 3, 1}, filler, 4, &p0, &p1);
    hp_trial_outcome o2[3] = {{{1e-3, 1e-4}, 0.9, 1, 40}, {{2e-3, 1e-4}, 0.8, 1, 41}, {{3e-3, 1e-4}, 0.7, 1, 42}};
    for (int i = 0; i < 3; i++) o2[i].values[p] = 3;
    hp_err err = {{0}};
    CHECK(hp_search_plan_stage(&s, 2, &p1, o2, 3, &p2, &err) == 0, "stage 2: %s", err.msg);
    CHECK(p2.choices[p] == 0x8u && p2.derivation[p] == HP_DERIV_NARROWED, "stage 2 top all 3: set 0x%x (want 0x8)",
          p2.choices[p]);
    for (int i = 0; i < 3; i++) o2[i].values[p] = 0; /* not in {1, 3} */
    CHECK(hp_search_plan_stage(&s, 2, &p1, o2, 3, &p2, &err) == 0, "stage 2: %s", err.msg);
    CHECK(p2.choices[p] == 0xau && p2.derivation[p] == HP_DERIV_KEPT, "values outside the set: kept 0x%x, %s",
          p2.choices[p], hp_derivation_name(p2.derivation[p]));
}

static void test_narrow_int(void) {
    hp_spec s;
    base_spec(&s);
    s.search.stages[1].margin = 0.033; /* 3.3 on [0, 100] */
    int p = add_param(&s, "train.batch_size", HP_SCALE_INT, 0, 100);
    hp_stage_plan p0, p1;
    const double filler[3] = {5, 80, 95};
    narrow_with(&s, p, (const double[]){47, 40, 55}, filler, 3, &p0, &p1);
    printf("int narrowing: [%g, %g] %s\n", p1.low[p], p1.high[p], hp_derivation_name(p1.derivation[p]));
    CHECK(p1.low[p] == 36 && p1.high[p] == 59 && p1.derivation[p] == HP_DERIV_NARROWED,
          "int [0, 100], top {47, 40, 55}, margin 3.3: [36.7, 58.3] rounded out to [36, 59] (got [%.17g, %.17g] %s)",
          p1.low[p], p1.high[p], hp_derivation_name(p1.derivation[p]));
    int ok = 1;
    for (int i = 0; i < p1.ntrials; i++) {
        hp_trial_plan t;
        hp_search_trial(&s, &p1, i, &t);
        ok &= t.values[p] == floor(t.values[p]) && t.values[p] >= 36 && t.values[p] <= 59;
    }
    CHECK(ok, "stage 1 int draws are integers in [36, 59]");

    /* all three the same, margin 0: the 1% minimum width, rounded out to two integers about it */
    s.search.stages[1].margin = 0;
    narrow_with(&s, p, (const double[]){50, 50, 50}, filler, 3, &p0, &p1);
    CHECK(p1.low[p] == 49 && p1.high[p] == 51, "int top {50, 50, 50}, margin 0: [49.5, 50.5] rounded out to [49, 51] "
          "(got [%g, %g])", p1.low[p], p1.high[p]);
    /* best 5 within 5% of the low end on the bound 0: that side runs to the old edge */
    narrow_with(&s, p, (const double[]){5, 5, 5}, filler, 3, &p0, &p1);
    CHECK(p1.low[p] == 0 && p1.high[p] == 5 && p1.derivation[p] == HP_DERIV_NARROWED,
          "int top {5, 5, 5} at the low edge: [0, 5] (got [%g, %g] %s)", p1.low[p], p1.high[p],
          hp_derivation_name(p1.derivation[p]));

    /* best on the high bound: no widening past the default bounds (the range) */
    s.search.stages[1].margin = 0.033;
    narrow_with(&s, p, (const double[]){99, 40, 55}, filler, 3, &p0, &p1);
    CHECK(p1.low[p] == 36 && p1.high[p] == 100 && p1.derivation[p] == HP_DERIV_NARROWED,
          "int best 99 at the bound 100: [36, 100] narrowed (got [%g, %g] %s)", p1.low[p], p1.high[p],
          hp_derivation_name(p1.derivation[p]));
}

static void test_narrow_int_log(void) {
    hp_spec s;
    base_spec(&s);
    s.search.stages[1].margin = 0.1; /* decades */
    int p = add_param(&s, "model.layers.0.units", HP_SCALE_INT_LOG, 1, 1000);
    hp_stage_plan p0, p1;
    const double filler[3] = {2, 300, 900};
    narrow_with(&s, p, (const double[]){30, 20, 50}, filler, 3, &p0, &p1);
    printf("int_log narrowing: [%g, %g] %s\n", p1.low[p], p1.high[p], hp_derivation_name(p1.derivation[p]));
    /* 10^(log10 20 - 0.1) = 15.89 -> 15; 10^(log10 50 + 0.1) = 62.95 -> 63 */
    CHECK(p1.low[p] == 15 && p1.high[p] == 63 && p1.derivation[p] == HP_DERIV_NARROWED,
          "int_log [1, 1000], top {30, 20, 50}, 0.1 decades: [15.89, 62.95] rounded out to [15, 63] (got [%.17g, "
          "%.17g] %s)",
          p1.low[p], p1.high[p], hp_derivation_name(p1.derivation[p]));
    int ok = 1;
    for (int i = 0; i < p1.ntrials; i++) {
        hp_trial_plan t;
        hp_search_trial(&s, &p1, i, &t);
        ok &= t.values[p] == floor(t.values[p]) && t.values[p] >= 15 && t.values[p] <= 63;
    }
    CHECK(ok, "stage 1 int_log draws are integers in [15, 63]");
}

/* Promotion (hp_search_promote): the top_k promotable trials of the stage before, best first by
 * hp_better_score (ties to the lower id), each a new trial continuing the id sequence with its
 * parent's values and seed and parent epochs + the stage's epochs; slots past the promotable ones
 * empty (parent -1); a promote stage keeps the ranges and counts min(top_k, trials before). */
static void test_promote(void) {
    hp_spec s;
    base_spec(&s);
    s.search.stages[0].trials = 6;
    s.search.nstages = 3;
    s.search.stages[1] = (hp_stage_spec){.method = HP_METHOD_PROMOTE, .epochs = 2, .top_k = 3};
    s.search.stages[2] = (hp_stage_spec){.method = HP_METHOD_PROMOTE, .epochs = 4, .top_k = 5};
    CHECK(hp_search_stage_trials(&s, 1) == 3 && hp_search_stage_trials(&s, 2) == 3,
          "promote stages hold min(top_k, trials before): 3 and 3 (got %lld, %lld)",
          (long long)hp_search_stage_trials(&s, 1), (long long)hp_search_stage_trials(&s, 2));
    CHECK(hp_search_total_trials(&s) == 12 && hp_search_first_trial_id(&s, 2) == 9, "total 12, stage 2 at id 9");
    hp_err err = {{0}};
    hp_stage_plan p0, p1;
    CHECK(hp_search_plan_stage(&s, 0, NULL, NULL, 0, &p0, &err) == 0, "%s", err.msg);
    hp_trial_plan cand[6], out[3];
    hp_trial_outcome o[6];
    int done[6];
    double score[6] = {0.5, 0.8, NAN, 0.8, 0.9, 0.7}; /* trial 2 diverged; 1 and 3 tie; 4 best */
    for (int i = 0; i < 6; i++) {
        hp_search_trial(&s, &p0, i, &cand[i]);
        o[i] = (hp_trial_outcome){{0}, score[i], 1, cand[i].id};
        done[i] = 1;
    }
    o[2].usable = 0;
    CHECK(hp_search_plan_stage(&s, 1, &p0, NULL, 0, &p1, &err) == 0, "%s", err.msg);
    CHECK(p1.method == HP_METHOD_PROMOTE && p1.ntrials == 3 && p1.first_trial_id == 6 && p1.epochs == 2 &&
              p1.low[HP_PARAM_LR] == p0.low[HP_PARAM_LR] && p1.high[HP_PARAM_WD] == p0.high[HP_PARAM_WD] &&
              p1.derivation[HP_PARAM_LR] == HP_DERIV_KEPT,
          "the promote stage's plan: 3 trials from id 6, ranges kept");
    int64_t parent[3];
    int k = hp_search_promote(&s, &p1, cand, o, done, 6, out, parent, &err);
    CHECK(k == 3 && parent[0] == 4 && parent[1] == 1 && parent[2] == 3,
          "promoted 3: trials 4, 1, 3 (best first, the tie to the lower id); got %d: %lld %lld %lld", k,
          (long long)parent[0], (long long)parent[1], (long long)parent[2]);
    for (int i = 0; i < 3; i++) {
        const hp_trial_plan *p = &out[i], *q = &cand[parent[i]];
        CHECK(p->id == 6 + i && p->stage == 1 && p->index == i && p->epochs == 1 + 2 && p->seed == q->seed &&
                  memcmp(p->values, q->values, sizeof p->values) == 0,
              "promoted trial %d: id %lld, stage 1, parent's values and seed, 3 epochs", i, (long long)p->id);
    }
    /* Only two promotable (the others did not train every epoch: epochs_done 0 marks them): one empty slot. */
    for (int i = 0; i < 6; i++) o[i].usable = i == 0 || i == 5;
    done[5] = 4; /* a longer parent: its promoted trial plans 4 + 2 */
    k = hp_search_promote(&s, &p1, cand, o, done, 6, out, parent, &err);
    CHECK(k == 2 && parent[0] == 5 && parent[1] == 0 && parent[2] == -1 && out[0].epochs == 6 && out[2].id == 8 &&
              out[2].epochs == 0 && out[2].seed == 0,
          "two promotable: 5 then 0, slot 3 empty (got %d: %lld %lld %lld)", k, (long long)parent[0],
          (long long)parent[1], (long long)parent[2]);
    /* The same answer whatever order the candidates come in. */
    hp_trial_plan rc[6];
    hp_trial_outcome ro[6];
    int rd[6];
    for (int i = 0; i < 6; i++) rc[i] = cand[5 - i], ro[i] = o[5 - i], rd[i] = done[5 - i];
    int64_t parent2[3];
    hp_trial_plan out2[3];
    CHECK(hp_search_promote(&s, &p1, rc, ro, rd, 6, out2, parent2, &err) == 2 && parent2[0] == 5 && parent2[1] == 0,
          "order of the candidates does not matter");
    /* Stage 0 cannot promote. */
    s.search.stages[0] = (hp_stage_spec){.method = HP_METHOD_PROMOTE, .epochs = 2, .top_k = 3};
    CHECK(hp_search_plan_stage(&s, 0, NULL, NULL, 0, &p0, &err) == -1 && strstr(err.msg, "stage 0"),
          "a promote stage 0 is refused: %s", err.msg);
}

int main(void) {
    test_promote();
    test_prune_median();
    test_prune_halving();
    test_random_log_uniform();
    test_grid();
    test_determinism();
    test_narrowing();
    test_widening();
    test_kept_fixed_collapse();
    test_totals();
    test_doc_example();
    test_int_uniform();
    test_int_log_uniform();
    test_choice_uniform();
    test_params_added();
    test_grid_mixed();
    test_narrow_choice();
    test_narrow_int();
    test_narrow_int_log();
    return hp_check_summary("test_search");
}
