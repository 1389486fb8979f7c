/* cpu_threads.h - the CPU a trainer computes on: its compute threads, cores and BLAS.
 *
 * The orchestrator decides how many threads a trainer rank may use (ranks that share a node
 * must not oversubscribe its cores) and records what ran; this header is how it asks, so that
 * OpenBLAS and OpenMP stay inside trainer/. The GPU is gpu_device.h's.
 */
#ifndef HP_CPU_THREADS_H
#define HP_CPU_THREADS_H

#include <stddef.h>

/* Set the number of compute threads of this process (>= 1). The trainer's matrix products
 * split their work into blocks that depend only on the shape (trainer/cpu/gemm.h), so the
 * results are bit-identical for any thread count; OpenBLAS itself always runs one thread. */
void hp_cpu_set_threads(int n);
/* The compute threads of the calling thread only (>= 1): for a thread that trains beside others
 * in one process (orchestrator/lanes.h). Call hp_cpu_set_threads once first. */
void hp_cpu_set_thread_threads(int n);
/* The number in force. */
int hp_cpu_threads(void);
/* The default: OPENBLAS_NUM_THREADS if set (> 0), else OMP_NUM_THREADS if set, else all
 * online cores. */
int hp_cpu_default_threads(void);
/* One line describing the CPU backend, e.g. "OpenBLAS 0.3.21 ..., Haswell kernels, 2 threads"
 * (GPUs are described by gpu_device.h's hp_gpu_describe). */
void hp_cpu_describe(char *buf, size_t len);
/* Online CPU cores of this machine (>= 1). */
int hp_cpu_cores(void);

#endif
