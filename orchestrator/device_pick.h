/* device_pick.h - which device a training process computes on: the spec's `device:` (auto, cpu,
 * cuda) and `cuda:` options, and the process's node-local rank, turned into an opened GPU
 * (trainer/gpu_device.h) or the CPU.
 *
 *   cpu   the CPU, always.
 *   cuda  GPU local_rank % (GPUs visible), or an error saying why none can be used and what to do.
 *   auto  a GPU as for cuda when hp_gpu_visible() > 0, else the CPU. A GPU that is visible but
 *         fails to open is an error, not a silent fall back to the (much slower) CPU.
 *
 * Only processes that train open a device: a trainer rank under mpirun, the coordinator only when
 * it trains alone, `hpsweep train` and `hpsweep check`. Several ranks of a node may share a GPU.
 */
#ifndef HP_DEVICE_PICK_H
#define HP_DEVICE_PICK_H

#include <stddef.h>

#include "gpu_device.h"
#include "hp_err.h"
#include "spec.h"

/* Open the device for `device` and `opts` (the spec's cuda: options); local_rank >= 0 picks the
 * GPU. *gpu is NULL for the CPU (also on error), else a device to hp_gpu_close (or
 * hp_device_close) when the process is done with it. */
int hp_device_open(hp_device device, const hp_gpu_opts *opts, int local_rank, hp_gpu_device **gpu, hp_err *err);
void hp_device_close(hp_gpu_device *gpu);

/* "auto", "cpu", "cuda" (as in specs; a command line's --device) into *out; -1 for another name. */
int hp_device_parse(const char *name, hp_device *out);

/* What /trials records: the CUDA device index (-1 for the CPU), and the GPU's name or "cpu". */
int hp_device_gpu_index(const hp_gpu_device *gpu);
const char *hp_device_label(const hp_gpu_device *gpu);
/* One line for logs: "cpu" or hp_gpu_describe's "cuda:0 NVIDIA H100 80GB HBM3 (deterministic, no TF32)". */
void hp_device_describe(const hp_gpu_device *gpu, char *buf, size_t len);

#endif
