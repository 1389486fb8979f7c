/* lanes.h - several trials at once in one process ("packing": hpsweep run --pack K).
 *
 * A lane is a thread that trains one trial at a time with hp_trial_execute, on a device handle
 * of its own: on a GPU its own context (CUDA stream, cuBLAS and cuDNN handles, trainer/gpu_device.h),
 * so the kernels of different lanes run concurrently on the one GPU without MPS; on the CPU the
 * rank's compute threads are shared out among the lanes. A trial's results do not depend on the
 * lane it ran on, nor on what ran beside it (each trial is a function of its plan and seed).
 *
 * The caller (the coordinator training alone, or a trainer rank's loop; worker.c) keeps the
 * dispatch: it starts a trial on an idle lane and reaps the lanes that finished. The hooks are
 * called from the lane threads: whatever they touch, the caller serialises.
 */
#ifndef HP_LANES_H
#define HP_LANES_H

#include <signal.h>

#include "dataload.h"
#include "gpu_device.h"
#include "hp_err.h"
#include "spec.h"
#include "trial.h"

/* The most trials one process trains at once (--pack). */
#define HP_MAX_PACK 16
/* --pack's default on a GPU (on the CPU: 1, the cores are shared out either way). */
#define HP_PACK_GPU_DEFAULT 8

typedef struct hp_lanes hp_lanes;

/* n lanes (1 <= n <= HP_MAX_PACK); lane i trains on gpus[i] (NULL or gpus == NULL: the CPU),
 * with `threads` compute threads on the CPU. spec, data, hooks, the devices and the cancellation
 * flag (NULL: never) are borrowed for the lanes' lifetime. */
int hp_lanes_create(int n, hp_gpu_device *const *gpus, int threads, const hp_spec *spec, const hp_splits *data,
                    const hp_trial_hooks *hooks, const volatile sig_atomic_t *cancel, hp_lanes **out, hp_err *err);
/* Joins the threads. A running trial is waited for: set the cancellation flag first. */
void hp_lanes_free(hp_lanes *l);

int hp_lanes_count(const hp_lanes *l);
int hp_lanes_busy(hp_lanes *l); /* lanes with a trial started and not yet reaped */

/* Start the trial on an idle lane: start->gpu and start->cancel are the lane's; start->resume and
 * start->resume_vec are copied, so the caller may reuse them at once. -1 when no lane is idle. */
int hp_lanes_start(hp_lanes *l, const hp_trial_plan *plan, const hp_trial_start *start, hp_err *err);

/* Wait up to `seconds` for a lane's trial to end. Returns 1 and the trial's outcome (its id,
 * hp_trial_execute's return code with its message in err, and whether it was cancelled), or 0
 * when none ended in time (seconds 0: just look). The lane is idle again. */
int hp_lanes_reap(hp_lanes *l, double seconds, int64_t *trial, int *rc, int *cancelled, hp_err *err);

#endif
