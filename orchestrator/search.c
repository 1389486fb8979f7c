/* search.c - see search.h: stage ranges, trial sampling (random, grid) and the narrowing rule.
 *
 * All range arithmetic happens in "search space": log10(value) on a log scale, the value itself
 * on a linear scale. Results are mapped back to values at the end and clamped to the container
 * they were computed in, so that a side that did not move keeps the old value bit for bit
 * (10^log10(x) need not round back to x).
 */
#include "search.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* The best trial is "at an edge" when it lies within this fraction of the old width of it. */
#define EDGE_FRACTION 0.05
/* A narrowed range is never narrower than this fraction of the old width (matters only when
 * the margin is tiny or 0 and the top-k trials nearly agree). */
#define MIN_WIDTH_FRACTION 0.01
/* Implicit hard bounds, so that repeated widening stays representable: values on a log scale
 * stay within [1e-300, 1e300], on a linear scale within [-1e300, 1e300]. */
#define LOG_LIMIT 1e300
#define LINEAR_LIMIT 1e300

const char *hp_derivation_name(hp_derivation d) {
    switch (d) {
    case HP_DERIV_INITIAL: return "initial";
    case HP_DERIV_NARROWED: return "narrowed";
    case HP_DERIV_WIDENED_LOW: return "widened_low";
    case HP_DERIV_WIDENED_HIGH: return "widened_high";
    case HP_DERIV_KEPT: return "kept";
    case HP_DERIV_FIXED: return "fixed";
    }
    return "unknown";
}

/* Parameter names for messages. */
static const char *pname(const hp_spec *spec, int p) { return spec->search.params[p].name; }

/* A parameter the search does not vary (only lr and weight decay can be): the optimizer's value. */
static double fixed_value(const hp_spec *spec, int p) {
    return p == HP_PARAM_LR ? spec->optim.lr : p == HP_PARAM_WD ? spec->optim.weight_decay : 0.0;
}

static int is_log(hp_scale scale) { return scale == HP_SCALE_LOG || scale == HP_SCALE_INT_LOG; }
static int is_int(hp_scale scale) { return scale == HP_SCALE_INT || scale == HP_SCALE_INT_LOG; }

static double to_space(hp_scale scale, double v) { return is_log(scale) ? log10(v) : v; }

static double from_space(hp_scale scale, double x) { return is_log(scale) ? pow(10.0, x) : x; }

/* Values a grid stage gives parameter r: `points`, or every listed value of a choice. */
static int grid_count(const hp_param_range *r, int points) {
    return r->scale == HP_SCALE_CHOICE ? r->nchoices : points;
}

/* The all-choices set of a choice parameter. */
static uint32_t all_choices(const hp_param_range *r) {
    return r->nchoices >= 32 ? 0xffffffffu : ((1u << r->nchoices) - 1u);
}

static int popcount32(uint32_t m) {
    int n = 0;
    for (; m; m &= m - 1) n++;
    return n;
}

/* The index of the j-th set bit of m (j < popcount). */
static int nth_bit(uint32_t m, int j) {
    for (int i = 0; i < 32; i++)
        if ((m >> i) & 1u) {
            if (j == 0) return i;
            j--;
        }
    return 0;
}

static double clampd(double x, double lo, double hi) { return x < lo ? lo : (x > hi ? hi : x); }

/* bound_low == bound_high (both 0 in a zeroed struct) means "no hard bounds". */
static int has_bounds(const hp_param_range *r) { return r->bound_low != r->bound_high; }

/* Hard bounds as values, including the implicit ones. */
static void hard_bounds(const hp_param_range *r, double *lo, double *hi) {
    double limit = is_log(r->scale) ? LOG_LIMIT : LINEAR_LIMIT;
    *lo = is_log(r->scale) ? (is_int(r->scale) ? 1.0 : 1.0 / LOG_LIMIT) : -LINEAR_LIMIT;
    *hi = limit;
    if (has_bounds(r)) *lo = fmax(*lo, r->bound_low), *hi = fmin(*hi, r->bound_high);
}

/* Trials in stage `stage`: random -> trials; grid -> the product of grid_count over the searched
 * parameters. -1 if the stage does not exist. */
