/* h5schema.c - HDF5 types of the results file and checked helpers; see h5schema.h. */
#include <stdio.h>

#include "h5schema.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"

static const char *const status_names[] = {"pending", "running", "done",
                                           "diverged", "failed", "pruned"};
#define NSTATUS ((int)(sizeof status_names / sizeof status_names[0]))

const char *hp_trial_status_name(hp_trial_status s) {
    if ((int)s < 0 || (int)s >= NSTATUS) return "unknown";
    return status_names[s];
}

/* The reason of the last failed HDF5 call, captured by an automatic error handler at the
 * moment the call fails: the error stack itself is cleared by the next HDF5 call (even a
 * successful H5Sclose during cleanup), so reading it later would find nothing. */
static char last_reason[256];

typedef struct reason_walk {
    char deepest[256];   /* description of the innermost entry */
    char sysmsg[160];    /* "error message = '...'" of a system call, if any entry has one */
} reason_walk;

static herr_t reason_cb(unsigned n, const H5E_error2_t *e, void *data) {
    reason_walk *w = data;
    if (!e->desc) return 0;
    if (n == 0) snprintf(w->deepest, sizeof w->deepest, "%s", e->desc);
    const char *key = "error message = '";
    const char *p = strstr(e->desc, key);
    if (p && !w->sysmsg[0]) {
        p += strlen(key);
        const char *q = strchr(p, '\'');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        if (len >= sizeof w->sysmsg) len = sizeof w->sysmsg - 1;
        memcpy(w->sysmsg, p, len);
        w->sysmsg[len] = '\0';
    }
    return 0;
}

/* Summarise a stack: the system's message where an entry has one (e.g. "No space left on
 * device"), else the innermost entry's description. Empty if the stack is empty. */
static void summarise_stack(hid_t estack, char *buf, size_t n) {
    reason_walk w;
    memset(&w, 0, sizeof w);
    /* Upward: the innermost (most specific) entry comes first. */
    if (H5Ewalk2(estack, H5E_WALK_UPWARD, reason_cb, &w) < 0) w.deepest[0] = '\0';
    snprintf(buf, n, "%s", w.sysmsg[0] ? w.sysmsg : w.deepest);
}

/* Automatic error handler: instead of printing, remember why the call failed. */
static herr_t capture_reason(hid_t estack, void *data) {
    (void)data;
    summarise_stack(estack, last_reason, sizeof last_reason);
    return 0;
}

void hp_h5_quiet(void) {
    /* First, before HDF5 initialises itself: no exit-time cleanup. Every file is closed
     * explicitly; one whose write failed is abandoned on purpose (results_impl.h). Fails
     * harmlessly when the program used HDF5 before (tests). */
    static int once = 0;
    if (!once) {
        once = 1;
        H5dont_atexit();
    }
    H5Eset_auto2(H5E_DEFAULT, capture_reason, NULL);
}

void hp_h5_clear(void) {
    H5Eclear2(H5E_DEFAULT);
    last_reason[0] = '\0';
}

void hp_h5_reason(char *buf, size_t n) {
    char now[256];
    summarise_stack(H5E_DEFAULT, now, sizeof now);
    if (last_reason[0]) snprintf(buf, n, "%s", last_reason);
    else if (now[0]) snprintf(buf, n, "%s", now);
    else snprintf(buf, n, "unknown HDF5 error");
    hp_h5_clear();
}

hid_t hp_h5_fapl(int latest) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return -1;
    int ok = !latest || H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) >= 0;
#if H5_VERSION_GE(1, 10, 7)
    ok = ok && H5Pset_file_locking(fapl, 1, 1) >= 0;
#endif
    if (!ok) {
        H5Pclose(fapl);
        return -1;
    }
    return fapl;
}

int hp_h5_fail(hp_err *err, const char *path, const char *what) {
    char reason[256];
    hp_h5_reason(reason, sizeof reason);
    const char *hint = "";
    if (strstr(reason, "No space left") || strstr(reason, "File too large") ||
        strstr(reason, "Disk quota"))
        hint = " (free some space; rows flushed before this one are intact)";
    else if (strstr(reason, "Permission denied") || strstr(reason, "Read-only file system"))
        hint = " (write the file into a folder you can write to)";
    return hp_errf(err, "results file %s: %s: %s%s", path, what, reason, hint);
}

/* ---- types ----------------------------------------------------------------------------- */

static hid_t str_type(size_t n) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, n) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

