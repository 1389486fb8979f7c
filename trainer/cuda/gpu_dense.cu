/* gpu_dense.cu - dense layers on cuBLAS and the fused softmax cross-entropy kernel.
 *
 * Row-major through column-major cuBLAS: a row-major [R, C] buffer read column-major is its
 * transpose, the [C, R] matrix with leading dimension C. So every row-major product
 * X = A @ B is computed as the column-major X^T = B^T @ A^T with the operands swapped, and
 * the op flags say whether each buffer is used as read (N) or transposed once more (T). */
#include "gpu_impl.h"

/* out [B, n] += bias [n] per row, then optionally max(., 0) (NaN stays NaN, as the CPU's). */
__global__ static void bias_relu_kernel(float *out, const float *bias, int B, int n, int relu) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (int64_t)B * n) return;
    float v = out[i];
    if (bias) v += bias[i % n];
    if (relu) v = v < 0.0f ? 0.0f : v;
    out[i] = v;
}

/* dbias [n] = sum over rows of dout [B, n]: one thread per feature, rows in order (coalesced
 * across threads, and deterministic). */
__global__ static void colsum_kernel(float *dbias, const float *dout, int B, int n) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= n) return;
    float s = 0.0f;
    for (int b = 0; b < B; b++) s += dout[(int64_t)b * n + j];
    dbias[j] = s;
}

extern "C" int hp_gpu_dense_forward(hp_gpu_ctx *ctx, float *out, const float *inp, const float *weight,
                                    const float *bias, int B, int n_in, int n_out, int relu, hp_err *err) {
    // out [B, n_out], inp [B, n_in], weight [n_out, n_in], bias [n_out]
    HP_GPU_CHECK_N((int64_t)B * n_out, "B * n_out");
    const float one = 1.0f, zero = 0.0f;
    // Row-major out = inp @ W^T  <=>  column-major out^T [n_out, B] = W [n_out, n_in] @ inp^T [n_in, B].
    // The W buffer read column-major is W^T (ld n_in), so it is transposed back (T); the inp buffer
    // read column-major is already inp^T (ld n_in), used as is (N); out^T has ld n_out.
    HP_CUBLAS_CHECK(cublasSgemm(ctx->cublas, CUBLAS_OP_T, CUBLAS_OP_N, n_out, B, n_in, &one, weight, n_in, inp, n_in,
                                &zero, out, n_out),
                    "check the dense shapes (B, n_in, n_out > 0) and the device pointers");
    if (bias || relu) {
        bias_relu_kernel<<<hp_gpu_blocks((int64_t)B * n_out), 256, 0, ctx->stream>>>(out, bias, B, n_out, relu);
        HP_LAUNCH_CHECK("bias_relu_kernel");
    }
    return 0;
}

/* HP_PLANT_DW_SCALE: only in a deliberately wrong build (HPSWEEP_PLANT_ERROR), whose tests must fail. */
#ifndef HP_PLANT_DW_SCALE
#define HP_PLANT_DW_SCALE 1.0f
#endif

extern "C" int hp_gpu_dense_backward(hp_gpu_ctx *ctx, float *dinp, float *dweight, float *dbias, const float *dout,
                                     const float *inp, const float *weight, int B, int n_in, int n_out, hp_err *err) {
    // dinp [B, n_in], dweight [n_out, n_in], dbias [n_out], dout [B, n_out], inp [B, n_in], weight [n_out, n_in]
    const float one = 1.0f, zero = 0.0f;
    const char *fix = "check the dense shapes (B, n_in, n_out > 0) and the device pointers";
    if (dinp) {
        // dinp = dout @ W  <=>  dinp^T [n_in, B] = W^T [n_in, n_out] @ dout^T [n_out, B]; the W buffer
        // read column-major IS W^T (ld n_in) and the dout buffer IS dout^T (ld n_out): both N.
        HP_CUBLAS_CHECK(cublasSgemm(ctx->cublas, CUBLAS_OP_N, CUBLAS_OP_N, n_in, B, n_out, &one, weight, n_in, dout,
                                    n_out, &zero, dinp, n_in),
                        fix);
    }
    // dW = dout^T @ inp  <=>  dW^T [n_in, n_out] = inp^T [n_in, B] @ dout [B, n_out]; the inp buffer
    // IS inp^T (N, ld n_in), the dout buffer is dout^T so it is transposed (T, ld n_out). beta = 0
    // overwrites, as the CPU's backward does.
    const float dw_alpha = HP_PLANT_DW_SCALE; // 1
    HP_CUBLAS_CHECK(cublasSgemm(ctx->cublas, CUBLAS_OP_N, CUBLAS_OP_T, n_in, n_out, B, &dw_alpha, inp, n_in, dout, n_out,
                                &zero, dweight, n_in),
                    fix);
    if (dbias) {
        colsum_kernel<<<hp_gpu_blocks(n_out), 256, 0, ctx->stream>>>(dbias, dout, B, n_out);
        HP_LAUNCH_CHECK("colsum_kernel");
    }
    return 0;
}

