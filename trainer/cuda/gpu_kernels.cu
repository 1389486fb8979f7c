/* gpu_kernels.cu - elementwise GPU kernels: activations, dropout, global average pooling, the
 * device copies, the residual add and the augmented batch gather.
 * Formulas are those of cpu/act.h, cpu/dropout.h, cpu/pool.h and augment.h. */
#include <math.h>

#include "gpu_impl.h"

/* ---- activations ----------------------------------------------------------------------- */

#define HP_SQRT1_2_F 0.70710678118654752440f      /* 1/sqrt(2) */
#define HP_INV_SQRT_2PI_F 0.39894228040143267794f /* 1/sqrt(2 pi) */

__global__ static void act_forward_kernel(float *out, const float *inp, int n, int type, float a) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float x = inp[i], y;
    switch (type) {
    case HP_LAYER_RELU: y = x < 0.0f ? 0.0f : x; break; // NaN stays NaN
    case HP_LAYER_LEAKY_RELU: y = x > 0.0f ? x : a * x; break;
    case HP_LAYER_ELU: y = x > 0.0f ? x : a * expm1f(x); break;
    case HP_LAYER_GELU: y = 0.5f * x * (1.0f + erff(x * HP_SQRT1_2_F)); break; // x * Phi(x), exact form
    case HP_LAYER_TANH: y = tanhf(x); break;
    case HP_LAYER_SIGMOID: { // e = exp(-|x|) <= 1 never overflows
        float e = expf(x < 0.0f ? x : -x);
        y = (x >= 0.0f ? 1.0f : e) / (1.0f + e);
        break;
    }
    default: y = NAN; break; // not an activation: loud, as on the CPU
    }
    out[i] = y;
}

__global__ static void act_backward_kernel(float *dinp, const float *dout, const float *inp, const float *out, int n,
                                           int type, float a) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float g = dout[i], d;
    switch (type) {
    case HP_LAYER_RELU: // [x > 0]; out > 0 exactly where inp > 0
    case HP_LAYER_LEAKY_RELU: {
        float x = inp ? inp[i] : out[i];
        d = x > 0.0f ? g : (type == HP_LAYER_RELU ? 0.0f : a * g);
        break;
    }
    case HP_LAYER_ELU:
        if (inp) d = inp[i] > 0.0f ? g : g * a * expf(inp[i]);
        else d = out[i] > 0.0f ? g : g * (out[i] + a); // alpha e^x = y + alpha for x <= 0
        break;
    case HP_LAYER_GELU: { // Phi(x) + x phi(x)
        float x = inp[i];
        float cdf = 0.5f * (1.0f + erff(x * HP_SQRT1_2_F));
        float pdf = expf(-0.5f * x * x) * HP_INV_SQRT_2PI_F;
        d = g * (cdf + x * pdf);
        break;
    }
    case HP_LAYER_TANH: d = g * (1.0f - out[i] * out[i]); break;
    case HP_LAYER_SIGMOID: d = g * (1.0f - out[i]) * out[i]; break;
    default: d = NAN; break;
    }
    dinp[i] = d;
}

#if HPSWEEP_HAVE_CUDNN
/* cuDNN's own mode for relu, tanh and sigmoid; -1 for the types done by kernels. */
static int cudnn_act_mode(hp_layer_type type, cudnnActivationMode_t *mode) {
    switch (type) {
    case HP_LAYER_RELU: *mode = CUDNN_ACTIVATION_RELU; return 0;
    case HP_LAYER_TANH: *mode = CUDNN_ACTIVATION_TANH; return 0;
    case HP_LAYER_SIGMOID: *mode = CUDNN_ACTIVATION_SIGMOID; return 0;
    default: return -1;
    }
}

/* Describe n values as a [1, 1, 1, n] tensor in the context's tx. */
static int flat_desc(hp_gpu_ctx *ctx, cudnnActivationMode_t mode, int n, hp_err *err) {
    HP_CUDNN_CHECK(cudnnSetTensor4dDescriptor(ctx->tx, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 1, 1, n),
                   "check n > 0 for the activation");
    HP_CUDNN_CHECK(cudnnSetActivationDescriptor(ctx->act, mode, CUDNN_PROPAGATE_NAN, 0.0),
                   "internal: unsupported activation mode");
    return 0;
}
#endif

