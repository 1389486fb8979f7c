/* test_cifar.c - the CIFAR-10 binary reader on synthetic files written into a fresh temporary
 * directory: exact pixels and plane order, labels, several files concatenated, reads that cross
 * the reader's staging buffer, and every error (truncated, empty, label out of range, missing
 * file, directory, gzip archive, CIFAR-100 layout, bad arguments). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "data.h"

#define REC 3073
#define PIX 3072

static char g_dir[64];

static const char *tmp(const char *name) {
    static char buf[8][256];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 256, "%s/%s", g_dir, name);
    return p;
}

static void write_file(const char *path, const unsigned char *data, size_t n) {
    FILE *f = fopen(path, "wb");
    size_t w = (f && n) ? fwrite(data, 1, n, f) : 0;
    int rc = f ? fclose(f) : -1;
    CHECK(f && w == n && rc == 0, "could not write test file %s", path);
}

/* The byte of pixel k (plane-major: c*1024 + y*32 + x) of record r in the synthetic set `seed`:
 * 13 is odd, so every record holds all 256 byte values, 0 and 255 included. */
static unsigned char pixel_byte(int seed, int r, int k) { return (unsigned char)(seed * 31 + r * 97 + k * 13 + 5); }

/* n records with labels lab[r] (or r % 10 when lab is NULL) into a new buffer. */
static unsigned char *make_records(int seed, int n, const unsigned char *lab) {
    unsigned char *buf = malloc((size_t)n * REC);
    if (!buf) return NULL;
    for (int r = 0; r < n; r++) {
        unsigned char *rec = buf + (size_t)r * REC;
        rec[0] = lab ? lab[r] : (unsigned char)(r % 10);
        for (int k = 0; k < PIX; k++) rec[1 + k] = pixel_byte(seed, r, k);
    }
    return buf;
}

/* Records [first, first + n) of d must hold records 0..n-1 of set `seed` with labels lab. */
static void check_records(const hp_dataset *d, int64_t first, int seed, int n, const unsigned char *lab,
                          const char *what) {
    int64_t bad = 0, badlab = 0;
    for (int r = 0; r < n; r++) {
        const float *x = d->x + (first + r) * PIX;
        for (int k = 0; k < PIX; k++)
            if (x[k] != (float)pixel_byte(seed, r, k) / 255.0f) bad++;
        int want = lab ? lab[r] : r % 10;
        if (d->y[first + r] != want) badlab++;
    }
    CHECK(bad == 0, "%s: %lld pixels differ from byte / 255", what, (long long)bad);
    CHECK(badlab == 0, "%s: %lld labels differ", what, (long long)badlab);
}

static int load(const char *const *paths, int npaths, int nclasses, hp_dataset *d, hp_err *err) {
    memset(d, 0, sizeof *d);
    memset(err, 0, sizeof *err);
    return hp_cifar10_load(paths, npaths, nclasses, d, err);
}

static void test_valid_one_file(void) {
    const unsigned char lab[3] = {3, 0, 9};
    unsigned char *buf = make_records(1, 3, lab);
    if (!buf) return;
    write_file(tmp("one.bin"), buf, 3 * REC);
    const char *paths[] = {tmp("one.bin")};
    hp_dataset d;
    hp_err err;
    int rc = load(paths, 1, 10, &d, &err);
    CHECK(rc == 0, "valid file: %s", err.msg);
    if (rc == 0) {
        CHECK(d.n == 3 && d.c == 3 && d.h == 32 && d.w == 32 && d.nclasses == 10,
              "shape n=%lld c=%d h=%d w=%d nclasses=%d, want 3 3 32 32 10", (long long)d.n, d.c, d.h, d.w,
              d.nclasses);
        CHECK(hp_dataset_dim(&d) == PIX, "dim %lld, want 3072", (long long)hp_dataset_dim(&d));
        check_records(&d, 0, 1, 3, lab, "one file");
        /* Spot values by hand: record 0, pixel 0 is byte 36 (1*31 + 5); byte 0 -> 0.0, 255 -> 1.0. */
        CHECK(d.x[0] == 36.0f / 255.0f, "x[0] = %.9g, want 36/255", d.x[0]);
        int k0 = -1, k255 = -1;
        for (int k = 0; k < PIX && (k0 < 0 || k255 < 0); k++) {
            if (pixel_byte(1, 0, k) == 0 && k0 < 0) k0 = k;
            if (pixel_byte(1, 0, k) == 255 && k255 < 0) k255 = k;
        }
        CHECK(k0 >= 0 && k255 >= 0 && d.x[k0] == 0.0f && d.x[k255] == 1.0f, "byte 0 -> 0 and 255 -> 1 exactly");
    }
    hp_dataset_free(&d);
    free(buf);
}

