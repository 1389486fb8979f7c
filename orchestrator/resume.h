/* resume.h - what a results file says about an unfinished sweep, to continue it.
 *
 * The rules (docs/resume.md):
 * - Finished trials (done, diverged, failed, pruned) are kept as they are.
 * - Running trials continue from their latest checkpoint (/checkpoints), or start again from
 *   the beginning when they have none; either way they end as they would have.
 * - Pending trials run as planned: their stage's plan is derived again (search.h: from the spec,
 *   the seed and the finished results of the stage before) and must match the rows in the file.
 * - Stages not yet in the file are planned when reached, exactly as in an uninterrupted run.
 * - Curves: an epoch that runs again after resume (it ran after the trial's last checkpoint)
 *   rewrites its (trial, epoch) row in place, so each pair has one row, equal to an
 *   uninterrupted run's (seconds aside).
 * Only the coordinator (rank 0) reads the file.
 */
#ifndef HP_RESUME_H
#define HP_RESUME_H

#include <stdint.h>

#include "hp_err.h"
#include "results.h"

typedef struct hp_resume_ckpt {
    hp_checkpoint_record rec; /* rec.trial < 0: none */
    float *vec;               /* [n], NULL when n == 0 */
    int64_t n;
} hp_resume_ckpt;

typedef struct hp_resume {
    hp_results_meta meta;     /* root attributes; meta.spec_yaml points to spec_text */
    char *spec_text;          /* owned, NUL-terminated */
    hp_trial_record *trials;  /* [ntrials] the trials of the stages in the file */
    int64_t ntrials;
    int64_t trial_rows;       /* rows in /trials (more than ntrials after a kill mid-planning) */
    hp_stage_record *stages;  /* [nstages] */
    int64_t nstages;
    hp_curve_record *curves;  /* [ncurves] in file order (row index = position); a row with epoch
                                 < 1 was never written (a kill after the table grew): reused */
    int64_t ncurves;
    int64_t nfinal;           /* rows in /final */
    int64_t nsnapshots;
    int64_t *snapshot_owner;  /* [nsnapshots] the trial whose snapshot_row names the row; -1: none */
    hp_resume_ckpt *ckpt;     /* [ntrials] latest checkpoint of each unfinished trial */
    int64_t nckpt;            /* unfinished trials with a checkpoint */
    int64_t best_trial;       /* the best finished trial (hp_trial_better), -1: none */
    float *best_state;        /* [state_size] its snapshot */
    int64_t state_size;
} hp_resume;

/* Read everything resume needs from `path` (SWMR read: works on a file whose writer was
 * killed). Fails with a message naming the file when it is not an hpsweep results file, is
 * damaged, or is inconsistent. */
int hp_resume_load(const char *path, hp_resume *out, hp_err *err);
void hp_resume_free(hp_resume *r);

/* 1 if the status is final (done, diverged, failed, pruned). */
int hp_trial_finished(int32_t status);

#endif
