/* cpu_threads.c - see cpu_threads.h */
#include "cpu_threads.h"

#include <cblas.h> /* OpenBLAS: also declares openblas_set_num_threads and friends */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void hp_cpu_set_threads(int n) {
    openblas_set_num_threads(1);
    omp_set_num_threads(n < 1 ? 1 : n);
}

void hp_cpu_set_thread_threads(int n) { omp_set_num_threads(n < 1 ? 1 : n); } /* a per-thread ICV */

int hp_cpu_threads(void) { return omp_get_max_threads(); }

static int env_threads(const char *name) {
    const char *v = getenv(name);
    int n = v ? atoi(v) : 0;
    return n > 0 ? n : 0;
}

int hp_cpu_default_threads(void) {
    int n = env_threads("OPENBLAS_NUM_THREADS");
    if (!n) n = env_threads("OMP_NUM_THREADS");
    return n ? n : hp_cpu_cores();
}

void hp_cpu_describe(char *buf, size_t len) {
    const char *core = openblas_get_corename();
    const char *config = openblas_get_config();
    /* The CPU only: the device line (orchestrator/device_pick.h) says which GPU, if any, trains, and
     * counting GPUs here would load the CUDA module in processes that never use it. */
    snprintf(buf, len, "%s, %s kernels, %d thread%s", config ? config : "OpenBLAS", core ? core : "unknown",
             hp_cpu_threads(), hp_cpu_threads() == 1 ? "" : "s");
}


int hp_cpu_cores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}
