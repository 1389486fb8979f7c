/* trial.h - run one planned trial: the one code path shared by a trainer rank and by a
 * coordinator that trains alone.
 *
 * The executor builds a trainer with the trial's learning rate and weight decay, trains epoch
 * by epoch, and after each epoch asks `on_epoch` for a verdict (continue or stop: the
 * coordinator's word, carried over MPI or by a direct call). At the end it hands the outcome
 * and the best-on-validation snapshot to `on_result`, before the trainer's memory is freed.
 */
#ifndef HP_TRIAL_H
#define HP_TRIAL_H

#include <stdint.h>

#include "dataload.h"
#include "hp_err.h"
#include "search.h"
#include "spec.h"
#include "train.h"

typedef enum hp_verdict { HP_VERDICT_CONTINUE = 0, HP_VERDICT_STOP = 1 } hp_verdict;

/* The outcome of a trial, as recorded in /trials. */
typedef struct hp_trial_result {
    int64_t trial;
    int32_t status;          /* hp_trial_status: done, diverged, failed, pruned */
    int32_t epochs_done;
    int32_t best_epoch;      /* 0 if no epoch finished */
    double best_val_acc;     /* NaN if no epoch finished */
    double best_val_loss;
    double initial_loss;
    double seconds;          /* wall time of the whole trial on its rank */
    char message[128];       /* why it diverged or failed; empty when done */
} hp_trial_result;

typedef struct hp_trial_hooks {
    /* After each epoch. Returns a verdict, or -1 on a communication error (err filled). */
    int (*on_epoch)(void *ctx, const hp_trial_plan *plan, const hp_epoch_metrics *m, hp_err *err);
    /* Once, at the end. snapshot is the best state (state_size floats), NULL if none.
     * Returns 0, or -1 on a communication or recording error (err filled). */
    int (*on_result)(void *ctx, const hp_trial_plan *plan, const hp_trial_result *r,
                     const float *snapshot, int64_t state_size, hp_err *err);
    void *ctx;
} hp_trial_hooks;

/* Run the trial. A trial that diverges or fails is an outcome, not an error: it is reported
 * through on_result with its status and message. Returns -1 only when a hook failed. */
int hp_trial_execute(const hp_spec *spec, const hp_splits *data, const hp_trial_plan *plan,
                     const hp_trial_hooks *hooks, hp_err *err);

#endif
