/* search.h - planning the staged search: sampling trials, narrowing and widening ranges.
 *
 * Everything here is a pure function of the spec, the sweep seed and the finished results
 * of earlier stages, so a resumed sweep plans exactly the trials an uninterrupted one would,
 * whichever rank runs them and in whatever order they finish.
 *
 * Rules (docs/search.md, "How the search narrows", has them with a worked example). "Search
 * space" is log10(value) on a log scale and the value itself on a linear scale; widths W are
 * measured there.
 * - Trial ids are global: stage 0 holds ids 0..n0-1, stage 1 the next n1, and so on.
 * - A trial's seed is hp_key3(sweep_seed, stage, index); its values come from a separate stream,
 *   key hp_key3(hp_key2(sweep_seed, HP_STREAM_SEARCH), stage, index), draw p for parameter p.
 *   So values depend only on (seed, stage, index), never on rank or order.
 * - Parameters the search does not vary take the optimizer's value (optim.lr, optim.weight_decay)
 *   and derivation "fixed".
 * - random: each parameter uniform in search space: on a log scale
 *   v = 10^(log10 lo + u (log10 hi - log10 lo)), u uniform in [0, 1) with 53 bits.
 * - grid: `points` values per searched parameter, evenly spaced in search space, both ends
 *   exact, full factorial with lr varying slowest; trials = points^(searched parameters).
 * - Stage 0 uses the spec's ranges ("initial").
 * - Stage s > 0 uses the top_k (stage s's top_k) usable outcomes of stage s-1: usable set, finite
 *   score, finite values (> 0 on a log scale). Best first by score, ties by lower lr, then lower
 *   weight decay. Per parameter, with [L, H] the previous range and W = H - L:
 *     new range = [min - m, max + m] of the top-k values, intersected with [L, H], where m is
 *     `margin` decades on a log scale or margin * W on a linear scale;
 *     if the single best lies within 0.05 W of L, the low side instead becomes L - W, clipped to
 *     the hard bounds ("widened_low"); likewise at H ("widened_high"). An edge already on a hard
 *     bound cannot widen: that side stays at the old edge.
 *   A range narrower than 0.01 W (possible only with a tiny margin) grows to 0.01 W about its
 *   centre, shifted to stay inside the allowed span. The derivation says what happened: widened_low/_high if a side
 *   moved past the old edge, "kept" if the range came out identical, else "narrowed".
 * - If stage s-1 has no usable outcome, the ranges carry over unchanged ("kept").
 * - Other scales (docs/search.md, "What can be searched"): int and int_log sample and narrow
 *   like linear and log, with values floored to integers (an int_log draw is uniform in
 *   log10 over [low, high + 1)) and narrowed ranges rounded outwards to integers; a choice
 *   draws uniformly among the stage's set, and narrows to the set of the top-k's values (in
 *   the listed order; "kept" if unchanged). A grid takes `points` values of each real or int
 *   parameter (integers rounded, so a short int range repeats values) and every listed value
 *   of a choice (a narrowed set repeats its values in that many slots).
 * - Hard bounds default to none; bound_low == bound_high (both 0 in a zeroed struct) also means
 *   none. Implicitly, log-scale values stay in [1e-300, 1e300] and linear ones in +-1e300.
 */
#ifndef HP_SEARCH_H
#define HP_SEARCH_H

#include <stdint.h>

#include "hp_err.h"
#include "results.h"
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
    double low[HP_MAX_PARAMS], high[HP_MAX_PARAMS]; /* per parameter of search.params (choice: 0 and n - 1) */
    uint32_t choices[HP_MAX_PARAMS]; /* choice parameters: bit i set if choice i is in the stage's set */
    hp_derivation derivation[HP_MAX_PARAMS];
} hp_stage_plan;

typedef struct hp_trial_plan {
    int64_t id;                      /* global, 0-based, stage by stage */
    int stage;
    int index;                       /* within the stage */
    uint64_t seed;                   /* the trial's own seed (init, shuffle, dropout) */
    double values[HP_MAX_PARAMS];    /* per parameter of search.params: lr, weight decay (the optimizer's value
                                        where fixed), then the others; a choice's index into its list */
    int epochs;
} hp_trial_plan;

/* What narrowing needs to know about a finished trial of the previous stage. */
typedef struct hp_trial_outcome {
    double values[HP_MAX_PARAMS];    /* as in hp_trial_plan */
    double score;                    /* best validation accuracy */
    int usable;                      /* 1 for done and pruned trials (the accuracy reached); 0 for diverged, failed */
    int64_t trial;                   /* its id: ties of score go to the lower (hp_better_score) */
} hp_trial_outcome;

