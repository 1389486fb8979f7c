/* device.cu - which GPUs this process can see (gpu.h hp_gpu_device_count).
 *
 * With no GPU (or no driver), cudaGetDeviceCount returns an error; that means "no CUDA
 * devices", not a failure, so the count is 0 and the trainer runs on the CPU. */
#include <cuda_runtime.h>

extern "C" {
#include "cuda/gpu.h"
}

extern "C" int hp_gpu_device_count(void) {
    int n = 0;
    cudaError_t rc = cudaGetDeviceCount(&n);
    if (rc != cudaSuccess) {
        (void)cudaGetLastError(); /* clear the sticky error so later calls start clean */
        return 0;
    }
    return n;
}
