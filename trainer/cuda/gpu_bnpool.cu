/* gpu_bnpool.cu - batch norm in training and non-overlapping max pooling as our own kernels
 * (gpu_impl.h), called by gpu_cudnn.cu's hp_gpu_bn_forward_train, hp_gpu_bn_backward and
 * hp_gpu_pool_*.
 *
 * Why not cuDNN: measured on an H200 (ncu at real clocks, fashion_cnn at batch 128, bench/README),
 * cuDNN's NCHW batch norm took 46-62 us per call (bn_fw_tr_1C11 / bn_bw_1C11: one block per
 * channel, 32 or 64 blocks on a 132-SM GPU) and its deterministic max-pool backward 29 us, about
 * 40% of a training step, for tensors of 3 MB. These kernels spread each channel over many blocks.
 *
 * Batch norm, [B, C, HW] NCHW, the CPU's maths (cpu/norm_tmpl.h) with the CPU's float roundings:
 *   statistics: block (c, j) sums the shifted values d = x - K (K = the channel's first value) and
 *     d^2 in double over its rows b in [B*j/S, B*(j+1)/S) and HW; S comes from the shape only, so
 *     the partition, the tree reduction in each block and hence the bits are the same on every
 *     GPU and run. The block that finishes a channel last (an atomic count, reset by it) adds the
 *     S partial sums in order and applies bn_finish_stats's formulas: mean, 1/sqrt(biased var +
 *     eps), the running mean and the unbiased running variance with `momentum`.
 *   normalise: out = ((x - mean) * invstd) * weight + bias, each operation rounded as on the CPU
 *     (__fmul_rn/__fadd_rn: no FMA contraction).
 *   backward: the same partition sums dout and dout * xhat (xhat recomputed from x in float, as
 *     the CPU's forward stored it); the last block writes dbias, dweight and the CPU's folded
 *     coefficients a = weight * invstd, b0 = -a * dbias / n, a1 = -a * dweight / n; then
 *     dinp = (a * dout + b0) + a1 * xhat elementwise.
 * Max pooling: the forward is one thread per output, the backward one thread per input, which
 * recomputes the argmax of each window holding it (one when windows do not overlap, as in the
 * CNNs' 2x2/2) with the CPU's rule (first maximum in row-major order, the last NaN wins) and sums
 * the gradients of those it wins in the CPU's order. No atomics: deterministic, and equal to the
 * CPU's results bit for bit (cuDNN's deterministic max-pool backward was 29 us a call). */
#include "gpu_impl.h"

#include <math.h>

#define BN_THREADS 256

/* Chunks of rows per channel: about 512 blocks in all, at least ~4096 values each, at most B.
 * From the shape only (not the device), so that the sums' order is the same everywhere. */
static int bn_chunks(int B, int C, int64_t HW) {
    const int64_t n = (int64_t)B * HW;
    int64_t s = (512 + C - 1) / C;
    const int64_t by_size = (n + 4095) / 4096;
    if (s > by_size) s = by_size;
    if (s > B) s = B;
    return s < 1 ? 1 : (int)s;
}

/* The context's batch-norm scratch for C channels of S chunks: partial pairs [bn_parts][2]
 * (double), then counters [bn_chans] and coefficients [3 * bn_chans]. The counters sit at the
 * same place for every layer (they must be 0 at each kernel's start: the last block of a channel
 * resets its own); the scratch grows to the largest layer once, never per step, zeroed. */
static int bn_scratch(hp_gpu_ctx *ctx, int C, int S, double **part, unsigned **count, float **coef, hp_err *err) {
    const size_t parts = (size_t)C * S;
    if (parts > ctx->bn_parts || (size_t)C > ctx->bn_chans) {
        const size_t np = parts > ctx->bn_parts ? parts : ctx->bn_parts;
        const size_t nc = (size_t)C > ctx->bn_chans ? (size_t)C : ctx->bn_chans;
        if (ctx->bn_scratch) HP_CUDA_CHECK(cudaFree(ctx->bn_scratch), "internal: bad scratch pointer");
        ctx->bn_scratch = NULL;
        ctx->bn_parts = ctx->bn_chans = 0;
        const size_t bytes = 2 * np * sizeof(double) + nc * sizeof(unsigned) + 3 * nc * sizeof(float);
        HP_CUDA_CHECK(cudaMalloc(&ctx->bn_scratch, bytes), "out of GPU memory for the batch-norm scratch");
        HP_CUDA_CHECK(cudaMemsetAsync(ctx->bn_scratch, 0, bytes, ctx->stream), "internal: bad scratch pointer");
        ctx->bn_parts = np;
        ctx->bn_chans = nc;
    }
    *part = (double *)ctx->bn_scratch;
    *count = (unsigned *)(*part + 2 * ctx->bn_parts);
    *coef = (float *)(*count + ctx->bn_chans);
    return 0;
}

