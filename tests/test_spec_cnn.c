/* test_spec_cnn.c - the CNN spec keys (orchestrator/spec_model.c, spec_train.c and the
 * cifar10 data format in spec.c): every layer type with its own keys, every optimizer and
 * schedule type, augmentation, early stopping, CIFAR-10 file lists and per-stage subsets.
 *
 * Good specs: every field of a full CNN spec, the defaults of each layer, optimizer and schedule
 * type, each dumped and read back to the same values field by field; the example sweeps.
 * Bad specs: each must fail with -1, leave the output zeroed and give one line naming the file,
 * "line:col", the key path and the value at fault (positions computed independently, by string
 * search, when the table was written).
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "model.h"
#include "spec_helpers.h"

/* The model a spec describes builds for its data's shape (1x28x28 IDX, 3x32x32 CIFAR-10): the
 * spec's checks and the model's shape checks agree on the examples. */
static void check_builds(const hp_spec *s, const char *label, int64_t params) {
    int cifar = strcmp(s->data.format, "cifar10") == 0;
    hp_model *m = NULL;
    hp_err err = {{0}};
    int rc = hp_model_create(&s->model, cifar ? 3 : 1, cifar ? 32 : 28, cifar ? 32 : 28, s->data.nclasses, 2, &m, &err);
    CHECK(rc == 0, "%s: the model does not build: %s", label, err.msg);
    /* the count also proves that `bias: false` reaches the model (a conv bias would add F) */
    if (rc == 0 && params > 0)
        CHECK(hp_model_param_count(m) == params, "%s: %lld parameters, want %lld", label,
              (long long)hp_model_param_count(m), (long long)params);
    hp_model_free(m);
}

/* ---- a spec with every layer type and every new key ------------------------------------------- */

static void check_cnn(const hp_spec *s) {
    const hp_data_spec *d = &s->data;
    CHECK(strcmp(s->name, "cnn_full") == 0, "name %s", s->name);
    CHECK(strcmp(d->format, "cifar10") == 0 && strcmp(d->dir, "/data/cifar") == 0, "format %s dir %s", d->format,
          d->dir);
    CHECK(d->ntrain_files == 2 && strcmp(d->train_files[0], "data_batch_1.bin") == 0 &&
              strcmp(d->train_files[1], "/abs/data_batch_2.bin") == 0 && d->train_files[2][0] == '\0',
          "train_files: %d [%s, %s, %s]", d->ntrain_files, d->train_files[0], d->train_files[1], d->train_files[2]);
    CHECK(d->ntest_files == 1 && strcmp(d->test_files[0], "test_batch.bin") == 0, "test_files: %d [%s]",
          d->ntest_files, d->test_files[0]);
    CHECK(d->nclasses == 10 && d->val_size == 1000, "classes %d val_size %lld", d->nclasses, (long long)d->val_size);

    const hp_model_spec *m = &s->model;
    static const hp_layer_type types[] = {
        HP_LAYER_CONV,  HP_LAYER_BATCHNORM, HP_LAYER_RELU,    HP_LAYER_CONV,    HP_LAYER_BATCHNORM,
        HP_LAYER_ADD,   HP_LAYER_LEAKY_RELU, HP_LAYER_MAXPOOL, HP_LAYER_AVGPOOL, HP_LAYER_ELU,
        HP_LAYER_GELU,  HP_LAYER_TANH,      HP_LAYER_SIGMOID, HP_LAYER_GLOBALAVGPOOL, HP_LAYER_FLATTEN,
        HP_LAYER_DROPOUT, HP_LAYER_DENSE};
    enum { N = sizeof types / sizeof types[0] };
    CHECK(m->nlayers == N, "nlayers %d, want %d", m->nlayers, N);
    if (m->nlayers != N) return;
    /* every layer type appears */
    int seen[HP_LAYER_COUNT_] = {0};
    for (int i = 0; i < N; i++) {
        CHECK(m->layers[i].type == types[i], "layer %d type %d, want %d", i, (int)m->layers[i].type, (int)types[i]);
        CHECK(m->layers[i].line == 14 + i + (i > 15), "layer %d line %d", i, m->layers[i].line);
        seen[m->layers[i].type] = 1;
    }
    for (int t = 0; t < HP_LAYER_COUNT_; t++) CHECK(seen[t], "layer type %s missing", hp_layer_type_name(t));
    const hp_layer_spec *l = m->layers;
    CHECK(l[0].filters == 16 && l[0].kernel == 5 && l[0].stride == 2 && l[0].padding == 2 && l[0].bias == HP_BIAS_OFF &&
              l[0].init == HP_INIT_KAIMING_NORMAL,
          "conv 0: filters %d kernel %d stride %d padding %d bias %d init %d", l[0].filters, l[0].kernel, l[0].stride,
          l[0].padding, l[0].bias, (int)l[0].init);
    CHECK(l[1].momentum == 0.2 && l[1].eps == 1e-3, "batchnorm 1: momentum %g eps %g", l[1].momentum, l[1].eps);
    CHECK(l[3].filters == 16 && l[3].kernel == 3 && l[3].stride == 1 && l[3].padding == 1 && l[3].bias == 1 &&
              l[3].init == HP_INIT_DEFAULT,
          "conv 3 defaults: stride %d bias %d init %d", l[3].stride, l[3].bias, (int)l[3].init);
    CHECK(l[4].momentum == 0.1 && l[4].eps == 1e-5, "batchnorm 4 defaults: momentum %g eps %g", l[4].momentum,
          l[4].eps);
    CHECK(l[5].from == 2, "add from %d", l[5].from);
    CHECK(l[6].slope == 0.2, "leaky slope %g", l[6].slope);
    CHECK(l[7].kernel == 3 && l[7].stride == 1 && l[7].padding == 1, "maxpool %d %d %d", l[7].kernel, l[7].stride,
          l[7].padding);
    CHECK(l[8].kernel == 2 && l[8].stride == 2 && l[8].padding == 0, "avgpool stride defaults to kernel: %d %d %d",
          l[8].kernel, l[8].stride, l[8].padding);
    CHECK(l[9].alpha == 0.5, "elu alpha %g", l[9].alpha);
    CHECK(l[15].p == 0.25, "dropout p %g", l[15].p);
    CHECK(l[16].units == 10 && l[16].init == HP_INIT_ZERO && l[16].bias == HP_BIAS_OFF, "dense %d init %d bias %d",
          l[16].units, (int)l[16].init, l[16].bias);

    const hp_optim_spec *o = &s->optim;
    CHECK(o->type == HP_OPTIM_ADAMW && o->lr == 3e-4 && o->beta1 == 0.8 && o->beta2 == 0.99 && o->eps == 1e-6 &&
              o->weight_decay == 0.05 && o->momentum == 0 && o->nesterov == 0,
          "adamw: lr %g betas %g %g eps %g wd %g", o->lr, o->beta1, o->beta2, o->eps, o->weight_decay);

    const hp_train_spec *t = &s->train;
    const hp_sched_spec *sc = &t->schedule;
    CHECK(t->batch_size == 32 && t->epochs == 20 && t->patience == 5, "train: batch %d epochs %d patience %d",
          t->batch_size, t->epochs, t->patience);
    CHECK(sc->type == HP_SCHED_MULTISTEP && sc->warmup_epochs == 2 && sc->nmilestones == 3 && sc->milestones[0] == 5 &&
              sc->milestones[1] == 10 && sc->milestones[2] == 15 && sc->gamma == 0.5,
          "multistep: warmup %d milestones %d [%d %d %d] gamma %g", sc->warmup_epochs, sc->nmilestones,
          sc->milestones[0], sc->milestones[1], sc->milestones[2], sc->gamma);
    CHECK(t->augment.flip == 1 && t->augment.shift == 4 && t->augment.cutout == 8 && t->augment.mixup == 0.2,
          "augment: flip %d shift %d cutout %d mixup %g", t->augment.flip, t->augment.shift, t->augment.cutout,
          t->augment.mixup);

    const hp_search_spec *ss = &s->search;
    CHECK(s->has_search && ss->nstages == 2, "stages %d", ss->nstages);
    CHECK(ss->stages[0].train_subset == 5000 && ss->stages[0].epochs == 3, "stage 0: subset %lld epochs %d",
          (long long)ss->stages[0].train_subset, ss->stages[0].epochs);
    CHECK(ss->stages[1].train_subset == 0 && ss->stages[1].epochs == 20, "stage 1: subset %lld epochs %d",
          (long long)ss->stages[1].train_subset, ss->stages[1].epochs);
}

