/* idx.c - the IDX reader (LeCun's MNIST format), gzip'd or raw.
 *
 * IDX layout (all integers big-endian):
 *   magic  u32   0x0000TTRR: two zero bytes, data type TT (0x08 = unsigned byte), rank RR
 *   dims   u32 x RR
 *   data   prod(dims) elements, row-major
 * Image files have rank 3 (n, rows, cols), label files rank 1 (n). Only ubyte data is accepted.
 *
 * Files are read through zlib, which detects gzip by its magic bytes (1f 8b) and otherwise
 * passes the bytes through unchanged, so one code path serves both. Every zlib return is
 * checked: a short read is told apart from a corrupt stream with gzerror(), and after the
 * announced payload one more read proves that nothing follows.
 */
#include "data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "dataset_alloc.h"

#define IDX_TYPE_UBYTE 0x08
/* Sanity limits on header dims: n must index with int32 (splits and shuffles use int32
 * permutations) and an image must fit comfortably in memory; anything larger is a corrupt
 * header, not a data set. */
#define IDX_MAX_N 0x7fffffffu
#define IDX_MAX_SIDE 65535u
#define IDX_MAX_PIXELS (1u << 24)
/* gzread takes an unsigned length and returns an int: read in chunks well below INT_MAX. */
#define IDX_CHUNK (1u << 26)

typedef struct idx_file {
    const char *path;
    gzFile f;
} idx_file;

static const char *type_name(unsigned t) {
    switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "unknown";
    }
}

static int idx_open(idx_file *F, const char *path, hp_err *err) {
    F->path = path;
    errno = 0;
    F->f = gzopen(path, "rb");
    if (!F->f) {
        if (errno) return hp_errf(err, "%s: cannot open: %s", path, strerror(errno));
        return hp_errf(err, "%s: cannot open: zlib could not allocate its state (out of memory)", path);
    }
    /* 256 KiB input buffer: fewer read() calls for the 47 MB training images. */
    if (gzbuffer(F->f, 1u << 18) != 0) {
        gzclose(F->f);
        F->f = NULL;
        return hp_errf(err, "%s: gzbuffer failed", path);
    }
    return 0;
}

static int idx_close(idx_file *F, hp_err *err) {
    if (!F->f) return 0;
    int rc = gzclose(F->f);
    F->f = NULL;
    if (rc != Z_OK && err) {
        if (rc == Z_ERRNO) return hp_errf(err, "%s: close failed: %s", F->path, strerror(errno));
        return hp_errf(err, "%s: close failed (zlib error %d)", F->path, rc);
    }
    return rc == Z_OK ? 0 : -1;
}

/* Whether the file can hold `want` more payload bytes, asked before allocating for them: a raw
 * file must have them left; a gzip file cannot expand more than deflate's maximum ratio
 * (1032:1). So a header that announces more than the file can hold is refused as truncated at
 * once, instead of allocating (up to 2^55 bytes) for data that is not there. */
static int idx_fits(idx_file *F, uint64_t want, const char *what, hp_err *err) {
    struct stat st;
    if (stat(F->path, &st) != 0 || !S_ISREG(st.st_mode)) return 0; /* a pipe or device: read and see */
    const uint64_t size = (uint64_t)st.st_size;
    const long pos = gztell(F->f);
    const uint64_t done = pos > 0 ? (uint64_t)pos : 0;
    uint64_t most;
    if (gzdirect(F->f)) most = size > done ? size - done : 0;
    else most = size > UINT64_MAX / 1032 ? UINT64_MAX : size * 1032;
    if (want <= most) return 0;
    if (gzdirect(F->f)) /* the message the read itself would give */
        return hp_errf(err, "%s: truncated: header announces %s (%llu bytes) but only %llu bytes follow; download the "
                            "file again",
                       F->path, what, (unsigned long long)want, (unsigned long long)most);
    return hp_errf(err,
                   "%s: truncated: header announces %s (%llu bytes), but the file's %llu compressed bytes can hold "
                   "at most %llu (gzip expands at most 1032:1); download the file again",
                   F->path, what, (unsigned long long)want, (unsigned long long)size, (unsigned long long)most);
}

