/* test_results_ckpt.c - /checkpoints and resume support in the results file (results.h):
 * checkpoint slots (write, move, drop, reuse; the reader sees the latest; sizes checked),
 * curve rows rewritten in place, the root attributes added for resume, the writer's lock
 * (a second writer or a recovery is refused while a writer has the file), hp_results_open_resume
 * on a clean file, on a file whose writer was killed (recovered, checkpoints kept) and on a
 * file that is not HDF5 (refused, untouched), and files without /checkpoints (older builds). */
#include <hdf5.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "results.h"

#define F_MAIN "results_ckpt.h5"
#define F_KILLED "results_ckpt_killed.h5"
#define F_OLD "results_ckpt_old.h5"
#define F_TEXT "results_ckpt_text.h5"
enum { NS = 4, NO = 2, WIDTH = 2 * NS + NO };

static hp_tensor_info layout[1] = {{.name = "w", .ndim = 2, .shape = {2, 2}, .size = NS}};

static hp_results_meta make_meta(void) {
    hp_results_meta m;
    memset(&m, 0, sizeof m);
    m.spec_yaml = "name: ck\n";
    m.spec_len = 9;
    snprintf(m.spec_sha256, sizeof m.spec_sha256, "%064d", 7);
    m.seed = 5;
    snprintf(m.spec_name, sizeof m.spec_name, "ck-name");
    snprintf(m.spec_path, sizeof m.spec_path, "specs/ck.yaml");
    m.checkpoint_every = 2;
    m.checkpoint_width = WIDTH;
    return m;
}

static int add_stage(hp_results *r, int n, hp_err *err) {
    hp_stage_record st = {.stage = 0, .method = "random", .trials = n, .epochs = 3, .first_trial = 0};
    hp_trial_record tr[4];
    for (int i = 0; i < n; i++)
        tr[i] = (hp_trial_record){.id = i, .status = HP_TRIAL_RUNNING, .lr = 0.1 * (i + 1), .epochs_planned = 3,
                                  .snapshot_row = -1};
    return hp_results_add_stage(r, &st, tr, n, err);
}

static hp_checkpoint_record ck(int64_t trial, int epochs) {
    hp_checkpoint_record c;
    memset(&c, 0, sizeof c);
    c.trial = trial;
    c.epochs_done = epochs;
    c.best_epoch = epochs;
    c.best_val_acc = 0.5 + 0.01 * epochs;
    c.initial_loss = 2.3;
    c.version = 1;
    c.rng[0] = 0xfeedbeefcafe1234ull;
    c.sched[2] = 0.125;
    c.model_floats = NS;
    c.optim_floats = NO;
    return c;
}

static void fill(float *v, int64_t trial, int epochs) {
    for (int i = 0; i < WIDTH; i++) v[i] = (float)(100 * trial + 10 * epochs + i);
}

/* The index rows of live slots for `trial`; the latest's vector into vec. */
static int slots_of(hp_results_reader *rd, int64_t trial, hp_checkpoint_record *latest, float *vec, hp_err *err) {
    hp_checkpoint_record *rows = NULL;
    int64_t n = 0, found = 0, at = -1;
    if (hp_results_read_checkpoints(rd, &rows, &n, err) < 0) return -1;
    for (int64_t i = 0; i < n; i++)
        if (rows[i].trial == trial) {
            found++;
            if (at < 0 || rows[i].epochs_done > rows[at].epochs_done) at = i;
        }
    if (at >= 0) {
        *latest = rows[at];
        if (vec && hp_results_read_checkpoint_state(rd, at, vec, WIDTH, err) < 0) found = -1;
    }
    free(rows);
    return (int)found;
}

