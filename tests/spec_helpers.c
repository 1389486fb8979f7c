/* spec_helpers.c - see spec_helpers.h */
#include "spec_helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "check.h"

int spec_is_zeroed(const hp_spec *s) {
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < sizeof *s; i++)
        if (p[i]) return 0;
    return 1;
}

void spec_expect_fail(const char *label, int rc, const hp_spec *s, const hp_err *err, const char *const *want) {
    if (getenv("HP_TEST_VERBOSE")) printf("%-28s %s\n", label, err->msg); /* to read the messages */
    CHECK(rc == -1, "%s: expected -1, got %d", label, rc);
    CHECK(spec_is_zeroed(s), "%s: the output spec must be left zeroed on error", label);
    CHECK(strchr(err->msg, '\n') == NULL, "%s: the message must be one line: %s", label, err->msg);
    for (int i = 0; want[i]; i++)
        CHECK(strstr(err->msg, want[i]) != NULL, "%s: message lacks \"%s\": %s", label, want[i], err->msg);
}

void spec_run_bad(const spec_bad_case *cases, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const spec_bad_case *c = &cases[i];
        hp_spec s;
        hp_err err = {{0}};
        memset(&s, 0xAB, sizeof s); /* garbage in: must come out zeroed */
        int rc = hp_spec_parse(c->text, strlen(c->text), "x.yaml", &s, &err);
        spec_expect_fail(c->label, rc, &s, &err, c->want);
    }
}

int spec_parse_ok(const char *text, hp_spec *s, const char *label) {
    hp_err err = {{0}};
    int rc = hp_spec_parse(text, strlen(text), "x.yaml", s, &err);
    CHECK(rc == 0, "%s: %s", label, err.msg);
    return rc;
}

