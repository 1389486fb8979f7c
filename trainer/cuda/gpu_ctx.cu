/* gpu_ctx.cu - device binding, the GPU context (handles, stream, workspace) and device memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_impl.h"

const char *hp_cublas_status_name(cublasStatus_t s) {
    switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
    }
    return "unknown cuBLAS status";
}

extern "C" int hp_gpu_bind(int local_rank, int *device, char *name, size_t len, hp_err *err) {
    if (local_rank < 0) return hp_errf(err, "hp_gpu_bind: local rank %d is negative: pass the node-local rank", local_rank);
    int n = hp_gpu_device_count();
    if (n <= 0)
        return hp_errf(err, "hp_gpu_bind: no CUDA device is visible (driver missing, or CUDA_VISIBLE_DEVICES "
                            "empty): run on a GPU node or use device: cpu");
    const int dev = local_rank % n; // ranks beyond the GPU count share GPUs round-robin
    HP_CUDA_CHECK(cudaSetDevice(dev), "check CUDA_VISIBLE_DEVICES and that the GPU is not in exclusive mode");
    cudaDeviceProp prop;
    HP_CUDA_CHECK(cudaGetDeviceProperties(&prop, dev), "check the driver installation (nvidia-smi)");
    if (device) *device = dev;
    if (name && len > 0) snprintf(name, len, "%s", prop.name);
    return 0;
}

extern "C" int hp_gpu_use_device(int device, hp_err *err) {
    HP_CUDA_CHECK(cudaSetDevice(device), "check CUDA_VISIBLE_DEVICES and that the GPU is not in exclusive mode");
    return 0;
}

/* Create the handles of c (zero-filled); on failure the caller frees what was made. */
static int ctx_init(hp_gpu_ctx *c, hp_err *err) {
    const char *fix_rt = "check that a GPU is visible (nvidia-smi) and has free memory";
    HP_CUDA_CHECK(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking), fix_rt);
    HP_CUBLAS_CHECK(cublasCreate(&c->cublas), "check the GPU and the cuBLAS installation (libcublas)");
    HP_CUBLAS_CHECK(cublasSetStream(c->cublas, c->stream), "internal: the context's stream is invalid");
    // CUBLAS_DEFAULT_MATH keeps SGEMM in full fp32 (no TF32 down-conversion) unless tf32 is asked for.
    HP_CUBLAS_CHECK(cublasSetMathMode(c->cublas, c->opts.allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
                    "the cuBLAS version is too old for math modes: use CUDA >= 11");
#if HPSWEEP_HAVE_CUDNN
    const char *fix_dnn = "check the cuDNN installation (libcudnn*.so.9 next to the CUDA libraries)";
    HP_CUDNN_CHECK(cudnnCreate(&c->cudnn), fix_dnn);
    HP_CUDNN_CHECK(cudnnSetStream(c->cudnn, c->stream), fix_dnn);
    HP_CUDNN_CHECK(cudnnCreateTensorDescriptor(&c->tx), fix_dnn);
    HP_CUDNN_CHECK(cudnnCreateTensorDescriptor(&c->ty), fix_dnn);
    HP_CUDNN_CHECK(cudnnCreateTensorDescriptor(&c->tbn), fix_dnn);
    HP_CUDNN_CHECK(cudnnCreatePoolingDescriptor(&c->pool), fix_dnn);
    HP_CUDNN_CHECK(cudnnCreateActivationDescriptor(&c->act), fix_dnn);
#endif
    return 0;
}

