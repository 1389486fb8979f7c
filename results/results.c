/* results.c - the results file writer: create, append rows, update trials, reopen to append.
 *
 * HDF5 single-writer/multiple-reader (SWMR, HDF5 1.10): the file uses the latest format
 * (libver bounds LATEST/LATEST), every object exists before H5Fstart_swmr_write, tables hold
 * fixed-size fields only, and every update is H5Dset_extent + H5Dwrite + H5Dflush of that
 * dataset, so readers see it at once and a kill -9 of the writer loses nothing flushed.
 * Tables are chunked and uncompressed (SWMR readers then never see a half-written filter
 * output, and rows are small). Schema: results.h; HDF5 types: h5schema.c.
 */
#include "results.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "h5schema.h"
#include "results_impl.h"

#ifndef HPSWEEP_VERSION
#define HPSWEEP_VERSION "unknown"
#endif

static const char *const ds_names[DS_COUNT] = {HP_DS_TRIALS, HP_DS_CURVES, HP_DS_STAGES,
                                               HP_DS_LAYOUT, HP_DS_SNAP, HP_DS_FINAL};

/* Bytes of each conversion buffer: whole rows are converted in pieces of this size. */
#define HP_TCONV_BYTES (64 * 1024)

/* ---- small helpers ----------------------------------------------------------------------- */

/* Make a fixed-length field a clean C string: NUL-terminated within n bytes (truncating),
 * zeros after the terminator, so files do not carry the caller's stale bytes. */
static void clean_str(char *s, size_t n) {
    char *end = memchr(s, '\0', n);
    size_t pos = end ? (size_t)(end - s) : n - 1;
    memset(s + pos, 0, n - pos);
}
#define CLEAN(field) clean_str((field), sizeof(field))

static hp_results *results_alloc(const char *path, hp_err *err) {
    hp_results *r = hp_calloc(1, sizeof *r, "the results writer", err);
    if (!r) return NULL;
    r->file = -1;
    r->dxpl = -1;
    r->ck_index = r->ck_state = -1;
    r->lock_fd = -1;
    r->sp_ds = -1;
    for (int i = 0; i < DS_COUNT; i++) r->ds[i] = -1;
    r->t.status = r->t.trial = r->t.curve = r->t.stage = r->t.sparam = r->t.final = r->t.layout = r->t.ckpt = -1;
    size_t n = strlen(path);
    r->path = hp_calloc(n + 1, 1, "the results file name", err);
    if (!r->path) {
        free(r);
        return NULL;
    }
    memcpy(r->path, path, n);
    return r;
}

/* Close every HDF5 object; returns -1 (with err set) if closing the file failed. */
static int results_release(hp_results *r, hp_err *err) {
    int rc = 0;
    if (r->failed) {
        /* Abandon the HDF5 objects: closing would flush metadata that describes space never
         * written (and HDF5 1.10 crashes at exit after a failed close). hp_h5_quiet() turned
         * off HDF5's exit-time cleanup, so the file stays as its last successful flush left it. */
        rc = hp_results_check_usable(r, err);
        hp_results_unlock(r->lock_fd);
        free(r->ck);
        free(r->tconv);
        free(r->bkg);
        free(r->path);
        free(r);
        return rc;
    }
    for (int i = 0; i < DS_COUNT; i++)
        if (r->ds[i] >= 0 && H5Dclose(r->ds[i]) < 0 && rc == 0) {
            char what[96];
            snprintf(what, sizeof what, "closing %s", ds_names[i]);
            rc = hp_h5_fail(err, r->path, what);
        }
    if (r->sp_ds >= 0 && H5Dclose(r->sp_ds) < 0 && rc == 0) rc = hp_h5_fail(err, r->path, "closing " HP_DS_STAGE_PARAMS);
    if (hp_results_ckpt_release(r, rc == 0 ? err : NULL) < 0 && rc == 0) rc = -1;
    hp_h5_types_close(&r->t);
    if (r->dxpl >= 0) H5Pclose(r->dxpl);
    if (r->file >= 0 && H5Fclose(r->file) < 0 && rc == 0)
        rc = hp_h5_fail(err, r->path, "closing the file (final flush)");
    hp_results_unlock(r->lock_fd); /* after the close: the file is complete before another writer may open it */
    free(r->ck);
    free(r->tconv);
    free(r->bkg);
    free(r->path);
    free(r);
    return rc;
}

