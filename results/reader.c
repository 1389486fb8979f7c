/* reader.c - reading a results file, also while a sweep writes it (HDF5 SWMR read).
 *
 * Opening checks, in order: the path exists and is a file, it is HDF5, it has
 * format="hpsweep", its format_version is one this build reads, the root attributes exist,
 * and every dataset has the rank and fields this build expects (like Caffe's loaders: a
 * message naming the dataset, never a garbage read). Each table read refreshes the dataset
 * (H5Drefresh) so it sees every row the writer flushed so far.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/stat.h>

#include "h5schema.h"
#include "hp_checked.h"
#include "results.h"

/* RD_SPARAMS last: the one table a file may lack (version 2 and older). */
enum { RD_TRIALS, RD_CURVES, RD_STAGES, RD_FINAL, RD_SNAP, RD_LAYOUT, RD_SPARAMS, RD_COUNT };
static const char *const rd_names[RD_COUNT] = {HP_DS_TRIALS, HP_DS_CURVES, HP_DS_STAGES,      HP_DS_FINAL,
                                               HP_DS_SNAP,   HP_DS_LAYOUT, HP_DS_STAGE_PARAMS};

struct hp_results_reader {
    char *path;
    hid_t file;
    int swmr; /* opened with SWMR read (every file hpsweep writes); 0 for the plain fallback */
    hp_h5_types t;
    hid_t ds[RD_COUNT];
    hp_results_header header;
    char *spec;
    hp_tensor_info *layout;
    int ntensors;
    int64_t state_size;
    hid_t ck_index, ck_state; /* /checkpoints, -1 when the file has none (older builds) */
    int64_t ck_width;
    int nxcols;               /* /trials' parameter columns */
    hp_param_column xcols[HP_MAX_XCOLS];
};

int hp_results_reader_param_columns(const hp_results_reader *r, const hp_param_column **cols) {
    *cols = r->xcols;
    return r->nxcols;
}

void hp_results_close_read(hp_results_reader *r) {
    if (!r) return;
    for (int i = 0; i < RD_COUNT; i++)
        if (r->ds[i] >= 0) H5Dclose(r->ds[i]);
    if (r->ck_index >= 0) H5Dclose(r->ck_index);
    if (r->ck_state >= 0) H5Dclose(r->ck_state);
    hp_h5_types_close(&r->t);
    if (r->file >= 0) H5Fclose(r->file);
    hp_h5_clear();
    free(r->spec);
    free(r->layout);
    free(r->path);
    free(r);
}

const hp_results_header *hp_results_reader_header(const hp_results_reader *r) { return &r->header; }
const char *hp_results_reader_path(const hp_results_reader *r) { return r->path; }
int64_t hp_results_reader_state_size(const hp_results_reader *r) { return r->state_size; }
int hp_results_read_layout(const hp_results_reader *r, const hp_tensor_info **tensors) {
    *tensors = r->layout;
    return r->ntensors;
}

/* A required string attribute copied into a fixed buffer. */
static int attr_fixed(hp_results_reader *r, const char *name, char *dst, size_t n, hp_err *err) {
    char *s = NULL;
    int got = hp_h5_attr_read_str(r->file, name, &s, NULL, r->path, err);
    if (got < 0) return -1;
    if (got == 0)
        return hp_errf(err, "results file %s has no root attribute '%s' (damaged?)", r->path, name);
    snprintf(dst, n, "%s", s);
    free(s);
    return 0;
}

static int attr_u64(hp_results_reader *r, const char *name, uint64_t *v, hp_err *err) {
    int got = hp_h5_attr_read_u64(r->file, name, v, r->path, err);
    if (got == 0)
        return hp_errf(err, "results file %s has no root attribute '%s' (damaged?)", r->path, name);
    return got < 0 ? -1 : 0;
}