int64_t hp_search_stage_trials(const hp_spec *spec, int stage) {
    const hp_search_spec *s = &spec->search;
    if (stage < 0 || stage >= s->nstages || stage >= HP_MAX_STAGES) return -1;
    const hp_stage_spec *st = &s->stages[stage];
    if (st->method == HP_METHOD_RANDOM) return st->trials;
    if (st->method == HP_METHOD_PROMOTE) { /* top_k slots, at most the stage before's trials */
        int64_t before = stage > 0 ? hp_search_stage_trials(spec, stage - 1) : 0;
        return before < st->top_k ? (before > 0 ? before : 0) : st->top_k;
    }
    int64_t n = 1;
    for (int p = 0; p < s->nparams && p < HP_MAX_PARAMS; p++)
        if (s->params[p].enabled) {
            n *= grid_count(&s->params[p], st->points);
            if (n > 0x7fffffff) return n; /* check_spec refuses it */
        }
    return n;
}

int64_t hp_search_total_trials(const hp_spec *spec) {
    int64_t total = 0;
    for (int s = 0; s < spec->search.nstages && s < HP_MAX_STAGES; s++) {
        int64_t n = hp_search_stage_trials(spec, s);
        if (n > 0) total += n;
    }
    return total;
}

int64_t hp_search_first_trial_id(const hp_spec *spec, int stage) {
    int64_t id = 0;
    for (int s = 0; s < stage && s < spec->search.nstages && s < HP_MAX_STAGES; s++) {
        int64_t n = hp_search_stage_trials(spec, s);
        if (n > 0) id += n;
    }
    return id;
}

/* What every plan checks about the spec before using it; the parser validates too, but the
 * planner is also called on specs read back from results files and built by tests. */
static int check_spec(const hp_spec *spec, int stage, hp_err *err) {
    const hp_search_spec *s = &spec->search;
    if (s->nstages < 1 || s->nstages > HP_MAX_STAGES)
        return hp_errf(err, "%s: search.stages has %d entries; give between 1 and %d", spec->path, s->nstages,
                       HP_MAX_STAGES);
    if (s->nparams < HP_NFIXED_PARAMS || s->nparams > HP_MAX_PARAMS)
        return hp_errf(err, "%s: search.params has %d entries; between %d and %d expected", spec->path, s->nparams,
                       HP_NFIXED_PARAMS, HP_MAX_PARAMS);
    for (int p = 0; p < s->nparams; p++) {
        const hp_param_range *r = &s->params[p];
        if (!r->enabled) continue;
        if (r->scale == HP_SCALE_CHOICE) {
            if (r->nchoices < 1 || r->nchoices > HP_MAX_CHOICES)
                return hp_errf(err, "%s: search.%s: %d choices; give between 1 and %d", spec->path, pname(spec, p),
                               r->nchoices, HP_MAX_CHOICES);
            continue;
        }
        if (!(isfinite(r->low) && isfinite(r->high) && r->low < r->high))
            return hp_errf(err, "%s: search.%s: low %g must be below high %g (both finite)", spec->path, pname(spec, p),
                           r->low, r->high);
        if (is_log(r->scale) && !(r->low > 0))
            return hp_errf(err, "%s: search.%s: low %g must be > 0 on a log scale; use scale: linear or a positive low",
                           spec->path, pname(spec, p), r->low);
        if (has_bounds(r) && !(r->low >= r->bound_low && r->high <= r->bound_high))
            return hp_errf(err, "%s: search.%s: range [%g, %g] lies outside the hard bounds [%g, %g]; widen the bounds",
                           spec->path, pname(spec, p), r->low, r->high, r->bound_low, r->bound_high);
    }
    const hp_stage_spec *st = &s->stages[stage];
    if (st->method != HP_METHOD_RANDOM && st->method != HP_METHOD_GRID && st->method != HP_METHOD_PROMOTE)
        return hp_errf(err, "%s: search.stages[%d].method %d is unknown; use random, grid or promote", spec->path,
                       stage, (int)st->method);
    if (st->method == HP_METHOD_PROMOTE && stage == 0)
        return hp_errf(err, "%s: search.stages[0].method is promote, but stage 0 has no stage before it to promote "
                            "from; start with a random or grid stage", spec->path);
    if (st->method == HP_METHOD_RANDOM && st->trials < 1)
        return hp_errf(err, "%s: search.stages[%d].trials is %d; give at least 1", spec->path, stage, st->trials);
    if (st->method == HP_METHOD_GRID && st->points < 2)
        return hp_errf(err, "%s: search.stages[%d].points is %d; give at least 2", spec->path, stage, st->points);
    if (st->epochs < 1)
        return hp_errf(err, "%s: search.stages[%d].epochs is %d; give at least 1", spec->path, stage, st->epochs);
    if (stage > 0 && st->top_k < 1)
        return hp_errf(err, "%s: search.stages[%d].top_k is %d; give at least 1", spec->path, stage, st->top_k);
    if (stage > 0 && !(st->margin >= 0 && isfinite(st->margin)))
        return hp_errf(err, "%s: search.stages[%d].margin is %g; give a finite value >= 0", spec->path, stage,
                       st->margin);
    if (hp_search_stage_trials(spec, stage) > 0x7fffffff)
        return hp_errf(err, "%s: search.stages[%d] has %lld trials, more than %d; use fewer points", spec->path,
                       stage, (long long)hp_search_stage_trials(spec, stage), 0x7fffffff);
    return 0;
}

