/* gpu.h - GPU layer operations (CUDA, cuBLAS, cuDNN), one for one with the CPU kernels.
 *
 * A C API over device pointers, float32 only (the CPU's _f32 variants), outputs first, in the
 * style of llm.c and of the trainer/cpu headers. Shapes are the CPU kernels'; the memory order of
 * image tensors is the DEVICE layout, packed NCHW (cudnn_rules.h: HP_GPU_ACT_LAYOUT), where the
 * CPU keeps them channel-major [C, B, H, W] (cpu/conv.h). cuDNN 9 has no backward-data
 * convolution for the CPU's order (measured; cudnn_rules.h), and NCHW makes flatten free.
 *   dense   row-major [B, n]                       (cpu/layers.h)
 *   conv    [B, C, H, W] packed NCHW               (cpu/conv.h's maths)
 *   bn      [B, C, HW] ("NCHW")                    (cpu/norm.h)
 *   pools   P planes of [H, W], any plane order    (cpu/pool.h)
 *   dropout [B, C, HW], drawn in the CPU's channel-major order (so masks equal the CPU's)
 *   act, optimizers: flat [n]
 * Weights and every state vector are laid out as on the CPU ([F, C, k, k] filters), so states,
 * snapshots and checkpoints move between devices unchanged.
 * Where the GPU op needs different saved state than the CPU one (cuDNN batch norm saves the
 * mean and 1/std and differentiates from x, not xhat; cuDNN max pooling differentiates from
 * (x, y), not an argmax index), the signature says so; everything else matches.
 *
 * Work is queued on the context's stream and runs asynchronously: call hp_gpu_sync before
 * reading results on the host (hp_gpu_download synchronises). Nothing here allocates per call
 * except when a conv shape is met for the first time (its descriptors, algorithms and, if
 * larger, the workspace) and when the reduction scratch of xent grows to a larger batch.
 *
 * Numerics: cuBLAS runs in CUBLAS_DEFAULT_MATH and cuDNN convolutions in CUDNN_FMA_MATH unless
 * tf32 is asked for. (CUDNN_DEFAULT_MATH is not enough: on sm_80+ cuDNN may still pick TF32
 * tensor-core kernels under it; CUDNN_FMA_MATH is what torch.backends.cudnn.allow_tf32 = False
 * sets.) With `deterministic`, only cuDNN algorithms reporting CUDNN_DETERMINISTIC are used and
 * max pooling is CUDNN_POOLING_MAX_DETERMINISTIC (always), so two runs give the same bits.
 * All reductions in the small kernels (dense bias gradient, xent sums) run in a fixed order.
 *
 * Errors: every function returns 0 or -1; on -1, err holds one line naming the CUDA/cuBLAS/cuDNN
 * call that failed, its status string and what to do about it.
 */
#ifndef HP_CUDA_GPU_H
#define HP_CUDA_GPU_H

#include <stddef.h>
#include <stdint.h>

#include "augment.h"
#include "gpu_device.h" /* hp_gpu_opts */
#include "hp_err.h"
#include "layer_spec.h"
#include "optim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- device and context ------------------------------------------------------------ */

/* GPUs this process can see; 0 when the driver reports none or fails (not an error). */
int hp_gpu_device_count(void);

/* Bind this process to GPU local_rank % visible (local_rank >= 0: the node-local rank), make it
 * the current device, and report its index and name (name may be NULL). -1 with a message when
 * no GPU is visible. Several ranks may share one GPU. */
int hp_gpu_bind(int local_rank, int *device, char *name, size_t len, hp_err *err);

/* Make `device` (hp_gpu_bind's) the current device of the calling thread: CUDA's current device
 * is per thread, so a thread other than the binding one calls this before its first GPU call. */
int hp_gpu_use_device(int device, hp_err *err);

/* The cuBLAS and cuDNN handles, the stream, the cuDNN workspace, per-shape conv plans and
 * reusable descriptors. One per thread that trains (a process may hold several, one per lane of
 * orchestrator/lanes.h, all on its device); a context is not thread-safe. opts may be NULL. */