static int read_header(hp_results_reader *r, hp_err *err) {
    hp_results_header *h = &r->header;
    size_t len = 0;
    int got = hp_h5_attr_read_str(r->file, "spec_yaml", &r->spec, &len, r->path, err);
    if (got < 0) return -1;
    if (got == 0)
        return hp_errf(err, "results file %s has no root attribute 'spec_yaml' (damaged?)",
                       r->path);
    h->meta.spec_yaml = r->spec;
    h->meta.spec_len = len;
    if (attr_fixed(r, "spec_sha256", h->meta.spec_sha256, sizeof h->meta.spec_sha256, err) < 0 ||
        attr_fixed(r, "created_utc", h->created_utc, sizeof h->created_utc, err) < 0 ||
        attr_fixed(r, "hpsweep_version", h->hpsweep_version, sizeof h->hpsweep_version, err) < 0 ||
        attr_u64(r, "seed", &h->meta.seed, err) < 0 ||
        attr_u64(r, "data_hash_train", &h->meta.data_hash[0], err) < 0 ||
        attr_u64(r, "data_hash_val", &h->meta.data_hash[1], err) < 0 ||
        attr_u64(r, "data_hash_test", &h->meta.data_hash[2], err) < 0)
        return -1;
    /* Optional (written since resume exists). */
    const char *opt[2] = {"spec_name", "spec_path"};
    char *dst[2] = {h->meta.spec_name, h->meta.spec_path};
    size_t cap[2] = {sizeof h->meta.spec_name, sizeof h->meta.spec_path};
    for (int i = 0; i < 2; i++) {
        char *v = NULL;
        got = hp_h5_attr_read_str(r->file, opt[i], &v, NULL, r->path, err);
        if (got < 0) return -1;
        if (got == 1) snprintf(dst[i], cap[i], "%s", v);
        free(v);
    }
    int64_t every = 0;
    got = hp_h5_attr_read_i64(r->file, "checkpoint_every", &every, r->path, err);
    if (got < 0) return -1;
    h->meta.checkpoint_every = got == 1 && every >= 0 && every <= INT32_MAX ? (int32_t)every : 0;
    return 0;
}

/* /checkpoints, when the file has it: the index table and the float32 state rows. */
static int open_checkpoints(hp_results_reader *r, hp_err *err) {
    htri_t ex = H5Lexists(r->file, HP_GROUP_CKPT, H5P_DEFAULT);
    if (ex < 0) return hp_h5_fail(err, r->path, "looking up " HP_GROUP_CKPT);
    if (ex == 0) return 0;
    r->ck_index = hp_h5_open_table(r->file, HP_DS_CKPT_INDEX, r->t.ckpt, 1, r->path, err);
    if (r->ck_index < 0) return -1;
    r->ck_state = hp_h5_open_table(r->file, HP_DS_CKPT_STATE, -1, 2, r->path, err);
    if (r->ck_state < 0) return -1;
    hid_t ft = H5Dget_type(r->ck_state), space = H5Dget_space(r->ck_state);
    hsize_t dims[2] = {0, 0};
    int ok = ft >= 0 && space >= 0 && H5Sget_simple_extent_dims(space, dims, NULL) >= 0;
    int is_f32 = ok && H5Tget_class(ft) == H5T_FLOAT && H5Tget_size(ft) == 4;
    if (ft >= 0) H5Tclose(ft);
    if (space >= 0) H5Sclose(space);
    if (!ok) return hp_h5_fail(err, r->path, "reading the shape of " HP_DS_CKPT_STATE);
    if (!is_f32 || dims[1] < 1)
        return hp_errf(err, "results file %s: %s is not a float32 table with columns", r->path, HP_DS_CKPT_STATE);
    r->ck_width = (int64_t)dims[1];
    r->header.meta.checkpoint_width = r->ck_width;
    return 0;
}

int64_t hp_results_reader_checkpoint_width(const hp_results_reader *r) { return r->ck_width; }

