/* blobs.h - a small synthetic classification set for trainer tests: Gaussian blobs, class k
 * centred at a random +-1 vertex (the same centres for every key, so train and validation sets
 * drawn with different keys agree), noise sd 1.1 (about 95% separable with 4 classes in 8
 * dimensions). Examples have shape [c, h, w]. */
#ifndef HP_TEST_BLOBS_H
#define HP_TEST_BLOBS_H

#include <stdint.h>

#include "data.h"

/* Fill *d (owned; free with hp_test_blobs_free). Returns 0, or -1 if out of memory. */
int hp_test_blobs(hp_dataset *d, int64_t n, int nclasses, int c, int h, int w, uint64_t key);
void hp_test_blobs_free(hp_dataset *d);

#endif
