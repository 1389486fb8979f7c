/* test_idx.c - the IDX reader on valid, truncated, malformed and corrupt files, raw and gzip'd,
 * written into a fresh temporary directory; then, if installed, the real Fashion-MNIST set. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "data.h"
#include "rng.h"

static char g_dir[64];

/* Path of `name` inside the temp dir (a ring of buffers so several may be live at once). */
static const char *tmp(const char *name) {
    static char buf[8][256];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 256, "%s/%s", g_dir, name);
    return p;
}

static int write_raw(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = n ? fwrite(data, 1, n, f) : 0;
    int rc = fclose(f);
    return (w == n && rc == 0) ? 0 : -1;
}

static int write_gz(const char *path, const void *data, size_t n) {
    gzFile f = gzopen(path, "wb");
    if (!f) return -1;
    int w = n ? gzwrite(f, data, (unsigned)n) : 0;
    int rc = gzclose(f);
    return (w == (int)n && rc == Z_OK) ? 0 : -1;
}

static int write_file(const char *path, const void *data, size_t n, int gz) {
    int rc = gz ? write_gz(path, data, n) : write_raw(path, data, n);
    CHECK(rc == 0, "could not write test file %s", path);
    return rc;
}

static unsigned char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = malloc(1 << 20);
    *n = buf ? fread(buf, 1, 1 << 20, f) : 0;
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return NULL;
    }
    return buf;
}

static size_t put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    return 4;
}

/* An IDX file in memory: magic, `rank` dims, then `npay` payload bytes. Returns its length. */
static size_t make_idx(unsigned char *buf, uint32_t magic, int rank, const uint32_t *dims,
                       const unsigned char *pay, size_t npay) {
    size_t k = put_be32(buf, magic);
    for (int i = 0; i < rank; i++) k += put_be32(buf + k, dims[i]);
    memcpy(buf + k, pay, npay);
    return k + npay;
}

/* The small reference pair: 3 images of 2x4 and labels {0, 9, 4}. */
static const unsigned char PIX[24] = {0,  255, 128, 1,  2,  3,   254, 127, 10, 20, 30,  40,
                                      50, 60,  70,  80, 90, 100, 110, 120, 7,  77, 177, 200};
static const unsigned char LAB[3] = {0, 9, 4};
static const uint32_t IMG_DIMS[3] = {3, 2, 4};
static const uint32_t LAB_DIMS[1] = {3};

static size_t good_images(unsigned char *buf) { return make_idx(buf, 0x803, 3, IMG_DIMS, PIX, 24); }
static size_t good_labels(unsigned char *buf) { return make_idx(buf, 0x801, 1, LAB_DIMS, LAB, 3); }

static void check_good(const char *img, const char *lab, const char *what) {
    hp_dataset d = {0};
    hp_err err = {{0}};
    int rc = hp_idx_load(img, lab, 10, &d, &err);
    CHECK(rc == 0, "%s: load failed: %s", what, err.msg);
    if (rc != 0) return;
    CHECK(d.n == 3 && d.c == 1 && d.h == 2 && d.w == 4 && d.nclasses == 10,
          "%s: shape n=%lld c=%d h=%d w=%d nclasses=%d, want 3 1 2 4 10", what, (long long)d.n, d.c, d.h, d.w,
          d.nclasses);
    float want[24];
    for (int i = 0; i < 24; i++) want[i] = (float)PIX[i] / 255.0f;
    CHECK_ALLCLOSEF(d.x, want, 24, 0.0, 0.0, what); /* exact */
    CHECK(d.x[1] == 1.0f && d.x[0] == 0.0f, "%s: 255 -> 1 and 0 -> 0 exactly", what);
    for (int i = 0; i < 3; i++)
        CHECK(d.y[i] == LAB[i], "%s: label %d = %d, want %d", what, i, d.y[i], LAB[i]);
    hp_dataset_free(&d);
    CHECK(d.x == NULL && d.y == NULL && d.n == 0, "free zeroes the struct");
}