int hp_results_read_checkpoints(hp_results_reader *r, hp_checkpoint_record **rows, int64_t *n, hp_err *err) {
    *rows = NULL;
    *n = 0;
    if (r->ck_index < 0) return 0;
    if (r->swmr && H5Drefresh(r->ck_index) < 0) return hp_h5_fail(err, r->path, "refreshing " HP_DS_CKPT_INDEX);
    int64_t count = hp_h5_rows(r->ck_index, HP_DS_CKPT_INDEX, r->path, err);
    if (count <= 0) return count < 0 ? -1 : 0;
    hp_checkpoint_record *buf = hp_calloc((size_t)count, sizeof *buf, HP_DS_CKPT_INDEX, err);
    if (!buf) return -1;
    hsize_t cnt = (hsize_t)count, off = 0;
    hid_t fspace = H5Dget_space(r->ck_index), mspace = H5Screate_simple(1, &cnt, NULL);
    int ok = fspace >= 0 && mspace >= 0 &&
             H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &off, NULL, &cnt, NULL) >= 0 &&
             H5Dread(r->ck_index, r->t.ckpt, mspace, fspace, H5P_DEFAULT, buf) >= 0;
    if (fspace >= 0) H5Sclose(fspace);
    if (mspace >= 0) H5Sclose(mspace);
    if (!ok) {
        free(buf);
        return hp_h5_fail(err, r->path, "reading " HP_DS_CKPT_INDEX);
    }
    for (int64_t i = 0; i < count; i++) {
        hp_checkpoint_record *c = &buf[i];
        int64_t len = 0;
        if (c->trial >= 0 && (c->model_floats < 0 || c->optim_floats < 0 ||
                              hp_checked_muladd(c->model_floats, 2, c->optim_floats, &len) != 0 ||
                              len > r->ck_width || c->epochs_done < 0)) {
            hp_errf(err, "results file %s: %s row %lld is inconsistent (model %lld + optimizer %lld floats, width "
                         "%lld, epochs %d)",
                    r->path, HP_DS_CKPT_INDEX, (long long)i, (long long)c->model_floats, (long long)c->optim_floats,
                    (long long)r->ck_width, (int)c->epochs_done);
            free(buf);
            return -1;
        }
    }
    *rows = buf;
    *n = count;
    return 0;
}

int hp_results_read_checkpoint_state(hp_results_reader *r, int64_t slot, float *vec, int64_t n, hp_err *err) {
    if (r->ck_state < 0) return hp_errf(err, "results file %s has no %s", r->path, HP_DS_CKPT_STATE);
    if (r->swmr && H5Drefresh(r->ck_state) < 0) return hp_h5_fail(err, r->path, "refreshing " HP_DS_CKPT_STATE);
    int64_t rows = hp_h5_rows(r->ck_state, HP_DS_CKPT_STATE, r->path, err);
    if (rows < 0) return -1;
    if (slot < 0 || slot >= rows || n < 1 || n > r->ck_width)
        return hp_errf(err, "results file %s: checkpoint slot %lld with %lld floats does not exist (%s has %lld rows "
                            "of %lld)",
                       r->path, (long long)slot, (long long)n, HP_DS_CKPT_STATE, (long long)rows,
                       (long long)r->ck_width);
    return hp_h5_read_row(r->ck_state, slot, vec, n, r->path, HP_DS_CKPT_STATE, err);
}

static int refresh(hp_results_reader *r, int which, hp_err *err) {
    if (r->swmr && H5Drefresh(r->ds[which]) < 0) {
        char what[96];
        snprintf(what, sizeof what, "refreshing %s", rd_names[which]);
        return hp_h5_fail(err, r->path, what);
    }
    return 0;
}

/* Read a whole 1-D table into a new array of n rows of `rowsize` bytes. `init` (may be NULL)
 * fills the zeroed rows with the defaults of members an older file lacks, before the read: HDF5
 * leaves such members as the buffer had them (h5schema.h). */
/* A transfer property list whose type-conversion buffers fit `rows` rows (the stored row
 * size may differ from the record's): HDF5 otherwise allocates and zeroes 1 MB buffers on
 * every read, which is most of the cost of reading a small table (a `show` of a live file, or
 * the results fuzzer). Tables of 1 MB or more keep HDF5's default. -1 on failure. */
static hid_t conversion_buffer(hid_t ds, int64_t rows, size_t rowsize) {
    enum { DEFAULT_BUF = 1 << 20 }; /* HDF5's default (H5Pset_buffer) */
    hid_t ftype = H5Dget_type(ds);
    if (ftype < 0) return -1;
    size_t fsize = H5Tget_size(ftype);
    H5Tclose(ftype);
    if (fsize == 0) return -1;
    size_t row = fsize > rowsize ? fsize : rowsize;
    if (rows <= 0 || (uint64_t)rows >= DEFAULT_BUF / row) return H5P_DEFAULT;
    hid_t xfer = H5Pcreate(H5P_DATASET_XFER);
    if (xfer < 0) return -1;
    if (H5Pset_buffer(xfer, (size_t)rows * row, NULL, NULL) < 0) {
        H5Pclose(xfer);
        return -1;
    }
    return xfer;
}