/* Table rows are converted from the C structs (with padding) to the packed file types. By
 * default HDF5 callocs a 1 MiB conversion buffer and a background buffer for every H5Dwrite,
 * and freshly touched memory costs ~10 us per 4 KiB page here (docs/design.md). Measured with
 * 1000 trials (two trial updates, a curve row and an 800 KB snapshot row each, all flushed):
 * 25 ms per trial with the default buffers, 0.2 ms with these (1.4M page faults -> 1.7k);
 * without snapshots 0.13-0.23 ms -> 0.035 ms. Supplying the buffers once makes every write
 * reuse them. */
static int xfer_init(hp_results *r, hp_err *err) {
    r->tconv = hp_calloc(1, HP_TCONV_BYTES, "HDF5 conversion buffers", err);
    r->bkg = r->tconv ? hp_calloc(1, HP_TCONV_BYTES, "HDF5 conversion buffers", err) : NULL;
    if (!r->bkg) return -1;
    r->dxpl = H5Pcreate(H5P_DATASET_XFER);
    if (r->dxpl < 0 || H5Pset_buffer(r->dxpl, HP_TCONV_BYTES, r->tconv, r->bkg) < 0)
        return hp_h5_fail(err, r->path, "setting up transfer buffers");
    return 0;
}

static int check_layout(const char *path, const hp_tensor_info *layout, int n, int64_t *size,
                        hp_err *err) {
    if (!layout || n < 1)
        return hp_errf(err, "results file %s: the model layout is empty (%d tensors); a model "
                            "has at least one tensor", path, n);
    int64_t end = 0;
    for (int i = 0; i < n; i++) {
        const hp_tensor_info *t = &layout[i];
        int64_t prod = 1;
        if (t->ndim < 0 || t->ndim > 4)
            return hp_errf(err, "results file %s: layout tensor %d has ndim %d (0..4)", path, i,
                           t->ndim);
        for (int d = 0; d < t->ndim; d++) prod *= t->shape[d];
        if (t->size != prod || t->size < 0 || t->offset < 0)
            return hp_errf(err, "results file %s: layout tensor %d ('%.48s') has size %lld, "
                                "offset %lld but its shape holds %lld elements", path, i,
                           memchr(t->name, 0, sizeof t->name) ? t->name : "?",
                           (long long)t->size, (long long)t->offset, (long long)prod);
        if (t->offset + t->size > end) end = t->offset + t->size;
    }
    if (end < 1 || end > HP_MAX_STATE_SIZE)
        return hp_errf(err, "results file %s: state size %lld is out of range (1..%lld floats: "
                            "a snapshot row is one HDF5 chunk, at most 4 GiB)", path,
                       (long long)end, (long long)HP_MAX_STATE_SIZE);
    *size = end;
    return 0;
}

static int create_snapshots(hp_results *r, hp_err *err) {
    hsize_t dims[2] = {0, (hsize_t)r->state_size};
    hsize_t maxd[2] = {H5S_UNLIMITED, (hsize_t)r->state_size};
    hsize_t chunk[2] = {1, (hsize_t)r->state_size}; /* one row per chunk: a row is one write */
    hid_t space = H5Screate_simple(2, dims, maxd);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 2, chunk) >= 0)
        r->ds[DS_SNAP] = H5Dcreate2(r->file, HP_DS_SNAP, H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl,
                                    H5P_DEFAULT);
    if (space >= 0) H5Sclose(space);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (r->ds[DS_SNAP] < 0) return hp_h5_fail(err, r->path, "creating dataset " HP_DS_SNAP);
    return 0;
}

static int make_group(hp_results *r, const char *name, hp_err *err) {
    hid_t g = H5Gcreate2(r->file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0 || H5Gclose(g) < 0) {
        char what[96];
        snprintf(what, sizeof what, "creating group %s", name);
        return hp_h5_fail(err, r->path, what);
    }
    return 0;
}