typedef struct hp_gpu_ctx hp_gpu_ctx;
int hp_gpu_ctx_create(hp_gpu_ctx **out, const hp_gpu_opts *opts, hp_err *err);
void hp_gpu_ctx_free(hp_gpu_ctx *ctx);
/* Wait for all queued work; reports an asynchronous kernel error, if any. */
int hp_gpu_sync(hp_gpu_ctx *ctx, hp_err *err);

/* Device memory: allocation is for setup (once per trial), never per batch. */
int hp_gpu_alloc(void **dptr, size_t bytes, const char *what, hp_err *err);
void hp_gpu_free(void *dptr);
/* Bytes the calling thread has allocated with hp_gpu_alloc so far (only grows): the difference
 * around a setup is what it holds on the device (gpu_train.h's per-trial figure). */
size_t hp_gpu_thread_allocated(void);
/* Free and total memory of the current device (cudaMemGetInfo). */
int hp_gpu_mem_info(size_t *free_bytes, size_t *total_bytes, hp_err *err);
int hp_gpu_upload(hp_gpu_ctx *ctx, void *dst, const void *src, size_t bytes, hp_err *err);
int hp_gpu_download(hp_gpu_ctx *ctx, void *dst, const void *src, size_t bytes, hp_err *err); /* syncs */

/* ---- dense, softmax cross-entropy (cuBLAS + small kernels; gpu_dense.cu) -------------- */

/* out [B, n_out] = inp [B, n_in] @ weight [n_out, n_in]^T + bias [n_out] (bias may be NULL);
 * relu != 0 fuses max(., 0). */
int hp_gpu_dense_forward(hp_gpu_ctx *ctx, float *out, const float *inp, const float *weight, const float *bias,
                         int B, int n_in, int n_out, int relu, hp_err *err);
/* dinp [B, n_in] (NULL: skipped); dweight [n_out, n_in], dbias [n_out] (NULL: no bias) OVERWRITTEN;
 * dout [B, n_out]; inp [B, n_in]; weight [n_out, n_in]. */
int hp_gpu_dense_backward(hp_gpu_ctx *ctx, float *dinp, float *dweight, float *dbias, const float *dout,
                          const float *inp, const float *weight, int B, int n_in, int n_out, hp_err *err);

/* Fused softmax cross-entropy, forward and backward (cpu/layers.h xent_forward + xent_backward):
 * dlogits [B, C] = dloss * (softmax(logits) - onehot(y)) (may be logits); losses [B] per example;
 * stats [2] (device, double): stats[0] = sum of losses, stats[1] = number with argmax == y (first
 * maximum wins), both summed in example order. logits [B, C]; y [B] (device int32, in [0, C)). */
int hp_gpu_xent(hp_gpu_ctx *ctx, float *dlogits, float *losses, double *stats, const float *logits,
                const int32_t *y, float dloss, int B, int C, hp_err *err);

/* ---- elementwise kernels (gpu_kernels.cu) ------------------------------------------- */

/* Activations for every type hp_act_supported accepts: relu, tanh, sigmoid through cuDNN (when
 * built with it; small kernels otherwise), leaky relu, elu, gelu as small kernels, with the CPU's
 * formulas (act.h). Backward reads inp and/or out as act.h says (gelu, elu: inp; tanh, sigmoid:
 * out; relu, leaky relu: inp, else out). out may be inp, dinp may be dout. n <= INT32_MAX. */
int hp_gpu_act_forward(hp_gpu_ctx *ctx, float *out, const float *inp, int64_t n, hp_layer_type type,
                       double param, hp_err *err);
int hp_gpu_act_backward(hp_gpu_ctx *ctx, float *dinp, const float *dout, const float *inp, const float *out,
                        int64_t n, hp_layer_type type, double param, hp_err *err);

/* Inverted dropout with the CPU's draw (cpu/dropout.h): out = inp * mask * (float)(1/(1-p)),
 * p <= 0 identity, p >= 1 drops all; mask = (hp_rng_at(key, j) >> 11) >= ceil(p * 2^53) where j is
 * the element's position in the CPU's order: for element (b, c, s) of [B, C, HW] images,
 * j = (c*B + b)*HW + s (channel-major); a flat [B, n] tensor is C = 1, HW = n (j = its index).
 * So the masks are bit-identical to the CPU's for the same tensor. mask, out, inp [B, C, HW]
 * (mask device uint8); out may be inp. */
