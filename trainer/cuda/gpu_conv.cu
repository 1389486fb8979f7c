/* gpu_conv.cu - convolution on cuDNN over the device layout, with per-shape plans.
 *
 * Layout: activations are packed NCHW on the device (HP_GPU_ACT_LAYOUT); the descriptors are
 * hp_conv_tdescs' (cudnn_rules.h), the same the host emulation checks against the support
 * matrix measured on a GPU. (The CPU's channel-major [C, B, H, W] described through strides got
 * forward and backward-filter algorithms but no backward-data algorithm at all from cuDNN 9.19:
 * cudnn_rules.h.) Weights [F, C, k, k] are cuDNN's packed NCHW filter layout, the same on CPU
 * and GPU. PyTorch's Conv2d is a cross-correlation (no kernel flip): CUDNN_CROSS_CORRELATION.
 *
 * Plans: the first call for a (B, geometry) creates the descriptors and asks the _v7 heuristics
 * (cudnnGetConvolution*Algorithm_v7, which rank algorithms without running them) for each
 * direction; the first result that succeeded, fits the workspace limit, matches the math mode
 * and, in deterministic mode, reports CUDNN_DETERMINISTIC is kept for the life of the context.
 * The context's workspace grows to the largest plan's need at that moment, never per step. */
#include "gpu_impl.h"

/* Math type allowed for an algorithm: with TF32 off only FMA/default kernels (no tensor ops);
 * never CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION, which may down-convert fp32 data to fp16. */
static int math_ok(const hp_gpu_ctx *ctx, cudnnMathType_t m) {
    if (m == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) return 0;
    return ctx->opts.allow_tf32 || m == CUDNN_FMA_MATH || m == CUDNN_DEFAULT_MATH;
}

/* The math type the heuristics are asked under: with TF32, CUDNN_DEFAULT_MATH (for fp32 data it
 * allows TF32 tensor cores and nothing narrower: what torch.backends.cudnn.allow_tf32 selects). */
static cudnnMathType_t conv_math(const hp_gpu_ctx *ctx) {
    return ctx->opts.allow_tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
}

/* The math type set on the descriptor for a chosen algorithm: with TF32 off always CUDNN_FMA_MATH,
 * since under CUDNN_DEFAULT_MATH cuDNN may still run TF32 tensor-core kernels on sm_80 and later. */
static cudnnMathType_t chosen_math(const hp_gpu_ctx *ctx, cudnnMathType_t reported) {
    return ctx->opts.allow_tf32 ? reported : CUDNN_FMA_MATH;
}

/* Grow the workspace to `bytes`. The new block is allocated before the old one is freed, so a
 * failure leaves the old workspace (and every plan that fits it) usable. cudaFree waits for the
 * queued work that may still use the old block. */
static int workspace_reserve(hp_gpu_ctx *ctx, size_t bytes, hp_err *err) {
    if (bytes <= ctx->workspace_size) return 0;
    void *fresh = NULL;
    HP_CUDA_CHECK(cudaMalloc(&fresh, bytes),
                  "out of GPU memory for the cuDNN workspace: lower hp_gpu_opts.workspace_max or the batch size");
    void *old = ctx->workspace;
    ctx->workspace = fresh;
    ctx->workspace_size = bytes;
    if (old) HP_CUDA_CHECK(cudaFree(old), "a kernel queued earlier faulted: rerun with compute-sanitizer");
    return 0;
}

/* Pick from n perf results (any of the three kinds, which share these fields). */
#define PICK_ALGO(dir, perf, n, ctx, out_algo, out_math, out_mem)                                               \
    do {                                                                                                   \
        int found_ = 0;                                                                                    \
        for (int i_ = 0; i_ < (n) && !found_; i_++) {                                                      \
            if (perf[i_].status != CUDNN_STATUS_SUCCESS || perf[i_].memory > (ctx)->opts.workspace_max) continue; \
            if ((ctx)->opts.deterministic && perf[i_].determinism != CUDNN_DETERMINISTIC) continue;       \
            if (!math_ok((ctx), perf[i_].mathType)) continue;                                              \
            out_algo = perf[i_].algo, out_math = chosen_math((ctx), perf[i_].mathType), out_mem = perf[i_].memory, found_ = 1; \
        }                                                                                                  \
        if (!found_) return hp_conv_nofit(err, (dir), B, g, &xd, (ctx)->opts.deterministic, (ctx)->opts.workspace_max); \
    } while (0)