static void test_slots(void) {
    hp_err err = {{0}};
    unlink(F_MAIN);
    hp_results_meta meta = make_meta();
    hp_results *w = NULL;
    if (!CHECK(hp_results_create(F_MAIN, &meta, layout, 1, &w, &err) == 0, "create: %s", err.msg)) return;
    CHECK(hp_results_checkpoint_width(w) == WIDTH, "checkpoint width %lld", (long long)hp_results_checkpoint_width(w));
    CHECK(add_stage(w, 3, &err) == 0, "stage: %s", err.msg);
    float v[WIDTH], got[WIDTH];
    hp_checkpoint_record c;
    fill(v, 0, 1), c = ck(0, 1);
    CHECK(hp_results_write_checkpoint(w, &c, v, WIDTH, &err) == 0, "ckpt 0/1: %s", err.msg);
    fill(v, 1, 1), c = ck(1, 1);
    CHECK(hp_results_write_checkpoint(w, &c, v, WIDTH, &err) == 0, "ckpt 1/1: %s", err.msg);
    fill(v, 0, 2), c = ck(0, 2);
    CHECK(hp_results_write_checkpoint(w, &c, v, WIDTH, &err) == 0, "ckpt 0/2: %s", err.msg);

    /* A reader in another process sees it while the writer works (SWMR). */
    pid_t pid = fork();
    if (pid == 0) {
        hp_results_reader *rd = NULL;
        hp_checkpoint_record last;
        int ok = hp_results_open_read(F_MAIN, &rd, &err) == 0 && slots_of(rd, 0, &last, got, &err) == 1 &&
                 last.epochs_done == 2 && got[0] == 20.0f && got[WIDTH - 1] == 20.0f + WIDTH - 1 &&
                 last.rng[0] == 0xfeedbeefcafe1234ull && last.sched[2] == 0.125 &&
                 slots_of(rd, 1, &last, NULL, &err) == 1;
        hp_results_close_read(rd);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "live reader: one slot per trial, the latest, exact bits");

    /* Sizes are checked. */
    c = ck(2, 1);
    CHECK(hp_results_write_checkpoint(w, &c, v, WIDTH + 1, &err) == -1 && strstr(err.msg, "hold 10"),
          "a vector wider than the rows is refused: %s", err.msg);
    c.optim_floats = 3;
    CHECK(hp_results_write_checkpoint(w, &c, v, WIDTH, &err) == -1, "sizes that do not add up are refused");
    c = ck(9, 1);
    CHECK(hp_results_write_checkpoint(w, &c, v, WIDTH, &err) == -1 && strstr(err.msg, "unknown trial"),
          "checkpoint of a trial that does not exist: %s", err.msg);

    /* Dropping frees the slot; the next checkpoint reuses it (the index does not grow). */
    CHECK(hp_results_drop_checkpoint(w, 0, &err) == 0, "drop: %s", err.msg);
    fill(v, 2, 1), c = ck(2, 1);
    CHECK(hp_results_write_checkpoint(w, &c, v, WIDTH, &err) == 0, "ckpt 2/1: %s", err.msg);
    c = ck(2, 2);
    c.model_floats = c.optim_floats = 0; /* a synthetic trial: no vector */
    CHECK(hp_results_write_checkpoint(w, &c, NULL, 0, &err) == 0, "ckpt without vector: %s", err.msg);

    /* Curves: rewrite a row in place; appending with row == count. */
    hp_curve_record cr = {.trial = 1, .epoch = 1, .val_acc = 0.25};
    CHECK(hp_results_append_curve(w, &cr, &err) == 0 && hp_results_append_curve(w, &cr, &err) == 0, "curves");
    cr.val_acc = 0.75;
    CHECK(hp_results_write_curve(w, 0, &cr, &err) == 0, "rewrite curve row 0: %s", err.msg);
    CHECK(hp_results_write_curve(w, 2, &cr, &err) == 0 && hp_results_ncurves(w) == 3, "write at the end appends");
    CHECK(hp_results_write_curve(w, 9, &cr, &err) == -1, "a row past the end is refused");

    /* The lock: no second writer, no recovery while this writer has the file. */
    hp_results *w2 = NULL;
    CHECK(hp_results_open_append(F_MAIN, &w2, &err) == -1 && strstr(err.msg, "another hpsweep"),
          "second writer refused: %s", err.msg);
    CHECK(hp_results_recover(F_MAIN, &err) == -1 && strstr(err.msg, "another hpsweep"),
          "recovery refused while written: %s", err.msg);
    int rec = -1;
    CHECK(hp_results_open_resume(F_MAIN, &rec, &w2, &err) == HP_RESULTS_EXISTS && strstr(err.msg, "another hpsweep"),
          "resume refused while written (HP_RESULTS_EXISTS: the file left alone): %s", err.msg);
    CHECK(hp_results_close(w, &err) == 0, "close: %s", err.msg);

    /* Clean file: open_resume opens it as it is; the attributes and tables read back. */
    CHECK(hp_results_open_resume(F_MAIN, &rec, &w2, &err) == 0 && rec == 0, "resume a clean file: %s", err.msg);
    CHECK(hp_results_checkpoint_width(w2) == WIDTH, "reopened width");
    fill(v, 1, 2), c = ck(1, 2);
    CHECK(hp_results_write_checkpoint(w2, &c, v, WIDTH, &err) == 0, "checkpoint after reopening: %s", err.msg);
    hp_results_close(w2, NULL);
    hp_results_reader *rd = NULL;
    if (!CHECK(hp_results_open_read(F_MAIN, &rd, &err) == 0, "read: %s", err.msg)) return;
    const hp_results_header *h = hp_results_reader_header(rd);
    CHECK(strcmp(h->meta.spec_name, "ck-name") == 0 && strcmp(h->meta.spec_path, "specs/ck.yaml") == 0,
          "spec name and path attributes: '%s' '%s'", h->meta.spec_name, h->meta.spec_path);
    CHECK(h->meta.checkpoint_every == 2 && h->meta.checkpoint_width == WIDTH, "checkpoint_every %d, width %lld",
          (int)h->meta.checkpoint_every, (long long)h->meta.checkpoint_width);
    hp_checkpoint_record last;
    CHECK(slots_of(rd, 0, &last, NULL, &err) == 0, "dropped trial has no slot");
    CHECK(slots_of(rd, 1, &last, got, &err) == 1 && last.epochs_done == 2 && got[3] == 123.0f,
          "trial 1's latest checkpoint survived reopening (epoch %d)", last.epochs_done);
    CHECK(slots_of(rd, 2, &last, NULL, &err) == 1 && last.epochs_done == 2 && last.model_floats == 0,
          "trial 2: the vector-less checkpoint replaced the first");
    hp_checkpoint_record *rows = NULL;
    int64_t n = 0;
    hp_results_read_checkpoints(rd, &rows, &n, &err);
    CHECK(n <= 3, "slots are reused: %lld index rows for at most 2 live trials at a time", (long long)n);
    free(rows);
    hp_curve_record *cv = NULL;
    hp_results_read_curves(rd, &cv, &n, &err);
    CHECK(n == 3 && cv && cv[0].val_acc == 0.75 && cv[1].val_acc == 0.25, "curve row 0 rewritten in place");
    free(cv);
    hp_results_close_read(rd);
}

