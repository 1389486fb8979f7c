/* backend.h - what the trainer computes on: BLAS threads and kernel, GPUs visible.
 *
 * The orchestrator decides how many BLAS threads a trainer rank may use (ranks that share a
 * node must not oversubscribe its cores) and records what ran; this header is how it asks,
 * so that OpenBLAS and CUDA stay inside trainer/.
 */
#ifndef HP_BACKEND_H
#define HP_BACKEND_H

#include <stddef.h>

/* Set the number of compute threads of this process (>= 1). The trainer's matrix products
 * split their work into blocks that depend only on the shape (trainer/cpu/gemm.h), so the
 * results are bit-identical for any thread count; OpenBLAS itself always runs one thread. */
void hp_backend_set_threads(int n);
/* The compute threads of the calling thread only (>= 1): for a thread that trains beside others
 * in one process (orchestrator/lanes.h). Call hp_backend_set_threads once first. */
void hp_backend_set_thread_threads(int n);
/* The number in force. */
int hp_backend_threads(void);
/* The default: OPENBLAS_NUM_THREADS if set (> 0), else OMP_NUM_THREADS if set, else all
 * online cores. */
int hp_backend_default_threads(void);
/* One line describing the CPU backend, e.g. "OpenBLAS 0.3.21 ..., Haswell kernels, 2 threads"
 * (GPUs are described by device.h's hp_cuda_describe). */
void hp_backend_describe(char *buf, size_t len);
/* Number of CUDA devices visible; 0 in a CPU-only build, when the CUDA module cannot be loaded
 * (CUDA builds load it on the first call: trainer/gpu_load.c) or when the driver reports none. */
int hp_backend_cuda_devices(void);
/* Online CPU cores of this machine (>= 1). */
int hp_backend_cpu_cores(void);

#endif
