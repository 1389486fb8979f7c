/* gpu_emul.h - test hooks of the host emulation of cuda/gpu.h (hp_trainer_emul only; the real
 * backend has no such function: a test that calls one links the emulation). */
#ifndef HP_CUDA_GPU_EMUL_H
#define HP_CUDA_GPU_EMUL_H

#include "cuda/cudnn_rules.h"
#include "cuda/gpu.h"

/* Lay image tensors out and describe them to the emulated cuDNN in `layout` instead of the device
 * layout HP_GPU_ACT_LAYOUT: for tests that show a layout cuDNN refuses is refused here too
 * (HP_GPU_LAYOUT_CNHW, the CPU's order, has no backward-data algorithm). */
void hp_gpu_emul_set_layout(hp_gpu_ctx *ctx, hp_gpu_layout layout);

#endif
