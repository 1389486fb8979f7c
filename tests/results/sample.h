/* sample.h - a small results file with known contents, shared by the results tests.
 *
 * Two stages, 7 trials taken through their lifecycle (pending -> running -> done, diverged,
 * failed, pruned) on a GPU and on the CPU, curves, four snapshots and a final row. The expected records are returned
 * so a test can compare what it reads back, field by field.
 */
#ifndef HP_TEST_RESULTS_SAMPLE_H
#define HP_TEST_RESULTS_SAMPLE_H

#include "results.h"

#define SAMPLE_NTENSORS 3
#define SAMPLE_STATE 20
#define SAMPLE_NSTAGES 2
#define SAMPLE_NTRIALS 7
#define SAMPLE_MAXCURVES 32
#define SAMPLE_MAXSNAP 8
/* Trials of rank 1 ran on GPU 0 of this name, those of rank 2 on the CPU. */
#define SAMPLE_GPU_NAME "NVIDIA H100 80GB HBM3"

typedef struct sample_expect {
    const char *spec;
    hp_results_meta meta;
    hp_tensor_info layout[SAMPLE_NTENSORS];
    hp_stage_record stages[SAMPLE_NSTAGES];
    hp_trial_record trials[SAMPLE_NTRIALS];
    hp_curve_record curves[SAMPLE_MAXCURVES];
    int ncurves;
    float snap[SAMPLE_MAXSNAP][SAMPLE_STATE];
    int nsnap;
    hp_final_record final;
} sample_expect;

/* Write the sample to `path` (removing an old file first); fills *ex. */
int sample_write(const char *path, sample_expect *ex, hp_err *err);

/* Copy the file `from` to `to` byte for byte (to make a variant of the sample); 0 or -1. */
int sample_copy_file(const char *from, const char *to);

#endif