/* Insert a member; on failure the caller sees ok == 0. */
static void ins(hid_t t, const char *name, size_t off, hid_t mt, int *ok) {
    if (*ok && H5Tinsert(t, name, off, mt) < 0) *ok = 0;
}
static void ins_str(hid_t t, const char *name, size_t off, size_t n, int *ok) {
    if (!*ok) return;
    hid_t s = str_type(n);
    if (s < 0) { *ok = 0; return; }
    ins(t, name, off, s, ok);
    H5Tclose(s);
}

void hp_h5_types_close(hp_h5_types *t) {
    hid_t *ids[] = {&t->status, &t->trial, &t->curve, &t->stage, &t->sparam, &t->final, &t->layout, &t->ckpt};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        if (*ids[i] >= 0) H5Tclose(*ids[i]);
        *ids[i] = -1;
    }
}

/* HOFFSET of member m of struct S, shorter. */
#define F(S, m) HOFFSET(S, m)

/* The compound type of /trials rows (hp_trial_record). */
static void trial_type(hp_h5_types *t, int *ok) {
    if (*ok && (t->trial = H5Tcreate(H5T_COMPOUND, sizeof(hp_trial_record))) < 0) *ok = 0;
    ins(t->trial, "id", F(hp_trial_record, id), H5T_NATIVE_INT64, ok);
    ins(t->trial, "stage", F(hp_trial_record, stage), H5T_NATIVE_INT32, ok);
    ins(t->trial, "status", F(hp_trial_record, status), t->status, ok);
    ins(t->trial, "lr", F(hp_trial_record, lr), H5T_NATIVE_DOUBLE, ok);
    ins(t->trial, "weight_decay", F(hp_trial_record, weight_decay), H5T_NATIVE_DOUBLE, ok);
    ins(t->trial, "seed", F(hp_trial_record, seed), H5T_NATIVE_UINT64, ok);
    ins(t->trial, "epochs_planned", F(hp_trial_record, epochs_planned), H5T_NATIVE_INT32, ok);
    ins(t->trial, "epochs_done", F(hp_trial_record, epochs_done), H5T_NATIVE_INT32, ok);
    ins(t->trial, "best_val_acc", F(hp_trial_record, best_val_acc), H5T_NATIVE_DOUBLE, ok);
    ins(t->trial, "best_val_loss", F(hp_trial_record, best_val_loss), H5T_NATIVE_DOUBLE, ok);
    ins(t->trial, "best_epoch", F(hp_trial_record, best_epoch), H5T_NATIVE_INT32, ok);
    ins(t->trial, "initial_loss", F(hp_trial_record, initial_loss), H5T_NATIVE_DOUBLE, ok);
    ins(t->trial, "update_ratio", F(hp_trial_record, update_ratio), H5T_NATIVE_DOUBLE, ok);
    ins(t->trial, "seconds", F(hp_trial_record, seconds), H5T_NATIVE_DOUBLE, ok);
    ins(t->trial, "rank", F(hp_trial_record, rank), H5T_NATIVE_INT32, ok);
    ins_str(t->trial, "host", F(hp_trial_record, host), sizeof(((hp_trial_record *)0)->host), ok);
    ins(t->trial, "gpu", F(hp_trial_record, gpu), H5T_NATIVE_INT32, ok); /* format version 2 */
    ins_str(t->trial, "device", F(hp_trial_record, device), sizeof(((hp_trial_record *)0)->device), ok);
    ins(t->trial, "snapshot_row", F(hp_trial_record, snapshot_row), H5T_NATIVE_INT64, ok);
    ins_str(t->trial, "message", F(hp_trial_record, message),
            sizeof(((hp_trial_record *)0)->message), ok);
    ins(t->trial, "parent", F(hp_trial_record, parent), H5T_NATIVE_INT64, ok); /* optional (results.h) */
}

