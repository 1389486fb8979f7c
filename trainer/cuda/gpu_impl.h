/* gpu_impl.h - inside the CUDA backend only (C++/CUDA): the context struct and the check macros.
 *
 * Every CUDA, cuBLAS and cuDNN call goes through one of the HP_*_CHECK macros. Each expects an
 * `hp_err *err` in scope and a function returning int; on failure it fills err with one line
 * naming the call (its source text), the status name and a fix, then returns -1. */
#ifndef HP_CUDA_GPU_IMPL_H
#define HP_CUDA_GPU_IMPL_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#if HPSWEEP_HAVE_CUDNN
#include <cudnn.h>
#endif

extern "C" {
#include "cuda/cudnn_rules.h"
#include "cuda/gpu.h"
#include "geometry.h"
}

const char *hp_cublas_status_name(cublasStatus_t s);

#define HP_CUDA_CHECK(call, fix)                                                                           \
    do {                                                                                                   \
        cudaError_t rc_ = (call);                                                                          \
        if (rc_ != cudaSuccess)                                                                            \
            return hp_errf(err, "%s:%d: %s failed: %s (%s); %s", __FILE__, __LINE__, #call,                \
                           cudaGetErrorName(rc_), cudaGetErrorString(rc_), fix);                           \
    } while (0)

/* A kernel launch reports bad configurations at once (cudaGetLastError) and faults later (sync). */
#define HP_LAUNCH_CHECK(what)                                                                              \
    HP_CUDA_CHECK(cudaGetLastError(), "the launch of " what " was rejected: check the sizes passed to it")

#define HP_CUBLAS_CHECK(call, fix)                                                                         \
    do {                                                                                                   \
        cublasStatus_t rc_ = (call);                                                                       \
        if (rc_ != CUBLAS_STATUS_SUCCESS)                                                                  \
            return hp_errf(err, "%s:%d: %s failed: %s; %s", __FILE__, __LINE__, #call,                     \
                           hp_cublas_status_name(rc_), fix);                                               \
    } while (0)

#if HPSWEEP_HAVE_CUDNN
#define HP_CUDNN_CHECK(call, fix)                                                                          \
    do {                                                                                                   \
        cudnnStatus_t rc_ = (call);                                                                        \
        if (rc_ != CUDNN_STATUS_SUCCESS)                                                                   \
            return hp_errf(err, "%s:%d: %s failed: %s; %s", __FILE__, __LINE__, #call,                     \
                           cudnnGetErrorString(rc_), fix);                                                 \
    } while (0)

/* A convolution shape met before: its descriptors and the algorithms chosen for it. */
typedef struct hp_gpu_conv_plan {
    int used;
    int B, C, H, W, F, k, stride, pad;
    cudnnTensorDescriptor_t x, y, bias;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    cudnnConvolutionFwdAlgo_t fwd;
    cudnnConvolutionBwdDataAlgo_t bwd_data;
    cudnnConvolutionBwdFilterAlgo_t bwd_filter;
    cudnnMathType_t fwd_math, data_math, filter_math;
} hp_gpu_conv_plan;
#define HP_GPU_MAX_PLANS 64
#endif

struct hp_gpu_ctx {
    hp_gpu_opts opts;
    cudaStream_t stream;
    cublasHandle_t cublas;
    double *xent_scratch; /* [2 * xent_cap]: per-example loss and hit, reduced in order */
    int xent_cap;
    void *bn_scratch;     /* batch norm's partial sums, counters, coefficients (gpu_bnpool.cu) */
    size_t bn_parts, bn_chans; /* its capacity: partial pairs, channels */
#if HPSWEEP_HAVE_CUDNN
    cudnnHandle_t cudnn;
    void *workspace; /* owned; grown only when a new conv shape needs more */
    size_t workspace_size;
    /* Reusable descriptors for pools, batch norm and activations: re-set per call (no allocation). */
    cudnnTensorDescriptor_t tx, ty, tbn;
    cudnnPoolingDescriptor_t pool;
    cudnnActivationDescriptor_t act;
    hp_gpu_conv_plan plans[HP_GPU_MAX_PLANS];
    int plan_evict; /* the slot to reuse next when every plan slot is taken */
#endif
};

#if HPSWEEP_HAVE_CUDNN
/* gpu_bnpool.cu: our kernels behind gpu.h's batch norm in training and max pooling (the shapes
 * and eps were checked by the caller; see gpu_bnpool.cu for the maths). */
int hp_gpu_bn_train_kernels(hp_gpu_ctx *ctx, float *out, float *save_mean, float *save_invstd, float *running_mean,
                            float *running_var, const float *inp, const float *weight, const float *bias, int B, int C,
                            int HW, double momentum, double eps, hp_err *err);
int hp_gpu_bn_backward_kernels(hp_gpu_ctx *ctx, float *dinp, float *dweight, float *dbias, const float *dout,
                               const float *inp, const float *save_mean, const float *save_invstd, const float *weight,
                               int B, int C, int HW, hp_err *err);
/* Max pooling runs on these (hp_gpu_maxpool_kernels_ok: every valid geometry). */
int hp_gpu_maxpool_kernels_ok(const hp_pool_geom *g);
int hp_gpu_maxpool_forward_kernel(hp_gpu_ctx *ctx, float *out, const float *inp, int64_t P, const hp_pool_geom *g,
                                  hp_err *err);
int hp_gpu_maxpool_backward_kernel(hp_gpu_ctx *ctx, float *dinp, const float *dout, const float *inp, int64_t P,
                                   const hp_pool_geom *g, hp_err *err);
#endif

/* Blocks of 256 threads covering n elements (n <= INT32_MAX checked by callers). */
static inline unsigned hp_gpu_blocks(int64_t n) { return (unsigned)((n + 255) / 256); }

/* Refuse counts the 32-bit kernels and cuDNN descriptors cannot index. */
#define HP_GPU_CHECK_N(n, what)                                                                            \
    do {                                                                                                   \
        if ((n) < 0 || (n) > INT32_MAX)                                                                    \
            return hp_errf(err, "%s: %s = %lld is outside [0, 2^31): split the call", __func__, what,     \
                           (long long)(n));                                                                \
    } while (0)

#endif
