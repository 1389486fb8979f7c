/* test_resume.c - what resume reads from a results file (orchestrator/resume.c), on a file made
 * to hold every leftover an interruption can leave: finished, running and pending trials; two
 * checkpoint slots for one running trial (the later wins); a stale checkpoint of a finished trial
 * (ignored); a snapshot row no trial names; a zero-filled curve row; trial rows past the last
 * stage; a zero-filled last stage row. Also the ranking rule (hp_trial_better). */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "h5schema.h"
#include "resume.h"
#include "results.h"

#define FILE_NAME "resume_leftovers.h5"
enum { NS = 3, NO = 1, WIDTH = 2 * NS + NO };

static hp_tensor_info layout[1] = {{.name = "w", .ndim = 1, .shape = {NS}, .size = NS}};

static hp_trial_record trial(int64_t id, int stage, hp_trial_status st, double acc) {
    hp_trial_record t = {.id = id, .stage = stage, .status = st, .lr = 0.01 * (double)(id + 1), .weight_decay = 1e-4,
                         .epochs_planned = 3, .best_val_acc = acc, .best_epoch = isnan(acc) ? 0 : 2,
                         .snapshot_row = -1};
    return t;
}

static hp_checkpoint_record ck(int64_t trial, int epochs) {
    hp_checkpoint_record c;
    memset(&c, 0, sizeof c);
    c.trial = trial;
    c.epochs_done = epochs;
    c.best_epoch = epochs;
    c.version = 1;
    c.model_floats = NS;
    c.optim_floats = NO;
    return c;
}

/* Write raw rows the writer would never write in one go (what a kill in between leaves). */
static int raw_rows(hp_err *err) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    hid_t f = H5Fopen(FILE_NAME, H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    hp_h5_types t;
    if (f < 0 || hp_h5_types_create(&t, err) < 0) return -1;
    int ok = 1;
    /* A second, older slot for the running trial 4 (epochs 1) at index row 2, beside its
     * epochs-2 slot (a kill before the old slot was freed). */
    hp_checkpoint_record old = ck(4, 1);
    hid_t ds = H5Dopen2(f, "/checkpoints/index", H5P_DEFAULT);
    hsize_t n = 3, off = 2, one = 1;
    hid_t fs = -1, ms = -1;
    ok = ds >= 0 && H5Dset_extent(ds, &n) >= 0 && (fs = H5Dget_space(ds)) >= 0 &&
         H5Sselect_hyperslab(fs, H5S_SELECT_SET, &off, NULL, &one, NULL) >= 0 &&
         (ms = H5Screate_simple(1, &one, NULL)) >= 0 && H5Dwrite(ds, t.ckpt, ms, fs, H5P_DEFAULT, &old) >= 0;
    H5Sclose(fs), H5Sclose(ms), H5Dclose(ds);
    /* A zero-filled curve row (the table grew, the row was never written), a trial row past
     * the last stage, and a zero-filled last stage row. */
    const char *grow[3] = {"/curves", "/trials", "/stages"};
    for (int i = 0; ok && i < 3; i++) {
        ds = H5Dopen2(f, grow[i], H5P_DEFAULT);
        hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
        hsize_t dims = 0;
        ok = sp >= 0 && H5Sget_simple_extent_dims(sp, &dims, NULL) >= 0;
        dims += 1;
        ok = ok && H5Dset_extent(ds, &dims) >= 0;
        H5Sclose(sp), H5Dclose(ds);
    }
    hp_h5_types_close(&t);
    ok = ok && H5Fclose(f) >= 0;
    return ok ? 0 : hp_errf(err, "raw HDF5 writes failed");
}

