/* train.h - one trial's training: epochs of mini-batch SGD, validation, best snapshot.
 *
 * The caller drives the loop one epoch at a time (hp_trainer_epoch), so that the
 * orchestrator can report metrics, receive a verdict (continue, stop) and checkpoint
 * between epochs. The trainer keeps the state that scored the best validation accuracy
 * (early-stopping snapshot). It knows nothing of MPI or files.
 */
#ifndef HP_TRAIN_H
#define HP_TRAIN_H

#include <signal.h>
#include <stdint.h>

#include "augment.h"
#include "data.h"
#include "gpu_device.h"
#include "hp_err.h"
#include "model.h"
#include "optim.h"
#include "schedule.h"

typedef struct hp_train_spec {
    int batch_size;        /* > 0 */
    int epochs;            /* > 0 */
    double diverge_factor; /* a train loss above diverge_factor * initial loss is divergence (default 4) */
    int synthetic_ms;      /* > 0: no training; each epoch sleeps this long and reports made-up metrics
                              (orchestration benchmarks and tests; the orchestrator implements it) */
    hp_sched_spec schedule;   /* learning-rate schedule (default constant) */
    hp_augment_spec augment;  /* training-batch augmentation (default none) */
    int patience;             /* early stopping: stop after this many epochs without a better validation
                                 accuracy; 0 = off (default) */
} hp_train_spec;

#define HP_MAX_RATIOS 16

typedef struct hp_epoch_metrics {
    int epoch;          /* 1-based */
    double lr;          /* learning rate in force during the epoch */
    double train_loss;  /* mean over the epoch's batches, as trained */
    double train_acc;
    double val_loss;    /* on the validation split, evaluation mode */
    double val_acc;
    double seconds;     /* wall time of the epoch, training and validation */
    int diverged;       /* 1 if the loss became NaN/Inf or exceeded diverge_factor * initial loss */
    int stop_early;     /* 1 if `patience` epochs passed without a better validation accuracy: the
                           caller should stop the trial (it is done, not failed) */
    double update_ratio; /* ||lr * update|| / ||params|| of the epoch's last step, over all parameters:
                            the recipe wants about 1e-3 (much larger: lr too high; much smaller: too low) */
    int nratios;        /* entries of layer_ratio (<= HP_MAX_RATIOS) */
    float layer_ratio[HP_MAX_RATIOS]; /* the same per weight tensor, in layout order (biases and buffers
                                         excluded) */
    int cancelled;      /* 1 if the cancellation flag (hp_trainer_set_cancel) stopped the epoch part way:
                           the trainer's state is then mid-epoch and must be discarded (resume from the
                           last checkpoint); no other field is meaningful */
} hp_epoch_metrics;

typedef struct hp_trainer hp_trainer;

/* Create a trial's trainer: builds the model for the data's shape, initialises it from
 * `seed`, and allocates every buffer it will use. `train` and `val` are borrowed and must
 * outlive the trainer. */
int hp_trainer_create(const hp_model_spec *model, const hp_optim_spec *optim,
                      const hp_train_spec *train_spec, const hp_dataset *train,
                      const hp_dataset *val, uint64_t seed, hp_trainer **out, hp_err *err);
/* The same on a device: gpu NULL is the CPU (exactly hp_trainer_create); a GPU from hp_gpu_open
 * (device.h, borrowed: it must outlive the trainer) holds the model, its gradients and
 * activations, the optimizer's state and the train and validation sets for the trainer's whole
 * life: they are uploaded once here, and each step moves only the batch's indices and the loss.
 * Everything below behaves the same on either device; pointers this API returns (best state,
 * the model's state vector, checkpoints) are host copies, refreshed after every epoch. Results
 * agree with the CPU's within floating-point reassociation (cuDNN and cuBLAS sum in other
 * orders), and are bit-reproducible run to run when the device is deterministic. */
int hp_trainer_create_on(hp_gpu_device *gpu, const hp_model_spec *model, const hp_optim_spec *optim,
                         const hp_train_spec *train_spec, const hp_dataset *train, const hp_dataset *val,
                         uint64_t seed, hp_trainer **out, hp_err *err);
/* The GPU the trainer runs on, or NULL for the CPU. */
hp_gpu_device *hp_trainer_gpu(const hp_trainer *t);
/* The GPU memory the trainer holds, in bytes (model, optimizer moments, data, batch); 0 on the CPU. */
int64_t hp_trainer_device_bytes(const hp_trainer *t);
void hp_trainer_free(hp_trainer *t);