/* The plan of one convolution shape (found, or made in a free or evicted slot): its cuDNN
 * descriptors, each direction's algorithm and math type, and the workspace they need. Over 80
 * lines on purpose: it is one straight sequence of checked cuDNN calls, and HP_CUDNN_CHECK and
 * PICK_ALGO return from this function on failure, so parts of it would each need the plan, the
 * tensor descriptors and that error path passed along without making any step clearer. */
static int plan_get(hp_gpu_ctx *ctx, int B, const hp_conv_geom *g, hp_gpu_conv_plan **out, hp_err *err) {
    hp_gpu_conv_plan *p = NULL;
    for (int i = 0; i < HP_GPU_MAX_PLANS; i++) {
        hp_gpu_conv_plan *q = &ctx->plans[i];
        if (!q->used) {
            if (!p) p = q;
            continue;
        }
        if (q->B == B && q->C == g->C && q->H == g->H && q->W == g->W && q->F == g->F && q->k == g->k &&
            q->stride == g->stride && q->pad == g->pad) {
            *out = q;
            return 0;
        }
    }
    if (!p) {
        // The table is full (a long-lived context over many trials of several shapes): reuse the
        // slots in turn. Its descriptors are re-set below; its algorithms chosen again.
        p = &ctx->plans[ctx->plan_evict];
        ctx->plan_evict = (ctx->plan_evict + 1) % HP_GPU_MAX_PLANS;
        p->used = 0;
    }
    const char *fix = "check the convolution geometry (hp_conv_geom_make) and B > 0";
    if (!p->x) HP_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->x), fix);
    if (!p->y) HP_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->y), fix);
    if (!p->bias) HP_CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->bias), fix);
    if (!p->w) HP_CUDNN_CHECK(cudnnCreateFilterDescriptor(&p->w), fix);
    if (!p->conv) HP_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&p->conv), fix);
    hp_tdesc xd, yd; // x [B, C, H, W], y [B, F, Ho, Wo] in the device layout
    hp_conv_tdescs(HP_GPU_ACT_LAYOUT, B, g, &xd, &yd);
    HP_CUDNN_CHECK(cudnnSetTensor4dDescriptorEx(p->x, CUDNN_DATA_FLOAT, xd.n, xd.c, xd.h, xd.w, xd.sn, xd.sc, xd.sh, xd.sw),
                   fix);
    HP_CUDNN_CHECK(cudnnSetTensor4dDescriptorEx(p->y, CUDNN_DATA_FLOAT, yd.n, yd.c, yd.h, yd.w, yd.sn, yd.sc, yd.sh, yd.sw),
                   fix);
    HP_CUDNN_CHECK(cudnnSetTensor4dDescriptor(p->bias, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, g->F, 1, 1), fix);
    HP_CUDNN_CHECK(cudnnSetFilter4dDescriptor(p->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, g->F, g->C, g->k, g->k), fix);
    HP_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(p->conv, g->pad, g->pad, g->stride, g->stride, 1, 1,
                                                   CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                   fix);
    HP_CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv, conv_math(ctx)), fix);

    size_t need = 0, mem = 0;
    int n = 0;
    cudnnConvolutionFwdAlgoPerf_t pf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    HP_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(ctx->cudnn, p->x, p->w, p->conv, p->y,
                                                          CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, pf),
                   fix);
    PICK_ALGO(HP_CONV_FWD, pf, n, ctx, p->fwd, p->fwd_math, mem);
    need = mem > need ? mem : need;
    cudnnConvolutionBwdDataAlgoPerf_t pd[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    HP_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(ctx->cudnn, p->w, p->y, p->conv, p->x,
                                                               CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &n, pd),
                   fix);
    PICK_ALGO(HP_CONV_BWD_DATA, pd, n, ctx, p->bwd_data, p->data_math, mem);
    need = mem > need ? mem : need;
    cudnnConvolutionBwdFilterAlgoPerf_t pw[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    HP_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(ctx->cudnn, p->x, p->y, p->conv, p->w,
                                                                 CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &n, pw),
                   fix);
    PICK_ALGO(HP_CONV_BWD_FILTER, pw, n, ctx, p->bwd_filter, p->filter_math, mem);
    need = mem > need ? mem : need;
    // The heuristics' memory estimates were made under conv_math(); ask again under the math
    // type each direction will run with (they can differ with TF32 on) and keep the largest.
    size_t ws = 0;
    HP_CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv, p->fwd_math), fix);
    HP_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(ctx->cudnn, p->x, p->w, p->conv, p->y, p->fwd, &ws), fix);
    need = ws > need ? ws : need;
    HP_CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv, p->data_math), fix);
    HP_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(ctx->cudnn, p->w, p->y, p->conv, p->x, p->bwd_data, &ws),
                   fix);
    need = ws > need ? ws : need;
    HP_CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv, p->filter_math), fix);
    HP_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(ctx->cudnn, p->x, p->y, p->conv, p->w, p->bwd_filter,
                                                                  &ws),
                   fix);
    need = ws > need ? ws : need;
    if (workspace_reserve(ctx, need, err)) return -1;
    p->B = B, p->C = g->C, p->H = g->H, p->W = g->W, p->F = g->F, p->k = g->k, p->stride = g->stride, p->pad = g->pad;
    p->used = 1;
    *out = p;
    return 0;
}

