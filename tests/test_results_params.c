/* test_results_params.c - the searched parameters in the results file (format version 3): one
 * /trials column per parameter other than lr and weight_decay (a number or a text), named as
 * search.params names it, and the /stage_params table; written, read back, found again when the
 * file is reopened to append, kept by hp_results_recover; a file with no such columns, and a
 * version-2 file without /stage_params, read as having none.
 */
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "results.h"

#define PFILE "results_params.h5"
#define PKILLED "results_params_killed.h5"
#define PNONE "results_params_none.h5"
#define PV2 "results_params_v2.h5"

static const hp_tensor_info layout = {.name = "w", .ndim = 1, .shape = {5}, .offset = 0, .size = 5};

/* Two columns: a number (momentum), then a text (the optimizer's type, a choice of words). */
static hp_results_meta params_meta(int ncols) {
    hp_results_meta m;
    memset(&m, 0, sizeof m);
    m.spec_yaml = "name: params\n";
    m.spec_len = strlen(m.spec_yaml);
    m.seed = 11;
    m.nxcols = ncols;
    if (ncols > 0) m.xcols[0] = (hp_param_column){.name = "optimizer.momentum", .text = 0};
    if (ncols > 1) m.xcols[1] = (hp_param_column){.name = "optimizer.type", .text = 1};
    return m;
}

static hp_trial_record trial(int64_t id, int stage, double momentum, const char *type) {
    hp_trial_record t;
    memset(&t, 0, sizeof t);
    t.id = id;
    t.stage = stage;
    t.status = HP_TRIAL_PENDING;
    t.lr = 1e-3 * (double)(id + 1);
    t.weight_decay = 5e-4;
    t.seed = 0x1234u + (uint64_t)id;
    t.epochs_planned = 2;
    t.best_val_acc = t.best_val_loss = t.initial_loss = t.update_ratio = NAN;
    t.gpu = -1;
    t.snapshot_row = -1;
    t.xcol[0].num = momentum;
    if (type) snprintf(t.xcol[1].text, sizeof t.xcol[1].text, "%s", type);
    return t;
}

static hp_stage_param_record sparam(int stage, const char *name, const char *scale, double lo, double hi,
                                    const char *deriv, const char *choices) {
    hp_stage_param_record r;
    memset(&r, 0, sizeof r);
    r.stage = stage;
    snprintf(r.name, sizeof r.name, "%s", name);
    snprintf(r.scale, sizeof r.scale, "%s", scale);
    r.low = lo, r.high = hi;
    snprintf(r.derivation, sizeof r.derivation, "%s", deriv);
    snprintf(r.choices, sizeof r.choices, "%s", choices);
    return r;
}

/* The rows written: stage 0 (4 parameters), stage 1 (after reopening: 4 more). */
#define NSP0 4
static hp_stage_param_record sp0[NSP0], sp1[NSP0];
static void make_sparams(void) {
    sp0[0] = sparam(0, "lr", "log", 1e-5, 1.0, "initial", "");
    sp0[1] = sparam(0, "weight_decay", "log", 5e-4, 5e-4, "fixed", "");
    sp0[2] = sparam(0, "optimizer.momentum", "linear", 0.5, 0.95, "initial", "");
    sp0[3] = sparam(0, "optimizer.type", "choice", NAN, NAN, "initial", "sgd,adam,adamw");
    sp1[0] = sparam(1, "lr", "log", 1e-4, 0.1, "narrowed", "");
    sp1[1] = sparam(1, "weight_decay", "log", 5e-4, 5e-4, "fixed", "");
    sp1[2] = sparam(1, "optimizer.momentum", "linear", 0.5, 0.95, "kept", "");
    sp1[3] = sparam(1, "optimizer.type", "choice", NAN, NAN, "narrowed", "sgd,adamw");
}