/* A usable outcome: marked usable, finite score, values that make sense on each searched scale. */
static int outcome_usable(const hp_spec *spec, const hp_trial_outcome *o) {
    if (!o->usable || !isfinite(o->score)) return 0;
    for (int p = 0; p < spec->search.nparams; p++) {
        const hp_param_range *r = &spec->search.params[p];
        if (!r->enabled) continue;
        if (!isfinite(o->values[p])) return 0;
        if (is_log(r->scale) && !(o->values[p] > 0)) return 0;
        if (r->scale == HP_SCALE_CHOICE && !(o->values[p] >= 0 && o->values[p] < r->nchoices)) return 0;
    }
    return 1;
}

/* Best first, by the rule every ranking of trials follows (hp_better_score, results.h): higher
 * score, ties to the lower trial id, whatever order the outcomes arrived in. */
static int by_score_desc(const void *a, const void *b) {
    const hp_trial_outcome *x = a, *y = b;
    if (hp_better_score(x->score, x->trial, y->score, y->trial)) return -1;
    return hp_better_score(y->score, y->trial, x->score, x->trial) ? 1 : 0;
}

/* A choice narrows to the values of the best `k` outcomes. */
static void narrow_choice(int p, const hp_stage_plan *prev, const hp_trial_outcome *best, int k,
                          hp_stage_plan *out) {
    uint32_t m = 0;
    for (int i = 0; i < k; i++) m |= 1u << (int)best[i].values[p];
    m &= prev->choices[p];
    if (!m) m = prev->choices[p]; /* values from elsewhere: keep the set */
    out->choices[p] = m;
    out->low[p] = prev->low[p], out->high[p] = prev->high[p];
    out->derivation[p] = m == prev->choices[p] ? HP_DERIV_KEPT : HP_DERIV_NARROWED;
}

/* An int range rounded outwards to integers inside the hard bounds, never a single value
 * where the bounds leave room for two. */
static void round_int_range(const hp_param_range *r, double *lo, double *hi) {
    double BL, BH;
    hard_bounds(r, &BL, &BH);
    BL = ceil(BL), BH = floor(BH);
    *lo = fmax(floor(*lo), BL);
    *hi = fmin(ceil(*hi), BH);
    if (*hi <= *lo) {
        if (*lo + 1 <= BH) *hi = *lo + 1;
        else *lo = *hi - 1;
    }
}

