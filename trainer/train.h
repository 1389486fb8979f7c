/* train.h - one trial's training: epochs of mini-batch SGD, validation, best snapshot.
 *
 * The caller drives the loop one epoch at a time (hp_trainer_epoch), so that the
 * orchestrator can report metrics, receive a verdict (continue, stop) and checkpoint
 * between epochs. The trainer keeps the state that scored the best validation accuracy
 * (early-stopping snapshot). It knows nothing of MPI or files.
 */
#ifndef HP_TRAIN_H
#define HP_TRAIN_H

#include <stdint.h>

#include "augment.h"
#include "data.h"
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

typedef struct hp_epoch_metrics {
    int epoch;          /* 1-based */
    double lr;          /* learning rate in force during the epoch */
    double train_loss;  /* mean over the epoch's batches, as trained */
    double train_acc;
    double val_loss;    /* on the validation split, evaluation mode */
    double val_acc;
    double seconds;     /* wall time of the epoch, training and validation */
    int diverged;       /* 1 if the loss became NaN/Inf or exceeded diverge_factor * initial loss */
} hp_epoch_metrics;

typedef struct hp_trainer hp_trainer;

/* Create a trial's trainer: builds the model for the data's shape, initialises it from
 * `seed`, and allocates every buffer it will use. `train` and `val` are borrowed and must
 * outlive the trainer. */
int hp_trainer_create(const hp_model_spec *model, const hp_optim_spec *optim,
                      const hp_train_spec *train_spec, const hp_dataset *train,
                      const hp_dataset *val, uint64_t seed, hp_trainer **out, hp_err *err);
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

#endif
