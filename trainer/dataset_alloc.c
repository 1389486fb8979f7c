/* dataset_alloc.c - see dataset_alloc.h */
/* For madvise(MADV_HUGEPAGE), a Linux extension outside POSIX; guarded where it is used. */
#define _DEFAULT_SOURCE
#include "dataset_alloc.h"

#include <stdlib.h>
#include <sys/mman.h>

/* The feature array is the one big allocation of a run (188 MB for Fashion-MNIST, 614 MB for
 * CIFAR-10's training batches). On these VMs every fresh 4 KiB page costs ~10 us to fault in
 * (0.5 s for 188 MB), so where the kernel offers transparent huge pages the block is 2 MiB-aligned
 * and marked for them (~10x fewer faults). The hint is advisory: if it fails, the memory is simply
 * used with normal pages. */
float *hp_dataset_alloc_features(uint64_t nfloat, const char *path, hp_err *err) {
    if (nfloat > SIZE_MAX / sizeof(float)) {
        hp_errf(err, "%s: %llu features do not fit in this machine's address space", path,
                (unsigned long long)nfloat);
        return NULL;
    }
    uint64_t bytes = nfloat * sizeof(float);
#if defined(MADV_HUGEPAGE)
    const uint64_t huge = 1u << 21;
    if (bytes >= 4 * huge) {
        uint64_t rounded = (bytes + huge - 1) / huge * huge; /* aligned_alloc: size multiple of align */
        float *x = aligned_alloc((size_t)huge, (size_t)rounded);
        if (x) {
            (void)!madvise(x, (size_t)rounded, MADV_HUGEPAGE); /* advisory; failure is harmless */
            return x;
        }
    }
#endif
    float *x = malloc(bytes ? (size_t)bytes : 1);
    if (!x)
        hp_errf(err, "%s: out of memory allocating %llu bytes for image features", path,
                (unsigned long long)bytes);
    return x;
}