/* Narrow (or widen) one parameter's range around the best `k` outcomes, sorted best first. */
static int narrow_param(const hp_spec *spec, int stage, int p, const hp_stage_plan *prev,
                        const hp_trial_outcome *best, int k, hp_stage_plan *out, hp_err *err) {
    const hp_param_range *r = &spec->search.params[p];
    const hp_stage_spec *st = &spec->search.stages[stage];
    double old_lo_v = prev->low[p], old_hi_v = prev->high[p];
    double L = to_space(r->scale, old_lo_v), H = to_space(r->scale, old_hi_v);
    double W = H - L;
    if (!(W > 0) || !isfinite(W))
        return hp_errf(err, "%s: stage %d: previous range of %s [%g, %g] is empty or not finite", spec->path,
                       stage, pname(spec, p), old_lo_v, old_hi_v);
    double BL_v, BH_v; /* hard bounds, as values */
    hard_bounds(r, &BL_v, &BH_v);
    double BL = to_space(r->scale, BL_v), BH = to_space(r->scale, BH_v);

    /* Span of the top-k in search space, each value clamped into the old range (they were
     * sampled from it; clamping only guards against callers passing outcomes from elsewhere). */
    double mn = INFINITY, mx = -INFINITY, mn_v = INFINITY, mx_v = -INFINITY;
    for (int i = 0; i < k; i++) {
        double v = clampd(best[i].values[p], old_lo_v, old_hi_v);
        double x = to_space(r->scale, v);
        mn = fmin(mn, x), mx = fmax(mx, x);
        mn_v = fmin(mn_v, v), mx_v = fmax(mx_v, v);
    }
    double tb = to_space(r->scale, clampd(best[0].values[p], old_lo_v, old_hi_v));
    double m = is_log(r->scale) ? st->margin : st->margin * W;

    /* The container the new range must lie in: the old range, or on the side where the best
     * trial sits at the edge, one old width beyond that edge, clipped to the hard bounds. */
    int at_low = tb - L <= EDGE_FRACTION * W;
    int at_high = H - tb <= EDGE_FRACTION * W; /* never both: that would need W <= 0.1 W */
    double Clo = L, Chi = H, Clo_v = old_lo_v, Chi_v = old_hi_v;
    if (at_low && old_lo_v > BL_v) {
        Clo = fmax(L - W, BL);
        Clo_v = clampd(from_space(r->scale, Clo), BL_v, old_lo_v);
    }
    if (at_high && old_hi_v < BH_v) {
        Chi = fmin(H + W, BH);
        Chi_v = clampd(from_space(r->scale, Chi), old_hi_v, BH_v);
    }

    /* Narrowed range: the top-k span plus the margin each side, intersected with the old range;
     * the side where the best sits at the edge runs out to the container's edge instead (the
     * old edge itself when that lies on a hard bound). */
    double lo = at_low ? Clo : fmax(mn - m, L);
    double hi = at_high ? Chi : fmin(mx + m, H);
    double minw = MIN_WIDTH_FRACTION * W;
    if (hi - lo < minw) {
        double c = 0.5 * (lo + hi);
        lo = c - 0.5 * minw, hi = c + 0.5 * minw;
        if (lo < Clo) lo = Clo, hi = Clo + minw;
        if (hi > Chi) hi = Chi, lo = Chi - minw;
    }

    /* Back to values; sides that sit on the container keep its exact value, and the top-k
     * values stay inside even if 10^log10(x) rounds away from x. */
    double lo_v = lo <= Clo ? Clo_v : clampd(from_space(r->scale, lo), Clo_v, Chi_v);
    double hi_v = hi >= Chi ? Chi_v : clampd(from_space(r->scale, hi), Clo_v, Chi_v);
    lo_v = fmin(lo_v, mn_v);
    hi_v = fmax(hi_v, mx_v);
    if (is_int(r->scale)) round_int_range(r, &lo_v, &hi_v);
    if (!(lo_v < hi_v))
        return hp_errf(err, "%s: stage %d: the range of %s collapsed to [%g, %g]; give search.stages[%d].margin > 0",
                       spec->path, stage, pname(spec, p), lo_v, hi_v, stage);

    out->low[p] = lo_v;
    out->high[p] = hi_v;
    if (lo_v < old_lo_v) out->derivation[p] = HP_DERIV_WIDENED_LOW;
    else if (hi_v > old_hi_v) out->derivation[p] = HP_DERIV_WIDENED_HIGH;
    else if (lo_v == old_lo_v && hi_v == old_hi_v) out->derivation[p] = HP_DERIV_KEPT;
    else out->derivation[p] = HP_DERIV_NARROWED;
    return 0;
}

