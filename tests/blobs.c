/* blobs.c - see blobs.h */
#include "blobs.h"

#include <stdlib.h>
#include <string.h>

#include "rng.h"

int hp_test_blobs(hp_dataset *d, int64_t n, int nclasses, int c, int h, int w, uint64_t key) {
    int dim = c * h * w;
    memset(d, 0, sizeof *d);
    d->n = n;
    d->c = c, d->h = h, d->w = w;
    d->nclasses = nclasses;
    d->x = calloc((size_t)n * (size_t)dim, sizeof(float));
    d->y = calloc((size_t)n, sizeof(int32_t));
    float *mu = calloc((size_t)nclasses * (size_t)dim, sizeof(float));
    if (!d->x || !d->y || !mu) {
        free(mu);
        hp_test_blobs_free(d);
        return -1;
    }
    hp_rng centres = hp_rng_make(777);
    for (int i = 0; i < nclasses * dim; i++) mu[i] = hp_rng_uniform(&centres) < 0.5 ? -1.0f : 1.0f;
    hp_rng r = hp_rng_make(key);
    for (int64_t i = 0; i < n; i++) {
        int k = (int)hp_rng_below(&r, (uint64_t)nclasses);
        d->y[i] = k;
        for (int j = 0; j < dim; j++)
            d->x[i * dim + j] = mu[k * dim + j] + 1.1f * (float)hp_rng_normal(&r);
    }
    free(mu);
    return 0;
}

void hp_test_blobs_free(hp_dataset *d) {
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}
