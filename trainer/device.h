/* device.h - the device a trainer computes on: the host CPU, or one CUDA GPU.
 *
 * A process opens at most one GPU, once (handles, stream and workspace are expensive to make:
 * hundreds of milliseconds), and hands it to every trainer it creates (hp_trainer_create_on).
 * The orchestrator decides which GPU from the node-local MPI rank: GPU local_rank % visible, so
 * several ranks may share one GPU (each gets its own context; they then share its memory and
 * its time). What is opened here is only the device; data and models are per trainer.
 *
 * In a build without CUDA (HPSWEEP_CUDA=OFF, or no nvcc) hp_cuda_built() is 0, no GPU is ever
 * visible and hp_cuda_open fails with a message that says how to get one.
 */
#ifndef HP_DEVICE_H
#define HP_DEVICE_H

#include <stddef.h>

#include "hp_err.h"

/* 1 if this build has the CUDA backend. */
int hp_cuda_built(void);
/* GPUs this process can see (0 without CUDA, without a driver, or with CUDA_VISIBLE_DEVICES=""). */
int hp_cuda_visible(void);

typedef struct hp_cuda_opts {
    int deterministic; /* 1: only cuDNN algorithms that give the same bits on every run */
    int allow_tf32;    /* 1: TF32 tensor cores in cuBLAS and cuDNN (faster, ~1e-3 relative error) */
} hp_cuda_opts;

typedef struct hp_cuda_device hp_cuda_device;

/* Bind GPU local_rank % hp_cuda_visible() and create its context. opts may be NULL (both 0).
 * Fails with a message naming the cause (no CUDA in this build, no GPU visible, a CUDA/cuBLAS/
 * cuDNN error with its status) and the fix. */
int hp_cuda_open(int local_rank, const hp_cuda_opts *opts, hp_cuda_device **out, hp_err *err);
void hp_cuda_close(hp_cuda_device *d);

int hp_cuda_index(const hp_cuda_device *d);        /* the CUDA device index bound */
const char *hp_cuda_name(const hp_cuda_device *d); /* e.g. "NVIDIA H100 80GB HBM3" */
const hp_cuda_opts *hp_cuda_options(const hp_cuda_device *d);

/* Make d's GPU the current device of the calling thread (CUDA's is per thread): a thread that
 * trains on d but did not open it calls this first (orchestrator/lanes.h). */
int hp_cuda_use(hp_cuda_device *d, hp_err *err);

/* Free and total memory of d's GPU, in bytes (the calling thread must be on d: hp_cuda_use). */
int hp_cuda_mem_info(hp_cuda_device *d, size_t *free_bytes, size_t *total_bytes, hp_err *err);

/* One line for logs: "cuda:0 NVIDIA H100 80GB HBM3 (deterministic, no TF32)". */
void hp_cuda_describe(const hp_cuda_device *d, char *buf, size_t len);

/* For the trainer only: the device's context (cuda/gpu.h) and the backend's function table
 * (cuda/gpu_api.h: in CUDA builds a module loaded on first use). */
struct hp_gpu_ctx;
struct hp_gpu_api;
struct hp_gpu_ctx *hp_cuda_ctx(hp_cuda_device *d);
const struct hp_gpu_api *hp_cuda_api(hp_cuda_device *d);

#endif