#define SAME(field, fmt) CHECK(a->field == b->field, "%s: " #field " " fmt " vs " fmt, label, a->field, b->field)
#define SAME_I64(field) \
    CHECK(a->field == b->field, "%s: " #field " %lld vs %lld", label, (long long)a->field, (long long)b->field)
#define SAME_STR(field) CHECK(strcmp(a->field, b->field) == 0, "%s: " #field " '%s' vs '%s'", label, a->field, b->field)

static void same_layer(const hp_layer_spec *a, const hp_layer_spec *b, const char *label) {
    SAME(type, "%d");
    SAME(units, "%d");
    SAME(init, "%d");
    SAME(filters, "%d");
    SAME(kernel, "%d");
    SAME(stride, "%d");
    SAME(padding, "%d");
    SAME(bias, "%d");
    SAME(p, "%.17g");
    SAME(slope, "%.17g");
    SAME(alpha, "%.17g");
    SAME(momentum, "%.17g");
    SAME(eps, "%.17g");
    SAME(from, "%d");
}

static void same_data(const hp_data_spec *a, const hp_data_spec *b, const char *label) {
    SAME_STR(format);
    SAME_STR(dir);
    SAME_STR(train_images);
    SAME_STR(train_labels);
    SAME_STR(test_images);
    SAME_STR(test_labels);
    SAME(ntrain_files, "%d");
    SAME(ntest_files, "%d");
    for (int i = 0; i < HP_MAX_DATA_FILES; i++) {
        SAME_STR(train_files[i]);
        SAME_STR(test_files[i]);
    }
    SAME(nclasses, "%d");
    SAME_I64(val_size);
    SAME_I64(train_subset);
    SAME_I64(val_subset);
    SAME(standardize, "%d");
}

static void same_train(const hp_train_spec *a, const hp_train_spec *b, const char *label) {
    SAME(batch_size, "%d");
    SAME(epochs, "%d");
    SAME(diverge_factor, "%.17g");
    SAME(synthetic_ms, "%d");
    SAME(patience, "%d");
    SAME(schedule.type, "%d");
    SAME(schedule.warmup_epochs, "%d");
    SAME(schedule.step_size, "%d");
    SAME(schedule.gamma, "%.17g");
    SAME(schedule.nmilestones, "%d");
    for (int i = 0; i < HP_MAX_MILESTONES; i++) SAME(schedule.milestones[i], "%d");
    SAME(schedule.min_lr, "%.17g");
    SAME(schedule.patience, "%d");
    SAME(schedule.threshold, "%.17g");
    SAME(augment.flip, "%d");
    SAME(augment.shift, "%d");
    SAME(augment.cutout, "%d");
    SAME(augment.mixup, "%.17g");
}

static void same_search(const hp_search_spec *a, const hp_search_spec *b, const char *label) {
    for (int p = 0; p < HP_NFIXED_PARAMS; p++) {
        SAME(params[p].enabled, "%d");
        SAME(params[p].low, "%.17g");
        SAME(params[p].high, "%.17g");
        SAME(params[p].scale, "%d");
        SAME(params[p].bound_low, "%.17g");
        SAME(params[p].bound_high, "%.17g");
    }
    SAME(nstages, "%d");
    for (int i = 0; i < HP_MAX_STAGES; i++) {
        SAME(stages[i].method, "%d");
        SAME(stages[i].trials, "%d");
        SAME(stages[i].points, "%d");
        SAME(stages[i].epochs, "%d");
        SAME(stages[i].top_k, "%d");
        SAME(stages[i].margin, "%.17g");
        SAME_I64(stages[i].train_subset);
        SAME(stages[i].prune.rule, "%d");
        SAME(stages[i].prune.after, "%d");
        SAME(stages[i].prune.min_trials, "%d");
        SAME(stages[i].prune.eta, "%d");
    }
    SAME(keep_snapshots, "%d");
}

void spec_check_same(const hp_spec *a, const hp_spec *b, const char *label) {
    SAME_STR(name);
    SAME_I64(seed);
    SAME(device, "%d");
    SAME(cuda.deterministic, "%d");
    SAME(cuda.allow_tf32, "%d");
    SAME(final.ensemble, "%d");
    same_data(&a->data, &b->data, label);
    SAME(model.nlayers, "%d");
    for (int i = 0; i < HP_MAX_LAYERS; i++) same_layer(&a->model.layers[i], &b->model.layers[i], label);
    SAME(optim.type, "%d");
    CHECK(a->optim.lr == b->optim.lr || (isnan(a->optim.lr) && isnan(b->optim.lr)), "%s: optim.lr %.17g vs %.17g",
          label, a->optim.lr, b->optim.lr); /* NaN: an external trainer's */
    SAME(optim.momentum, "%.17g");
    SAME(optim.nesterov, "%d");
    CHECK(a->optim.weight_decay == b->optim.weight_decay || (isnan(a->optim.weight_decay) && isnan(b->optim.weight_decay)),
          "%s: optim.weight_decay %.17g vs %.17g", label, a->optim.weight_decay, b->optim.weight_decay);
    SAME(optim.beta1, "%.17g");
    SAME(optim.beta2, "%.17g");
    SAME(optim.eps, "%.17g");
    SAME(optim.alpha, "%.17g");
    same_train(&a->train, &b->train, label);
    SAME(has_search, "%d");
    same_search(&a->search, &b->search, label);
}

int spec_roundtrip(const hp_spec *s, hp_spec *back, const char *label) {
    hp_err err = {{0}};
    char *dump = NULL;
    size_t dlen = 0;
    FILE *f = open_memstream(&dump, &dlen);
    CHECK(f != NULL, "%s: open_memstream", label);
    if (!f) return -1;
    CHECK(hp_spec_dump(s, f, &err) == 0, "%s: hp_spec_dump: %s", label, err.msg);
    CHECK(fclose(f) == 0, "%s: fclose", label);
    if (getenv("HP_TEST_VERBOSE")) printf("---- dump of %s\n%s", label, dump);
    int rc = hp_spec_parse(dump, dlen, "dump.yaml", back, &err);
    CHECK(rc == 0, "%s: parsing the dump: %s\n%s", label, err.msg, dump);
    if (rc == 0) spec_check_same(s, back, label);
    free(dump);
    return rc;
}