/* Describe the stream's error state after a short read or a failed one.
 * Returns 1 if the stream merely ended (clean EOF), 0 if it is a gzip stream cut short,
 * and -1 (with err filled) for a read error or corrupt data. */
static int idx_stream_state(idx_file *F, hp_err *err) {
    int errnum = Z_OK;
    const char *zmsg = gzerror(F->f, &errnum);
    if (errnum == Z_OK) return 1;
    if (errnum == Z_BUF_ERROR) return 0; /* input ended in the middle of a gzip stream */
    if (errnum == Z_ERRNO) return hp_errf(err, "%s: read error: %s", F->path, strerror(errno));
    if (errnum == Z_MEM_ERROR) return hp_errf(err, "%s: out of memory while decompressing", F->path);
    if (!zmsg) zmsg = "unknown zlib error";
    /* zlib prefixes its message with the path; drop that, ours already leads with it. */
    size_t np = strlen(F->path);
    if (strncmp(zmsg, F->path, np) == 0 && strncmp(zmsg + np, ": ", 2) == 0) zmsg += np + 2;
    return hp_errf(err, "%s: corrupt gzip data (%s); the file is damaged: download it again", F->path, zmsg);
}

/* Read up to `want` bytes into buf; *got is how many arrived before EOF. -1 on a read error or
 * corrupt data; *cut is set when a gzip stream ended early (the file was cut short). */
static int idx_read(idx_file *F, void *buf, uint64_t want, uint64_t *got, int *cut, hp_err *err) {
    unsigned char *p = buf;
    *got = 0;
    *cut = 0;
    while (*got < want) {
        uint64_t left = want - *got;
        unsigned len = left > IDX_CHUNK ? IDX_CHUNK : (unsigned)left;
        int r = gzread(F->f, p + *got, len);
        if (r < 0) return idx_stream_state(F, err) < 0 ? -1 : hp_errf(err, "%s: read failed", F->path);
        if (r == 0) break;
        *got += (uint64_t)r;
    }
    if (*got < want) {
        int st = idx_stream_state(F, err);
        if (st < 0) return -1;
        *cut = (st == 0);
    }
    return 0;
}

/* After the payload: count what follows (0 for a well-formed file). -1 on corrupt data, or
 * when a gzip stream lacks its end (the deflate data was complete but the trailer is cut off). */
static int idx_count_trailing(idx_file *F, uint64_t *extra, hp_err *err) {
    unsigned char scratch[1 << 14];
    *extra = 0;
    for (;;) {
        uint64_t got;
        int cut;
        if (idx_read(F, scratch, sizeof scratch, &got, &cut, err) != 0) return -1;
        *extra += got;
        if (cut)
            return hp_errf(err,
                           "%s: truncated: the gzip stream is cut short (its end marker is "
                           "missing); download the file again",
                           F->path);
        if (got < sizeof scratch) return 0;
    }
}

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* Read and check the magic and dims. `rank` is what the caller expects (3 images, 1 labels). */
static int idx_header(idx_file *F, int rank, const char *kind, uint32_t *dims, hp_err *err) {
    unsigned char hdr[16];
    uint64_t want = 4 + 4 * (uint64_t)rank, got;
    int cut;
    uint32_t want_magic = 0x00000800u | (uint32_t)rank;
    if (idx_read(F, hdr, 4, &got, &cut, err) != 0) return -1;
    if (got == 0) return hp_errf(err, "%s: empty file (0 bytes); expected an IDX %s file", F->path, kind);
    if (got < 4)
        return hp_errf(err, "%s: truncated: only %llu bytes, too short for an IDX header (%llu bytes)",
                       F->path, (unsigned long long)got, (unsigned long long)want);
    uint32_t magic = be32(hdr);
    unsigned type = hdr[2], r = hdr[3];
    if (hdr[0] != 0 || hdr[1] != 0 || strcmp(type_name(type), "unknown") == 0)
        return hp_errf(err,
                       "%s: not an IDX %s file: expected magic 0x%08x, found 0x%08x (is this an "
                       "IDX file? gzip'd files are detected automatically)",
                       F->path, kind, want_magic, magic);
    if (type != IDX_TYPE_UBYTE)
        return hp_errf(err,
                       "%s: IDX data type 0x%02x (%s) is not supported: expected magic 0x%08x "
                       "(unsigned byte %s), found 0x%08x",
                       F->path, type, type_name(type), want_magic, kind, magic);
    if ((int)r != rank) {
        const char *hint = "";
        if (rank == 3 && r == 1)
            hint = "; this looks like a label file: are the image and label paths swapped?";
        if (rank == 1 && r == 3)
            hint = "; this looks like an image file: are the image and label paths swapped?";
        return hp_errf(err,
                       "%s: wrong rank: the IDX header has %u dimension(s), an IDX %s file has %d "
                       "(expected magic 0x%08x, found 0x%08x)%s",
                       F->path, r, kind, rank, want_magic, magic, hint);
    }
    if (idx_read(F, hdr + 4, want - 4, &got, &cut, err) != 0) return -1;
    if (got < want - 4)
        return hp_errf(err, "%s: truncated: the file ends inside the IDX header (%llu of %llu bytes)",
                       F->path, (unsigned long long)(4 + got), (unsigned long long)want);
    for (int i = 0; i < rank; i++) {
        dims[i] = be32(hdr + 4 + 4 * i);
        if (dims[i] == 0)
            return hp_errf(err, "%s: dimension %d is 0 in the IDX header; every dimension must be > 0",
                           F->path, i);
    }
    if (dims[0] > IDX_MAX_N)
        return hp_errf(err,
                       "%s: the IDX header announces %u examples, more than the supported %u; "
                       "the header is probably corrupt",
                       F->path, dims[0], IDX_MAX_N);
    return 0;
}