/* Expect failure; the message must name `file` and contain every phrase in the NULL-terminated list. */
static void expect_fail_n(const char *img, const char *lab, int nclasses, const char *file,
                          const char *const *phrases, const char *what) {
    hp_dataset d = {0};
    hp_err err = {{0}};
    int rc = hp_idx_load(img, lab, nclasses, &d, &err);
    CHECK(rc == -1, "%s: load should fail but returned %d", what, rc);
    CHECK(d.x == NULL && d.y == NULL && d.n == 0, "%s: output must be untouched on failure", what);
    CHECK(strstr(err.msg, file) != NULL, "%s: message does not name %s: \"%s\"", what, file, err.msg);
    for (int i = 0; phrases[i]; i++)
        CHECK(strstr(err.msg, phrases[i]) != NULL, "%s: message lacks \"%s\": \"%s\"", what, phrases[i],
              err.msg);
    if (rc == 0) hp_dataset_free(&d);
}
#define EXPECT_FAIL(img, lab, ncl, file, what, ...)                                                          \
    do {                                                                                                     \
        const char *const ph_[] = {__VA_ARGS__, NULL};                                                       \
        expect_fail_n((img), (lab), (ncl), (file), ph_, (what));                                             \
    } while (0)

static void test_valid(void) {
    unsigned char buf[256];
    size_t ni = good_images(buf);
    write_file(tmp("img"), buf, ni, 0);
    write_file(tmp("img.gz"), buf, ni, 1);
    size_t nl = good_labels(buf);
    write_file(tmp("lab"), buf, nl, 0);
    write_file(tmp("lab.gz"), buf, nl, 1);
    check_good(tmp("img"), tmp("lab"), "raw");
    check_good(tmp("img.gz"), tmp("lab.gz"), "gzip");
    check_good(tmp("img.gz"), tmp("lab"), "gzip images, raw labels");
    /* Detection is by content, not by name: a gzip'd file without .gz loads too. */
    good_images(buf);
    write_file(tmp("img_noext"), buf, ni, 1);
    check_good(tmp("img_noext"), tmp("lab"), "gzip without .gz suffix");
}

static void test_truncated_and_trailing(void) {
    unsigned char buf[256];
    size_t ni = good_images(buf);
    write_file(tmp("img_trunc"), buf, ni - 5, 0);
    write_file(tmp("img_trunc.gz"), buf, ni - 5, 1);
    EXPECT_FAIL(tmp("img_trunc"), tmp("lab"), 10, tmp("img_trunc"), "truncated images",
                "truncated: header announces 3 images of 2x4 (24 bytes) but only 19 bytes follow");
    EXPECT_FAIL(tmp("img_trunc.gz"), tmp("lab"), 10, tmp("img_trunc.gz"), "truncated images, gzip",
                "truncated: header announces 3 images of 2x4 (24 bytes) but only 19 bytes follow");
    unsigned char big[300];
    memcpy(big, buf, ni);
    memset(big + ni, 0xAB, 7);
    write_file(tmp("img_trail"), big, ni + 7, 0);
    EXPECT_FAIL(tmp("img_trail"), tmp("lab"), 10, tmp("img_trail"), "trailing image bytes", "trailing data",
                "24 bytes", "7 more bytes");
    write_file(tmp("img_hdr"), buf, 10, 0);
    EXPECT_FAIL(tmp("img_hdr"), tmp("lab"), 10, tmp("img_hdr"), "header cut short", "truncated",
                "inside the IDX header");
    write_file(tmp("img_tiny"), buf, 3, 0);
    EXPECT_FAIL(tmp("img_tiny"), tmp("lab"), 10, tmp("img_tiny"), "3-byte file", "truncated",
                "too short for an IDX header");

    size_t nl = good_labels(buf);
    write_file(tmp("lab_trunc"), buf, nl - 1, 0);
    EXPECT_FAIL(tmp("img"), tmp("lab_trunc"), 10, tmp("lab_trunc"), "truncated labels",
                "truncated: header announces 3 labels (3 bytes) but only 2 bytes follow");
    memcpy(big, buf, nl);
    big[nl] = 1;
    write_file(tmp("lab_trail.gz"), big, nl + 1, 1);
    EXPECT_FAIL(tmp("img"), tmp("lab_trail.gz"), 10, tmp("lab_trail.gz"), "trailing label byte, gzip",
                "trailing data", "1 more bytes");
}

/* A header announcing far more than the file holds (the fuzzer's first find: 2^31 - 1 images of
 * 28x28 in a 16-byte file asked for 1.7 TB before reading): refused as truncated before any
 * allocation, raw and gzip (which expands at most 1032:1). */
