/* mpi_util.h - checked MPI calls, polling receives, node-local ranks.
 *
 * A blocking MPI_Recv busy-waits and burns a core that a trainer rank on the same node needs,
 * so every wait here polls (MPI_Iprobe) and sleeps between polls, backing off from 20 us to
 * 1 ms. Every MPI call's return code is checked (MPI_COMM_WORLD is set to MPI_ERRORS_RETURN).
 */
#ifndef HP_MPI_UTIL_H
#define HP_MPI_UTIL_H

#include <mpi.h>
#include <signal.h>

#include "hp_err.h"

/* 0 if rc is MPI_SUCCESS, else -1 with "WHAT failed: MPI's error string". */
int hp_mpi_check(int rc, const char *what, hp_err *err);

/* Wait (polling) until a message from `source` (or MPI_ANY_SOURCE) with `tag` (or MPI_ANY_TAG)
 * is there; fills *status. Does not receive it. */
int hp_mpi_wait_probe(int source, int tag, MPI_Comm comm, MPI_Status *status, hp_err *err);

/* The same, but gives up when *flag becomes non-zero (a signal): returns 1 when a message is
 * there, 0 when the flag is set, -1 on error. */
int hp_mpi_wait_probe_until(int source, int tag, MPI_Comm comm, const volatile sig_atomic_t *flag,
                            MPI_Status *status, hp_err *err);

/* Non-blocking probe: *flag 1 if a message is there. */
int hp_mpi_probe(int source, int tag, MPI_Comm comm, int *flag, MPI_Status *status, hp_err *err);

/* Receive exactly `bytes` bytes of a probed message; a size mismatch is an error. */
int hp_mpi_recv_bytes(void *buf, int bytes, int source, int tag, MPI_Comm comm, hp_err *err);
int hp_mpi_send_bytes(const void *buf, int bytes, int dest, int tag, MPI_Comm comm, hp_err *err);

/* Was this process started by an MPI launcher (mpirun, mpiexec, srun)? Looks for the variables
 * launchers set (OMPI_COMM_WORLD_SIZE, PMIX_RANK, PMI_RANK, PMI_SIZE). HPSWEEP_MPI=1 forces
 * MPI on (a singleton MPI_Init), HPSWEEP_MPI=0 off. A process not launched by one runs alone
 * without initialising MPI: a singleton MPI_Init starts a daemon over the loopback interface
 * and fails where that is down, for no gain. Its communicator is then MPI_COMM_NULL, which the
 * helpers below and the orchestrator's collective steps treat as "alone". */
int hp_mpi_launched(void);

/* This process's rank among the ranks of its node, and how many ranks share the node
 * (0 and 1 for MPI_COMM_NULL: alone). */
int hp_mpi_node_rank(MPI_Comm comm, int *local_rank, int *local_size, hp_err *err);

/* Sleep for the given number of microseconds (the back-off between polls). */
void hp_sleep_us(long us);

#endif
