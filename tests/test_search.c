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
    hp_param_range *lr = &s->search.params[HP_PARAM_LR], *wd = &s->search.params[HP_PARAM_WD];
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
    for (int p = 0; p < HP_NPARAMS; p++) {
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
    for (int p = 0; p < HP_NPARAMS; p++) {
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
        for (int p = 0; p < HP_NPARAMS; p++) inside &= t.values[p] >= p1.low[p] && t.values[p] <= p1.high[p];
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
    for (int p = 0; p < HP_NPARAMS; p++)
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
    return hp_check_summary("test_search");
}