/* created_utc: NULL for now (a recovered file keeps its original time). */
static int write_root_attrs(hp_results *r, const hp_results_meta *meta, const char *created_utc,
                            hp_err *err) {
    char created[32];
    time_t now = time(NULL);
    struct tm tm;
    if (created_utc)
        snprintf(created, sizeof created, "%s", created_utc);
    else if (now == (time_t)-1 || !gmtime_r(&now, &tm) ||
             strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(created, sizeof created, "unknown");
    char sha[65];
    memcpy(sha, meta->spec_sha256, sizeof sha);
    CLEAN(sha);
    const char *spec = meta->spec_yaml ? meta->spec_yaml : "";
    uint64_t spec_len = meta->spec_yaml ? meta->spec_len : 0;
    if (hp_h5_attr_write_str(r->file, "format", HP_FORMAT_NAME, strlen(HP_FORMAT_NAME), r->path,
                             err) < 0 ||
        hp_h5_attr_write_i32(r->file, "format_version", HP_FORMAT_VERSION, r->path, err) < 0 ||
        hp_h5_attr_write_str(r->file, "spec_yaml", spec, (size_t)spec_len, r->path, err) < 0 ||
        hp_h5_attr_write_str(r->file, "spec_sha256", sha, strlen(sha), r->path, err) < 0 ||
        hp_h5_attr_write_str(r->file, "created_utc", created, strlen(created), r->path, err) < 0 ||
        hp_h5_attr_write_str(r->file, "hpsweep_version", HPSWEEP_VERSION,
                             strlen(HPSWEEP_VERSION), r->path, err) < 0 ||
        hp_h5_attr_write_u64(r->file, "seed", meta->seed, r->path, err) < 0 ||
        hp_h5_attr_write_u64(r->file, "data_hash_train", meta->data_hash[0], r->path, err) < 0 ||
        hp_h5_attr_write_u64(r->file, "data_hash_val", meta->data_hash[1], r->path, err) < 0 ||
        hp_h5_attr_write_u64(r->file, "data_hash_test", meta->data_hash[2], r->path, err) < 0)
        return -1;
    /* Written since resume exists (readers treat them as optional): the spec's resolved name
     * and the path it was read from (to parse the stored text exactly as at the start), and
     * the checkpoint interval the sweep was started with. */
    char name[sizeof meta->spec_name], spath[sizeof meta->spec_path];
    memcpy(name, meta->spec_name, sizeof name);
    memcpy(spath, meta->spec_path, sizeof spath);
    CLEAN(name);
    CLEAN(spath);
    if (hp_h5_attr_write_str(r->file, "spec_name", name, strlen(name), r->path, err) < 0 ||
        hp_h5_attr_write_str(r->file, "spec_path", spath, strlen(spath), r->path, err) < 0 ||
        hp_h5_attr_write_i32(r->file, "checkpoint_every", meta->checkpoint_every, r->path, err) < 0)
        return -1;
    return 0;
}

/* ---- create ------------------------------------------------------------------------------- */

/* The arguments, and that nothing is at path yet: 0, -1, or HP_RESULTS_EXISTS (err set). */
static int check_create_args(const char *path, const hp_results_meta *meta, const hp_tensor_info *layout,
                             int ntensors, int64_t *state_size, hp_err *err) {
    if (!path || !path[0]) return hp_errf(err, "results file: no path given");
    if (!meta) return hp_errf(err, "results file %s: no metadata given", path);
    if (meta->spec_yaml && meta->spec_len != strnlen(meta->spec_yaml, meta->spec_len))
        return hp_errf(err, "results file %s: spec_len %llu exceeds the spec text", path,
                       (unsigned long long)meta->spec_len);
    if (check_layout(path, layout, ntensors, state_size, err) < 0) return -1;
    if (meta->state_width > HP_MAX_STATE_SIZE)
        return hp_errf(err, "results file %s: snapshot rows of %lld floats, more than %lld", path,
                       (long long)meta->state_width, (long long)HP_MAX_STATE_SIZE);
    if (meta->state_width > *state_size) *state_size = meta->state_width;
    struct stat st;
    if (stat(path, &st) == 0)
        return hp_errf(err, "results file %s already exists; choose another output path, remove "
                            "it, or continue it with `hpsweep resume %s`", path, path),
               HP_RESULTS_EXISTS;
    return 0;
}

/* The file is built under PATH.creating.HOST.PID, a name no other process uses (several
 * runs may race on one PATH, also from several nodes of a shared file system), and appears
 * at PATH only once every object exists and SWMR writing started, so a kill during creation
 * never leaves a half-made PATH. A leftover of that name is from a killed process of ours
 * whose pid came back: removed. Returns the name (the caller frees it), or NULL (err set). */
static char *creating_name(const char *path, hp_err *err) {
    char host[64] = "host";
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "host");
    host[sizeof host - 1] = '\0';
    for (char *c = host; *c; c++)
        if (*c == '/') *c = '_';
    size_t plen = strlen(path), tlen = plen + sizeof host + 48;
    char *tmp = hp_calloc(tlen, 1, "a file name", err);
    if (!tmp) return NULL;
    snprintf(tmp, tlen, "%s.creating.%s.%ld", path, host, (long)getpid());
    if (unlink(tmp) < 0 && errno != ENOENT && errno != ENOTDIR) { /* no such folder: H5Fcreate says so */
        hp_errf(err, "results file %s: cannot remove the leftover %s: %s", path, tmp, strerror(errno));
        free(tmp);
        return NULL;
    }
    return tmp;
}