static void test_lying_header(void) {
    unsigned char buf[64];
    const uint32_t dims[3] = {0x7fffffffu, 28, 28};
    size_t n = make_idx(buf, 0x803, 3, dims, PIX, 24);
    write_file(tmp("img_liar"), buf, n, 0);
    write_file(tmp("img_liar.gz"), buf, n, 1);
    EXPECT_FAIL(tmp("img_liar"), tmp("lab"), 10, tmp("img_liar"), "a header announcing 1.7 TB, raw",
                "truncated: header announces 2147483647 images of 28x28 (1683627179248 bytes) but only 24 bytes follow");
    EXPECT_FAIL(tmp("img_liar.gz"), tmp("lab"), 10, tmp("img_liar.gz"), "a header announcing 1.7 TB, gzip",
                "truncated: header announces 2147483647 images of 28x28 (1683627179248 bytes)",
                "gzip expands at most 1032:1");
    const uint32_t ldims[1] = {0x7fffffffu};
    n = make_idx(buf, 0x801, 1, ldims, LAB, 3);
    write_file(tmp("lab_liar"), buf, n, 0);
    EXPECT_FAIL(tmp("img"), tmp("lab_liar"), 10, tmp("lab_liar"), "2^31 - 1 labels in 11 bytes",
                "truncated: header announces 2147483647 labels (2147483647 bytes) but only 3 bytes follow");
}

static void test_bad_headers(void) {
    unsigned char buf[256];
    size_t n = make_idx(buf, 0x12345678, 3, IMG_DIMS, PIX, 24);
    write_file(tmp("img_magic"), buf, n, 0);
    EXPECT_FAIL(tmp("img_magic"), tmp("lab"), 10, tmp("img_magic"), "wrong magic", "is this an IDX file?",
                "expected magic 0x00000803, found 0x12345678");
    n = make_idx(buf, 0x0000BEEF, 1, LAB_DIMS, LAB, 3);
    write_file(tmp("lab_magic"), buf, n, 0);
    EXPECT_FAIL(tmp("img"), tmp("lab_magic"), 10, tmp("lab_magic"), "wrong label magic",
                "expected magic 0x00000801, found 0x0000beef");
    n = make_idx(buf, 0xD03, 3, IMG_DIMS, PIX, 24);
    write_file(tmp("img_float"), buf, n, 0);
    EXPECT_FAIL(tmp("img_float"), tmp("lab"), 10, tmp("img_float"), "float32 data type",
                "data type 0x0d (float32) is not supported");
    /* Wrong rank: image and label paths swapped. */
    EXPECT_FAIL(tmp("lab"), tmp("img"), 10, tmp("lab"), "swapped paths", "wrong rank", "has 1 dimension(s)",
                "swapped");
    uint32_t d2[2] = {3, 8};
    n = make_idx(buf, 0x802, 2, d2, PIX, 24);
    write_file(tmp("img_rank2"), buf, n, 0);
    EXPECT_FAIL(tmp("img_rank2"), tmp("lab"), 10, tmp("img_rank2"), "rank 2 images", "wrong rank",
                "has 2 dimension(s)", "found 0x00000802");
    uint32_t dz[3] = {3, 0, 4};
    n = make_idx(buf, 0x803, 3, dz, PIX, 0);
    write_file(tmp("img_zero"), buf, n, 0);
    EXPECT_FAIL(tmp("img_zero"), tmp("lab"), 10, tmp("img_zero"), "zero dim", "dimension 1 is 0",
                "must be > 0");
    uint32_t dh[3] = {3, 100000, 100000};
    n = make_idx(buf, 0x803, 3, dh, PIX, 24);
    write_file(tmp("img_huge"), buf, n, 0);
    EXPECT_FAIL(tmp("img_huge"), tmp("lab"), 10, tmp("img_huge"), "huge images", "100000x100000",
                "larger than the supported");
    uint32_t dn[3] = {0xFFFFFFFFu, 2, 4};
    n = make_idx(buf, 0x803, 3, dn, PIX, 24);
    write_file(tmp("img_hugen"), buf, n, 0);
    EXPECT_FAIL(tmp("img_hugen"), tmp("lab"), 10, tmp("img_hugen"), "huge n", "4294967295 examples",
                "header is probably corrupt");
}

