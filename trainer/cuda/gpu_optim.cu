/* gpu_optim.cu - SGD-momentum, Adam/AdamW, RMSProp and AdaGrad update kernels, PyTorch's
 * formulas (optim.h).
 *
 * Each kernel follows optim_tmpl.h's order of operations with every constant rounded to float
 * on the host first, and writes each product and sum with __fmul_rn/__fadd_rn/__fdiv_rn so that
 * nvcc cannot contract a*b + c into an FMA: the GPU then rounds every step as the CPU (built
 * with -std=c11, no contraction) does, and the parameters agree bit for bit. */
#include <math.h>

#include "gpu_impl.h"

#define MUL __fmul_rn
#define ADD __fadd_rn
#define SUB __fsub_rn
#define DIV __fdiv_rn

/* g = grad + wd * p;  buf = first ? g : m * buf + g;  p -= lr * (nesterov ? g + m * buf : buf) */
__global__ static void sgd_kernel(float *params, const float *grads, float *buf, int64_t n, float lr, float wd,
                                  float m, int nesterov, int first) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float p = params[i];
    float g = ADD(grads[i], MUL(wd, p));
    float step = g;
    if (buf) {
        float b = first ? g : ADD(MUL(m, buf[i]), g);
        buf[i] = b;
        step = nesterov ? ADD(g, MUL(m, b)) : b;
    }
    params[i] = SUB(p, MUL(lr, step));
}

/* m1 = b1 m1 + (1-b1) g;  m2 = b2 m2 + (1-b2) g g;  p += neg_step * (m1 / (sqrt(m2) / bc2_sqrt + eps)) */
__global__ static void adam_kernel(float *params, const float *grads, float *m1, float *m2, int64_t n, float neg_step,
                                   float bc2_sqrt, float eps, float b1, float b2, float one_b1, float one_b2, float wd,
                                   float shrink, int decoupled, int coupled) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float p = params[i];
    if (decoupled) p = MUL(p, shrink);
    float g = coupled ? ADD(grads[i], MUL(wd, p)) : grads[i];
    float a = ADD(MUL(m1[i], b1), MUL(one_b1, g));
    float v = ADD(MUL(m2[i], b2), MUL(MUL(one_b2, g), g));
    m1[i] = a;
    m2[i] = v;
    float denom = ADD(DIV(__fsqrt_rn(v), bc2_sqrt), eps);
    params[i] = ADD(p, MUL(neg_step, DIV(a, denom)));
}

/* g = grad + wd * p;  q = sq * alpha + (1 - alpha) * g * g;  d = g / (sqrt(q) + eps);
 * p += -lr * (buf ? (buf = buf * m + d) : d)   (optim_tmpl.h's rmsprop_step, operand for operand) */
__global__ static void rmsprop_kernel(float *params, const float *grads, float *sq, float *buf, int64_t n, float neg_lr,
                                      float wd, float eps, float al, float one_al, float m, int coupled) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float p = params[i];
    float g = coupled ? ADD(grads[i], MUL(wd, p)) : grads[i];
    float q = ADD(MUL(sq[i], al), MUL(MUL(one_al, g), g));
    sq[i] = q;
    float d = DIV(g, ADD(__fsqrt_rn(q), eps));
    if (buf) {
        float b = ADD(MUL(buf[i], m), d);
        buf[i] = b;
        d = b;
    }
    params[i] = ADD(p, MUL(neg_lr, d));
}

/* g = grad + wd * p;  sum += g * g;  p += -lr * (g / (sqrt(sum) + eps))   (optim_tmpl.h's adagrad_step) */
__global__ static void adagrad_kernel(float *params, const float *grads, float *sum, int64_t n, float neg_lr, float wd,
                                      float eps, int coupled) {
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float p = params[i];
    float g = coupled ? ADD(grads[i], MUL(wd, p)) : grads[i];
    float acc = ADD(sum[i], MUL(g, g));
    sum[i] = acc;
    params[i] = ADD(p, MUL(neg_lr, DIV(g, ADD(__fsqrt_rn(acc), eps))));
}

