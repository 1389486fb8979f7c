/* results.h - the hpsweep results file (HDF5, format version 1): schema, writer, reader.
 * (`hpsweep show`, the summary built on the reader, is in show.h.)
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
 *   /final            compound, extendible; test-set evaluation of the chosen trial(s)
 *                     (hp_final_record)
 *
 * Strings are fixed-length and NUL-terminated within their field (the writer cuts longer ones;
 * h5py reads them as bytes); the status field is an HDF5 enum, so h5dump and h5py show names.
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
/* Append a planned stage and its trials (status pending). A trial's id is its row, so ids
 * must continue from hp_results_ntrials(). Trials are flushed before the stage row, so a
 * reader that sees a stage finds its trials. */
int hp_results_add_stage(hp_results *r, const hp_stage_record *stage, const hp_trial_record *trials,
                         int ntrials, hp_err *err);
/* Overwrite trial row `rec->id`. */
int hp_results_update_trial(hp_results *r, const hp_trial_record *rec, hp_err *err);
int hp_results_append_curve(hp_results *r, const hp_curve_record *rec, hp_err *err);
/* Append a snapshot row (state_size floats); returns its row index in *row. */
int hp_results_append_snapshot(hp_results *r, const float *state, int64_t *row, hp_err *err);
/* Write a snapshot into row `row`: an existing row is overwritten (used to keep only the top
 * N trials' snapshots), row == the current count appends. */
int hp_results_write_snapshot(hp_results *r, int64_t row, const float *state, hp_err *err);
/* Replace /final with these n rows. */
int hp_results_set_final(hp_results *r, const hp_final_record *recs, int n, hp_err *err);
/* Flush and close; frees r. Returns -1 if the final flush failed (the message says so). */
int hp_results_close(hp_results *r, hp_err *err);

/* Reopen a file that hpsweep closed cleanly, to add to it (resume): checks its format and
 * version and every table, then continues SWMR writing where the file ends. Rows keep their
 * indices; new trials continue after the last row. A file whose writer was killed still has
 * its "being written" flag set: the error says so; hp_results_recover() (below) or
 * `h5clear -s --increment=0 FILE` clears it.
 * Close any reader of the same file in this process first (HDF5 opens a file once per
 * process). */
int hp_results_open_append(const char *path, hp_results **out, hp_err *err);
/* Make a file whose writer was killed (kill -9, a crash, a node failure) appendable again:
 * reads every flushed row (SWMR read) and rewrites them into PATH.recovering, which then
 * replaces PATH atomically (rename). Rows, indices, the spec and created_utc are kept;
 * hpsweep_version becomes this build's. Needs room for a second copy while it runs. Uses
 * only public HDF5 calls (an alternative to `h5clear -s --increment=0`). */
int hp_results_recover(const char *path, hp_err *err);
/* Rows so far in /trials, /curves, /stages, /snapshots/state; floats per snapshot row. */
int64_t hp_results_ntrials(const hp_results *r);
int64_t hp_results_ncurves(const hp_results *r);
int64_t hp_results_nstages(const hp_results *r);
int64_t hp_results_nsnapshots(const hp_results *r);
int64_t hp_results_state_size(const hp_results *r);

/* ------------------------------------------------------------------------------------------ */
/* Reader. Opens with SWMR read, so it works while a sweep writes the file (and after a writer
 * was killed); each read refreshes the dataset and sees every row flushed so far. Checks the
 * format and version, then the rank, type and fields of every dataset it reads, with messages
 * that name the file and the dataset. */
typedef struct hp_results_reader hp_results_reader;

/* Root attributes as read. meta.spec_yaml is NUL-terminated and owned by the reader. */
typedef struct hp_results_header {
    int format_version;
    hp_results_meta meta;
    char created_utc[32];      /* "YYYY-MM-DDTHH:MM:SSZ" */
    char hpsweep_version[32];
} hp_results_header;

int hp_results_open_read(const char *path, hp_results_reader **out, hp_err *err);
void hp_results_close_read(hp_results_reader *r);
const hp_results_header *hp_results_reader_header(const hp_results_reader *r);
const char *hp_results_reader_path(const hp_results_reader *r);
/* Whole tables as new arrays (free() them; NULL with *n = 0 when empty). */
int hp_results_read_trials(hp_results_reader *r, hp_trial_record **rows, int64_t *n, hp_err *err);
int hp_results_read_curves(hp_results_reader *r, hp_curve_record **rows, int64_t *n, hp_err *err);
int hp_results_read_stages(hp_results_reader *r, hp_stage_record **rows, int64_t *n, hp_err *err);
int hp_results_read_final(hp_results_reader *r, hp_final_record **rows, int64_t *n, hp_err *err);
/* /model/layout, read and checked at open (owned by the reader); returns the count. */
int hp_results_read_layout(const hp_results_reader *r, const hp_tensor_info **tensors);
int64_t hp_results_reader_state_size(const hp_results_reader *r);
/* Snapshot rows flushed so far (-1 on error). */
int64_t hp_results_read_nsnapshots(hp_results_reader *r, hp_err *err);
/* Read snapshot `row` into state [state_size]. */
int hp_results_read_snapshot(hp_results_reader *r, int64_t row, float *state, hp_err *err);

#endif
