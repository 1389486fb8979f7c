/* results.h - the hpsweep results file (HDF5, format version 3): schema, writer, reader.
 * (`hpsweep show`, the summary built on the reader, is in show.h.)
 *
 * One file per sweep, written only by the coordinator (serial HDF5), readable by other
 * processes while it is written (SWMR) and afterwards by h5py, pandas and h5dump. Tables hold
 * fixed-size fields only. Every writer call that records an event flushes it.
 *
 *   /                 attributes: format="hpsweep", format_version=2, spec_yaml, spec_sha256,
 *                     created_utc, hpsweep_version, seed, data_hash_{train,val,test}
 *   /trials           compound, extendible; one row per trial (hp_trial_record), updated in place
 *   /curves           compound, extendible; one row per trial and epoch (hp_curve_record)
 *   /stages           compound, extendible; one row per planned stage (hp_stage_record)
 *   /stage_params     compound, extendible; one row per stage and searched parameter
 *                     (hp_stage_param_record): its range or choice set and how it was derived
 *   /model/layout     compound; name, ndim, shape, offset, size, is_buffer of each state tensor
 *   /snapshots/state  float32 [n, state_size], extendible; best-on-validation states;
 *                     /trials.snapshot_row points into it (-1: none kept)
 *   /final            compound, extendible; test-set evaluation of the chosen trial(s)
 *                     (hp_final_record)
 *   /checkpoints/index compound, extendible; one row per slot (hp_checkpoint_record): the
 *                     latest end-of-epoch checkpoint of a running trial, trial -1 = free slot
 *   /checkpoints/state float32 [slots, width], extendible; slot i's vector (model state,
 *                     optimizer state, best snapshot: train.h), where the index row says so
 *   Root attributes added with resume (optional when reading): spec_name, spec_path,
 *   checkpoint_every. Files without /checkpoints (older builds) read and resume fine; their
 *   running trials restart.
 *
 * Versions: 2 added /trials.gpu and /trials.device (the device a trial ran on). 3 added one
 * /trials column per searched parameter other than lr and weight_decay (named as search.params
 * names it: "optimizer.momentum"; a number, or the text of a choice of words), and
 * /stage_params; a version-2 file reads as one with no such columns.
 * /trials.parent (promotion) came without a version change: it is optional in every version
 * (older builds ignore it; a file without it reads parent -1 for every trial, and rows written
 * into such a file keep its layout).
 * Version-1 files are still read (gpu -1, device "" for every trial) and continued: rows
 * written into them keep the version-1 layout (HDF5 writes the members the file has and skips
 * the others), so the file stays version 1; a recovered one (hp_results_recover) is rewritten
 * as version 2, its old rows with gpu -1 and device "".
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
#include "layer_spec.h"

#define HP_FORMAT_NAME "hpsweep"
#define HP_FORMAT_VERSION 3

/* Searched parameters beyond lr and weight_decay: one /trials column each (orchestrator/spec.h's
 * HP_MAX_PARAMS - 2). */
#define HP_MAX_XCOLS 14
#define HP_XTEXT 32 /* bytes of a text column's value, NUL included */
typedef struct hp_param_column {
    char name[64];             /* the column's name: the parameter as search.params names it */
    int32_t text;              /* 1: the column holds text (hp_param_value.text), 0: a number (.num) */
} hp_param_column;

/* A column's short title for tables and logs: the last step of its name ("momentum" for
 * optimizer.momentum), or the whole name where another of the n columns ends the same way
 * (optimizer.type and model.layers.1.type). */
const char *hp_param_column_title(const hp_param_column *cols, int n, int k);

/* One parameter column's value in a /trials row. The columns follow one another in the row, so
 * the file lists them in their order whatever their kinds. */