/* The compound type of /curves rows (hp_curve_record). */
static void curve_type(hp_h5_types *t, int *ok) {
    if (*ok && (t->curve = H5Tcreate(H5T_COMPOUND, sizeof(hp_curve_record))) < 0) *ok = 0;
    ins(t->curve, "trial", F(hp_curve_record, trial), H5T_NATIVE_INT64, ok);
    ins(t->curve, "epoch", F(hp_curve_record, epoch), H5T_NATIVE_INT32, ok);
    ins(t->curve, "lr", F(hp_curve_record, lr), H5T_NATIVE_DOUBLE, ok);
    ins(t->curve, "train_loss", F(hp_curve_record, train_loss), H5T_NATIVE_DOUBLE, ok);
    ins(t->curve, "train_acc", F(hp_curve_record, train_acc), H5T_NATIVE_DOUBLE, ok);
    ins(t->curve, "val_loss", F(hp_curve_record, val_loss), H5T_NATIVE_DOUBLE, ok);
    ins(t->curve, "val_acc", F(hp_curve_record, val_acc), H5T_NATIVE_DOUBLE, ok);
    ins(t->curve, "seconds", F(hp_curve_record, seconds), H5T_NATIVE_DOUBLE, ok);
    ins(t->curve, "update_ratio", F(hp_curve_record, update_ratio), H5T_NATIVE_DOUBLE, ok);
    for (int k = 0; k < HP_CURVE_RATIOS; k++) { /* scalar columns, not an array: pandas needs 1-D fields */
        char col[32];
        snprintf(col, sizeof col, "layer_update_ratio_%02d", k);
        ins(t->curve, col, F(hp_curve_record, layer_update_ratio) + (size_t)k * sizeof(float), H5T_NATIVE_FLOAT,
            ok);
    }
}

/* The compound type of /stage_params rows (hp_stage_param_record). */
static void sparam_type(hp_h5_types *t, int *ok) {
    typedef hp_stage_param_record R;
    if (*ok && (t->sparam = H5Tcreate(H5T_COMPOUND, sizeof(R))) < 0) *ok = 0;
    ins(t->sparam, "stage", F(R, stage), H5T_NATIVE_INT32, ok);
    ins_str(t->sparam, "name", F(R, name), sizeof(((R *)0)->name), ok);
    ins_str(t->sparam, "scale", F(R, scale), sizeof(((R *)0)->scale), ok);
    ins(t->sparam, "low", F(R, low), H5T_NATIVE_DOUBLE, ok);
    ins(t->sparam, "high", F(R, high), H5T_NATIVE_DOUBLE, ok);
    ins_str(t->sparam, "derivation", F(R, derivation), sizeof(((R *)0)->derivation), ok);
    ins_str(t->sparam, "choices", F(R, choices), sizeof(((R *)0)->choices), ok);
}

int hp_h5_trial_add_columns(hp_h5_types *t, const hp_param_column *cols, int n, const char *path, hp_err *err) {
    if (n < 0 || n > HP_MAX_XCOLS)
        return hp_errf(err, "results file %s: %d parameter columns, more than the %d a file holds", path, n,
                       HP_MAX_XCOLS);
    int ok = 1;
    for (int i = 0; i < n && ok; i++) {
        if (cols[i].text)
            ins_str(t->trial, cols[i].name, F(hp_trial_record, xcol) + (size_t)i * sizeof(hp_param_value), HP_XTEXT,
                    &ok);
        else
            ins(t->trial, cols[i].name, F(hp_trial_record, xcol) + (size_t)i * sizeof(hp_param_value), H5T_NATIVE_DOUBLE,
                &ok);
    }
    if (!ok) return hp_h5_fail(err, path, "adding the parameter columns to the /trials type");
    return 0;
}

int hp_h5_trial_find_columns(const hp_h5_types *t, hid_t ds, hp_param_column cols[HP_MAX_XCOLS], const char *path,
                             hp_err *err) {
    hid_t ft = H5Dget_type(ds);
    if (ft < 0) return hp_h5_fail(err, path, "reading the type of " HP_DS_TRIALS);
    int n = 0, rc = 0, nm = H5Tget_class(ft) == H5T_COMPOUND ? H5Tget_nmembers(ft) : 0;
    for (int i = 0; i < nm && rc == 0; i++) {
        char *name = H5Tget_member_name(ft, (unsigned)i);
        if (!name) {
            rc = hp_h5_fail(err, path, "reading a member name of " HP_DS_TRIALS);
            break;
        }
        H5E_BEGIN_TRY { rc = H5Tget_member_index(t->trial, name) >= 0 ? 1 : 0; }
        H5E_END_TRY;
        if (rc == 1) {
            rc = 0;
        } else if (n == HP_MAX_XCOLS || strlen(name) >= sizeof cols[0].name) {
            rc = hp_errf(err, "results file %s: %s has a column '%.64s' beyond the %d parameter columns (of names "
                         "under %zu bytes) this build reads", path, HP_DS_TRIALS, name, HP_MAX_XCOLS,
                         sizeof cols[0].name);
        } else {
            snprintf(cols[n].name, sizeof cols[n].name, "%s", name);
            cols[n].text = H5Tget_member_class(ft, (unsigned)i) == H5T_STRING;
            n++;
        }
        H5free_memory(name);
    }
    H5Tclose(ft);
    return rc ? -1 : n;
}