extern "C" int hp_gpu_act_forward(hp_gpu_ctx *ctx, float *out, const float *inp, int64_t n, hp_layer_type type,
                                  double param, hp_err *err) {
    // out [n], inp [n]; out may be inp
    HP_GPU_CHECK_N(n, "n");
    if (n == 0) return 0;
#if HPSWEEP_HAVE_CUDNN
    cudnnActivationMode_t mode;
    if (cudnn_act_mode(type, &mode) == 0) {
        const float one = 1.0f, zero = 0.0f;
        if (flat_desc(ctx, mode, (int)n, err)) return -1;
        HP_CUDNN_CHECK(cudnnActivationForward(ctx->cudnn, ctx->act, &one, ctx->tx, inp, &zero, ctx->tx, out),
                       "check the activation's device pointers");
        return 0;
    }
#endif
    act_forward_kernel<<<hp_gpu_blocks(n), 256, 0, ctx->stream>>>(out, inp, (int)n, (int)type, (float)param);
    HP_LAUNCH_CHECK("act_forward_kernel");
    return 0;
}

extern "C" int hp_gpu_act_backward(hp_gpu_ctx *ctx, float *dinp, const float *dout, const float *inp, const float *out,
                                   int64_t n, hp_layer_type type, double param, hp_err *err) {
    // dinp, dout, inp, out [n]; dinp may be dout
    HP_GPU_CHECK_N(n, "n");
    if (n == 0) return 0;
    if ((type == HP_LAYER_GELU && !inp) || ((type == HP_LAYER_TANH || type == HP_LAYER_SIGMOID) && !out) ||
        (!inp && !out))
        return hp_errf(err, "hp_gpu_act_backward: %s needs %s, which is NULL: keep it from the forward pass",
                       type == HP_LAYER_GELU ? "gelu" : "this activation", type == HP_LAYER_GELU ? "inp" : "out");
#if HPSWEEP_HAVE_CUDNN
    cudnnActivationMode_t mode;
    if (out && cudnn_act_mode(type, &mode) == 0) {
        // cuDNN differentiates from y (relu: y > 0 <=> x > 0; tanh, sigmoid: from y); x is passed but unused.
        const float one = 1.0f, zero = 0.0f;
        if (flat_desc(ctx, mode, (int)n, err)) return -1;
        HP_CUDNN_CHECK(cudnnActivationBackward(ctx->cudnn, ctx->act, &one, ctx->tx, out, ctx->tx, dout, ctx->tx,
                                               inp ? inp : out, &zero, ctx->tx, dinp),
                       "check the activation's device pointers");
        return 0;
    }
#endif
    act_backward_kernel<<<hp_gpu_blocks(n), 256, 0, ctx->stream>>>(dinp, dout, inp, out, (int)n, (int)type,
                                                                   (float)param);
    HP_LAUNCH_CHECK("act_backward_kernel");
    return 0;
}

/* ---- dropout ----------------------------------------------------------------------------- */

/* hp_rng_at of rng.h on the device: the SplitMix64 finaliser of key + (i + 1) * golden ratio.
 * It must stay identical to rng.h's (a test compares the masks bit for bit). */
__device__ static uint64_t rng_at(uint64_t key, uint64_t i) {
    uint64_t z = key + (i + 1) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Element i of [B, C, HW] (NCHW) draws at its channel-major position j = (c*B + b)*HW + s, the
 * CPU's index of the same value. */
__global__ static void dropout_kernel(float *out, uint8_t *mask, const float *inp, int B, int C, int64_t HW,
                                      uint64_t thr, float scale, uint64_t key) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (int64_t)B * C * HW) return;
    int64_t s = i % HW, r = i / HW, c = r % C, b = r / C;
    uint64_t j = (uint64_t)((c * B + b) * HW + s);
    uint8_t m = (rng_at(key, j) >> 11) >= thr; // u_j >= p, exactly, on the 53-bit integer
    mask[i] = m;
    out[i] = inp[i] * ((float)m * scale); // a multiply: a dropped NaN stays NaN, as PyTorch's
}

__global__ static void mask_scale_kernel(float *dinp, const float *dout, const uint8_t *mask, int64_t n, float scale) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) dinp[i] = dout[i] * ((float)(mask ? mask[i] : 1) * scale);
}

