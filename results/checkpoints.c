/* checkpoints.c - /checkpoints of the results file (the latest checkpoint of each running
 * trial: create, open, write, drop, copy on recovery); see results.h. Opening a file to resume
 * it and recovering a killed writer's file live in recover.c; the writer's lock and the table
 * primitives it writes with, in file.c.
 *
 * Crash safety of a checkpoint write (kill -9 at any instruction): the new vector goes into a
 * slot that holds nothing valid, and is flushed before the index row that points at it; the
 * trial's previous slot is freed only after that. So the index always names complete vectors;
 * if a kill leaves two slots for one trial, the one with more epochs done is the latest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5schema.h"
#include "hp_checked.h"
#include "results.h"
#include "results_impl.h"

/* ---- create, open, close ------------------------------------------------------------------- */

int hp_results_ckpt_create(hp_results *r, int64_t width, hp_err *err) {
    if (width <= 0) width = 1; /* HDF5 needs a non-empty chunk; no vectors are stored then */
    if (width > HP_MAX_STATE_SIZE)
        return hp_errf(err, "results file %s: checkpoint width %lld floats is above the limit %lld (a row is one "
                            "HDF5 chunk, at most 4 GiB); run with --checkpoint-every 0",
                       r->path, (long long)width, (long long)HP_MAX_STATE_SIZE);
    hid_t g = H5Gcreate2(r->file, HP_GROUP_CKPT, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0 || H5Gclose(g) < 0) return hp_h5_fail(err, r->path, "creating group " HP_GROUP_CKPT);
    r->ck_index = hp_results_create_table(r, HP_DS_CKPT_INDEX, r->t.ckpt, 0, HP_CHUNK_CKPT, 1, err);
    if (r->ck_index < 0) return -1;
    hsize_t dims[2] = {0, (hsize_t)width}, maxd[2] = {H5S_UNLIMITED, (hsize_t)width};
    hsize_t chunk[2] = {1, (hsize_t)width};
    hid_t space = H5Screate_simple(2, dims, maxd), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 2, chunk) >= 0)
        r->ck_state = H5Dcreate2(r->file, HP_DS_CKPT_STATE, H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (space >= 0) H5Sclose(space);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (r->ck_state < 0) return hp_h5_fail(err, r->path, "creating dataset " HP_DS_CKPT_STATE);
    r->ck_width = width;
    return 0;
}

static int grow_index(hp_results *r, int64_t need, hp_err *err) {
    if (need <= r->ck_cap) return 0;
    int64_t cap = r->ck_cap ? 2 * r->ck_cap : 16;
    while (cap < need) cap *= 2;
    hp_checkpoint_record *p = realloc(r->ck, (size_t)cap * sizeof *p);
    if (!p) return hp_errf(err, "out of memory for %lld checkpoint slots", (long long)cap);
    r->ck = p;
    r->ck_cap = cap;
    return 0;
}

int hp_results_ckpt_open(hp_results *r, hp_err *err) {
    htri_t ex = H5Lexists(r->file, HP_GROUP_CKPT, H5P_DEFAULT);
    if (ex < 0) return hp_h5_fail(err, r->path, "looking up " HP_GROUP_CKPT);
    if (ex == 0) return 0; /* an older file: no checkpoints */
    r->ck_index = hp_h5_open_table(r->file, HP_DS_CKPT_INDEX, r->t.ckpt, 1, r->path, err);
    if (r->ck_index < 0) return -1;
    r->ck_state = hp_h5_open_table(r->file, HP_DS_CKPT_STATE, -1, 2, r->path, err);
    if (r->ck_state < 0) return -1;
    hid_t space = H5Dget_space(r->ck_state);
    hsize_t dims[2] = {0, 0};
    int ok = space >= 0 && H5Sget_simple_extent_dims(space, dims, NULL) >= 0;
    if (space >= 0) H5Sclose(space);
    if (!ok) return hp_h5_fail(err, r->path, "reading the shape of " HP_DS_CKPT_STATE);
    r->ck_width = (int64_t)dims[1];
    r->ck_state_rows = (int64_t)dims[0];
    int64_t n = hp_h5_rows(r->ck_index, HP_DS_CKPT_INDEX, r->path, err);
    if (n < 0 || grow_index(r, n, err) < 0) return -1;
    r->nck = n;
    if (n > 0 && H5Dread(r->ck_index, r->t.ckpt, H5S_ALL, H5S_ALL, r->dxpl, r->ck) < 0)
        return hp_h5_fail(err, r->path, "reading " HP_DS_CKPT_INDEX);
    return 0;
}

