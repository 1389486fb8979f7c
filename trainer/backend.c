/* backend.c - see backend.h */
#include "backend.h"

#include <cblas.h> /* OpenBLAS: also declares openblas_set_num_threads and friends */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void hp_backend_set_threads(int n) {
    openblas_set_num_threads(1);
    omp_set_num_threads(n < 1 ? 1 : n);
}

void hp_backend_set_thread_threads(int n) { omp_set_num_threads(n < 1 ? 1 : n); } /* a per-thread ICV */

int hp_backend_threads(void) { return omp_get_max_threads(); }

static int env_threads(const char *name) {
    const char *v = getenv(name);
    int n = v ? atoi(v) : 0;
    return n > 0 ? n : 0;
}

int hp_backend_default_threads(void) {
    int n = env_threads("OPENBLAS_NUM_THREADS");
    if (!n) n = env_threads("OMP_NUM_THREADS");
    return n ? n : hp_backend_cpu_cores();
}

void hp_backend_describe(char *buf, size_t len) {
    const char *core = openblas_get_corename();
    const char *config = openblas_get_config();
    /* The CPU only: the device line (orchestrator/devsel.h) says which GPU, if any, trains, and
     * counting GPUs here would load the CUDA module in processes that never use it. */
    snprintf(buf, len, "%s, %s kernels, %d thread%s", config ? config : "OpenBLAS", core ? core : "unknown",
             hp_backend_threads(), hp_backend_threads() == 1 ? "" : "s");
}

#ifndef HPSWEEP_HAVE_CUDA
/* A CPU-only build sees no GPU; the CUDA build defines this in gpu_load.c. */
int hp_backend_cuda_devices(void) { return 0; }
#endif

int hp_backend_cpu_cores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}