static int same(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

static void check_sparam(const hp_stage_param_record *g, const hp_stage_param_record *w, const char *what) {
    CHECK(g->stage == w->stage && !strcmp(g->name, w->name) && !strcmp(g->scale, w->scale) &&
              same(g->low, w->low) && same(g->high, w->high) && !strcmp(g->derivation, w->derivation) &&
              !strcmp(g->choices, w->choices),
          "%s: stage_params row (%d, '%s', '%s', %.17g, %.17g, '%s', '%s'), want (%d, '%s', '%s', %g, %g, '%s', '%s')",
          what, g->stage, g->name, g->scale, g->low, g->high, g->derivation, g->choices, w->stage, w->name, w->scale,
          w->low, w->high, w->derivation, w->choices);
}

/* The file's columns, as a reader finds them: the two of params_meta, in order. */
static void check_columns(const hp_param_column *c, int n, const char *what) {
    CHECK(n == 2, "%s: %d parameter columns, want 2", what, n);
    if (n != 2) return;
    CHECK(!strcmp(c[0].name, "optimizer.momentum") && c[0].text == 0, "%s: column 0 '%s' text %d, want "
          "optimizer.momentum, a number", what, c[0].name, (int)c[0].text);
    CHECK(!strcmp(c[1].name, "optimizer.type") && c[1].text == 1, "%s: column 1 '%s' text %d, want optimizer.type, "
          "a text", what, c[1].name, (int)c[1].text);
}

/* Read every trial and stage_params row of path and compare them with want[0..nt), sp[0..nsp). */
static void check_file(const char *path, const hp_trial_record *want, int nt, const hp_stage_param_record *sp,
                       int nsp, const char *what) {
    hp_err err = {{0}};
    hp_results_reader *rd = NULL;
    int rc = hp_results_open_read(path, &rd, &err);
    CHECK(rc == 0, "%s: open_read: %s", what, err.msg);
    if (rc) return;
    CHECK(hp_results_reader_header(rd)->format_version == 3, "%s: format version %d", what,
          hp_results_reader_header(rd)->format_version);
    const hp_param_column *cols = NULL;
    check_columns(cols, hp_results_reader_param_columns(rd, &cols), what);
    hp_trial_record *tr = NULL;
    int64_t n = 0;
    CHECK(hp_results_read_trials(rd, &tr, &n, &err) == 0 && n == nt, "%s: %lld trials, want %d: %s", what,
          (long long)n, nt, err.msg);
    for (int i = 0; i < n && i < nt; i++) {
        const hp_trial_record *g = &tr[i], *w = &want[i];
        CHECK(g->id == w->id && g->stage == w->stage && g->status == w->status && g->lr == w->lr &&
                  g->weight_decay == w->weight_decay && g->seed == w->seed && same(g->best_val_acc, w->best_val_acc),
              "%s: trial %d: id %lld stage %d status %d lr %g", what, i, (long long)g->id, g->stage, g->status, g->lr);
        CHECK(g->xcol[0].num == w->xcol[0].num, "%s: trial %d momentum %.17g, want %.17g", what, i, g->xcol[0].num,
              w->xcol[0].num);
        CHECK(!strcmp(g->xcol[1].text, w->xcol[1].text), "%s: trial %d type '%s', want '%s'", what, i,
              g->xcol[1].text, w->xcol[1].text);
        int nan_rest = 1;
        for (int k = 2; k < HP_MAX_XCOLS; k++) nan_rest &= isnan(g->xcol[k].num) != 0;
        CHECK(nan_rest, "%s: trial %d: columns the file lacks read as NaN", what, i);
    }
    free(tr);
    hp_stage_param_record *rows = NULL;
    CHECK(hp_results_read_stage_params(rd, &rows, &n, &err) == 0 && n == nsp, "%s: %lld stage_params rows, want %d: %s",
          what, (long long)n, nsp, err.msg);
    for (int i = 0; i < n && i < nsp; i++) check_sparam(&rows[i], &sp[i], what);
    free(rows);
    hp_results_close_read(rd);
}

static hp_trial_record want[5];

/* Write stage 0 (3 trials, 4 parameter rows), update one trial; read back. */
static void test_write_read(void) {
    hp_err err = {{0}};
    hp_results *w = NULL;
    hp_results_meta meta = params_meta(2);
    unlink(PFILE);
    int rc = hp_results_create(PFILE, &meta, &layout, 1, &w, &err);
    CHECK(rc == 0, "create with 2 parameter columns: %s", err.msg);
    if (rc) return;
    const hp_param_column *cols = NULL;
    check_columns(cols, hp_results_param_columns(w, &cols), "writer after create");
    want[0] = trial(0, 0, 0.5, "sgd");
    want[1] = trial(1, 0, 0.1 + 0.2, "adamw");
    want[2] = trial(2, 0, 0.95, "adam");
    hp_stage_record st = {.stage = 0, .method = "random", .trials = 3, .epochs = 2, .first_trial = 0};
    CHECK(hp_results_add_stage_params(w, sp0, NSP0, &err) == 0, "add_stage_params: %s", err.msg);
    CHECK(hp_results_add_stage(w, &st, want, 3, &err) == 0, "add_stage: %s", err.msg);
    want[1].status = HP_TRIAL_DONE;
    want[1].best_val_acc = 0.75;
    want[1].epochs_done = 2;
    CHECK(hp_results_update_trial(w, &want[1], &err) == 0, "update_trial: %s", err.msg);
    CHECK(hp_results_close(w, &err) == 0, "close: %s", err.msg);
    check_file(PFILE, want, 3, sp0, NSP0, "written");
}

/* Reopen to append: the columns are found in the file, new rows land in them. */
static void test_append(void) {
    hp_err err = {{0}};
    hp_results *w = NULL;
    int rc = hp_results_open_append(PFILE, &w, &err);
    CHECK(rc == 0, "open_append: %s", err.msg);
    if (rc) return;
    const hp_param_column *cols = NULL;
    check_columns(cols, hp_results_param_columns(w, &cols), "writer after reopening");
    CHECK(hp_results_ntrials(w) == 3 && hp_results_nstages(w) == 1, "reopened: %lld trials %lld stages",
          (long long)hp_results_ntrials(w), (long long)hp_results_nstages(w));
    want[3] = trial(3, 1, 0.625, "sgd");
    want[4] = trial(4, 1, 0.875, "adamw");
    hp_stage_record st = {.stage = 1, .method = "random", .trials = 2, .epochs = 2, .first_trial = 3};
    CHECK(hp_results_add_stage_params(w, sp1, NSP0, &err) == 0, "add_stage_params after reopening: %s", err.msg);
    CHECK(hp_results_add_stage(w, &st, want + 3, 2, &err) == 0, "add_stage after reopening: %s", err.msg);
    want[0].status = HP_TRIAL_FAILED; /* an old row updated through the reopened file */
    CHECK(hp_results_update_trial(w, &want[0], &err) == 0, "update an old row: %s", err.msg);
    CHECK(hp_results_close(w, &err) == 0, "close: %s", err.msg);
    hp_stage_param_record all[2 * NSP0];
    memcpy(all, sp0, sizeof sp0);
    memcpy(all + NSP0, sp1, sizeof sp1);
    check_file(PFILE, want, 5, all, 2 * NSP0, "appended");

    /* recovering the clean file keeps every column and row */
    CHECK(hp_results_recover(PFILE, &err) == 0, "recover a clean file: %s", err.msg);
    check_file(PFILE, want, 5, all, 2 * NSP0, "recovered (clean)");
}

/* A writer killed after stage 0: recover keeps the columns and /stage_params, and the file can be
 * continued. Runs first, before this process starts HDF5 (the child gets a fresh library). */
static void test_killed(void) {
    unlink(PKILLED);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        hp_err err;
        hp_results *w = NULL;
        hp_results_meta meta = params_meta(2);
        if (hp_results_create(PKILLED, &meta, &layout, 1, &w, &err) < 0) _exit(2);
        hp_trial_record t[3] = {trial(0, 0, 0.5, "sgd"), trial(1, 0, 0.1 + 0.2, "adamw"), trial(2, 0, 0.95, "adam")};
        hp_stage_record st = {.stage = 0, .method = "random", .trials = 3, .epochs = 2, .first_trial = 0};
        if (hp_results_add_stage_params(w, sp0, NSP0, &err) < 0 || hp_results_add_stage(w, &st, t, 3, &err) < 0)
            _exit(3);
        t[1].status = HP_TRIAL_DONE;
        t[1].best_val_acc = 0.75;
        t[1].epochs_done = 2;
        if (hp_results_update_trial(w, &t[1], &err) < 0) _exit(4);
        raise(SIGKILL);
        _exit(5);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "fork/wait");
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "writer died by SIGKILL (status %d)", status);
    hp_trial_record w[3] = {trial(0, 0, 0.5, "sgd"), trial(1, 0, 0.1 + 0.2, "adamw"), trial(2, 0, 0.95, "adam")};
    w[1].status = HP_TRIAL_DONE;
    w[1].best_val_acc = 0.75;
    w[1].epochs_done = 2;
    check_file(PKILLED, w, 3, sp0, NSP0, "killed, before recovery");
    hp_err err = {{0}};
    hp_results *r = NULL;
    CHECK(hp_results_open_append(PKILLED, &r, &err) < 0, "a killed file does not reopen before recovery");
    CHECK(hp_results_recover(PKILLED, &err) == 0, "recover: %s", err.msg);
    check_file(PKILLED, w, 3, sp0, NSP0, "killed, recovered");
    int rc = hp_results_open_append(PKILLED, &r, &err);
    CHECK(rc == 0, "append after recovery: %s", err.msg);
    if (rc == 0) {
        const hp_param_column *cols = NULL;
        check_columns(cols, hp_results_param_columns(r, &cols), "recovered, reopened");
        CHECK(hp_results_close(r, &err) == 0, "close: %s", err.msg);
    }
}

