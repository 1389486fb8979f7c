/* devsel.h - which device a training process computes on: the spec's `device:` (auto, cpu,
 * cuda) and `cuda:` options, and the process's node-local rank, turned into an opened GPU
 * (trainer/device.h) or the CPU.
 *
 *   cpu   the CPU, always.
 *   cuda  GPU local_rank % (GPUs visible), or an error saying why none can be used and what to do.
 *   auto  a GPU as for cuda when hp_cuda_visible() > 0, else the CPU. A GPU that is visible but
 *         fails to open is an error, not a silent fall back to the (much slower) CPU.
 *
 * Only processes that train open a device: a trainer rank under mpirun, the coordinator only when
 * it trains alone, `hpsweep train` and `hpsweep check`. Several ranks of a node may share a GPU.
 */
#ifndef HP_DEVSEL_H
#define HP_DEVSEL_H

#include <stddef.h>

#include "device.h"
#include "hp_err.h"
#include "spec.h"

/* Open the device for `device` and `opts` (the spec's cuda: options); local_rank >= 0 picks the
 * GPU. *gpu is NULL for the CPU (also on error), else a device to hp_cuda_close (or
 * hp_devsel_close) when the process is done with it. */
int hp_devsel_open(hp_device device, const hp_cuda_opts *opts, int local_rank, hp_cuda_device **gpu, hp_err *err);
void hp_devsel_close(hp_cuda_device *gpu);

/* "auto", "cpu", "cuda" (as in specs; a command line's --device) into *out; -1 for another name. */
int hp_devsel_parse(const char *name, hp_device *out);

/* What /trials records: the CUDA device index (-1 for the CPU), and the GPU's name or "cpu". */
int hp_devsel_index(const hp_cuda_device *gpu);
const char *hp_devsel_name(const hp_cuda_device *gpu);
/* One line for logs: "cpu" or hp_cuda_describe's "cuda:0 NVIDIA H100 80GB HBM3 (deterministic, no TF32)". */
void hp_devsel_describe(const hp_cuda_device *gpu, char *buf, size_t len);

#endif