static void test_cnn_full(void) {
    hp_spec s, back;
    hp_err err = {{0}};
    int rc = hp_spec_load(SPEC_DIR "good_cnn.yaml", &s, &err);
    CHECK(rc == 0, "good_cnn.yaml: %s", err.msg);
    if (rc) return;
    check_cnn(&s);
    check_builds(&s, "good_cnn.yaml", 0);
    if (spec_roundtrip(&s, &back, "good_cnn.yaml") == 0) hp_spec_free(&back);
    hp_spec_free(&s);
}

/* ---- defaults of each type ----------------------------------------------------------------- */

static void test_layer_defaults(void) {
    const char *text = "model:\n  layers:\n"
                       "    - {type: conv, filters: 4, kernel: 3}\n"     /* 0 */
                       "    - {type: batchnorm}\n"                       /* 1 */
                       "    - {type: maxpool, kernel: 3}\n"              /* 2 */
                       "    - {type: avgpool, kernel: 2, padding: 1}\n"  /* 3 */
                       "    - {type: dropout}\n"                         /* 4 */
                       "    - {type: leaky_relu}\n"                      /* 5 */
                       "    - {type: elu}\n"                             /* 6 */
                       "    - {type: add, from: -1}\n"                   /* 7 */
                       "    - {type: globalavgpool}\n"                   /* 8 */
                       "    - {type: flatten}\n"                         /* 9 */
                       "    - {type: dense, units: 10}\n";               /* 10 */
    hp_spec s, back;
    if (spec_parse_ok(text, &s, "layer defaults")) return;
    const hp_layer_spec *l = s.model.layers;
    CHECK(s.model.nlayers == 11, "nlayers %d", s.model.nlayers);
    CHECK(l[0].stride == 1 && l[0].padding == 0 && l[0].bias == 1 && l[0].init == HP_INIT_DEFAULT,
          "conv defaults: stride %d padding %d bias %d init %d", l[0].stride, l[0].padding, l[0].bias, (int)l[0].init);
    CHECK(l[1].momentum == 0.1 && l[1].eps == 1e-5, "batchnorm defaults (PyTorch): momentum %g eps %g", l[1].momentum,
          l[1].eps);
    CHECK(l[2].stride == 3 && l[2].padding == 0, "maxpool stride = kernel: %d, padding %d", l[2].stride, l[2].padding);
    CHECK(l[3].stride == 2 && l[3].padding == 1, "avgpool stride = kernel: %d, padding %d (= kernel/2 allowed)",
          l[3].stride, l[3].padding);
    CHECK(l[4].p == 0.5, "dropout p defaults to 0.5 (PyTorch): %g", l[4].p);
    CHECK(l[5].slope == 0.01, "leaky_relu slope 0.01: %g", l[5].slope);
    CHECK(l[6].alpha == 1, "elu alpha 1: %g", l[6].alpha);
    CHECK(l[7].from == -1, "add from the model input: %d", l[7].from);
    CHECK(l[10].bias == 1 && l[10].init == HP_INIT_DEFAULT, "dense bias %d init %d", l[10].bias, (int)l[10].init);
    for (int i = 0; i < 11; i++) CHECK(l[i].line == 3 + i, "layer %d line %d", i, l[i].line);
    if (spec_roundtrip(&s, &back, "layer defaults") == 0) hp_spec_free(&back);
    hp_spec_free(&s);

    /* add: from an earlier layer's name, read as its number (and dumped so) */
    const char *named = "model:\n  layers:\n    - {type: dense, units: 16, name: stem}\n"
                        "    - {type: relu, name: block_in}\n    - {type: dense, units: 16}\n    - {type: relu}\n"
                        "    - {type: add, from: block_in}\n    - {type: add, from: 0}\n"
                        "    - {type: dense, units: 10}\n";
    if (spec_parse_ok(named, &s, "add from a name") == 0) {
        CHECK(s.model.layers[4].from == 1 && s.model.layers[5].from == 0 && !strcmp(s.model.layers[1].name, "block_in"),
              "add from a name: from %d and %d, want 1 and 0", s.model.layers[4].from, s.model.layers[5].from);
        if (spec_roundtrip(&s, &back, "add from a name") == 0) {
            CHECK(back.model.layers[4].from == 1, "add from a name, dumped: from %d", back.model.layers[4].from);
            hp_spec_free(&back);
        }
        hp_spec_free(&s);
    }
}


