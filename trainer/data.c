/* data.c - data set ownership, train/validation split, subsets, standardisation and hashing.
 * The IDX reader lives in idx.c. */
#include "data.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

void hp_dataset_free(hp_dataset *d) {
    if (!d) return;
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}

/* Check the invariants every function here relies on; `what` names the caller. */
static int check_dataset(const hp_dataset *d, const char *what, hp_err *err) {
    if (!d) return hp_errf(err, "%s: data set is NULL", what);
    if (d->n < 1 || d->c < 1 || d->h < 1 || d->w < 1)
        return hp_errf(err, "%s: data set has shape n=%lld c=%d h=%d w=%d; every size must be >= 1", what,
                       (long long)d->n, d->c, d->h, d->w);
    if (!d->x || !d->y) return hp_errf(err, "%s: data set has no features or labels (freed?)", what);
    return 0;
}

/* Allocate an empty data set of n examples shaped like `like`. */
static int alloc_like(const hp_dataset *like, int64_t n, hp_dataset *out, const char *what, hp_err *err) {
    int64_t dim = hp_dataset_dim(like);
    hp_dataset d = {n, like->c, like->h, like->w, like->nclasses, NULL, NULL};
    if ((uint64_t)n > SIZE_MAX / sizeof(float) / (uint64_t)dim)
        return hp_errf(err, "%s: %lld examples of %lld features overflow size_t", what, (long long)n,
                       (long long)dim);
    d.x = hp_calloc((size_t)(n * dim), sizeof *d.x, what, err);
    if (!d.x) return -1;
    d.y = hp_calloc((size_t)n, sizeof *d.y, what, err);
    if (!d.y) {
        free(d.x);
        return -1;
    }
    *out = d;
    return 0;
}

/* The first n_val entries of a Fisher-Yates permutation drawn from hp_rng_make(key) pick the
 * validation examples. Both outputs keep the original order of `all` (the validation set is
 * NOT in permutation order): order inside a split carries no information, and keeping it makes
 * train and validation easy to compare with the source file. The permutation uses int32, so
 * n < 2^31 (the IDX reader enforces the same bound). */
int hp_dataset_split(const hp_dataset *all, int64_t n_val, uint64_t key, hp_dataset *train, hp_dataset *val,
                     hp_err *err) {
    if (check_dataset(all, "split", err) != 0) return -1;
    if (!train || !val) return hp_errf(err, "split: NULL output data set");
    if (n_val <= 0 || n_val >= all->n)
        return hp_errf(err,
                       "split: validation size %lld is invalid for %lld examples; it must satisfy "
                       "0 < n_val < %lld so that both splits are non-empty",
                       (long long)n_val, (long long)all->n, (long long)all->n);
    if (all->n > INT32_MAX)
        return hp_errf(err, "split: %lld examples exceed the supported %d", (long long)all->n, INT32_MAX);

    int64_t n = all->n, dim = hp_dataset_dim(all);
    int32_t *perm = hp_calloc((size_t)n, sizeof *perm, "split permutation", err);
    unsigned char *is_val = hp_calloc((size_t)n, 1, "split mask", err);
    hp_dataset tr = {0}, va = {0};
    if (!perm || !is_val) goto fail;
    if (alloc_like(all, n - n_val, &tr, "training split", err) != 0) goto fail;
    if (alloc_like(all, n_val, &va, "validation split", err) != 0) goto fail;

    for (int64_t i = 0; i < n; i++) perm[i] = (int32_t)i;
    hp_rng rng = hp_rng_make(key);
    hp_rng_shuffle(&rng, perm, n);
    for (int64_t i = 0; i < n_val; i++) is_val[perm[i]] = 1;

    int64_t it = 0, iv = 0;
    for (int64_t i = 0; i < n; i++) {
        hp_dataset *dst = is_val[i] ? &va : &tr;
        int64_t *j = is_val[i] ? &iv : &it;
        memcpy(dst->x + *j * dim, all->x + i * dim, (size_t)dim * sizeof *all->x);
        dst->y[*j] = all->y[i];
        (*j)++;
    }
    free(perm);
    free(is_val);
    *train = tr;
    *val = va;
    return 0;
fail:
    free(perm);
    free(is_val);
    hp_dataset_free(&tr);
    hp_dataset_free(&va);
    return -1;
}

int hp_dataset_truncate(hp_dataset *d, int64_t n, hp_err *err) {
    if (check_dataset(d, "truncate", err) != 0) return -1;
    if (n < 1 || n > d->n)
        return hp_errf(err,
                       "truncate: cannot keep %lld examples of %lld; the subset size must lie in "
                       "[1, %lld]",
                       (long long)n, (long long)d->n, (long long)d->n);
    if (n == d->n) return 0;
    /* Give the tail back. A shrinking realloc that fails leaves the old block valid, so a
     * failure only costs memory, not correctness. */
    float *x = realloc(d->x, (size_t)(n * hp_dataset_dim(d)) * sizeof *x);
    if (x) d->x = x;
    int32_t *y = realloc(d->y, (size_t)n * sizeof *y);
    if (y) d->y = y;
    d->n = n;
    return 0;
}