extern "C" int hp_gpu_conv_forward(hp_gpu_ctx *ctx, float *out, const float *inp, const float *weight,
                                   const float *bias, int B, const hp_conv_geom *g, hp_err *err) {
    // out [B, F, Ho, Wo], inp [B, C, H, W], weight [F, C, k, k], bias [F]
    hp_gpu_conv_plan *p;
    if (plan_get(ctx, B, g, &p, err)) return -1;
    const float one = 1.0f, zero = 0.0f;
    const char *fix = "check the convolution's device pointers and sizes";
    HP_CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv, p->fwd_math), fix);
    HP_CUDNN_CHECK(cudnnConvolutionForward(ctx->cudnn, &one, p->x, inp, p->w, weight, p->conv, p->fwd, ctx->workspace,
                                           ctx->workspace_size, &zero, p->y, out),
                   fix);
    if (bias) HP_CUDNN_CHECK(cudnnAddTensor(ctx->cudnn, &one, p->bias, bias, &one, p->y, out), fix);
    return 0;
}

extern "C" int hp_gpu_conv_backward(hp_gpu_ctx *ctx, float *dinp, float *dweight, float *dbias, const float *dout,
                                    const float *inp, const float *weight, int B, const hp_conv_geom *g, hp_err *err) {
    // dinp [B, C, H, W], dweight [F, C, k, k], dbias [F], dout [B, F, Ho, Wo], inp, weight as forward
    hp_gpu_conv_plan *p;
    if (plan_get(ctx, B, g, &p, err)) return -1;
    const float one = 1.0f, zero = 0.0f; // beta 0: gradients are overwritten, as on the CPU
    const char *fix = "check the convolution's device pointers and sizes";
    if (dinp) {
        HP_CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv, p->data_math), fix);
        HP_CUDNN_CHECK(cudnnConvolutionBackwardData(ctx->cudnn, &one, p->w, weight, p->y, dout, p->conv, p->bwd_data,
                                                    ctx->workspace, ctx->workspace_size, &zero, p->x, dinp),
                       fix);
    }
    HP_CUDNN_CHECK(cudnnSetConvolutionMathType(p->conv, p->filter_math), fix);
    HP_CUDNN_CHECK(cudnnConvolutionBackwardFilter(ctx->cudnn, &one, p->x, inp, p->y, dout, p->conv, p->bwd_filter,
                                                  ctx->workspace, ctx->workspace_size, &zero, p->w, dweight),
                   fix);
    if (dbias) HP_CUDNN_CHECK(cudnnConvolutionBackwardBias(ctx->cudnn, &one, p->y, dout, &zero, p->bias, dbias), fix);
    return 0;
}