/* Each optimizer: PyTorch's defaults (lr per type, betas, eps, alpha; AdamW's weight decay 0.01),
 * and values written replacing them, including the zeros hp_optim_spec_defaults cannot tell
 * from "unset" (beta1 = 0, alpha = 0). */
static void test_optim_defaults(void) {
    static const struct {
        const char *yaml;
        hp_optim_type type;
        double lr, beta1, beta2, eps, alpha, wd, momentum;
    } cases[] = {
        {"{type: sgd}", HP_OPTIM_SGD, 0.01, 0, 0, 0, 0, 0, 0},
        {"{type: adam}", HP_OPTIM_ADAM, 1e-3, 0.9, 0.999, 1e-8, 0, 0, 0},
        {"{type: adamw}", HP_OPTIM_ADAMW, 1e-3, 0.9, 0.999, 1e-8, 0, 0.01, 0},
        {"{type: rmsprop}", HP_OPTIM_RMSPROP, 1e-2, 0, 0, 1e-8, 0.99, 0, 0},
        {"{type: adagrad}", HP_OPTIM_ADAGRAD, 1e-2, 0, 0, 1e-10, 0, 0, 0},
        {"{type: adam, lr: 0.5, betas: [0, 0.5], eps: 1.0e-3, weight_decay: 0.1}", HP_OPTIM_ADAM, 0.5, 0, 0.5, 1e-3, 0,
         0.1, 0},
        {"{type: adamw, weight_decay: 0}", HP_OPTIM_ADAMW, 1e-3, 0.9, 0.999, 1e-8, 0, 0, 0},
        {"{type: rmsprop, alpha: 0, eps: 0.1, momentum: 0.5}", HP_OPTIM_RMSPROP, 1e-2, 0, 0, 0.1, 0, 0, 0.5},
        {"{type: adagrad, eps: 1.0e-6, lr: 0.1}", HP_OPTIM_ADAGRAD, 0.1, 0, 0, 1e-6, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, MODEL "optimizer: %s\n", cases[i].yaml);
        hp_spec s, back;
        if (spec_parse_ok(text, &s, cases[i].yaml)) continue;
        const hp_optim_spec *o = &s.optim;
        CHECK(o->type == cases[i].type && o->lr == cases[i].lr && o->beta1 == cases[i].beta1 &&
                  o->beta2 == cases[i].beta2 && o->eps == cases[i].eps && o->alpha == cases[i].alpha &&
                  o->weight_decay == cases[i].wd && o->momentum == cases[i].momentum && o->nesterov == 0,
              "%s: type %d lr %g betas %g %g eps %g alpha %g wd %g momentum %g", cases[i].yaml, (int)o->type, o->lr,
              o->beta1, o->beta2, o->eps, o->alpha, o->weight_decay, o->momentum);
        if (spec_roundtrip(&s, &back, cases[i].yaml) == 0) hp_spec_free(&back);
        hp_spec_free(&s);
    }
}

/* Each schedule: its keys' defaults (PyTorch's gamma 0.1, patience 10, threshold 1e-4, min_lr 0). */
static void test_sched_defaults(void) {
    static const struct {
        const char *yaml;
        hp_sched_type type;
        int warmup, step_size, nmilestones, patience;
        double gamma, min_lr, threshold;
    } cases[] = {
        {"{}", HP_SCHED_CONSTANT, 0, 0, 0, 10, 0.1, 0, 1e-4},
        {"{type: constant, warmup_epochs: 3}", HP_SCHED_CONSTANT, 3, 0, 0, 10, 0.1, 0, 1e-4},
        {"{type: step, step_size: 4}", HP_SCHED_STEP, 0, 4, 0, 10, 0.1, 0, 1e-4},
        {"{type: step, step_size: 2, gamma: 1}", HP_SCHED_STEP, 0, 2, 0, 10, 1, 0, 1e-4},
        {"{type: multistep, milestones: [3, 6]}", HP_SCHED_MULTISTEP, 0, 0, 2, 10, 0.1, 0, 1e-4},
        {"{type: cosine}", HP_SCHED_COSINE, 0, 0, 0, 10, 0.1, 0, 1e-4},
        {"{type: cosine, warmup_epochs: 1, min_lr: 1.0e-4}", HP_SCHED_COSINE, 1, 0, 0, 10, 0.1, 1e-4, 1e-4},
        {"{type: linear, min_lr: 0}", HP_SCHED_LINEAR, 0, 0, 0, 10, 0.1, 0, 1e-4},
        {"{type: inv_sqrt, warmup_epochs: 2}", HP_SCHED_INV_SQRT, 2, 0, 0, 10, 0.1, 0, 1e-4},
        {"{type: plateau}", HP_SCHED_PLATEAU, 0, 0, 0, 10, 0.1, 0, 1e-4},
        {"{type: plateau, gamma: 0.5, patience: 0, threshold: 0.01, min_lr: 1.0e-5}", HP_SCHED_PLATEAU, 0, 0, 0, 0,
         0.5, 1e-5, 0.01},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, MODEL "train:\n  epochs: 10\n  schedule: %s\n", cases[i].yaml);
        hp_spec s, back;
        if (spec_parse_ok(text, &s, cases[i].yaml)) continue;
        const hp_sched_spec *sc = &s.train.schedule;
        CHECK(sc->type == cases[i].type && sc->warmup_epochs == cases[i].warmup && sc->step_size == cases[i].step_size &&
                  sc->nmilestones == cases[i].nmilestones && sc->patience == cases[i].patience &&
                  sc->gamma == cases[i].gamma && sc->min_lr == cases[i].min_lr && sc->threshold == cases[i].threshold,
              "%s: type %d warmup %d step %d milestones %d patience %d gamma %g min_lr %g threshold %g", cases[i].yaml,
              (int)sc->type, sc->warmup_epochs, sc->step_size, sc->nmilestones, sc->patience, sc->gamma, sc->min_lr,
              sc->threshold);
        if (cases[i].nmilestones == 2)
            CHECK(sc->milestones[0] == 3 && sc->milestones[1] == 6, "milestones %d %d", sc->milestones[0],
                  sc->milestones[1]);
        if (spec_roundtrip(&s, &back, cases[i].yaml) == 0) hp_spec_free(&back);
        hp_spec_free(&s);
    }
}

/* Augmentation defaults to off key by key; patience parses; CIFAR-10's file lists default to
 * the distribution's, and a list written replaces the default one entirely. */