extern "C" int hp_gpu_dropout_forward(hp_gpu_ctx *ctx, float *out, uint8_t *mask, const float *inp, int B, int C,
                                      int64_t HW, double p, uint64_t key, hp_err *err) {
    // out, mask, inp [B, C, HW]; out may be inp
    if (B < 0 || C < 0 || HW < 0)
        return hp_errf(err, "hp_gpu_dropout_forward: B %d, C %d, HW %lld: sizes must be >= 0", B, C, (long long)HW);
    const int64_t n = (int64_t)B * C * HW;
    HP_GPU_CHECK_N(n, "B * C * HW");
    if (n == 0) return 0;
    if (!(p > 0)) { // identity (p = 0, negative or NaN)
        HP_CUDA_CHECK(cudaMemsetAsync(mask, 1, (size_t)n, ctx->stream), "check the mask pointer and n");
        if (out != inp)
            HP_CUDA_CHECK(cudaMemcpyAsync(out, inp, (size_t)n * sizeof *out, cudaMemcpyDeviceToDevice, ctx->stream),
                          "check the dropout pointers and n");
        return 0;
    }
    if (p >= 1) { // everything dropped: out = inp * 0 keeps NaN/Inf visible
        HP_CUDA_CHECK(cudaMemsetAsync(mask, 0, (size_t)n, ctx->stream), "check the mask pointer and n");
        mask_scale_kernel<<<hp_gpu_blocks(n), 256, 0, ctx->stream>>>(out, inp, NULL, n, 0.0f);
        HP_LAUNCH_CHECK("mask_scale_kernel");
        return 0;
    }
    const uint64_t thr = (uint64_t)ceil(p * 0x1.0p53); // exact: a power-of-two scaling, as on the CPU
    const float scale = (float)(1.0 / (1.0 - p));
    dropout_kernel<<<hp_gpu_blocks(n), 256, 0, ctx->stream>>>(out, mask, inp, B, C, HW, thr, scale, key);
    HP_LAUNCH_CHECK("dropout_kernel");
    return 0;
}

extern "C" int hp_gpu_dropout_backward(hp_gpu_ctx *ctx, float *dinp, const float *dout, const uint8_t *mask,
                                       int64_t n, double p, hp_err *err) {
    // dinp [n] = dout [n] * mask [n] * scale; dinp may be dout
    HP_GPU_CHECK_N(n, "n");
    if (n == 0) return 0;
    if (!(p > 0)) {
        if (dinp != dout)
            HP_CUDA_CHECK(cudaMemcpyAsync(dinp, dout, (size_t)n * sizeof *dinp, cudaMemcpyDeviceToDevice, ctx->stream),
                          "check the dropout pointers and n");
        return 0;
    }
    const float scale = p >= 1 ? 0.0f : (float)(1.0 / (1.0 - p));
    mask_scale_kernel<<<hp_gpu_blocks(n), 256, 0, ctx->stream>>>(dinp, dout, mask, n, scale);
    HP_LAUNCH_CHECK("mask_scale_kernel");
    return 0;
}

/* ---- global average pooling ------------------------------------------------------- */

__global__ static void gap_forward_kernel(float *out, const float *inp, int64_t P, int64_t HW) {
    int64_t p = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= P) return;
    double s = 0; // in double and in order, as the CPU's
    for (int64_t i = 0; i < HW; i++) s += inp[p * HW + i];
    out[p] = (float)(s / (double)HW);
}

__global__ static void gap_backward_kernel(float *dinp, const float *dout, int64_t P, int64_t HW) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < P * HW) dinp[i] = dout[i / HW] / (float)HW;
}

extern "C" int hp_gpu_gap_forward(hp_gpu_ctx *ctx, float *out, const float *inp, int64_t P, int64_t HW, hp_err *err) {
    // out [P], inp [P, HW]
    HP_GPU_CHECK_N(P * HW, "P * HW");
    if (P == 0 || HW <= 0) return 0;
    gap_forward_kernel<<<hp_gpu_blocks(P), 256, 0, ctx->stream>>>(out, inp, P, HW);
    HP_LAUNCH_CHECK("gap_forward_kernel");
    return 0;
}

extern "C" int hp_gpu_gap_backward(hp_gpu_ctx *ctx, float *dinp, const float *dout, int64_t P, int64_t HW,
                                   hp_err *err) {
    // dinp [P, HW], dout [P]
    HP_GPU_CHECK_N(P * HW, "P * HW");
    if (P == 0 || HW <= 0) return 0;
    gap_backward_kernel<<<hp_gpu_blocks(P * HW), 256, 0, ctx->stream>>>(dinp, dout, P, HW);
    HP_LAUNCH_CHECK("gap_backward_kernel");
    return 0;
}

/* ---- data movement, residual add, batch gather ------------------------------------------- */

extern "C" int hp_gpu_copy(hp_gpu_ctx *ctx, void *dst, const void *src, size_t bytes, hp_err *err) {
    if (bytes == 0 || dst == src) return 0;
    HP_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, ctx->stream),
                  "check that both pointers are device allocations holding `bytes` and do not overlap");
    return 0;
}

