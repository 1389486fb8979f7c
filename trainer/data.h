/* data.h - in-memory data sets, the IDX reader, splits and standardisation.
 *
 * A data set is n examples of c*h*w float features (row-major, example-major: x[i*dim + k])
 * and one int32 label each in [0, nclasses). Readers validate everything they read and
 * report errors that name the file and what is wrong with it.
 */
#ifndef HP_DATA_H
#define HP_DATA_H

#include <stdint.h>

#include "hp_err.h"

typedef struct hp_dataset {
    int64_t n;        /* number of examples */
    int c, h, w;      /* shape of one example; dim = c*h*w */
    int nclasses;     /* labels lie in [0, nclasses) */
    float *x;         /* [n, c*h*w] features, owned */
    int32_t *y;       /* [n] labels, owned */
} hp_dataset;

static inline int64_t hp_dataset_dim(const hp_dataset *d) { return (int64_t)d->c * d->h * d->w; }

/* Read an IDX image file (magic 0x00000803, ubyte, 3 dims n,h,w) and its label file
 * (magic 0x00000801, ubyte, 1 dim n), gzip-compressed or raw (detected by content).
 * Pixels become floats in [0, 1]. Checks: magic, dtype, rank, dims > 0, that the file
 * holds exactly the bytes the header announces (truncated or trailing data is an error),
 * that the counts of images and labels agree, and that labels are < nclasses.
 * On success *out is filled (c = 1). */
int hp_idx_load(const char *images_path, const char *labels_path, int nclasses, hp_dataset *out,
                hp_err *err);

/* Read CIFAR-10 binary batches (each record: 1 label byte, then 3072 bytes: 1024 red, 1024 green,
 * 1024 blue, row-major 32x32) from `npaths` files, concatenated in order, into *out (c = 3,
 * h = w = 32, pixels / 255). Validates that each file's length is a positive multiple of 3073
 * and labels < nclasses; errors name the file and the record. */
int hp_cifar10_load(const char *const *paths, int npaths, int nclasses, hp_dataset *out, hp_err *err);

/* Free what a data set owns and zero it. Safe on a zeroed struct. */
void hp_dataset_free(hp_dataset *d);

/* Deterministic split: a permutation of [0, n) drawn from stream `key` decides which n_val
 * examples go to *val; the rest, in their original order, go to *train. 0 < n_val < n.
 * The validation examples (the permutation's first n_val entries) also keep their original
 * order, not permutation order. Copies the data; `all` is left untouched. */
int hp_dataset_split(const hp_dataset *all, int64_t n_val, uint64_t key, hp_dataset *train,
                     hp_dataset *val, hp_err *err);

/* Keep the first n examples (n <= d->n); used for subsets. */
int hp_dataset_truncate(hp_dataset *d, int64_t n, hp_err *err);

/* Per-channel statistics of a data set (computed on the training split only). */
typedef struct hp_norm {
    int c;
    float mean[16];
    float std[16];
} hp_norm;

/* Per-channel mean and (population) standard deviation of d; c <= 16. */
int hp_norm_fit(const hp_dataset *d, hp_norm *out, hp_err *err);
/* x <- (x - mean[c]) / std[c] in place. */
void hp_norm_apply(const hp_norm *norm, hp_dataset *d);

/* 64-bit FNV-1a hash of the features and labels, recorded in the results file so that a
 * resume can tell that the data changed. */
uint64_t hp_dataset_hash(const hp_dataset *d);

#endif