static void test_content_errors(void) {
    unsigned char buf[256];
    uint32_t d4[1] = {4};
    const unsigned char lab4[4] = {1, 2, 3, 4};
    size_t n = make_idx(buf, 0x801, 1, d4, lab4, 4);
    write_file(tmp("lab4"), buf, n, 0);
    EXPECT_FAIL(tmp("img"), tmp("lab4"), 10, tmp("lab4"), "count mismatch", "holds 3 images",
                "holds 4 labels", "counts must agree");
    const unsigned char labbad[3] = {0, 10, 255};
    n = make_idx(buf, 0x801, 1, LAB_DIMS, labbad, 3);
    write_file(tmp("lab_range"), buf, n, 0);
    EXPECT_FAIL(tmp("img"), tmp("lab_range"), 10, tmp("lab_range"), "label out of range",
                "label 10 at index 1 is out of range for 10 classes");
    /* The same file is fine with more classes. */
    hp_dataset d = {0};
    hp_err err = {{0}};
    int rc = hp_idx_load(tmp("img"), tmp("lab_range"), 256, &d, &err);
    CHECK(rc == 0 && d.y[2] == 255, "256 classes accept label 255: %s", err.msg);
    if (rc == 0) hp_dataset_free(&d);
    EXPECT_FAIL(tmp("img"), tmp("lab"), 0, tmp("lab"), "nclasses 0", "nclasses = 0");

    EXPECT_FAIL(tmp("no_such_file"), tmp("lab"), 10, tmp("no_such_file"), "missing images", "cannot open",
                "No such file");
    EXPECT_FAIL(tmp("img"), tmp("no_such_labels"), 10, tmp("no_such_labels"), "missing labels",
                "cannot open");
    write_file(tmp("empty"), buf, 0, 0);
    EXPECT_FAIL(tmp("empty"), tmp("lab"), 10, tmp("empty"), "empty file", "empty file (0 bytes)");
    EXPECT_FAIL(tmp("img"), tmp("empty"), 10, tmp("empty"), "empty label file", "empty file (0 bytes)");
    EXPECT_FAIL(g_dir, tmp("lab"), 10, g_dir, "a directory", "read error");
}

static void test_corrupt_gzip(void) {
    /* 50 noisy 28x28 images, so the deflate stream is long enough to cut and corrupt. */
    enum { N = 50, HW = 28 * 28 };
    static unsigned char pix[N * HW], buf[N * HW + 64];
    hp_rng r = hp_rng_make(42);
    for (int i = 0; i < N * HW; i++) pix[i] = (unsigned char)(hp_rng_u64(&r) >> 56);
    uint32_t dims[3] = {N, 28, 28};
    size_t n = make_idx(buf, 0x803, 3, dims, pix, sizeof pix);
    write_file(tmp("big.gz"), buf, n, 1);
    unsigned char lab[N + 8];
    uint32_t ld[1] = {N};
    unsigned char ly[N] = {0};
    size_t nl = make_idx(lab, 0x801, 1, ld, ly, N);
    write_file(tmp("biglab"), lab, nl, 0);

    hp_dataset d = {0};
    hp_err err = {{0}};
    int rc = hp_idx_load(tmp("big.gz"), tmp("biglab"), 10, &d, &err);
    CHECK(rc == 0, "noisy gzip file loads: %s", err.msg);
    if (rc == 0) {
        CHECK(d.x[12345] == (float)pix[12345] / 255.0f, "noisy pixel 12345");
        CHECK(d.x[N * HW - 1] == (float)pix[N * HW - 1] / 255.0f, "last pixel");
        hp_dataset_free(&d);
    }

    size_t gzn = 0;
    unsigned char *gz = read_all(tmp("big.gz"), &gzn);
    CHECK(gz != NULL && gzn > 1000, "read back the gzip file (%zu bytes)", gzn);
    if (!gz) return;
    /* CRC-32 in the trailer flipped: all data inflates, then the check fails. */
    gz[gzn - 8] ^= 0xFF;
    write_file(tmp("badcrc.gz"), gz, gzn, 0);
    gz[gzn - 8] ^= 0xFF;
    EXPECT_FAIL(tmp("badcrc.gz"), tmp("biglab"), 10, tmp("badcrc.gz"), "bad CRC", "corrupt gzip data");
    /* First deflate byte 0xFF: BTYPE 11 is reserved, an invalid block type. gzopen writes a
     * 10-byte header without a file name, so deflate data starts at offset 10. */
    unsigned char save = gz[10];
    gz[10] = 0xFF;
    write_file(tmp("badblock.gz"), gz, gzn, 0);
    gz[10] = save;
    EXPECT_FAIL(tmp("badblock.gz"), tmp("biglab"), 10, tmp("badblock.gz"), "invalid deflate block",
                "corrupt gzip data");
    /* Cut in half: the stream ends early. */
    write_file(tmp("half.gz"), gz, gzn / 2, 0);
    EXPECT_FAIL(tmp("half.gz"), tmp("biglab"), 10, tmp("half.gz"), "gzip cut in half",
                "truncated: header announces 50 images of 28x28 (39200 bytes) but only",
                "gzip stream is cut short");
    /* Only the 8-byte trailer missing: the data are complete but the stream has no end. */
    write_file(tmp("notrailer.gz"), gz, gzn - 8, 0);
    EXPECT_FAIL(tmp("notrailer.gz"), tmp("biglab"), 10, tmp("notrailer.gz"), "gzip without trailer",
                "truncated", "gzip stream is cut short");
    free(gz);
}