int hp_norm_fit(const hp_dataset *d, hp_norm *out, hp_err *err) {
    if (check_dataset(d, "norm fit", err) != 0) return -1;
    if (!out) return hp_errf(err, "norm fit: NULL output");
    int nc = (int)(sizeof out->mean / sizeof out->mean[0]);
    if (d->c > nc) return hp_errf(err, "norm fit: %d channels exceed the supported %d", d->c, nc);
    int64_t dim = hp_dataset_dim(d), hw = (int64_t)d->h * d->w;
    double count = (double)d->n * (double)hw;
    hp_norm r;
    memset(&r, 0, sizeof r);
    r.c = d->c;
    for (int ch = 0; ch < d->c; ch++) {
        /* Two passes in double: mean, then the mean of squared deviations (population
         * variance, divisor N, as torch.std(unbiased=False)); avoids the cancellation of
         * E[x^2] - E[x]^2. */
        double sum = 0.0;
        for (int64_t i = 0; i < d->n; i++) {
            const float *xc = d->x + i * dim + ch * hw; // [h*w] one channel of example i
            for (int64_t k = 0; k < hw; k++) sum += xc[k];
        }
        double mean = sum / count;
        if (!isfinite(mean))
            return hp_errf(err,
                           "norm fit: channel %d has a non-finite mean (%g); the features contain "
                           "NaN or Inf",
                           ch, mean);
        double ss = 0.0;
        for (int64_t i = 0; i < d->n; i++) {
            const float *xc = d->x + i * dim + ch * hw; // [h*w]
            for (int64_t k = 0; k < hw; k++) {
                double dv = xc[k] - mean;
                ss += dv * dv;
            }
        }
        double sd = sqrt(ss / count);
        r.mean[ch] = (float)mean;
        r.std[ch] = (float)sd;
        /* A constant channel (std 0, or so small it rounds to 0 in float) carries no information;
         * dividing by 0 would turn it into NaN/Inf. With std 1 it is merely centred to 0. */
        if (r.std[ch] == 0.0f) r.std[ch] = 1.0f;
    }
    *out = r;
    return 0;
}

void hp_norm_apply(const hp_norm *norm, hp_dataset *d) {
    /* Precondition (no error channel here): the norm was fitted on data of the same shape. */
    assert(norm->c == d->c);
    int64_t dim = hp_dataset_dim(d), hw = (int64_t)d->h * d->w;
    for (int64_t i = 0; i < d->n; i++) {
        for (int ch = 0; ch < d->c; ch++) {
            float *xc = d->x + i * dim + ch * hw; // [h*w]
            const float m = norm->mean[ch], s = norm->std[ch];
            /* Divide rather than multiply by 1/s, to match (x - mean) / std elsewhere exactly. */
            for (int64_t k = 0; k < hw; k++) xc[k] = (xc[k] - m) / s;
        }
    }
}

/* FNV-1a, 64-bit (Fowler, Noll, Vo): h = (h ^ byte) * 0x100000001b3 from 0xcbf29ce484222325. */
#define FNV64_OFFSET 0xcbf29ce484222325ULL
#define FNV64_PRIME 0x100000001b3ULL

/* Feed an integer as `nbytes` little-endian bytes, so the hash is the same on any host. */
static uint64_t fnv_le(uint64_t h, uint64_t v, int nbytes) {
    for (int b = 0; b < nbytes; b++) {
        h ^= (v >> (8 * b)) & 0xffu;
        h *= FNV64_PRIME;
    }
    return h;
}

/* Hashes n (8 bytes), c, h, w (4 bytes each), then every feature as its IEEE-754 bits and every
 * label as int32, all little-endian. nclasses is configuration, not data, and is not hashed. */
uint64_t hp_dataset_hash(const hp_dataset *d) {
    uint64_t h = FNV64_OFFSET;
    h = fnv_le(h, (uint64_t)d->n, 8);
    h = fnv_le(h, (uint32_t)d->c, 4);
    h = fnv_le(h, (uint32_t)d->h, 4);
    h = fnv_le(h, (uint32_t)d->w, 4);
    int64_t nx = d->n * hp_dataset_dim(d);
    for (int64_t i = 0; i < nx; i++) {
        uint32_t bits;
        memcpy(&bits, &d->x[i], sizeof bits);
        h = fnv_le(h, bits, 4);
    }
    for (int64_t i = 0; i < d->n; i++) h = fnv_le(h, (uint32_t)d->y[i], 4);
    return h;
}
