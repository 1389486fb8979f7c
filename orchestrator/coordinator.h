/* coordinator.h - rank 0: plan the stages, hand out trials, record everything, test once.
 *
 * Per stage: plan it from the finished results of the stage before (search.h), write the stage
 * and its pending trials to the results file, run the trials (alone: one after another in this
 * process, or opts->pack at a time; under MPI: dynamic dispatch to whichever trainer rank has
 * an idle lane first, a rank holding as many trials as it has lanes), record every
 * epoch, checkpoint and outcome as it arrives. After the last stage, evaluate the best trial's
 * best-on-validation snapshot on the test split, once, and store it in /final.
 *
 * Resume (resume.h): given what a file holds, the same loop skips finished trials, continues
 * running ones from their checkpoints and replans the rest exactly as before.
 *
 * A stop request (*opts->stop, set by a signal, or a trainer rank that said BYE) stops the
 * dispatch at once: the results file is closed (every event was already flushed; running
 * trials keep their last checkpoint) and *res set to NULL, then the trainer ranks are told to
 * stop (ABORT verdicts, STOP) for up to a second and a half.
 */
#ifndef HP_COORDINATOR_H
#define HP_COORDINATOR_H

#include <mpi.h>
#include <signal.h>
#include <stdint.h>

#include "dataload.h"
#include "gpu_device.h"
#include "hp_err.h"
#include "resume.h"
#include "results.h"
#include "spec.h"

typedef struct hp_coord_opts {
    int nworkers;   /* trainer ranks 1..nworkers; 0: train alone, in this process */
    MPI_Comm comm;  /* used when nworkers > 0 */
    int quiet;      /* no per-trial lines */
    int progress;   /* a live status line on stderr */
    int checkpoint_every;             /* checkpoint running trials after every N-th epoch; 0: never */
    const hp_resume *resume;          /* continue the sweep this file holds; NULL: a new sweep */
    const volatile sig_atomic_t *stop;/* non-zero: stop (signals.h); NULL: never */
    const char *path;                 /* the results file, for messages */
    /* Alone (nworkers 0), unused under MPI: */
    int pack;                         /* trials trained at once (lanes.h); 0 or 1: one after another */
    hp_gpu_device *const *gpus;      /* [max(pack, 1)] each lane's GPU (device_pick.h; borrowed); NULL, or
                                         NULL entries: the CPU */
    int threads;                      /* pack > 1 on the CPU: compute threads of each lane */
} hp_coord_opts;

typedef struct hp_coord_stats {
    int64_t trials;      /* trials finished in this run (any status) */
    double wall;         /* seconds from the first dispatch to the last result */
    double busy;         /* seconds trainer ranks spent inside trials (as they measured), summed */
    double utilisation;  /* busy / (wall * lanes) */
    int lanes;           /* trials that could run at once: the trainer ranks' lanes (lanes.h) in all */
    double record;       /* seconds the coordinator spent recording (results file writes) */
    int interrupted;     /* stopped early: the signal number, or -1 when a trainer rank said BYE */
    int workers_stopped; /* after an interruption: 1 if every trainer rank got STOP (else abort them) */
    int64_t finished, running, pending; /* trials by state when it stopped (or ended) */
    double stop_seconds; /* from noticing the stop request to the results file being closed */
    int no_result;       /* finished, but no trial finished with a snapshot to evaluate on the test
                            split (every trial diverged, failed or was pruned): an error to report */
} hp_coord_stats;

/* Runs the whole sweep; on success every trainer rank has been sent STOP. Returns 0 also when
 * interrupted (stats->interrupted says so; *res is then NULL: closed here). On error the
 * caller closes *res (if not NULL) and aborts the MPI job (trainer ranks may be mid-trial). */
int hp_coordinate(const hp_spec *spec, const hp_splits *data, hp_results **res, const hp_coord_opts *opts,
                  hp_coord_stats *stats, hp_err *err);

#endif
