/* gpu_test.h - what the tests of cuda/gpu.h share (test_cuda_layers.c on a GPU, test_gpu_emul.c
 * on the host emulation): the context, random stream and error of the test, a check that stops
 * at the first GPU API error, and device arrays made from host ones. Included by one test file
 * each (static definitions). */
#ifndef HP_TEST_GPU_TEST_H
#define HP_TEST_GPU_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cuda/gpu.h"
#include "rng.h"

static hp_gpu_ctx *g_ctx;
static hp_rng g_rng;
static hp_err g_err;

/* Fail loudly (and stop) on a GPU API error: later checks would only repeat it. */
#define OK(call)                                                                                           \
    do {                                                                                                   \
        if ((call) != 0) {                                                                                 \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, g_err.msg);                      \
            exit(1);                                                                                       \
        }                                                                                                  \
    } while (0)

/* A device array of `bytes`, a copy of src when src is non-NULL. */
static inline void *dev(const void *src, size_t bytes) {
    void *d;
    OK(hp_gpu_alloc(&d, bytes, "a test array", &g_err));
    if (src) OK(hp_gpu_upload(g_ctx, d, src, bytes, &g_err));
    return d;
}
static inline float *devf(const float *src, int64_t n) { return dev(src, (size_t)n * sizeof(float)); }

#endif