int hp_search_plan_stage(const hp_spec *spec, int stage, const hp_stage_plan *prev,
                         const hp_trial_outcome *outcomes, int n, hp_stage_plan *out, hp_err *err) {
    const hp_search_spec *s = &spec->search;
    if (stage < 0 || stage >= s->nstages || stage >= HP_MAX_STAGES)
        return hp_errf(err, "%s: stage %d does not exist (search.stages has %d entries)", spec->path, stage,
                       s->nstages);
    if (check_spec(spec, stage, err)) return -1;
    const hp_stage_spec *st = &s->stages[stage];
    hp_stage_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.stage = stage;
    plan.method = st->method;
    plan.ntrials = (int)hp_search_stage_trials(spec, stage);
    plan.epochs = st->epochs;

    if (stage == 0) {
        plan.first_trial_id = 0;
        for (int p = 0; p < s->nparams; p++) {
            if (s->params[p].enabled) {
                plan.low[p] = s->params[p].low, plan.high[p] = s->params[p].high;
                if (s->params[p].scale == HP_SCALE_CHOICE) plan.choices[p] = all_choices(&s->params[p]);
                plan.derivation[p] = HP_DERIV_INITIAL;
            } else {
                plan.low[p] = plan.high[p] = fixed_value(spec, p);
                plan.derivation[p] = HP_DERIV_FIXED;
            }
        }
        *out = plan;
        return 0;
    }

    if (!prev || prev->stage != stage - 1)
        return hp_errf(err, "%s: planning stage %d needs the plan of stage %d (got %s)", spec->path, stage,
                       stage - 1, prev ? "another stage's" : "none");
    if (n < 0 || (n > 0 && !outcomes))
        return hp_errf(err, "%s: planning stage %d: %d outcomes given without an array", spec->path, stage, n);
    plan.first_trial_id = prev->first_trial_id + prev->ntrials;
    if (st->method == HP_METHOD_PROMOTE) { /* no new values: the ranges carry over (hp_search_promote) */
        for (int p = 0; p < s->nparams; p++) {
            plan.low[p] = prev->low[p], plan.high[p] = prev->high[p];
            plan.choices[p] = prev->choices[p];
            plan.derivation[p] = s->params[p].enabled ? HP_DERIV_KEPT : HP_DERIV_FIXED;
        }
        *out = plan;
        return 0;
    }

    /* Usable outcomes, best first. One allocation per planned stage. */
    hp_trial_outcome *best = NULL;
    int k = 0;
    if (n > 0) {
        best = hp_calloc((size_t)n, sizeof *best, "the outcomes of the previous stage", err);
        if (!best) return hp_err_prefix(err, "%s: planning stage %d", spec->path, stage);
        for (int i = 0; i < n; i++)
            if (outcome_usable(spec, &outcomes[i])) best[k++] = outcomes[i];
        qsort(best, (size_t)k, sizeof *best, by_score_desc);
    }
    if (k > st->top_k) k = st->top_k;

    int rc = 0;
    for (int p = 0; p < s->nparams && rc == 0; p++) {
        if (!s->params[p].enabled) {
            plan.low[p] = plan.high[p] = fixed_value(spec, p);
            plan.derivation[p] = HP_DERIV_FIXED;
        } else if (k == 0) {
            plan.low[p] = prev->low[p], plan.high[p] = prev->high[p];
            plan.choices[p] = prev->choices[p];
            plan.derivation[p] = HP_DERIV_KEPT;
        } else if (s->params[p].scale == HP_SCALE_CHOICE) {
            narrow_choice(p, prev, best, k, &plan);
        } else {
            rc = narrow_param(spec, stage, p, prev, best, k, &plan, err);
        }
    }
    free(best);
    if (rc) return -1;
    *out = plan;
    return 0;
}

/* Grid point i of p on [lo, hi]: evenly spaced in search space, both ends exact. */
static double grid_value(hp_scale scale, double lo, double hi, int i, int points) {
    if (i <= 0) return lo;
    if (i >= points - 1) return hi;
    double a = to_space(scale, lo), b = to_space(scale, hi);
    /* (b - a) * i / (p - 1), not i * ((b - a) / (p - 1)): exact when b - a is a multiple of
     * p - 1, so [1e-5, 1e-1] with 5 points gives exactly 10^-4, 10^-3, 10^-2. */
    double v = from_space(scale, a + (b - a) * i / (points - 1));
    return clampd(v, lo, hi);
}

