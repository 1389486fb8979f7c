/* cifar.c - the CIFAR-10 binary-format reader (hp_cifar10_load in data.h).
 *
 * Layout of a batch file (data_batch_1.bin .. data_batch_5.bin, test_batch.bin from
 * cifar-10-binary.tar.gz): records of 3073 bytes, no header, no trailer:
 *   byte 0          label (0..9)
 *   bytes 1..1024   red plane, 32x32 row-major
 *   bytes 1025..2048 green plane
 *   bytes 2049..3072 blue plane
 * The three planes are already [C, H, W] row-major, so a record's pixels map one to one onto
 * an example of the data set: x[i*3072 + k] = byte[1 + k] / 255.
 *
 * The format has no header, so the file length is the only structural check: it must be a
 * positive multiple of 3073. All files are opened and measured before anything is allocated,
 * so a bad file is reported at once and the feature array (614 MB for the 50000 training
 * images) is allocated once, at its final size. The files are then read ~1 MiB at a time with
 * read() and converted from a staging buffer; a file that changes size while it is read is an
 * error, not a silent short data set.
 */
#include "data.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset_alloc.h"

#define CIFAR_SIDE 32
#define CIFAR_CHANNELS 3
#define CIFAR_PIXELS (CIFAR_CHANNELS * CIFAR_SIDE * CIFAR_SIDE) /* 3072 */
#define CIFAR_RECORD (1 + CIFAR_PIXELS)                         /* 3073 */
/* CIFAR-100 records carry two label bytes (coarse, fine): recognised only to say so. */
#define CIFAR100_RECORD (2 + CIFAR_PIXELS)
/* Records per read(): 341 x 3073 bytes = 1.0 MiB, ~180 system calls for the training set. */
#define CIFAR_STAGE_RECORDS 341
/* Examples are indexed with int32 by splits and shuffles (as for IDX). */
#define CIFAR_MAX_N INT32_MAX

typedef struct cifar_file {
    const char *path;
    int fd;       /* -1 when closed */
    int64_t nrec; /* records, from the file length */
} cifar_file;

static void cifar_close_quiet(cifar_file *F) {
    if (F->fd >= 0) (void)close(F->fd);
    F->fd = -1;
}

/* Open `path`, check that it is a regular file whose length is a positive multiple of the
 * record, and count its records. On failure the file is closed again. */
static int cifar_open(cifar_file *F, const char *path, int nclasses, hp_err *err) {
    struct stat st;
    F->path = path;
    F->nrec = 0;
    do {
        F->fd = open(path, O_RDONLY | O_CLOEXEC);
    } while (F->fd < 0 && errno == EINTR);
    if (F->fd < 0)
        return hp_errf(err,
                       "%s: cannot open CIFAR-10 batch: %s (expected the data_batch_N.bin / "
                       "test_batch.bin files extracted from cifar-10-binary.tar.gz)",
                       path, strerror(errno));
    if (fstat(F->fd, &st) != 0) {
        hp_errf(err, "%s: cannot stat: %s", path, strerror(errno));
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        hp_errf(err,
                "%s: is a directory; pass the batch files inside it (data_batch_1.bin .. "
                "data_batch_5.bin, test_batch.bin)",
                path);
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        /* The length check below needs a size; pipes and devices have none. */
        hp_errf(err, "%s: not a regular file; CIFAR-10 batches must be regular files", path);
        goto fail;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size == 0) {
        hp_errf(err, "%s: empty file (0 bytes); a CIFAR-10 batch holds records of %d bytes", path,
                CIFAR_RECORD);
        goto fail;
    }
    /* A gzip magic (1f 8b) where a label belongs: the archive itself, not an extracted batch.
     * Only when 0x1f could not be a label anyway, so no valid file is ever refused. */
    unsigned char head[2];
    if (nclasses <= 0x1f && size >= 2) {
        ssize_t r;
        do {
            r = pread(F->fd, head, 2, 0);
        } while (r < 0 && errno == EINTR);
        if (r < 0) {
            hp_errf(err, "%s: read error: %s", path, strerror(errno));
            goto fail;
        }
        if (r == 2 && head[0] == 0x1f && head[1] == 0x8b) {
            hp_errf(err,
                    "%s: is gzip-compressed; CIFAR-10 batches are read uncompressed: extract the "
                    "archive (tar xzf cifar-10-binary.tar.gz) and pass the .bin files",
                    path);
            goto fail;
        }
    }
    if (size % CIFAR_RECORD != 0) {
        const char *hint = "the file is cut short or is not a CIFAR-10 binary batch; extract it again";
        if (size % CIFAR100_RECORD == 0)
            hint = "it is a multiple of 3074 bytes, the CIFAR-100 record (2 label bytes), which this "
                   "reader does not support";
        hp_errf(err, "%s: truncated: %llu bytes is not a multiple of the %d-byte record (%llu whole "
                     "records and %llu bytes over); %s",
                path, (unsigned long long)size, CIFAR_RECORD, (unsigned long long)(size / CIFAR_RECORD),
                (unsigned long long)(size % CIFAR_RECORD), hint);
        goto fail;
    }
    F->nrec = (int64_t)(size / CIFAR_RECORD);
    return 0;
fail:
    cifar_close_quiet(F);
    return -1;
}