static int read_table(hp_results_reader *r, int which, hid_t mtype, size_t rowsize,
                      void (*init)(void *rows, int64_t n), void **rows, int64_t *n, hp_err *err) {
    *rows = NULL;
    *n = 0;
    if (refresh(r, which, err) < 0) return -1;
    int64_t count = hp_h5_rows(r->ds[which], rd_names[which], r->path, err);
    if (count < 0) return -1;
    if (count == 0) return 0;
    void *buf = hp_calloc((size_t)count, rowsize, rd_names[which], err);
    if (!buf) return -1;
    if (init) init(buf, count);
    hsize_t cnt = (hsize_t)count, off = 0;
    hid_t fspace = H5Dget_space(r->ds[which]);
    hid_t mspace = H5Screate_simple(1, &cnt, NULL);
    hid_t xfer = conversion_buffer(r->ds[which], count, rowsize);
    /* Select exactly the rows counted: the writer may grow the table meanwhile. */
    int ok = fspace >= 0 && mspace >= 0 && xfer >= 0 &&
             H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &off, NULL, &cnt, NULL) >= 0 &&
             H5Dread(r->ds[which], mtype, mspace, fspace, xfer, buf) >= 0;
    if (fspace >= 0) H5Sclose(fspace);
    if (mspace >= 0) H5Sclose(mspace);
    if (xfer >= 0 && xfer != H5P_DEFAULT) H5Pclose(xfer);
    if (!ok) {
        free(buf);
        char what[96];
        snprintf(what, sizeof what, "reading %s", rd_names[which]);
        return hp_h5_fail(err, r->path, what);
    }
    *rows = buf;
    *n = count;
    return 0;
}

#define TERM(field) ((field)[sizeof(field) - 1] = '\0')

/* Version-1 files have no gpu and device: the CPU's -1 would be a guess, but -1 ("no GPU
 * recorded") with device "" (unknown) is what they mean. */
static void trials_v1_defaults(void *rows, int64_t n) {
    hp_trial_record *t = rows;
    for (int64_t i = 0; i < n; i++) {
        t[i].gpu = -1;     /* device: "" from the zeroed buffer */
        t[i].parent = -1;  /* a file without the column: no promoted trials */
        for (int k = 0; k < HP_MAX_XCOLS; k++) t[i].xcol[k].num = NAN;
    }
}

int hp_results_read_trials(hp_results_reader *r, hp_trial_record **rows, int64_t *n, hp_err *err) {
    void *buf;
    if (read_table(r, RD_TRIALS, r->t.trial, sizeof **rows, trials_v1_defaults, &buf, n, err) < 0) return -1;
    hp_trial_record *t = buf;
    for (int64_t i = 0; i < *n; i++) {
        TERM(t[i].host);
        TERM(t[i].device);
        TERM(t[i].message);
        for (int k = 0; k < r->nxcols; k++)
            if (r->xcols[k].text) TERM(t[i].xcol[k].text);
        if (t[i].status < HP_TRIAL_PENDING || t[i].status > HP_TRIAL_PRUNED) {
            hp_errf(err, "results file %s: row %lld of %s has an unknown status %d", r->path,
                    (long long)i, HP_DS_TRIALS, (int)t[i].status);
            free(t);
            *n = 0;
            return -1;
        }
    }
    *rows = t;
    return 0;
}

int hp_results_read_curves(hp_results_reader *r, hp_curve_record **rows, int64_t *n, hp_err *err) {
    void *buf;
    if (read_table(r, RD_CURVES, r->t.curve, sizeof **rows, NULL, &buf, n, err) < 0) return -1;
    *rows = buf;
    return 0;
}

int hp_results_read_stages(hp_results_reader *r, hp_stage_record **rows, int64_t *n, hp_err *err) {
    void *buf;
    if (read_table(r, RD_STAGES, r->t.stage, sizeof **rows, NULL, &buf, n, err) < 0) return -1;
    hp_stage_record *s = buf;
    for (int64_t i = 0; i < *n; i++) {
        TERM(s[i].method);
        TERM(s[i].lr_derivation);
        TERM(s[i].wd_derivation);
    }
    *rows = s;
    return 0;
}

