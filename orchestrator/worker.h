/* worker.h - the loop of a trainer rank (rank > 0): announce itself, then train the trials the
 * coordinator hands out until told to stop. See protocol.h for the messages. */
#ifndef HP_WORKER_H
#define HP_WORKER_H

#include <mpi.h>

#include "dataload.h"
#include "hp_err.h"
#include "protocol.h"
#include "spec.h"

int hp_worker_run(const hp_spec *spec, const hp_splits *data, const hp_msg_ready *me, MPI_Comm comm,
                  hp_err *err);

#endif