int hp_results_ckpt_release(hp_results *r, hp_err *err) {
    int rc = 0;
    if (r->ck_index >= 0 && H5Dclose(r->ck_index) < 0) rc = hp_h5_fail(err, r->path, "closing " HP_DS_CKPT_INDEX);
    if (r->ck_state >= 0 && H5Dclose(r->ck_state) < 0 && rc == 0)
        rc = hp_h5_fail(err, r->path, "closing " HP_DS_CKPT_STATE);
    r->ck_index = r->ck_state = -1;
    return rc;
}

int64_t hp_results_checkpoint_width(const hp_results *r) { return r->ck_index >= 0 ? r->ck_width : 0; }

/* ---- writing ------------------------------------------------------------------------------- */

static int write_slot(hp_results *r, int64_t slot, const hp_checkpoint_record *rec, hp_err *err) {
    if (grow_index(r, slot + 1, err) < 0) return -1;
    r->ck[slot] = *rec;
    int64_t rows = r->nck;
    int rc = hp_results_write_table(r, r->ck_index, &rows, r->t.ckpt, slot, 1, &r->ck[slot],
                                    "writing a row of " HP_DS_CKPT_INDEX, err);
    r->nck = rows;
    return rc;
}

static int write_vector(hp_results *r, int64_t slot, const float *vec, int64_t n, hp_err *err) {
    hsize_t rows = (hsize_t)(slot + 1 > r->ck_state_rows ? slot + 1 : r->ck_state_rows);
    hsize_t dims[2] = {rows, (hsize_t)r->ck_width};
    hsize_t off[2] = {(hsize_t)slot, 0}, cnt[2] = {1, (hsize_t)n};
    hid_t fspace = -1, mspace = -1;
    int ok = H5Dset_extent(r->ck_state, dims) >= 0 && (fspace = H5Dget_space(r->ck_state)) >= 0 &&
             H5Sselect_hyperslab(fspace, H5S_SELECT_SET, off, NULL, cnt, NULL) >= 0 &&
             (mspace = H5Screate_simple(2, cnt, NULL)) >= 0 &&
             H5Dwrite(r->ck_state, H5T_NATIVE_FLOAT, mspace, fspace, H5P_DEFAULT, vec) >= 0 &&
             H5Dflush(r->ck_state) >= 0;
    if (fspace >= 0) H5Sclose(fspace);
    if (mspace >= 0) H5Sclose(mspace);
    if (!ok) {
        hp_h5_fail(err, r->path, "writing a row of " HP_DS_CKPT_STATE);
        hp_results_io_failed(r, err);
        return -1;
    }
    r->ck_state_rows = (int64_t)rows;
    return 0;
}

int hp_results_write_checkpoint(hp_results *r, const hp_checkpoint_record *rec, const float *vec, int64_t n,
                                hp_err *err) {
    if (hp_results_check_usable(r, err) < 0) return -1;
    if (r->ck_index < 0)
        return hp_errf(err, "results file %s has no /checkpoints (written by an older hpsweep); its trials cannot "
                            "be checkpointed",
                       r->path);
    if (rec->trial < 0 || rec->trial >= r->rows[DS_TRIALS])
        return hp_errf(err, "results file %s: checkpoint of unknown trial %lld", r->path, (long long)rec->trial);
    int64_t want = -1;
    if (hp_checked_muladd(rec->model_floats, 2, rec->optim_floats, &want) != 0) want = -1;
    if (n < 0 || n > r->ck_width || n != want || (n > 0 && !vec))
        return hp_errf(err, "results file %s: checkpoint of trial %lld has %lld floats (model %lld, optimizer %lld); "
                            "the file's checkpoint rows hold %lld",
                       r->path, (long long)rec->trial, (long long)n, (long long)rec->model_floats,
                       (long long)rec->optim_floats, (long long)r->ck_width);
    int64_t slot = -1;
    for (int64_t i = 0; i < r->nck && slot < 0; i++)
        if (r->ck[i].trial < 0) slot = i;
    if (slot < 0) slot = r->nck;
    if (n > 0 && write_vector(r, slot, vec, n, err) < 0) return -1;
    if (write_slot(r, slot, rec, err) < 0) return -1;
    /* Only now is the new checkpoint complete: free the trial's older slot(s). */
    for (int64_t i = 0; i < r->nck; i++)
        if (i != slot && r->ck[i].trial == rec->trial) {
            hp_checkpoint_record free_slot;
            memset(&free_slot, 0, sizeof free_slot);
            free_slot.trial = -1;
            if (write_slot(r, i, &free_slot, err) < 0) return -1;
        }
    return 0;
}