/* No parameter columns (only lr and weight_decay searched): none read back, the unused
 * columns NaN, /stage_params present and empty; a version-2 file (no /stage_params) likewise,
 * and appending stage params to it writes nothing. */
static void test_no_columns(void) {
    hp_err err = {{0}};
    hp_results *w = NULL;
    hp_results_meta meta = params_meta(0);
    unlink(PNONE);
    int rc = hp_results_create(PNONE, &meta, &layout, 1, &w, &err);
    CHECK(rc == 0, "create with no parameter columns: %s", err.msg);
    if (rc) return;
    const hp_param_column *cols = NULL;
    CHECK(hp_results_param_columns(w, &cols) == 0, "writer: no columns");
    hp_trial_record t[2] = {trial(0, 0, 0.5, "sgd"), trial(1, 0, 0.6, "adam")}; /* xcol ignored */
    hp_stage_record st = {.stage = 0, .method = "grid", .trials = 2, .epochs = 2};
    CHECK(hp_results_add_stage(w, &st, t, 2, &err) == 0, "add_stage: %s", err.msg);
    CHECK(hp_results_close(w, &err) == 0, "close: %s", err.msg);

    for (int pass = 0; pass < 2; pass++) {
        const char *path = pass ? PV2 : PNONE;
        const char *what = pass ? "version 2" : "no columns";
        if (pass) { /* the same file as version 2 wrote it: no /stage_params, format_version 2 */
            char cmd[256];
            snprintf(cmd, sizeof cmd, "cp %s %s", PNONE, PV2);
            CHECK(system(cmd) == 0, "copy");
            hid_t f = H5Fopen(PV2, H5F_ACC_RDWR, H5P_DEFAULT);
            hid_t a = f >= 0 ? H5Aopen(f, "format_version", H5P_DEFAULT) : -1;
            int32_t v = 2;
            CHECK(f >= 0 && H5Ldelete(f, "/stage_params", H5P_DEFAULT) >= 0 && a >= 0 &&
                      H5Awrite(a, H5T_NATIVE_INT32, &v) >= 0,
                  "make a version-2 file");
            if (a >= 0) H5Aclose(a);
            if (f >= 0) H5Fclose(f);
        }
        hp_results_reader *rd = NULL;
        rc = hp_results_open_read(path, &rd, &err);
        CHECK(rc == 0, "%s: open_read: %s", what, err.msg);
        if (rc) continue;
        CHECK(hp_results_reader_header(rd)->format_version == (pass ? 2 : 3), "%s: version %d", what,
              hp_results_reader_header(rd)->format_version);
        CHECK(hp_results_reader_param_columns(rd, &cols) == 0, "%s: reader finds no columns", what);
        hp_trial_record *tr = NULL;
        int64_t n = 0;
        CHECK(hp_results_read_trials(rd, &tr, &n, &err) == 0 && n == 2, "%s: %lld trials: %s", what, (long long)n,
              err.msg);
        for (int i = 0; i < n; i++) {
            int nan_cols = 1;
            for (int k = 0; k < HP_MAX_XCOLS; k++) nan_cols &= isnan(tr[i].xcol[k].num) != 0;
            CHECK(nan_cols && tr[i].lr == t[i].lr && tr[i].weight_decay == 5e-4 && tr[i].seed == t[i].seed,
                  "%s: trial %d: lr %g wd %g, no parameter column (NaN)", what, i, tr[i].lr, tr[i].weight_decay);
        }
        free(tr);
        static hp_stage_param_record dummy;
        hp_stage_param_record *rows = &dummy; /* must come back NULL */
        CHECK(hp_results_read_stage_params(rd, &rows, &n, &err) == 0 && rows == NULL && n == 0,
              "%s: no stage_params rows (%lld)", what, (long long)n);
        hp_results_close_read(rd);

        rc = hp_results_open_append(path, &w, &err);
        CHECK(rc == 0, "%s: open_append: %s", what, err.msg);
        if (rc) continue;
        CHECK(hp_results_param_columns(w, &cols) == 0, "%s: reopened writer: no columns", what);
        CHECK(hp_results_add_stage_params(w, sp0, NSP0, &err) == 0, "%s: add_stage_params: %s", what, err.msg);
        CHECK(hp_results_close(w, &err) == 0, "close: %s", err.msg);
        rc = hp_results_open_read(path, &rd, &err);
        if (rc == 0) {
            CHECK(hp_results_read_stage_params(rd, &rows, &n, &err) == 0 && n == (pass ? 0 : NSP0),
                  "%s: %lld stage_params rows after appending 4 (want %d)", what, (long long)n, pass ? 0 : NSP0);
            for (int i = 0; i < n && i < NSP0; i++) check_sparam(&rows[i], &sp0[i], what);
            free(rows);
            hp_results_close_read(rd);
        }
    }
}

