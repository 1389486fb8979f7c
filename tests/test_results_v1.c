/* test_results_v1.c - files of format version 1 (before /trials had gpu and device) are still
 * read, shown, continued and recovered, and a version-2 file without those fields is refused.
 *
 * The version-1 file is made from the sample (tests/results/sample.c) the way version 1 laid it
 * out: every table as now except /trials, whose type is today's without the gpu and device
 * members (version 2 added only those), and format_version 1. The /trials dataset is rebuilt
 * with the same creation properties (chunked, unlimited) in a file opened with the latest
 * format, as the writer makes it, so SWMR reading and appending work on it as on a real one.
 */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "results.h"
#include "results/sample.h"
#include "show.h"

#define V1 "results_v1.h5"

/* The compound type `t` without the members gpu and device, packed. */
static hid_t without_device(hid_t t) {
    int n = H5Tget_nmembers(t);
    size_t size = 0;
    for (int i = 0; i < n; i++) {
        char *name = H5Tget_member_name(t, (unsigned)i);
        if (strcmp(name, "gpu") != 0 && strcmp(name, "device") != 0) {
            hid_t mt = H5Tget_member_type(t, (unsigned)i);
            size += H5Tget_size(mt);
            H5Tclose(mt);
        }
        H5free_memory(name);
    }
    hid_t out = H5Tcreate(H5T_COMPOUND, size);
    size_t off = 0;
    for (int i = 0; out >= 0 && i < n; i++) {
        char *name = H5Tget_member_name(t, (unsigned)i);
        if (strcmp(name, "gpu") != 0 && strcmp(name, "device") != 0) {
            hid_t mt = H5Tget_member_type(t, (unsigned)i);
            if (H5Tinsert(out, name, off, mt) < 0) {
                H5Tclose(out);
                out = -1;
            }
            off += H5Tget_size(mt);
            H5Tclose(mt);
        }
        H5free_memory(name);
    }
    return out;
}

static int set_version(hid_t f, int32_t v) {
    hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
    int rc = a >= 0 && H5Awrite(a, H5T_NATIVE_INT32, &v) >= 0 ? 0 : -1;
    if (a >= 0) H5Aclose(a);
    return rc;
}