/* In-block sum of a[BN_THREADS] and b[BN_THREADS] (a fixed tree): the totals in a[0], b[0]. */
__device__ static void block_sum2(double *a, double *b) {
    for (int s = BN_THREADS / 2; s > 0; s >>= 1) {
        __syncthreads();
        if ((int)threadIdx.x < s) {
            a[threadIdx.x] += a[threadIdx.x + s];
            b[threadIdx.x] += b[threadIdx.x + s];
        }
    }
    __syncthreads();
}

/* Thread 0 of the last block of channel c to finish: 1 (it then reads every partial). */
__device__ static int last_of_channel(unsigned *count, int c, int S) {
    __shared__ int last;
    __threadfence(); // this block's partials are visible before it is counted
    if (threadIdx.x == 0) last = atomicAdd(&count[c], 1u) == (unsigned)(S - 1);
    __syncthreads();
    return last && threadIdx.x == 0;
}

__global__ static void bn_stats_kernel(float *mean, float *invstd, float *running_mean, float *running_var,
                                       double *part, unsigned *count, const float *inp, int B, int C, int HW, int S,
                                       double momentum, double eps) {
    __shared__ double ss[BN_THREADS], sq[BN_THREADS];
    const int c = blockIdx.x, j = blockIdx.y;
    const int b0 = (int)((int64_t)B * j / S), b1 = (int)((int64_t)B * (j + 1) / S);
    const double K = (double)inp[(int64_t)c * HW]; // the channel's first value (b 0, position 0)
    double s = 0, q = 0;
    const int64_t len = (int64_t)(b1 - b0) * HW;
    for (int64_t i = threadIdx.x; i < len; i += BN_THREADS) {
        const int64_t b = b0 + i / HW, p = i % HW;
        const double d = (double)inp[(b * C + c) * HW + p] - K;
        s += d;
        q += d * d;
    }
    ss[threadIdx.x] = s;
    sq[threadIdx.x] = q;
    block_sum2(ss, sq);
    if (threadIdx.x == 0) {
        part[2 * ((int64_t)c * S + j)] = ss[0];
        part[2 * ((int64_t)c * S + j) + 1] = sq[0];
    }
    if (!last_of_channel(count, c, S)) return;
    const volatile double *vp = part + 2 * (int64_t)c * S; // written by other blocks
    double st = 0, qt = 0;
    for (int k = 0; k < S; k++) st += vp[2 * k], qt += vp[2 * k + 1];
    count[c] = 0;
    // bn_finish_stats (cpu/norm_tmpl.h)
    const int64_t n = (int64_t)B * HW;
    const double md = st / (double)n;
    double var = qt / (double)n - md * md;
    if (var < 0) var = 0;
    const double m = K + md;
    mean[c] = (float)m;
    invstd[c] = (float)(1.0 / sqrt(var + eps));
    if (running_mean) running_mean[c] = (float)((1.0 - momentum) * (double)running_mean[c] + momentum * m);
    if (running_var && n > 1)
        running_var[c] =
            (float)((1.0 - momentum) * (double)running_var[c] + momentum * var * (double)n / (double)(n - 1));
}

__global__ static void bn_norm_kernel(float *out, const float *inp, const float *mean, const float *invstd,
                                      const float *weight, const float *bias, int C, int HW, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int c = (int)((i / HW) % C);
    const float v = __fmul_rn(__fsub_rn(inp[i], mean[c]), invstd[c]);
    out[i] = __fadd_rn(__fmul_rn(v, weight[c]), bias[c]);
}

