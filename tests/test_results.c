/* test_results.c - results file: write, read back every field, reject bad files, append.
 *
 * Leaves results_sample.h5 in the working folder for the h5py and h5dump checks
 * (tests/results.cmake runs them after this test).
 */
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "results.h"
#include "results/sample.h"

#define SAMPLE "results_sample.h5"

static int same(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

static void check_trial(const hp_trial_record *g, const hp_trial_record *w) {
    long long id = (long long)w->id;
    CHECK(g->id == w->id, "trial id %lld, want %lld", (long long)g->id, id);
    CHECK(g->stage == w->stage, "trial %lld stage %d, want %d", id, g->stage, w->stage);
    CHECK(g->status == w->status, "trial %lld status %d, want %d", id, g->status, w->status);
    CHECK(g->lr == w->lr, "trial %lld lr %.17g, want %.17g", id, g->lr, w->lr);
    CHECK(g->weight_decay == w->weight_decay, "trial %lld wd %g, want %g", id, g->weight_decay,
          w->weight_decay);
    CHECK(g->seed == w->seed, "trial %lld seed %llx, want %llx", id, (unsigned long long)g->seed,
          (unsigned long long)w->seed);
    CHECK(g->epochs_planned == w->epochs_planned, "trial %lld epochs_planned %d, want %d", id,
          g->epochs_planned, w->epochs_planned);
    CHECK(g->epochs_done == w->epochs_done, "trial %lld epochs_done %d, want %d", id,
          g->epochs_done, w->epochs_done);
    CHECK(same(g->best_val_acc, w->best_val_acc), "trial %lld best_val_acc %g, want %g", id,
          g->best_val_acc, w->best_val_acc);
    CHECK(same(g->best_val_loss, w->best_val_loss), "trial %lld best_val_loss %g, want %g", id,
          g->best_val_loss, w->best_val_loss);
    CHECK(g->best_epoch == w->best_epoch, "trial %lld best_epoch %d, want %d", id, g->best_epoch,
          w->best_epoch);
    CHECK(same(g->initial_loss, w->initial_loss), "trial %lld initial_loss %g, want %g", id,
          g->initial_loss, w->initial_loss);
    CHECK(g->seconds == w->seconds, "trial %lld seconds %g, want %g", id, g->seconds, w->seconds);
    CHECK(g->rank == w->rank, "trial %lld rank %d, want %d", id, g->rank, w->rank);
    CHECK(strcmp(g->host, w->host) == 0, "trial %lld host '%s', want '%s'", id, g->host, w->host);
    CHECK(g->gpu == w->gpu, "trial %lld gpu %d, want %d", id, g->gpu, w->gpu);
    CHECK(strcmp(g->device, w->device) == 0, "trial %lld device '%s', want '%s'", id, g->device, w->device);
    CHECK(g->snapshot_row == w->snapshot_row, "trial %lld snapshot_row %lld, want %lld", id,
          (long long)g->snapshot_row, (long long)w->snapshot_row);
    CHECK(strcmp(g->message, w->message) == 0, "trial %lld message '%s', want '%s'", id,
          g->message, w->message);
}

static void check_stage(const hp_stage_record *g, const hp_stage_record *w) {
    CHECK(g->stage == w->stage && g->trials == w->trials && g->epochs == w->epochs &&
              g->first_trial == w->first_trial,
          "stage %d: stage/trials/epochs/first_trial %d/%d/%d/%lld, want %d/%d/%d/%lld", w->stage,
          g->stage, g->trials, g->epochs, (long long)g->first_trial, w->stage, w->trials,
          w->epochs, (long long)w->first_trial);
    CHECK(strcmp(g->method, w->method) == 0, "stage %d method '%s', want '%s'", w->stage,
          g->method, w->method);
    CHECK(g->lr_low == w->lr_low && g->lr_high == w->lr_high && g->wd_low == w->wd_low &&
              g->wd_high == w->wd_high,
          "stage %d ranges [%g %g] [%g %g]", w->stage, g->lr_low, g->lr_high, g->wd_low,
          g->wd_high);
    CHECK(strcmp(g->lr_derivation, w->lr_derivation) == 0 &&
              strcmp(g->wd_derivation, w->wd_derivation) == 0,
          "stage %d derivations '%s' '%s', want '%s' '%s'", w->stage, g->lr_derivation,
          g->wd_derivation, w->lr_derivation, w->wd_derivation);
}

static void check_curve(const hp_curve_record *g, const hp_curve_record *w, int i) {
    CHECK(g->trial == w->trial && g->epoch == w->epoch, "curve %d trial/epoch %lld/%d, want %lld/%d",
          i, (long long)g->trial, g->epoch, (long long)w->trial, w->epoch);
    CHECK(g->lr == w->lr && g->train_loss == w->train_loss && g->train_acc == w->train_acc &&
              g->val_loss == w->val_loss && g->val_acc == w->val_acc && g->seconds == w->seconds,
          "curve %d metrics (%g %g %g %g %g %g)", i, g->lr, g->train_loss, g->train_acc,
          g->val_loss, g->val_acc, g->seconds);
}

static void test_roundtrip(void) {
    static sample_expect ex;
    hp_err err = {{0}};
    int rc = sample_write(SAMPLE, &ex, &err);
    CHECK(rc == 0, "sample_write: %s", err.msg);
    if (rc != 0) return;

    hp_results_reader *rd = NULL;
    rc = hp_results_open_read(SAMPLE, &rd, &err);
    CHECK(rc == 0, "open_read: %s", err.msg);
    if (rc != 0) return;
    const hp_results_header *h = hp_results_reader_header(rd);
    CHECK(h->format_version == HP_FORMAT_VERSION, "format_version %d", h->format_version);
    CHECK(h->meta.spec_len == ex.meta.spec_len && strcmp(h->meta.spec_yaml, ex.spec) == 0,
          "spec_yaml round trip (len %llu, want %llu)", (unsigned long long)h->meta.spec_len,
          (unsigned long long)ex.meta.spec_len);
    CHECK(strcmp(h->meta.spec_sha256, ex.meta.spec_sha256) == 0, "spec_sha256 '%s'",
          h->meta.spec_sha256);
    CHECK(h->meta.seed == 7, "seed %llu", (unsigned long long)h->meta.seed);
    for (int i = 0; i < 3; i++)
        CHECK(h->meta.data_hash[i] == ex.meta.data_hash[i], "data_hash[%d] %llx, want %llx", i,
              (unsigned long long)h->meta.data_hash[i], (unsigned long long)ex.meta.data_hash[i]);
    CHECK(strlen(h->created_utc) == 20 && h->created_utc[10] == 'T' && h->created_utc[19] == 'Z',
          "created_utc '%s' is ISO 8601 UTC", h->created_utc);
    CHECK(strcmp(h->hpsweep_version, HPSWEEP_VERSION) == 0, "hpsweep_version '%s'",
          h->hpsweep_version);

    const hp_tensor_info *lay = NULL;
    int nt = hp_results_read_layout(rd, &lay);
    CHECK(nt == SAMPLE_NTENSORS, "layout has %d tensors", nt);
    CHECK(hp_results_reader_state_size(rd) == SAMPLE_STATE, "state size %lld",
          (long long)hp_results_reader_state_size(rd));
    for (int i = 0; i < nt && i < SAMPLE_NTENSORS; i++) {
        const hp_tensor_info *g = &lay[i], *w = &ex.layout[i];
        CHECK(strcmp(g->name, w->name) == 0 && g->ndim == w->ndim && g->offset == w->offset &&
                  g->size == w->size && g->is_buffer == w->is_buffer &&
                  memcmp(g->shape, w->shape, sizeof g->shape) == 0,
              "layout %d: '%s' ndim %d offset %lld size %lld buffer %d", i, g->name, g->ndim,
              (long long)g->offset, (long long)g->size, g->is_buffer);
    }

    hp_trial_record *tr = NULL;
    int64_t n = 0;
    CHECK(hp_results_read_trials(rd, &tr, &n, &err) == 0, "read_trials: %s", err.msg);
    CHECK(n == SAMPLE_NTRIALS, "%lld trials", (long long)n);
    for (int64_t i = 0; i < n && i < SAMPLE_NTRIALS; i++) check_trial(&tr[i], &ex.trials[i]);
    free(tr);

    hp_stage_record *st = NULL;
    CHECK(hp_results_read_stages(rd, &st, &n, &err) == 0, "read_stages: %s", err.msg);
    CHECK(n == SAMPLE_NSTAGES, "%lld stages", (long long)n);
    for (int64_t i = 0; i < n && i < SAMPLE_NSTAGES; i++) check_stage(&st[i], &ex.stages[i]);
    free(st);

    hp_curve_record *cv = NULL;
    CHECK(hp_results_read_curves(rd, &cv, &n, &err) == 0, "read_curves: %s", err.msg);
    CHECK(n == ex.ncurves, "%lld curve rows, want %d", (long long)n, ex.ncurves);
    for (int64_t i = 0; i < n && i < ex.ncurves; i++) check_curve(&cv[i], &ex.curves[i], (int)i);
    free(cv);

    hp_final_record *fr = NULL;
    CHECK(hp_results_read_final(rd, &fr, &n, &err) == 0, "read_final: %s", err.msg);
    CHECK(n == 1, "%lld final rows (set twice, replaced, so 1)", (long long)n);
    if (n >= 1)
        CHECK(strcmp(fr[0].kind, "best") == 0 && fr[0].trial == 4 && fr[0].val_acc == 0.86 &&
                  fr[0].test_loss == 0.3125 && fr[0].test_acc == 0.8525,
              "final row: %s %lld %g %g %g", fr[0].kind, (long long)fr[0].trial, fr[0].val_acc,
              fr[0].test_loss, fr[0].test_acc);
    free(fr);

    CHECK(hp_results_read_nsnapshots(rd, &err) == ex.nsnap, "snapshot rows, want %d", ex.nsnap);
    float row[SAMPLE_STATE];
    for (int s = 0; s < ex.nsnap; s++) {
        CHECK(hp_results_read_snapshot(rd, s, row, &err) == 0, "read_snapshot %d: %s", s, err.msg);
        CHECK_ALLCLOSEF(row, ex.snap[s], SAMPLE_STATE, 0, 0, "snapshot row");
    }
    rc = hp_results_read_snapshot(rd, ex.nsnap, row, &err);
    CHECK(rc < 0 && strstr(err.msg, "snapshot row 4 does not exist"), "row past the end: %s",
          err.msg);
    hp_results_close_read(rd);
}

static void test_create_errors(void) {
    static sample_expect ex;
    hp_err err = {{0}};
    hp_results *r = NULL;
    /* the sample exists now */
    hp_tensor_info lay = {.name = "w", .ndim = 1, .shape = {5}, .offset = 0, .size = 5};
    hp_results_meta meta = {.spec_yaml = "x: 1\n", .spec_len = 5, .seed = 1};
    int rc = hp_results_create(SAMPLE, &meta, &lay, 1, &r, &err);
    CHECK(rc < 0 && r == NULL && strstr(err.msg, "already exists") && strstr(err.msg, SAMPLE),
          "create over an existing file: %s", err.msg);
    rc = hp_results_create("no_such_folder_h4/x.h5", &meta, &lay, 1, &r, &err);
    CHECK(rc < 0 && strstr(err.msg, "cannot create") && strstr(err.msg, "No such file"),
          "create in a missing folder: %s", err.msg);
    hp_tensor_info bad = lay;
    bad.size = 4;
    unlink("results_bad_layout.h5");
    rc = hp_results_create("results_bad_layout.h5", &meta, &bad, 1, &r, &err);
    CHECK(rc < 0 && strstr(err.msg, "shape holds 5 elements") &&
              access("results_bad_layout.h5", F_OK) != 0,
          "inconsistent layout rejected before creating the file: %s", err.msg);

    /* Bad rows are refused with a message, the file stays usable. */
    unlink("results_rows.h5");
    rc = hp_results_create("results_rows.h5", &meta, &lay, 1, &r, &err);
    CHECK(rc == 0, "create: %s", err.msg);
    if (rc != 0) return;
    hp_stage_record s = {.stage = 0, .method = "random", .trials = 1, .epochs = 1};
    hp_trial_record t = {.id = 1, .snapshot_row = -1};
    rc = hp_results_add_stage(r, &s, &t, 1, &err);
    CHECK(rc < 0 && strstr(err.msg, "out of sequence"), "trial id 1 as the first row: %s", err.msg);
    t.id = 0;
    t.status = 9;
    rc = hp_results_add_stage(r, &s, &t, 1, &err);
    CHECK(rc < 0 && strstr(err.msg, "invalid status 9"), "status 9: %s", err.msg);
    t.status = HP_TRIAL_PENDING;
    /* a host with no terminator within its field is cut, not overrun */
    memset(t.host, 'h', sizeof t.host);
    CHECK(hp_results_add_stage(r, &s, &t, 1, &err) == 0, "add_stage: %s", err.msg);
    t.id = 3;
    rc = hp_results_update_trial(r, &t, &err);
    CHECK(rc < 0 && strstr(err.msg, "cannot update trial 3"), "update of a missing row: %s",
          err.msg);
    hp_curve_record c = {.trial = 5, .epoch = 1};
    rc = hp_results_append_curve(r, &c, &err);
    CHECK(rc < 0 && strstr(err.msg, "unknown trial 5"), "curve of a missing trial: %s", err.msg);
    CHECK(hp_results_ntrials(r) == 1 && hp_results_nstages(r) == 1 && hp_results_ncurves(r) == 0,
          "row counts %lld %lld %lld", (long long)hp_results_ntrials(r),
          (long long)hp_results_nstages(r), (long long)hp_results_ncurves(r));
    CHECK(hp_results_close(r, &err) == 0, "close: %s", err.msg);

    hp_results_reader *rd = NULL;
    CHECK(hp_results_open_read("results_rows.h5", &rd, &err) == 0, "open: %s", err.msg);
    if (rd) {
        hp_trial_record *tr = NULL;
        int64_t n = 0;
        CHECK(hp_results_read_trials(rd, &tr, &n, &err) == 0 && n == 1, "read: %s", err.msg);
        if (n == 1)
            CHECK(strlen(tr[0].host) == sizeof t.host - 1, "host cut to %zu chars",
                  strlen(tr[0].host));
        free(tr);
        hp_results_close_read(rd);
    }
    (void)ex;
}

/* Rewrite root attribute `name` of an existing file as an int32 or a string. */
static int poke_attr(const char *path, const char *name, int32_t v, const char *s) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return -1;
    if (H5Aexists(f, name) > 0) H5Adelete(f, name);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t ty = s ? H5Tcopy(H5T_C_S1) : H5Tcopy(H5T_NATIVE_INT32);
    if (s) H5Tset_size(ty, strlen(s));
    hid_t a = H5Acreate2(f, name, ty, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a >= 0 && H5Awrite(a, ty, s ? (const void *)s : (const void *)&v) >= 0 ? 0 : -1;
    if (a >= 0) H5Aclose(a);
    H5Tclose(ty);
    H5Sclose(sp);
    return H5Fclose(f) < 0 ? -1 : rc;
}

static void expect_open_fails(const char *path, const char *want, const char *what) {
    hp_err err = {{0}};
    hp_results_reader *rd = NULL;
    int rc = hp_results_open_read(path, &rd, &err);
    CHECK(rc < 0 && rd == NULL && strstr(err.msg, want) && strstr(err.msg, path),
          "%s: got '%s', want it to contain '%s'", what, err.msg, want);
    printf("%-30s -> %s\n", what, err.msg);
    if (rd) hp_results_close_read(rd);
}

static void test_reject_files(void) {
    expect_open_fails("results_missing.h5", "No such file or directory", "missing file");

    FILE *f = fopen("results_text.h5", "w");
    CHECK(f && fputs("name: not hdf5\n", f) >= 0 && fclose(f) == 0, "write a text file");
    expect_open_fails("results_text.h5", "is not an HDF5 file", "text file");

    hid_t h = H5Fcreate("results_foreign.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(h >= 0 && H5Fclose(h) >= 0, "create a plain HDF5 file");
    expect_open_fails("results_foreign.h5",
                      "is an HDF5 file but not an hpsweep results file (no 'format' attribute)",
                      "HDF5 file of another program");

    CHECK(sample_copy_file(SAMPLE, "results_v99.h5") == 0, "copy sample");
    CHECK(poke_attr("results_v99.h5", "format_version", 99, NULL) == 0, "poke version");
    expect_open_fails("results_v99.h5",
                      "written by a newer hpsweep (format version 99; this build reads 3); "
                      "upgrade hpsweep", "format_version 99");

    CHECK(sample_copy_file(SAMPLE, "results_other.h5") == 0, "copy sample");
    CHECK(poke_attr("results_other.h5", "format", 0, "netcdf") == 0, "poke format");
    expect_open_fails("results_other.h5", "its 'format' attribute is 'netcdf'", "format netcdf");

    /* Caffe-style checks of what is read: a missing table, a table of the wrong rank. */
    CHECK(sample_copy_file(SAMPLE, "results_nocurves.h5") == 0, "copy sample");
    h = H5Fopen("results_nocurves.h5", H5F_ACC_RDWR, H5P_DEFAULT);
    CHECK(h >= 0 && H5Ldelete(h, "/curves", H5P_DEFAULT) >= 0 && H5Fclose(h) >= 0, "del curves");
    expect_open_fails("results_nocurves.h5", "has no dataset /curves", "missing /curves");

    CHECK(sample_copy_file(SAMPLE, "results_rank.h5") == 0, "copy sample");
    h = H5Fopen("results_rank.h5", H5F_ACC_RDWR, H5P_DEFAULT);
    hsize_t dims[2] = {2, 2};
    hid_t sp = H5Screate_simple(2, dims, NULL);
    hid_t d = -1;
    if (h >= 0 && H5Ldelete(h, "/final", H5P_DEFAULT) >= 0)
        d = H5Dcreate2(h, "/final", H5T_NATIVE_FLOAT, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(d >= 0 && H5Dclose(d) >= 0 && H5Fclose(h) >= 0, "replace /final");
    H5Sclose(sp);
    expect_open_fails("results_rank.h5", "dataset /final has rank 2, expected 1", "2-D /final");
}

static void test_append(void) {
    hp_err err = {{0}};
    CHECK(sample_copy_file(SAMPLE, "results_append.h5") == 0, "copy sample");
    hp_results *r = NULL;
    int rc = hp_results_open_append("results_append.h5", &r, &err);
    CHECK(rc == 0, "open_append: %s", err.msg);
    if (rc != 0) return;
    CHECK(hp_results_ntrials(r) == SAMPLE_NTRIALS && hp_results_nstages(r) == SAMPLE_NSTAGES &&
              hp_results_nsnapshots(r) == 4 && hp_results_state_size(r) == SAMPLE_STATE,
          "counts after reopening: %lld trials %lld stages %lld snapshots %lld floats",
          (long long)hp_results_ntrials(r), (long long)hp_results_nstages(r),
          (long long)hp_results_nsnapshots(r), (long long)hp_results_state_size(r));
    hp_stage_record s = {.stage = 2, .method = "random", .trials = 1, .epochs = 1,
                         .first_trial = SAMPLE_NTRIALS};
    hp_trial_record t = {.id = SAMPLE_NTRIALS, .stage = 2, .status = HP_TRIAL_DONE, .lr = 0.5,
                         .snapshot_row = -1, .best_val_acc = 0.5};
    float state[SAMPLE_STATE] = {1.5f};
    int64_t row = -1;
    CHECK(hp_results_add_stage(r, &s, &t, 1, &err) == 0, "add_stage: %s", err.msg);
    CHECK(hp_results_append_snapshot(r, state, &row, &err) == 0 && row == 4,
          "snapshot row %lld: %s", (long long)row, err.msg);
    CHECK(hp_results_close(r, &err) == 0, "close: %s", err.msg);

    hp_results_reader *rd = NULL;
    CHECK(hp_results_open_read("results_append.h5", &rd, &err) == 0, "reopen: %s", err.msg);
    if (!rd) return;
    hp_trial_record *tr = NULL;
    int64_t n = 0;
    CHECK(hp_results_read_trials(rd, &tr, &n, &err) == 0 && n == SAMPLE_NTRIALS + 1,
          "%lld trials after append", (long long)n);
    if (n == SAMPLE_NTRIALS + 1)
        CHECK(tr[SAMPLE_NTRIALS].lr == 0.5 && tr[0].best_val_acc == 0.80,
              "old and new rows intact (%g, %g)", tr[SAMPLE_NTRIALS].lr, tr[0].best_val_acc);
    free(tr);
    float back[SAMPLE_STATE];
    CHECK(hp_results_read_snapshot(rd, 4, back, &err) == 0 && back[0] == 1.5f,
          "appended snapshot: %s", err.msg);
    hp_results_close_read(rd);

    rc = hp_results_open_append("results_text.h5", &r, &err);
    CHECK(rc < 0 && strstr(err.msg, "not an HDF5 file"), "append to a text file: %s", err.msg);
    rc = hp_results_open_append("results_v99.h5", &r, &err);
    CHECK(rc < 0 && strstr(err.msg, "newer hpsweep"), "append to version 99: %s", err.msg);
}

/* A spec far above HDF5's 64 KiB compact-attribute limit is stored whole (dense attribute
 * storage, which the latest file format allows). */
static void test_large_spec(void) {
    enum { LEN = 300000 };
    char *spec = malloc(LEN + 1);
    CHECK(spec != NULL, "malloc");
    if (!spec) return;
    for (int i = 0; i < LEN; i++) spec[i] = i % 61 == 60 ? '\n' : (char)('a' + i % 26);
    spec[LEN] = '\0';
    hp_tensor_info lay = {.name = "w", .ndim = 1, .shape = {5}, .offset = 0, .size = 5};
    hp_results_meta meta = {.spec_yaml = spec, .spec_len = LEN, .seed = 1};
    hp_err err = {{0}};
    hp_results *r = NULL;
    unlink("results_bigspec.h5");
    int rc = hp_results_create("results_bigspec.h5", &meta, &lay, 1, &r, &err);
    CHECK(rc == 0 && hp_results_close(r, &err) == 0, "create with a %d-byte spec: %s", LEN, err.msg);
    hp_results_reader *rd = NULL;
    rc = hp_results_open_read("results_bigspec.h5", &rd, &err);
    CHECK(rc == 0, "open: %s", err.msg);
    if (rc == 0) {
        const hp_results_header *h = hp_results_reader_header(rd);
        CHECK(h->meta.spec_len == LEN && memcmp(h->meta.spec_yaml, spec, LEN) == 0,
              "large spec round trip (%llu bytes)", (unsigned long long)h->meta.spec_len);
        hp_results_close_read(rd);
    }
    free(spec);
}

/* A full disk must give a message, not a crash: the file size limit (RLIMIT_FSIZE, with
 * SIGXFSZ ignored so write() returns EFBIG) stands in for it, in a child process. */
static void test_full_disk(void) {
    fflush(stdout);
    unlink("results_full.h5");
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {.rlim_cur = 1 << 20, .rlim_max = 1 << 20};
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0) _exit(3);
        static float state[1 << 16]; /* 256 KiB per snapshot row: the 5th row passes 1 MiB */
        hp_tensor_info lay = {.name = "w", .ndim = 1, .shape = {1 << 16}, .size = 1 << 16};
        hp_results_meta meta = {.spec_yaml = "x: 1\n", .spec_len = 5};
        hp_err err = {{0}};
        hp_results *r = NULL;
        if (hp_results_create("results_full.h5", &meta, &lay, 1, &r, &err) < 0) _exit(4);
        int rc = 0, i;
        for (i = 0; i < 16 && rc == 0; i++) rc = hp_results_append_snapshot(r, state, NULL, &err);
        printf("full disk after %d rows: %s\n", i, err.msg);
        fflush(stdout);
        int good = rc < 0 && strstr(err.msg, "results_full.h5") && strstr(err.msg, "File too large");
        hp_err err2;
        hp_results_close(r, &err2);
        _exit(good ? 0 : 5);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "fork/wait");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "writer on a full disk: exited %d (signal %d), want a clean error and exit 0",
          WIFEXITED(status) ? WEXITSTATUS(status) : -1, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int main(void) {
    test_roundtrip();
    test_create_errors();
    test_reject_files();
    test_append();
    test_large_spec();
    test_full_disk();
    return hp_check_summary("test_results");
}