/* A writer killed with SIGKILL right after a checkpoint: the file reads, open_append refuses it,
 * open_resume recovers it, the checkpoint is kept. */
static void test_killed(void) {
    hp_err err = {{0}};
    unlink(F_KILLED);
    pid_t pid = fork();
    if (pid == 0) {
        hp_results_meta meta = make_meta();
        hp_results *w = NULL;
        float v[WIDTH];
        fill(v, 1, 3);
        hp_checkpoint_record c = ck(1, 3);
        if (hp_results_create(F_KILLED, &meta, layout, 1, &w, &err) != 0 || add_stage(w, 2, &err) != 0 ||
            hp_results_write_checkpoint(w, &c, v, WIDTH, &err) != 0)
            _exit(2);
        raise(SIGKILL);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "writer killed");
    hp_results *w = NULL;
    CHECK(hp_results_open_append(F_KILLED, &w, &err) == -1, "plain reopen refuses a killed writer's file");
    int rec = 0;
    CHECK(hp_results_open_resume(F_KILLED, &rec, &w, &err) == 0 && rec == 1, "open_resume recovers it: %s", err.msg);
    if (w) hp_results_close(w, NULL);
    hp_results_reader *rd = NULL;
    if (!CHECK(hp_results_open_read(F_KILLED, &rd, &err) == 0, "read recovered: %s", err.msg)) return;
    float got[WIDTH];
    hp_checkpoint_record last;
    CHECK(slots_of(rd, 1, &last, got, &err) == 1 && last.epochs_done == 3 && got[0] == 130.0f &&
              strcmp(hp_results_reader_header(rd)->meta.spec_name, "ck-name") == 0,
          "checkpoint and attributes survive recovery");
    hp_results_close_read(rd);
}

/* Files written before /checkpoints existed, and files that are not HDF5. */
static void test_old_and_foreign(void) {
    hp_err err = {{0}};
    unlink(F_OLD);
    hp_results_meta meta = make_meta();
    hp_results *w = NULL;
    if (!CHECK(hp_results_create(F_OLD, &meta, layout, 1, &w, &err) == 0 && add_stage(w, 2, &err) == 0 &&
                   hp_results_close(w, &err) == 0,
               "create old: %s", err.msg))
        return;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    hid_t f = H5Fopen(F_OLD, H5F_ACC_RDWR, fapl);
    CHECK(f >= 0 && H5Ldelete(f, "/checkpoints", H5P_DEFAULT) >= 0 && H5Fclose(f) >= 0, "remove /checkpoints");
    H5Pclose(fapl);
    hp_results_reader *rd = NULL;
    CHECK(hp_results_open_read(F_OLD, &rd, &err) == 0, "an old file reads: %s", err.msg);
    hp_checkpoint_record *rows = (hp_checkpoint_record *)1;
    int64_t n = -1;
    CHECK(rd && hp_results_reader_checkpoint_width(rd) == 0 && hp_results_read_checkpoints(rd, &rows, &n, &err) == 0 &&
              n == 0 && rows == NULL,
          "no checkpoints in an old file");
    hp_results_close_read(rd);
    CHECK(hp_results_open_append(F_OLD, &w, &err) == 0 && hp_results_checkpoint_width(w) == 0, "old file reopens: %s",
          err.msg);
    hp_checkpoint_record c = ck(0, 1);
    float v[WIDTH] = {0};
    CHECK(w && hp_results_write_checkpoint(w, &c, v, WIDTH, &err) == -1 && strstr(err.msg, "older"),
          "checkpoint into an old file refused: %s", err.msg);
    CHECK(w && hp_results_drop_checkpoint(w, 0, &err) == 0, "dropping in an old file is a no-op");
    if (w) hp_results_close(w, NULL);

    FILE *t = fopen(F_TEXT, "w");
    fputs("just some text\n", t);
    fclose(t);
    int rec = -1;
    CHECK(hp_results_open_resume(F_TEXT, &rec, &w, &err) == -1 && strstr(err.msg, "not an HDF5 file") && rec == 0,
          "a text file is refused: %s", err.msg);
    struct stat st;
    CHECK(stat(F_TEXT, &st) == 0 && st.st_size == 15, "and left untouched");
}

int main(void) {
    test_slots();
    test_killed();
    test_old_and_foreign();
    return hp_check_summary("test_results_ckpt");
}