int hp_h5_trial_columns(hp_h5_types *t, hid_t file, hp_param_column cols[HP_MAX_XCOLS], const char *path, hp_err *err) {
    hid_t tr = H5Dopen2(file, HP_DS_TRIALS, H5P_DEFAULT);
    if (tr < 0) return hp_h5_fail(err, path, "opening " HP_DS_TRIALS);
    int n = hp_h5_trial_find_columns(t, tr, cols, path, err);
    H5Dclose(tr);
    if (n >= 0 && hp_h5_trial_add_columns(t, cols, n, path, err) != 0) return -1;
    return n;
}

int hp_h5_read_row(hid_t ds, int64_t row, float *vec, int64_t n, const char *path, const char *name, hp_err *err) {
    hsize_t off[2] = {(hsize_t)row, 0}, cnt[2] = {1, (hsize_t)n};
    hid_t fspace = H5Dget_space(ds), mspace = H5Screate_simple(2, cnt, NULL);
    int ok = fspace >= 0 && mspace >= 0 && H5Sselect_hyperslab(fspace, H5S_SELECT_SET, off, NULL, cnt, NULL) >= 0 &&
             H5Dread(ds, H5T_NATIVE_FLOAT, mspace, fspace, H5P_DEFAULT, vec) >= 0;
    if (fspace >= 0) H5Sclose(fspace);
    if (mspace >= 0) H5Sclose(mspace);
    if (!ok) {
        char what[96];
        snprintf(what, sizeof what, "reading a row of %s", name);
        return hp_h5_fail(err, path, what);
    }
    return 0;
}

/* The compound type of /stages rows (hp_stage_record). */
static void stage_type(hp_h5_types *t, int *ok) {
    if (*ok && (t->stage = H5Tcreate(H5T_COMPOUND, sizeof(hp_stage_record))) < 0) *ok = 0;
    ins(t->stage, "stage", F(hp_stage_record, stage), H5T_NATIVE_INT32, ok);
    ins_str(t->stage, "method", F(hp_stage_record, method),
            sizeof(((hp_stage_record *)0)->method), ok);
    ins(t->stage, "trials", F(hp_stage_record, trials), H5T_NATIVE_INT32, ok);
    ins(t->stage, "epochs", F(hp_stage_record, epochs), H5T_NATIVE_INT32, ok);
    ins(t->stage, "first_trial", F(hp_stage_record, first_trial), H5T_NATIVE_INT64, ok);
    ins(t->stage, "lr_low", F(hp_stage_record, lr_low), H5T_NATIVE_DOUBLE, ok);
    ins(t->stage, "lr_high", F(hp_stage_record, lr_high), H5T_NATIVE_DOUBLE, ok);
    ins_str(t->stage, "lr_derivation", F(hp_stage_record, lr_derivation),
            sizeof(((hp_stage_record *)0)->lr_derivation), ok);
    ins(t->stage, "wd_low", F(hp_stage_record, wd_low), H5T_NATIVE_DOUBLE, ok);
    ins(t->stage, "wd_high", F(hp_stage_record, wd_high), H5T_NATIVE_DOUBLE, ok);
    ins_str(t->stage, "wd_derivation", F(hp_stage_record, wd_derivation),
            sizeof(((hp_stage_record *)0)->wd_derivation), ok);
}

/* The compound type of /final rows (hp_final_record). */
static void final_type(hp_h5_types *t, int *ok) {
    if (*ok && (t->final = H5Tcreate(H5T_COMPOUND, sizeof(hp_final_record))) < 0) *ok = 0;
    ins_str(t->final, "kind", F(hp_final_record, kind), sizeof(((hp_final_record *)0)->kind), ok);
    ins(t->final, "trial", F(hp_final_record, trial), H5T_NATIVE_INT64, ok);
    ins(t->final, "val_acc", F(hp_final_record, val_acc), H5T_NATIVE_DOUBLE, ok);
    ins(t->final, "test_loss", F(hp_final_record, test_loss), H5T_NATIVE_DOUBLE, ok);
    ins(t->final, "test_acc", F(hp_final_record, test_acc), H5T_NATIVE_DOUBLE, ok);
}