static int make_file(hp_err *err) {
    unlink(FILE_NAME);
    hp_results_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.spec_yaml = "name: r\n";
    meta.spec_len = 8;
    meta.checkpoint_width = WIDTH;
    hp_results *w = NULL;
    if (hp_results_create(FILE_NAME, &meta, layout, 1, &w, err) < 0) return -1;
    /* Stage 0: trials 0..3; stage 1: trials 4..5. */
    hp_stage_record s0 = {.stage = 0, .method = "random", .trials = 4, .epochs = 3, .first_trial = 0};
    hp_stage_record s1 = {.stage = 1, .method = "grid", .trials = 2, .epochs = 3, .first_trial = 4};
    hp_trial_record t0[4] = {trial(0, 0, HP_TRIAL_DONE, 0.8), trial(1, 0, HP_TRIAL_DIVERGED, NAN),
                             trial(2, 0, HP_TRIAL_DONE, 0.9), trial(3, 0, HP_TRIAL_DONE, 0.9)};
    hp_trial_record t1[2] = {trial(4, 1, HP_TRIAL_RUNNING, 0.7), trial(5, 1, HP_TRIAL_PENDING, NAN)};
    float v[WIDTH] = {0}, snap[NS];
    int64_t row = -1;
    int rc = hp_results_add_stage(w, &s0, t0, 4, err);
    for (int i = 0; rc == 0 && i < 4; i++) { /* snapshots of trials 0, 2, 3 as rows 0, 2, 3; row 1 orphan */
        for (int k = 0; k < NS; k++) snap[k] = (float)(10 * i + k);
        rc = hp_results_append_snapshot(w, snap, &row, err);
        if (i != 1) t0[i].snapshot_row = row;
        if (rc == 0 && i != 1) rc = hp_results_update_trial(w, &t0[i], err);
    }
    hp_checkpoint_record c = ck(3, 2); /* stale: trial 3 is done */
    if (rc == 0) rc = hp_results_write_checkpoint(w, &c, v, WIDTH, err);
    if (rc == 0) rc = hp_results_add_stage(w, &s1, t1, 2, err);
    c = ck(4, 2);
    for (int k = 0; k < WIDTH; k++) v[k] = (float)(400 + k);
    if (rc == 0) rc = hp_results_write_checkpoint(w, &c, v, WIDTH, err);
    hp_curve_record cr = {.trial = 4, .epoch = 1, .val_acc = 0.6};
    if (rc == 0) rc = hp_results_append_curve(w, &cr, err);
    cr.epoch = 2;
    if (rc == 0) rc = hp_results_append_curve(w, &cr, err);
    cr.epoch = 3; /* ran after the checkpoint: it will run again and rewrite this row */
    if (rc == 0) rc = hp_results_append_curve(w, &cr, err);
    if (hp_results_close(w, rc == 0 ? err : NULL) < 0) rc = -1;
    return rc == 0 ? raw_rows(err) : -1;
}

int main(void) {
    hp_err err = {{0}};
    hp_trial_record a = trial(7, 0, HP_TRIAL_DONE, 0.9), b = trial(3, 0, HP_TRIAL_DONE, 0.9),
                    c = trial(1, 0, HP_TRIAL_DONE, 0.95);
    CHECK(hp_trial_better(&b, &a) && !hp_trial_better(&a, &b), "equal accuracy: the lower id ranks first");
    CHECK(hp_trial_better(&c, &b) && !hp_trial_better(&b, &c), "higher accuracy ranks first");
    CHECK(hp_trial_finished(HP_TRIAL_PRUNED) && !hp_trial_finished(HP_TRIAL_RUNNING), "finished statuses");

    if (!CHECK(make_file(&err) == 0, "make the file: %s", err.msg)) return hp_check_summary("test_resume");
    hp_resume r;
    if (!CHECK(hp_resume_load(FILE_NAME, &r, &err) == 0, "load: %s", err.msg)) return hp_check_summary("test_resume");
    CHECK(r.nstages == 2, "the zero-filled last stage row is dropped: %lld stages", (long long)r.nstages);
    CHECK(r.ntrials == 6 && r.trial_rows == 7, "6 staged trials, 7 trial rows (%lld, %lld)", (long long)r.ntrials,
          (long long)r.trial_rows);
    CHECK(r.nckpt == 1 && r.ckpt[4].rec.trial == 4 && r.ckpt[4].rec.epochs_done == 2 && r.ckpt[4].n == WIDTH &&
              r.ckpt[4].vec && r.ckpt[4].vec[0] == 400.0f && r.ckpt[4].vec[WIDTH - 1] == 400.0f + WIDTH - 1,
          "the running trial's later checkpoint (epochs 2, not the older slot), vector exact");
    CHECK(r.ckpt[3].rec.trial == -1, "the finished trial's stale checkpoint is ignored");
    CHECK(r.ckpt[5].rec.trial == -1 && r.ckpt[0].rec.trial == -1, "no checkpoint for pending and done trials");
    CHECK(r.best_trial == 2, "best: trial 2 (0.9, ties with 3, lower id), got %lld", (long long)r.best_trial);
    CHECK(r.best_state && r.best_state[0] == 20.0f && r.best_state[2] == 22.0f, "its snapshot row");
    CHECK(r.nsnapshots == 4 && r.snapshot_owner[0] == 0 && r.snapshot_owner[1] == -1 && r.snapshot_owner[2] == 2 &&
              r.snapshot_owner[3] == 3,
          "snapshot owners; row 1 is an orphan");
    CHECK(r.ncurves == 4 && r.curves[3].epoch == 0, "the zero-filled curve row is read as epoch 0 (reused)");
    CHECK(strcmp(r.spec_text, "name: r\n") == 0 && r.meta.checkpoint_width == WIDTH, "spec text and width");
    hp_resume_free(&r);

    CHECK(hp_resume_load("no_such_file.h5", &r, &err) == -1 && strstr(err.msg, "no_such_file.h5"),
          "a missing file: %s", err.msg);
    return hp_check_summary("test_resume");
}
