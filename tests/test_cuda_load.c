/* test_cuda_load.c - the CUDA backend is a module opened on first use (trainer/gpu_load.c,
 * cuda/gpu_api.h). Built in CUDA builds, run twice:
 *   test_cuda_load_found    the default search finds the build tree's libhpsweep_cuda.so and its
 *                           table has this build's version; hp_gpu_visible() answers (0 here);
 *   test_cuda_load_missing  HPSWEEP_CUDA_MODULE names a file that does not exist: no GPU is
 *                           visible (device: auto then trains on the CPU) and hp_gpu_open fails
 *                           with a message naming the file, the variable and device: cpu; the
 *                           answer is the same on a second call (loaded once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cuda/gpu_api.h"
#include "gpu_device.h"

int main(int argc, char **argv) {
    int missing = argc > 1 && strcmp(argv[1], "missing") == 0;
    hp_err err = {{0}};
    if (missing) {
        const char *path = "/nonexistent/libhpsweep_cuda.so";
        CHECK(setenv("HPSWEEP_CUDA_MODULE", path, 1) == 0, "setenv");
        CHECK(hp_gpu_visible() == 0, "no GPU visible without the module");
        hp_gpu_device *d = NULL;
        CHECK(hp_gpu_open(0, NULL, &d, &err) != 0 && d == NULL, "hp_gpu_open without the module");
        CHECK(strstr(err.msg, path) && strstr(err.msg, "HPSWEEP_CUDA_MODULE") && strstr(err.msg, "device: cpu"),
              "message: %s", err.msg);
        hp_err again = {{0}};
        CHECK(hp_gpu_api_load(&again) == NULL && strcmp(again.msg, err.msg) == 0, "second load: %s", again.msg);
    } else {
        CHECK(unsetenv("HPSWEEP_CUDA_MODULE") == 0, "unsetenv");
        const hp_gpu_api *a = hp_gpu_api_load(&err);
        CHECK(a != NULL, "module not found: %s", err.msg);
        if (a) {
            CHECK(a->version == HP_GPU_API_VERSION && a->size == sizeof(hp_gpu_api), "table version %d size %zu",
                  a->version, a->size);
            CHECK(a->device_count() == hp_gpu_visible(), "device count through the table");
            CHECK(hp_gpu_api_load(NULL) == a, "loaded once");
        }
    }
    return hp_check_summary(missing ? "test_cuda_load_missing" : "test_cuda_load_found");
}