int hp_results_read_stage_params(hp_results_reader *r, hp_stage_param_record **rows, int64_t *n, hp_err *err) {
    *rows = NULL;
    *n = 0;
    if (r->ds[RD_SPARAMS] < 0) return 0;
    void *buf;
    if (read_table(r, RD_SPARAMS, r->t.sparam, sizeof **rows, NULL, &buf, n, err) < 0) return -1;
    hp_stage_param_record *s = buf;
    for (int64_t i = 0; i < *n; i++) {
        TERM(s[i].name);
        TERM(s[i].scale);
        TERM(s[i].derivation);
        TERM(s[i].choices);
    }
    *rows = s;
    return 0;
}

int hp_results_read_final(hp_results_reader *r, hp_final_record **rows, int64_t *n, hp_err *err) {
    void *buf;
    if (read_table(r, RD_FINAL, r->t.final, sizeof **rows, NULL, &buf, n, err) < 0) return -1;
    hp_final_record *f = buf;
    for (int64_t i = 0; i < *n; i++) TERM(f[i].kind);
    *rows = f;
    return 0;
}

int64_t hp_results_read_nsnapshots(hp_results_reader *r, hp_err *err) {
    if (refresh(r, RD_SNAP, err) < 0) return -1;
    return hp_h5_rows(r->ds[RD_SNAP], HP_DS_SNAP, r->path, err);
}

int hp_results_read_snapshot(hp_results_reader *r, int64_t row, float *state, hp_err *err) {
    int64_t n = hp_results_read_nsnapshots(r, err);
    if (n < 0) return -1;
    if (row < 0 || row >= n)
        return hp_errf(err, "results file %s: snapshot row %lld does not exist (%s has %lld rows)",
                       r->path, (long long)row, HP_DS_SNAP, (long long)n);
    hsize_t off[2] = {(hsize_t)row, 0}, cnt[2] = {1, (hsize_t)r->state_size};
    hid_t fspace = H5Dget_space(r->ds[RD_SNAP]);
    hid_t mspace = H5Screate_simple(2, cnt, NULL);
    int ok = fspace >= 0 && mspace >= 0 &&
             H5Sselect_hyperslab(fspace, H5S_SELECT_SET, off, NULL, cnt, NULL) >= 0 &&
             H5Dread(r->ds[RD_SNAP], H5T_NATIVE_FLOAT, mspace, fspace, H5P_DEFAULT, state) >= 0;
    if (fspace >= 0) H5Sclose(fspace);
    if (mspace >= 0) H5Sclose(mspace);
    if (!ok) return hp_h5_fail(err, r->path, "reading a row of " HP_DS_SNAP);
    return 0;
}

/* /model/layout: read it whole and check every tensor against the snapshot width. */
static int read_layout(hp_results_reader *r, hp_err *err) {
    void *buf;
    int64_t n;
    if (read_table(r, RD_LAYOUT, r->t.layout, sizeof(hp_tensor_info), NULL, &buf, &n, err) < 0)
        return -1;
    r->layout = buf;
    if (n < 1 || n > 1000000)
        return hp_errf(err, "results file %s: %s has %lld tensors (expected 1 or more)", r->path,
                       HP_DS_LAYOUT, (long long)n);
    r->ntensors = (int)n;

    hid_t ft = H5Dget_type(r->ds[RD_SNAP]), space = H5Dget_space(r->ds[RD_SNAP]);
    hsize_t dims[2] = {0, 0};
    int ok = ft >= 0 && space >= 0 && H5Sget_simple_extent_dims(space, dims, NULL) >= 0;
    int is_f32 = ok && H5Tget_class(ft) == H5T_FLOAT && H5Tget_size(ft) == 4;
    if (ft >= 0) H5Tclose(ft);
    if (space >= 0) H5Sclose(space);
    if (!ok) return hp_h5_fail(err, r->path, "reading the shape of " HP_DS_SNAP);
    if (!is_f32)
        return hp_errf(err, "results file %s: %s is not float32", r->path, HP_DS_SNAP);
    r->state_size = (int64_t)dims[1];

    for (int i = 0; i < r->ntensors; i++) {
        hp_tensor_info *t = &r->layout[i];
        TERM(t->name);
        int64_t prod = 1, end = 0;
        int bad = t->ndim < 0 || t->ndim > 4;
        for (int d = 0; !bad && d < t->ndim; d++) // a shape whose product wraps is bad, not small
            if (t->shape[d] < 0 || hp_checked_mul(prod, t->shape[d], &prod) != 0) bad = 1;
        if (bad || prod != t->size || t->offset < 0 || t->size < 0 || hp_checked_add(t->offset, t->size, &end) != 0 ||
            end > r->state_size)
            return hp_errf(err, "results file %s: %s row %d ('%s') is inconsistent: ndim %d, "
                                "size %lld, offset %lld, snapshot width %lld", r->path,
                           HP_DS_LAYOUT, i, t->name, t->ndim, (long long)t->size,
                           (long long)t->offset, (long long)r->state_size);
    }
    return 0;
}

