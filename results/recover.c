/* recover.c - continuing a file: recovering one whose writer was killed, opening one to
 * resume it, removing one for --force; see results.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5schema.h"
#include "results.h"
#include "results_impl.h"

/* ---- recovery after a killed writer ------------------------------------------------------- */

static int copy_table(hp_results *w, int which, hid_t mtype, int64_t n, const void *rows, const char *what,
                      hp_err *err) {
    return hp_results_write_table(w, w->ds[which], &w->rows[which], mtype, 0, n, rows, what, err);
}

/* Copy every row the reader sees into the new writer w (same row indices). */
static int copy_rows(hp_results_reader *rd, hp_results *w, hp_err *err) {
    hp_trial_record *tr = NULL;
    hp_stage_record *st = NULL;
    hp_curve_record *cv = NULL;
    hp_final_record *fr = NULL;
    hp_stage_param_record *sp = NULL;
    float *state = NULL;
    int64_t nt = 0, ns = 0, nc = 0, nf = 0, nsp = 0;
    int ok = hp_results_read_trials(rd, &tr, &nt, err) == 0 && hp_results_read_stages(rd, &st, &ns, err) == 0 &&
             hp_results_read_curves(rd, &cv, &nc, err) == 0 && hp_results_read_final(rd, &fr, &nf, err) == 0 &&
             copy_table(w, DS_TRIALS, w->t.trial, nt, tr, "copying " HP_DS_TRIALS, err) == 0 &&
             copy_table(w, DS_STAGES, w->t.stage, ns, st, "copying " HP_DS_STAGES, err) == 0 &&
             copy_table(w, DS_CURVES, w->t.curve, nc, cv, "copying " HP_DS_CURVES, err) == 0 &&
             copy_table(w, DS_FINAL, w->t.final, nf, fr, "copying " HP_DS_FINAL, err) == 0 &&
             hp_results_read_stage_params(rd, &sp, &nsp, err) == 0 &&
             hp_results_write_table(w, w->sp_ds, &w->sp_rows, w->t.sparam, 0, nsp, sp, "copying " HP_DS_STAGE_PARAMS,
                                    err) == 0;
    int64_t nsnap = ok ? hp_results_read_nsnapshots(rd, err) : -1;
    if (nsnap < 0) ok = 0;
    if (ok && nsnap > 0) {
        state = hp_calloc((size_t)w->state_size, sizeof *state, "a snapshot row", err);
        if (!state) ok = 0;
    }
    for (int64_t i = 0; ok && i < nsnap; i++)
        ok = hp_results_read_snapshot(rd, i, state, err) == 0 &&
             hp_results_append_snapshot(w, state, NULL, err) == 0;
    free(tr);
    free(st);
    free(cv);
    free(fr);
    free(sp);
    free(state);
    return ok ? 0 : -1;
}

int hp_results_recover(const char *path, hp_err *err) {
    hp_results_reader *rd = NULL;
    int lock_fd = -1;
    /* No other writer may hold the file: replacing it under a live sweep would lose its rows. */
    if (hp_results_lock(path, &lock_fd, err) < 0) return -1;
    if (hp_results_open_read(path, &rd, err) < 0) {
        hp_results_unlock(lock_fd);
        return -1;
    }
    const hp_results_header *h = hp_results_reader_header(rd);
    const hp_tensor_info *layout = NULL;
    int nt = hp_results_read_layout(rd, &layout);
    size_t plen = strlen(path);
    char *tmp = hp_calloc(plen + 16, 1, "a file name", err);
    if (!tmp) {
        hp_results_close_read(rd);
        hp_results_unlock(lock_fd);
        return -1;
    }
    snprintf(tmp, plen + 16, "%s.recovering", path);
    if (unlink(tmp) < 0 && errno != ENOENT) {
        hp_errf(err, "results file %s: cannot remove the leftover %s: %s", path, tmp,
                strerror(errno));
        free(tmp);
        hp_results_close_read(rd);
        hp_results_unlock(lock_fd);
        return -1;
    }
    hp_results *w = NULL;
    /* The same parameter columns as the file has. */
    hp_results_meta meta = h->meta;
    meta.state_width = hp_results_reader_state_size(rd); /* as wide as the old rows */
    const hp_param_column *cols = NULL;
    meta.nxcols = hp_results_reader_param_columns(rd, &cols);
    for (int i = 0; i < meta.nxcols; i++) meta.xcols[i] = cols[i];
    int rc = hp_results_create_file(tmp, &meta, h->created_utc, layout, nt, &w, err);
    if (rc == 0 && w->state_size != hp_results_reader_state_size(rd))
        rc = hp_errf(err, "results file %s: its layout does not cover its snapshot rows", path);
    if (rc == 0) rc = copy_rows(rd, w, err);
    if (rc == 0) rc = hp_results_ckpt_copy(rd, w, err);
    if (w && hp_results_close(w, rc == 0 ? err : NULL) < 0) rc = -1;
    hp_results_close_read(rd);
    /* rename() replaces the old file atomically: a crash now leaves the old or the new one. */
    if (rc == 0 && rename(tmp, path) < 0)
        rc = hp_errf(err, "results file %s: cannot replace it with the recovered copy %s: %s",
                     path, tmp, strerror(errno));
    if (rc < 0) {
        hp_err_prefix(err, "recovering %s", path);
        unlink(tmp);
    }
    hp_results_unlock(lock_fd); /* after the rename: no second writer saw the old file meanwhile */
    free(tmp);
    return rc;
}

int hp_results_open_resume(const char *path, int *recovered, hp_results **out, hp_err *err) {
    *recovered = 0;
    if (hp_results_open_append(path, out, err) == 0) return 0;
    /* Why did it fail? A file whose writer was killed opens for SWMR reading but not for plain
     * reading (HDF5 refuses while the "being written" flag is set); anything else (not HDF5,
     * not ours, a live writer, permissions) keeps the first error. */
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
    hp_err probe_err = {{0}};
    int lock_fd = -1;
    if (hp_results_lock(path, &lock_fd, &probe_err) < 0) {
        *err = probe_err;
        return hp_results_writer_alive(path) ? HP_RESULTS_EXISTS : -1; /* another hpsweep writes it */
    }
    hp_results_unlock(lock_fd);
    hp_h5_quiet();
    hid_t fapl = hp_results_read_fapl(path);
    if (fapl < 0) return -1;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    int flagged = 0;
    if (f >= 0) {
        H5Fclose(f);
    } else {
        hp_h5_clear();
        f = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
        if (f >= 0) {
            flagged = 1;
            H5Fclose(f);
        }
        hp_h5_clear();
    }
    H5Pclose(fapl);
    if (!flagged) return -1;
    if (hp_results_recover(path, err) < 0) return -1;
    *recovered = 1;
    return hp_results_open_append(path, out, err);
}

int hp_results_remove(const char *path, hp_err *err) {
    int fd = -1;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && hp_results_lock(path, &fd, err) < 0)
        return strstr(err->msg, "being written") ? HP_RESULTS_EXISTS : -1;
    int rc = unlink(path) == 0 || errno == ENOENT ? 0 : hp_errf(err, "cannot remove %s: %s", path, strerror(errno));
    hp_results_unlock(fd);
    return rc;
}