__global__ static void bn_dsums_kernel(float *dweight, float *dbias, float *coef, double *part, unsigned *count,
                                       const float *dout, const float *inp, const float *mean, const float *invstd,
                                       const float *weight, int B, int C, int HW, int S) {
    __shared__ double ss[BN_THREADS], sq[BN_THREADS];
    const int c = blockIdx.x, j = blockIdx.y;
    const int b0 = (int)((int64_t)B * j / S), b1 = (int)((int64_t)B * (j + 1) / S);
    const float m = mean[c], sd = invstd[c];
    double s = 0, q = 0;
    const int64_t len = (int64_t)(b1 - b0) * HW;
    for (int64_t i = threadIdx.x; i < len; i += BN_THREADS) {
        const int64_t off = ((b0 + i / HW) * C + c) * HW + i % HW;
        const double g = (double)dout[off];
        s += g;
        q += g * (double)__fmul_rn(__fsub_rn(inp[off], m), sd); // the CPU's float xhat
    }
    ss[threadIdx.x] = s;
    sq[threadIdx.x] = q;
    block_sum2(ss, sq);
    if (threadIdx.x == 0) {
        part[2 * ((int64_t)c * S + j)] = ss[0];
        part[2 * ((int64_t)c * S + j) + 1] = sq[0];
    }
    if (!last_of_channel(count, c, S)) return;
    const volatile double *vp = part + 2 * (int64_t)c * S;
    double sg = 0, sgx = 0;
    for (int k = 0; k < S; k++) sg += vp[2 * k], sgx += vp[2 * k + 1];
    count[c] = 0;
    // bn_backward_group's constants (cpu/norm_tmpl.h)
    const double n = (double)B * (double)HW;
    if (dbias) dbias[c] = (float)sg;
    if (dweight) dweight[c] = (float)sgx;
    const double a = (double)weight[c] * (double)sd;
    coef[c] = (float)a;
    coef[C + c] = (float)(-a * sg / n);
    coef[2 * C + c] = (float)(-a * sgx / n);
}

__global__ static void bn_dinp_kernel(float *dinp, const float *dout, const float *inp, const float *mean,
                                      const float *invstd, const float *coef, int C, int HW, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int c = (int)((i / HW) % C);
    const float xh = __fmul_rn(__fsub_rn(inp[i], mean[c]), invstd[c]);
    dinp[i] = __fadd_rn(__fadd_rn(__fmul_rn(coef[c], dout[i]), coef[C + c]), __fmul_rn(coef[2 * C + c], xh));
}

int hp_gpu_bn_train_kernels(hp_gpu_ctx *ctx, float *out, float *save_mean, float *save_invstd, float *running_mean,
                            float *running_var, const float *inp, const float *weight, const float *bias, int B, int C,
                            int HW, double momentum, double eps, hp_err *err) {
    // out, inp [B, C, HW]; save_mean, save_invstd, running_mean, running_var, weight, bias [C]
    const int64_t total = (int64_t)B * C * HW;
    HP_GPU_CHECK_N(total, "B * C * HW");
    const int S = bn_chunks(B, C, HW);
    double *part;
    unsigned *count;
    float *coef;
    if (bn_scratch(ctx, C, S, &part, &count, &coef, err) != 0) return -1;
    bn_stats_kernel<<<dim3((unsigned)C, (unsigned)S), BN_THREADS, 0, ctx->stream>>>(
        save_mean, save_invstd, running_mean, running_var, part, count, inp, B, C, HW, S, momentum, eps);
    HP_LAUNCH_CHECK("bn_stats_kernel");
    bn_norm_kernel<<<hp_gpu_blocks(total), 256, 0, ctx->stream>>>(out, inp, save_mean, save_invstd, weight, bias, C,
                                                                   HW, total);
    HP_LAUNCH_CHECK("bn_norm_kernel");
    return 0;
}

int hp_gpu_bn_backward_kernels(hp_gpu_ctx *ctx, float *dinp, float *dweight, float *dbias, const float *dout,
                               const float *inp, const float *save_mean, const float *save_invstd, const float *weight,
                               int B, int C, int HW, hp_err *err) {
    // dinp, dout, inp [B, C, HW]; dweight, dbias, save_mean, save_invstd, weight [C]
    const int64_t total = (int64_t)B * C * HW;
    HP_GPU_CHECK_N(total, "B * C * HW");
    const int S = bn_chunks(B, C, HW);
    double *part;
    unsigned *count;
    float *coef;
    if (bn_scratch(ctx, C, S, &part, &count, &coef, err) != 0) return -1;
    bn_dsums_kernel<<<dim3((unsigned)C, (unsigned)S), BN_THREADS, 0, ctx->stream>>>(
        dweight, dbias, coef, part, count, dout, inp, save_mean, save_invstd, weight, B, C, HW, S);
    HP_LAUNCH_CHECK("bn_dsums_kernel");
    if (dinp) {
        bn_dinp_kernel<<<hp_gpu_blocks(total), 256, 0, ctx->stream>>>(dinp, dout, inp, save_mean, save_invstd, coef,
                                                                       C, HW, total);
        HP_LAUNCH_CHECK("bn_dinp_kernel");
    }
    return 0;
}

