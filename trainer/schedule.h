/* schedule.h - learning-rate schedules, as functions of the epoch (and step within it).
 *
 * Each schedule's formula stands beside its code in schedule.c and follows the PyTorch
 * scheduler of the same name, evaluated per epoch (PyTorch's usual scheduler.step() once per
 * epoch): lr(e) for e = 0, 1, ... (0-based epoch). Optional linear warm-up over the first
 * `warmup_epochs` epochs multiplies by (e + 1) / (warmup_epochs + 1)... see schedule.c for the
 * exact rule. Reduce-on-plateau has state (it watches validation loss) and so is an object.
 */
#ifndef HP_SCHEDULE_H
#define HP_SCHEDULE_H

#include "hp_err.h"

typedef enum hp_sched_type {
    HP_SCHED_CONSTANT = 0,
    HP_SCHED_STEP,        /* lr * gamma^floor(e / step_size)                 (StepLR) */
    HP_SCHED_MULTISTEP,   /* lr * gamma^(number of milestones <= e)          (MultiStepLR) */
    HP_SCHED_COSINE,      /* min_lr + (lr - min_lr)(1 + cos(pi e / T)) / 2    (CosineAnnealingLR, T = epochs) */
    HP_SCHED_LINEAR,      /* lr * (1 - e / T) + min_lr * e / T               (linear decay to min_lr) */
    HP_SCHED_INV_SQRT,    /* lr / sqrt(max(1, e))                            (inverse square root) */
    HP_SCHED_PLATEAU,     /* ReduceLROnPlateau(mode min on val loss, factor gamma, patience) */
    HP_SCHED_COUNT_
} hp_sched_type;

const char *hp_sched_type_name(hp_sched_type t);
int hp_sched_type_parse(const char *s); /* -1 if unknown */

#define HP_MAX_MILESTONES 16

typedef struct hp_sched_spec {
    hp_sched_type type;
    int warmup_epochs;  /* linear warm-up before the schedule proper (default 0) */
    int step_size;      /* step */
    double gamma;       /* step, multistep, plateau: factor (default 0.1) */
    int nmilestones;
    int milestones[HP_MAX_MILESTONES]; /* multistep: increasing epochs */
    double min_lr;      /* cosine, linear: final lr (default 0); plateau: lower bound */
    int patience;       /* plateau: epochs without improvement before reducing (default 10) */
    double threshold;   /* plateau: relative improvement that counts (default 1e-4, 'rel' mode) */
} hp_sched_spec;

/* Check a spec (gamma in (0, 1] where used, step_size >= 1, milestones increasing, ...). */
int hp_sched_spec_check(const hp_sched_spec *spec, hp_err *err);

typedef struct hp_sched hp_sched;

/* A schedule for `epochs` epochs at base learning rate `base_lr`. */
int hp_sched_create(const hp_sched_spec *spec, double base_lr, int epochs, hp_sched **out, hp_err *err);
void hp_sched_free(hp_sched *s);
/* The learning rate for epoch e (0-based); for plateau, the current value. */
double hp_sched_lr(const hp_sched *s, int epoch);
/* Tell the schedule the epoch's validation loss (only plateau uses it). */
void hp_sched_observe(hp_sched *s, int epoch, double val_loss);
/* Plateau state for checkpoints: best, bad epochs, current lr (3 doubles). */
void hp_sched_get_state(const hp_sched *s, double state[3]);
void hp_sched_set_state(hp_sched *s, const double state[3]);

#endif
