/* gpu_api.c - the backend's function table (gpu_api.h). */
#include "cuda/gpu_api.h"

static const hp_gpu_api api = {
    .version = HP_GPU_API_VERSION,
    .size = sizeof(hp_gpu_api),
    .device_count = hp_gpu_device_count,
    .bind = hp_gpu_bind,
    .use_device = hp_gpu_use_device,
    .mem_info = hp_gpu_mem_info,
    .ctx_create = hp_gpu_ctx_create,
    .ctx_free = hp_gpu_ctx_free,
    .train_create = hp_gpu_train_create,
    .train_free = hp_gpu_train_free,
    .train_bytes = hp_gpu_train_bytes,
    .train_put_state = hp_gpu_train_put_state,
    .train_get_state = hp_gpu_train_get_state,
    .train_set_epoch = hp_gpu_train_set_epoch,
    .train_step = hp_gpu_train_step,
    .train_update = hp_gpu_train_update,
    .train_eval_val = hp_gpu_train_eval_val,
    .train_eval_host = hp_gpu_train_eval_host,
};

const hp_gpu_api *hp_gpu_api_get(void) { return &api; }
