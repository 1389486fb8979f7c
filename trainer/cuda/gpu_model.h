/* gpu_model.h - a model's forward and backward passes on the GPU: the model's plan
 * (model_plan.h), run op by op through cuda/gpu.h.
 *
 * Same layer chain, same state-vector layout and the same activation layouts as the CPU
 * model (images channel-major [c, B, h, w], flat tensors [B, c]), so a state vector moves
 * between the two with one copy, and each op is the gpu.h twin of the CPU kernel the CPU model
 * calls. Where the GPU op keeps different saved state, the plan's arenas are reused:
 *   batch norm  keeps the batch mean and 1/std (cuDNN's saves) in the plan's [mean, invstd]
 *               slots; its backward recomputes xhat from its input, so the input must survive:
 *               a batch norm the plan runs in place over a conv output writes into the plan's
 *               xhat slot (unused on the GPU) instead;
 *   max pool    differentiates from (input, output) instead of an argmax index (no index arena),
 *               so where the plan runs the ReLU before it on its output, that ReLU writes a
 *               buffer of its own and the pool's output stays intact.
 * Every pointer held here is a device pointer; the state vector enters and leaves through
 * gpu_train.h. Plain C: it compiles without nvcc (and runs on the host emulation in tests).
 */
#ifndef HP_CUDA_GPU_MODEL_H
#define HP_CUDA_GPU_MODEL_H

#include <stdint.h>

#include "cuda/gpu.h"
#include "hp_err.h"
#include "layer_spec.h"
#include "model_plan.h"

typedef struct hp_gpu_model hp_gpu_model;

/* Build the plan and allocate every device buffer for batches of up to max_batch. Fails with a
 * message for what the GPU backend cannot run: conv, batch norm and pools in a CUDA build
 * without cuDNN. */
int hp_gpu_model_create(hp_gpu_ctx *ctx, const hp_model_spec *spec, int c, int h, int w, int nclasses,
                        int max_batch, hp_gpu_model **out, hp_err *err);
void hp_gpu_model_free(hp_gpu_model *m);

const hp_plan *hp_gpu_model_plan(const hp_gpu_model *m);
float *hp_gpu_model_state(hp_gpu_model *m); /* device [nstate]: parameters, then buffers */
float *hp_gpu_model_grad(hp_gpu_model *m);  /* device [nparams] */

/* A training step on x [B, in_dim] (device, NCHW rows) and y [B] (device): forward in training
 * mode, softmax cross-entropy, backward; overwrites the gradient with d(mean loss)/d(params).
 * Dropout draws the CPU model's masks: layer i of step `drop_step` from hp_key3(drop_key,
 * drop_step, i) (model.h). Waits for the GPU and returns the summed loss and the hits. */
int hp_gpu_model_step(hp_gpu_model *m, const float *x, const int32_t *y, int B, uint64_t drop_key,
                      uint64_t drop_step, double *loss_sum, int64_t *correct, hp_err *err);
/* Forward in evaluation mode and the loss; nothing in the state changes. */
int hp_gpu_model_eval(hp_gpu_model *m, const float *x, const int32_t *y, int B, double *loss_sum, int64_t *correct,
                      hp_err *err);

#endif
