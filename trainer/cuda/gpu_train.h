/* gpu_train.h - what a trainer keeps on the GPU for one trial: the model (gpu_model.h), the
 * optimizer's moments, and the training and validation sets, uploaded once at creation.
 *
 * train.c drives it exactly as it drives the CPU model: the epoch's order and augmentation
 * draws are computed on the host from the same streams (so a GPU trial sees the same batches
 * as a CPU trial), uploaded once per epoch, and each step gathers and augments its batch on
 * the device. The host keeps the model state and optimizer moments as mirrors, refreshed with
 * hp_gpu_train_get_state / restored with hp_gpu_train_put_state. Plain C over cuda/gpu.h.
 */
#ifndef HP_CUDA_GPU_TRAIN_H
#define HP_CUDA_GPU_TRAIN_H

#include <stdint.h>

#include "augment.h"
#include "cuda/gpu.h"
#include "data.h"
#include "hp_err.h"
#include "layer_spec.h"
#include "optim.h"

typedef struct hp_gpu_train hp_gpu_train;

/* The model for batches of up to max_batch, zeroed optimizer moments, and the train and val
 * sets copied to the device. The caller then puts an initial state. */
int hp_gpu_train_create(hp_gpu_ctx *ctx, const hp_model_spec *model, const hp_optim_spec *optim,
                        const hp_augment_spec *augment, const hp_dataset *train, const hp_dataset *val, int max_batch,
                        hp_gpu_train **out, hp_err *err);
void hp_gpu_train_free(hp_gpu_train *g);
/* The device memory the trial holds: its model, moments, data and batch (not the context's
 * cuDNN workspace and handles, shared by the trials of a context). */
size_t hp_gpu_train_bytes(const hp_gpu_train *g);

/* Copy the first n floats of the state vector, and (if moments is non-NULL) the optimizer's
 * moment blocks [nmom * nparams] (optim.h's layout without the step count), to the device;
 * get: back to the host (waits for the GPU). */
int hp_gpu_train_put_state(hp_gpu_train *g, const float *state, int64_t n, const float *moments, hp_err *err);
int hp_gpu_train_get_state(hp_gpu_train *g, float *state, int64_t n, float *moments, hp_err *err);

/* The epoch's order perm [ntrain] and, when augmenting, one draw per position of perm
 * (draws[i] for the example at perm[i]; NULL: no augmentation). */
int hp_gpu_train_set_epoch(hp_gpu_train *g, const int32_t *perm, const hp_augment_draw *draws, hp_err *err);

/* Forward and backward on the batch perm[start .. start+B), gathered and augmented on the
 * device; dropout stream (drop_key, drop_step) as model.h. Returns the summed loss and hits. */
int hp_gpu_train_step(hp_gpu_train *g, int64_t start, int B, uint64_t drop_key, uint64_t drop_step,
                      double *loss_sum, int64_t *correct, hp_err *err);

/* The optimizer's update with the last step's gradients: lr, and t the 1-based step number. */
int hp_gpu_train_update(hp_gpu_train *g, double lr, int64_t t, hp_err *err);

/* Evaluation mode on validation examples [start, start+B) (resident), or on a host batch
 * x [B, dim], y [B] (uploaded first). */
int hp_gpu_train_eval_val(hp_gpu_train *g, int64_t start, int B, double *loss_sum, int64_t *correct, hp_err *err);
int hp_gpu_train_eval_host(hp_gpu_train *g, const float *x, const int32_t *y, int B, double *loss_sum,
                           int64_t *correct, hp_err *err);

#endif
