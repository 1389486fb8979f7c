/* device_pick.c - see device_pick.h */
#include "device_pick.h"

#include <stdio.h>
#include <string.h>

int hp_device_open(hp_device device, const hp_gpu_opts *opts, int local_rank, hp_gpu_device **gpu, hp_err *err) {
    *gpu = NULL;
    if (local_rank < 0)
        return hp_errf(err, "device: node-local rank %d is negative; it picks the GPU (local rank %% GPUs visible)",
                       local_rank);
    switch (device) {
    case HP_DEVICE_CPU:
        return 0;
    case HP_DEVICE_CUDA:
        /* hp_gpu_open names the cause (no CUDA in this build, no GPU visible, a CUDA error) and the fix. */
        if (hp_gpu_open(local_rank, opts, gpu, err) != 0) return hp_err_prefix(err, "device: cuda");
        return 0;
    case HP_DEVICE_AUTO: {
        int visible = hp_gpu_visible();
        if (visible <= 0) return 0;
        if (hp_gpu_open(local_rank, opts, gpu, err) != 0)
            return hp_err_prefix(err, "device: auto: GPU %d of the %d visible cannot be used (set device: cpu to "
                                      "train on the CPU instead)",
                                 local_rank % visible, visible);
        return 0;
    }
    }
    return hp_errf(err, "device: unknown device %d (expected auto, cpu or cuda)", (int)device);
}

void hp_device_close(hp_gpu_device *gpu) {
    if (gpu) hp_gpu_close(gpu);
}

int hp_device_parse(const char *name, hp_device *out) {
    static const hp_device all[] = {HP_DEVICE_AUTO, HP_DEVICE_CPU, HP_DEVICE_CUDA};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(name, hp_device_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    return -1;
}

int hp_device_gpu_index(const hp_gpu_device *gpu) { return gpu ? hp_gpu_index(gpu) : -1; }

const char *hp_device_label(const hp_gpu_device *gpu) { return gpu ? hp_gpu_name(gpu) : "cpu"; }

void hp_device_describe(const hp_gpu_device *gpu, char *buf, size_t len) {
    if (gpu) hp_gpu_describe(gpu, buf, len);
    else snprintf(buf, len, "cpu");
}
