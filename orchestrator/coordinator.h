/* coordinator.h - rank 0: plan the stages, hand out trials, record everything, test once.
 *
 * Per stage: plan it from the finished results of the stage before (search.h), write the stage
 * and its pending trials to the results file, run the trials (alone: one after another in this
 * process; under MPI: dynamic dispatch to whichever trainer rank is idle first), record every
 * epoch and outcome as it arrives. After the last stage, evaluate the best trial's
 * best-on-validation snapshot on the test split, once, and store it in /final.
 */
#ifndef HP_COORDINATOR_H
#define HP_COORDINATOR_H

#include <mpi.h>
#include <stdint.h>

#include "dataload.h"
#include "hp_err.h"
#include "results.h"
#include "spec.h"

typedef struct hp_coord_opts {
    int nworkers;   /* trainer ranks 1..nworkers; 0: train alone, in this process */
    MPI_Comm comm;  /* used when nworkers > 0 */
    int quiet;      /* no per-trial lines */
    int progress;   /* a live status line on stderr */
} hp_coord_opts;

typedef struct hp_coord_stats {
    int64_t trials;      /* trials finished (any status) */
    double wall;         /* seconds from the first dispatch to the last result */
    double busy;         /* seconds trainer ranks spent inside trials (as they measured), summed */
    double utilisation;  /* busy / (wall * trainer ranks) */
    double record;       /* seconds the coordinator spent recording (results file writes) */
} hp_coord_stats;

/* Runs the whole sweep; on success every trainer rank has been sent STOP. On error the caller
 * aborts the MPI job (trainer ranks may be mid-trial). */
int hp_coordinate(const hp_spec *spec, const hp_splits *data, hp_results *res, const hp_coord_opts *opts,
                  hp_coord_stats *stats, hp_err *err);

#endif
