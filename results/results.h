/* results.h - the hpsweep results file (HDF5, format version 1): schema, writer, reader.
 *
 * One file per sweep, written only by the coordinator (serial HDF5), readable by other
 * processes while it is written (SWMR) and afterwards by h5py, pandas and h5dump. Tables hold
 * fixed-size fields only. Every writer call that records an event flushes it.
 *
 *   /                 attributes: format="hpsweep", format_version=1, spec_yaml, spec_sha256,
 *                     created_utc, hpsweep_version, seed, data_hash_{train,val,test}
 *   /trials           compound, extendible; one row per trial (hp_trial_record), updated in place
 *   /curves           compound, extendible; one row per trial and epoch (hp_curve_record)
 *   /stages           compound, extendible; one row per planned stage (hp_stage_record)
 *   /model/layout     compound; name, ndim, shape, offset, size, is_buffer of each state tensor
 *   /snapshots/state  float32 [n, state_size], extendible; best-on-validation states;
 *                     /trials.snapshot_row points into it (-1: none kept)
 *   /final            compound; test-set evaluation of the chosen trial(s) (hp_final_record)
 *
 * This module knows nothing of MPI.
 */
#ifndef HP_RESULTS_H
#define HP_RESULTS_H

#include <stdint.h>

#include "hp_err.h"
#include "model.h"

#define HP_FORMAT_NAME "hpsweep"
#define HP_FORMAT_VERSION 1

typedef enum hp_trial_status {
    HP_TRIAL_PENDING = 0,
    HP_TRIAL_RUNNING = 1,
    HP_TRIAL_DONE = 2,
    HP_TRIAL_DIVERGED = 3,
    HP_TRIAL_FAILED = 4,
    HP_TRIAL_PRUNED = 5
} hp_trial_status;
const char *hp_trial_status_name(hp_trial_status s);

typedef struct hp_trial_record {
    int64_t id;
    int32_t stage;
    int32_t status;            /* hp_trial_status (an HDF5 enum in the file) */
    double lr;
    double weight_decay;
    uint64_t seed;
    int32_t epochs_planned;
    int32_t epochs_done;
    double best_val_acc;       /* NaN until an epoch finished */
    double best_val_loss;
    int32_t best_epoch;        /* 0 until an epoch finished */
    double initial_loss;
    double seconds;
    int32_t rank;              /* MPI rank that trained it (0 when alone) */
    char host[32];
    int64_t snapshot_row;      /* row in /snapshots/state, -1 if none kept */
    char message[128];         /* why it failed or diverged */
} hp_trial_record;

typedef struct hp_curve_record {
    int64_t trial;
    int32_t epoch;
    double lr;
    double train_loss, train_acc;
    double val_loss, val_acc;
    double seconds;
} hp_curve_record;

typedef struct hp_stage_record {
    int32_t stage;
    char method[16];           /* "random", "grid" */
    int32_t trials;
    int32_t epochs;
    int64_t first_trial;
    double lr_low, lr_high;
    char lr_derivation[16];    /* "initial", "narrowed", "widened_low", ... */
    double wd_low, wd_high;
    char wd_derivation[16];
} hp_stage_record;

typedef struct hp_final_record {
    char kind[16];             /* "best" (the best trial's best snapshot), later "ensemble" */
    int64_t trial;
    double val_acc;
    double test_loss;
    double test_acc;
} hp_final_record;

/* Root metadata written once at creation. */
typedef struct hp_results_meta {
    const char *spec_yaml;     /* the whole spec text */
    uint64_t spec_len;
    char spec_sha256[65];      /* hex */
    uint64_t seed;
    uint64_t data_hash[3];     /* train, val, test */
} hp_results_meta;

typedef struct hp_results hp_results;

/* Create a new file (fails if it exists: the caller decides about --force / --resume). The
 * layout fixes the snapshot width. Starts SWMR writing once every object exists. */
int hp_results_create(const char *path, const hp_results_meta *meta, const hp_tensor_info *layout,
                      int ntensors, hp_results **out, hp_err *err);
/* Append a planned stage and its trials (status pending). */
int hp_results_add_stage(hp_results *r, const hp_stage_record *stage, const hp_trial_record *trials,
                         int ntrials, hp_err *err);
/* Overwrite trial row `rec->id`. */
int hp_results_update_trial(hp_results *r, const hp_trial_record *rec, hp_err *err);
int hp_results_append_curve(hp_results *r, const hp_curve_record *rec, hp_err *err);
/* Append a snapshot row (state_size floats); returns its row index in *row. */
int hp_results_append_snapshot(hp_results *r, const float *state, int64_t *row, hp_err *err);
int hp_results_set_final(hp_results *r, const hp_final_record *recs, int n, hp_err *err);
/* Flush and close; frees r. Returns -1 if the final flush failed (the message says so). */
int hp_results_close(hp_results *r, hp_err *err);

#endif