extern "C" int hp_gpu_ctx_create(hp_gpu_ctx **out, const hp_gpu_opts *opts, hp_err *err) {
    *out = NULL;
    hp_gpu_ctx *c = (hp_gpu_ctx *)hp_calloc(1, sizeof *c, "the GPU context", err);
    if (!c) return -1;
    if (opts) c->opts = *opts;
    if (c->opts.workspace_max == 0) c->opts.workspace_max = (size_t)256 << 20;
    if (ctx_init(c, err) != 0) {
        hp_gpu_ctx_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

extern "C" void hp_gpu_ctx_free(hp_gpu_ctx *c) {
    if (!c) return;
    // Teardown: errors here cannot be acted on, so statuses are deliberately ignored.
#if HPSWEEP_HAVE_CUDNN
    for (int i = 0; i < HP_GPU_MAX_PLANS; i++) {
        hp_gpu_conv_plan *p = &c->plans[i];
        if (p->x) (void)cudnnDestroyTensorDescriptor(p->x);
        if (p->y) (void)cudnnDestroyTensorDescriptor(p->y);
        if (p->bias) (void)cudnnDestroyTensorDescriptor(p->bias);
        if (p->w) (void)cudnnDestroyFilterDescriptor(p->w);
        if (p->conv) (void)cudnnDestroyConvolutionDescriptor(p->conv);
    }
    if (c->tx) (void)cudnnDestroyTensorDescriptor(c->tx);
    if (c->ty) (void)cudnnDestroyTensorDescriptor(c->ty);
    if (c->tbn) (void)cudnnDestroyTensorDescriptor(c->tbn);
    if (c->pool) (void)cudnnDestroyPoolingDescriptor(c->pool);
    if (c->act) (void)cudnnDestroyActivationDescriptor(c->act);
    if (c->workspace) (void)cudaFree(c->workspace);
    if (c->cudnn) (void)cudnnDestroy(c->cudnn);
#endif
    if (c->xent_scratch) (void)cudaFree(c->xent_scratch);
    if (c->bn_scratch) (void)cudaFree(c->bn_scratch);
    if (c->cublas) (void)cublasDestroy(c->cublas);
    if (c->stream) (void)cudaStreamDestroy(c->stream);
    free(c);
}

extern "C" int hp_gpu_sync(hp_gpu_ctx *ctx, hp_err *err) {
    HP_CUDA_CHECK(cudaStreamSynchronize(ctx->stream),
                  "a kernel queued earlier faulted: rerun with CUDA_LAUNCH_BLOCKING=1 or compute-sanitizer to find it");
    return 0;
}

static thread_local size_t allocated; /* hp_gpu_thread_allocated */

extern "C" size_t hp_gpu_thread_allocated(void) { return allocated; }

extern "C" int hp_gpu_mem_info(size_t *free_bytes, size_t *total_bytes, hp_err *err) {
    HP_CUDA_CHECK(cudaMemGetInfo(free_bytes, total_bytes), "check that the GPU is visible (nvidia-smi)");
    return 0;
}

extern "C" int hp_gpu_alloc(void **dptr, size_t bytes, const char *what, hp_err *err) {
    *dptr = NULL;
    cudaError_t rc = cudaMalloc(dptr, bytes ? bytes : 1);
    if (rc != cudaSuccess) {
        *dptr = NULL;
        (void)cudaGetLastError(); // clear the error so that later calls start clean
        return hp_errf(err, "cudaMalloc of %zu bytes for %s failed: %s (%s); %s", bytes, what, cudaGetErrorName(rc),
                       cudaGetErrorString(rc),
                       rc == cudaErrorMemoryAllocation
                           ? "use a smaller batch or model, or fewer ranks per GPU"
                           : "check that a GPU is visible (nvidia-smi) and that its driver supports this CUDA version");
    }
    allocated += bytes;
    return 0;
}

extern "C" void hp_gpu_free(void *dptr) {
    if (dptr) (void)cudaFree(dptr); // teardown: nothing to do on failure
}

extern "C" int hp_gpu_upload(hp_gpu_ctx *ctx, void *dst, const void *src, size_t bytes, hp_err *err) {
    HP_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx->stream),
                  "check that dst is a device pointer from hp_gpu_alloc large enough for the copy");
    // The source may be reused by the caller at once: wait for the copy.
    HP_CUDA_CHECK(cudaStreamSynchronize(ctx->stream), "a kernel queued earlier faulted: run compute-sanitizer");
    return 0;
}

extern "C" int hp_gpu_download(hp_gpu_ctx *ctx, void *dst, const void *src, size_t bytes, hp_err *err) {
    HP_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ctx->stream),
                  "check that src is a device pointer from hp_gpu_alloc large enough for the copy");
    HP_CUDA_CHECK(cudaStreamSynchronize(ctx->stream), "a kernel queued earlier faulted: run compute-sanitizer");
    return 0;
}