typedef union hp_param_value {
    double num;
    char text[HP_XTEXT];
} hp_param_value;

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
    double update_ratio;       /* of the last epoch trained (NaN before the first) */
    double seconds;
    int32_t rank;              /* MPI rank that trained it (0 when alone) */
    char host[32];
    int32_t gpu;               /* CUDA device index it trained on, -1 for the CPU (and before it ran,
                                  or in a version-1 file) */
    char device[64];           /* the GPU's name, or "cpu"; "" before it ran, or in a version-1 file */
    int64_t snapshot_row;      /* row in /snapshots/state, -1 if none kept */
    char message[128];         /* why it failed or diverged */
    int64_t parent;            /* a promoted trial (search method promote): the trial it continues, whose
                                  /curves rows precede its own; -1 for every other trial, and in files
                                  written before the column existed (it is optional in every version) */
    /* The file's parameter columns (hp_param_column, in the file's order): column i is
     * xcol[i].num or xcol[i].text as its kind says (a number NaN where a file lacks it). */
    hp_param_value xcol[HP_MAX_XCOLS];
} hp_trial_record;

/* Whether the spec stored in a file (text, len bytes) describes a synthetic sweep
 * (train.synthetic_ms > 0: no model, so no test result by design): 1 yes, 0 no, -1 cannot
 * tell. results/ does not parse specs: the commands that show or report a file pass the
 * orchestrator's (hp_spec_text_synthetic, orchestrator/spec.h). */
typedef int (*hp_spec_synthetic_fn)(const char *text, uint64_t len);

/* The one rule for "the better trial", used wherever trials are ranked: narrowing and widening
 * around the best of a stage (search.c), the best snapshot and the top-N kept (coord_record.c),
 * the trial evaluated on the test split and the one a resume starts from (resume.c), and
 * show's table: the higher best validation accuracy, ties to the lower trial id. Ids follow
 * the planning order, so the choice never depends on which trial finished first, on the ranks,
 * or on an interruption. Callers rank finished trials with finite accuracies. */
static inline int hp_better_score(double acc_a, int64_t id_a, double acc_b, int64_t id_b) {
    if (acc_a != acc_b) return acc_a > acc_b;
    return id_a < id_b;
}
static inline int hp_trial_better(const hp_trial_record *a, const hp_trial_record *b) {
    return hp_better_score(a->best_val_acc, a->id, b->best_val_acc, b->id);
}
/* qsort comparator of hp_trial_record pointers, best first by hp_trial_better. */
static inline int hp_trial_ptr_best_first(const void *a, const void *b) {
    const hp_trial_record *x = *(const hp_trial_record *const *)a, *y = *(const hp_trial_record *const *)b;
    return hp_trial_better(x, y) ? -1 : hp_trial_better(y, x) ? 1 : 0;
}

/* Per-layer update ratios kept per epoch: one scalar column each (layer_update_ratio_00 ..
 * _15), so that /curves stays a flat table for pandas. Column k is the k-th weight tensor
 * (ndim >= 2) of /model/layout; NaN where the model has fewer. Equals train.h's HP_MAX_RATIOS. */
#define HP_CURVE_RATIOS 16