/* The compound type of /model/layout rows (hp_tensor_info). */
static void layout_type(hp_h5_types *t, int *ok) {
    if (*ok && (t->layout = H5Tcreate(H5T_COMPOUND, sizeof(hp_tensor_info))) < 0) *ok = 0;
    ins_str(t->layout, "name", F(hp_tensor_info, name), sizeof(((hp_tensor_info *)0)->name), ok);
    ins(t->layout, "ndim", F(hp_tensor_info, ndim), H5T_NATIVE_INT, ok);
    if (*ok) {
        hsize_t four = 4;
        hid_t shape = H5Tarray_create2(H5T_NATIVE_INT64, 1, &four);
        if (shape < 0) *ok = 0;
        ins(t->layout, "shape", F(hp_tensor_info, shape), shape, ok);
        if (shape >= 0) H5Tclose(shape);
    }
    ins(t->layout, "offset", F(hp_tensor_info, offset), H5T_NATIVE_INT64, ok);
    ins(t->layout, "size", F(hp_tensor_info, size), H5T_NATIVE_INT64, ok);
    ins(t->layout, "is_buffer", F(hp_tensor_info, is_buffer), H5T_NATIVE_INT, ok);
}

/* The compound type of /checkpoints/index rows (hp_checkpoint_record). */
static void ckpt_type(hp_h5_types *t, int *ok) {
    if (*ok && (t->ckpt = H5Tcreate(H5T_COMPOUND, sizeof(hp_checkpoint_record))) < 0) *ok = 0;
    ins(t->ckpt, "trial", F(hp_checkpoint_record, trial), H5T_NATIVE_INT64, ok);
    ins(t->ckpt, "epochs_done", F(hp_checkpoint_record, epochs_done), H5T_NATIVE_INT32, ok);
    ins(t->ckpt, "best_epoch", F(hp_checkpoint_record, best_epoch), H5T_NATIVE_INT32, ok);
    ins(t->ckpt, "best_val_acc", F(hp_checkpoint_record, best_val_acc), H5T_NATIVE_DOUBLE, ok);
    ins(t->ckpt, "best_val_loss", F(hp_checkpoint_record, best_val_loss), H5T_NATIVE_DOUBLE, ok);
    ins(t->ckpt, "initial_loss", F(hp_checkpoint_record, initial_loss), H5T_NATIVE_DOUBLE, ok);
    ins(t->ckpt, "lr", F(hp_checkpoint_record, lr), H5T_NATIVE_DOUBLE, ok);
    ins(t->ckpt, "seconds", F(hp_checkpoint_record, seconds), H5T_NATIVE_DOUBLE, ok);
    ins(t->ckpt, "version", F(hp_checkpoint_record, version), H5T_NATIVE_INT32, ok);
    ins(t->ckpt, "has_rng", F(hp_checkpoint_record, has_rng), H5T_NATIVE_INT32, ok);
    if (*ok) {
        hsize_t two = 2, four = 4;
        hid_t rng = H5Tarray_create2(H5T_NATIVE_UINT64, 1, &two);
        hid_t sched = H5Tarray_create2(H5T_NATIVE_DOUBLE, 1, &four);
        if (rng < 0 || sched < 0) *ok = 0;
        ins(t->ckpt, "rng", F(hp_checkpoint_record, rng), rng, ok);
        ins(t->ckpt, "sched", F(hp_checkpoint_record, sched), sched, ok);
        if (rng >= 0) H5Tclose(rng);
        if (sched >= 0) H5Tclose(sched);
    }
    ins(t->ckpt, "model_floats", F(hp_checkpoint_record, model_floats), H5T_NATIVE_INT64, ok);
    ins(t->ckpt, "optim_floats", F(hp_checkpoint_record, optim_floats), H5T_NATIVE_INT64, ok);
}
#undef F

int hp_h5_types_create(hp_h5_types *t, hp_err *err) {
    t->status = t->trial = t->curve = t->stage = t->sparam = t->final = t->layout = t->ckpt = -1;
    int ok = 1;

    t->status = H5Tenum_create(H5T_NATIVE_INT32);
    if (t->status < 0) ok = 0;
    for (int32_t v = 0; ok && v < NSTATUS; v++)
        if (H5Tenum_insert(t->status, status_names[v], &v) < 0) ok = 0;

    trial_type(t, &ok);
    curve_type(t, &ok);
    stage_type(t, &ok);
    sparam_type(t, &ok);
    final_type(t, &ok);
    layout_type(t, &ok);
    ckpt_type(t, &ok);

    if (!ok) {
        char reason[256];
        hp_h5_reason(reason, sizeof reason);
        hp_h5_types_close(t);
        return hp_errf(err, "building the HDF5 types of the results file failed: %s", reason);
    }
    return 0;
}