int hp_results_drop_checkpoint(hp_results *r, int64_t trial, hp_err *err) {
    for (int64_t i = 0; i < r->nck; i++)
        if (r->ck[i].trial == trial) {
            hp_checkpoint_record free_slot;
            memset(&free_slot, 0, sizeof free_slot);
            free_slot.trial = -1;
            if (write_slot(r, i, &free_slot, err) < 0) return -1;
        }
    return 0;
}

int hp_results_get_checkpoint(hp_results *r, int64_t trial, hp_checkpoint_record *rec, float *vec, int64_t cap,
                              hp_err *err) {
    if (hp_results_check_usable(r, err) < 0) return -1;
    if (r->ck_index < 0) return 0;
    int64_t slot = -1; /* a kill mid-write can leave two slots for a trial: the later one counts */
    for (int64_t i = 0; i < r->nck; i++)
        if (r->ck[i].trial == trial && (slot < 0 || r->ck[i].epochs_done > r->ck[slot].epochs_done)) slot = i;
    if (slot < 0) return 0;
    *rec = r->ck[slot];
    int64_t n = -1;
    if (hp_checked_muladd(rec->model_floats, 2, rec->optim_floats, &n) != 0 || n < 0 || n > cap || n > r->ck_width ||
        (n > 0 && slot >= r->ck_state_rows))
        return hp_errf(err, "results file %s: checkpoint slot %lld of trial %lld holds %lld model and %lld optimizer "
                            "floats, which do not fit its row (%lld floats) or this model (%lld); damaged file?",
                       r->path, (long long)slot, (long long)trial, (long long)rec->model_floats,
                       (long long)rec->optim_floats, (long long)r->ck_width, (long long)cap);
    if (n == 0) return 1;
    return hp_h5_read_row(r->ck_state, slot, vec, n, r->path, HP_DS_CKPT_STATE, err) == 0 ? 1 : -1;
}

/* ---- recovery ------------------------------------------------------------------------------ */

int hp_results_ckpt_copy(hp_results_reader *rd, hp_results *w, hp_err *err) {
    hp_checkpoint_record *ck = NULL;
    int64_t n = 0;
    if (hp_results_read_checkpoints(rd, &ck, &n, err) < 0) return -1;
    float *vec = NULL;
    int rc = 0;
    if (n > 0 && w->ck_width > 0)
        vec = hp_calloc((size_t)w->ck_width, sizeof *vec, "a checkpoint row", err);
    if (n > 0 && !vec) rc = -1;
    for (int64_t i = 0; rc == 0 && i < n; i++) {
        if (ck[i].trial < 0) continue;
        int latest = 1; /* a kill mid-write can leave two slots for a trial: copy the later one */
        for (int64_t j = 0; j < n; j++)
            if (j != i && ck[j].trial == ck[i].trial &&
                (ck[j].epochs_done > ck[i].epochs_done || (ck[j].epochs_done == ck[i].epochs_done && j < i)))
                latest = 0;
        if (!latest) continue;
        int64_t len = 0; /* the reader checked the row: it fits the file's width */
        if (hp_checked_muladd(ck[i].model_floats, 2, ck[i].optim_floats, &len) != 0) len = -1;
        rc = (len == 0 || hp_results_read_checkpoint_state(rd, i, vec, len, err) == 0) &&
                     hp_results_write_checkpoint(w, &ck[i], vec, len, err) == 0
                 ? 0
                 : -1;
    }
    free(vec);
    free(ck);
    return rc;
}
