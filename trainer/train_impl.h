/* train_impl.h - the trainer's internal state, shared by the trainer's own .c files
 * (train.c: the training loop; train_ckpt.c: checkpoints and cancellation). Not part of
 * the public API: everything outside trainer/ goes through train.h. */
#ifndef HP_TRAIN_IMPL_H
#define HP_TRAIN_IMPL_H

#include <signal.h>
#include <stdint.h>

#include "train.h"

#if defined(HPSWEEP_HAVE_CUDA) && HPSWEEP_HAVE_CUDA
#define HP_TRAINER_GPU 1
#else
#define HP_TRAINER_GPU 0
#endif

struct hp_gpu_train;
struct hp_gpu_api;

struct hp_trainer {
    hp_model *model;
    hp_optim *optim;
    hp_train_spec spec; /* diverge_factor resolved (0 -> 4) */
    double lr;
    const hp_dataset *train, *val; /* borrowed */
    uint64_t seed;
    int batch;      /* examples per step: min(batch_size, train->n) */
    int dim;        /* features per example */
    int32_t *perm;  /* [train->n] the epoch's order */
    float *xb;      /* [batch, dim] gathered batch */
    int32_t *yb;    /* [batch] its labels */
    float *best;    /* [nstate] best-on-validation state */
    float *scratch; /* [nstate] the live state while hp_trainer_evaluate swaps another in */
    int best_epoch;
    double best_acc, best_loss;
    double initial_loss;
    int epochs_done;
    const volatile sig_atomic_t *cancel; /* non-NULL and set: stop the epoch at the next batch (train_ckpt.c) */
    hp_sched *sched;   /* the learning-rate schedule (its plateau state is checkpointed) */
    int c, h, w;       /* one example's shape, for augmentation */
    float *aug;        /* [c*h*w] augmentation scratch, or NULL when nothing is augmented */
    float *before;     /* [nparams] the parameters before the epoch's last update (update ratios) */
    /* On a GPU (hp_trainer_create_on): model, moments and data live in g; `model` (built for
     * batches of 1) and `optim` are host mirrors of the state, refreshed after every epoch, and
     * xb/yb serve only host batches (initial loss, hp_trainer_evaluate of another set). */
    hp_gpu_device *gpu;     /* borrowed; NULL on the CPU */
    const struct hp_gpu_api *api; /* the GPU backend's functions (cuda/gpu_api.h) */
    struct hp_gpu_train *g;
    hp_augment_draw *draws;  /* [train->n] the epoch's augmentation draws (GPU with augmentation) */
};

/* GPU: copy the host mirrors (model state, optimizer moments) to the device, after a caller
 * wrote them (a checkpoint restored). 0 on the CPU. (train.c) */
int hp_trainer_push_state_(hp_trainer *t, hp_err *err);

#endif
