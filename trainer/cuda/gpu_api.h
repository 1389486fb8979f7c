/* gpu_api.h - the CUDA backend as one table of functions: what the trainer (device.c, train.c)
 * calls on a GPU.
 *
 * In a CUDA build the backend (the .cu files, gpu_model.c, gpu_train.c and this table) is a
 * shared module, libhpsweep_cuda.so, loaded on first use by hp_gpu_api_load (gpu_load.c): so
 * cuBLAS and cuDNN, whose initialisers cost about 0.4 s of CPU at every start, are loaded only
 * by a process that looks for a GPU, and an hpsweep built with CUDA still starts and trains on
 * the CPU on a node without the CUDA libraries. The test build hp_trainer_emul links the same
 * table statically, over the host emulation of gpu.h.
 *
 * The table is versioned by HP_GPU_API_VERSION and its size; a module of another version is
 * refused with a message (rebuild both from the same tree).
 */
#ifndef HP_CUDA_GPU_API_H
#define HP_CUDA_GPU_API_H

#include <stddef.h>
#include <stdint.h>

#include "cuda/gpu.h"
#include "cuda/gpu_train.h"

#define HP_GPU_API_VERSION 2

typedef struct hp_gpu_api {
    int version;  /* HP_GPU_API_VERSION */
    size_t size;  /* sizeof(hp_gpu_api) */
    int (*device_count)(void);
    int (*bind)(int local_rank, int *device, char *name, size_t len, hp_err *err);
    int (*use_device)(int device, hp_err *err);
    int (*mem_info)(size_t *free_bytes, size_t *total_bytes, hp_err *err);
    int (*ctx_create)(hp_gpu_ctx **out, const hp_gpu_opts *opts, hp_err *err);
    void (*ctx_free)(hp_gpu_ctx *ctx);
    int (*train_create)(hp_gpu_ctx *ctx, const hp_model_spec *model, const hp_optim_spec *optim,
                        const hp_augment_spec *augment, const hp_dataset *train, const hp_dataset *val,
                        int max_batch, hp_gpu_train **out, hp_err *err);
    void (*train_free)(hp_gpu_train *g);
    size_t (*train_bytes)(const hp_gpu_train *g);
    int (*train_put_state)(hp_gpu_train *g, const float *state, int64_t n, const float *moments, hp_err *err);
    int (*train_get_state)(hp_gpu_train *g, float *state, int64_t n, float *moments, hp_err *err);
    int (*train_set_epoch)(hp_gpu_train *g, const int32_t *perm, const hp_augment_draw *draws, hp_err *err);
    int (*train_step)(hp_gpu_train *g, int64_t start, int B, uint64_t drop_key, uint64_t drop_step,
                      double *loss_sum, int64_t *correct, hp_err *err);
    int (*train_update)(hp_gpu_train *g, double lr, int64_t t, hp_err *err);
    int (*train_eval_val)(hp_gpu_train *g, int64_t start, int B, double *loss_sum, int64_t *correct, hp_err *err);
    int (*train_eval_host)(hp_gpu_train *g, const float *x, const int32_t *y, int B, double *loss_sum,
                           int64_t *correct, hp_err *err);
} hp_gpu_api;

/* The table of this backend (gpu_api.c): the module's one entry point. */
const hp_gpu_api *hp_gpu_api_get(void);

/* The backend, loaded on the first call (gpu_load.c): NULL with a message naming the module
 * file(s) tried and dlopen's reason when it cannot be loaded. The module is looked for at
 * $HPSWEEP_CUDA_MODULE if set, else next to the executable's lib/ (<bin>/../lib), else in the
 * build tree it was built in. Later calls return the same result without trying again. */
const hp_gpu_api *hp_gpu_api_load(hp_err *err);

#endif