/* ---- attributes ------------------------------------------------------------------------ */

static int attr_write(hid_t obj, const char *name, hid_t type, const void *v, const char *path,
                      hp_err *err) {
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = space < 0 ? -1 : H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 ? -1 : H5Awrite(a, type, v) < 0 ? -1 : 0;
    if (a >= 0 && H5Aclose(a) < 0) rc = -1;
    if (space >= 0) H5Sclose(space);
    if (rc < 0) {
        char what[128];
        snprintf(what, sizeof what, "writing root attribute '%s'", name);
        return hp_h5_fail(err, path, what);
    }
    return 0;
}

int hp_h5_attr_write_str(hid_t obj, const char *name, const char *s, size_t len, const char *path,
                         hp_err *err) {
    /* A fixed-length string of exactly the text's length (HDF5 strings have size >= 1; NULLPAD
     * because no terminator is stored). */
    size_t n = len > 0 ? len : 1;
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0 || H5Tset_size(t, n) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0) {
        if (t >= 0) H5Tclose(t);
        return hp_h5_fail(err, path, "making a string type");
    }
    /* H5Awrite reads exactly n bytes (no conversion: same type), so s needs no terminator. */
    int rc = attr_write(obj, name, t, len > 0 ? s : "", path, err);
    H5Tclose(t);
    return rc;
}

int hp_h5_attr_write_u64(hid_t obj, const char *name, uint64_t v, const char *path, hp_err *err) {
    return attr_write(obj, name, H5T_NATIVE_UINT64, &v, path, err);
}

int hp_h5_attr_write_i32(hid_t obj, const char *name, int32_t v, const char *path, hp_err *err) {
    return attr_write(obj, name, H5T_NATIVE_INT32, &v, path, err);
}

/* Open attribute `name` of obj: returns its id, 0-like "absent" as -2, error as -1. */
static hid_t attr_open(hid_t obj, const char *name, const char *path, hp_err *err) {
    htri_t ex = H5Aexists(obj, name);
    if (ex < 0) {
        char what[128];
        snprintf(what, sizeof what, "looking for root attribute '%s'", name);
        hp_h5_fail(err, path, what);
        return -1;
    }
    if (ex == 0) return -2;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) {
        char what[128];
        snprintf(what, sizeof what, "opening root attribute '%s'", name);
        hp_h5_fail(err, path, what);
        return -1;
    }
    return a;
}

int hp_h5_attr_read_str(hid_t obj, const char *name, char **out, size_t *len, const char *path,
                        hp_err *err) {
    *out = NULL;
    if (len) *len = 0;
    hid_t a = attr_open(obj, name, path, err);
    if (a == -2) return 0;
    if (a < 0) return -1;
    int rc = -1;
    hid_t ft = H5Aget_type(a), space = H5Aget_space(a), mt = -1;
    if (ft < 0 || space < 0) { hp_h5_fail(err, path, "reading an attribute's type"); goto done; }
    if (H5Tget_class(ft) != H5T_STRING || H5Sget_simple_extent_npoints(space) != 1) {
        hp_errf(err, "results file %s: root attribute '%s' is not a single string", path, name);
        goto done;
    }
    htri_t vlen = H5Tis_variable_str(ft);
    if (vlen < 0) { hp_h5_fail(err, path, "reading an attribute's type"); goto done; }
    if (vlen) {
        mt = H5Tcopy(H5T_C_S1);
        char *p = NULL;
        if (mt < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Aread(a, mt, &p) < 0) {
            char what[128];
            snprintf(what, sizeof what, "reading root attribute '%s'", name);
            hp_h5_fail(err, path, what);
            goto done;
        }
        size_t n = p ? strlen(p) : 0;
        *out = hp_calloc(n + 1, 1, "a string attribute", err);
        if (*out && n) memcpy(*out, p, n);
        if (p) H5free_memory(p);
        if (!*out) goto done;
        if (len) *len = n;
    } else {
        size_t n = H5Tget_size(ft);
        mt = H5Tcopy(ft);
        char *buf = hp_calloc(n + 1, 1, "a string attribute", err);
        if (!buf) goto done;
        if (mt < 0 || H5Aread(a, mt, buf) < 0) {
            free(buf);
            char what[128];
            snprintf(what, sizeof what, "reading root attribute '%s'", name);
            hp_h5_fail(err, path, what);
            goto done;
        }
        buf[n] = '\0';
        *out = buf;
        if (len) *len = strlen(buf);
    }
    rc = 1;
done:
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (space >= 0) H5Sclose(space);
    H5Aclose(a);
    return rc;
}