extern "C" int hp_gpu_sgd_step(hp_gpu_ctx *ctx, float *params, const float *grads, float *buf, int64_t n,
                               const hp_optim_spec *s, double lr, int64_t t, hp_err *err) {
    // params, grads, buf [n]
    if (n <= 0) return 0;
    if (s->momentum != 0 && !buf)
        return hp_errf(err, "hp_gpu_sgd_step: momentum %g needs a momentum buffer, got NULL: allocate [n] floats",
                       s->momentum);
    sgd_kernel<<<hp_gpu_blocks(n), 256, 0, ctx->stream>>>(params, grads, s->momentum != 0 ? buf : NULL, n, (float)lr,
                                                          (float)s->weight_decay, (float)s->momentum, s->nesterov,
                                                          t == 1);
    HP_LAUNCH_CHECK("sgd_kernel");
    return 0;
}

extern "C" int hp_gpu_adam_step(hp_gpu_ctx *ctx, float *params, const float *grads, float *m1, float *m2, int64_t n,
                                const hp_optim_spec *s, double lr, int64_t t, hp_err *err) {
    // params, grads, m1, m2 [n]
    if (n <= 0) return 0;
    if (t < 1) return hp_errf(err, "hp_gpu_adam_step: step t = %lld: steps count from 1", (long long)t);
    const int decoupled = s->type == HP_OPTIM_ADAMW;
    // Bias corrections and the step size in double, rounded once, like PyTorch's Python scalars.
    const double bc1 = 1.0 - pow(s->beta1, (double)t), bc2 = 1.0 - pow(s->beta2, (double)t);
    adam_kernel<<<hp_gpu_blocks(n), 256, 0, ctx->stream>>>(
        params, grads, m1, m2, n, (float)(-(lr / bc1)), (float)sqrt(bc2), (float)s->eps, (float)s->beta1,
        (float)s->beta2, (float)(1.0 - s->beta1), (float)(1.0 - s->beta2), (float)s->weight_decay,
        (float)(1.0 - lr * s->weight_decay), decoupled, !decoupled && s->weight_decay != 0);
    HP_LAUNCH_CHECK("adam_kernel");
    return 0;
}

/* RMSProp and AdaGrad have no bias correction (and AdaGrad's lr_decay is 0), so t is unused. The
 * constants are rounded to float here exactly as optim_tmpl.h rounds them (-lr, 1 - alpha in
 * double first). */
extern "C" int hp_gpu_rmsprop_step(hp_gpu_ctx *ctx, float *params, const float *grads, float *sq, float *buf, int64_t n,
                                   const hp_optim_spec *s, double lr, int64_t t, hp_err *err) {
    // params, grads, sq [n]; buf [n] or NULL (momentum 0)
    (void)t;
    HP_GPU_CHECK_N(n, "n");
    if (n == 0) return 0;
    const int mom = s->momentum > 0;
    if (mom && !buf)
        return hp_errf(err, "hp_gpu_rmsprop_step: momentum %g needs a momentum buffer, got NULL: allocate [n] floats "
                            "(zeroed)", s->momentum);
    rmsprop_kernel<<<hp_gpu_blocks(n), 256, 0, ctx->stream>>>(
        params, grads, sq, mom ? buf : NULL, n, (float)(-lr), (float)s->weight_decay, (float)s->eps, (float)s->alpha,
        (float)(1.0 - s->alpha), (float)s->momentum, s->weight_decay != 0);
    HP_LAUNCH_CHECK("rmsprop_kernel");
    return 0;
}

extern "C" int hp_gpu_adagrad_step(hp_gpu_ctx *ctx, float *params, const float *grads, float *sum, int64_t n,
                                   const hp_optim_spec *s, double lr, int64_t t, hp_err *err) {
    // params, grads, sum [n]
    (void)t;
    HP_GPU_CHECK_N(n, "n");
    if (n == 0) return 0;
    adagrad_kernel<<<hp_gpu_blocks(n), 256, 0, ctx->stream>>>(params, grads, sum, n, (float)(-lr),
                                                              (float)s->weight_decay, (float)s->eps,
                                                              s->weight_decay != 0);
    HP_LAUNCH_CHECK("adagrad_kernel");
    return 0;
}