int hp_gpu_dropout_forward(hp_gpu_ctx *ctx, float *out, uint8_t *mask, const float *inp, int B, int C, int64_t HW,
                           double p, uint64_t key, hp_err *err);
int hp_gpu_dropout_backward(hp_gpu_ctx *ctx, float *dinp, const float *dout, const uint8_t *mask, int64_t n,
                            double p, hp_err *err);

/* Global average pooling (cpu/pool.h), a kernel: out [P] = mean of inp [P, HW] (summed in double,
 * in order, one thread per plane); backward dinp [P, HW] = dout [P] / HW. */
int hp_gpu_gap_forward(hp_gpu_ctx *ctx, float *out, const float *inp, int64_t P, int64_t HW, hp_err *err);
int hp_gpu_gap_backward(hp_gpu_ctx *ctx, float *dinp, const float *dout, int64_t P, int64_t HW, hp_err *err);

/* ---- data movement and small kernels (gpu_kernels.cu) -------------------------------- */

/* Device-to-device copy and zero fill, queued on the stream (no synchronisation). */
int hp_gpu_copy(hp_gpu_ctx *ctx, void *dst, const void *src, size_t bytes, hp_err *err);
int hp_gpu_zero(hp_gpu_ctx *ctx, void *dst, size_t bytes, hp_err *err);

/* out [n] = a [n] + b [n] (the residual add); out may be a or b. */
int hp_gpu_add(hp_gpu_ctx *ctx, float *out, const float *a, const float *b, int64_t n, hp_err *err);

/* Gather a training batch from a data set resident on the device, augmenting it on the way:
 *   xb [B, C, H, W] = X [idx[b]] (X: [N, C, H, W], NCHW rows of C*H*W floats), yb [B] = Y [idx[b]];
 * idx [B] (device int32, each in [0, N)); draws [B] (device) or NULL: with draws, example b is
 * transformed exactly as hp_augment_example(spec, &draws[b], ...) does on the CPU (flip, then
 * shift with zero padding, then a cutout of side `cutout` when cutout > 0; augment.h), so the
 * values are bit-identical (only copies and zeros). Not in place: xb must not overlap X. */
int hp_gpu_gather(hp_gpu_ctx *ctx, float *xb, int32_t *yb, const float *X, const int32_t *Y, const int32_t *idx,
                  const hp_augment_draw *draws, int cutout, int B, int C, int H, int W, hp_err *err);

/* ---- optimizers (gpu_optim.cu): PyTorch's formulas as in optim.h / optim_tmpl.h -------- */

/* SGD (momentum, nesterov, coupled weight decay): params, grads [n]; buf [n] (NULL when
 * spec->momentum == 0); t = 1-based step (t == 1 initialises buf = g). */
int hp_gpu_sgd_step(hp_gpu_ctx *ctx, float *params, const float *grads, float *buf, int64_t n,
                    const hp_optim_spec *spec, double lr, int64_t t, hp_err *err);
/* Adam (spec->type HP_OPTIM_ADAM, coupled decay) or AdamW (HP_OPTIM_ADAMW, decoupled): m1, m2 [n]
 * (start at 0), t = 1-based step. Each float operation is rounded as the CPU's (no FMA
 * contraction), so results equal hp_optim_step's to the last bit. */
int hp_gpu_adam_step(hp_gpu_ctx *ctx, float *params, const float *grads, float *m1, float *m2, int64_t n,
                     const hp_optim_spec *spec, double lr, int64_t t, hp_err *err);

/* RMSProp (coupled decay; centered off): sq [n] (starts at 0); buf [n] (starts at 0; NULL when
 * spec->momentum == 0). AdaGrad (coupled decay; lr_decay 0): sum [n] (starts at 0). Each float
 * operation rounded as optim_tmpl.h's (no FMA contraction): results equal hp_optim_step's. */
int hp_gpu_rmsprop_step(hp_gpu_ctx *ctx, float *params, const float *grads, float *sq, float *buf, int64_t n,
                        const hp_optim_spec *spec, double lr, int64_t t, hp_err *err);
int hp_gpu_adagrad_step(hp_gpu_ctx *ctx, float *params, const float *grads, float *sum, int64_t n,
                        const hp_optim_spec *spec, double lr, int64_t t, hp_err *err);

