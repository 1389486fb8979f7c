/* worker.h - the loop of a trainer rank (rank > 0): announce itself, then train the trials the
 * coordinator hands out until told to stop. See protocol.h for the messages. A stop signal
 * (signals.h) ends the running epoch at its next batch; the rank then says BYE and waits for
 * STOP. It never touches the results file, so nothing it does can damage it. */
#ifndef HP_WORKER_H
#define HP_WORKER_H

#include <mpi.h>

#include "dataload.h"
#include "device.h"
#include "hp_err.h"
#include "protocol.h"
#include "spec.h"

/* Returns 0 after STOP; *interrupted = 1 when the coordinator says the sweep stopped early
 * (a signal here or elsewhere). -1 on a communication error. Trials train on `gpu` (devsel.h;
 * borrowed), NULL for the CPU; `me` announces it (me->gpu, me->device_name, me->device). */
int hp_worker_run(const hp_spec *spec, const hp_splits *data, const hp_msg_ready *me, hp_cuda_device *gpu,
                  MPI_Comm comm, int *interrupted, hp_err *err);

#endif
