/* coord_impl.h - internal to the coordinator: its state, shared by coordinator.c (planning, the
 * stage loop, the final evaluation), coord_dispatch.c (handing trials out) and coord_record.c
 * (recording events, progress, stop requests, fault injection). Calls go down only:
 * coordinator.c -> coord_dispatch.c -> coord_record.c. */
#ifndef HP_COORD_IMPL_H
#define HP_COORD_IMPL_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "hp_time.h"
#include "coordinator.h"
#include "lanes.h"
#include "protocol.h"
#include "search.h"
#include "trial.h"

typedef struct worker_slot {
    int ready;          /* READY received */
    int busy;           /* trials out on it, at most info.lanes */
    int gone;           /* said BYE (a signal stopped it): waits for STOP */
    int64_t trial[HP_MAX_PACK]; /* [busy] the trials out on it */
    hp_msg_ready info;
} worker_slot;

/* The coordinator's state, one sub-struct per job. Each is touched by the files named on it. */

/* Planning (coordinator.c; read everywhere): every trial planned so far and the stage being run. */
typedef struct coord_plan {
    hp_trial_record *recs;   /* every trial planned so far, indexed by id */
    int64_t nrecs;
    hp_stage_plan stage;     /* the stage being run */
    hp_trial_plan *trials;   /* its trials */
    int64_t trial_rows;      /* rows in /trials (planned trials may already have rows) */
} coord_plan;

/* Snapshots (coord_record.c keeps them; coordinator.c evaluates the best on the test split). */
typedef struct coord_snapshots {
    int64_t state_size;      /* floats in a snapshot */
    float *buf;              /* [state_size] receive buffer */
    float *best_state;       /* [state_size] snapshot of the best trial so far (hp_trial_better) */
    int64_t best_trial;      /* -1 until a trial finished with a snapshot */
    int64_t kept;            /* snapshot rows written */
    int64_t *kept_trial;     /* [keep_snapshots] trial whose snapshot each row holds (top-N mode); -1 none */
} coord_snapshots;

/* Checkpoints of running trials. */
typedef struct coord_ckpt {
    int every;               /* 0: checkpoints off (also when the file cannot hold them) */
    int64_t floats;          /* floats in a trial's checkpoint vector */
    float *buf;              /* [floats] receive / resume buffer */
} coord_ckpt;

/* Resume: checkpoints to continue from (consumed at dispatch), the /curves row of each
 * (trial, epoch) already in the file for unfinished trials, and never-written rows. All empty
 * in a new sweep. */
typedef struct coord_resume {
    hp_resume_ckpt *ckpt;    /* [ntrials] or NULL */
    int64_t ntrials;         /* trials the file held */
    int64_t **curve_rows;    /* [total] NULL, or [epochs_planned + 1] rows (-1: none) */
    int64_t *free_curves;    /* rows to reuse */
    int64_t nfree_curves;
} coord_resume;

/* Counts for the progress line, the ETA and the final statistics. */
typedef struct coord_progress {
    int64_t done, total;     /* trials finished, and planned by the spec in all */
    int64_t epochs_done, epochs_total;
    int status_shown;        /* the progress line is on stderr (cleared before other output) */
} coord_progress;

typedef struct coord_timing {
    double t0;               /* when the first stage started */
    double trial_seconds;    /* sum of the trials' own wall times */
    double record_seconds;   /* time spent writing the results file */
} coord_timing;

/* Fault injection (tests; see HPSWEEP_FAULT below): raise sig at the n-th event. */
typedef struct coord_fault {
    int event, sig;
    int64_t n, count[4];
} coord_fault;

/* Alone with opts->pack > 1: the lanes, the lock their hooks take around every use of the
 * coordinator (the dispatching thread holds it otherwise), and their cancellation flag. */
typedef struct coord_lanes {
    hp_lanes *set;           /* NULL: no lanes */
    hp_trial_hooks hooks;
    pthread_mutex_t mu;
    int mu_made;
    volatile sig_atomic_t cancel;
} coord_lanes;

/* Pruning of the running stage (coord_prune.c): every trial's validation accuracy at every
 * epoch, and under MPI the verdicts that wait for lower-id trials. */
typedef struct coord_waiting {
    int rank;
    int64_t trial;
    int epoch;
} coord_waiting;
typedef struct coord_prune {
    double *acc;             /* [stage trials][epochs + 1] validation accuracy at an epoch; NaN: not reported */
    int stride;              /* epochs + 1 */
    coord_waiting *wait;     /* [cap] MPI: epochs whose verdict waits */
    int nwait, cap;
    pthread_cond_t cond;     /* lanes: a lane waiting for its verdict sleeps on it (under lanes.mu) */
    int cond_made;
} coord_prune;

/* Promotion (coord_promote.c; docs/search.md, "Promotion"): the final states kept in /checkpoints
 * for a promote stage, and the running promote stage's parents. */
typedef struct coord_promote {
    int64_t *parent;         /* [stage trials] the running stage's parents when it is a promote stage
                                (-1: nothing to promote); NULL otherwise */
    int64_t *kept;           /* [cap] finished trials of the running stage whose final state is kept
                                (the next stage promotes cap = its slot count of them) */
    int nkept, cap;
    hp_resume_ckpt from;     /* a parent's checkpoint read back to start its promoted trial; from.vec
                                [ckpt.floats] */
} coord_promote;

typedef struct coord {
    const hp_spec *spec;
    const hp_splits *data;
    hp_results *res;
    const hp_coord_opts *opts;

    coord_plan plan;
    coord_snapshots snap;
    coord_ckpt ckpt;
    coord_resume resume;
    worker_slot *slots;      /* [nworkers + 1], index = rank */
    coord_progress prog;
    coord_timing timing;
    coord_fault fault;
    coord_lanes lanes;
    coord_prune prune;
    coord_promote promote;

    int stopping;            /* a stop was requested: the signal number, or -1 (a rank said BYE) */
    int no_result;           /* no trial finished with a snapshot: nothing for the test split */
} coord;