/* ---- cuDNN layers (gpu_conv.cu, gpu_cudnn.cu); only when built with cuDNN ------------- */
#if defined(HPSWEEP_HAVE_CUDNN) && HPSWEEP_HAVE_CUDNN

/* Convolution in the device layout (cpu/conv.h's maths; g from hp_conv_geom_make, g->G unused):
 * forward:  out [B, F, Ho, Wo]; inp [B, C, H, W]; weight [F, C, k, k]; bias [F] or NULL.
 * backward: dinp [B, C, H, W] (NULL: skipped); dweight [F, C, k, k], dbias [F] (NULL: no bias)
 *           OVERWRITTEN; dout [B, F, Ho, Wo]; inp, weight as forward.
 * The algorithms for all three directions are chosen at the first call per (geometry, B) with
 * the cudnnGet*Algorithm_v7 heuristics, restricted to deterministic ones in deterministic mode
 * and to the workspace limit; the descriptors are cudnn_rules.h's hp_conv_tdescs. */
struct hp_conv_geom;
int hp_gpu_conv_forward(hp_gpu_ctx *ctx, float *out, const float *inp, const float *weight, const float *bias,
                        int B, const struct hp_conv_geom *g, hp_err *err);
int hp_gpu_conv_backward(hp_gpu_ctx *ctx, float *dinp, float *dweight, float *dbias, const float *dout,
                         const float *inp, const float *weight, int B, const struct hp_conv_geom *g,
                         hp_err *err);

/* Batch norm over inp [B, C, HW] (cpu/norm.h's formulas; cuDNN spatial mode).
 * forward_train: out [B, C, HW]; save_mean, save_invstd [C] (batch mean and 1/sqrt(biased var +
 *                eps), for backward); running_mean, running_var [C] updated in place with
 *                exponentialAverageFactor = momentum. cuDNN's running variance is the UNBIASED
 *                batch variance (times n/(n-1)), as PyTorch's. weight, bias [C] required (affine
 *                off: pass ones and zeros). eps > 0 (CUDNN_BN_MIN_EPSILON is 0 in cuDNN 9); n = B*HW >= 2;
 *                B <= 65535 (cuDNN's limit; evaluation splits larger batches itself).
 * forward_eval:  out [B, C, HW] from the running statistics.
 * backward:      dinp [B, C, HW]; dweight, dbias [C] OVERWRITTEN; dout, inp [B, C, HW]; weight [C];
 *                save_mean, save_invstd [C] from forward_train (cuDNN recomputes xhat from inp). */
int hp_gpu_bn_forward_train(hp_gpu_ctx *ctx, float *out, float *save_mean, float *save_invstd,
                            float *running_mean, float *running_var, const float *inp, const float *weight,
                            const float *bias, int B, int C, int HW, double momentum, double eps, hp_err *err);
int hp_gpu_bn_forward_eval(hp_gpu_ctx *ctx, float *out, const float *inp, const float *weight, const float *bias,
                           const float *running_mean, const float *running_var, int B, int C, int HW, double eps,
                           hp_err *err);
int hp_gpu_bn_backward(hp_gpu_ctx *ctx, float *dinp, float *dweight, float *dbias, const float *dout,
                       const float *inp, const float *save_mean, const float *save_invstd, const float *weight,
                       int B, int C, int HW, double eps, hp_err *err);

/* Pools over P planes (cpu/pool.h; g from hp_pool_geom_make). Max pooling propagates NaN and
 * differentiates from (inp, out) instead of an index; avg counts padding (count_include_pad).
 * maxpool/avgpool forward: out [P, Ho, Wo]; inp [P, H, W].
 * maxpool backward: dinp [P, H, W]; dout, out [P, Ho, Wo]; inp [P, H, W]. avgpool: the same.
 */
struct hp_pool_geom;
int hp_gpu_pool_forward(hp_gpu_ctx *ctx, float *out, const float *inp, int64_t P, const struct hp_pool_geom *g,
                        int is_max, hp_err *err);
int hp_gpu_pool_backward(hp_gpu_ctx *ctx, float *dinp, const float *dout, const float *out, const float *inp,
                         int64_t P, const struct hp_pool_geom *g, int is_max, hp_err *err);

#endif /* HPSWEEP_HAVE_CUDNN */

#ifdef __cplusplus
}
#endif

#endif
