/* fuzz_cifar.c - libFuzzer target: the CIFAR-10 batch reader (trainer/data.h hp_cifar10_load)
 * on any bytes, as one batch file or (first byte odd) the same bytes twice as two batches.
 * Every input must load or give an error, never a crash, an over-read, a leak or undefined
 * behaviour; a load must satisfy the dataset's invariants. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[96];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/hpsweep-fuzz-cifar.%ld.bin", (long)getpid());
    if (size < 1) return 0;
    FILE *f = fopen(path, "wb");
    if (!f || (size > 1 && fwrite(data + 1, 1, size - 1, f) != size - 1) || fclose(f) != 0) abort();
    const char *paths[2] = {path, path};
    hp_dataset d;
    memset(&d, 0, sizeof d);
    hp_err err = {{0}};
    if (hp_cifar10_load(paths, (data[0] & 1) ? 2 : 1, 10, &d, &err) == 0) {
        if (d.n <= 0 || d.c != 3 || d.h != 32 || d.w != 32 || !d.x || !d.y) abort();
        for (int64_t i = 0; i < d.n; i++)
            if (d.y[i] < 0 || d.y[i] >= 10) abort();
        hp_dataset_free(&d);
    } else if (!err.msg[0]) {
        abort();
    }
    return 0;
}