/* R, G and B planes land in channels 0, 1, 2, each row-major 32x32. */
static void test_plane_order(void) {
    unsigned char rec[REC];
    rec[0] = 7;
    memset(rec + 1, 10, 1024);        /* red */
    memset(rec + 1 + 1024, 20, 1024); /* green */
    memset(rec + 1 + 2048, 30, 1024); /* blue */
    rec[1 + 2 * 32 + 5] = 200;        /* red   (y 2,  x 5) */
    rec[1 + 1024 + 31 * 32 + 0] = 77; /* green (y 31, x 0) */
    rec[1 + 2048 + 0 * 32 + 31] = 255; /* blue (y 0,  x 31) */
    write_file(tmp("planes.bin"), rec, REC);
    const char *paths[] = {tmp("planes.bin")};
    hp_dataset d;
    hp_err err;
    int rc = load(paths, 1, 10, &d, &err);
    CHECK(rc == 0, "planes: %s", err.msg);
    if (rc != 0) return;
    CHECK(d.y[0] == 7, "label %d, want 7", d.y[0]);
    /* x[c*1024 + y*32 + x] */
    CHECK(d.x[0 * 1024 + 0] == 10.0f / 255.0f, "channel 0 is red: %.9g", d.x[0]);
    CHECK(d.x[1 * 1024 + 0] == 20.0f / 255.0f, "channel 1 is green: %.9g", d.x[1024]);
    CHECK(d.x[2 * 1024 + 0] == 30.0f / 255.0f, "channel 2 is blue: %.9g", d.x[2048]);
    CHECK(d.x[0 * 1024 + 2 * 32 + 5] == 200.0f / 255.0f, "red (2, 5): %.9g", d.x[2 * 32 + 5]);
    CHECK(d.x[0 * 1024 + 5 * 32 + 2] == 10.0f / 255.0f, "red (5, 2) is not the marker (row-major)");
    CHECK(d.x[1 * 1024 + 31 * 32 + 0] == 77.0f / 255.0f, "green (31, 0): %.9g", d.x[1024 + 31 * 32]);
    CHECK(d.x[2 * 1024 + 0 * 32 + 31] == 1.0f, "blue (0, 31): %.9g", d.x[2048 + 31]);
    int64_t sum[3] = {0, 0, 0};
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 1024; k++) sum[c] += (int64_t)(d.x[c * 1024 + k] * 255.0f + 0.5f);
    CHECK(sum[0] == 1023 * 10 + 200 && sum[1] == 1023 * 20 + 77 && sum[2] == 1023 * 30 + 255,
          "plane byte sums %lld %lld %lld", (long long)sum[0], (long long)sum[1], (long long)sum[2]);
    hp_dataset_free(&d);
}

/* Two files concatenated in the order given; and a file long enough that the reader's ~1 MiB
 * staging buffer (341 records) fills twice and then partly. */
