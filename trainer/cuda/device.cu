/* device.cu - the CUDA side of backend.h: which GPUs this process can see.
 *
 * With no GPU (or no driver), cudaGetDeviceCount returns an error; that means "no CUDA
 * devices", not a failure, so the count is 0 and the trainer runs on the CPU. */
#include <cuda_runtime.h>

extern "C" {
#include "backend.h"
}

extern "C" int hp_backend_cuda_devices(void) {
    int n = 0;
    cudaError_t rc = cudaGetDeviceCount(&n);
    if (rc != cudaSuccess) {
        (void)cudaGetLastError(); /* clear the sticky error so later calls start clean */
        return 0;
    }
    return n;
}