/* Text longer than its field is cut (NUL-terminated), not overrun; column titles. */
static void test_cut_and_titles(void) {
    hp_err err = {{0}};
    hp_results *w = NULL;
    hp_results_meta meta = params_meta(2);
    unlink("results_params_cut.h5");
    if (hp_results_create("results_params_cut.h5", &meta, &layout, 1, &w, &err) != 0) {
        CHECK(0, "create: %s", err.msg);
        return;
    }
    hp_trial_record t = trial(0, 0, 0.5, NULL);
    memset(t.xcol[1].text, 'x', sizeof t.xcol[1].text); /* no terminator */
    hp_stage_record st = {.stage = 0, .method = "random", .trials = 1, .epochs = 2};
    CHECK(hp_results_add_stage(w, &st, &t, 1, &err) == 0, "add_stage: %s", err.msg);
    CHECK(hp_results_close(w, &err) == 0, "close: %s", err.msg);
    hp_results_reader *rd = NULL;
    if (hp_results_open_read("results_params_cut.h5", &rd, &err) == 0) {
        hp_trial_record *tr = NULL;
        int64_t n = 0;
        CHECK(hp_results_read_trials(rd, &tr, &n, &err) == 0 && n == 1, "read: %s", err.msg);
        if (n == 1)
            CHECK(strlen(tr[0].xcol[1].text) == HP_XTEXT - 1 && tr[0].xcol[0].num == 0.5,
                  "text cut to %zu characters (want %d)", strlen(tr[0].xcol[1].text), HP_XTEXT - 1);
        free(tr);
        hp_results_close_read(rd);
    }
    hp_param_column c[3] = {{"optimizer.type", 1}, {"model.layers.1.type", 1}, {"optimizer.momentum", 0}};
    CHECK(!strcmp(hp_param_column_title(c, 3, 0), "optimizer.type") &&
              !strcmp(hp_param_column_title(c, 3, 1), "model.layers.1.type") &&
              !strcmp(hp_param_column_title(c, 3, 2), "momentum"),
          "titles: '%s' '%s' '%s'", hp_param_column_title(c, 3, 0), hp_param_column_title(c, 3, 1),
          hp_param_column_title(c, 3, 2));
    CHECK(!strcmp(hp_param_column_title(c, 1, 0), "type"), "a lone optimizer.type: '%s'",
          hp_param_column_title(c, 1, 0));
}

int main(void) {
    make_sparams();
    test_killed();
    test_write_read();
    test_append();
    test_no_columns();
    test_cut_and_titles();
    return hp_check_summary("test_results_params");
}