static void test_concatenation(void) {
    const unsigned char la[2] = {1, 2}, lb[3] = {9, 0, 5};
    unsigned char *a = make_records(2, 2, la), *b = make_records(3, 3, lb), *big = make_records(4, 700, NULL);
    if (!a || !b || !big) {
        CHECK(0, "out of memory in the test");
        free(a), free(b), free(big);
        return;
    }
    write_file(tmp("a.bin"), a, 2 * REC);
    write_file(tmp("b.bin"), b, 3 * REC);
    write_file(tmp("big.bin"), big, 700 * (size_t)REC);
    hp_dataset d;
    hp_err err;
    const char *ab[] = {tmp("a.bin"), tmp("b.bin")};
    int rc = load(ab, 2, 10, &d, &err);
    CHECK(rc == 0, "a + b: %s", err.msg);
    if (rc == 0) {
        CHECK(d.n == 5, "a + b: n = %lld, want 5", (long long)d.n);
        check_records(&d, 0, 2, 2, la, "a + b: records of a");
        check_records(&d, 2, 3, 3, lb, "a + b: records of b follow");
    }
    hp_dataset_free(&d);
    const char *ba[] = {tmp("b.bin"), tmp("a.bin")};
    rc = load(ba, 2, 10, &d, &err);
    CHECK(rc == 0 && d.n == 5 && d.y[0] == 9 && d.y[3] == 1 && d.y[4] == 2, "b + a: order follows the paths");
    if (rc == 0) check_records(&d, 3, 2, 2, la, "b + a: records of a last");
    hp_dataset_free(&d);
    const char *three[] = {tmp("a.bin"), tmp("big.bin"), tmp("b.bin")};
    rc = load(three, 3, 10, &d, &err);
    CHECK(rc == 0, "a + big + b: %s", err.msg);
    if (rc == 0) {
        CHECK(d.n == 705, "a + big + b: n = %lld, want 705", (long long)d.n);
        check_records(&d, 0, 2, 2, la, "a + big + b: a");
        check_records(&d, 2, 4, 700, NULL, "a + big + b: big (crosses the staging buffer)");
        check_records(&d, 702, 3, 3, lb, "a + big + b: b");
    }
    hp_dataset_free(&d);
    free(a), free(b), free(big);
}

/* Expect failure; the message must name `file` and contain every phrase of the NULL-ended list,
 * and *out must be left zeroed. */
static void expect_fail_n(const char *const *paths, int npaths, int nclasses, const char *file,
                          const char *const *phrases, const char *what) {
    hp_dataset d;
    hp_err err;
    int rc = load(paths, npaths, nclasses, &d, &err);
    CHECK(rc == -1, "%s: load should fail but returned %d", what, rc);
    CHECK(d.x == NULL && d.y == NULL && d.n == 0, "%s: output must be untouched on failure", what);
    if (file) CHECK(strstr(err.msg, file) != NULL, "%s: message does not name %s: \"%s\"", what, file, err.msg);
    for (int i = 0; phrases[i]; i++)
        CHECK(strstr(err.msg, phrases[i]) != NULL, "%s: message lacks \"%s\": \"%s\"", what, phrases[i], err.msg);
    if (rc == 0) hp_dataset_free(&d);
}
#define EXPECT_FAIL(paths, np, ncl, file, what, ...)                                                         \
    do {                                                                                                     \
        const char *const ph_[] = {__VA_ARGS__, NULL};                                                       \
        expect_fail_n((paths), (np), (ncl), (file), ph_, (what));                                            \
    } while (0)

