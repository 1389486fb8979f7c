/* dataload.c - see dataload.h */
#include "dataload.h"

#include <stdio.h>
#include <string.h>

#include "rng.h"

int hp_splits_load(const hp_spec *spec, int with_test, hp_splits *out, hp_err *err) {
    const hp_data_spec *d = &spec->data;
    memset(out, 0, sizeof *out);
    if (strcmp(d->format, "idx") != 0)
        return hp_errf(err, "%s: data.format '%s' is not supported; use idx", spec->path, d->format);

    char img[2 * HP_PATH_MAX], lab[2 * HP_PATH_MAX];
    hp_dataset all = {0};
    if (hp_spec_data_path(d, d->train_images, img, sizeof img, err) != 0 ||
        hp_spec_data_path(d, d->train_labels, lab, sizeof lab, err) != 0 ||
        hp_idx_load(img, lab, d->nclasses, &all, err) != 0)
        return -1;

    if (d->val_size <= 0 || d->val_size >= all.n) {
        hp_dataset_free(&all);
        return hp_errf(err,
                       "%s: data.val_size %lld must lie in [1, %lld) for the %lld examples of %s; "
                       "a validation split is needed to select trials",
                       spec->path, (long long)d->val_size, (long long)all.n, (long long)all.n, img);
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

    if (with_test) {
        if (hp_spec_data_path(d, d->test_images, img, sizeof img, err) != 0 ||
            hp_spec_data_path(d, d->test_labels, lab, sizeof lab, err) != 0 ||
            hp_idx_load(img, lab, d->nclasses, &out->test, err) != 0)
            goto fail;
        if (out->test.h != out->train.h || out->test.w != out->train.w || out->test.c != out->train.c) {
            hp_errf(err, "%s: test images are %dx%dx%d but training images are %dx%dx%d", img, out->test.c,
                    out->test.h, out->test.w, out->train.c, out->train.h, out->train.w);
            goto fail;
        }
    }

    if (d->standardize) {
        if (hp_norm_fit(&out->train, &out->norm, err) != 0) goto fail;
        hp_norm_apply(&out->norm, &out->train);
        hp_norm_apply(&out->norm, &out->val);
        if (with_test) hp_norm_apply(&out->norm, &out->test);
    } else {
        out->norm.c = out->train.c;
        for (int c = 0; c < out->norm.c && c < 16; c++) {
            out->norm.mean[c] = 0.0f;
            out->norm.std[c] = 1.0f;
        }
    }
    return 0;
fail:
    hp_splits_free(out);
    return -1;
}

void hp_splits_free(hp_splits *s) {
    hp_dataset_free(&s->train);
    hp_dataset_free(&s->val);
    hp_dataset_free(&s->test);
}