void hp_search_trial(const hp_spec *spec, const hp_stage_plan *plan, int index, hp_trial_plan *out) {
    const hp_search_spec *s = &spec->search;
    memset(out, 0, sizeof *out);
    out->id = plan->first_trial_id + index;
    out->stage = plan->stage;
    out->index = index;
    out->epochs = plan->epochs;
    /* The trial's own seed and its values come from different streams, so neither shifts the other. */
    out->seed = hp_key3(spec->seed, (uint64_t)plan->stage, (uint64_t)index);
    uint64_t key = hp_key3(hp_key2(spec->seed, HP_STREAM_SEARCH), (uint64_t)plan->stage, (uint64_t)index);

    int points = plan->stage >= 0 && plan->stage < HP_MAX_STAGES ? s->stages[plan->stage].points : 2;
    /* Grid digit of each searched parameter (mixed radix: grid_count values each); the last
     * searched parameter varies fastest. */
    int digit[HP_MAX_PARAMS] = {0};
    if (plan->method == HP_METHOD_GRID && points >= 2) {
        int rest = index;
        for (int p = s->nparams - 1; p >= 0; p--) {
            if (!s->params[p].enabled) continue;
            int cnt = grid_count(&s->params[p], points);
            digit[p] = rest % cnt;
            rest /= cnt;
        }
    }
    for (int p = 0; p < s->nparams; p++) {
        const hp_param_range *r = &s->params[p];
        if (!r->enabled) {
            out->values[p] = fixed_value(spec, p);
            continue;
        }
        double lo = plan->low[p], hi = plan->high[p];
        /* Draw p of the stream is parameter p's, searched or not, so switching one parameter
         * off (or adding one) leaves the others' values unchanged. */
        double u = (double)(hp_rng_at(key, (uint64_t)p) >> 11) * 0x1.0p-53;
        if (r->scale == HP_SCALE_CHOICE) {
            uint32_t m = plan->choices[p] ? plan->choices[p] : all_choices(r);
            int n = popcount32(m);
            int j = plan->method == HP_METHOD_GRID ? digit[p] % n : (int)(u * n);
            out->values[p] = nth_bit(m, j < n ? j : n - 1);
        } else if (plan->method == HP_METHOD_GRID) {
            double v = grid_value(r->scale, lo, hi, digit[p], points);
            out->values[p] = is_int(r->scale) ? clampd(round(v), lo, hi) : v;
        } else if (is_int(r->scale)) {
            /* Uniform over the integers lo..hi (in log10 over [lo, hi + 1) for int_log), floored. */
            double a = to_space(r->scale, lo), b = to_space(r->scale, hi + 1);
            out->values[p] = clampd(floor(from_space(r->scale, a + u * (b - a))), lo, hi);
        } else {
            /* Log scale: 10^uniform(log10 lo, log10 hi). */
            double a = to_space(r->scale, lo), b = to_space(r->scale, hi);
            out->values[p] = clampd(from_space(r->scale, a + u * (b - a)), lo, hi);
        }
    }
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int hp_prune_median(double acc, double *ref, int nref, int min_trials) {
    if (nref < 1 || nref < min_trials || !isfinite(acc)) return 0;
    qsort(ref, (size_t)nref, sizeof *ref, by_value);
    double median = nref % 2 ? ref[nref / 2] : (ref[nref / 2 - 1] + ref[nref / 2]) / 2;
    return acc < median;
}

int hp_prune_halving(double acc, const double *ref, int nref, int eta, int min_trials) {
    if (nref < 1 || nref < min_trials || !isfinite(acc) || eta < 2) return 0;
    int better = 0;
    for (int i = 0; i < nref; i++) better += ref[i] >= acc;
    int keep = (nref + 1 + eta - 1) / eta; /* ceil((nref + 1) / eta) */
    return better >= keep;
}

int hp_prune_is_rung(int epoch, int after, int eta) {
    if (after < 1 || eta < 2) return 0;
    for (long r = after; r <= epoch; r *= eta)
        if (r == epoch) return 1;
    return 0;
}
