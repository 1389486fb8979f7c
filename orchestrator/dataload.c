/* dataload.c - see dataload.h */
#include "dataload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* One split's files as the format reads them: an IDX image and label file, or a list of
 * CIFAR-10 binary batches. `what` names the split's files in later messages. */
static int load_split(const hp_spec *spec, int test, hp_dataset *out, char *what, size_t cap, hp_err *err) {
    const hp_data_spec *d = &spec->data;
    if (strcmp(d->format, "idx") == 0) {
        char lab[2 * HP_PATH_MAX];
        if (hp_spec_data_path(d, test ? d->test_images : d->train_images, what, cap, err) != 0 ||
            hp_spec_data_path(d, test ? d->test_labels : d->train_labels, lab, sizeof lab, err) != 0)
            return -1;
        return hp_idx_load(what, lab, d->nclasses, out, err);
    }
    if (strcmp(d->format, "cifar10") == 0) {
        int n = test ? d->ntest_files : d->ntrain_files;
        const char(*files)[HP_PATH_MAX] = test ? d->test_files : d->train_files;
        if (n < 1 || n > HP_MAX_DATA_FILES)
            return hp_errf(err, "%s: data.%s_files has %d files; give 1 to %d", spec->path, test ? "test" : "train", n,
                           HP_MAX_DATA_FILES);
        char(*paths)[2 * HP_PATH_MAX] = hp_calloc((size_t)n, sizeof *paths, "the data file paths", err);
        if (!paths) return -1;
        const char *ptrs[HP_MAX_DATA_FILES];
        int rc = 0;
        for (int i = 0; i < n && rc == 0; i++) {
            rc = hp_spec_data_path(d, files[i], paths[i], sizeof paths[i], err);
            ptrs[i] = paths[i];
        }
        if (rc == 0) {
            snprintf(what, cap, "%s%s", paths[0], n > 1 ? " and the files after it" : "");
            rc = hp_cifar10_load(ptrs, n, d->nclasses, out, err);
        }
        free(paths);
        return rc;
    }
    return hp_errf(err, "%s: data.format '%s' is not supported; use idx or cifar10", spec->path, d->format);
}

int hp_splits_load(const hp_spec *spec, int with_test, hp_splits *out, hp_err *err) {
    const hp_data_spec *d = &spec->data;
    memset(out, 0, sizeof *out);

    char what[2 * HP_PATH_MAX + 32];
    hp_dataset all = {0};
    if (load_split(spec, 0, &all, what, sizeof what, err) != 0) return -1;

    if (d->val_size <= 0 || d->val_size >= all.n) {
        long long n = (long long)all.n; /* before the free zeroes it */
        hp_dataset_free(&all);
        return hp_errf(err,
                       "%s: data.val_size %lld must lie in [1, %lld) for the %lld examples of %s; "
                       "a validation split is needed to select trials",
                       spec->path, (long long)d->val_size, n, n, what);
    }
    int rc = hp_dataset_split(&all, d->val_size, hp_key2(spec->seed, HP_STREAM_SPLIT), &out->train,
                              &out->val, err);
    hp_dataset_free(&all);
    if (rc != 0) goto fail;
    if (d->train_subset > 0 && d->train_subset < out->train.n &&
        hp_dataset_truncate(&out->train, d->train_subset, err) != 0)
        goto fail;
    if (d->val_subset > 0 && d->val_subset < out->val.n &&
        hp_dataset_truncate(&out->val, d->val_subset, err) != 0)
        goto fail;

    if (d->standardize) {
        if (hp_norm_fit(&out->train, &out->norm, err) != 0) goto fail;
        hp_norm_apply(&out->norm, &out->train);
        hp_norm_apply(&out->norm, &out->val);
    } else {
        out->norm.c = out->train.c;
        for (int c = 0; c < out->norm.c && c < 16; c++) {
            out->norm.mean[c] = 0.0f;
            out->norm.std[c] = 1.0f;
        }
    }
    if (with_test && hp_splits_load_test(spec, out, err) != 0) goto fail;
    return 0;
fail:
    hp_splits_free(out);
    return -1;
}

int hp_splits_load_test(const hp_spec *spec, hp_splits *s, hp_err *err) {
    char what[2 * HP_PATH_MAX + 32];
    if (load_split(spec, 1, &s->test, what, sizeof what, err) != 0) return -1;
    if (s->test.h != s->train.h || s->test.w != s->train.w || s->test.c != s->train.c) {
        hp_errf(err, "%s: test images are %dx%dx%d but training images are %dx%dx%d", what, s->test.c, s->test.h,
                s->test.w, s->train.c, s->train.h, s->train.w);
        hp_dataset_free(&s->test);
        return -1;
    }
    if (spec->data.standardize) hp_norm_apply(&s->norm, &s->test);
    return 0;
}

void hp_splits_free(hp_splits *s) {
    if (!s->shared) {
        hp_dataset_free(&s->train);
        hp_dataset_free(&s->val);
    }
    memset(&s->train, 0, sizeof s->train);
    memset(&s->val, 0, sizeof s->val);
    hp_dataset_free(&s->test);
    s->shared = 0;
}