static double now_s(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0.0;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void test_fashion_mnist(void) {
    const char *dir = "/usr/share/datasets/fashion-mnist";
    char img[256], lab[256];
    snprintf(img, sizeof img, "%s/train-images-idx3-ubyte.gz", dir);
    snprintf(lab, sizeof lab, "%s/train-labels-idx1-ubyte.gz", dir);
    if (access(img, R_OK) != 0 || access(lab, R_OK) != 0) {
        printf("note: %s not installed; skipping the real-data part\n", dir);
        return;
    }
    hp_dataset d = {0};
    hp_err err = {{0}};
    double t0 = now_s();
    int rc = hp_idx_load(img, lab, 10, &d, &err);
    double t1 = now_s();
    CHECK(rc == 0, "Fashion-MNIST train loads: %s", err.msg);
    if (rc != 0) return;
    printf("Fashion-MNIST train: %lld images loaded in %.3f s\n", (long long)d.n, t1 - t0);
    CHECK(d.n == 60000 && d.c == 1 && d.h == 28 && d.w == 28 && d.nclasses == 10,
          "shape n=%lld c=%d h=%d w=%d", (long long)d.n, d.c, d.h, d.w);
    int64_t hist[10] = {0};
    for (int64_t i = 0; i < d.n; i++)
        if (d.y[i] >= 0 && d.y[i] < 10) hist[d.y[i]]++;
    for (int k = 0; k < 10; k++)
        CHECK(hist[k] == 6000, "class %d has %lld examples, want 6000", k, (long long)hist[k]);
    /* Facts of the published file (numpy on the same file): first labels and the byte sum. */
    const int first[10] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
    for (int i = 0; i < 10; i++) CHECK(d.y[i] == first[i], "label %d = %d, want %d", i, d.y[i], first[i]);
    int64_t nx = d.n * hp_dataset_dim(&d), bytesum = 0, outside = 0;
    for (int64_t i = 0; i < nx; i++) {
        if (!(d.x[i] >= 0.0f && d.x[i] <= 1.0f)) outside++;
        bytesum += (int64_t)(d.x[i] * 255.0f + 0.5f);
    }
    CHECK(outside == 0, "%lld pixels outside [0, 1]", (long long)outside);
    CHECK(bytesum == 3431114169LL, "sum of pixel bytes %lld, want 3431114169", (long long)bytesum);
    hp_norm nm;
    rc = hp_norm_fit(&d, &nm, &err);
    CHECK(rc == 0, "norm fit: %s", err.msg);
    CHECK_CLOSE(nm.mean[0], 0.2860406021939525, 1e-6, 0, "Fashion-MNIST mean (numpy)");
    CHECK_CLOSE(nm.std[0], 0.3530242495426238, 1e-6, 0, "Fashion-MNIST population std (numpy)");
    hp_dataset_free(&d);
}

int main(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/hp_test_idx_XXXXXX");
    if (!mkdtemp(g_dir)) {
        fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    test_valid();
    test_truncated_and_trailing();
    test_bad_headers();
    test_lying_header();
    test_content_errors();
    test_corrupt_gzip();
    test_fashion_mnist();
    /* Clean up: every file this test wrote, then the directory. */
    static const char *names[] = {
        "img",       "img.gz",    "lab",      "lab.gz",    "img_noext",    "img_trunc", "img_trunc.gz",
        "img_trail", "img_hdr",   "img_tiny", "lab_trunc", "lab_trail.gz", "img_magic", "lab_magic",
        "img_float", "img_rank2", "img_zero", "img_huge",  "img_hugen",    "lab4",      "lab_range",
        "empty",     "big.gz",    "biglab",   "badcrc.gz", "badblock.gz",  "half.gz",   "notrailer.gz",
        "img_liar",  "img_liar.gz", "lab_liar"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unlink(tmp(names[i]));
    CHECK(rmdir(g_dir) == 0, "remove %s: %s (a file was left behind?)", g_dir, strerror(errno));
    return hp_check_summary("test_idx");
}
