/* gpu_cudnn.cu - batch norm and max/avg pooling, in the CPU kernels' layouts: batch norm in
 * training and max pooling run on our kernels (gpu_bnpool.cu: cuDNN's were 40% of a CNN step on
 * an H200), batch norm in evaluation and average pooling on cuDNN. The shapes are checked here for both, with cuDNN's limits, so that one rule holds.
 *
 * Batch norm (cuDNN spatial mode over [B, C, HW, 1] NCHW; statistics per channel over B*HW):
 *   forward training computes mean and the BIASED variance for normalising (as PyTorch), saves
 *   mean and 1/sqrt(var + eps) ("saveInvVariance" is that inverse standard deviation), and
 *   updates running = (1 - f) * running + f * batch with f = exponentialAverageFactor, where
 *   cuDNN's batch variance for the running average is the UNBIASED one (times n/(n-1)). With
 *   f = momentum this is PyTorch's rule (norm.h). (PyTorch's own cuDNN path relies on this
 *   convention; the parity test checks it against hp_bn_forward_train_f32 on a GPU.)
 *   cuDNN requires eps >= CUDNN_BN_MIN_EPSILON (0 in cuDNN 9; the plan already needs eps > 0).
 *   cuDNN's batch-norm and pooling calls refuse a batch dimension of 65536 or more
 *   (CUDNN_STATUS_NOT_SUPPORTED, reported for cuDNN 9): evaluation and pooling, whose rows and
 *   planes are independent, run in chunks below it; training refuses larger flat batches.
 * Pools: P planes as [P, 1, H, W]. Max pooling is CUDNN_POOLING_MAX_DETERMINISTIC with NaN
 *   propagation; avg pooling CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING (PyTorch's default). */
#include "gpu_impl.h"

/* cuDNN's largest batch dimension for batch norm and pooling (see the top of this file). */
#define HP_CUDNN_MAX_N 65535

/* Describe [B, C, HW, 1] in tx and its per-channel [1, C, 1, 1] in tbn. Training needs n = B*HW >= 2
 * values per channel (PyTorch refuses n = 1 too; cuDNN's n/(n-1) would divide by zero). */
static int bn_desc(hp_gpu_ctx *ctx, int B, int C, int HW, double eps, int train, hp_err *err) {
    if (B <= 0 || C <= 0 || HW <= 0 || (train && (int64_t)B * HW < 2))
        return hp_errf(err, "batch norm on the GPU: B %d, C %d, HW %d: need B, C, HW > 0 and B*HW >= 2 values "
                            "per channel", B, C, HW);
    if (!(eps >= CUDNN_BN_MIN_EPSILON) || !(eps > 0))
        return hp_errf(err, "batch norm on the GPU: eps %g is invalid (cuDNN's minimum CUDNN_BN_MIN_EPSILON is %g): "
                            "use eps > 0", eps, (double)CUDNN_BN_MIN_EPSILON);
    if (train && B > HP_CUDNN_MAX_N)
        return hp_errf(err, "batch norm on the GPU: a batch of %d rows is over cuDNN's %d: use a smaller batch_size",
                       B, HP_CUDNN_MAX_N);
    const char *fix = "check the batch-norm shape";
    HP_CUDNN_CHECK(cudnnSetTensor4dDescriptor(ctx->tx, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, B, C, HW, 1), fix);
    HP_CUDNN_CHECK(cudnnDeriveBNTensorDescriptor(ctx->tbn, ctx->tx, CUDNN_BATCHNORM_SPATIAL), fix);
    return 0;
}

extern "C" int hp_gpu_bn_forward_train(hp_gpu_ctx *ctx, float *out, float *save_mean, float *save_invstd,
                                       float *running_mean, float *running_var, const float *inp, const float *weight,
                                       const float *bias, int B, int C, int HW, double momentum, double eps,
                                       hp_err *err) {
    // out, inp [B, C, HW]; save_mean, save_invstd, running_mean, running_var, weight, bias [C]
    if (bn_desc(ctx, B, C, HW, eps, 1, err)) return -1;
    return hp_gpu_bn_train_kernels(ctx, out, save_mean, save_invstd, running_mean, running_var, inp, weight, bias, B,
                                   C, HW, momentum, eps, err);
}

extern "C" int hp_gpu_bn_forward_eval(hp_gpu_ctx *ctx, float *out, const float *inp, const float *weight,
                                      const float *bias, const float *running_mean, const float *running_var, int B,
                                      int C, int HW, double eps, hp_err *err) {
    // out, inp [B, C, HW]; weight, bias, running_mean, running_var [C]
    // Rows are independent in evaluation: chunks of at most HP_CUDNN_MAX_N rows of [C, HW].
    const float one = 1.0f, zero = 0.0f;
    const int64_t row = (int64_t)C * HW;
    if (B <= 0) return bn_desc(ctx, B, C, HW, eps, 0, err); // reports the bad shape
    for (int b0 = 0; b0 < B; b0 += HP_CUDNN_MAX_N) {
        int nb = B - b0 < HP_CUDNN_MAX_N ? B - b0 : HP_CUDNN_MAX_N;
        if (bn_desc(ctx, nb, C, HW, eps, 0, err)) return -1;
        HP_CUDNN_CHECK(cudnnBatchNormalizationForwardInference(ctx->cudnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero,
                                                               ctx->tx, inp + b0 * row, ctx->tx, out + b0 * row,
                                                               ctx->tbn, weight, bias, running_mean, running_var, eps),
                       "check the batch-norm pointers (weight, bias, running statistics: [C] device arrays)");
    }
    return 0;
}