extern "C" int hp_gpu_zero(hp_gpu_ctx *ctx, void *dst, size_t bytes, hp_err *err) {
    if (bytes == 0) return 0;
    HP_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, ctx->stream),
                  "check that the pointer is a device allocation holding `bytes`");
    return 0;
}

__global__ static void add_kernel(float *out, const float *a, const float *b, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = a[i] + b[i]; // one rounding, as the CPU's
}

extern "C" int hp_gpu_add(hp_gpu_ctx *ctx, float *out, const float *a, const float *b, int64_t n, hp_err *err) {
    // out [n] = a [n] + b [n]; out may be a or b (each thread reads its own element before writing it)
    HP_GPU_CHECK_N(n, "n");
    if (n == 0) return 0;
    add_kernel<<<hp_gpu_blocks(n), 256, 0, ctx->stream>>>(out, a, b, (int)n);
    HP_LAUNCH_CHECK("add_kernel");
    return 0;
}

/* One thread per output element xb[b][c][y][x] (B*C*H*W <= INT32_MAX, checked by the caller).
 * With a draw, the value is hp_augment_example's written in closed form: the shifted source
 * pixel (sy, sx) = (y + dy, x + dx), read at column W - 1 - sx when flipped, is 0 outside the
 * image (put_row's padding), and the cutout zeroes rows [cy - s/2, cy - s/2 + s) x the same
 * columns around cx (clipping to the image changes nothing for an in-image pixel). Only copies
 * and zeros, so the result equals the CPU's bit for bit. Offsets into X in int64: N * C*H*W may
 * pass 2^31 even when the batch does not. The first B threads also copy the labels. */
__global__ static void gather_kernel(float *xb, int32_t *yb, const float *X, const int32_t *Y, const int32_t *idx,
                                     const hp_augment_draw *draws, int cutout, int B, int C, int H, int W) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    const int chw = C * H * W;
    if (i >= B * chw) return;
    if (yb && i < B) yb[i] = Y[idx[i]];
    const int b = i / chw, r = i - b * chw; // r = (c * H + y) * W + x
    const int x = r % W, row = r / W, y = row % H, c = row / H; // row = c * H + y
    const float *src = X + (int64_t)idx[b] * chw + (int64_t)c * H * W; // src [H, W]: plane c of the example
    if (!draws) {
        xb[i] = src[(int64_t)y * W + x];
        return;
    }
    const hp_augment_draw d = draws[b];
    float v = 0.0f;
    const int64_t sy = (int64_t)y + d.dy, sx = (int64_t)x + d.dx;
    if (sy >= 0 && sy < H && sx >= 0 && sx < W) v = src[sy * W + (d.flip ? W - 1 - sx : sx)];
    if (cutout > 0) {
        const int64_t y0 = (int64_t)d.cy - cutout / 2, x0 = (int64_t)d.cx - cutout / 2;
        if (y >= y0 && y < y0 + cutout && x >= x0 && x < x0 + cutout) v = 0.0f;
    }
    xb[i] = v;
}

extern "C" int hp_gpu_gather(hp_gpu_ctx *ctx, float *xb, int32_t *yb, const float *X, const int32_t *Y,
                             const int32_t *idx, const hp_augment_draw *draws, int cutout, int B, int C, int H, int W,
                             hp_err *err) {
    // xb [B, C, H, W], yb [B] (NULL: labels skipped); X [N, C, H, W], Y [N]; idx [B]; draws [B] or NULL
    if (B < 0 || C <= 0 || H <= 0 || W <= 0)
        return hp_errf(err, "hp_gpu_gather: shape B %d, C %d, H %d, W %d is invalid: B must be >= 0 and C, H, W > 0",
                       B, C, H, W);
    HP_GPU_CHECK_N((int64_t)B * C * H * W, "B * C * H * W");
    if (B == 0) return 0;
    if (!xb || !X || !idx || (yb && !Y))
        return hp_errf(err, "hp_gpu_gather: %s is NULL: pass the device array",
                       !xb ? "xb" : !X ? "X" : !idx ? "idx" : "Y (yb is not NULL)");
    const int64_t n = (int64_t)B * C * H * W;
    gather_kernel<<<hp_gpu_blocks(n), 256, 0, ctx->stream>>>(xb, yb, X, Y, idx, draws, cutout, B, C, H, W);
    HP_LAUNCH_CHECK("gather_kernel");
    return 0;
}