/* A writer for path whose file is created (exclusively) as tmp; NULL (err set) if it cannot be. */
static hp_results *create_writer(const char *path, const char *tmp, int64_t state_size, hp_err *err) {
    hp_results *r = results_alloc(path, err);
    if (!r) return NULL;
    r->state_size = state_size;
    hid_t fapl = hp_h5_fapl(1);
    if (fapl < 0) {
        hp_h5_fail(err, path, "setting up file access (libver bounds, locking)");
        results_release(r, NULL);
        return NULL;
    }
    r->file = H5Fcreate(tmp, H5F_ACC_EXCL, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (r->file < 0) {
        char reason[256];
        hp_h5_reason(reason, sizeof reason);
        if (strstr(reason, "File exists"))
            hp_errf(err, "results file %s already exists; choose another output path, remove "
                         "it, or continue it with `hpsweep resume %s`", path, path);
        else
            hp_errf(err, "results file %s: cannot create it: %s (does the folder exist and can "
                         "you write to it?)", path, reason);
        results_release(r, NULL);
        return NULL;
    }
    return r;
}

/* The tables, empty, and the layout's (ntensors rows, fixed). */
static int create_tables(hp_results *r, int ntensors, hp_err *err) {
    if ((r->ds[DS_TRIALS] = hp_results_create_table(r, HP_DS_TRIALS, r->t.trial, 0, HP_CHUNK_TRIALS, 1, err)) < 0 ||
        (r->ds[DS_CURVES] = hp_results_create_table(r, HP_DS_CURVES, r->t.curve, 0, HP_CHUNK_CURVES, 1, err)) < 0 ||
        (r->ds[DS_STAGES] = hp_results_create_table(r, HP_DS_STAGES, r->t.stage, 0, HP_CHUNK_STAGES, 1, err)) < 0 ||
        (r->sp_ds = hp_results_create_table(r, HP_DS_STAGE_PARAMS, r->t.sparam, 0, HP_CHUNK_STAGES, 1, err)) < 0 ||
        (r->ds[DS_FINAL] = hp_results_create_table(r, HP_DS_FINAL, r->t.final, 0, HP_CHUNK_FINAL, 1, err)) < 0 ||
        (r->ds[DS_LAYOUT] =
             hp_results_create_table(r, HP_DS_LAYOUT, r->t.layout, (hsize_t)ntensors, 0, 0, err)) < 0)
        return -1;
    return 0;
}

/* /model/layout's rows: the layout with clean names and unused dimensions zeroed. */
static int write_layout(hp_results *r, const hp_tensor_info *layout, int ntensors, hp_err *err) {
    int ok = 1;
    hp_tensor_info *copy = hp_calloc((size_t)ntensors, sizeof *copy, "the model layout", err);
    if (!copy) ok = 0;
    for (int i = 0; ok && i < ntensors; i++) {
        copy[i] = layout[i];
        CLEAN(copy[i].name);
        for (int d = copy[i].ndim; d < 4; d++) copy[i].shape[d] = 0;
    }
    if (ok && H5Dwrite(r->ds[DS_LAYOUT], r->t.layout, H5S_ALL, H5S_ALL, r->dxpl, copy) < 0)
        ok = hp_h5_fail(err, r->path, "writing " HP_DS_LAYOUT) == 0;
    free(copy);
    r->rows[DS_LAYOUT] = ntensors;
    return ok ? 0 : -1;
}

/* Every object of the file, then SWMR writing: from here on only dataset extents and contents
 * change. */
static int fill_file(hp_results *r, const char *tmp, const hp_results_meta *meta, const char *created_utc,
                     const hp_tensor_info *layout, int ntensors, hp_err *err) {
    if (meta->nxcols < 0 || meta->nxcols > HP_MAX_XCOLS)
        return hp_errf(err, "results file %s: %d parameter columns, more than the %d a file holds", r->path,
                       (int)meta->nxcols, HP_MAX_XCOLS);
    r->nxcols = meta->nxcols;
    for (int i = 0; i < r->nxcols; i++) {
        r->xcols[i] = meta->xcols[i];
        CLEAN(r->xcols[i].name);
    }
    if (hp_results_lock(tmp, &r->lock_fd, err) != 0 || hp_h5_types_create(&r->t, err) != 0 ||
        hp_h5_trial_add_columns(&r->t, r->xcols, r->nxcols, r->path, err) != 0 || xfer_init(r, err) != 0 || write_root_attrs(r, meta, created_utc, err) != 0 ||
        make_group(r, "/model", err) != 0 || make_group(r, "/snapshots", err) != 0 ||
        create_tables(r, ntensors, err) != 0 || create_snapshots(r, err) < 0 ||
        hp_results_ckpt_create(r, meta->checkpoint_width, err) < 0 || write_layout(r, layout, ntensors, err) != 0)
        return -1;
    if (H5Fflush(r->file, H5F_SCOPE_LOCAL) < 0 || H5Fstart_swmr_write(r->file) < 0) {
        hp_h5_fail(err, r->path, "starting SWMR writing");
        return -1;
    }
    return 0;
}

/* Publish tmp as path: link() fails if PATH appeared meanwhile (never overwrite); file systems
 * without hard links get rename(). The open file and its lock follow the inode. Returns 0, -1,
 * or HP_RESULTS_EXISTS (err set). */
static int publish(const char *tmp, const char *path, hp_err *err) {
    struct stat st;
    if (link(tmp, path) == 0) {
        unlink(tmp);
        return 0;
    }
    if (errno == EEXIST)
        return hp_errf(err, "results file %s already exists (another hpsweep created it first); choose another "
                            "output path, remove it, or continue it with `hpsweep resume %s`",
                       path, path),
               HP_RESULTS_EXISTS;
    if (stat(path, &st) == 0 || rename(tmp, path) != 0)
        return hp_errf(err, "results file %s: cannot move %s into place: %s", path, tmp, strerror(errno));
    return 0;
}

int hp_results_create_file(const char *path, const hp_results_meta *meta, const char *created_utc,
                       const hp_tensor_info *layout, int ntensors, hp_results **out, hp_err *err) {
    *out = NULL;
    int64_t state_size = 0;
    int rc = check_create_args(path, meta, layout, ntensors, &state_size, err);
    if (rc != 0) return rc;
    hp_h5_quiet();
    char *tmp = creating_name(path, err);
    if (!tmp) return -1;
    hp_results *r = create_writer(path, tmp, state_size, err);
    if (!r) {
        free(tmp);
        return -1;
    }
    rc = fill_file(r, tmp, meta, created_utc, layout, ntensors, err);
    if (rc == 0) rc = publish(tmp, path, err);
    if (rc != 0) {
        results_release(r, NULL);
        /* The file is ours (created with EXCL) and incomplete: remove it so a retry works. */
        if (unlink(tmp) < 0 && errno != ENOENT)
            hp_err_prefix(err, "(could not remove the incomplete file %s: %s)", tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    free(tmp);
    *out = r;
    return 0;
}

int hp_results_create(const char *path, const hp_results_meta *meta, const hp_tensor_info *layout,
                      int ntensors, hp_results **out, hp_err *err) {
    return hp_results_create_file(path, meta, NULL, layout, ntensors, out, err);
}

/* ---- appending and updating ---------------------------------------------------------------- */

/* Write rows [start, start+n) of table `which`, growing it as needed, then flush it. */
static int write_rows(hp_results *r, int which, hid_t mtype, int64_t start, int64_t n,
                      const void *buf, const char *what, hp_err *err) {
    return hp_results_write_table(r, r->ds[which], &r->rows[which], mtype, start, n, buf, what, err);
}

static int check_status(const hp_results *r, const hp_trial_record *t, hp_err *err) {
    if (t->status < HP_TRIAL_PENDING || t->status > HP_TRIAL_PRUNED)
        return hp_errf(err, "results file %s: trial %lld has an invalid status %d (0..5)", r->path,
                       (long long)t->id, (int)t->status);
    return 0;
}

static void clean_trial(const hp_results *r, hp_trial_record *t) {
    CLEAN(t->host);
    CLEAN(t->device);
    CLEAN(t->message);
    for (int i = 0; i < r->nxcols; i++)
        if (r->xcols[i].text) CLEAN(t->xcol[i].text);
}

const char *hp_param_column_title(const hp_param_column *cols, int n, int k) {
    const char *dot = strrchr(cols[k].name, '.'), *tail = dot ? dot + 1 : cols[k].name;
    for (int j = 0; j < n; j++) {
        if (j == k) continue;
        const char *d = strrchr(cols[j].name, '.');
        if (!strcmp(d ? d + 1 : cols[j].name, tail)) return cols[k].name;
    }
    return tail;
}

int hp_results_param_columns(const hp_results *r, const hp_param_column **cols) {
    *cols = r->xcols;
    return r->nxcols;
}

int hp_results_add_stage_params(hp_results *r, const hp_stage_param_record *rows, int n, hp_err *err) {
    if (n < 0 || (n > 0 && !rows))
        return hp_errf(err, "results file %s: add_stage_params needs %d rows", r->path, n);
    if (r->sp_ds < 0 || n == 0) return 0;
    if (hp_results_check_usable(r, err) < 0) return -1;
    hp_stage_param_record copy[32];
    for (int done = 0; done < n;) {
        int k = n - done < 32 ? n - done : 32;
        for (int i = 0; i < k; i++) {
            copy[i] = rows[done + i];
            CLEAN(copy[i].name);
            CLEAN(copy[i].scale);
            CLEAN(copy[i].derivation);
            CLEAN(copy[i].choices);
        }
        if (hp_results_write_table(r, r->sp_ds, &r->sp_rows, r->t.sparam, r->sp_rows, k, copy,
                                   "appending rows to " HP_DS_STAGE_PARAMS, err) < 0)
            return -1;
        done += k;
    }
    return 0;
}

int hp_results_add_stage(hp_results *r, const hp_stage_record *stage, const hp_trial_record *trials,
                         int ntrials, hp_err *err) {
    if (!stage || ntrials < 0 || (ntrials > 0 && !trials))
        return hp_errf(err, "results file %s: add_stage needs a stage and %d trials", r->path,
                       ntrials);
    for (int i = 0; i < ntrials; i++) {
        if (trials[i].id != r->rows[DS_TRIALS] + i)
            return hp_errf(err, "results file %s: trial id %lld out of sequence (rows are trial "
                                "ids; expected %lld)", r->path, (long long)trials[i].id,
                           (long long)(r->rows[DS_TRIALS] + i));
        if (check_status(r, &trials[i], err) < 0) return -1;
    }
    if (ntrials > 0) {
        hp_trial_record *copy = hp_calloc((size_t)ntrials, sizeof *copy, "trial rows", err);
        if (!copy) return -1;
        for (int i = 0; i < ntrials; i++) {
            copy[i] = trials[i];
            clean_trial(r, &copy[i]);
        }
        /* Trials first, then the stage row: a reader that sees a stage finds its trials. */
        int rc = write_rows(r, DS_TRIALS, r->t.trial, r->rows[DS_TRIALS], ntrials, copy,
                            "appending rows to " HP_DS_TRIALS, err);
        free(copy);
        if (rc < 0) return -1;
    }
    hp_stage_record s = *stage;
    CLEAN(s.method);
    CLEAN(s.lr_derivation);
    CLEAN(s.wd_derivation);
    return write_rows(r, DS_STAGES, r->t.stage, r->rows[DS_STAGES], 1, &s,
                      "appending a row to " HP_DS_STAGES, err);
}

int hp_results_update_trial(hp_results *r, const hp_trial_record *rec, hp_err *err) {
    if (rec->id < 0 || rec->id >= r->rows[DS_TRIALS])
        return hp_errf(err, "results file %s: cannot update trial %lld: the file has trials "
                            "0..%lld (add its stage first)", r->path, (long long)rec->id,
                       (long long)r->rows[DS_TRIALS] - 1);
    if (check_status(r, rec, err) < 0) return -1;
    hp_trial_record t = *rec;
    clean_trial(r, &t);
    return write_rows(r, DS_TRIALS, r->t.trial, t.id, 1, &t, "updating a row of " HP_DS_TRIALS,
                      err);
}

int hp_results_append_curve(hp_results *r, const hp_curve_record *rec, hp_err *err) {
    if (rec->trial < 0 || rec->trial >= r->rows[DS_TRIALS])
        return hp_errf(err, "results file %s: curve row for unknown trial %lld (the file has "
                            "%lld trials)", r->path, (long long)rec->trial,
                       (long long)r->rows[DS_TRIALS]);
    return write_rows(r, DS_CURVES, r->t.curve, r->rows[DS_CURVES], 1, rec,
                      "appending a row to " HP_DS_CURVES, err);
}

int hp_results_write_curve(hp_results *r, int64_t row, const hp_curve_record *rec, hp_err *err) {
    if (row < 0 || row > r->rows[DS_CURVES])
        return hp_errf(err, "results file %s: curve row %lld is out of range (the file has %lld)", r->path,
                       (long long)row, (long long)r->rows[DS_CURVES]);
    if (rec->trial < 0 || rec->trial >= r->rows[DS_TRIALS])
        return hp_errf(err, "results file %s: curve row for unknown trial %lld (the file has "
                            "%lld trials)", r->path, (long long)rec->trial,
                       (long long)r->rows[DS_TRIALS]);
    return write_rows(r, DS_CURVES, r->t.curve, row, 1, rec, "writing a row of " HP_DS_CURVES, err);
}

int hp_results_write_snapshot(hp_results *r, int64_t row, const float *state, hp_err *err) {
    if (hp_results_check_usable(r, err) < 0) return -1;
    if (!state) return hp_errf(err, "results file %s: no snapshot state given", r->path);
    if (row < 0 || row > r->rows[DS_SNAP])
        return hp_errf(err, "results file %s: snapshot row %lld is out of range (the file has %lld)", r->path,
                       (long long)row, (long long)r->rows[DS_SNAP]);
    hid_t ds = r->ds[DS_SNAP];
    int64_t nrows = row == r->rows[DS_SNAP] ? row + 1 : r->rows[DS_SNAP];
    hsize_t dims[2] = {(hsize_t)nrows, (hsize_t)r->state_size};
    hsize_t off[2] = {(hsize_t)row, 0}, cnt[2] = {1, (hsize_t)r->state_size};
    hid_t fspace = -1, mspace = -1;
    int ok = H5Dset_extent(ds, dims) >= 0 && (fspace = H5Dget_space(ds)) >= 0 &&
             H5Sselect_hyperslab(fspace, H5S_SELECT_SET, off, NULL, cnt, NULL) >= 0 &&
             (mspace = H5Screate_simple(2, cnt, NULL)) >= 0 &&
             H5Dwrite(ds, H5T_NATIVE_FLOAT, mspace, fspace, H5P_DEFAULT, state) >= 0 &&
             H5Dflush(ds) >= 0;
    if (fspace >= 0) H5Sclose(fspace);
    if (mspace >= 0) H5Sclose(mspace);
    if (!ok) {
        hp_h5_fail(err, r->path, "writing a row of " HP_DS_SNAP);
        hp_results_io_failed(r, err);
        return -1;
    }
    r->rows[DS_SNAP] = nrows;
    return 0;
}

int hp_results_get_snapshot(hp_results *r, int64_t row, float *state, hp_err *err) {
    if (hp_results_check_usable(r, err) < 0) return -1;
    if (row < 0 || row >= r->rows[DS_SNAP])
        return hp_errf(err, "results file %s: snapshot row %lld does not exist (the file has %lld)", r->path,
                       (long long)row, (long long)r->rows[DS_SNAP]);
    hsize_t off[2] = {(hsize_t)row, 0}, cnt[2] = {1, (hsize_t)r->state_size};
    hid_t fspace = H5Dget_space(r->ds[DS_SNAP]);
    hid_t mspace = H5Screate_simple(2, cnt, NULL);
    int ok = fspace >= 0 && mspace >= 0 && H5Sselect_hyperslab(fspace, H5S_SELECT_SET, off, NULL, cnt, NULL) >= 0 &&
             H5Dread(r->ds[DS_SNAP], H5T_NATIVE_FLOAT, mspace, fspace, H5P_DEFAULT, state) >= 0;
    if (fspace >= 0) H5Sclose(fspace);
    if (mspace >= 0) H5Sclose(mspace);
    if (!ok) return hp_h5_fail(err, r->path, "reading a row of " HP_DS_SNAP);
    return 0;
}

int hp_results_append_snapshot(hp_results *r, const float *state, int64_t *row, hp_err *err) {
    int64_t at = r->rows[DS_SNAP];
    if (hp_results_write_snapshot(r, at, state, err) != 0) return -1;
    if (row) *row = at;
    return 0;
}

int hp_results_set_final(hp_results *r, const hp_final_record *recs, int n, hp_err *err) {
    if (n < 0 || (n > 0 && !recs))
        return hp_errf(err, "results file %s: set_final needs %d records", r->path, n);
    hp_final_record *copy = NULL;
    if (n > 0) {
        copy = hp_calloc((size_t)n, sizeof *copy, "final rows", err);
        if (!copy) return -1;
        for (int i = 0; i < n; i++) {
            copy[i] = recs[i];
            CLEAN(copy[i].kind);
        }
    }
    /* /final is replaced as a whole: shrink (or grow) it to n rows, then write them. */
    hsize_t dims = (hsize_t)n;
    int rc;
    if (H5Dset_extent(r->ds[DS_FINAL], &dims) < 0) {
        rc = hp_h5_fail(err, r->path, "resizing " HP_DS_FINAL);
        hp_results_io_failed(r, err);
    } else {
        r->rows[DS_FINAL] = n;
        rc = write_rows(r, DS_FINAL, r->t.final, 0, n, copy, "writing " HP_DS_FINAL, err);
    }
    free(copy);
    return rc;
}

int hp_results_close(hp_results *r, hp_err *err) {
    if (!r) return 0;
    return results_release(r, err);
}

int64_t hp_results_ntrials(const hp_results *r) { return r->rows[DS_TRIALS]; }
int64_t hp_results_ncurves(const hp_results *r) { return r->rows[DS_CURVES]; }
int64_t hp_results_nstages(const hp_results *r) { return r->rows[DS_STAGES]; }
int64_t hp_results_nsnapshots(const hp_results *r) { return r->rows[DS_SNAP]; }
int64_t hp_results_state_size(const hp_results *r) { return r->state_size; }

/* ---- reopen to append ---------------------------------------------------------------------- */

int hp_results_open_append(const char *path, hp_results **out, hp_err *err) {
    *out = NULL;
    struct stat st;
    if (!path || stat(path, &st) < 0)
        return hp_errf(err, "cannot open results file %s: %s", path ? path : "(null)",
                       strerror(errno));
    hp_h5_quiet();
    hp_results *r = results_alloc(path, err);
    if (!r) return -1;
    if (hp_results_lock(path, &r->lock_fd, err) < 0) {
        results_release(r, NULL);
        return -1;
    }
    hid_t fapl = hp_h5_fapl(1);
    if (fapl >= 0) r->file = H5Fopen(path, H5F_ACC_RDWR | H5F_ACC_SWMR_WRITE, fapl);
    if (fapl >= 0) H5Pclose(fapl);
    if (r->file < 0) {
        char reason[256];
        hp_h5_reason(reason, sizeof reason);
        htri_t is = H5Fis_hdf5(path);
        hp_h5_clear();
        if (is == 0)
            hp_errf(err, "%s is not an HDF5 file (hpsweep results files are HDF5)", path);
        else if (strstr(reason, "already open") || strstr(reason, "h5clear") ||
                 strstr(reason, "lock"))
            hp_errf(err, "results file %s is open for writing by another process, or its writer "
                         "was killed; if no hpsweep is writing it, run `h5clear -s --increment=0 "
                         "%s` (plain `h5clear -s` may lose rows) and try again", path, path);
        else
            hp_errf(err, "results file %s: cannot open it for appending: %s", path, reason);
        results_release(r, NULL);
        return -1;
    }
    int version = 0, ok = hp_h5_check_format(r->file, path, &version, err) == 0 &&
                          hp_h5_types_create(&r->t, err) == 0 && xfer_init(r, err) == 0;
    /* The parameter columns /trials has (none before version 3), then /stage_params if any. */
    if (ok) {
        int n = hp_h5_trial_columns(&r->t, r->file, r->xcols, path, err);
        ok = n >= 0;
        r->nxcols = n > 0 ? n : 0;
    }
    if (ok && H5Lexists(r->file, HP_DS_STAGE_PARAMS, H5P_DEFAULT) > 0) {
        r->sp_ds = hp_h5_open_table(r->file, HP_DS_STAGE_PARAMS, r->t.sparam, 1, path, err);
        ok = r->sp_ds >= 0 && (r->sp_rows = hp_h5_rows(r->sp_ds, HP_DS_STAGE_PARAMS, path, err)) >= 0;
    }
    const hid_t mtypes[DS_COUNT] = {r->t.trial, r->t.curve, r->t.stage, r->t.layout, -1, r->t.final};
    for (int i = 0; ok && i < DS_COUNT; i++) {
        /* A version-1 /trials has no gpu and device: rows updated in it keep that layout. */
        const char *const *optional = i == DS_TRIALS ? hp_h5_trial_optional(version) : NULL;
        r->ds[i] = hp_h5_open_table_opt(r->file, ds_names[i], mtypes[i], i == DS_SNAP ? 2 : 1, optional,
                                        path, err);
        if (r->ds[i] < 0 || (r->rows[i] = hp_h5_rows(r->ds[i], ds_names[i], path, err)) < 0)
            ok = 0;
    }
    if (ok) {
        hid_t space = H5Dget_space(r->ds[DS_SNAP]);
        hsize_t dims[2] = {0, 0};
        if (space < 0 || H5Sget_simple_extent_dims(space, dims, NULL) < 0)
            ok = hp_h5_fail(err, path, "reading the shape of " HP_DS_SNAP) == 0;
        if (space >= 0) H5Sclose(space);
        r->state_size = (int64_t)dims[1];
        if (ok && r->state_size < 1)
            ok = hp_errf(err, "results file %s: %s has no columns", path, HP_DS_SNAP) == 0;
    }
    if (ok && hp_results_ckpt_open(r, err) < 0) ok = 0;
    if (!ok) {
        results_release(r, NULL);
        return -1;
    }
    *out = r;
    return 0;
}