int hp_results_open_read(const char *path, hp_results_reader **out, hp_err *err) {
    *out = NULL;
    if (!path || !path[0]) return hp_errf(err, "results file: no path given");
    struct stat st;
    if (stat(path, &st) < 0)
        return hp_errf(err, "cannot open results file %s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return hp_errf(err, "%s is a folder, not a results file", path);
    hp_h5_quiet();
    htri_t is = H5Fis_hdf5(path);
    hp_h5_clear();
    if (is == 0)
        return hp_errf(err, "%s is not an HDF5 file (hpsweep results files are HDF5, written by "
                            "`hpsweep run SPEC -o FILE`)", path);

    hp_results_reader *r = hp_calloc(1, sizeof *r, "the results reader", err);
    if (!r) return -1;
    r->file = -1;
    r->ck_index = r->ck_state = -1;
    for (int i = 0; i < RD_COUNT; i++) r->ds[i] = -1;
    r->t.status = r->t.trial = r->t.curve = r->t.stage = r->t.sparam = r->t.final = r->t.layout = r->t.ckpt = -1;
    size_t plen = strlen(path);
    r->path = hp_calloc(plen + 1, 1, "the results file name", err);
    if (!r->path) {
        free(r);
        return -1;
    }
    memcpy(r->path, path, plen);

    /* SWMR read works for files being written and for files whose writer was killed; HDF5
     * files from other programs (older superblock) need the plain open. */
    r->swmr = 1;
    hid_t fapl = hp_results_read_fapl(path);
    if (fapl >= 0) r->file = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
    if (r->file < 0 && fapl >= 0) {
        hp_h5_clear(); /* expected for files with an older superblock: try the plain open */
        r->swmr = 0;
        r->file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    }
    if (r->file < 0) {
        char reason[256];
        hp_h5_reason(reason, sizeof reason);
        hp_errf(err, "cannot open results file %s: %s%s", path, reason,
                strstr(reason, "truncated") ? " (the file was cut short: damaged, or copied while written)" : "");
        if (fapl >= 0) H5Pclose(fapl);
        hp_results_close_read(r);
        return -1;
    }
    H5Pclose(fapl);
    int ok = hp_h5_check_format(r->file, path, &r->header.format_version, err) == 0 &&
             read_header(r, err) == 0 && hp_h5_types_create(&r->t, err) == 0;
    const hid_t mtypes[RD_COUNT] = {r->t.trial, r->t.curve, r->t.stage, r->t.final, -1, r->t.layout, r->t.sparam};
    /* The parameter columns /trials has (none before version 3). */
    if (ok) {
        int n = hp_h5_trial_columns(&r->t, r->file, r->xcols, path, err);
        ok = n >= 0;
        r->nxcols = n > 0 ? n : 0;
    }
    for (int i = 0; ok && i < RD_COUNT; i++) {
        if (i == RD_SPARAMS && H5Lexists(r->file, rd_names[i], H5P_DEFAULT) <= 0) continue;
        const char *const *optional = i == RD_TRIALS ? hp_h5_trial_optional(r->header.format_version) : NULL;
        r->ds[i] = hp_h5_open_table_opt(r->file, rd_names[i], mtypes[i], i == RD_SNAP ? 2 : 1, optional,
                                        path, err);
        if (r->ds[i] < 0) ok = 0;
    }
    if (ok && read_layout(r, err) < 0) ok = 0;
    if (ok && open_checkpoints(r, err) < 0) ok = 0;
    if (!ok) {
        hp_results_close_read(r);
        return -1;
    }
    *out = r;
    return 0;
}