typedef struct hp_curve_record {
    int64_t trial;
    int32_t epoch;
    double lr;
    double train_loss, train_acc;
    double val_loss, val_acc;
    double seconds;
    double update_ratio;       /* ||update|| / ||weights|| of the epoch's last step (the recipe wants ~1e-3) */
    float layer_update_ratio[HP_CURVE_RATIOS]; /* the same per weight tensor (see HP_CURVE_RATIOS) */
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

/* One searched parameter of one stage (/stage_params). */
typedef struct hp_stage_param_record {
    int32_t stage;
    char name[64];             /* as search.params names it ("lr", "optimizer.momentum") */
    char scale[16];            /* "log", "linear", "int", "int_log", "choice" */
    double low, high;          /* the stage's range (a fixed parameter: its value twice; a choice: NaN) */
    char derivation[16];       /* "initial", "narrowed", "widened_low", "widened_high", "kept", "fixed" */
    char choices[528];         /* a choice: the stage's set, comma-separated; else "" */
} hp_stage_param_record;

typedef struct hp_final_record {
    char kind[16];             /* "best" (the best trial's best snapshot; trial: its id), or "ensemble:K" (the
                                  K best trials' snapshots, probabilities averaged: final.ensemble; trial -1) */
    int64_t trial;
    double val_acc;
    double test_loss;
    double test_acc;
} hp_final_record;

/* The latest checkpoint of a running trial (train.h's hp_train_ckpt plus bookkeeping). */
typedef struct hp_checkpoint_record {
    int64_t trial;             /* -1: a free slot */
    int32_t epochs_done;       /* taken after this epoch */
    int32_t best_epoch;
    double best_val_acc, best_val_loss;
    double initial_loss;
    double lr;
    double seconds;            /* the trial's wall time up to the checkpoint */
    int32_t version;           /* the trainer's checkpoint version */
    int32_t has_rng;
    uint64_t rng[2];
    double sched[4];
    int64_t model_floats;      /* the slot's state row holds 2 * model_floats + optim_floats */
    int64_t optim_floats;      /* floats; both 0: no state row (synthetic trials) */
} hp_checkpoint_record;

/* Root metadata written once at creation. Zero-initialise it: fields added later default to
 * "none". */
typedef struct hp_results_meta {
    const char *spec_yaml;     /* the whole spec text */
    uint64_t spec_len;
    char spec_sha256[65];      /* hex */
    uint64_t seed;
    uint64_t data_hash[3];     /* train, val, test */
    char spec_name[64];        /* the spec's resolved name ("" if unknown) */
    char spec_path[1024];      /* the path the spec was read from; resume parses the stored text
                                  under this name, so defaults derived from it match */
    int32_t checkpoint_every;  /* checkpoint interval in epochs the sweep started with (0 = off) */
    int64_t checkpoint_width;  /* floats per /checkpoints/state row; 0: 1 (no vectors) */
    int64_t state_width;       /* floats per snapshot row when more than the layout's (trials whose searched
                                  model.* values make their models larger than the layout's: each row
                                  holds a trial's state first, zeros after); 0: the layout's size */
    int32_t nxcols;            /* /trials' parameter columns (<= HP_MAX_XCOLS) */
    hp_param_column xcols[HP_MAX_XCOLS];
} hp_results_meta;

typedef struct hp_results hp_results;

/* Create a new file (fails if it exists: the caller decides about --force / --resume). The
 * layout fixes the snapshot width, meta->checkpoint_width the checkpoint width (objects cannot
 * be added once SWMR writing started). Starts SWMR writing once every object exists.
 * Atomic and exclusive: the file is built under a name of this process's own and appears at
 * path complete, or not at all; of several processes creating one path at once, exactly one
 * succeeds and the others return HP_RESULTS_EXISTS without touching it. */
#define HP_RESULTS_EXISTS (-2) /* hp_results_create, hp_results_remove: path exists / is being written */
int hp_results_create(const char *path, const hp_results_meta *meta, const hp_tensor_info *layout,
                      int ntensors, hp_results **out, hp_err *err);
/* Append a planned stage and its trials (status pending). A trial's id is its row, so ids
 * must continue from hp_results_ntrials(). Trials are flushed before the stage row, so a
 * reader that sees a stage finds its trials. */
int hp_results_add_stage(hp_results *r, const hp_stage_record *stage, const hp_trial_record *trials,
                         int ntrials, hp_err *err);
/* Append the rows of a stage's searched parameters; call before hp_results_add_stage, so that a
 * reader that sees the stage finds them. A file without /stage_params (version 2, continued)
 * takes none: 0. */
int hp_results_add_stage_params(hp_results *r, const hp_stage_param_record *rows, int n, hp_err *err);
/* The file's parameter columns (/trials), as created or as found when reopened. */
int hp_results_param_columns(const hp_results *r, const hp_param_column **cols);
/* Overwrite trial row `rec->id`. */
int hp_results_update_trial(hp_results *r, const hp_trial_record *rec, hp_err *err);
int hp_results_append_curve(hp_results *r, const hp_curve_record *rec, hp_err *err);
/* Write curve row `row`: an existing row is overwritten, row == the current count appends.
 * Resume rewrites in place the rows of epochs that ran again after the last checkpoint, so
 * each (trial, epoch) has one row (docs/resume.md). */
int hp_results_write_curve(hp_results *r, int64_t row, const hp_curve_record *rec, hp_err *err);
/* Store a running trial's checkpoint: its vector (n floats, n <= the checkpoint width; n 0
 * for none) goes into a free slot other than the trial's current one and is flushed, then
 * that slot's index row, then the old slot is freed. A kill at any point leaves the old
 * checkpoint or the new one valid (readers take the latest epoch of a trial). */
int hp_results_write_checkpoint(hp_results *r, const hp_checkpoint_record *rec, const float *vec,
                                int64_t n, hp_err *err);
/* Free the slot(s) of a trial (when it finished). */
int hp_results_drop_checkpoint(hp_results *r, int64_t trial, hp_err *err);
/* Read back the checkpoint of `trial` (the latest if a kill left two) through the writer: its
 * index row into *rec and its vector (2 * model_floats + optim_floats floats, at most cap) into
 * vec. Returns 1 if found, 0 if the file holds none for it, -1 on error. A promoted trial starts
 * from its parent's final checkpoint this way (docs/search.md, "Promotion"). */
int hp_results_get_checkpoint(hp_results *r, int64_t trial, hp_checkpoint_record *rec, float *vec, int64_t cap,
                              hp_err *err);
/* Floats per checkpoint vector; 0 if the file has no /checkpoints (written by an older build). */
int64_t hp_results_checkpoint_width(const hp_results *r);
/* Append a snapshot row (state_size floats); returns its row index in *row. */
int hp_results_append_snapshot(hp_results *r, const float *state, int64_t *row, hp_err *err);
/* Write a snapshot into row `row`: an existing row is overwritten (used to keep only the top
 * N trials' snapshots), row == the current count appends. */
int hp_results_write_snapshot(hp_results *r, int64_t row, const float *state, hp_err *err);
/* Read back snapshot row `row` ([state_size] floats) through the writer (the final ensemble). */
int hp_results_get_snapshot(hp_results *r, int64_t row, float *state, hp_err *err);
/* Replace /final with these n rows. */
int hp_results_set_final(hp_results *r, const hp_final_record *recs, int n, hp_err *err);
/* Flush and close; frees r. Returns -1 if the final flush failed (the message says so). */
int hp_results_close(hp_results *r, hp_err *err);

/* Remove a results file (run --force), unless a running hpsweep is writing it (then
 * HP_RESULTS_EXISTS). */
int hp_results_remove(const char *path, hp_err *err);

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
/* Open a file to continue it (resume): hp_results_open_append, and when that fails because
 * the file was not closed cleanly (its writer was killed) and no writer holds it,
 * hp_results_recover first (*recovered = 1). Refuses a file another hpsweep is writing
 * (HP_RESULTS_EXISTS, the file untouched); other failures -1. */
int hp_results_open_resume(const char *path, int *recovered, hp_results **out, hp_err *err);
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
/* /stage_params (NULL, 0 in a file without it: version 2 and older). */
int hp_results_read_stage_params(hp_results_reader *r, hp_stage_param_record **rows, int64_t *n, hp_err *err);
/* The file's parameter columns in /trials (owned by the reader); returns the count. */
int hp_results_reader_param_columns(const hp_results_reader *r, const hp_param_column **cols);
/* /model/layout, read and checked at open (owned by the reader); returns the count. */
int hp_results_read_layout(const hp_results_reader *r, const hp_tensor_info **tensors);
int64_t hp_results_reader_state_size(const hp_results_reader *r);
/* Snapshot rows flushed so far (-1 on error). */
int64_t hp_results_read_nsnapshots(hp_results_reader *r, hp_err *err);
/* Read snapshot `row` into state [state_size]. */
int hp_results_read_snapshot(hp_results_reader *r, int64_t row, float *state, hp_err *err);
/* /checkpoints/index, every slot (free ones have trial -1); NULL, 0 if the file has none. */
int hp_results_read_checkpoints(hp_results_reader *r, hp_checkpoint_record **rows, int64_t *n,
                                hp_err *err);
/* The state row of checkpoint slot `slot` into vec [n], n = 2 * model_floats + optim_floats
 * of its index row (checked against the width). */
int hp_results_read_checkpoint_state(hp_results_reader *r, int64_t slot, float *vec, int64_t n,
                                     hp_err *err);
/* Floats per checkpoint row; 0 if the file has no /checkpoints. */
int64_t hp_results_reader_checkpoint_width(const hp_results_reader *r);

#endif