static int attr_read_int(hid_t obj, const char *name, hid_t mt, void *out, const char *path,
                         hp_err *err) {
    hid_t a = attr_open(obj, name, path, err);
    if (a == -2) return 0;
    if (a < 0) return -1;
    int rc = 1;
    hid_t ft = H5Aget_type(a), space = H5Aget_space(a);
    if (ft < 0 || space < 0 || H5Tget_class(ft) != H5T_INTEGER ||
        H5Sget_simple_extent_npoints(space) != 1) {
        hp_h5_clear();
        rc = hp_errf(err, "results file %s: root attribute '%s' is not a single integer", path,
                     name);
    } else if (H5Aread(a, mt, out) < 0) {
        char what[128];
        snprintf(what, sizeof what, "reading root attribute '%s'", name);
        rc = hp_h5_fail(err, path, what);
    }
    if (ft >= 0) H5Tclose(ft);
    if (space >= 0) H5Sclose(space);
    H5Aclose(a);
    return rc;
}

int hp_h5_attr_read_i64(hid_t obj, const char *name, int64_t *out, const char *path, hp_err *err) {
    return attr_read_int(obj, name, H5T_NATIVE_INT64, out, path, err);
}

int hp_h5_attr_read_u64(hid_t obj, const char *name, uint64_t *out, const char *path, hp_err *err) {
    return attr_read_int(obj, name, H5T_NATIVE_UINT64, out, path, err);
}

int hp_h5_check_format(hid_t file, const char *path, int *version, hp_err *err) {
    char *fmt = NULL;
    int got = hp_h5_attr_read_str(file, "format", &fmt, NULL, path, err);
    if (got < 0) return -1;
    if (got == 0)
        return hp_errf(err, "%s is an HDF5 file but not an hpsweep results file (no 'format' "
                            "attribute)", path);
    int same = strcmp(fmt, HP_FORMAT_NAME) == 0;
    if (!same) {
        hp_errf(err, "%s is an HDF5 file but not an hpsweep results file (its 'format' attribute "
                     "is '%.64s', not '" HP_FORMAT_NAME "')", path, fmt);
        free(fmt);
        return -1;
    }
    free(fmt);
    int64_t v = 0;
    got = hp_h5_attr_read_i64(file, "format_version", &v, path, err);
    if (got < 0) return -1;
    if (got == 0)
        return hp_errf(err, "results file %s has no 'format_version' attribute (damaged, or not "
                            "written by hpsweep)", path);
    if (v > HP_FORMAT_VERSION)
        return hp_errf(err, "%s was written by a newer hpsweep (format version %lld; this build "
                            "reads %d); upgrade hpsweep", path, (long long)v, HP_FORMAT_VERSION);
    if (v < 1)
        return hp_errf(err, "results file %s has an invalid format_version %lld (expected 1..%d)",
                       path, (long long)v, HP_FORMAT_VERSION);
    *version = (int)v;
    return 0;
}

/* ---- datasets -------------------------------------------------------------------------- */

static const char *class_name(H5T_class_t c) {
    switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_STRING: return "string";
    case H5T_ENUM: return "enum";
    case H5T_ARRAY: return "array";
    case H5T_COMPOUND: return "compound";
    default: return "other";
    }
}

static int is_optional(const char *const *optional, const char *member) {
    for (; optional && *optional; optional++)
        if (strcmp(*optional, member) == 0) return 1;
    return 0;
}

const char *const *hp_h5_trial_optional(int version) {
    static const char *const added_in_2[] = {"gpu", "device", "parent", NULL};
    static const char *const added_later[] = {"parent", NULL}; /* no version change: results.h */
    return version < 2 ? added_in_2 : added_later;
}

/* Every member of the memory compound type must exist in the file type with the same class
 * (and, for arrays, the same dimensions), except the optional ones, which may be absent; HDF5
 * then converts by member name (h5schema.h says what it does with absent members). */