/* Rewrite `path`'s /trials in the version-1 layout and set format_version to `version`. */
static int make_v1_layout(const char *path, int32_t version) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    if (f < 0) return -1;
    int rc = -1;
    hid_t ds = H5Dopen2(f, "/trials", H5P_DEFAULT);
    hid_t ftype = ds >= 0 ? H5Dget_type(ds) : -1;
    hid_t v1 = ftype >= 0 ? without_device(ftype) : -1;
    hid_t space = ds >= 0 ? H5Dget_space(ds) : -1;
    hid_t dcpl = ds >= 0 ? H5Dget_create_plist(ds) : -1;
    hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    void *rows = n > 0 && v1 >= 0 ? calloc((size_t)n, H5Tget_size(v1)) : NULL;
    if (rows && H5Dread(ds, v1, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0) {
        hsize_t dims = (hsize_t)n, maxd = H5S_UNLIMITED;
        hid_t sp = H5Screate_simple(1, &dims, &maxd);
        hid_t nds = H5Dcreate2(f, "/trials_v1", v1, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        if (nds >= 0 && H5Dwrite(nds, v1, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0 && H5Dclose(nds) >= 0 &&
            H5Dclose(ds) >= 0 && H5Ldelete(f, "/trials", H5P_DEFAULT) >= 0 &&
            H5Lmove(f, "/trials_v1", f, "/trials", H5P_DEFAULT, H5P_DEFAULT) >= 0 && set_version(f, version) == 0)
            rc = 0;
        ds = -1;
        H5Sclose(sp);
    }
    free(rows);
    if (ds >= 0) H5Dclose(ds);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    if (v1 >= 0) H5Tclose(v1);
    if (ftype >= 0) H5Tclose(ftype);
    return H5Fclose(f) < 0 ? -1 : rc;
}

/* Does the file's /trials have member `name`? 1 / 0, -1 on error. */
static int trials_have(const char *path, const char *name) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = f >= 0 ? H5Dopen2(f, "/trials", H5P_DEFAULT) : -1;
    hid_t t = ds >= 0 ? H5Dget_type(ds) : -1;
    int rc = t >= 0 ? H5Tget_member_index(t, name) >= 0 : -1;
    H5Eclear2(H5E_DEFAULT);
    if (t >= 0) H5Tclose(t);
    if (ds >= 0) H5Dclose(ds);
    if (f >= 0) H5Fclose(f);
    return rc;
}


/* Read every trial of `path`; NULL on failure. */
static hp_trial_record *read_trials(const char *path, int *version, int64_t *n) {
    hp_err err = {{0}};
    hp_results_reader *rd = NULL;
    *n = 0;
    int rc = hp_results_open_read(path, &rd, &err);
    CHECK(rc == 0, "open_read %s: %s", path, err.msg);
    if (rc != 0) return NULL;
    *version = hp_results_reader_header(rd)->format_version;
    hp_trial_record *t = NULL;
    CHECK(hp_results_read_trials(rd, &t, n, &err) == 0, "read_trials %s: %s", path, err.msg);
    hp_results_close_read(rd);
    return t;
}

/* A version-1 file reads: gpu -1 and device "" for every trial, the rest as written. */
static void test_read(const sample_expect *ex) {
    int version = 0;
    int64_t n = 0;
    hp_trial_record *t = read_trials(V1, &version, &n);
    CHECK(version == 1, "format_version %d, want 1", version);
    CHECK(n == SAMPLE_NTRIALS, "%lld trials", (long long)n);
    for (int64_t i = 0; t && i < n && i < SAMPLE_NTRIALS; i++) {
        const hp_trial_record *w = &ex->trials[i];
        CHECK(t[i].gpu == -1 && t[i].device[0] == '\0', "trial %lld: gpu %d device '%s', want -1 and ''",
              (long long)i, t[i].gpu, t[i].device);
        CHECK(t[i].id == w->id && t[i].status == w->status && t[i].lr == w->lr && t[i].rank == w->rank &&
                  strcmp(t[i].host, w->host) == 0 && t[i].snapshot_row == w->snapshot_row &&
                  strcmp(t[i].message, w->message) == 0,
              "trial %lld: the version-1 fields as written (rank %d host '%s' snapshot_row %lld)", (long long)i,
              t[i].rank, t[i].host, (long long)t[i].snapshot_row);
    }
    free(t);
}

/* show prints "-" for the device of a version-1 trial, and JSON gpu -1, device "". */
static void test_show(void) {
    static char text[16384];
    hp_err err = {{0}};
    for (int json = 0; json <= 1; json++) {
        FILE *f = tmpfile();
        CHECK(f != NULL, "tmpfile");
        if (!f) return;
        hp_show_opts o = {.top_n = 10, .json = json};
        int rc = hp_show(V1, &o, f, &err);
        rewind(f);
        size_t len = fread(text, 1, sizeof text - 1, f);
        text[len] = '\0';
        fclose(f);
        CHECK(rc == 0, "show %s: %s", json ? "--json" : "text", err.msg);
        const char *want = json ? "\"gpu\": -1, \"device\": \"\"" : " 1.5  done      -\n";
        CHECK(strstr(text, want) != NULL, "show %s of a version-1 file lacks '%s'", json ? "--json" : "text", want);
        want = json ? "\"format_version\": 1" : "(format version 1)";
        CHECK(strstr(text, want) != NULL, "show says '%s'", want);
    }
}

/* Continuing a version-1 file: rows updated and appended keep the version-1 layout (HDF5 skips
 * the members the file lacks), every other field lands, and the file stays version 1. */
static void test_append(void) {
    CHECK(sample_copy_file(V1, "results_v1_append.h5") == 0, "copy");
    hp_err err = {{0}};
    hp_results *r = NULL;
    int rc = hp_results_open_append("results_v1_append.h5", &r, &err);
    CHECK(rc == 0, "open_append of a version-1 file: %s", err.msg);
    if (rc != 0) return;
    int version = 0;
    int64_t n = 0;
    hp_trial_record *t = read_trials(V1, &version, &n);
    int ok = t && n == SAMPLE_NTRIALS;
    if (ok) {
        t[0].rank = 5;
        t[0].gpu = 3;
        snprintf(t[0].device, sizeof t[0].device, "written into a version-1 file");
        snprintf(t[0].host, sizeof t[0].host, "node-z");
        CHECK(hp_results_update_trial(r, &t[0], &err) == 0, "update_trial: %s", err.msg);
    }
    hp_stage_record s = {.stage = 2, .method = "random", .trials = 1, .epochs = 1, .first_trial = SAMPLE_NTRIALS};
    hp_trial_record nt = {.id = SAMPLE_NTRIALS, .stage = 2, .status = HP_TRIAL_DONE, .lr = 0.25, .rank = 4,
                          .host = "node-y", .gpu = 1, .device = "cpu", .snapshot_row = -1, .best_val_acc = 0.5,
                          .message = "after the upgrade"};
    CHECK(hp_results_add_stage(r, &s, &nt, 1, &err) == 0, "add_stage: %s", err.msg);
    CHECK(hp_results_close(r, &err) == 0, "close: %s", err.msg);
    free(t);

    t = read_trials("results_v1_append.h5", &version, &n);
    CHECK(version == 1, "still format_version 1 (got %d)", version);
    CHECK(n == SAMPLE_NTRIALS + 1, "%lld trials after appending one", (long long)n);
    if (t && n == SAMPLE_NTRIALS + 1) {
        CHECK(t[0].rank == 5 && strcmp(t[0].host, "node-z") == 0, "updated row: rank %d host '%s'", t[0].rank,
              t[0].host);
        const hp_trial_record *a = &t[SAMPLE_NTRIALS];
        CHECK(a->lr == 0.25 && a->rank == 4 && strcmp(a->host, "node-y") == 0 && a->best_val_acc == 0.5 &&
                  a->snapshot_row == -1 && strcmp(a->message, "after the upgrade") == 0,
              "appended row: lr %g rank %d host '%s' message '%s'", a->lr, a->rank, a->host, a->message);
        for (int64_t i = 0; i < n; i++)
            CHECK(t[i].gpu == -1 && t[i].device[0] == '\0', "trial %lld: gpu %d device '%s' (the file cannot hold them)",
                  (long long)i, t[i].gpu, t[i].device);
    }
    free(t);
    CHECK(trials_have("results_v1_append.h5", "gpu") == 0 && trials_have("results_v1_append.h5", "rank") == 1,
          "the file's /trials keeps the version-1 layout");
}

/* Recovery rewrites a file in the current layout: version 2, gpu -1 and device "" for the old rows. */
static void test_recover(const sample_expect *ex) {
    CHECK(sample_copy_file(V1, "results_v1_recover.h5") == 0, "copy");
    hp_err err = {{0}};
    CHECK(hp_results_recover("results_v1_recover.h5", &err) == 0, "recover: %s", err.msg);
    int version = 0;
    int64_t n = 0;
    hp_trial_record *t = read_trials("results_v1_recover.h5", &version, &n);
    CHECK(version == HP_FORMAT_VERSION, "recovered as version %d (got %d)", HP_FORMAT_VERSION, version);
    CHECK(trials_have("results_v1_recover.h5", "device") == 1, "the recovered /trials has device");
    CHECK(n == SAMPLE_NTRIALS, "%lld trials", (long long)n);
    for (int64_t i = 0; t && i < n && i < SAMPLE_NTRIALS; i++)
        CHECK(t[i].gpu == -1 && t[i].device[0] == '\0' && t[i].lr == ex->trials[i].lr,
              "recovered trial %lld: gpu %d device '%s' lr %g", (long long)i, t[i].gpu, t[i].device, t[i].lr);
    free(t);
}

/* Only version 1 may lack the fields: a version-2 file without them is damaged. */
static void test_v2_without_device(void) {
    hp_err err = {{0}};
    static sample_expect ex;
    CHECK(sample_write("results_v2_nodevice.h5", &ex, &err) == 0, "sample_write: %s", err.msg);
    CHECK(make_v1_layout("results_v2_nodevice.h5", 2) == 0, "version-1 layout, version 2 attribute");
    hp_results_reader *rd = NULL;
    int rc = hp_results_open_read("results_v2_nodevice.h5", &rd, &err);
    CHECK(rc < 0 && strstr(err.msg, "dataset /trials has no field 'gpu'"), "read refused: %s", err.msg);
    if (rd) hp_results_close_read(rd);
    hp_results *w = NULL;
    rc = hp_results_open_append("results_v2_nodevice.h5", &w, &err);
    CHECK(rc < 0 && strstr(err.msg, "dataset /trials has no field 'gpu'"), "append refused: %s", err.msg);
    if (w) hp_results_close(w, NULL);
}

int main(void) {
    static sample_expect ex;
    hp_err err = {{0}};
    int rc = sample_write(V1, &ex, &err);
    CHECK(rc == 0, "sample_write: %s", err.msg);
    if (rc == 0) rc = make_v1_layout(V1, 1);
    CHECK(rc == 0, "rewrite %s in the version-1 layout", V1);
    CHECK(trials_have(V1, "gpu") == 0 && trials_have(V1, "device") == 0 && trials_have(V1, "host") == 1,
          "the version-1 /trials has host but no gpu or device");
    if (rc == 0) {
        test_read(&ex);
        test_show();
        test_append();
        test_recover(&ex);
    }
    test_v2_without_device();
    return hp_check_summary("test_results_v1");
}