/* Fault injection for the resume tests: HPSWEEP_FAULT="EVENT:N:SIGNAL" raises SIGNAL (kill,
 * term, int) in the coordinator right after the N-th EVENT (1-based) was written:
 *   epoch      a curve row and its trial row (before the epoch's checkpoint)
 *   checkpoint a checkpoint (vector and index)
 *   snapshot   a finished trial's snapshot row (before its trial row says it finished)
 *   result     a finished trial's row (before its checkpoint slot is freed)
 * so a test can stop the sweep between any two writes. Unset: no effect. */
enum { HP_FAULT_EPOCH = 0, HP_FAULT_CHECKPOINT, HP_FAULT_SNAPSHOT, HP_FAULT_RESULT, HP_FAULT_NONE };
void hp_coord_fault_setup(coord *c);
void hp_coord_fault(coord *c, int event);


/* coord_dispatch.c: running a planned stage's unfinished trials, and the trainer ranks. */
void hp_coord_describe_self(coord *c);           /* alone: slot 0's READY, for /trials */
int hp_coord_lanes_open(coord *c, hp_err *err);  /* alone with opts->pack > 1: the lanes and the lock */
int hp_coord_run_stage_alone(coord *c, hp_err *err); /* one after another in this thread */
int hp_coord_run_stage_lanes(coord *c, hp_err *err); /* opts->pack at a time */
int hp_coord_collect_ready(coord *c, hp_err *err);   /* MPI: every rank's READY */
int hp_coord_run_stage_mpi(coord *c, hp_err *err);   /* MPI: dynamic dispatch to idle lanes */
/* After a stop: let busy ranks finish their exchange, then STOP all; 1 if within `seconds`. */
int hp_coord_drain_workers(coord *c, double seconds, hp_err *err);
int hp_coord_stop_workers(coord *c, hp_err *err);   /* the sweep is done: STOP to every rank */

/* coord_record.c: a stop was requested (a signal, a rank's BYE); remembered in c->stopping. Here,
 * below both the stage loop (coordinator.c) and dispatch (coord_dispatch.c), which ask it. */
int hp_coord_stop_requested(coord *c);
void hp_coord_clear_status(coord *c);
void hp_coord_show_status(coord *c);
/* The trial runs on `rank`, described by `who` (its READY; alone, rank 0's own): /trials gets
 * the rank, host, gpu and device. */
int hp_coord_start_trial(coord *c, const hp_trial_plan *p, int rank, const hp_msg_ready *who, hp_err *err);
/* Returns the verdict for the trial, or -1. */
int hp_coord_record_epoch(coord *c, int64_t trial, const hp_epoch_metrics *m, hp_err *err);
int hp_coord_record_checkpoint(coord *c, int64_t trial, const hp_train_ckpt *ck, const float *vec, int64_t n,
                               double seconds, hp_err *err);
int hp_coord_record_result(coord *c, int rank, const hp_trial_result *res, const float *snapshot, int64_t n,
                           hp_err *err);

/* coord_promote.c: promotion (docs/search.md, "Promotion"). */
int hp_coord_promote_setup(coord *c, hp_err *err);   /* a spec with a promote stage needs checkpoints */
/* Whether finished trial r's final checkpoint stays in /checkpoints for the promote stage after its
 * own (resume keeps it; hp_coord_promote_begin then drops all but the promoted ones). */
int hp_coord_promote_keeps(const coord *c, const hp_trial_record *r);
/* Planning a promote stage (c->plan.stage planned, c->plan.trials still the stage before's): its
 * trials into *out (allocated) and c->promote.parent; for another stage *out = NULL, parent NULL. */
int hp_coord_promote_plan(coord *c, const hp_stage_plan *prev, hp_trial_plan **out, hp_err *err);
/* A planned stage starts: drop the final states no promotion will use, and (when the next stage
 * promotes) rebuild the kept set from the stage's finished trials. */
int hp_coord_promote_begin(coord *c, hp_err *err);
/* Trial r's result is recorded: free its checkpoint slot, or keep its final state when it is among
 * the best `cap` of the stage so far (freeing the one it displaces); a promoted trial's parent's. */
int hp_coord_promote_after_result(coord *c, const hp_trial_record *r, hp_err *err);
/* The checkpoint trial id starts from: its own (resume), else its parent's final state for a
 * promoted trial, read back from the file; NULL for a fresh start. -1 in *rc on error. */
const hp_resume_ckpt *hp_coord_start_ckpt(coord *c, int64_t id, int *rc, hp_err *err);
void hp_coord_promote_free(coord *c);

/* coord_prune.c: the pruning rule of the running stage (docs/search.md, "Pruning"). */
#define HP_VERDICT_WAIT 3 /* internal: the verdict needs lower-id trials' epochs not reported yet */
int hp_coord_prune_begin(coord *c, hp_err *err);      /* a stage starts: its table, filled from a resumed file */
void hp_coord_prune_note(coord *c, int64_t trial, int epoch, double val_acc); /* an epoch was recorded */
int hp_coord_prune_verdict(const coord *c, int64_t trial, int epoch);          /* CONTINUE, STOP or WAIT */
int hp_coord_prune_defer(coord *c, int rank, int64_t trial, int epoch, hp_err *err); /* MPI: answer later */
/* MPI: send each waiting verdict that can now be given (or, abort, ABORT to all); returns -1 on error. */
int hp_coord_prune_flush(coord *c, int abort, hp_err *err);
void hp_coord_prune_free(coord *c);

#endif