/* Read exactly `want` bytes unless the file ends first; *got says how many arrived. */
static int read_full(cifar_file *F, unsigned char *buf, size_t want, size_t *got, hp_err *err) {
    *got = 0;
    while (*got < want) {
        ssize_t r = read(F->fd, buf + *got, want - *got);
        if (r < 0) {
            if (errno == EINTR) continue;
            return hp_errf(err, "%s: read error: %s", F->path, strerror(errno));
        }
        if (r == 0) break;
        *got += (size_t)r;
    }
    return 0;
}

/* Read all records of F into x [nrec, 3072] and y [nrec], checking every label. */
static int cifar_read(cifar_file *F, int nclasses, unsigned char *stage, float *x, int32_t *y, hp_err *err) {
    int64_t done = 0;
    while (done < F->nrec) {
        int64_t nr = F->nrec - done < CIFAR_STAGE_RECORDS ? F->nrec - done : CIFAR_STAGE_RECORDS;
        size_t want = (size_t)nr * CIFAR_RECORD, got;
        if (read_full(F, stage, want, &got, err) != 0) return -1;
        if (got < want)
            return hp_errf(err,
                           "%s: the file shrank while it was read: %llu bytes expected, it ended at "
                           "%llu; is another process writing it?",
                           F->path, (unsigned long long)F->nrec * CIFAR_RECORD,
                           (unsigned long long)(done * CIFAR_RECORD + (int64_t)got));
        for (int64_t r = 0; r < nr; r++) {
            const unsigned char *rec = stage + r * CIFAR_RECORD;
            int64_t i = done + r;
            if (rec[0] >= nclasses)
                return hp_errf(err,
                               "%s: record %lld (byte offset %lld) has label %u, out of range for %d "
                               "classes (labels must lie in [0, %d)); check data.classes in the spec, or whether "
                               "this is a CIFAR-10 binary batch",
                               F->path, (long long)i, (long long)i * CIFAR_RECORD, rec[0], nclasses,
                               nclasses);
            y[i] = rec[0];
            float *xi = x + i * CIFAR_PIXELS; // xi [3, 32, 32]
            for (int k = 0; k < CIFAR_PIXELS; k++) xi[k] = (float)rec[1 + k] / 255.0f; /* [0, 1] */
        }
        done += nr;
    }
    /* One more read proves that nothing was appended since the length was checked. */
    size_t extra;
    if (read_full(F, stage, 1, &extra, err) != 0) return -1;
    if (extra)
        return hp_errf(err, "%s: the file grew while it was read (past %llu bytes); is another "
                            "process writing it?",
                       F->path, (unsigned long long)F->nrec * CIFAR_RECORD);
    return 0;
}

int hp_cifar10_load(const char *const *paths, int npaths, int nclasses, hp_dataset *out, hp_err *err) {
    if (!paths || npaths < 1 || !out)
        return hp_errf(err, "hp_cifar10_load: need at least one file and an output (paths %p, npaths %d, out %p)",
                       (const void *)paths, npaths, (void *)out);
    for (int f = 0; f < npaths; f++)
        if (!paths[f]) return hp_errf(err, "hp_cifar10_load: path %d of %d is NULL", f, npaths);
    /* Labels are bytes, so more than 256 classes could never be told apart. */
    if (nclasses < 1 || nclasses > 256)
        return hp_errf(err, "%s: nclasses = %d is invalid for CIFAR-10 byte labels; it must lie in [1, 256]",
                       paths[0], nclasses);

    cifar_file *files = hp_calloc((size_t)npaths, sizeof *files, "CIFAR-10 file table", err);
    if (!files) return -1;
    for (int f = 0; f < npaths; f++) files[f].fd = -1;
    unsigned char *stage = NULL;
    hp_dataset d = {0};
    int64_t n = 0;
    for (int f = 0; f < npaths; f++) {
        if (cifar_open(&files[f], paths[f], nclasses, err) != 0) goto fail;
        n += files[f].nrec;
        if (n > CIFAR_MAX_N) {
            hp_errf(err, "%s: the %d files hold more than %lld records together, more than the supported %d",
                    paths[f], npaths, (long long)CIFAR_MAX_N, CIFAR_MAX_N);
            goto fail;
        }
    }
    d.n = n;
    d.c = CIFAR_CHANNELS;
    d.h = d.w = CIFAR_SIDE;
    d.nclasses = nclasses;
    d.x = hp_dataset_alloc_features((uint64_t)n * CIFAR_PIXELS, paths[0], err);
    if (!d.x) goto fail;
    d.y = hp_calloc((size_t)n, sizeof *d.y, "CIFAR-10 labels", err);
    if (!d.y) goto fail_ctx;
    stage = hp_calloc(CIFAR_STAGE_RECORDS, CIFAR_RECORD, "CIFAR-10 read buffer", err);
    if (!stage) goto fail_ctx;

    int64_t first = 0;
    for (int f = 0; f < npaths; f++) {
        float *x = d.x + first * CIFAR_PIXELS; // x [nrec, 3, 32, 32]
        if (cifar_read(&files[f], nclasses, stage, x, d.y + first, err) != 0) goto fail;
        first += files[f].nrec;
        int rc = close(files[f].fd);
        files[f].fd = -1;
        if (rc != 0) {
            hp_errf(err, "%s: close failed: %s", paths[f], strerror(errno));
            goto fail;
        }
    }
    free(stage);
    free(files);
    *out = d;
    return 0;
fail_ctx:
    hp_err_prefix(err, "%s", paths[0]);
fail:
    for (int f = 0; f < npaths; f++) cifar_close_quiet(&files[f]);
    free(stage);
    free(files);
    hp_dataset_free(&d);
    return -1;
}