static void test_train_and_data(void) {
    hp_spec s, back;
    if (spec_parse_ok(MODEL "train: {patience: 3, augment: {shift: 2}}\n", &s, "augment") == 0) {
        const hp_augment_spec *a = &s.train.augment;
        CHECK(a->flip == 0 && a->shift == 2 && a->cutout == 0 && a->mixup == 0 && s.train.patience == 3,
              "augment flip %d shift %d cutout %d mixup %g patience %d", a->flip, a->shift, a->cutout, a->mixup,
              s.train.patience);
        hp_spec_free(&s);
    }
    if (spec_parse_ok("data: {format: cifar10}\n" MODEL, &s, "cifar10 defaults") == 0) {
        const hp_data_spec *d = &s.data;
        CHECK(strcmp(d->format, "cifar10") == 0 && strcmp(d->dir, "/usr/share/datasets/cifar-10-batches-bin") == 0,
              "format %s dir %s", d->format, d->dir);
        CHECK(d->ntrain_files == 5 && d->ntest_files == 1 && strcmp(d->test_files[0], "test_batch.bin") == 0,
              "files %d %d %s", d->ntrain_files, d->ntest_files, d->test_files[0]);
        for (int i = 0; i < 5; i++) {
            char want[32];
            snprintf(want, sizeof want, "data_batch_%d.bin", i + 1);
            CHECK(strcmp(d->train_files[i], want) == 0, "train file %d: %s", i, d->train_files[i]);
        }
        CHECK(d->nclasses == 10 && d->val_size == 5000, "classes %d val %lld", d->nclasses, (long long)d->val_size);
        if (spec_roundtrip(&s, &back, "cifar10 defaults") == 0) hp_spec_free(&back);
        hp_spec_free(&s);
    }
    if (spec_parse_ok("data: {format: cifar10, dir: here, train_files: [b1, b2], test_files: [t1, t2]}\n" MODEL, &s,
                      "cifar10 lists") == 0) {
        const hp_data_spec *d = &s.data;
        CHECK(strcmp(d->dir, "here") == 0 && d->ntrain_files == 2 && strcmp(d->train_files[1], "b2") == 0 &&
                  d->train_files[2][0] == '\0' && d->ntest_files == 2 && strcmp(d->test_files[1], "t2") == 0,
              "lists: dir %s %d [%s %s %s] %d", d->dir, d->ntrain_files, d->train_files[0], d->train_files[1],
              d->train_files[2], d->ntest_files);
        if (spec_roundtrip(&s, &back, "cifar10 lists") == 0) hp_spec_free(&back);
        hp_spec_free(&s);
    }
}

/* The two CNN example sweeps say what their comments say, and build. */
static void test_cnn_examples(void) {
    hp_spec s;
    hp_err err = {{0}};
    int rc = hp_spec_load(HP_TEST_DIR "/../sweeps/fashion_cnn.yaml", &s, &err);
    CHECK(rc == 0, "fashion_cnn.yaml: %s", err.msg);
    if (rc == 0) {
        static const hp_layer_type types[] = {HP_LAYER_CONV,    HP_LAYER_BATCHNORM, HP_LAYER_RELU,   HP_LAYER_MAXPOOL,
                                              HP_LAYER_CONV,    HP_LAYER_BATCHNORM, HP_LAYER_RELU,   HP_LAYER_MAXPOOL,
                                              HP_LAYER_FLATTEN, HP_LAYER_DENSE,     HP_LAYER_RELU,   HP_LAYER_DROPOUT,
                                              HP_LAYER_DENSE};
        const hp_layer_spec *l = s.model.layers;
        CHECK(s.model.nlayers == 13, "fashion_cnn: %d layers", s.model.nlayers);
        for (int i = 0; i < 13 && i < s.model.nlayers; i++)
            CHECK(l[i].type == types[i], "fashion_cnn layer %d: %s", i, hp_layer_type_name(l[i].type));
        if (s.model.nlayers == 13) {
            CHECK(l[0].filters == 32 && l[4].filters == 64, "filters %d %d", l[0].filters, l[4].filters);
            for (int i = 0; i <= 4; i += 4)
                CHECK(l[i].kernel == 3 && l[i].padding == 1 && l[i].stride == 1 && l[i].bias == HP_BIAS_OFF,
                      "conv %d: 3x3, padding 1, no bias", i);
            CHECK(l[3].kernel == 2 && l[3].stride == 2 && l[7].kernel == 2 && l[7].stride == 2, "maxpool 2");
            CHECK(l[9].units == 128 && l[11].p == 0.5 && l[12].units == 10, "head: %d, p %g, %d", l[9].units, l[11].p,
                  l[12].units);
        }
        CHECK(s.optim.type == HP_OPTIM_SGD && s.optim.lr == 0.05 && s.optim.momentum == 0.9 &&
                  s.optim.weight_decay == 5e-4,
              "fashion_cnn optimizer");
        CHECK(s.train.schedule.type == HP_SCHED_COSINE && s.train.epochs == 15 && s.train.batch_size == 128 &&
                  s.train.augment.flip == 1,
              "fashion_cnn train: schedule %d epochs %d batch %d flip %d", (int)s.train.schedule.type, s.train.epochs,
              s.train.batch_size, s.train.augment.flip);
        const hp_search_spec *ss = &s.search;
        CHECK(ss->params[HP_PARAM_LR].low == 1e-3 && ss->params[HP_PARAM_LR].high == 1 &&
                  ss->params[HP_PARAM_WD].low == 1e-6 && ss->params[HP_PARAM_WD].high == 1e-2,
              "fashion_cnn ranges");
        CHECK(ss->nstages == 2 && ss->stages[0].train_subset > 0 && ss->stages[0].epochs < s.train.epochs,
              "fashion_cnn: a coarse stage on a subset with few epochs, then a narrowed one");
        check_builds(&s, "fashion_cnn.yaml", 288 + 64 + 18432 + 128 + 401536 + 1290);
        hp_spec_free(&s);
    }
    rc = hp_spec_load(HP_TEST_DIR "/../sweeps/resnet_cifar.yaml", &s, &err);
    CHECK(rc == 0, "resnet_cifar.yaml: %s", err.msg);
    if (rc == 0) {
        int adds = 0;
        CHECK(strcmp(s.data.format, "cifar10") == 0, "resnet_cifar format %s", s.data.format);
        for (int i = 0; i < s.model.nlayers; i++) {
            const hp_layer_spec *l = &s.model.layers[i];
            if (l->type != HP_LAYER_ADD) continue;
            adds++;
            /* the block's input: the output of a ReLU before the block, with the same shape */
            CHECK(l->from >= 0 && l->from < i - 1 && s.model.layers[l->from].type == HP_LAYER_RELU,
                  "resnet add %d from %d", i, l->from);
        }
        CHECK(adds == 2, "resnet_cifar has 2 residual adds, got %d", adds);
        check_builds(&s, "resnet_cifar.yaml", 0);
        hp_spec_free(&s);
    }
}