/* The payload check shared by images and labels: exactly `want` bytes, no more. The bytes go to
 * `bytes` if it is not NULL; otherwise they are converted on the fly to floats x / 255 in `x`
 * (through a small staging buffer, so no second full-size copy of the images is made). */
static int idx_payload(idx_file *F, uint64_t want, const char *what, unsigned char *bytes, float *x,
                       hp_err *err) {
    unsigned char stage[1 << 16];
    uint64_t got = 0, extra;
    int cut = 0;
    if (bytes) {
        if (idx_read(F, bytes, want, &got, &cut, err) != 0) return -1;
    } else {
        while (got < want) {
            uint64_t len = want - got < sizeof stage ? want - got : sizeof stage, n;
            if (idx_read(F, stage, len, &n, &cut, err) != 0) return -1;
            for (uint64_t i = 0; i < n; i++) x[got + i] = (float)stage[i] / 255.0f; /* [0, 1] */
            got += n;
            if (n < len) break;
        }
    }
    if (got < want)
        return hp_errf(err,
                       "%s: truncated: header announces %s (%llu bytes) but only %llu bytes "
                       "follow%s; download the file again",
                       F->path, what, (unsigned long long)want, (unsigned long long)got,
                       cut ? " (the gzip stream is cut short)" : "");
    if (idx_count_trailing(F, &extra, err) != 0) return -1;
    if (extra > 0)
        return hp_errf(err,
                       "%s: trailing data: header announces %s (%llu bytes) but %llu more bytes "
                       "follow; the header and the data disagree (wrong or concatenated file?)",
                       F->path, what, (unsigned long long)want, (unsigned long long)extra);
    return 0;
}