/* Plan stage `stage`. For stage 0, prev and outcomes are ignored. For stage > 0, prev is the
 * previous stage's plan and outcomes its trials' outcomes (n of them, any order). */
int hp_search_plan_stage(const hp_spec *spec, int stage, const hp_stage_plan *prev,
                         const hp_trial_outcome *outcomes, int n, hp_stage_plan *out, hp_err *err);

/* The index-th trial of a planned stage (0 <= index < plan->ntrials). */
void hp_search_trial(const hp_spec *spec, const hp_stage_plan *plan, int index, hp_trial_plan *out);

/* Promotion (docs/search.md, "Promotion"): the trials of a promote stage continue the best
 * trials of the stage before from their final state. cand[i] (n of them, any order) is a trial
 * of stage plan->stage - 1 as planned (values, seed, id), outcome[i] its outcome and
 * epochs_done[i] the epochs it trained; a candidate is promotable when outcome[i].usable (the
 * caller's rule: it finished every planned epoch, done) with a finite score and epochs_done >= 1.
 * Promotable candidates are ranked best first by hp_better_score (higher score, ties to the
 * lower id); trial i of the stage (i < plan->ntrials) continues the i-th: out[i] is its plan (the
 * values array copied whole, the same seed) with id plan->first_trial_id + i, stage
 * plan->stage, index i and epochs = epochs_done + the stage's epochs, and parent[i] its id.
 * Slots past the promotable candidates get parent -1, epochs 0, seed and values 0 (the caller
 * records them as failed: nothing to promote). Returns how many were promoted, or -1. */
int hp_search_promote(const hp_spec *spec, const hp_stage_plan *plan, const hp_trial_plan *cand,
                      const hp_trial_outcome *outcome, const int *epochs_done, int n, hp_trial_plan *out,
                      int64_t *parent, hp_err *err);

/* The median pruning rule (docs/search.md, "Pruning"): 1 (stop the trial) when at least
 * min_trials reference accuracies are given and acc is below their median (the mean of the two
 * middle ones for an even count); else 0. ref is reordered. */
int hp_prune_median(double acc, double *ref, int nref, int min_trials);
/* The halving rule at a rung: 1 (stop) when at least min_trials references are given and acc
 * is not among the best ceil((nref + 1) / eta) of the references and itself (a reference equal
 * to acc ranks first: ties go to the lower id); else 0. */
int hp_prune_halving(double acc, const double *ref, int nref, int eta, int min_trials);
/* Whether epoch e is a rung of halving: after * eta^k for some k >= 0. */
int hp_prune_is_rung(int epoch, int after, int eta);

/* ---- the search's parameters in the results file (search_record.c) ------------------------
 * /trials keeps lr and weight_decay in their own columns and each other parameter in a column
 * of its own (results.h, hp_param_column), in search.params order: a number, or a choice of
 * words as its text; /stage_params has one row per stage and parameter. */

/* The parameter columns a new file gets for this spec; returns the count. */
int hp_search_param_columns(const hp_spec *spec, hp_param_column cols[HP_MAX_XCOLS]);
/* Whether a file's columns are this spec's (same names, kinds, order): 0, or -1 naming the first
 * difference. */
int hp_search_check_columns(const hp_spec *spec, const hp_param_column *cols, int n, const char *path, hp_err *err);
/* A trial's values into its /trials row (lr, weight_decay and the parameter columns). */
void hp_search_values_to_record(const hp_spec *spec, const double *values, hp_trial_record *r);
/* Back from a /trials row: -1 (err names the trial and column) where a column holds a value the
 * spec cannot have given (a choice not in its list). */
int hp_search_values_from_record(const hp_spec *spec, const hp_trial_record *r, double values[HP_MAX_PARAMS],
                                 hp_err *err);
/* The first parameter whose value in a /trials row differs from values[] (a value neither has,
 * NaN, is the same), -1 when they all agree; *err is filled when the row cannot be read back
 * (and -2 returned). Resume checks the trials it plans again against the file with it. */
int hp_search_record_differs(const hp_spec *spec, const hp_trial_record *r, const double *values, hp_err *err);
/* The /stage_params rows of a planned stage (one per parameter, fixed ones included); returns
 * the count. */
int hp_search_stage_param_rows(const hp_spec *spec, const hp_stage_plan *plan, hp_stage_param_record *rows);

/* Total number of trials the spec will run (all stages). */
int64_t hp_search_total_trials(const hp_spec *spec);

/* Trials in one stage (random: trials; grid: the product of each searched parameter's points or
 * choices); -1 if no such stage. */
int64_t hp_search_stage_trials(const hp_spec *spec, int stage);

/* Global id of the first trial of `stage` (the sum of the trial counts of the stages before). */
int64_t hp_search_first_trial_id(const hp_spec *spec, int stage);

#endif