/* Loss of the freshly initialised model on the first training batch (should be near
 * ln(nclasses)); computed at creation. */
double hp_trainer_initial_loss(const hp_trainer *t);

/* Train one epoch (shuffled from the seeded stream) and evaluate on the validation split.
 * Updates the best snapshot when validation accuracy improves. Fills *m. A divergence is
 * not an error: it sets m->diverged and the caller decides. The epoch stops at the batch
 * that diverged (before its update); validation is then skipped (val_loss NaN, val_acc 0)
 * and the best snapshot is left alone. */
int hp_trainer_epoch(hp_trainer *t, hp_epoch_metrics *m, hp_err *err);

int hp_trainer_epochs_done(const hp_trainer *t);

/* The model (for its layout and state). */
hp_model *hp_trainer_model(hp_trainer *t);
/* The optimizer (for its flat state, e.g. checkpoints). */
hp_optim *hp_trainer_optim(hp_trainer *t);

/* Best-on-validation snapshot so far: a copy of the state vector, its epoch (0 if no epoch
 * finished yet), validation accuracy and loss. */
const float *hp_trainer_best_state(const hp_trainer *t, int *epoch, double *val_acc, double *val_loss);

/* Evaluate a state vector (e.g. the best snapshot) on a data set: mean loss and accuracy. */
int hp_trainer_evaluate(hp_trainer *t, const hp_dataset *d, const float *state, double *loss,
                        double *acc, hp_err *err);

/* ---- checkpoints and cancellation (train_ckpt.c) ---------------------------------------- *
 * A checkpoint is everything that makes the next epoch run exactly as it would have without
 * an interruption: the model's state vector (parameters and buffers), the optimizer's state,
 * the best-on-validation snapshot with its metrics, the epochs done, the initial loss, the
 * model's random stream (dropout) and the schedule's state. The epoch's shuffle and
 * augmentation streams are keyed by (seed, epoch) and need no state. So a trainer created
 * with the same specs, data and seed, loaded from the checkpoint taken after epoch e, trains
 * epoch e+1 bit-identically to one that never stopped (test_train_ckpt.c checks it).
 *
 * The float part is one vector: [model state | optimizer state | best snapshot]; the rest
 * is the fixed-size hp_train_ckpt. Checkpoints are taken and restored between epochs only. */
#define HP_TRAIN_CKPT_VERSION 1

typedef struct hp_train_ckpt {
    int32_t version;        /* HP_TRAIN_CKPT_VERSION */
    int32_t epochs_done;    /* the checkpoint was taken after this epoch (1-based) */
    int32_t best_epoch;     /* 0: no epoch validated yet */
    int32_t has_rng;        /* 1 if rng[] holds the model's random stream */
    double best_val_acc, best_val_loss;
    double initial_loss;
    double lr;              /* learning rate of the last epoch (informative) */
    uint64_t rng[2];        /* the model's random stream (dropout key, step) */
    double sched[4];        /* the schedule's state (hp_sched_get_state; 0 when stateless) */
    int64_t model_floats;   /* parts of the vector: model state, optimizer state; the best */
    int64_t optim_floats;   /* snapshot follows with model_floats more */
} hp_train_ckpt;

/* Floats in this trainer's checkpoint vector. */
int64_t hp_trainer_checkpoint_size(const hp_trainer *t);
/* The same before any trainer exists (to size the results file's /checkpoints): for a model
 * built on inputs [c, h, w] with nclasses outputs and this optimizer. */
int hp_trainer_checkpoint_size_for(const hp_model_spec *model, const hp_optim_spec *optim, int c, int h,
                                   int w, int nclasses, int64_t *out, hp_err *err);
/* Copy the trainer's state into vec [hp_trainer_checkpoint_size] and *meta. */
void hp_trainer_checkpoint_save(const hp_trainer *t, float *vec, hp_train_ckpt *meta);
/* Restore a checkpoint into a trainer created with the same specs, data and seed (and no
 * epoch trained yet, or any: everything is overwritten). Fails, naming the mismatch, when
 * the version or the sizes differ (a different model or optimizer). */
int hp_trainer_checkpoint_load(hp_trainer *t, const float *vec, int64_t n, const hp_train_ckpt *meta,
                               hp_err *err);

/* Cancellation: while *flag is non-zero, hp_trainer_epoch stops before its next batch and
 * returns with m->cancelled = 1 (a signal handler sets the flag; see cli docs). The trainer is
 * then mid-epoch: discard it, or restore a checkpoint. NULL clears it. */
void hp_trainer_set_cancel(hp_trainer *t, const volatile sig_atomic_t *flag);

#endif
