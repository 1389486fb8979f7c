/* trial.h - run one planned trial: the one code path shared by a trainer rank and by a
 * coordinator that trains alone.
 *
 * The executor builds a trainer with the trial's learning rate and weight decay, trains epoch
 * by epoch, and after each epoch asks `on_epoch` for a verdict (continue or stop: the
 * coordinator's word, carried over MPI or by a direct call). At the end it hands the outcome
 * and the best-on-validation snapshot to `on_result`, before the trainer's memory is freed.
 *
 * Checkpoints: after every checkpoint_every-th epoch that the verdict lets continue
 * (and that is not the trial's last), the trainer's checkpoint goes to `on_checkpoint`; when the
 * next stage is a promote stage, also after the last epoch of a trial that trained every planned
 * epoch (its final state, which a promoted trial continues from). A trial
 * can start from such a checkpoint and then runs exactly as if it had never stopped. A
 * cancellation flag (a signal) stops the trial at the next batch; nothing is reported then:
 * the trial is left to its last checkpoint.
 */
#ifndef HP_TRIAL_H
#define HP_TRIAL_H

#include <signal.h>
#include <stdint.h>

#include "dataload.h"
#include "hp_err.h"
#include "search.h"
#include "spec.h"
#include "train.h"

/* CONTINUE: train on. STOP: prune the trial (recorded as pruned). ABORT: the sweep is stopping;
 * drop the trial without a result (it resumes from its last checkpoint). */
typedef enum hp_verdict { HP_VERDICT_CONTINUE = 0, HP_VERDICT_STOP = 1, HP_VERDICT_ABORT = 2 } hp_verdict;

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
    /* After an epoch that continues, when a checkpoint is due (may be NULL: none taken). vec
     * holds n floats (0 for a synthetic trial); seconds is the trial's wall time so far.
     * Returns 0, or -1 on a communication or recording error. */
    int (*on_checkpoint)(void *ctx, const hp_trial_plan *plan, const hp_train_ckpt *ckpt, const float *vec,
                         int64_t n, double seconds, hp_err *err);
} hp_trial_hooks;

/* How to start a trial. Zero-initialised: from the beginning, no checkpoints, no cancellation, on
 * the CPU. */
typedef struct hp_trial_start {
    int checkpoint_every;          /* checkpoint after every N-th epoch; 0: never */
    const hp_train_ckpt *resume;   /* continue from this checkpoint (NULL: from the start) */
    const float *resume_vec;       /* its vector, resume_n floats (0 for a synthetic trial) */
    int64_t resume_n;
    double seconds_before;         /* the trial's wall time before the checkpoint */
    const volatile sig_atomic_t *cancel; /* non-zero: stop at the next batch, report nothing */
    hp_gpu_device *gpu;           /* the GPU to train on (device_pick.h; borrowed, opened once per process
                                      and reused by every trial), NULL: the CPU */
} hp_trial_start;

/* Run the trial. A trial that diverges or fails is an outcome, not an error: it is reported
 * through on_result with its status and message. A checkpoint that does not fit the trainer
 * (another build) is ignored and the trial starts from the beginning, which gives the same
 * result. Sets *cancelled to 1 when the cancellation flag or an ABORT verdict stopped it (no
 * result reported), else 0. Returns -1 only when a hook failed. */
int hp_trial_execute(const hp_spec *spec, const hp_splits *data, const hp_trial_plan *plan,
                     const hp_trial_start *start, const hp_trial_hooks *hooks, int *cancelled, hp_err *err);

/* A checkpoint without a vector, after `epoch`, from the outcome so far (best epoch and metrics,
 * initial loss): the synthetic trainer's and an external program's (which keeps its own state). */
int hp_trial_send_bare_checkpoint(const hp_trial_plan *plan, const hp_trial_hooks *hooks, const hp_trial_result *res,
                                  int epoch, double lr, double seconds, hp_err *err);

/* An external trainer's trial (spec->ext.enabled; trial_external.c): the program runs in the
 * trial's folder (hp_trial_external_dir) and reports its epochs; hooks and outcome as for
 * hp_trial_execute, which calls it. */
int hp_trial_external(const hp_spec *spec, const hp_trial_plan *plan, const hp_trial_start *st,
                      const hp_trial_hooks *hooks, hp_trial_result *res, int *cancelled, hp_err *err);
/* A rank's side of an external sweep, before any trial: the folder of the trials' folders
 * (trainer.workdir, else the results path without .h5 plus .trials; absolute, made) into
 * spec->ext.run_workdir; the program and test program checked (found, executable, placeholders
 * known: hp_ext_check); and what CUDA_VISIBLE_DEVICES its programs get into spec->ext.cuda_visible
 * (local_rank modulo the node's GPUs, as the built-in trainer binds; "" for device: cpu). */
int hp_trial_external_setup(hp_spec *spec, const char *results_path, int local_rank, hp_err *err);
/* The trial's folder: spec->ext.run_workdir/trial-NNNNNN. */
int hp_trial_external_dir(const hp_spec *spec, int64_t trial, char *out, size_t cap, hp_err *err);
/* The test evaluation of a finished external trial: its test command (or the command in mode
 * test) in its folder, once; the test loss and accuracy it reported. */
int hp_trial_external_test(const hp_spec *spec, const hp_trial_plan *plan, double *test_loss, double *test_acc,
                           hp_err *err);

/* The GPU memory one trial of this spec holds on `gpu` at most (its trainer on the whole training
 * split, the largest any stage uses), measured by creating one there and freeing it. */
int hp_trial_device_bytes(const hp_spec *spec, const hp_splits *data, hp_gpu_device *gpu, int64_t *bytes,
                          hp_err *err);

#endif