/* ---- max pooling, windows that do not overlap ------------------------------------------- */

/* The max of window (oh, ow) of plane x [H, W] clipped to it, and its index: cpu/pool_tmpl.h's rule. */
__device__ static int pool_argmax(const float *x, const hp_pool_geom g, int oh, int ow, float *best_out) {
    const int hs = oh * g.stride - g.pad, ws = ow * g.stride - g.pad;
    const int h0 = hs < 0 ? 0 : hs, w0 = ws < 0 ? 0 : ws;
    const int h1 = hs + g.k < g.H ? hs + g.k : g.H, w1 = ws + g.k < g.W ? ws + g.k : g.W;
    float best = -INFINITY;
    int bi = h0 * g.W + w0;
    for (int h = h0; h < h1; h++)
        for (int w = w0; w < w1; w++) {
            const float v = x[h * g.W + w];
            if (v > best || isnan(v)) best = v, bi = h * g.W + w;
        }
    *best_out = best;
    return bi;
}

__global__ static void maxpool_fwd_kernel(float *out, const float *inp, const hp_pool_geom g, int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; // over [P, Ho, Wo]
    if (i >= total) return;
    const int64_t HWo = (int64_t)g.Ho * g.Wo, pl = i / HWo;
    const int r = (int)(i % HWo);
    float best;
    (void)pool_argmax(inp + pl * g.H * g.W, g, r / g.Wo, r % g.Wo, &best);
    out[i] = best;
}

/* dinp at input (h, w): the sum of dout over the windows whose argmax it is, in increasing
 * (oh, ow) order, which is the order in which the CPU's backward adds them (from 0). */
__global__ static void maxpool_bwd_kernel(float *dinp, const float *dout, const float *inp, const hp_pool_geom g,
                                          int64_t total) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; // over [P, H, W]
    if (i >= total) return;
    const int64_t HW = (int64_t)g.H * g.W, pl = i / HW;
    const int r = (int)(i % HW), hp = r / g.W + g.pad, wp = r % g.W + g.pad;
    // windows holding it: oh * stride <= hp < oh * stride + k, within [0, Ho)
    const int oh0 = hp - g.k + 1 <= 0 ? 0 : (hp - g.k + g.stride) / g.stride, oh1 = min(hp / g.stride, g.Ho - 1);
    const int ow0 = wp - g.k + 1 <= 0 ? 0 : (wp - g.k + g.stride) / g.stride, ow1 = min(wp / g.stride, g.Wo - 1);
    const float *x = inp + pl * HW, *d = dout + pl * g.Ho * g.Wo;
    float acc = 0.0f;
    for (int oh = oh0; oh <= oh1; oh++)
        for (int ow = ow0; ow <= ow1; ow++) {
            float best;
            if (pool_argmax(x, g, oh, ow, &best) == r) acc = __fadd_rn(acc, d[oh * g.Wo + ow]);
        }
    dinp[i] = acc;
}

int hp_gpu_maxpool_kernels_ok(const hp_pool_geom *g) { return g->k >= 1; }

int hp_gpu_maxpool_forward_kernel(hp_gpu_ctx *ctx, float *out, const float *inp, int64_t P, const hp_pool_geom *g,
                                  hp_err *err) {
    const int64_t total = P * g->Ho * g->Wo;
    HP_GPU_CHECK_N(P * g->H * g->W, "P * H * W");
    maxpool_fwd_kernel<<<hp_gpu_blocks(total), 256, 0, ctx->stream>>>(out, inp, *g, total);
    HP_LAUNCH_CHECK("maxpool_fwd_kernel");
    return 0;
}

int hp_gpu_maxpool_backward_kernel(hp_gpu_ctx *ctx, float *dinp, const float *dout, const float *inp, int64_t P,
                                   const hp_pool_geom *g, hp_err *err) {
    const int64_t total = P * g->H * g->W;
    HP_GPU_CHECK_N(total, "P * H * W");
    maxpool_bwd_kernel<<<hp_gpu_blocks(total), 256, 0, ctx->stream>>>(dinp, dout, inp, *g, total);
    HP_LAUNCH_CHECK("maxpool_bwd_kernel");
    return 0;
}