/* ---- bad specs ----------------------------------------------------------------------------- */

#define LAYER(l) MODEL "    - " l "\n" /* layer 1 on line 4, from column 7 */
/* layer 2 of 4, on line 5 from column 7 */
#define ADD(l) "model:\n  layers:\n    - {type: conv, filters: 4, kernel: 3}\n    - {type: relu}\n    - " l \
               "\n    - {type: dense, units: 10}\n"
#define OPT(o) MODEL "optimizer: " o "\n"                             /* line 4 from column 12 */
#define SCHED(x) MODEL "train:\n  epochs: 10\n  schedule: " x "\n"    /* line 6 from column 13 */
#define AUG(x) MODEL "train:\n  augment: " x "\n"                     /* line 5 from column 12 */
#define DATA(x) "data:\n" x MODEL                                      /* data keys from line 2 */

static const spec_bad_case bad_cases[] = {
    {"conv with units", LAYER("{type: conv, filters: 8, kernel: 3, units: 4}"),
     {"x.yaml:4:43:", "model.layers[1]: key 'units' (set to '4') does not apply to type conv, only to dense", "valid keys for conv: type, name, filters, kernel, stride, padding, bias, init"}},
    {"dense with kernel", LAYER("{type: dense, units: 10, kernel: 3}"),
     {"x.yaml:4:32:", "model.layers[1]: key 'kernel' (set to '3') does not apply to type dense, only to conv, maxpool, avgpool", "valid keys for dense: type, name, units, init, bias"}},
    {"batchnorm with p", LAYER("{type: batchnorm, p: 0.5}"),
     {"x.yaml:4:25:", "model.layers[1]: key 'p' (set to '0.5') does not apply to type batchnorm, only to dropout", "valid keys for batchnorm: type, name, momentum, eps"}},
    {"maxpool with filters", LAYER("{type: maxpool, kernel: 2, filters: 8}"),
     {"x.yaml:4:34:", "key 'filters' (set to '8') does not apply to type maxpool, only to conv", "valid keys for maxpool: type, name, kernel, stride, padding"}},
    {"dropout with slope", LAYER("{type: dropout, slope: 0.1}"),
     {"x.yaml:4:23:", "key 'slope' (set to '0.1') does not apply to type dropout, only to leaky_relu", "valid keys for dropout: type, name, p"}},
    {"flatten with a from name", LAYER("{type: flatten, from: x}"),
     {"x.yaml:4:23:", "key 'from' (set to 'x') does not apply to type flatten, only to add"}},
    {"flatten with from", LAYER("{type: flatten, from: 0}"),
     {"x.yaml:4:23:", "key 'from' (set to '0') does not apply to type flatten, only to add", "valid keys for flatten: type"}},
    {"add with momentum", LAYER("{type: add, from: 0, momentum: 0.1}"),
     {"x.yaml:4:28:", "key 'momentum' (set to '0.1') does not apply to type add, only to batchnorm", "valid keys for add: type, name, from"}},
    {"elu with slope", LAYER("{type: elu, slope: 0.1}"),
     {"x.yaml:4:19:", "key 'slope' (set to '0.1') does not apply to type elu, only to leaky_relu", "valid keys for elu: type, name, alpha"}},
    {"leaky_relu with alpha", LAYER("{type: leaky_relu, alpha: 1}"),
     {"x.yaml:4:26:", "key 'alpha' (set to '1') does not apply to type leaky_relu, only to elu", "valid keys for leaky_relu: type, name, slope"}},
    {"gelu with bias", LAYER("{type: gelu, bias: true}"),
     {"x.yaml:4:20:", "key 'bias' (set to 'true') does not apply to type gelu, only to dense, conv", "valid keys for gelu: type"}},
    {"globalavgpool with kernel", LAYER("{type: globalavgpool, kernel: 2}"),
     {"x.yaml:4:29:", "key 'kernel' (set to '2') does not apply to type globalavgpool, only to conv, maxpool, avgpool"}},
    {"unknown conv key", LAYER("{type: conv, filter: 8, kernel: 3}"),
     {"x.yaml:4:20:", "unknown key 'filter' in model.layers[1] (type: conv); valid keys: type, name, filters, kernel, stride, padding, bias, init", "(did you mean 'filters'?)"}},
    {"conv without filters", LAYER("{type: conv, kernel: 3}"),
     {"x.yaml:4:7:", "model.layers[1] (type: conv): missing required key 'filters'"}},
    {"maxpool without kernel", LAYER("{type: maxpool}"),
     {"x.yaml:4:7:", "model.layers[1] (type: maxpool): missing required key 'kernel'"}},
    {"add without from", LAYER("{type: add}"),
     {"x.yaml:4:7:", "model.layers[1] (type: add): missing required key 'from'"}},
    {"layer without type", LAYER("{units: 10}"),
     {"x.yaml:4:7:", "model.layers[1]: missing required key 'type' (one of dense, relu, conv, batchnorm, maxpool, avgpool, globalavgpool, dropout, flatten, add, leaky_relu, elu, gelu, tanh, sigmoid)"}},
    {"layer type near miss", LAYER("{type: batch_norm}"),
     {"x.yaml:4:14:", "model.layers[1].type: unknown value 'batch_norm'; valid values: dense, relu, conv, batchnorm, maxpool, avgpool, globalavgpool, dropout, flatten, add, leaky_relu, elu, gelu, tanh, sigmoid", "(did you mean 'batchnorm'?)"}},
    {"layer type is a list", LAYER("{type: [conv]}"),
     {"x.yaml:4:14:", "model.layers[1].type: expected one of dense, relu, conv", "got a list"}},
    {"dropout p one", LAYER("{type: dropout, p: 1}"),
     {"x.yaml:4:26:", "model.layers[1].p: '1' is out of range; it must be in [0, 1)"}},
    {"dropout p negative", LAYER("{type: dropout, p: -0.1}"),
     {"x.yaml:4:26:", "model.layers[1].p: '-0.1' is out of range; it must be in [0, 1)"}},
    {"maxpool padding over half", LAYER("{type: maxpool, kernel: 3, padding: 2}"),
     {"x.yaml:4:43:", "model.layers[1].padding: '2' is more than half the kernel (3)", "maxpool layers need padding <= kernel/2 = 1"}},
    {"avgpool padding over half", LAYER("{type: avgpool, kernel: 2, stride: 1, padding: 2}"),
     {"x.yaml:4:54:", "model.layers[1].padding: '2' is more than half the kernel (2)", "avgpool layers need padding <= kernel/2 = 1 (as PyTorch)"}},
    {"conv kernel zero", LAYER("{type: conv, filters: 8, kernel: 0}"),
     {"x.yaml:4:40:", "model.layers[1].kernel: '0' is out of range; it must be in [1, 1024]"}},
    {"conv stride zero", LAYER("{type: conv, filters: 8, kernel: 3, stride: 0}"),
     {"x.yaml:4:51:", "model.layers[1].stride: '0' is out of range; it must be in [1, 1024]"}},
    {"conv padding negative", LAYER("{type: conv, filters: 8, kernel: 3, padding: -1}"),
     {"x.yaml:4:52:", "model.layers[1].padding: '-1' is out of range; it must be in [0, 1024]"}},
    {"conv filters too many", LAYER("{type: conv, filters: 2000000, kernel: 3}"),
     {"x.yaml:4:29:", "model.layers[1].filters: '2000000' is out of range; it must be in [1, 1048576]"}},
    {"batchnorm eps zero", LAYER("{type: batchnorm, eps: 0}"),
     {"x.yaml:4:30:", "model.layers[1].eps: '0' is out of range; it must be > 0"}},
    {"batchnorm momentum above one", LAYER("{type: batchnorm, momentum: 1.5}"),
     {"x.yaml:4:35:", "model.layers[1].momentum: '1.5' is out of range; it must be in [0, 1]"}},
    {"conv bias not boolean", LAYER("{type: conv, filters: 8, kernel: 3, bias: 0}"),
     {"x.yaml:4:49:", "model.layers[1].bias: expected a boolean (true, false, yes or no), got '0'"}},
    {"conv unknown init", LAYER("{type: conv, filters: 8, kernel: 3, init: he}"),
     {"x.yaml:4:49:", "model.layers[1].init: unknown value 'he'; valid values: default, kaiming_uniform, kaiming_normal"}},
    {"leaky_relu negative slope", LAYER("{type: leaky_relu, slope: -0.1}"),
     {"x.yaml:4:33:", "model.layers[1].slope: '-0.1' is out of range; it must be >= 0"}},
    {"add from an unknown name", ADD("{type: add, from: stem}"),
     {"x.yaml:5:25:", "model.layers[2].from: 'stem' is not the name of an earlier layer (none has a name:); it must be "
      "an earlier layer's name or number, or -1 for the model input"}},
    {"add from a later layer's name", "model:\n  layers:\n    - {type: conv, filters: 4, kernel: 3, name: c1}\n    - "
     "{type: relu, name: r1}\n    - {type: add, from: out}\n    - {type: dense, units: 10, name: out}\n",
     {"x.yaml:5:25:", "model.layers[2].from: 'out' is not the name of an earlier layer (their names: c1, r1)"}},
    {"add refers forward", ADD("{type: add, from: 3}"),
     {"x.yaml:5:25:", "model.layers[2].from: '3' refers forward, to a later layer", "it must be -1 (the model input) or an earlier layer, 0 to 1"}},
    {"add out of range", ADD("{type: add, from: 9}"),
     {"x.yaml:5:25:", "model.layers[2].from: '9' is out of range: there is no layer 9 (the model has 4, 0 to 3)", "or an earlier layer, 0 to 1"}},
    {"add refers to itself", ADD("{type: add, from: 2}"),
     {"x.yaml:5:25:", "model.layers[2].from: '2' is this add layer itself", "an earlier layer, 0 to 1"}},
    {"add below -1", ADD("{type: add, from: -2}"),
     {"x.yaml:5:25:", "model.layers[2].from: '-2' is out of range; it must be -1 (the model input) or an earlier layer, 0 to 1"}},
    {"add first layer", "model:\n  layers:\n    - {type: add, from: 0}\n    - {type: dense, units: 10}\n",
     {"x.yaml:3:25:", "model.layers[0].from: '0' is this add layer itself; it must be -1 (the model input): layer 0 has no earlier layer"}},
    {"add from not an integer", ADD("{type: add, from: 1.5}"),
     {"x.yaml:5:25:", "model.layers[2].from: expected an integer, got '1.5'"}},
    {"add from a list", ADD("{type: add, from: [first]}"),
     {"x.yaml:5:25:", "model.layers[2].from: expected an integer, got a list"}},
    {"optimizer near miss", OPT("{type: AdamW}"),
     {"x.yaml:4:19:", "optimizer.type: unknown value 'AdamW'; valid values: sgd, adam, adamw, rmsprop, adagrad", "(did you mean 'adamw'?)"}},
    {"momentum with adam", OPT("{type: adam, momentum: 0.9}"),
     {"x.yaml:4:25:", "optimizer: key 'momentum' (set to '0.9') does not apply to type adam, only to sgd, rmsprop", "valid keys for adam: type, lr, betas, eps, weight_decay"}},
    {"nesterov with rmsprop", OPT("{type: rmsprop, nesterov: true}"),
     {"x.yaml:4:28:", "optimizer: key 'nesterov' (set to 'true') does not apply to type rmsprop, only to sgd", "valid keys for rmsprop: type, lr, alpha, eps, momentum, weight_decay"}},
    {"betas with sgd", OPT("{type: sgd, betas: [0.9, 0.99]}"),
     {"x.yaml:4:24:", "optimizer: key 'betas' (set to a list) does not apply to type sgd, only to adam, adamw", "valid keys for sgd: type, lr, momentum, nesterov, weight_decay"}},
    {"alpha with adam", OPT("{type: adam, alpha: 0.9}"),
     {"x.yaml:4:25:", "optimizer: key 'alpha' (set to '0.9') does not apply to type adam, only to rmsprop"}},
    {"eps with sgd", OPT("{eps: 1.0e-8}"),
     {"x.yaml:4:13:", "optimizer: key 'eps' (set to '1.0e-8') does not apply to type sgd, only to adam, adamw, rmsprop, adagrad"}},
    {"betas not a pair", OPT("{type: adam, betas: [0.9]}"),
     {"x.yaml:4:32:", "optimizer.betas: expected a pair [beta1, beta2], got 1 item"}},
    {"betas three", OPT("{type: adamw, betas: [0.9, 0.99, 0.999]}"),
     {"x.yaml:4:33:", "optimizer.betas: expected a pair [beta1, beta2], got 3 items"}},
    {"betas not a list", OPT("{type: adam, betas: 0.9}"),
     {"x.yaml:4:32:", "optimizer.betas: expected a list, got '0.9'"}},
    {"beta2 one", OPT("{type: adam, betas: [0.9, 1.0]}"),
     {"x.yaml:4:38:", "optimizer.betas[1]: '1.0' is out of range; it must be in [0, 1)"}},
    {"beta1 negative", OPT("{type: adam, betas: [-0.1, 0.999]}"),
     {"x.yaml:4:33:", "optimizer.betas[0]: '-0.1' is out of range; it must be in [0, 1)"}},
    {"beta not a number", OPT("{type: adam, betas: [0.9, high]}"),
     {"x.yaml:4:38:", "optimizer.betas[1]: expected a number, got 'high'"}},
    {"adam eps zero", OPT("{type: adam, eps: 0}"),
     {"x.yaml:4:30:", "optimizer.eps: '0' is out of range; it must be > 0"}},
    {"rmsprop alpha one", OPT("{type: rmsprop, alpha: 1}"),
     {"x.yaml:4:35:", "optimizer.alpha: '1' is out of range; it must be in [0, 1)"}},
    {"rmsprop momentum one", OPT("{type: rmsprop, momentum: 1}"),
     {"x.yaml:4:38:", "optimizer.momentum: '1' is out of range; it must be in [0, 1)"}},
    {"unknown adam key", OPT("{type: adam, beta: [0.9, 0.99]}"),
     {"x.yaml:4:25:", "unknown key 'beta' in optimizer (type: adam); valid keys: type, lr, betas, eps, weight_decay", "(did you mean 'betas'?)"}},
    {"unknown schedule", SCHED("{type: exponential}"),
     {"x.yaml:6:20:", "train.schedule.type: unknown value 'exponential'; valid values: constant, step, multistep, cosine, linear, inv_sqrt, plateau"}},
    {"schedule near miss", SCHED("{type: cosin}"),
     {"x.yaml:6:20:", "train.schedule.type: unknown value 'cosin'", "(did you mean 'cosine'?)"}},
    {"step without step_size", SCHED("{type: step}"),
     {"x.yaml:6:13:", "train.schedule (type: step): missing required key 'step_size'"}},
    {"multistep without milestones", SCHED("{type: multistep, gamma: 0.5}"),
     {"x.yaml:6:13:", "train.schedule (type: multistep): missing required key 'milestones'"}},
    {"milestones equal", SCHED("{type: multistep, milestones: [3, 3]}"),
     {"x.yaml:6:47:", "train.schedule.milestones[1]: '3' is not greater than the milestone before it (3)"}},
    {"milestones decreasing", SCHED("{type: multistep, milestones: [5, 8, 2]}"),
     {"x.yaml:6:50:", "train.schedule.milestones[2]: '2' is not greater than the milestone before it (8)"}},
    {"milestones empty", SCHED("{type: multistep, milestones: []}"),
     {"x.yaml:6:43:", "train.schedule.milestones: the list is empty"}},
    {"milestone zero", SCHED("{type: multistep, milestones: [0, 2]}"),
     {"x.yaml:6:44:", "train.schedule.milestones[0]: '0' is out of range; it must be >= 1"}},
    {"milestones not a list", SCHED("{type: multistep, milestones: 5}"),
     {"x.yaml:6:43:", "train.schedule.milestones: expected a list, got '5'"}},
    {"step gamma zero", SCHED("{type: step, step_size: 2, gamma: 0}"),
     {"x.yaml:6:47:", "train.schedule.gamma: '0' is out of range; it must be in (0, 1]"}},
    {"plateau gamma one", SCHED("{type: plateau, gamma: 1}"),
     {"x.yaml:6:36:", "train.schedule.gamma: '1' is out of range for plateau; the factor must be in (0, 1)"}},
    {"gamma with cosine", SCHED("{type: cosine, gamma: 0.5}"),
     {"x.yaml:6:28:", "train.schedule: key 'gamma' (set to '0.5') does not apply to type cosine, only to step, multistep, plateau", "valid keys for cosine: type, warmup_epochs, min_lr"}},
    {"step_size with multistep", SCHED("{type: multistep, milestones: [2], step_size: 3}"),
     {"x.yaml:6:48:", "train.schedule: key 'step_size' (set to '3') does not apply to type multistep, only to step"}},
    {"min_lr with step", SCHED("{type: step, step_size: 3, min_lr: 0}"),
     {"x.yaml:6:40:", "train.schedule: key 'min_lr' (set to '0') does not apply to type step, only to cosine, linear, plateau"}},
    {"patience with constant", SCHED("{patience: 3}"),
     {"x.yaml:6:14:", "train.schedule: key 'patience' (set to '3') does not apply to type constant, only to plateau", "valid keys for constant: type, warmup_epochs"}},
    {"milestone typo", SCHED("{type: multistep, milestone: [2]}"),
     {"x.yaml:6:31:", "unknown key 'milestone' in train.schedule (type: multistep)", "(did you mean 'milestones'?)"}},
    {"plateau threshold one", SCHED("{type: plateau, threshold: 1}"),
     {"x.yaml:6:40:", "train.schedule.threshold: '1' is out of range; it must be in [0, 1)"}},
    {"warmup negative", SCHED("{type: cosine, warmup_epochs: -1}"),
     {"x.yaml:6:43:", "train.schedule.warmup_epochs: '-1' is out of range; it must be >= 0"}},
    {"schedule not a mapping", SCHED("cosine"),
     {"x.yaml:6:13:", "train.schedule: expected a mapping, got 'cosine'"}},
    {"warmup fills training", MODEL "train:\n  epochs: 3\n  schedule: {type: cosine, warmup_epochs: 3}\n",
     {"x.yaml:6:43:", "train.schedule.warmup_epochs: '3' is not less than train.epochs (3)"}},
    {"warmup fills a stage", MODEL "train:\n  epochs: 10\n  schedule: {type: linear, warmup_epochs: 2}\nsearch:\n  params: {lr: {low: 0.01, high: 1}}\n  stages:\n    - {method: random, trials: 4, epochs: 5}\n    - {method: random, trials: 2, epochs: 2}\n",
     {"x.yaml:11:43:", "search.stages[1].epochs: 2 epochs is not more than train.schedule.warmup_epochs (2)"}},
    {"min_lr not below lr", MODEL "optimizer: {lr: 0.01}\ntrain:\n  schedule: {type: cosine, min_lr: 0.01}\n",
     {"x.yaml:6:36:", "train.schedule.min_lr: '0.01' is not below the learning rate 0.01 (optimizer.lr)"}},
    {"min_lr vs searched lr", MODEL "train:\n  schedule: {type: plateau, min_lr: 1.0e-3}\nsearch:\n  params: {lr: {low: 1.0e-4, high: 1}}\n  stages: [{method: random, trials: 2}]\n",
     {"x.yaml:5:37:", "train.schedule.min_lr: '0.001' is not below the learning rate 0.0001 (the low end of search.params.lr)"}},
    {"flip not boolean", AUG("{flip: 1}"),
     {"x.yaml:5:19:", "train.augment.flip: expected a boolean (true, false, yes or no), got '1'"}},
    {"shift negative", AUG("{shift: -1}"),
     {"x.yaml:5:20:", "train.augment.shift: '-1' is out of range; it must be in [0, 1024]"}},
    {"shift not an integer", AUG("{shift: 2.5}"),
     {"x.yaml:5:20:", "train.augment.shift: expected an integer, got '2.5'"}},
    {"cutout negative", AUG("{cutout: -8}"),
     {"x.yaml:5:21:", "train.augment.cutout: '-8' is out of range; it must be in [0, 1024]"}},
    {"mixup negative", AUG("{mixup: -0.2}"),
     {"x.yaml:5:20:", "train.augment.mixup: '-0.2' is out of range; it must be >= 0"}},
    {"mixup nan", AUG("{mixup: .nan}"),
     {"x.yaml:5:20:", "train.augment.mixup: expected a number, got '.nan' (not a number)"}},
    {"unknown augment key", AUG("{crop: 4}"),
     {"x.yaml:5:13:", "unknown key 'crop' in train.augment; valid keys: flip, shift, cutout, mixup"}},
    {"augment typo", AUG("{flips: true}"),
     {"x.yaml:5:13:", "unknown key 'flips' in train.augment", "(did you mean 'flip'?)"}},
    {"patience negative", MODEL "train:\n  patience: -1\n",
     {"x.yaml:5:13:", "train.patience: '-1' is out of range; it must be >= 0"}},
    {"cifar10 with train_images", DATA("  format: cifar10\n  train_images: a.gz\n"),
     {"x.yaml:3:3:", "data: key 'train_images' (set to 'a.gz') does not apply to format cifar10, only to idx", "valid keys for cifar10: format, dir, train_files, test_files, classes, val_size, train_subset, val_subset, standardize"}},
    {"cifar10 with test_labels", DATA("  test_labels: b.gz\n  format: cifar10\n"),
     {"x.yaml:2:3:", "data: key 'test_labels' (set to 'b.gz') does not apply to format cifar10, only to idx"}},
    {"idx with train_files", DATA("  train_files: [a.bin]\n"),
     {"x.yaml:2:3:", "data: key 'train_files' (set to a list) does not apply to format idx, only to cifar10", "valid keys for idx: format, dir, train_images, train_labels, test_images, test_labels, classes"}},
    {"train_files empty", DATA("  format: cifar10\n  train_files: []\n"),
     {"x.yaml:3:16:", "data.train_files: the list is empty; give at least one"}},
    {"train_files not a list", DATA("  format: cifar10\n  train_files: a.bin\n"),
     {"x.yaml:3:16:", "data.train_files: expected a list, got 'a.bin'"}},
    {"train_files item a mapping", DATA("  format: cifar10\n  train_files: [a.bin, {b: 1}]\n"),
     {"x.yaml:3:24:", "data.train_files[1]: expected a string, got a mapping"}},
    {"test_files item empty", DATA("  format: cifar10\n  test_files: [\"\"]\n"),
     {"x.yaml:3:16:", "data.test_files[0]: must not be empty"}},
    {"format near miss", DATA("  format: cifar100\n"),
     {"x.yaml:2:11:", "data.format: unknown value 'cifar100'; valid values: idx, cifar10", "(did you mean 'cifar10'?)"}},
    {"stage train_subset negative", MODEL "search:\n  params: {lr: {low: 0.01, high: 1}}\n  stages: [{method: random, trials: 2, train_subset: -1}]\n",
     {"x.yaml:6:54:", "search.stages[0].train_subset: '-1' is out of range; it must be >= 0"}},
};

