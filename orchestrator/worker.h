/* worker.h - the loop of a trainer rank (rank > 0): announce itself, then train the trials the
 * coordinator hands out until told to stop, one at a time or several at once (lanes.h). See
 * protocol.h for the messages. A stop signal
 * (signals.h) ends the running epoch at its next batch; the rank then says BYE and waits for
 * STOP. It never touches the results file, so nothing it does can damage it. */
#ifndef HP_WORKER_H
#define HP_WORKER_H

#include <mpi.h>

#include "dataload.h"
#include "gpu_device.h"
#include "hp_err.h"
#include "protocol.h"
#include "spec.h"

/* Returns 0 after STOP; *interrupted = 1 when the coordinator says the sweep stopped early
 * (a signal here or elsewhere). -1 on a communication error. `me` announces the rank (me->gpu,
 * me->device_name, me->device) and how many trials it trains at once, me->lanes: 1, one after
 * another in this thread; more, in lanes (lanes.h), lane i on gpus[i] (device_pick.h; borrowed; NULL
 * or gpus NULL: the CPU, with `threads` compute threads per lane). Lanes need MPI at
 * MPI_THREAD_FUNNELED: only this thread calls MPI. */
int hp_worker_run(const hp_spec *spec, const hp_splits *data, const hp_msg_ready *me, hp_gpu_device *const *gpus,
                  int threads, MPI_Comm comm, int *interrupted, hp_err *err);

#endif