extern "C" int hp_gpu_bn_backward(hp_gpu_ctx *ctx, float *dinp, float *dweight, float *dbias, const float *dout,
                                  const float *inp, const float *save_mean, const float *save_invstd,
                                  const float *weight, int B, int C, int HW, double eps, hp_err *err) {
    // dinp, dout, inp [B, C, HW]; dweight, dbias, save_mean, save_invstd, weight [C]
    if (bn_desc(ctx, B, C, HW, eps, 1, err)) return -1;
    return hp_gpu_bn_backward_kernels(ctx, dinp, dweight, dbias, dout, inp, save_mean, save_invstd, weight, B, C, HW,
                                      err);
}

static int pool_desc(hp_gpu_ctx *ctx, int64_t P, const hp_pool_geom *g, int is_max, hp_err *err) {
    if (P <= 0 || P > HP_CUDNN_MAX_N)
        return hp_errf(err, "pooling on the GPU: %lld planes in one call: need 1 to %d", (long long)P, HP_CUDNN_MAX_N);
    const char *fix = "check the pooling geometry (hp_pool_geom_make)";
    HP_CUDNN_CHECK(cudnnSetPooling2dDescriptor(ctx->pool,
                                               is_max ? CUDNN_POOLING_MAX_DETERMINISTIC
                                                      : CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING,
                                               CUDNN_PROPAGATE_NAN, g->k, g->k, g->pad, g->pad, g->stride, g->stride),
                   fix);
    HP_CUDNN_CHECK(cudnnSetTensor4dDescriptor(ctx->tx, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, (int)P, 1, g->H, g->W), fix);
    HP_CUDNN_CHECK(cudnnSetTensor4dDescriptor(ctx->ty, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, (int)P, 1, g->Ho, g->Wo),
                   fix);
    return 0;
}

extern "C" int hp_gpu_pool_forward(hp_gpu_ctx *ctx, float *out, const float *inp, int64_t P, const hp_pool_geom *g,
                                   int is_max, hp_err *err) {
    // out [P, Ho, Wo], inp [P, H, W]; planes are independent: chunks of at most HP_CUDNN_MAX_N
    if (P <= 0) return hp_errf(err, "pooling on the GPU: %lld planes: need at least 1", (long long)P);
    if (is_max && hp_gpu_maxpool_kernels_ok(g)) return hp_gpu_maxpool_forward_kernel(ctx, out, inp, P, g, err);
    const float one = 1.0f, zero = 0.0f;
    const int64_t in_n = (int64_t)g->H * g->W, out_n = (int64_t)g->Ho * g->Wo;
    for (int64_t p0 = 0; p0 < P; p0 += HP_CUDNN_MAX_N) {
        int64_t np = P - p0 < HP_CUDNN_MAX_N ? P - p0 : HP_CUDNN_MAX_N;
        if (pool_desc(ctx, np, g, is_max, err)) return -1;
        HP_CUDNN_CHECK(cudnnPoolingForward(ctx->cudnn, ctx->pool, &one, ctx->tx, inp + p0 * in_n, &zero, ctx->ty,
                                           out + p0 * out_n),
                       "check the pooling pointers and sizes");
    }
    return 0;
}

extern "C" int hp_gpu_pool_backward(hp_gpu_ctx *ctx, float *dinp, const float *dout, const float *out,
                                    const float *inp, int64_t P, const hp_pool_geom *g, int is_max, hp_err *err) {
    // dinp, inp [P, H, W]; dout, out [P, Ho, Wo]; in chunks of planes as the forward
    if (P <= 0) return hp_errf(err, "pooling on the GPU: %lld planes: need at least 1", (long long)P);
    if (is_max && hp_gpu_maxpool_kernels_ok(g)) return hp_gpu_maxpool_backward_kernel(ctx, dinp, dout, inp, P, g, err);
    const float one = 1.0f, zero = 0.0f; // beta 0: dinp overwritten, overlapping windows summed by cuDNN
    const int64_t in_n = (int64_t)g->H * g->W, out_n = (int64_t)g->Ho * g->Wo;
    for (int64_t p0 = 0; p0 < P; p0 += HP_CUDNN_MAX_N) {
        int64_t np = P - p0 < HP_CUDNN_MAX_N ? P - p0 : HP_CUDNN_MAX_N;
        if (pool_desc(ctx, np, g, is_max, err)) return -1;
        HP_CUDNN_CHECK(cudnnPoolingBackward(ctx->cudnn, ctx->pool, &one, ctx->ty, out + p0 * out_n, ctx->ty,
                                            dout + p0 * out_n, ctx->tx, inp + p0 * in_n, &zero, ctx->tx,
                                            dinp + p0 * in_n),
                       "check the pooling pointers; out must be the forward's output for inp");
    }
    return 0;
}
