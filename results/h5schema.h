/* h5schema.h - internal to results/: the HDF5 types of the results file (format version 2),
 * checked HDF5 helpers shared by the writer and the reader, and error capture.
 *
 * The memory types describe the C structs of results.h (with their padding); the file
 * types are the same types packed (H5Tpack), so the file holds no padding bytes and h5py
 * shows one column per struct field, named like the field.
 */
#ifndef HP_H5SCHEMA_H
#define HP_H5SCHEMA_H

#include <hdf5.h>
#include <stdint.h>

#include "hp_err.h"
#include "results.h"

/* Object names in the file. */
#define HP_DS_TRIALS "/trials"
#define HP_DS_CURVES "/curves"
#define HP_DS_STAGES "/stages"
#define HP_DS_STAGE_PARAMS "/stage_params"
#define HP_DS_LAYOUT "/model/layout"
#define HP_DS_SNAP "/snapshots/state"
#define HP_DS_FINAL "/final"
#define HP_GROUP_CKPT "/checkpoints"
#define HP_DS_CKPT_INDEX "/checkpoints/index"
#define HP_DS_CKPT_STATE "/checkpoints/state"

/* Rows per chunk of each extendible table (a chunk is the unit HDF5 writes and flushes). */
#define HP_CHUNK_TRIALS 64
#define HP_CHUNK_CURVES 256
#define HP_CHUNK_STAGES 8
#define HP_CHUNK_FINAL 4
#define HP_CHUNK_CKPT 16

/* Largest snapshot row: HDF5 chunks are limited to 4 GiB, and a snapshot row is one chunk. */
#define HP_MAX_STATE_SIZE ((int64_t)1 << 30)

typedef struct hp_h5_types {
    hid_t status; /* enum of hp_trial_status, base int32 */
    hid_t trial;  /* hp_trial_record */
    hid_t curve;  /* hp_curve_record */
    hid_t stage;  /* hp_stage_record */
    hid_t sparam; /* hp_stage_param_record */
    hid_t final;  /* hp_final_record */
    hid_t layout; /* hp_tensor_info */
    hid_t ckpt;   /* hp_checkpoint_record */
} hp_h5_types;

/* Build every memory type. On failure all are closed and err says why. */
int hp_h5_types_create(hp_h5_types *t, hp_err *err);
/* Add a file's parameter columns to t->trial: column i is member cols[i].name at
 * hp_trial_record.xcol[i] (.num, a double, or .text, a string). */
int hp_h5_trial_add_columns(hp_h5_types *t, const hp_param_column *cols, int n, const char *path, hp_err *err);
/* Both on an open file: the columns of its /trials (hp_h5_trial_find_columns), added to t->trial
 * (hp_h5_trial_add_columns). Returns the count, or -1. */
int hp_h5_trial_columns(hp_h5_types *t, hid_t file, hp_param_column cols[HP_MAX_XCOLS], const char *path, hp_err *err);
/* Read the first n floats of row `row` of a 2-D float dataset (`name` for messages). 0 or -1. */
int hp_h5_read_row(hid_t ds, int64_t row, float *vec, int64_t n, const char *path, const char *name, hp_err *err);
/* The parameter columns of a /trials dataset: its members that t->trial (without columns) lacks,
 * in the file's order; a string member is a text column. Returns the count, or -1. */
int hp_h5_trial_find_columns(const hp_h5_types *t, hid_t ds, hp_param_column cols[HP_MAX_XCOLS], const char *path,
                             hp_err *err);
void hp_h5_types_close(hp_h5_types *t);

/* Replace HDF5's automatic error printing by a handler that only remembers why the last
 * failing call failed (we report errors ourselves). Idempotent. The first call also turns off
 * HDF5's exit-time cleanup (H5dont_atexit): call it before any other HDF5 function. */
void hp_h5_quiet(void);
/* Forget an expected failure (clears the stack and the remembered reason). */
void hp_h5_clear(void);

/* A file access property list: latest file format (needed for SWMR) when `latest`, and
 * best-effort file locking, so file systems without flock() support (some cluster file
 * systems) still work, as HDF5_USE_FILE_LOCKING=BEST_EFFORT would. -1 on failure. */
hid_t hp_h5_fapl(int latest);
/* Whether a live process holds path's writer lock (file.c, hp_results_lock); 1 also where
 * locks are not supported. */
int hp_results_writer_alive(const char *path);
/* File access for SWMR reading path, with HDF5's metadata retries bounded: 1 attempt when no
 * writer is alive (a damaged file fails at once), HP_SWMR_READ_ATTEMPTS_LIVE when one is. */
#define HP_SWMR_READ_ATTEMPTS_LIVE 12
hid_t hp_results_read_fapl(const char *path);

/* Fill err with "results file PATH: WHAT: REASON", REASON taken from the HDF5 error stack
 * (the system's message where the stack has one, e.g. "No space left on device"), then clear
 * the stack. Returns -1. */
int hp_h5_fail(hp_err *err, const char *path, const char *what);
/* Why the last HDF5 call failed (or "unknown HDF5 error"); then forgets it. */
void hp_h5_reason(char *buf, size_t n);

/* Root attributes. */
int hp_h5_attr_write_str(hid_t obj, const char *name, const char *s, size_t len, const char *path,
                         hp_err *err);
int hp_h5_attr_write_u64(hid_t obj, const char *name, uint64_t v, const char *path, hp_err *err);
int hp_h5_attr_write_i32(hid_t obj, const char *name, int32_t v, const char *path, hp_err *err);
/* Read a string attribute (fixed- or variable-length) into a new NUL-terminated buffer.
 * Returns 1 if found, 0 if the attribute does not exist, -1 on error. */
int hp_h5_attr_read_str(hid_t obj, const char *name, char **out, size_t *len, const char *path,
                        hp_err *err);
/* Read an integer attribute (any integer class). Returns 1 / 0 (absent) / -1 like above. */
int hp_h5_attr_read_i64(hid_t obj, const char *name, int64_t *out, const char *path, hp_err *err);
int hp_h5_attr_read_u64(hid_t obj, const char *name, uint64_t *out, const char *path, hp_err *err);

/* Check that `format` is "hpsweep" and `format_version` is one this build reads; puts the
 * version in *version. Messages say what the file is instead. */
int hp_h5_check_format(hid_t file, const char *path, int *version, hp_err *err);

/* Open dataset `name` and check it: rank `rank`, every member of the compound memory type
 * `mtype` present in the file with the same type class (mtype < 0: skip the type check).
 * Returns the dataset id or -1. */
hid_t hp_h5_open_table(hid_t file, const char *name, hid_t mtype, int rank, const char *path,
                       hp_err *err);
/* The same, except that the members named in `optional` (NULL-terminated; NULL: none) may be
 * absent from the file. HDF5 converts compound rows member by member, by name, so with such a
 * table (measured with HDF5 1.10.8): H5Dread leaves a member the file lacks exactly as it was
 * in the caller's buffer (so fill the buffer with the defaults first), and H5Dwrite writes the
 * members the file has and ignores the others (the file's type never changes). */
hid_t hp_h5_open_table_opt(hid_t file, const char *name, hid_t mtype, int rank,
                           const char *const *optional, const char *path, hp_err *err);
/* Members of /trials that a file of format `version` may lack, because a later version added
 * them (NULL-terminated): gpu and device before 2; parent in every version (results.h). */
const char *const *hp_h5_trial_optional(int version);
/* Number of rows (dimension 0) of a dataset; -1 on error. */
int64_t hp_h5_rows(hid_t ds, const char *name, const char *path, hp_err *err);

#endif
