/* gpu_device.h - the GPU a trainer computes on (the CPU needs no opening: cpu_threads.h).
 *
 * Names: "gpu" is this code's word for the GPU in every type and function (hp_gpu_*); "cuda"
 * names only CUDA itself: the build option HPSWEEP_CUDA, the backend's folder trainer/cuda/ and
 * module libhpsweep_cuda.so, and the spec's `device: cuda` and `cuda:` section; "device" is the
 * choice between the CPU and a GPU (orchestrator/device_pick.h).
 *
 * A process opens at most one GPU, once (handles, stream and workspace are expensive to make:
 * hundreds of milliseconds), and hands it to every trainer it creates (hp_trainer_create_on).
 * The orchestrator decides which GPU from the node-local MPI rank: GPU local_rank % visible, so
 * several ranks may share one GPU (each gets its own context; they then share its memory and
 * its time). What is opened here is only the device; data and models are per trainer.
 *
 * In a build without CUDA (HPSWEEP_CUDA=OFF, or no nvcc) hp_gpu_built() is 0, no GPU is ever
 * visible and hp_gpu_open fails with a message that says how to get one.
 */
#ifndef HP_GPU_DEVICE_H
#define HP_GPU_DEVICE_H

#include <stddef.h>

#include "hp_err.h"

/* 1 if this build has the CUDA backend. */
int hp_gpu_built(void);
/* GPUs this process can see (0 without CUDA, without a driver, or with CUDA_VISIBLE_DEVICES=""). */
int hp_gpu_visible(void);

/* The GPU's options (the spec's cuda: section), the one struct from the spec to each context
 * (cuda/gpu.h's hp_gpu_ctx_create). */
typedef struct hp_gpu_opts {
    int deterministic;    /* 1: only cuDNN algorithms that give the same bits on every run */
    int allow_tf32;       /* 1: TF32 tensor cores in cuBLAS and cuDNN (faster, ~1e-3 relative error) */
    size_t workspace_max; /* largest cuDNN workspace an algorithm may ask for (bytes; 0: 256 MiB) */
} hp_gpu_opts;

typedef struct hp_gpu_device hp_gpu_device;

/* Bind GPU local_rank % hp_gpu_visible() and create its context. opts may be NULL (both 0).
 * Fails with a message naming the cause (no CUDA in this build, no GPU visible, a CUDA/cuBLAS/
 * cuDNN error with its status) and the fix. */
int hp_gpu_open(int local_rank, const hp_gpu_opts *opts, hp_gpu_device **out, hp_err *err);
void hp_gpu_close(hp_gpu_device *d);

int hp_gpu_index(const hp_gpu_device *d);        /* the CUDA device index bound */
const char *hp_gpu_name(const hp_gpu_device *d); /* e.g. "NVIDIA H100 80GB HBM3" */
const hp_gpu_opts *hp_gpu_options(const hp_gpu_device *d);

/* Make d's GPU the current device of the calling thread (CUDA's is per thread): a thread that
 * trains on d but did not open it calls this first (orchestrator/lanes.h). */
int hp_gpu_use(hp_gpu_device *d, hp_err *err);

/* Free and total memory of d's GPU, in bytes (the calling thread must be on d: hp_gpu_use). */
int hp_gpu_device_mem_info(hp_gpu_device *d, size_t *free_bytes, size_t *total_bytes, hp_err *err);

/* One line for logs: "cuda:0 NVIDIA H100 80GB HBM3 (deterministic, no TF32)". */
void hp_gpu_describe(const hp_gpu_device *d, char *buf, size_t len);

/* For the trainer only: the device's context (cuda/gpu.h) and the backend's function table
 * (cuda/gpu_api.h: in CUDA builds a module loaded on first use). */
struct hp_gpu_ctx;
struct hp_gpu_api;
struct hp_gpu_ctx *hp_gpu_device_ctx(hp_gpu_device *d);
const struct hp_gpu_api *hp_gpu_device_api(hp_gpu_device *d);

#endif
