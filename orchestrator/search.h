/* search.h - planning the staged search: sampling trials, narrowing and widening ranges.
 *
 * Everything here is a pure function of the spec, the sweep seed and the finished results
 * of earlier stages, so a resumed sweep plans exactly the trials an uninterrupted one would,
 * whichever rank runs them and in whatever order they finish.
 *
 * Rules (also in README.md, "How the search narrows"):
 * - Stage 0 uses the spec's ranges. A trial's values come from the stream
 *   hp_key3(sweep_seed, stage, index): on a log scale v = 10^(log10 lo + u (log10 hi - log10 lo)).
 * - Grid stages place `points` values per parameter, evenly spaced in log10 (or linearly),
 *   including both ends, full factorial (lr varies slowest).
 * - Stage s > 0 narrows each range around the top_k finished (not diverged, not failed) trials
 *   of stage s-1 by validation accuracy: new range = [min, max] of their values, extended by
 *   `margin` (decades on a log scale, fraction of the old width on linear) on each side, then
 *   clipped to the old range... unless the best trial lies at an edge of the old range (within
 *   5% of its width): that side then widens by the old width (in log10 on a log scale) instead,
 *   clipped to the hard bounds, and the derivation says so.
 * - If no trial of stage s-1 finished, the ranges are carried over unchanged ("kept").
 */
#ifndef HP_SEARCH_H
#define HP_SEARCH_H

#include <stdint.h>

#include "hp_err.h"
#include "spec.h"

/* How a stage's range of one parameter was derived. */
typedef enum hp_derivation {
    HP_DERIV_INITIAL = 0, /* from the spec (stage 0) */
    HP_DERIV_NARROWED,    /* around the top-k of the previous stage */
    HP_DERIV_WIDENED_LOW, /* best at the low edge: widened downwards */
    HP_DERIV_WIDENED_HIGH,/* best at the high edge: widened upwards */
    HP_DERIV_KEPT,        /* nothing to narrow around: unchanged */
    HP_DERIV_FIXED        /* parameter not searched */
} hp_derivation;
const char *hp_derivation_name(hp_derivation d);

typedef struct hp_stage_plan {
    int stage;                       /* 0-based */
    hp_method method;
    int ntrials;                     /* trials in this stage */
    int epochs;
    int64_t first_trial_id;          /* global id of the stage's first trial */
    double low[HP_NPARAMS], high[HP_NPARAMS];
    hp_derivation derivation[HP_NPARAMS];
} hp_stage_plan;

typedef struct hp_trial_plan {
    int64_t id;                      /* global, 0-based, stage by stage */
    int stage;
    int index;                       /* within the stage */
    uint64_t seed;                   /* the trial's own seed (init, shuffle, dropout) */
    double values[HP_NPARAMS];       /* lr, weight decay (the optimizer's value where fixed) */
    int epochs;
} hp_trial_plan;

/* What narrowing needs to know about a finished trial of the previous stage. */
typedef struct hp_trial_outcome {
    double values[HP_NPARAMS];
    double score;                    /* best validation accuracy */
    int usable;                      /* 1 for done trials; 0 for diverged, failed, pruned */
} hp_trial_outcome;

/* Plan stage `stage`. For stage 0, prev and outcomes are ignored. For stage > 0, prev is the
 * previous stage's plan and outcomes its trials' outcomes (n of them, any order). */
int hp_search_plan_stage(const hp_spec *spec, int stage, const hp_stage_plan *prev,
                         const hp_trial_outcome *outcomes, int n, hp_stage_plan *out, hp_err *err);

/* The index-th trial of a planned stage (0 <= index < plan->ntrials). */
void hp_search_trial(const hp_spec *spec, const hp_stage_plan *plan, int index, hp_trial_plan *out);

/* Total number of trials the spec will run (all stages). */
int64_t hp_search_total_trials(const hp_spec *spec);

#endif
