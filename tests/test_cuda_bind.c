/* test_cuda_bind.c - device binding and error reporting of cuda/gpu.h, with or without a GPU.
 *
 * Without a visible GPU (this test's usual CI case) it checks that every entry point fails
 * cleanly with a one-line message naming the cause: hp_gpu_bind ("no CUDA device is visible"),
 * hp_gpu_ctx_create (the failing CUDA call by name, context left NULL) and hp_gpu_alloc (the
 * byte count and what it was for). With GPUs it checks the binding rule local_rank % visible,
 * that a name is reported, and that a negative rank is refused.
 */
#include <stdio.h>
#include <string.h>

#include "gpu_device.h"
#include "check.h"
#include "cuda/gpu.h"

static void without_gpu(void) {
    hp_err err = {{0}};
    int device = 12345;
    char name[64] = "untouched";
    CHECK(hp_gpu_bind(0, &device, name, sizeof name, &err) == -1, "bind with no GPU fails");
    CHECK(strstr(err.msg, "no CUDA device is visible") != NULL, "bind error names the cause: %s", err.msg);
    CHECK(device == 12345 && strcmp(name, "untouched") == 0, "bind leaves its outputs alone on failure");

    hp_gpu_ctx *ctx = (hp_gpu_ctx *)&err; // any non-NULL value: create must reset it
    memset(&err, 0, sizeof err);
    CHECK(hp_gpu_ctx_create(&ctx, NULL, &err) == -1, "context creation with no GPU fails");
    CHECK(ctx == NULL, "the context is NULL after a failed creation");
    CHECK(strstr(err.msg, "failed:") != NULL && strstr(err.msg, "cuda") != NULL,
          "context error names the CUDA call and its status: %s", err.msg);
    hp_gpu_ctx_free(NULL); // a no-op

    void *d = &err;
    memset(&err, 0, sizeof err);
    CHECK(hp_gpu_alloc(&d, 1000, "the test buffer", &err) == -1, "cudaMalloc with no GPU fails");
    CHECK(d == NULL, "the pointer is NULL after a failed allocation");
    CHECK(strstr(err.msg, "1000 bytes for the test buffer") != NULL, "alloc error names size and use: %s", err.msg);
}

static void with_gpu(int n) {
    hp_err err = {{0}};
    int device = -1;
    char name[128] = "";
    CHECK(hp_gpu_bind(0, &device, name, sizeof name, &err) == 0, "bind rank 0: %s", err.msg);
    CHECK(device == 0 && name[0] != '\0', "rank 0 gets device 0 (%d) and a name (%s)", device, name);
    CHECK(hp_gpu_bind(n + 1, &device, NULL, 0, &err) == 0, "bind rank n + 1: %s", err.msg);
    CHECK(device == (n + 1) % n, "rank n + 1 wraps to device %d (got %d)", (n + 1) % n, device);
    CHECK(hp_gpu_bind(-1, &device, NULL, 0, &err) == -1, "a negative rank is refused");
    hp_gpu_ctx *ctx = NULL;
    CHECK(hp_gpu_ctx_create(&ctx, NULL, &err) == 0 && ctx != NULL, "context: %s", err.msg);
    hp_gpu_ctx_free(ctx);
}

int main(void) {
    int n = hp_gpu_visible();
    if (n == 0) without_gpu();
    else with_gpu(n);
    return hp_check_summary("test_cuda_bind");
}
