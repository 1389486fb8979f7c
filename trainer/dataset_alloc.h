/* dataset_alloc.h - internal to the data readers (idx.c, cifar.c): the allocation of a data
 * set's feature array, the one big block of a run.
 */
#ifndef HP_DATASET_ALLOC_H
#define HP_DATASET_ALLOC_H

#include <stdint.h>

#include "hp_err.h"

/* Allocate nfloat floats for the features of the data set read from `path` (named in the error).
 * Large blocks are 2 MiB-aligned and marked for transparent huge pages where the kernel offers
 * them. The memory is NOT zeroed (the reader writes all of it) and is released with free(). */
float *hp_dataset_alloc_features(uint64_t nfloat, const char *path, hp_err *err);

#endif