static void test_errors(void) {
    unsigned char *buf = make_records(5, 3, NULL);
    if (!buf) return;
    /* Truncated: two records and 5 bytes of a third. */
    write_file(tmp("trunc.bin"), buf, 2 * REC + 5);
    const char *p1[] = {tmp("trunc.bin")};
    EXPECT_FAIL(p1, 1, 10, tmp("trunc.bin"), "truncated",
                "truncated: 6151 bytes is not a multiple of the 3073-byte record", "2 whole records and 5 bytes over");
    /* Only part of one record. */
    write_file(tmp("short.bin"), buf, 100);
    const char *p2[] = {tmp("short.bin")};
    EXPECT_FAIL(p2, 1, 10, tmp("short.bin"), "shorter than a record",
                "truncated: 100 bytes is not a multiple of the 3073-byte record");
    /* Empty. */
    write_file(tmp("empty.bin"), buf, 0);
    const char *p3[] = {tmp("empty.bin")};
    EXPECT_FAIL(p3, 1, 10, tmp("empty.bin"), "empty file", "empty file (0 bytes)");
    /* Label out of range in the second file's record 1: the message names that file and record,
     * not the first file. */
    write_file(tmp("good.bin"), buf, 3 * REC);
    buf[1 * REC] = 10;
    write_file(tmp("badlab.bin"), buf, 3 * REC);
    const char *p4[] = {tmp("good.bin"), tmp("badlab.bin")};
    EXPECT_FAIL(p4, 2, 10, tmp("badlab.bin"), "label 10 of 10 classes", "record 1 (byte offset 3073)",
                "label 10", "out of range for 10 classes");
    /* The same file is fine with more classes; and a label equal to nclasses - 1 is accepted. */
    {
        hp_dataset d;
        hp_err err;
        int rc = load(p4, 2, 11, &d, &err);
        CHECK(rc == 0 && d.n == 6 && d.y[4] == 10, "label 10 with 11 classes loads: %s", err.msg);
        hp_dataset_free(&d);
    }
    buf[1 * REC] = 1;
    buf[2 * REC] = 255;
    write_file(tmp("lab255.bin"), buf, 3 * REC);
    const char *p5[] = {tmp("lab255.bin")};
    EXPECT_FAIL(p5, 1, 255, tmp("lab255.bin"), "label 255 of 255 classes", "record 2 (byte offset 6146)",
                "label 255");
    {
        hp_dataset d;
        hp_err err;
        int rc = load(p5, 1, 256, &d, &err);
        CHECK(rc == 0 && d.y[2] == 255, "label 255 with 256 classes loads: %s", err.msg);
        hp_dataset_free(&d);
    }
    /* Missing file after a good one: the OS error and the path. */
    const char *p6[] = {tmp("good.bin"), tmp("no_such_batch.bin")};
    EXPECT_FAIL(p6, 2, 10, tmp("no_such_batch.bin"), "missing file", "cannot open", strerror(ENOENT));
    /* A directory. */
    const char *p7[] = {g_dir};
    EXPECT_FAIL(p7, 1, 10, g_dir, "directory", "is a directory");
    /* The gzip'd archive passed by mistake (1f 8b where a label belongs). */
    unsigned char gz[2 * REC];
    memset(gz, 0, sizeof gz);
    gz[0] = 0x1f, gz[1] = 0x8b, gz[2] = 8;
    write_file(tmp("archive.tar.gz"), gz, sizeof gz);
    const char *p8[] = {tmp("archive.tar.gz")};
    EXPECT_FAIL(p8, 1, 10, tmp("archive.tar.gz"), "gzip archive", "gzip-compressed", "tar xzf");
    /* CIFAR-100 (2 label bytes, 3074-byte records): the length check says so. */
    unsigned char *c100 = calloc(2, 3074);
    if (c100) {
        write_file(tmp("c100.bin"), c100, 2 * 3074);
        const char *p9[] = {tmp("c100.bin")};
        EXPECT_FAIL(p9, 1, 10, tmp("c100.bin"), "CIFAR-100 layout", "not a multiple of the 3073-byte record",
                    "CIFAR-100");
        free(c100);
    }
    /* Bad arguments. */
    const char *pg[] = {tmp("good.bin")};
    EXPECT_FAIL(pg, 1, 0, tmp("good.bin"), "nclasses 0", "nclasses = 0", "[1, 256]");
    EXPECT_FAIL(pg, 1, 257, tmp("good.bin"), "nclasses 257", "nclasses = 257");
    EXPECT_FAIL(pg, 0, 10, NULL, "no files", "at least one file");
    const char *pn[] = {tmp("good.bin"), NULL};
    EXPECT_FAIL(pn, 2, 10, NULL, "NULL path", "path 1 of 2 is NULL");
    free(buf);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/hp_test_cifar_XXXXXX");
    if (!mkdtemp(g_dir)) {
        fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    test_valid_one_file();
    test_plane_order();
    test_concatenation();
    test_errors();
    static const char *names[] = {"one.bin",    "planes.bin", "a.bin",          "b.bin",   "big.bin",
                                  "trunc.bin",  "short.bin",  "empty.bin",      "good.bin", "badlab.bin",
                                  "lab255.bin", "c100.bin",   "archive.tar.gz"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unlink(tmp(names[i]));
    CHECK(rmdir(g_dir) == 0, "remove %s: %s (a file was left behind?)", g_dir, strerror(errno));
    return hp_check_summary("test_cifar");
}
