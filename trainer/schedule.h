/* schedule.h - learning-rate schedules, as functions of the epoch.
 *
 * Each schedule's formula stands beside its code in schedule.c and follows the PyTorch
 * scheduler named below, stepped once per epoch (scheduler.step() after each epoch): lr(e) is
 * the rate in force during epoch e = 0, 1, ..., epochs - 1, for base rate `base`.
 *
 * Warm-up (any type, w = warmup_epochs, 0 <= w < epochs):
 *     lr(e) = base * (e + 1) / (w + 1)                       for e < w
 * then the schedule proper runs on k = e - w over T = epochs - w epochs (so step_size and
 * milestones count epochs after warm-up, and cosine/linear end at epochs, not after them).
 * PyTorch: SequentialLR([LinearLR(start_factor=1/(w+1), end_factor=1, total_iters=w), MAIN],
 * milestones=[w]), MAIN built with the T below. Without warm-up (w = 0), k = e, T = epochs.
 *
 * Reduce-on-plateau has state (it watches the validation loss) and so is an object; during
 * warm-up it ignores the losses it is told, and it starts from base at epoch w.
 */
#ifndef HP_SCHEDULE_H
#define HP_SCHEDULE_H

#include "hp_err.h"

typedef enum hp_sched_type {
    HP_SCHED_CONSTANT = 0, /* base                                       (LambdaLR(lambda k: 1)) */
    HP_SCHED_STEP,        /* base * gamma^floor(k / step_size)                 (StepLR) */
    HP_SCHED_MULTISTEP,   /* base * gamma^(number of milestones <= k)          (MultiStepLR) */
    HP_SCHED_COSINE,      /* min_lr + (base - min_lr)(1 + cos(pi k / T)) / 2   (CosineAnnealingLR(T_max=T,
                             eta_min=min_lr)); min_lr for k >= T */
    HP_SCHED_LINEAR,      /* base * (1 - k / T) + min_lr * k / T               (LinearLR(1, min_lr/base, T));
                             min_lr for k >= T */
    HP_SCHED_INV_SQRT,    /* base / sqrt(max(1, k))                 (LambdaLR(lambda k: 1/sqrt(max(1, k)))) */
    HP_SCHED_PLATEAU,     /* ReduceLROnPlateau(mode min, factor gamma, patience, threshold (rel),
                             cooldown 0, min_lr, eps 1e-8) on the validation loss */
    HP_SCHED_COUNT_
} hp_sched_type;

const char *hp_sched_type_name(hp_sched_type t);
int hp_sched_type_parse(const char *s); /* -1 if unknown; names: constant, step, multistep, cosine,
                                          linear, inv_sqrt, plateau */

#define HP_MAX_MILESTONES 16

typedef struct hp_sched_spec {
    hp_sched_type type;
    int warmup_epochs;  /* linear warm-up before the schedule proper (default 0) */
    int step_size;      /* step */
    double gamma;       /* step, multistep, plateau: factor (default 0.1) */
    int nmilestones;
    int milestones[HP_MAX_MILESTONES]; /* multistep: strictly increasing epochs after warm-up */
    double min_lr;      /* cosine, linear: final lr (default 0); plateau: lower bound */
    int patience;       /* plateau: epochs without improvement before reducing (default 10) */
    double threshold;   /* plateau: relative improvement that counts (default 1e-4, 'rel' mode) */
} hp_sched_spec;

/* Check a spec: a known type; warmup_epochs >= 0; step: step_size >= 1, gamma in (0, 1];
 * multistep: 1..HP_MAX_MILESTONES strictly increasing milestones >= 1, gamma in (0, 1];
 * cosine, linear: min_lr finite >= 0; plateau: gamma in (0, 1), patience >= 0, threshold in
 * [0, 1), min_lr finite >= 0. Fields a type does not use are ignored. A min_lr above the base
 * lr is allowed (a searched lr may fall below a fixed min_lr): cosine/linear then rise to it
 * and plateau never reduces, as in PyTorch. */
int hp_sched_spec_check(const hp_sched_spec *spec, hp_err *err);

typedef struct hp_sched hp_sched;

/* A schedule for `epochs` epochs (warm-up included; warmup_epochs < epochs) at base learning
 * rate `base_lr` (finite, > 0). */
int hp_sched_create(const hp_sched_spec *spec, double base_lr, int epochs, hp_sched **out, hp_err *err);
void hp_sched_free(hp_sched *s);
/* The learning rate in force during epoch e (0-based; e < 0 reads as 0); for plateau after
 * warm-up, the current value whatever e. */
double hp_sched_lr(const hp_sched *s, int epoch);
/* Tell the schedule epoch e's validation loss, after epoch e and before asking for epoch e + 1's
 * rate (only plateau uses it; losses of warm-up epochs e < warmup_epochs are ignored). */
void hp_sched_observe(hp_sched *s, int epoch, double val_loss);
/* Plateau state for checkpoints: best loss (+inf before the first), bad epochs, current lr
 * (3 doubles; keep them as doubles: a float best loss changes later decisions). Other types
 * are stateless (hp_sched_lr is a function of e) and give {inf, 0, base}; setting their
 * state does nothing that matters. */
void hp_sched_get_state(const hp_sched *s, double state[3]);
void hp_sched_set_state(hp_sched *s, const double state[3]);

#endif
