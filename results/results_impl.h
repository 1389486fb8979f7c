/* results_impl.h - internal to results/: the writer's state, shared by file.c (the writer's
 * lock, table primitives), results.c (tables, create, reopen), checkpoints.c (/checkpoints)
 * and recover.c (recovery, opening to resume, removing). Uses: results.c -> checkpoints.c ->
 * file.c, reader.c -> file.c; nothing points back up. */
#ifndef HP_RESULTS_IMPL_H
#define HP_RESULTS_IMPL_H

#include <hdf5.h>
#include <stdint.h>

#include "h5schema.h"
#include "results.h"

enum { DS_TRIALS, DS_CURVES, DS_STAGES, DS_LAYOUT, DS_SNAP, DS_FINAL, DS_COUNT };

struct hp_results {
    char *path;
    hid_t file;
    hid_t ds[DS_COUNT];
    hp_h5_types t;
    int64_t rows[DS_COUNT]; /* rows written so far (layout: its fixed size) */
    int64_t state_size;     /* floats per snapshot row */
    hid_t dxpl;             /* transfers through tconv/bkg below */
    void *tconv, *bkg;      /* HDF5's type-conversion buffers, allocated once (see xfer_init) */
    /* /checkpoints (absent in files written before it existed: ck_index < 0, none kept) */
    hid_t ck_index, ck_state;
    int64_t ck_width;            /* floats per /checkpoints/state row */
    hp_checkpoint_record *ck;    /* [nck] the index as written (slot = row) */
    int64_t nck, ck_cap;
    int64_t ck_state_rows;       /* rows of /checkpoints/state (>= slots that ever held a vector) */
    int lock_fd;                 /* the writer's lock on the file (hp_results_lock), -1: none */
    hid_t sp_ds;                 /* /stage_params, -1 in a file without it (version 2 and older) */
    int64_t sp_rows;
    int nxcols;                  /* /trials' parameter columns (t.trial has them) */
    hp_param_column xcols[HP_MAX_XCOLS];
    int failed;                  /* a write failed: the file was detached (hp_results_io_failed) */
};

/* A write failed (disk full, file size limit, I/O error). HDF5 would still flush its metadata
 * later (at close, or at exit), describing space that was never written, and the file would
 * no longer open ("truncated file"). So the file is detached instead: HDF5's descriptor is
 * pointed at /dev/null, and the file on disk stays exactly as the last successful flush left
 * it, like after a kill -9 (readable; `hpsweep resume` recovers it once there is room).
 * Later writes are refused. Appends why to err (which holds the failure already). */
void hp_results_io_failed(hp_results *r, hp_err *err); /* file.c */
/* -1 with a message if an earlier write failed, else 0. */
int hp_results_check_usable(const hp_results *r, hp_err *err);

/* Create a file (results.c): hp_results_create, with created_utc kept from a recovered file
 * (NULL: now). */
int hp_results_create_file(const char *path, const hp_results_meta *meta, const char *created_utc,
                           const hp_tensor_info *layout, int ntensors, hp_results **out, hp_err *err);

/* Write rows [start, start+n) of a 1-D table dataset `ds` of `*rows` rows, growing it as
 * needed, then flush it (file.c). */
int hp_results_write_table(hp_results *r, hid_t ds, int64_t *rows, hid_t mtype, int64_t start, int64_t n,
                           const void *buf, const char *what, hp_err *err);

/* Create a 1-D table `name` of compound type mtype (packed in the file) with `rows` rows;
 * chunked by `chunk` rows and unlimited when `extendible`. Returns the dataset or -1. */
hid_t hp_results_create_table(hp_results *r, const char *name, hid_t mtype, hsize_t rows, hsize_t chunk,
                              int extendible, hp_err *err);

/* checkpoints.c: create /checkpoints (at file creation), open it (reopening), close it. */
int hp_results_ckpt_create(hp_results *r, int64_t width, hp_err *err);
int hp_results_ckpt_open(hp_results *r, hp_err *err);
int hp_results_ckpt_release(hp_results *r, hp_err *err);
/* Copy the valid checkpoints a reader sees into the writer w (recovery). */
int hp_results_ckpt_copy(hp_results_reader *rd, hp_results *w, hp_err *err);

/* file.c. The writer's lock: an open-file-description lock (fcntl F_OFD_SETLK) on one byte far past
 * the end of the file, held while a writer has the file open. HDF5 locks with flock(), which
 * is independent of fcntl locks on Linux, and SWMR readers take no fcntl lock, so this only
 * stops a second writer (a resume or recovery while a sweep still writes the file). */
int hp_results_lock(const char *path, int *fd, hp_err *err);
void hp_results_unlock(int fd);


#endif
