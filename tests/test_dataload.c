/* test_dataload.c - orchestrator/dataload.c on a spec's data section of format cifar10: tiny
 * synthetic CIFAR-10 batch files written into a fresh temporary directory, the spec's file lists
 * read in order, the validation split, subsets, the test files, and errors that name the file.
 * (The reader itself, hp_cifar10_load, is tested by test_cifar.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dataload.h"

#define PIX 3072

static char g_dir[64];

/* The byte of pixel k of record r of file f. */
static unsigned char byte_of(int f, int r, int k) { return (unsigned char)(f * 53 + r * 7 + k * 3 + 1); }

/* A CIFAR-10 batch of n records, labels first_label, first_label + 1, ... */
static void write_batch(const char *name, int f, int n, int first_label, size_t cut) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *fp = fopen(path, "wb");
    CHECK(fp != NULL, "cannot write %s", path);
    if (!fp) return;
    size_t written = 0;
    for (int r = 0; r < n; r++) {
        unsigned char rec[1 + PIX];
        rec[0] = (unsigned char)(first_label + r);
        for (int k = 0; k < PIX; k++) rec[1 + k] = byte_of(f, r, k);
        size_t len = sizeof rec;
        if (cut && written + len > cut) len = cut - written;
        CHECK(fwrite(rec, 1, len, fp) == len, "fwrite %s", path);
        written += len;
    }
    CHECK(fclose(fp) == 0, "fclose %s", path);
}

static int load(const char *data_yaml, int with_test, hp_splits *sp, hp_err *err) {
    char text[1024];
    snprintf(text, sizeof text, "data: {format: cifar10, dir: %s, %s}\nmodel:\n  layers:\n    - {type: dense, units: 10}\n",
             g_dir, data_yaml);
    hp_spec spec;
    hp_err perr = {{0}};
    int rc = hp_spec_parse(text, strlen(text), "cifar.yaml", &spec, &perr);
    CHECK(rc == 0, "spec: %s", perr.msg);
    if (rc) return -2;
    rc = hp_splits_load(&spec, with_test, sp, err);
    hp_spec_free(&spec);
    return rc;
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/hp_dataload_XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    write_batch("b1.bin", 1, 6, 0, 0); /* labels 0..5 */
    write_batch("b2.bin", 2, 4, 6, 0); /* labels 6..9 */
    write_batch("t.bin", 3, 3, 1, 0);  /* labels 1..3 */
    write_batch("short.bin", 4, 2, 0, 1 + PIX + 100); /* a record and a bit */

    hp_splits sp;
    hp_err err = {{0}};
    int rc = load("train_files: [b1.bin, b2.bin], test_files: [t.bin], val_size: 2, standardize: false", 1, &sp, &err);
    CHECK(rc == 0, "load: %s", err.msg);
    if (rc == 0) {
        CHECK(sp.train.n == 8 && sp.val.n == 2 && sp.test.n == 3, "split sizes %lld %lld %lld", (long long)sp.train.n,
              (long long)sp.val.n, (long long)sp.test.n);
        CHECK(sp.train.c == 3 && sp.train.h == 32 && sp.train.w == 32 && sp.test.c == 3, "shape %dx%dx%d",
              sp.train.c, sp.train.h, sp.train.w);
        /* both training files are read: the ten labels 0..9 are each in train or val once */
        int count[10] = {0};
        for (int64_t i = 0; i < sp.train.n; i++) count[sp.train.y[i]]++;
        for (int64_t i = 0; i < sp.val.n; i++) count[sp.val.y[i]]++;
        for (int l = 0; l < 10; l++) CHECK(count[l] == 1, "label %d seen %d times", l, count[l]);
        /* each example's pixels are its record's bytes / 255, planes in file order; the label
         * says which record it was (label < 6: file 1 record label, else file 2 record label - 6) */
        int bad = 0;
        for (int64_t i = 0; i < sp.train.n; i++) {
            int l = sp.train.y[i], f = l < 6 ? 1 : 2, r = l < 6 ? l : l - 6;
            for (int k = 0; k < PIX; k += 97)
                bad += sp.train.x[i * PIX + k] != (float)byte_of(f, r, k) / 255.0f;
        }
        CHECK(bad == 0, "%d training pixels differ from their records", bad);
        CHECK(sp.test.y[0] == 1 && sp.test.y[2] == 3 && sp.test.x[5] == (float)byte_of(3, 0, 5) / 255.0f &&
                  sp.test.x[2 * PIX + 3071] == (float)byte_of(3, 2, 3071) / 255.0f,
              "test set in file order");
        hp_splits_free(&sp);
    }

    /* subsets and standardisation (fitted on the training split: its per-channel mean becomes 0) */
    rc = load("train_files: [b1.bin, b2.bin], val_size: 3, train_subset: 4, val_subset: 1", 0, &sp, &err);
    CHECK(rc == 0, "subsets: %s", err.msg);
    if (rc == 0) {
        CHECK(sp.train.n == 4 && sp.val.n == 1 && sp.test.n == 0, "subset sizes %lld %lld %lld",
              (long long)sp.train.n, (long long)sp.val.n, (long long)sp.test.n);
        double mean = 0;
        for (int64_t i = 0; i < sp.train.n; i++)
            for (int k = 0; k < 1024; k++) mean += sp.train.x[i * PIX + k];
        mean /= 4.0 * 1024;
        CHECK(sp.norm.c == 3 && mean > -1e-5 && mean < 1e-5, "standardised red mean %g (c %d)", mean, sp.norm.c);
        hp_splits_free(&sp);
    }

    /* errors name the file at fault */
    memset(&sp, 0, sizeof sp);
    rc = load("train_files: [b1.bin, missing.bin]", 0, &sp, &err);
    CHECK(rc == -1 && strstr(err.msg, "missing.bin") != NULL, "missing file: %d %s", rc, err.msg);
    rc = load("train_files: [b1.bin, short.bin]", 0, &sp, &err);
    CHECK(rc == -1 && strstr(err.msg, "short.bin") != NULL, "truncated file: %d %s", rc, err.msg);
    rc = load("train_files: [b1.bin], val_size: 6", 0, &sp, &err);
    CHECK(rc == -1 && strstr(err.msg, "data.val_size 6 must lie in [1, 6) for the 6 examples") &&
              strstr(err.msg, "b1.bin"),
          "val_size too large: %s", err.msg);
    rc = load("train_files: [b1.bin], test_files: [missing_test.bin], val_size: 1", 1, &sp, &err);
    CHECK(rc == -1 && strstr(err.msg, "missing_test.bin") != NULL, "missing test file: %s", err.msg);

    const char *const names[] = {"b1.bin", "b2.bin", "t.bin", "short.bin"};
    for (int i = 0; i < 4; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", g_dir, names[i]);
        CHECK(unlink(path) == 0, "unlink %s", path);
    }
    CHECK(rmdir(g_dir) == 0, "rmdir %s", g_dir);
    return hp_check_summary("test_dataload");
}
