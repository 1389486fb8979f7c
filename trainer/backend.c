/* backend.c - see backend.h */
#include "backend.h"

#include <cblas.h> /* OpenBLAS: also declares openblas_set_num_threads and friends */
#include <stdio.h>
#include <unistd.h>

void hp_backend_set_threads(int n) { openblas_set_num_threads(n < 1 ? 1 : n); }

int hp_backend_threads(void) { return openblas_get_num_threads(); }

void hp_backend_describe(char *buf, size_t len) {
    const char *core = openblas_get_corename();
    const char *config = openblas_get_config();
    snprintf(buf, len, "%s, %s kernels, %d BLAS thread%s", config ? config : "OpenBLAS",
             core ? core : "unknown", hp_backend_threads(), hp_backend_threads() == 1 ? "" : "s");
}

int hp_backend_cuda_devices(void) { return 0; }

int hp_backend_cpu_cores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}