static int check_members(hid_t ftype, hid_t mtype, const char *const *optional, const char *name,
                         const char *path, hp_err *err) {
    if (H5Tget_class(ftype) != H5T_COMPOUND)
        return hp_errf(err, "results file %s: dataset %s is not a table (compound type, found %s)",
                       path, name, class_name(H5Tget_class(ftype)));
    int n = H5Tget_nmembers(mtype);
    for (int i = 0; i < n; i++) {
        char *mname = H5Tget_member_name(mtype, (unsigned)i);
        if (!mname) return hp_h5_fail(err, path, "reading a member name");
        int fi = H5Tget_member_index(ftype, mname);
        int rc = 0;
        if (fi < 0 && is_optional(optional, mname)) {
            hp_h5_clear(); /* absent, and allowed to be */
        } else if (fi < 0) {
            hp_h5_clear();
            rc = hp_errf(err, "results file %s: dataset %s has no field '%s' (damaged, or not "
                              "written by hpsweep)", path, name, mname);
        } else {
            H5T_class_t mc = H5Tget_member_class(mtype, (unsigned)i);
            H5T_class_t fc = H5Tget_member_class(ftype, (unsigned)fi);
            if (mc != fc)
                rc = hp_errf(err, "results file %s: field '%s' of %s is %s, expected %s", path,
                             mname, name, class_name(fc), class_name(mc));
            else if (mc == H5T_ARRAY) {
                hid_t ma = H5Tget_member_type(mtype, (unsigned)i);
                hid_t fa = H5Tget_member_type(ftype, (unsigned)fi);
                hsize_t md[4] = {0}, fd[4] = {0};
                int mr = ma < 0 ? -1 : H5Tget_array_ndims(ma);
                int fr = fa < 0 ? -1 : H5Tget_array_ndims(fa);
                if (mr != 1 || fr != 1 || H5Tget_array_dims2(ma, md) < 0 ||
                    H5Tget_array_dims2(fa, fd) < 0 || md[0] != fd[0]) {
                    hp_h5_clear();
                    rc = hp_errf(err, "results file %s: field '%s' of %s has the wrong shape "
                                      "(expected [%llu])", path, mname, name,
                                 (unsigned long long)md[0]);
                }
                if (ma >= 0) H5Tclose(ma);
                if (fa >= 0) H5Tclose(fa);
            }
        }
        H5free_memory(mname);
        if (rc < 0) return -1;
    }
    return 0;
}

hid_t hp_h5_open_table(hid_t file, const char *name, hid_t mtype, int rank, const char *path,
                       hp_err *err) {
    return hp_h5_open_table_opt(file, name, mtype, rank, NULL, path, err);
}

hid_t hp_h5_open_table_opt(hid_t file, const char *name, hid_t mtype, int rank,
                           const char *const *optional, const char *path, hp_err *err) {
    /* H5Lexists on "/a/b" needs "/a" to exist: check each level. */
    char partial[128];
    for (const char *p = strchr(name + 1, '/');; p = strchr(p + 1, '/')) {
        size_t n = p ? (size_t)(p - name) : strlen(name);
        if (n >= sizeof partial) n = sizeof partial - 1;
        memcpy(partial, name, n);
        partial[n] = '\0';
        htri_t ex = H5Lexists(file, partial, H5P_DEFAULT);
        if (ex < 0) return hp_h5_fail(err, path, "looking up a dataset");
        if (ex == 0)
            return hp_errf(err, "results file %s has no dataset %s (damaged, or not written by "
                                "hpsweep)", path, name);
        if (!p) break;
    }
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    if (ds < 0) {
        char what[160];
        snprintf(what, sizeof what, "opening dataset %s", name);
        return hp_h5_fail(err, path, what);
    }
    hid_t space = H5Dget_space(ds), ftype = H5Dget_type(ds);
    int rc = 0;
    if (space < 0 || ftype < 0) {
        rc = hp_h5_fail(err, path, "reading a dataset's shape and type");
    } else {
        int r = H5Sget_simple_extent_ndims(space);
        if (r != rank)
            rc = hp_errf(err, "results file %s: dataset %s has rank %d, expected %d", path, name,
                         r, rank);
        else if (mtype >= 0)
            rc = check_members(ftype, mtype, optional, name, path, err);
    }
    if (space >= 0) H5Sclose(space);
    if (ftype >= 0) H5Tclose(ftype);
    if (rc < 0) {
        H5Dclose(ds);
        return -1;
    }
    return ds;
}

int64_t hp_h5_rows(hid_t ds, const char *name, const char *path, hp_err *err) {
    hid_t space = H5Dget_space(ds);
    hsize_t dims[2] = {0, 0};
    if (space < 0 || H5Sget_simple_extent_dims(space, dims, NULL) < 0) {
        if (space >= 0) H5Sclose(space);
        char what[160];
        snprintf(what, sizeof what, "reading the size of %s", name);
        return hp_h5_fail(err, path, what);
    }
    H5Sclose(space);
    return (int64_t)dims[0];
}
