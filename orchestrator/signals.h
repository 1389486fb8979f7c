/* signals.h - SIGTERM, SIGINT, SIGUSR1 and SIGHUP (a closed terminal or ssh session): stop the sweep cleanly.
 *
 * Slurm sends SIGTERM (or, with --signal, SIGUSR1) before a time limit, mpirun forwards
 * SIGTERM/SIGINT/SIGUSR1 to every rank, Ctrl-C sends SIGINT. The handler only sets a flag:
 * the coordinator stops dispatching, leaves running trials to their last checkpoint, closes
 * the results file and exits with HP_EXIT_INTERRUPTED; a trainer stops its epoch at the next
 * batch (hp_trainer_set_cancel). A second SIGINT exits at once (_exit): every event was
 * already flushed, so the file stays readable, and `hpsweep resume` recovers it.
 */
#ifndef HP_SIGNALS_H
#define HP_SIGNALS_H

#include <signal.h>

/* Non-zero once a stop signal arrived (the number of the first one). */
extern volatile sig_atomic_t hp_stop_signal;

/* Install the handlers (SA_RESTART, so reads and writes are not cut short) and ignore SIGXFSZ
 * (a file size limit then fails the write with a message). Returns -1 if sigaction fails
 * (signals then keep their default action). */
int hp_signals_install(void);

/* "SIGTERM", "SIGINT", "SIGUSR1", "SIGHUP", or "a signal". */
const char *hp_signal_name(int sig);

#endif