/* One thread per example b: max-shifted log-sum-exp, argmax (first maximum), then
 * dlogits = dloss * (softmax - onehot). loss and hit go to scratch [2B] for the ordered sum.
 * Classes are few (10 to 1000), so a thread per row keeps the kernel simple; dlogits may alias
 * logits because each element is read before it is written by the same thread. */
__global__ static void xent_kernel(float *dlogits, float *losses, double *scratch, const float *logits,
                                   const int32_t *y, float dloss, int B, int C) {
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= B) return;
    const float *z = logits + (int64_t)b * C;
    float *dz = dlogits + (int64_t)b * C;
    float mx = z[0];
    int arg = 0;
    for (int c = 1; c < C; c++)
        if (z[c] > mx) mx = z[c], arg = c;
    float sum = 0.0f;
    for (int c = 0; c < C; c++) sum += expf(z[c] - mx);
    const float lse = mx + logf(sum);
    const int yb = y[b];
    const float loss = lse - z[yb];
    const float inv = 1.0f / sum;
    for (int c = 0; c < C; c++) {
        float p = expf(z[c] - mx) * inv;
        dz[c] = dloss * (p - (c == yb ? 1.0f : 0.0f));
    }
    losses[b] = loss;
    scratch[b] = (double)loss;
    scratch[B + b] = arg == yb ? 1.0 : 0.0;
}

/* stats [2] = (sum of losses, hits), in example order: one thread, deterministic. */
__global__ static void xent_sum_kernel(double *stats, const double *scratch, int B) {
    double l = 0, h = 0;
    for (int b = 0; b < B; b++) l += scratch[b], h += scratch[B + b];
    stats[0] = l;
    stats[1] = h;
}

extern "C" int hp_gpu_xent(hp_gpu_ctx *ctx, float *dlogits, float *losses, double *stats, const float *logits,
                           const int32_t *y, float dloss, int B, int C, hp_err *err) {
    // dlogits [B, C], losses [B], stats [2], logits [B, C], y [B]
    if (B <= 0 || C <= 0) return hp_errf(err, "hp_gpu_xent: B = %d, C = %d: both must be > 0", B, C);
    if (B > ctx->xent_cap) { // grows to the largest batch once, never per step
        if (ctx->xent_scratch) HP_CUDA_CHECK(cudaFree(ctx->xent_scratch), "internal: bad scratch pointer");
        ctx->xent_scratch = NULL;
        ctx->xent_cap = 0;
        HP_CUDA_CHECK(cudaMalloc((void **)&ctx->xent_scratch, 2 * (size_t)B * sizeof(double)),
                      "out of GPU memory for the loss scratch: use a smaller batch");
        ctx->xent_cap = B;
    }
    xent_kernel<<<hp_gpu_blocks(B), 256, 0, ctx->stream>>>(dlogits, losses, ctx->xent_scratch, logits, y, dloss, B, C);
    HP_LAUNCH_CHECK("xent_kernel");
    xent_sum_kernel<<<1, 1, 0, ctx->stream>>>(stats, ctx->xent_scratch, B);
    HP_LAUNCH_CHECK("xent_sum_kernel");
    return 0;
}