static int load_images(const char *path, hp_dataset *d, hp_err *err) {
    idx_file F = {path, NULL};
    uint32_t dims[3] = {0, 0, 0};
    float *x = NULL;
    if (idx_open(&F, path, err) != 0) return -1;
    if (idx_header(&F, 3, "image", dims, err) != 0) goto fail;
    if (dims[1] > IDX_MAX_SIDE || dims[2] > IDX_MAX_SIDE || (uint64_t)dims[1] * dims[2] > IDX_MAX_PIXELS) {
        hp_errf(err,
                "%s: images of %ux%u are larger than the supported %u pixels; the header is "
                "probably corrupt",
                path, dims[1], dims[2], IDX_MAX_PIXELS);
        goto fail;
    }
    /* n < 2^31 and h*w <= 2^24: the product fits in 2^55, no overflow in uint64. */
    uint64_t bytes = (uint64_t)dims[0] * dims[1] * dims[2];
    if (bytes > SIZE_MAX / sizeof(float)) {
        hp_errf(err, "%s: %llu pixels do not fit in this machine's address space", path,
                (unsigned long long)bytes);
        goto fail;
    }
    char what[128];
    snprintf(what, sizeof what, "%u images of %ux%u", dims[0], dims[1], dims[2]);
    /* Allocated before the payload is read, once the file can hold it: pages are touched as
     * data actually arrives. */
    if (idx_fits(&F, bytes, what, err) != 0) goto fail;
    x = hp_dataset_alloc_features(bytes, path, err);
    if (!x) goto fail;
    if (idx_payload(&F, bytes, what, NULL, x, err) != 0) goto fail;
    if (idx_close(&F, err) != 0) goto fail;
    d->n = dims[0];
    d->c = 1;
    d->h = (int)dims[1];
    d->w = (int)dims[2];
    d->x = x;
    return 0;
fail:
    idx_close(&F, NULL);
    free(x);
    return -1;
}

static int load_labels(const char *path, int nclasses, int64_t *n, int32_t **y_out, hp_err *err) {
    idx_file F = {path, NULL};
    uint32_t dims[1] = {0};
    unsigned char *raw = NULL;
    int32_t *y = NULL;
    if (idx_open(&F, path, err) != 0) return -1;
    if (idx_header(&F, 1, "label", dims, err) != 0) goto fail;
    char what[64];
    snprintf(what, sizeof what, "%u labels", dims[0]);
    if (idx_fits(&F, dims[0], what, err) != 0) goto fail;
    raw = hp_calloc(dims[0], 1, "IDX label bytes", err);
    if (!raw) goto fail_ctx;
    if (idx_payload(&F, dims[0], what, raw, NULL, err) != 0) goto fail;
    for (uint32_t i = 0; i < dims[0]; i++) {
        if (raw[i] >= nclasses) {
            hp_errf(err,
                    "%s: label %u at index %u is out of range for %d classes (labels must lie in "
                    "[0, %d)); check data.classes in the spec, or the file",
                    path, raw[i], i, nclasses, nclasses);
            goto fail;
        }
    }
    y = hp_calloc(dims[0], sizeof *y, "labels", err);
    if (!y) goto fail_ctx;
    for (uint32_t i = 0; i < dims[0]; i++) y[i] = raw[i];
    free(raw);
    raw = NULL;
    if (idx_close(&F, err) != 0) goto fail;
    *n = dims[0];
    *y_out = y;
    return 0;
fail_ctx:
    hp_err_prefix(err, "%s", path);
fail:
    idx_close(&F, NULL);
    free(raw);
    free(y);
    return -1;
}

int hp_idx_load(const char *images_path, const char *labels_path, int nclasses, hp_dataset *out,
                hp_err *err) {
    if (!images_path || !labels_path || !out)
        return hp_errf(err, "hp_idx_load: NULL argument (images %p, labels %p, out %p)",
                       (const void *)images_path, (const void *)labels_path, (void *)out);
    /* Labels are bytes, so more than 256 classes could never be told apart. */
    if (nclasses < 1 || nclasses > 256)
        return hp_errf(err, "%s: nclasses = %d is invalid for IDX ubyte labels; it must lie in [1, 256]",
                       labels_path, nclasses);
    hp_dataset d = {0};
    int64_t nlab = 0;
    if (load_images(images_path, &d, err) != 0) return -1;
    if (load_labels(labels_path, nclasses, &nlab, &d.y, err) != 0) {
        hp_dataset_free(&d);
        return -1;
    }
    if (nlab != d.n) {
        hp_errf(err,
                "%s holds %lld images but %s holds %lld labels; the counts must agree "
                "(mismatched pair of files?)",
                images_path, (long long)d.n, labels_path, (long long)nlab);
        hp_dataset_free(&d);
        return -1;
    }
    d.nclasses = nclasses;
    *out = d;
    return 0;
}
