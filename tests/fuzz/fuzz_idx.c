/* fuzz_idx.c - libFuzzer target: the IDX reader (trainer/data.h hp_idx_load) on any bytes, raw
 * or gzip-compressed. The first byte chooses which file the rest of the input is: an image file
 * (beside a valid 2-label file) or a label file (beside a valid 2-image file of 2x2 pixels).
 * Every input must load or give an error, never a crash, an over-read, a leak or undefined
 * behaviour; a load must satisfy the dataset's invariants. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data.h"

static char dir[64];

static void put(const char *path, const uint8_t *b, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(b, 1, n, f) != n) || fclose(f) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/hpsweep-fuzz-idx.%ld", (long)getpid());
        char cmd[96];
        snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
        if (system(cmd) != 0) abort();
    }
    if (size < 1) return 0;
    static const uint8_t images[] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8};
    static const uint8_t labels[] = {0, 0, 8, 1, 0, 0, 0, 2, 1, 0};
    char ip[96], lp[96];
    snprintf(ip, sizeof ip, "%s/images", dir);
    snprintf(lp, sizeof lp, "%s/labels", dir);
    if (data[0] & 1) {
        put(ip, data + 1, size - 1);
        put(lp, labels, sizeof labels);
    } else {
        put(ip, images, sizeof images);
        put(lp, data + 1, size - 1);
    }
    hp_dataset d;
    memset(&d, 0, sizeof d);
    hp_err err = {{0}};
    if (hp_idx_load(ip, lp, 10, &d, &err) == 0) {
        if (d.n <= 0 || d.c != 1 || d.h <= 0 || d.w <= 0 || !d.x || !d.y) abort();
        for (int64_t i = 0; i < d.n; i++)
            if (d.y[i] < 0 || d.y[i] >= 10) abort();
        hp_dataset_free(&d);
    } else if (!err.msg[0]) {
        abort();
    }
    return 0;
}