/* Lists longer than their bound: the bound is named. */
static void test_limits(void) {
    static char text[8192];
    size_t o = (size_t)snprintf(text, sizeof text, "data:\n  format: cifar10\n  train_files:\n");
    for (int i = 0; i < HP_MAX_DATA_FILES + 1; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "    - data_batch_%d.bin\n", i + 1);
    o += (size_t)snprintf(text + o, sizeof text - o, "%s", MODEL);
    hp_spec s;
    hp_err err = {{0}};
    static const char *const want_files[] = {"x.yaml:20:7:", "data.train_files: 17 files, more than the 16 allowed",
                                             NULL};
    spec_expect_fail("too many files", hp_spec_parse(text, o, "x.yaml", &s, &err), &s, &err, want_files);

    o = (size_t)snprintf(text, sizeof text, "%s", MODEL "train:\n  epochs: 99\n  schedule:\n    type: multistep\n"
                                                        "    milestones: [");
    for (int i = 0; i < HP_MAX_MILESTONES + 1; i++) o += (size_t)snprintf(text + o, sizeof text - o, "%s%d", i ? ", " : "", i + 1);
    o += (size_t)snprintf(text + o, sizeof text - o, "]\n");
    /* "    milestones: [1, 2, ..., 16, " is 17 + 3*9 + 4*7 columns: the 17th starts at column 73 */
    static const char *const want_ms[] = {"x.yaml:8:73:", "train.schedule.milestones: 17 milestones, more than the 16 allowed",
                                          NULL};
    spec_expect_fail("too many milestones", hp_spec_parse(text, o, "x.yaml", &s, &err), &s, &err, want_ms);
}

int main(void) {
    test_cnn_full();
    test_layer_defaults();
    test_optim_defaults();
    test_sched_defaults();
    test_train_and_data();
    test_cnn_examples();
    spec_run_bad(bad_cases, sizeof bad_cases / sizeof bad_cases[0]);
    test_limits();
    return hp_check_summary("test_spec_cnn");
}
