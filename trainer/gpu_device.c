/* gpu_device.c - see gpu_device.h. With CUDA, a thin owner of cuda/gpu.h's binding and context; without,
 * stubs that say how to get a GPU build. */
#include "gpu_device.h"

#include <stdio.h>
#include <stdlib.h>

#include "cpu_threads.h"

#if defined(HPSWEEP_HAVE_CUDA) && HPSWEEP_HAVE_CUDA
#include "cuda/gpu_api.h"

struct hp_gpu_device {
    int index;
    char name[128];
    hp_gpu_opts opts;
    const hp_gpu_api *api; /* the loaded backend (gpu_api.h) */
    hp_gpu_ctx *ctx;
};

int hp_gpu_built(void) { return 1; }
/* hp_gpu_visible: gpu_load.c, which finds the backend. */

int hp_gpu_open(int local_rank, const hp_gpu_opts *opts, hp_gpu_device **out, hp_err *err) {
    *out = NULL;
    hp_gpu_device *d = hp_calloc(1, sizeof *d, "the GPU device", err);
    if (!d) return -1;
    if (opts) d->opts = *opts;
    if (!(d->api = hp_gpu_api_load(err)) || d->api->bind(local_rank, &d->index, d->name, sizeof d->name, err) != 0 ||
        d->api->ctx_create(&d->ctx, &d->opts, err) != 0) {
        hp_gpu_close(d);
        return -1;
    }
    *out = d;
    return 0;
}

void hp_gpu_close(hp_gpu_device *d) {
    if (!d) return;
    if (d->api && d->ctx) d->api->ctx_free(d->ctx);
    free(d);
}

int hp_gpu_use(hp_gpu_device *d, hp_err *err) { return d->api->use_device(d->index, err); }
int hp_gpu_device_mem_info(hp_gpu_device *d, size_t *free_bytes, size_t *total_bytes, hp_err *err) {
    return d->api->mem_info(free_bytes, total_bytes, err);
}
int hp_gpu_index(const hp_gpu_device *d) { return d->index; }
const char *hp_gpu_name(const hp_gpu_device *d) { return d->name; }
const hp_gpu_opts *hp_gpu_options(const hp_gpu_device *d) { return &d->opts; }
struct hp_gpu_ctx *hp_gpu_device_ctx(hp_gpu_device *d) { return d->ctx; }
const struct hp_gpu_api *hp_gpu_device_api(hp_gpu_device *d) { return d->api; }

void hp_gpu_describe(const hp_gpu_device *d, char *buf, size_t len) {
    snprintf(buf, len, "cuda:%d %s (%s, %s)", d->index, d->name,
             d->opts.deterministic ? "deterministic" : "non-deterministic",
             d->opts.allow_tf32 ? "TF32" : "no TF32");
}

#else /* a CPU-only build */

struct hp_gpu_device {
    int unused;
};

int hp_gpu_built(void) { return 0; }
int hp_gpu_visible(void) { return 0; }

int hp_gpu_open(int local_rank, const hp_gpu_opts *opts, hp_gpu_device **out, hp_err *err) {
    (void)local_rank;
    (void)opts;
    *out = NULL;
    return hp_errf(err, "this hpsweep was built without CUDA, so it cannot use a GPU: rebuild on a machine with "
                        "the CUDA toolkit (cmake -DHPSWEEP_CUDA=ON), or set device: cpu");
}
void hp_gpu_close(hp_gpu_device *d) { free(d); }
int hp_gpu_device_mem_info(hp_gpu_device *d, size_t *free_bytes, size_t *total_bytes, hp_err *err) {
    (void)d;
    *free_bytes = *total_bytes = 0;
    return hp_errf(err, "this hpsweep was built without CUDA, so it cannot use a GPU");
}
int hp_gpu_use(hp_gpu_device *d, hp_err *err) {
    (void)d;
    return hp_errf(err, "this hpsweep was built without CUDA, so it cannot use a GPU");
}
int hp_gpu_index(const hp_gpu_device *d) {
    (void)d;
    return -1;
}
const char *hp_gpu_name(const hp_gpu_device *d) {
    (void)d;
    return "";
}
const hp_gpu_opts *hp_gpu_options(const hp_gpu_device *d) {
    (void)d;
    return NULL;
}
struct hp_gpu_ctx *hp_gpu_device_ctx(hp_gpu_device *d) {
    (void)d;
    return NULL;
}
const struct hp_gpu_api *hp_gpu_device_api(hp_gpu_device *d) {
    (void)d;
    return NULL;
}
void hp_gpu_describe(const hp_gpu_device *d, char *buf, size_t len) {
    (void)d;
    snprintf(buf, len, "cpu");
}
#endif
