/* test_spec.c - the YAML spec parser (orchestrator/spec.c) on good and bad specs.
 *
 * Good specs: every field of a full spec, the defaults of a minimal one, number forms,
 * a dump that reads back to the same values (search.params, promote stages, a trial's spec,
 * layer names and the trainer: section are test_spec_search.c's). Bad specs, from files under tests/spec/ and
 * from inline strings through hp_spec_parse: each must fail with -1, leave the output
 * zeroed, and give one line with the file name, "line:col", the key and the value at fault.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#include "spec_helpers.h"

/* ---- helpers ------------------------------------------------------------------------------ */

#define is_zeroed spec_is_zeroed
#define expect_fail spec_expect_fail

static int slurp(const char *path, char **text, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char *buf = malloc(1 << 16);
    size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    fclose(f);
    if (!buf) return -1;
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

/* ---- good specs ----------------------------------------------------------------------------- */

static void check_full(const hp_spec *s) {
    CHECK(strcmp(s->name, "fashion_mlp") == 0, "name: %s", s->name);
    CHECK(s->seed == 12345678901234567890ull, "seed: %llu", (unsigned long long)s->seed);
    CHECK(s->device == HP_DEVICE_CPU, "device: %d", (int)s->device);
    CHECK(s->cuda.deterministic == 0 && s->cuda.allow_tf32 == 1, "cuda: deterministic %d tf32 %d",
          s->cuda.deterministic, s->cuda.allow_tf32);
    const hp_data_spec *d = &s->data;
    CHECK(strcmp(d->format, "idx") == 0, "data.format: %s", d->format);
    CHECK(strcmp(d->dir, "/usr/share/datasets/fashion-mnist") == 0, "data.dir: %s", d->dir);
    CHECK(strcmp(d->train_images, "train-images-idx3-ubyte.gz") == 0, "train_images: %s", d->train_images);
    CHECK(strcmp(d->train_labels, "/abs/train-labels-idx1-ubyte.gz") == 0, "train_labels: %s", d->train_labels);
    CHECK(strcmp(d->test_images, "t10k images.gz") == 0, "test_images: %s", d->test_images);
    CHECK(strcmp(d->test_labels, "t10k-labels-idx1-ubyte.gz") == 0, "test_labels: %s", d->test_labels);
    CHECK(d->nclasses == 12, "classes: %d", d->nclasses);
    CHECK(d->val_size == 6000, "val_size: %lld", (long long)d->val_size);
    CHECK(d->train_subset == 20000, "train_subset: %lld", (long long)d->train_subset);
    CHECK(d->val_subset == 1000, "val_subset: %lld", (long long)d->val_subset);
    CHECK(d->standardize == 0, "standardize: %d", d->standardize);

    const hp_model_spec *m = &s->model;
    CHECK(m->nlayers == 5, "nlayers: %d", m->nlayers);
    static const hp_layer_type types[5] = {HP_LAYER_DENSE, HP_LAYER_RELU, HP_LAYER_DENSE, HP_LAYER_RELU, HP_LAYER_DENSE};
    static const int units[5] = {512, 0, 256, 0, 12};
    static const hp_init inits[5] = {HP_INIT_KAIMING_UNIFORM, HP_INIT_DEFAULT, HP_INIT_XAVIER_NORMAL,
                                     HP_INIT_DEFAULT, HP_INIT_DEFAULT};
    static const int lines[5] = {19, 20, 21, 24, 25};
    for (int i = 0; i < 5 && i < m->nlayers; i++) {
        CHECK(m->layers[i].type == types[i], "layer %d type %d", i, (int)m->layers[i].type);
        CHECK(m->layers[i].units == units[i], "layer %d units %d", i, m->layers[i].units);
        CHECK(m->layers[i].init == inits[i], "layer %d init %d", i, (int)m->layers[i].init);
        CHECK(m->layers[i].line == lines[i], "layer %d line %d, want %d", i, m->layers[i].line, lines[i]);
    }

    CHECK(s->optim.type == HP_OPTIM_SGD, "optimizer.type");
    CHECK(s->optim.lr == 0.05, "lr %.17g", s->optim.lr);
    CHECK(s->optim.momentum == 0.9, "momentum %.17g", s->optim.momentum);
    CHECK(s->optim.nesterov == 1, "nesterov %d", s->optim.nesterov);
    CHECK(s->optim.weight_decay == 5.0e-4, "weight_decay %.17g", s->optim.weight_decay);
    CHECK(s->train.batch_size == 64, "batch_size %d", s->train.batch_size);
    CHECK(s->train.epochs == 5, "epochs %d", s->train.epochs);
    CHECK(s->train.diverge_factor == 2.5, "diverge_factor %g", s->train.diverge_factor);

    CHECK(s->has_search == 1, "has_search");
    const hp_search_spec *ss = &s->search;
    const hp_param_range *lr = &ss->params[HP_PARAM_LR], *wd = &ss->params[HP_PARAM_WD];
    CHECK(lr->enabled == 1 && lr->low == 1.0e-5 && lr->high == 1.0 && lr->scale == HP_SCALE_LOG,
          "lr range %d [%g, %g] scale %d", lr->enabled, lr->low, lr->high, (int)lr->scale);
    CHECK(lr->bound_low == 0 && isinf(lr->bound_high) && lr->bound_high > 0, "lr default bounds [%g, %g]",
          lr->bound_low, lr->bound_high);
    CHECK(wd->enabled == 1 && wd->low == 0.5 && wd->high == 2 && wd->scale == HP_SCALE_LINEAR,
          "wd range %d [%g, %g] scale %d", wd->enabled, wd->low, wd->high, (int)wd->scale);
    CHECK(wd->bound_low == 0 && wd->bound_high == 10, "wd bounds [%g, %g]", wd->bound_low, wd->bound_high);
    CHECK(ss->keep_snapshots == 4, "keep_snapshots %d", ss->keep_snapshots);
    CHECK(ss->nstages == 3, "nstages %d", ss->nstages);
    if (ss->nstages == 3) {
        const hp_stage_spec *st = ss->stages;
        CHECK(st[0].method == HP_METHOD_RANDOM && st[0].trials == 24 && st[0].epochs == 1 && st[0].top_k == 3 &&
                  st[0].margin == 0.25,
              "stage 0: method %d trials %d epochs %d top_k %d margin %g", (int)st[0].method, st[0].trials,
              st[0].epochs, st[0].top_k, st[0].margin);
        CHECK(st[1].method == HP_METHOD_RANDOM && st[1].trials == 8 && st[1].epochs == 3 && st[1].top_k == 2 &&
                  st[1].margin == 0.5,
              "stage 1: trials %d epochs %d top_k %d margin %g", st[1].trials, st[1].epochs, st[1].top_k,
              st[1].margin);
        /* grid: 3 points for 2 parameters = 9 trials; epochs default to train.epochs */
        CHECK(st[2].method == HP_METHOD_GRID && st[2].points == 3 && st[2].trials == 9 && st[2].epochs == 5,
              "stage 2: method %d points %d trials %d epochs %d", (int)st[2].method, st[2].points, st[2].trials,
              st[2].epochs);
    }
}

static void test_full(void) {
    hp_spec s;
    hp_err err = {{0}};
    const char *path = SPEC_DIR "good_full.yaml";
    int rc = hp_spec_load(path, &s, &err);
    CHECK(rc == 0, "good_full.yaml: %s", err.msg);
    if (rc) return;
    check_full(&s);
    CHECK(strcmp(s.path, path) == 0, "path: %s", s.path);
    /* the whole text is kept, byte for byte */
    char *text = NULL;
    size_t len = 0;
    int have = slurp(path, &text, &len) == 0;
    CHECK(have, "reading %s", path);
    hp_spec m;
    if (have) {
        CHECK(s.text_len == len && s.text && memcmp(s.text, text, len) == 0 && s.text[len] == '\0',
              "spec text kept (%llu bytes, want %zu)", (unsigned long long)s.text_len, len);
        /* the same text from memory parses to the same spec */
        rc = hp_spec_parse(text, len, "stored.yaml", &m, &err);
        CHECK(rc == 0, "hp_spec_parse: %s", err.msg);
        if (rc == 0) {
            check_full(&m);
            CHECK(strcmp(m.path, "stored.yaml") == 0, "path from memory: %s", m.path);
            hp_spec_free(&m);
        }
    }
    free(text);

    /* the dump reads back to the same values, field by field */
    if (spec_roundtrip(&s, &m, "good_full.yaml") == 0) {
        /* layer lines differ (one layer per line in the dump); compare the rest */
        for (int i = 0; i < m.model.nlayers; i++) m.model.layers[i].line = s.model.layers[i].line;
        check_full(&m);
        hp_spec_free(&m);
    }
    hp_spec_free(&s);
    CHECK(is_zeroed(&s), "hp_spec_free zeroes the spec");
    hp_spec_free(&s); /* twice is harmless */
}

static void check_defaults(const hp_spec *s, const char *name) {
    CHECK(strcmp(s->name, name) == 0, "default name: %s, want %s", s->name, name);
    CHECK(s->seed == 0 && s->device == HP_DEVICE_AUTO, "seed %llu device %d", (unsigned long long)s->seed,
          (int)s->device);
    CHECK(s->cuda.deterministic == 1 && s->cuda.allow_tf32 == 0, "cuda defaults: deterministic %d tf32 %d",
          s->cuda.deterministic, s->cuda.allow_tf32);
    const hp_data_spec *d = &s->data;
    CHECK(strcmp(d->format, "idx") == 0 && strcmp(d->dir, "/usr/share/datasets/fashion-mnist") == 0,
          "data format %s dir %s", d->format, d->dir);
    CHECK(strcmp(d->train_images, "train-images-idx3-ubyte.gz") == 0 &&
              strcmp(d->train_labels, "train-labels-idx1-ubyte.gz") == 0 &&
              strcmp(d->test_images, "t10k-images-idx3-ubyte.gz") == 0 &&
              strcmp(d->test_labels, "t10k-labels-idx1-ubyte.gz") == 0,
          "default data file names");
    CHECK(d->nclasses == 10 && d->val_size == 5000 && d->train_subset == 0 && d->val_subset == 0 &&
              d->standardize == 1,
          "data defaults: classes %d val %lld subsets %lld %lld standardize %d", d->nclasses,
          (long long)d->val_size, (long long)d->train_subset, (long long)d->val_subset, d->standardize);
    CHECK(s->model.nlayers == 1 && s->model.layers[0].type == HP_LAYER_DENSE && s->model.layers[0].units == 10 &&
              s->model.layers[0].init == HP_INIT_DEFAULT,
          "the one layer");
    CHECK(s->optim.type == HP_OPTIM_SGD && s->optim.lr == 0.01 && s->optim.momentum == 0 && s->optim.nesterov == 0 &&
              s->optim.weight_decay == 0,
          "optimizer defaults: lr %g momentum %g nesterov %d wd %g", s->optim.lr, s->optim.momentum,
          s->optim.nesterov, s->optim.weight_decay);
    CHECK(s->train.batch_size == 128 && s->train.epochs == 1 && s->train.diverge_factor == 4,
          "train defaults: batch %d epochs %d diverge %g", s->train.batch_size, s->train.epochs,
          s->train.diverge_factor);
    CHECK(s->model.layers[0].bias == 1, "a dense layer has a bias by default");
    CHECK(s->data.ntrain_files == 0 && s->data.ntest_files == 0, "no CIFAR-10 files for idx");
    CHECK(s->optim.beta1 == 0 && s->optim.beta2 == 0 && s->optim.eps == 0 && s->optim.alpha == 0,
          "SGD takes no betas, eps or alpha: %g %g %g %g", s->optim.beta1, s->optim.beta2, s->optim.eps,
          s->optim.alpha);
    const hp_train_spec *t = &s->train;
    const hp_sched_spec *sc = &t->schedule;
    CHECK(t->patience == 0, "no early stopping by default: patience %d", t->patience);
    CHECK(sc->type == HP_SCHED_CONSTANT && sc->warmup_epochs == 0 && sc->step_size == 0 && sc->gamma == 0.1 &&
              sc->nmilestones == 0 && sc->min_lr == 0 && sc->patience == 10 && sc->threshold == 1e-4,
          "schedule defaults: type %d warmup %d step %d gamma %g milestones %d min_lr %g patience %d threshold %g",
          (int)sc->type, sc->warmup_epochs, sc->step_size, sc->gamma, sc->nmilestones, sc->min_lr, sc->patience,
          sc->threshold);
    CHECK(t->augment.flip == 0 && t->augment.shift == 0 && t->augment.cutout == 0 && t->augment.mixup == 0,
          "no augmentation by default");
    CHECK(s->has_search == 0 && s->search.nstages == 0, "no search");
    for (int p = 0; p < HP_NFIXED_PARAMS; p++)
        CHECK(s->search.params[p].enabled == 0, "param %d not searched", p);
}

static void test_minimal(void) {
    hp_spec s;
    hp_err err = {{0}};
    int rc = hp_spec_load(SPEC_DIR "minimal.yaml", &s, &err);
    CHECK(rc == 0, "minimal.yaml: %s", err.msg);
    if (rc == 0) {
        check_defaults(&s, "minimal");
        CHECK(s.model.layers[0].line == 4, "layer line %d", s.model.layers[0].line);
        hp_spec_free(&s);
    }
    /* init_seed (hpsweep train's): absent by default; read, and dumped only when given */
    CHECK(s.has_init_seed == 0, "minimal: no init_seed");
    const char *seeded = "seed: 3\ninit_seed: 18446744073709551615\nmodel: {layers: [{type: dense, units: 10}]}\n";
    if (spec_parse_ok(seeded, &s, "init_seed") == 0) {
        CHECK(s.seed == 3 && s.has_init_seed && s.init_seed == UINT64_MAX, "init_seed: %d %llu", s.has_init_seed,
              (unsigned long long)s.init_seed);
        hp_spec back;
        if (spec_roundtrip(&s, &back, "init_seed round trip") == 0) {
            CHECK(back.has_init_seed && back.init_seed == UINT64_MAX && back.seed == 3, "init_seed after the dump");
            hp_spec_free(&back);
        }
        hp_spec_free(&s);
    }
    const char *text = "model: {layers: [{type: dense, units: 10}]}";
    rc = hp_spec_parse(text, strlen(text), "runs/inline.spec.yml", &s, &err);
    CHECK(rc == 0, "inline minimal: %s", err.msg);
    if (rc == 0) {
        check_defaults(&s, "inline.spec");
        CHECK(s.model.layers[0].line == 1, "layer line %d", s.model.layers[0].line);
        hp_spec_free(&s);
    }
}

/* Number forms, search defaults (scale, bounds, top_k, margin, stage epochs). */
static void test_forms(void) {
    const char *text = "model:\n  layers: [{type: dense, units: 10}]\n"
                       "optimizer: {lr: .5, momentum: 5e-1, weight_decay: 1E-3}\n"
                       "train: {epochs: +7, diverge_factor: 10}\n"
                       "search:\n  params:\n    weight_decay: {low: 1e-6, high: 1.}\n"
                       "  stages:\n    - {method: grid, points: 4}\n";
    hp_spec s;
    hp_err err = {{0}};
    int rc = hp_spec_parse(text, strlen(text), "forms.yaml", &s, &err);
    CHECK(rc == 0, "forms: %s", err.msg);
    if (rc) return;
    CHECK(s.optim.lr == 0.5 && s.optim.momentum == 0.5 && s.optim.weight_decay == 1e-3, "lr %g momentum %g wd %g",
          s.optim.lr, s.optim.momentum, s.optim.weight_decay);
    CHECK(s.train.epochs == 7 && s.train.diverge_factor == 10, "epochs %d", s.train.epochs);
    const hp_param_range *wd = &s.search.params[HP_PARAM_WD];
    CHECK(s.search.params[HP_PARAM_LR].enabled == 0, "lr not searched when omitted");
    CHECK(wd->enabled && wd->low == 1e-6 && wd->high == 1 && wd->scale == HP_SCALE_LOG && wd->bound_low == 0 &&
              isinf(wd->bound_high),
          "wd range defaults");
    const hp_stage_spec *st = &s.search.stages[0];
    CHECK(s.search.nstages == 1 && st->points == 4 && st->trials == 4 && st->epochs == 7 && st->top_k == 3 &&
              st->margin == 0.25 && s.search.keep_snapshots == 0,
          "grid of one parameter: trials %d epochs %d top_k %d margin %g", st->trials, st->epochs, st->top_k,
          st->margin);
    hp_spec_free(&s);

    /* linear scale: default bounds are (-inf, inf); infinite hard bounds may be written */
    text = "model: {layers: [{type: dense, units: 10}]}\n"
           "search:\n  params:\n    lr: {low: 0.1, high: 0.5, scale: linear}\n"
           "    weight_decay: {low: 0, high: 0.5, scale: linear, bounds: [-.inf, .inf]}\n"
           "  stages: [{method: random, trials: 3, epochs: 2}]\n";
    rc = hp_spec_parse(text, strlen(text), "linear.yaml", &s, &err);
    CHECK(rc == 0, "linear: %s", err.msg);
    if (rc) return;
    const hp_param_range *lr = &s.search.params[HP_PARAM_LR];
    CHECK(lr->scale == HP_SCALE_LINEAR && lr->bound_low == 0 && isinf(lr->bound_high),
          "linear default bounds [%g, %g], want [0, inf]: neither parameter can be negative", lr->bound_low,
          lr->bound_high);
    CHECK(isinf(s.search.params[HP_PARAM_WD].bound_low), "written -.inf bound");
    hp_spec_free(&s);
}

/* Strings with quotes and backslashes survive a dump. */
static void test_dump_quoting(void) {
    const char *text = "name: 'a \"b\" \\c'\nmodel: {layers: [{type: dense, units: 10}]}\n";
    hp_spec s, back;
    hp_err err = {{0}};
    int rc = hp_spec_parse(text, strlen(text), "q.yaml", &s, &err);
    CHECK(rc == 0 && strcmp(s.name, "a \"b\" \\c") == 0, "quoted name: %s %s", err.msg, rc ? "" : s.name);
    if (rc) return;
    char *dump = NULL;
    size_t dlen = 0;
    FILE *f = open_memstream(&dump, &dlen);
    CHECK(f != NULL, "open_memstream");
    if (f) {
        CHECK(hp_spec_dump(&s, f, &err) == 0, "dump: %s", err.msg);
        CHECK(fclose(f) == 0, "fclose");
        rc = hp_spec_parse(dump, dlen, "q2.yaml", &back, &err);
        CHECK(rc == 0, "dump of a quoted name: %s", err.msg);
        if (rc == 0) {
            CHECK(strcmp(back.name, s.name) == 0 && back.has_search == 0, "name after dump: %s", back.name);
            hp_spec_free(&back);
        }
        free(dump);
    }
    hp_spec_free(&s);
}

static void test_names_and_paths(void) {
    CHECK(strcmp(hp_param_name(HP_PARAM_LR), "lr") == 0, "param name lr");
    CHECK(strcmp(hp_param_name(HP_PARAM_WD), "weight_decay") == 0, "param name wd");
    CHECK(strcmp(hp_device_name(HP_DEVICE_CUDA), "cuda") == 0, "device name");
    CHECK(strcmp(hp_scale_name(HP_SCALE_LINEAR), "linear") == 0, "scale name");
    CHECK(strcmp(hp_method_name(HP_METHOD_GRID), "grid") == 0, "method name");
    hp_data_spec d;
    memset(&d, 0, sizeof d);
    strcpy(d.dir, "/data/fm");
    char out[64];
    hp_err err = {{0}};
    CHECK(hp_spec_data_path(&d, "a.gz", out, sizeof out, &err) == 0 && strcmp(out, "/data/fm/a.gz") == 0,
          "relative: %s", out);
    CHECK(hp_spec_data_path(&d, "/abs/b.gz", out, sizeof out, &err) == 0 && strcmp(out, "/abs/b.gz") == 0,
          "absolute: %s", out);
    strcpy(d.dir, "/data/fm/");
    CHECK(hp_spec_data_path(&d, "a.gz", out, sizeof out, &err) == 0 && strcmp(out, "/data/fm/a.gz") == 0,
          "dir with slash: %s", out);
    CHECK(hp_spec_data_path(&d, "a.gz", out, 10, &err) == -1 && strstr(err.msg, "too long"), "too long: %s",
          err.msg);
}

/* Every example spec shipped in sweeps/ must stay valid, have a search, and dump to a spec
 * that reads back the same. */
static void test_examples(void) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/../sweeps", HP_TEST_DIR);
    DIR *dp = opendir(dir);
    CHECK(dp != NULL, "opendir %s", dir);
    if (!dp) return;
    int n = 0;
    for (struct dirent *e; (e = readdir(dp)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".yaml") != 0) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        hp_spec s, back;
        hp_err err = {{0}};
        int rc = hp_spec_load(path, &s, &err);
        CHECK(rc == 0, "example %s: %s", e->d_name, err.msg);
        if (rc) continue;
        n++;
        CHECK(s.has_search && s.search.nstages > 0, "example %s has a search", e->d_name);
        if (spec_roundtrip(&s, &back, e->d_name) == 0) hp_spec_free(&back);
        hp_spec_free(&s);
    }
    closedir(dp);
    CHECK(n >= 4, "%d example specs in sweeps/, want at least 4 (quickstart, fashion_mlp, fashion_cnn, "
                  "resnet_cifar)", n);
}

/* ---- bad specs: files ----------------------------------------------------------------------- */

typedef spec_bad_case bad_case;

static void test_bad_files(void) {
    static const bad_case cases[] = {
        {"bad_empty.yaml", NULL, {"bad_empty.yaml:1:1:", "empty"}},
        {"bad_malformed.yaml", NULL, {"bad_malformed.yaml:4:10:", "malformed YAML", "did not find expected ',' or '}'",
                                      "line 3, column 7"}},
        {"bad_unknown_key.yaml", NULL,
         {"bad_unknown_key.yaml:5:3:",
          "unknown key 'lrr' in optimizer (type: sgd); valid keys: type, lr, momentum, nesterov, weight_decay",
          "did you mean 'lr'?"}},
        {"bad_duplicate_key.yaml", NULL,
         {"bad_duplicate_key.yaml:7:3:", "duplicate key 'lr' in optimizer", "line 5", "line 7"}},
        {"bad_lr_type.yaml", NULL, {"bad_lr_type.yaml:5:7:", "optimizer.lr: expected a number, got 'fast'"}},
        {"bad_layer_type.yaml", NULL,
         {"bad_layer_type.yaml:4:14:", "model.layers[1].type: unknown value 'conv2d'",
          "valid values: dense, relu, conv, batchnorm, maxpool, avgpool, globalavgpool, dropout, flatten, add, "
          "leaky_relu, elu, gelu, tanh, sigmoid", "(did you mean 'conv'?)"}},
        {"bad_bounds.yaml", NULL,
         {"bad_bounds.yaml:6:64:", "search.params.weight_decay.bounds", "[1e-05, 1]", "does not contain",
          "[1e-06, 0.1]"}},
        {"bad_nesterov.yaml", NULL, {"bad_nesterov.yaml:6:13:", "optimizer.nesterov", "momentum > 0"}},
        {"does_not_exist.yaml", NULL, {"does_not_exist.yaml: cannot open", "No such file or directory"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s%s", SPEC_DIR, cases[i].label);
        hp_spec s;
        hp_err err = {{0}};
        memset(&s, 0xAB, sizeof s); /* garbage in: must come out zeroed */
        int rc = hp_spec_load(path, &s, &err);
        expect_fail(cases[i].label, rc, &s, &err, cases[i].want);
        CHECK(strncmp(err.msg, path, strlen(path)) == 0, "%s: message starts with the path: %s", cases[i].label,
              err.msg);
    }
    /* a directory opens but cannot be read: the OS error is named */
    hp_spec s;
    hp_err err = {{0}};
    static const char *const want_dir[] = {"cannot read", "Is a directory", NULL};
    expect_fail("directory", hp_spec_load(SPEC_DIR, &s, &err), &s, &err, want_dir);
}

/* ---- bad specs: inline ---------------------------------------------------------------------- */

static const bad_case inline_cases[] = {
    /* trainer: an external program */
    {"trainer with a model", EXT MODEL EXT_SEARCH,
     {"x.yaml:4:1:", "model: does not apply with a trainer: section"}},
    {"trainer with an optimizer", EXT "optimizer: {lr: 0.1}\n" EXT_SEARCH,
     {"x.yaml:4:1:", "optimizer: does not apply with a trainer: section"}},
    {"trainer with train.batch_size", EXT "train: {epochs: 2, batch_size: 8}\n" EXT_SEARCH,
     {"x.yaml:4:20:", "train.batch_size: does not apply with a trainer: section",
      "train.epochs and train.diverge_factor only"}},
    {"trainer command as a string", "trainer:\n  command: python3 train.py\n" EXT_SEARCH,
     {"x.yaml:2:12:", "trainer.command: give the program and its arguments as a list"}},
    {"trainer without a command", "trainer:\n  epoch_timeout: 3\n" EXT_SEARCH,
     {"x.yaml:2:3:", "trainer: missing required key 'command'"}},
    {"trainer objective without a direction", EXT "  objective: f1\n" EXT_SEARCH,
     {"x.yaml:4:14:", "trainer.objective: 'f1' needs maximize: true"}},
    {"trainer negative timeout", "trainer:\n  command: [a]\n  epoch_timeout: -1\n" EXT_SEARCH,
     {"x.yaml:3:18:", "trainer.epoch_timeout"}},
    {"trainer and an ensemble", EXT EXT_SEARCH "final: {ensemble: 2}\n",
     {"x.yaml:1:1:", "final.ensemble: an external trainer's snapshots are its own files"}},
    {"trainer and promote", EXT "search:\n  params:\n    lr: {low: 1.0e-4, high: 1}\n"
                            "  stages: [{method: random, trials: 2}, {method: promote, top_k: 1, epochs: 1}]\n",
     {"x.yaml:7:50:", "promote continues a trial from the state hpsweep saved"}},
    {"trainer parameter name", EXT "search:\n  params:\n    9lives: {low: 1, high: 2}\n  stages: [{method: random, trials: 2}]\n",
     {"x.yaml:6:5:", "search.params: '9lives' is not a parameter name for the trainer: command"}},
    {"neither model nor trainer", EXT_SEARCH,
     {"x.yaml:1:1:", "missing required key 'model'", "or a trainer: section"}},
    /* YAML itself */
    {"malformed", MODEL "optimizer:\n  lr: [0.1\n", {"x.yaml:6:1:", "malformed YAML", "line 5, column 7"}},
    {"tab indent", MODEL "optimizer:\n\tlr: 0.1\n", {"x.yaml:5:1:", "malformed YAML", "tab: indent YAML with spaces"}},
    {"empty text", "", {"x.yaml:1:1:", "empty"}},
    {"only comments", "# nothing here\n\n", {"x.yaml:1:1:", "empty"}},
    {"two documents", MODEL "---\nseed: 1\n", {"x.yaml:4:1:", "second document"}},
    {"deep nesting", "model: [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]\n", {"x.yaml:1:", "nested more than 16"}},
    {"undefined alias", MODEL "optimizer: *opt\n", {"x.yaml:4:12:", "malformed YAML", "undefined alias"}},
    {"invalid utf-8", MODEL "name: ab\xff\n", {"x.yaml:4:9:", "malformed YAML", "UTF-8"}},
    /* structure */
    {"root is a list", "- model\n- seed\n", {"x.yaml:1:1:", "expected a mapping, got a list"}},
    {"root is a scalar", "hello\n", {"x.yaml:1:1:", "expected a mapping, got 'hello'"}},
    {"section not a mapping", MODEL "optimizer: 5\n", {"x.yaml:4:12:", "optimizer: expected a mapping, got '5'"}},
    {"empty section", MODEL "train:\n", {"x.yaml:4:7:", "train: expected a mapping, got an empty value"}},
    {"layers not a list", "model:\n  layers: {type: dense}\n", {"x.yaml:2:11:", "model.layers: expected a list"}},
    {"layer not a mapping", "model:\n  layers:\n    - relu\n", {"x.yaml:3:7:", "model.layers[0]: expected a mapping, got 'relu'"}},
    {"non-scalar key", MODEL "[a, b]: 1\n", {"x.yaml:4:1:", "keys must be names, got a list"}},
    {"unknown top key", MODEL "optimiser: {lr: 0.1}\n",
     {"x.yaml:4:1:", "unknown key 'optimiser' at the top level", "valid keys: name, seed, init_seed, device, cuda, data, model",
      "did you mean 'optimizer'?"}},
    {"unknown layer key", "model:\n  layers:\n    - {type: dense, unit: 10}\n",
     {"x.yaml:3:21:", "unknown key 'unit' in model.layers[0] (type: dense); valid keys: type, name, units, init, bias",
      "(did you mean 'units'?)"}},
    {"unknown stage key", MODEL SEARCH_LR "  stages:\n    - {method: random, trails: 3}\n",
     {"x.yaml:8:24:", "unknown key 'trails' in search.stages[0]", "did you mean 'trials'?"}},
    {"duplicate top key", MODEL "seed: 1\nseed: 2\n", {"x.yaml:5:1:", "duplicate key 'seed' at the top level", "line 4"}},
    {"duplicate layer key", "model:\n  layers:\n    - {type: dense, units: 10, units: 12}\n",
     {"x.yaml:3:32:", "duplicate key 'units' in model.layers[0]", "line 3 column 21", "column 32"}},
    {"missing model", "seed: 3\n", {"x.yaml:1:1:", "missing required key 'model'"}},
    {"missing layers", "model: {}\n", {"x.yaml:1:8:", "model: missing required key 'layers'"}},
    {"no layers", "model:\n  layers: []\n", {"x.yaml:2:11:", "model.layers: the list is empty"}},
    /* types */
    {"quoted number", MODEL "optimizer:\n  lr: \"0.1\"\n", {"x.yaml:5:7:", "optimizer.lr: expected a number", "quoted", "'0.1'"}},
    {"empty number", MODEL "optimizer:\n  lr:\n  momentum: 0.5\n", {"x.yaml:5:6:", "optimizer.lr: expected a number, got an empty value"}},
    {"number is a list", MODEL "optimizer:\n  lr: [1]\n", {"x.yaml:5:7:", "optimizer.lr: expected a number, got a list"}},
    {"hex number", MODEL "optimizer:\n  lr: 0x10\n", {"x.yaml:5:7:", "expected a number, got '0x10'"}},
    {"inf lr", MODEL "optimizer:\n  lr: .inf\n", {"x.yaml:5:7:", "optimizer.lr: expected a finite number, got '.inf'"}},
    {"nan momentum", MODEL "optimizer:\n  momentum: .nan\n", {"x.yaml:5:13:", "optimizer.momentum", "'.nan'", "not a number"}},
    {"huge double", MODEL "optimizer:\n  lr: 1e999\n", {"x.yaml:5:7:", "optimizer.lr: '1e999' is too large"}},
    {"float for integer", MODEL "train:\n  epochs: 2.5\n", {"x.yaml:5:11:", "train.epochs: expected an integer, got '2.5'"}},
    {"exponent for integer", MODEL "train:\n  batch_size: 1e3\n", {"x.yaml:5:15:", "train.batch_size: expected an integer, got '1e3'"}},
    {"int overflow", MODEL "train:\n  batch_size: 99999999999\n",
     {"x.yaml:5:15:", "train.batch_size: '99999999999' is out of range", "it must be >= 1 and fit in an int"}},
    {"int64 overflow", MODEL "data:\n  val_size: 99999999999999999999\n",
     {"x.yaml:5:13:", "data.val_size: '99999999999999999999' does not fit in a 64-bit integer"}},
    {"seed negative", "seed: -1\n" MODEL, {"x.yaml:1:7:", "seed: '-1' is out of range; it must be >= 0"}},
    {"seed overflow", "seed: 18446744073709551616\n" MODEL, {"x.yaml:1:7:", "seed: '18446744073709551616' is too large"}},
    {"bool on", MODEL "data:\n  standardize: on\n",
     {"x.yaml:5:16:", "data.standardize: expected a boolean (true, false, yes or no), got 'on'"}},
    {"bool 1", MODEL "optimizer:\n  momentum: 0.9\n  nesterov: 1\n", {"x.yaml:6:13:", "optimizer.nesterov: expected a boolean", "'1'"}},
    {"string is a mapping", "name: {a: 1}\n" MODEL, {"x.yaml:1:7:", "name: expected a string, got a mapping"}},
    {"empty string", "name: \"\"\n" MODEL, {"x.yaml:1:7:", "name: must not be empty"}},
    {"name too long", "name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n" MODEL,
     {"x.yaml:1:7:", "name: 'aaaa", "too long: 70 bytes, at most 63"}},
    {"control char in string", "name: \"a\\tb\"\n" MODEL, {"x.yaml:1:7:", "name:", "control character"}},
    /* ranges */
    {"lr zero", MODEL "optimizer:\n  lr: 0\n", {"x.yaml:5:7:", "optimizer.lr: '0' is out of range; it must be > 0"}},
    {"lr negative", MODEL "optimizer:\n  lr: -0.1\n", {"x.yaml:5:7:", "optimizer.lr: '-0.1' is out of range"}},
    {"lr underflow", MODEL "optimizer:\n  lr: 1e-400\n", {"x.yaml:5:7:", "optimizer.lr: '1e-400' is out of range"}},
    {"momentum one", MODEL "optimizer:\n  momentum: 1\n", {"x.yaml:5:13:", "optimizer.momentum: '1' is out of range; it must be in [0, 1)"}},
    {"momentum negative", MODEL "optimizer:\n  momentum: -0.5\n", {"x.yaml:5:13:", "must be in [0, 1)"}},
    {"weight decay negative", MODEL "optimizer:\n  weight_decay: -1e-4\n", {"x.yaml:5:17:", "optimizer.weight_decay", "must be >= 0"}},
    {"batch zero", MODEL "train:\n  batch_size: 0\n", {"x.yaml:5:15:", "train.batch_size: '0' is out of range; it must be >= 1"}},
    {"epochs zero", MODEL "train:\n  epochs: 0\n", {"x.yaml:5:11:", "train.epochs: '0' is out of range; it must be >= 1"}},
    {"diverge factor", MODEL "train:\n  diverge_factor: 1\n", {"x.yaml:5:19:", "train.diverge_factor", "must be > 1"}},
    {"val_size negative", MODEL "data:\n  val_size: -5\n", {"x.yaml:5:13:", "data.val_size: '-5' is out of range; it must be >= 1"}},
    {"merge key", "model:\n  layers:\n    - &d {type: dense, units: 10}\n    - {<<: *d, units: 10}\n",
     {"x.yaml:4:8:", "a YAML merge key ('<<: *anchor') is not supported"}},
    {"name with a slash", "name: ../escaped\n" MODEL, {"x.yaml:1:7:", "name: '../escaped' is not a plain name"}},
    {"name dot dot", "name: ..\n" MODEL, {"x.yaml:1:7:", "name: '..' is not a plain name"}},
    {"val_size zero", MODEL "data:\n  val_size: 0\n", {"x.yaml:5:13:", "data.val_size: '0' is out of range; it must be >= 1"}},
    {"classes one", "data:\n  classes: 1\n" MODEL, {"x.yaml:2:12:", "data.classes: '1' is out of range; it must be in [2, 65536]"}},
    {"units zero", "model:\n  layers:\n    - {type: dense, units: 0}\n", {"x.yaml:3:28:", "model.layers[0].units: '0' is out of range"}},
    /* enums */
    {"unknown init", "model:\n  layers:\n    - {type: dense, units: 10, init: he}\n",
     {"x.yaml:3:38:", "model.layers[0].init: unknown value 'he'", "kaiming_uniform", "xavier_normal"}},
    {"unknown optimizer", MODEL "optimizer:\n  type: lamb\n",
     {"x.yaml:5:9:", "optimizer.type: unknown value 'lamb'; valid values: sgd, adam, adamw, rmsprop, adagrad"}},
    {"unknown device", "device: gpu\n" MODEL, {"x.yaml:1:9:", "device: unknown value 'gpu'; valid values: auto, cpu, cuda"}},
    {"cuda not a mapping", "cuda: true\n" MODEL, {"x.yaml:1:7:", "cuda: expected a mapping, got 'true'"}},
    {"unknown cuda key", "cuda: {deterministic: true, allow_tf32: true}\n" MODEL,
     {"x.yaml:1:29:", "unknown key 'allow_tf32' in cuda; valid keys: deterministic, tf32"}},
    {"cuda bool", "cuda:\n  tf32: 1\n" MODEL, {"x.yaml:2:9:", "cuda.tf32: expected a boolean", "'1'"}},
    {"unknown format", MODEL "data:\n  format: csv\n", {"x.yaml:5:11:", "data.format: unknown value 'csv'; valid values: idx, cifar10"}},
    {"unknown scale", MODEL "search:\n  params:\n    lr: {low: 1.0e-4, high: 1, scale: log2}\n  stages: [{method: random, trials: 2}]\n",
     {"x.yaml:6:39:", "search.params.lr.scale: unknown value 'log2'; valid values: log, linear"}},
    {"unknown method", MODEL SEARCH_LR "  stages:\n    - {method: bayes, trials: 3}\n",
     {"x.yaml:8:16:", "search.stages[0].method: unknown value 'bayes'; valid values: random, grid"}},
    /* layers */
    {"dense without units", "model:\n  layers:\n    - {type: dense}\n",
     {"x.yaml:3:7:", "model.layers[0] (type: dense): missing required key 'units'"}},
    {"relu with units", MODEL "    - {type: relu, units: 5}\n",
     {"x.yaml:4:20:", "model.layers[1]: key 'units' (set to '5') does not apply to type relu, only to dense",
      "valid keys for relu: type"}},
    {"no dense layer", "model:\n  layers:\n    - {type: relu}\n", {"x.yaml:3:5:", "model.layers: no dense or conv layer"}},
    {"last layer vs classes", "model:\n  layers:\n    - {type: dense, units: 64}\n    - {type: relu}\n    - {type: dense, units: 12}\n",
     {"x.yaml:5:28:", "model.layers[2].units", "12 units", "data.classes is 10"}},
    /* optimizer */
    {"nesterov without momentum", MODEL "optimizer: {nesterov: true}\n", {"x.yaml:4:23:", "optimizer.nesterov", "needs momentum > 0"}},
    /* search */
    {"search missing stages", MODEL SEARCH_LR, {"x.yaml:5:3:", "search: missing required key 'stages'"}},
    {"search without params", MODEL "search:\n  params: {}\n  stages: [{method: random, trials: 2}]\n",
     {"x.yaml:5:11:", "search.params: no parameter to search"}},
    {"unknown param", MODEL "search:\n  params:\n    momentum: {low: 0.1, high: 0.9}\n  stages: [{method: random, trials: 2}]\n",
     {"x.yaml:6:5:", "search.params: 'momentum' is not in a section a trial can vary; a searched parameter lives under model., optimizer. or train."}},
    {"missing high", MODEL "search:\n  params:\n    lr: {low: 0.1}\n  stages: [{method: random, trials: 2}]\n",
     {"x.yaml:6:9:", "search.params.lr: missing required key 'high'"}},
    {"low not below high", MODEL "search:\n  params:\n    lr: {low: 0.1, high: 0.01}\n  stages: [{method: random, trials: 2}]\n",
     {"x.yaml:6:26:", "search.params.lr: low (0.1) must be less than high (0.01)"}},
    {"log low zero", MODEL "search:\n  params:\n    weight_decay: {low: 0, high: 0.1}\n  stages: [{method: random, trials: 2}]\n",
     {"x.yaml:6:25:", "search.params.weight_decay.low: 0 must be > 0 on a log scale"}},
    {"linear lr low zero", MODEL "search:\n  params:\n    lr: {low: 0, high: 0.1, scale: linear}\n  stages: [{method: random, trials: 2}]\n",
     {"x.yaml:6:15:", "search.params.lr.low: 0 is out of range; a learning rate must be > 0"}},
    {"bounds not two", MODEL "search:\n  params:\n    lr: {low: 0.1, high: 1, bounds: [0]}\n  stages: [{method: random, trials: 2}]\n",
     {"x.yaml:6:37:", "search.params.lr.bounds: expected a list of two numbers [low, high], got 1 item"}},
    {"bounds reversed", MODEL "search:\n  params:\n    lr: {low: 0.1, high: 1, bounds: [2, 0]}\n  stages: [{method: random, trials: 2}]\n",
     {"x.yaml:6:37:", "search.params.lr.bounds: [2, 0] is empty"}},
    {"bounds type", MODEL "search:\n  params:\n    lr: {low: 0.1, high: 1, bounds: [0, big]}\n  stages: [{method: random, trials: 2}]\n",
     {"x.yaml:6:41:", "search.params.lr.bounds[1]: expected a number, got 'big'"}},
    {"zero stages", MODEL SEARCH_LR "  stages: []\n", {"x.yaml:7:11:", "search.stages: the list is empty"}},
    {"zero trials", MODEL SEARCH_LR "  stages:\n    - {method: random, trials: 0}\n",
     {"x.yaml:8:32:", "search.stages[0].trials: '0' is out of range; it must be in [1, 1048576]"}},
    {"random without trials", MODEL SEARCH_LR "  stages:\n    - {method: random, epochs: 2}\n",
     {"x.yaml:8:7:", "search.stages[0]: a random stage needs 'trials'"}},
    {"random with points", MODEL SEARCH_LR "  stages:\n    - {method: random, trials: 3, points: 3}\n",
     {"x.yaml:8:35:", "search.stages[0]: 'points' is for grid stages"}},
    {"grid with trials", MODEL SEARCH_LR "  stages:\n    - {method: grid, points: 3, trials: 9}\n",
     {"x.yaml:8:33:", "search.stages[0]: a grid stage takes 'points'", "not 'trials'"}},
    {"grid without points", MODEL SEARCH_LR "  stages:\n    - {method: grid}\n",
     {"x.yaml:8:7:", "search.stages[0]: a grid stage needs 'points'"}},
    {"grid one point", MODEL SEARCH_LR "  stages:\n    - {method: grid, points: 1}\n",
     {"x.yaml:8:30:", "search.stages[0].points: '1' is out of range; it must be in [2, 1024]"}},
    {"negative keep", MODEL SEARCH_LR "  keep_snapshots: -1\n  stages: [{method: random, trials: 2}]\n",
     {"x.yaml:7:19:", "search.keep_snapshots: '-1' is out of range; it must be >= 0"}},
    {"ensemble zero", MODEL "final: {ensemble: 0}\n", {"x.yaml:4:19:", "final.ensemble: '0' is out of range", "[1, 32]"}},
    {"ensemble too large", MODEL "final: {ensemble: 33}\n", {"x.yaml:4:19:", "final.ensemble: '33' is out of range"}},
    {"ensemble unknown key", MODEL "final: {members: 3}\n", {"x.yaml:4:9:", "unknown key 'members'", "ensemble"}},
    {"ensemble beyond kept", MODEL SEARCH_LR "  keep_snapshots: 2\n  stages: [{method: random, trials: 4}]\nfinal: {ensemble: 3}\n",
     {"x.yaml:9:19:", "final.ensemble: 3 needs the snapshots of the 3 best trials", "keep_snapshots keeps 2"}},
    {"negative margin", MODEL SEARCH_LR "  stages: [{method: random, trials: 2, margin: -0.1}]\n",
     {"x.yaml:7:48:", "search.stages[0].margin: '-0.1' is out of range; it must be >= 0"}},
};

static void test_bad_inline(void) { spec_run_bad(inline_cases, sizeof inline_cases / sizeof inline_cases[0]); }

/* Limits that need generated text: layers and stages beyond the maximum. */
static void test_limits(void) {
    static char text[16384];
    size_t o = (size_t)snprintf(text, sizeof text, "model:\n  layers:\n");
    for (int i = 0; i < HP_MAX_LAYERS + 1; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "    - {type: dense, units: 10}\n");
    hp_spec s;
    hp_err err = {{0}};
    static const char *const want_layers[] = {"x.yaml:67:7:", "model.layers: 65 layers, more than the 64 allowed", NULL};
    expect_fail("too many layers", hp_spec_parse(text, o, "x.yaml", &s, &err), &s, &err, want_layers);

    o = (size_t)snprintf(text, sizeof text, "%s", MODEL SEARCH_LR "  stages:\n");
    for (int i = 0; i < HP_MAX_STAGES + 1; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "    - {method: random, trials: 2}\n");
    static const char *const want_stages[] = {"x.yaml:24:7:", "search.stages: 17 stages, more than the 16 allowed", NULL};
    expect_fail("too many stages", hp_spec_parse(text, o, "x.yaml", &s, &err), &s, &err, want_stages);

    /* a long data path: the field holds HP_PATH_MAX - 1 bytes */
    o = (size_t)snprintf(text, sizeof text, "%s", MODEL "data:\n  dir: /");
    for (int i = 0; i < HP_PATH_MAX; i++) text[o++] = 'd';
    o += (size_t)snprintf(text + o, sizeof text - o, "\n");
    static const char *const want_path[] = {"x.yaml:5:8:", "data.dir: '/ddd", "too long: 1025 bytes, at most 1023", NULL};
    expect_fail("path too long", hp_spec_parse(text, o, "x.yaml", &s, &err), &s, &err, want_path);

    /* a huge file is refused before parsing */
    static const char *const want_big[] = {"big.yaml:", "larger than", NULL};
    expect_fail("too large", hp_spec_parse(text, (1u << 20) + 1, "big.yaml", &s, &err), &s, &err, want_big);
}

/* hp_spec_load_with, as `hpsweep train` reads a spec: the search: section unread (a broken one
 * does not refuse the spec), and an epochs override checked against the warm-up instead of the
 * spec's epochs. */
/* final: {ensemble: K}: default 1, read, round trip through the dump; K up to keep_snapshots. */
static void test_final(void) {
    hp_spec s;
    if (spec_parse_ok(MODEL, &s, "no final") == 0) {
        CHECK(s.final.ensemble == 1, "final.ensemble defaults to 1 (got %d)", s.final.ensemble);
        hp_spec_free(&s);
    }
    if (spec_parse_ok(MODEL SEARCH_LR "  keep_snapshots: 3\n  stages: [{method: random, trials: 4}]\nfinal: {ensemble: 3}\n",
                      &s, "ensemble 3 of 3 kept") == 0) {
        CHECK(s.final.ensemble == 3, "final.ensemble 3 (got %d)", s.final.ensemble);
        hp_spec back;
        if (spec_roundtrip(&s, &back, "ensemble round trip") == 0) hp_spec_free(&back);
        hp_spec_free(&s);
    }
}

static void test_read_opts(void) {
    const char *path = "test_spec_read_opts.yaml";
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "cannot write %s", path);
    if (!f) return;
    fputs("model:\n  layers:\n    - {type: dense, units: 10}\n"
          "train: {epochs: 1, schedule: {type: constant, warmup_epochs: 2}}\n"
          "search:\n  params:\n    lr: {low: 1.0e-3, high: 1.0}\n  stages:\n    - {method: random, trials: 0}\n",
          f);
    CHECK(fclose(f) == 0, "cannot close %s", path);
    hp_spec s;
    hp_err err = {{0}};
    static const char *const want_trials[] = {"search.stages[0].trials: '0' is out of range", NULL};
    expect_fail("read opts: plain", hp_spec_load(path, &s, &err), &s, &err, want_trials);

    hp_spec_read_opts skip = {.skip_search = 1, .epochs = 0};
    static const char *const want_warmup[] = {"warmup_epochs: '2' is not less than train.epochs (1)", NULL};
    expect_fail("read opts: search skipped, spec's epochs", hp_spec_load_with(path, &skip, &s, &err), &s, &err,
                want_warmup);

    hp_spec_read_opts three = {.skip_search = 1, .epochs = 3};
    int rc = hp_spec_load_with(path, &three, &s, &err);
    CHECK(rc == 0, "read opts: --epochs 3 past a warm-up of 2: %s", err.msg);
    if (rc == 0) {
        CHECK(s.train.epochs == 3 && !s.has_search && s.search.nstages == 0,
              "read opts: epochs %d (want 3), has_search %d, nstages %d (want 0, 0)", s.train.epochs, s.has_search,
              s.search.nstages);
        hp_spec_free(&s);
    }

    hp_spec_read_opts two = {.skip_search = 1, .epochs = 2};
    static const char *const want_two[] = {"warmup_epochs: '2' is not less than train.epochs (2, given on the "
                                           "command line)", NULL};
    expect_fail("read opts: --epochs 2 within the warm-up", hp_spec_load_with(path, &two, &s, &err), &s, &err,
                want_two);
    remove(path);
}

int main(void) {
    test_full();
    test_minimal();
    test_forms();
    test_dump_quoting();
    test_names_and_paths();
    test_examples();
    test_bad_files();
    test_bad_inline();
    test_limits();
    test_read_opts();
    test_final();
    return hp_check_summary("test_spec");
}
