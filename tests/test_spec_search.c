/* test_spec_search.c - the spec parser on what a search varies and how a trial gets it:
 * search.params (a place of each kind, read and dumped), promote stages, a trial's spec
 * (hp_spec_for_trial: the values set at their places), layer names in search paths, and the
 * trainer: section of an external program; each refused with its line and column.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#include "spec_helpers.h"

/* ---- refused, with the line and column of the fault ------------------------------------- */

static const spec_bad_case search_cases[] = {
    /* search.params: a place in the spec (PHEAD: the parameter is on line 11, its key at column 5) */
    {"param path does not exist", PHEAD "    optimizer.momentm: {low: 0.1, high: 0.5, scale: linear}\n" PTAIL,
     {"x.yaml:11:5:", "search.params.optimizer.momentm: the value 0.1 (low) does not work in the spec: "
      "unknown key 'momentm' in optimizer (type: sgd)", "did you mean 'momentum'?"}},
    {"param index out of range", PHEAD "    model.layers.9.p: {low: 0.1, high: 0.5, scale: linear}\n" PTAIL,
     {"x.yaml:11:5:", "search.params.model.layers.9.p: the value 0.1 (low) does not work in the spec: "
      "model.layers.9.p: index 9 is out of range; the list 'model.layers' has 4 items (0 to 3)"}},
    {"param key does not apply", PHEAD "    model.layers.1.p: {low: 0.1, high: 0.5, scale: linear}\n" PTAIL,
     {"x.yaml:11:5:", "search.params.model.layers.1.p: the value 0.1 (low) does not work in the spec: "
      "model.layers[1]: key 'p' (set to '0.1') does not apply to type relu, only to dropout"}},
    {"param dropout high 1", PHEAD "    model.layers.2.p: {low: 0, high: 1.0, scale: linear}\n" PTAIL,
     {"x.yaml:11:5:", "search.params.model.layers.2.p: the value 1 (high) does not work in the spec: "
      "model.layers[2].p: '1' is out of range; it must be in [0, 1)"}},
    {"param batch size low 0", PHEAD "    train.batch_size: {low: 0, high: 64, scale: int}\n" PTAIL,
     {"x.yaml:11:5:", "search.params.train.batch_size: the value 0 (low) does not work in the spec: "
      "train.batch_size: '0' is out of range; it must be >= 1"}},
    {"param int low 8.5", PHEAD "    train.batch_size: {low: 8.5, high: 64, scale: int}\n" PTAIL,
     {"x.yaml:11:29:", "search.params.train.batch_size.low: 8.5 is not an integer; scale int takes whole numbers"}},
    {"param int_log high 64.5", PHEAD "    train.batch_size: {low: 8, high: 64.5, scale: int_log}\n" PTAIL,
     {"x.yaml:11:38:", "search.params.train.batch_size.high: 64.5 is not an integer; scale int_log takes whole numbers"}},
    {"param int_log low 0", PHEAD "    train.batch_size: {low: 0, high: 64, scale: int_log}\n" PTAIL,
     {"x.yaml:11:29:", "search.params.train.batch_size.low: 0 must be > 0 on a log scale (or use scale: int)"}},
    {"param bound refused", PHEAD "    optimizer.momentum: {low: 0.5, high: 0.9, scale: linear, bounds: [0, 1]}\n" PTAIL,
     {"x.yaml:11:5:", "search.params.optimizer.momentum: the value 1 (a bound) does not work in the spec: "
      "optimizer.momentum: '1' is out of range; it must be in [0, 1)"}},
    {"param in data", PHEAD "    data.val_size: {low: 100, high: 1000, scale: int}\n" PTAIL,
     {"x.yaml:11:5:", "search.params: 'data.val_size' is not in a section a trial can vary; a searched parameter "
      "lives under model., optimizer. or train."}},
    {"param train.epochs", PHEAD "    train.epochs: {low: 1, high: 5, scale: int}\n" PTAIL,
     {"x.yaml:11:5:", "search.params: train.epochs cannot be searched: each stage sets its trials' epochs "
      "(search.stages[i].epochs)"}},
    {"param bad path", PHEAD "    optimizer..lr: {low: 0.1, high: 0.5}\n" PTAIL,
     {"x.yaml:11:5:", "search.params: 'optimizer..lr' is not a place in the spec"}},
    /* layer names (model.layers[i].name) and search paths through them */
    {"layer name twice", "model:\n  layers:\n    - {type: dense, units: 8, name: a}\n    - {type: relu, name: a}\n",
     {"x.yaml:4:26:", "model.layers[1].name: 'a' is already the name of layer 0 (line 3); each layer's name must be "
      "its own"}},
    {"layer name a number", "model:\n  layers:\n    - {type: dense, units: 8, name: 7}\n",
     {"x.yaml:3:37:", "model.layers[0].name: '7' is not a layer name; use a letter or '_' first"}},
    {"layer name with a dot", "model:\n  layers:\n    - {type: dense, units: 8, name: a.b}\n",
     {"x.yaml:3:37:", "model.layers[0].name: 'a.b' is not a layer name"}},
    {"layer name too long", "model:\n  layers:\n    - {type: dense, units: 8, name: abcdefghijabcdefghijabcdefghijab}\n",
     {"x.yaml:3:37:", "model.layers[0].name: 'abcdefghijabcdefghijabcdefghijab' is too long: 32 bytes, at most 31"}},
    {"param layer name unknown", PHEAD "    model.layers.dropp.p: {low: 0.1, high: 0.5, scale: linear}\n" PTAIL,
     {"x.yaml:11:5:", "search.params.model.layers.dropp.p: the value 0.1 (low) does not work in the spec: "
      "model.layers.dropp.p: no item of the list 'model.layers' has name: dropp; give an item's index (0 to 3) or "
      "its name (no item has a name:)"}},
    /* init_seed: hpsweep train's (export --spec writes it), not a sweep's nor an external trainer's */
    {"init_seed in a sweep", "init_seed: 5\n" MODEL SEARCH_LR "  stages: [{method: random, trials: 2}]\n",
     {"x.yaml:1:12:", "init_seed: each trial of a sweep gets its own seed from seed; init_seed is for 'hpsweep train'"}},
    {"init_seed with a trainer", "init_seed: 5\n" EXT EXT_SEARCH,
     {"x.yaml:1:12:", "init_seed: an external trainer seeds itself (HPSWEEP_SEED)"}},
    {"init_seed negative", "init_seed: -1\n" MODEL, {"x.yaml:1:12:", "init_seed"}},
    {"param lr twice", PHEAD "    lr: {low: 1.0e-3, high: 1.0}\n    optimizer.lr: {low: 1.0e-3, high: 1.0}\n" PTAIL,
     {"x.yaml:12:5:", "search.params: optimizer.lr is listed twice (as lr and optimizer.lr)"}},
    {"param wd twice", PHEAD "    optimizer.weight_decay: {low: 1.0e-6, high: 1.0e-2}\n"
     "    weight_decay: {low: 1.0e-6, high: 1.0e-2}\n" PTAIL,
     {"x.yaml:12:5:", "search.params: optimizer.weight_decay is listed twice (as optimizer.weight_decay and weight_decay)"}},
    {"param listed twice", PHEAD "    optimizer.momentum: {low: 0.1, high: 0.5, scale: linear}\n"
     "    optimizer.momentum: {low: 0.2, high: 0.5, scale: linear}\n" PTAIL,
     {"x.yaml:12:5:", "search.params: optimizer.momentum is listed twice"}},
    {"choice with low", PHEAD "    optimizer.type: {choice: [sgd, adam], low: 0}\n" PTAIL,
     {"x.yaml:11:43:", "search.params.optimizer.type: a choice takes only 'choice: [values]', not low, high or bounds"}},
    {"choice with bounds", PHEAD "    optimizer.type: {choice: [sgd, adam], bounds: [0, 1]}\n" PTAIL,
     {"x.yaml:11:43:", "search.params.optimizer.type: a choice takes only 'choice: [values]', not low, high or bounds"}},
    {"choice of one", PHEAD "    optimizer.type: {choice: [sgd]}\n" PTAIL,
     {"x.yaml:11:30:", "search.params.optimizer.type.choice: 1 values, fewer than the 2 needed"}},
    {"choice listed twice", PHEAD "    optimizer.type: {choice: [sgd, adam, sgd]}\n" PTAIL,
     {"x.yaml:11:42:", "search.params.optimizer.type.choice[2]: 'sgd' is listed twice"}},
    {"choice refused by the spec", PHEAD "    optimizer.type: {choice: [sgd, lamb]}\n" PTAIL,
     {"x.yaml:11:5:", "search.params.optimizer.type: the value lamb (a choice) does not work in the spec: "
      "optimizer.type: unknown value 'lamb'"}},
    {"lr choice of words", PHEAD "    lr: {choice: [fast, slow]}\n" PTAIL,
     {"x.yaml:11:18:", "search.params.lr: a choice is for other parameters; lr takes a range"}},
    {"lr choice of numbers", PHEAD "    lr: {choice: [0.1, 0.01]}\n" PTAIL,
     {"x.yaml:11:18:", "search.params.lr: a choice is for other parameters; lr takes a range"}},
    {"index with a leading zero", PHEAD "    model.layers.02.p: {low: 0.1, high: 0.2, scale: linear}\n" PTAIL,
     {"x.yaml:11:5:", "'model.layers.02.p' is not a place in the spec"}},
    /* promote stages (docs/search.md, "Promotion") */
    {"promote stage 0", MODEL SEARCH_LR "  stages:\n    - {method: promote, epochs: 2}\n",
     {"x.yaml:8:16:", "search.stages[0].method: 'promote'", "stage 0 has none"}},
    {"promote with trials", MODEL SEARCH_LR "  stages:\n    - {method: random, trials: 4}\n    - {method: promote, epochs: 2, trials: 3}\n",
     {"x.yaml:9:36:", "search.stages[1]: 'trials' is not a key of a promote stage", "top_k, epochs and train_subset"}},
    {"promote with prune", MODEL SEARCH_LR "  stages:\n    - {method: random, trials: 4}\n    - {method: promote, epochs: 2, prune: {rule: median}}\n",
     {"x.yaml:9:36:", "'prune' is not a key of a promote stage"}},
    {"promote without epochs", MODEL SEARCH_LR "  stages:\n    - {method: random, trials: 4}\n    - {method: promote, top_k: 2}\n",
     {"x.yaml:9:7:", "search.stages[1]: a promote stage needs 'epochs'"}},
    {"promote top_k 0", MODEL SEARCH_LR "  stages:\n    - {method: random, trials: 4}\n    - {method: promote, top_k: 0, epochs: 2}\n",
     {"x.yaml:9:32:", "search.stages[1].top_k: '0' is out of range"}},
    {"promote with cosine", MODEL SEARCH_LR "  stages:\n    - {method: random, trials: 4}\n    - {method: promote, epochs: 2}\n"
     "train: {epochs: 2, schedule: {type: cosine}}\n",
     {"x.yaml:9:16:", "search.stages[1].method", "'cosine' already annealed to min_lr", "constant, step"}},
};

static void test_bad_search(void) { spec_run_bad(search_cases, sizeof search_cases / sizeof search_cases[0]); }

/* ---- search.params: any hyperparameter ---------------------------------------------------- */

/* A spec that searches a place of each kind: a log and a linear real, an int and an int_log
 * integer, a choice of words (optimizer.type, so trial specs are read leniently) and a choice of
 * numbers; then a grid stage, whose trials are the product of 2 points per range and every
 * value of each choice. */
#define PARAMS_SPEC                                                                                 \
    PMODEL "optimizer: {type: sgd, lr: 0.05, momentum: 0.9}\ntrain: {batch_size: 32, epochs: 3}\n"\
           "search:\n  params:\n"                                                                  \
           "    lr: {low: 1.0e-3, high: 1.0}\n"                                                    \
           "    optimizer.momentum: {low: 0.5, high: 0.95, scale: linear}\n"                       \
           "    model.layers.2.p: {low: 0.0, high: 0.5, scale: linear, bounds: [0, 0.75]}\n"      \
           "    train.batch_size: {low: 16, high: 256, scale: int_log}\n"                          \
           "    model.layers.0.units: {low: 8, high: 64, scale: int}\n"                            \
           "    optimizer.type: {choice: [sgd, adam, adamw]}\n"                                    \
           "    train.schedule.warmup_epochs: {choice: [0, 1]}\n"                                  \
           "  stages:\n    - {method: random, trials: 4, epochs: 3}\n    - {method: grid, points: 2}\n"

static void check_range(const hp_param_range *r, const char *name, const char *path, hp_scale scale, double low,
                        double high, double blo, double bhi) {
    CHECK(r->enabled == 1 && strcmp(r->name, name) == 0 && strcmp(r->path, path) == 0 && r->scale == scale,
          "%s: enabled %d name '%s' path '%s' scale %d (want %s, %s, %d)", name, r->enabled, r->name, r->path,
          (int)r->scale, name, path, (int)scale);
    CHECK(r->low == low && r->high == high, "%s: range [%.17g, %.17g], want [%g, %g]", name, r->low, r->high, low,
          high);
    CHECK(r->bound_low == blo && r->bound_high == bhi, "%s: bounds [%g, %g], want [%g, %g]", name, r->bound_low,
          r->bound_high, blo, bhi);
}

static void check_params_spec(const hp_spec *s, const char *label) {
    const hp_search_spec *ss = &s->search;
    CHECK(ss->nparams == 8, "%s: nparams %d, want 8 (lr, weight_decay, 6 places)", label, ss->nparams);
    CHECK(ss->lenient == 1, "%s: a choice of optimizer.type makes trial specs lenient (got %d)", label, ss->lenient);
    if (ss->nparams != 8) return;
    check_range(&ss->params[0], "lr", "optimizer.lr", HP_SCALE_LOG, 1e-3, 1.0, 0, INFINITY);
    CHECK(ss->params[1].enabled == 0 && strcmp(ss->params[1].name, "weight_decay") == 0 &&
              strcmp(ss->params[1].path, "optimizer.weight_decay") == 0,
          "%s: weight_decay slot present, not searched (enabled %d, name '%s')", label, ss->params[1].enabled,
          ss->params[1].name);
    /* other parameters: default bounds are their range (no widening past it) */
    check_range(&ss->params[2], "optimizer.momentum", "optimizer.momentum", HP_SCALE_LINEAR, 0.5, 0.95, 0.5, 0.95);
    check_range(&ss->params[3], "model.layers.2.p", "model.layers.2.p", HP_SCALE_LINEAR, 0, 0.5, 0, 0.75);
    check_range(&ss->params[4], "train.batch_size", "train.batch_size", HP_SCALE_INT_LOG, 16, 256, 16, 256);
    check_range(&ss->params[5], "model.layers.0.units", "model.layers.0.units", HP_SCALE_INT, 8, 64, 8, 64);
    const hp_param_range *ty = &ss->params[6], *wu = &ss->params[7];
    CHECK(ty->enabled && ty->scale == HP_SCALE_CHOICE && ty->nchoices == 3 && !strcmp(ty->choices[0], "sgd") &&
              !strcmp(ty->choices[1], "adam") && !strcmp(ty->choices[2], "adamw") && ty->numeric_choices == 0 &&
              ty->low == 0 && ty->high == 2 && !strcmp(ty->path, "optimizer.type"),
          "%s: optimizer.type choice: scale %d, %d choices, numeric %d, [%g, %g]", label, (int)ty->scale,
          ty->nchoices, ty->numeric_choices, ty->low, ty->high);
    CHECK(wu->enabled && wu->scale == HP_SCALE_CHOICE && wu->nchoices == 2 && wu->numeric_choices == 1 &&
              wu->choice_num[0] == 0 && wu->choice_num[1] == 1 && !strcmp(wu->choices[1], "1"),
          "%s: numeric choice: %d choices, numeric %d, values %g %g", label, wu->nchoices, wu->numeric_choices,
          wu->choice_num[0], wu->choice_num[1]);
    CHECK(ss->nstages == 2 && ss->stages[0].trials == 4 && ss->stages[1].points == 2,
          "%s: stages %d, trials %d, points %d", label, ss->nstages, ss->stages[0].trials, ss->stages[1].points);
    /* grid: lr, momentum, p, batch_size, units: 2 points each; type 3 values, warm-up 2 values */
    CHECK(ss->stages[1].trials == 32 * 3 * 2, "%s: grid trials %d, want 2^5 * 3 * 2 = 192", label,
          ss->stages[1].trials);
}

static void test_params(void) {
    hp_spec s;
    if (spec_parse_ok(PARAMS_SPEC, &s, "params spec") != 0) return;
    check_params_spec(&s, "params spec");
    /* the values as a trial's spec gets them, and as /trials records them */
    const hp_param_range *p = s.search.params;
    char buf[64];
    CHECK(strcmp(hp_param_text(&p[2], 0.1 + 0.2, buf, sizeof buf), "0.30000000000000004") == 0,
          "a real's text reads back to the same double: %s", buf);
    CHECK(strcmp(hp_param_text(&p[4], 64, buf, sizeof buf), "64") == 0, "an integer's text: %s", buf);
    CHECK(strcmp(hp_param_text(&p[6], 1, buf, sizeof buf), "adam") == 0, "a choice's text: %s", buf);
    CHECK(strcmp(hp_param_text(&p[7], 1, buf, sizeof buf), "1") == 0, "a numeric choice's text: %s", buf);
    CHECK(hp_param_number(&p[2], 0.625) == 0.625 && hp_param_number(&p[4], 128) == 128,
          "a range's number is its value");
    CHECK(isnan(hp_param_number(&p[6], 1)), "a choice of words records NaN as its number");
    CHECK(hp_param_number(&p[7], 1) == 1.0 && hp_param_number(&p[7], 0) == 0.0, "a numeric choice records its number");
    CHECK(!hp_param_is_text(&p[2]) && !hp_param_is_text(&p[4]) && hp_param_is_text(&p[6]) && !hp_param_is_text(&p[7]),
          "only a choice of words is a text column");
    CHECK(strcmp(hp_scale_name(HP_SCALE_INT), "int") == 0 && strcmp(hp_scale_name(HP_SCALE_INT_LOG), "int_log") == 0 &&
              strcmp(hp_scale_name(HP_SCALE_CHOICE), "choice") == 0,
          "scale names");

    /* the dump reads back with every parameter as it was */
    hp_spec back;
    if (spec_roundtrip(&s, &back, "params dump") == 0) {
        check_params_spec(&back, "params dump");
        for (int i = HP_NFIXED_PARAMS; i < s.search.nparams && i < back.search.nparams; i++) {
            const hp_param_range *a = &s.search.params[i], *b = &back.search.params[i];
            int same = !strcmp(a->name, b->name) && !strcmp(a->path, b->path) && a->scale == b->scale &&
                       a->low == b->low && a->high == b->high && a->bound_low == b->bound_low &&
                       a->bound_high == b->bound_high && a->nchoices == b->nchoices &&
                       a->numeric_choices == b->numeric_choices;
            for (int c = 0; c < a->nchoices; c++) same &= !strcmp(a->choices[c], b->choices[c]);
            CHECK(same, "params dump: parameter %d (%s) differs after the round trip", i, a->name);
        }
        hp_spec_free(&back);
    }
    hp_spec_free(&s);

    /* a grid of choices only needs no points */
    const char *only_choices = PMODEL "search:\n  params:\n    optimizer.type: {choice: [sgd, adam]}\n"
                                      "  stages: [{method: grid}]\n";
    if (spec_parse_ok(only_choices, &s, "grid of a choice") == 0) {
        CHECK(s.search.stages[0].trials == 2 && s.search.nparams == 3 && s.search.params[0].enabled == 0,
              "grid of one choice of 2: trials %d nparams %d", s.search.stages[0].trials, s.search.nparams);
        hp_spec_free(&s);
    }
    /* no choice of a .type: trial specs stay strict */
    const char *strict = PMODEL "search:\n  params:\n    optimizer.momentum: {low: 0.1, high: 0.5, scale: linear}\n"
                                "  stages: [{method: random, trials: 2}]\n";
    if (spec_parse_ok(strict, &s, "strict") == 0) {
        CHECK(s.search.lenient == 0 && s.search.nparams == 3, "lenient %d without a .type choice", s.search.lenient);
        hp_spec_free(&s);
    }
}

/* A promote stage: read (top_k, epochs, train_subset), and round trip through the dump. */
static void test_promote(void) {
    hp_spec s;
    if (spec_parse_ok(MODEL SEARCH_LR "  stages:\n    - {method: random, trials: 4}\n"
                                      "    - {method: promote, top_k: 2, epochs: 3, train_subset: 100}\n",
                      &s, "promote") == 0) {
        const hp_stage_spec *st = &s.search.stages[1];
        CHECK(s.search.nstages == 2 && st->method == HP_METHOD_PROMOTE && st->top_k == 2 && st->epochs == 3 &&
                  st->train_subset == 100 && st->prune.rule == HP_PRUNE_NONE,
              "promote stage read: top_k 2, epochs 3, train_subset 100");
        hp_spec back;
        if (spec_roundtrip(&s, &back, "promote round trip") == 0) hp_spec_free(&back);
        hp_spec_free(&s);
    }
}

/* hp_spec_for_trial: each value lands at its place, the base stays as it was. */
static void test_for_trial(void) {
    hp_spec base;
    if (spec_parse_ok(PARAMS_SPEC, &base, "for trial base") != 0) return;
    /* lr, wd (not searched: ignored), momentum, p, batch_size, units, type, warm-up */
    double v[HP_MAX_PARAMS] = {0.0125, 123.0, 0.1 + 0.2, 0.375, 64, 24, 0 /* sgd */, 1 /* warm-up 1 */};
    hp_spec t;
    hp_err err = {{0}};
    int rc = hp_spec_for_trial(&base, v, &t, &err);
    CHECK(rc == 0, "for_trial sgd: %s", err.msg);
    if (rc == 0) {
        CHECK(t.optim.type == HP_OPTIM_SGD && t.optim.lr == 0.0125 && t.optim.momentum == 0.1 + 0.2 &&
                  t.optim.weight_decay == 0,
              "sgd trial: type %d lr %.17g momentum %.17g wd %g", (int)t.optim.type, t.optim.lr, t.optim.momentum,
              t.optim.weight_decay);
        CHECK(t.model.nlayers == 4 && t.model.layers[2].type == HP_LAYER_DROPOUT && t.model.layers[2].p == 0.375 &&
                  t.model.layers[0].units == 24 && t.model.layers[3].units == 10,
              "sgd trial: dropout p %.17g, units %d", t.model.layers[2].p, t.model.layers[0].units);
        CHECK(t.train.batch_size == 64 && t.train.schedule.warmup_epochs == 1 && t.train.epochs == base.train.epochs,
              "sgd trial: batch %d warm-up %d", t.train.batch_size, t.train.schedule.warmup_epochs);
        CHECK(t.text == NULL && t.text_len == 0 && t.has_search && t.search.nparams == 8,
              "a trial's spec owns no text and keeps the search");
        hp_spec_free(&t);
    }
    /* adam: the spec's momentum belongs to sgd; the choice of optimizer.type lets the trial drop it */
    v[6] = 1, v[7] = 0, v[4] = 256, v[5] = 8;
    rc = hp_spec_for_trial(&base, v, &t, &err);
    CHECK(rc == 0, "for_trial adam with the spec's momentum: %s", err.msg);
    if (rc == 0) {
        CHECK(t.optim.type == HP_OPTIM_ADAM && t.optim.lr == 0.0125 && t.optim.momentum == 0 && t.optim.beta1 == 0.9 &&
                  t.optim.beta2 == 0.999,
              "adam trial: type %d momentum %g beta1 %g beta2 %g", (int)t.optim.type, t.optim.momentum, t.optim.beta1,
              t.optim.beta2);
        CHECK(t.train.batch_size == 256 && t.model.layers[0].units == 8 && t.train.schedule.warmup_epochs == 0,
              "adam trial: batch %d units %d warm-up %d", t.train.batch_size, t.model.layers[0].units,
              t.train.schedule.warmup_epochs);
        hp_spec_free(&t);
    }
    v[6] = 2;
    rc = hp_spec_for_trial(&base, v, &t, &err);
    CHECK(rc == 0 && t.optim.type == HP_OPTIM_ADAMW, "for_trial adamw: %s", err.msg);
    if (rc == 0) hp_spec_free(&t);
    /* the base is untouched */
    CHECK(base.optim.type == HP_OPTIM_SGD && base.optim.momentum == 0.9 && base.optim.lr == 0.05 &&
              base.model.layers[2].p == 0.1 && base.train.batch_size == 32 && base.model.layers[0].units == 32 &&
              base.text != NULL,
          "base spec unchanged: momentum %g p %g batch %d", base.optim.momentum, base.model.layers[2].p,
          base.train.batch_size);
    /* a value the spec refuses fails with the spec's message */
    v[6] = 0, v[3] = 1.0;
    memset(&t, 0xAB, sizeof t);
    rc = hp_spec_for_trial(&base, v, &t, &err);
    CHECK(rc == -1 && strstr(err.msg, "model.layers[2].p: '1' is out of range"), "p 1 refused: rc %d: %s", rc,
          err.msg);
    hp_spec_free(&base);

    /* no choice of a .type: a strict reading, the momentum set, lr the optimizer's default */
    const char *strict = PMODEL "optimizer: {type: sgd, momentum: 0.9}\n"
                                "search:\n  params:\n    optimizer.momentum: {low: 0.1, high: 0.5, scale: linear}\n"
                                "  stages: [{method: random, trials: 2}]\n";
    if (spec_parse_ok(strict, &base, "strict for trial") == 0) {
        double w[HP_MAX_PARAMS] = {0, 0, 0.25};
        rc = hp_spec_for_trial(&base, w, &t, &err);
        CHECK(rc == 0 && t.optim.momentum == 0.25 && t.optim.lr == 0.01, "strict trial: momentum %g lr %g: %s",
              rc ? -1 : t.optim.momentum, rc ? -1 : t.optim.lr, err.msg);
        if (rc == 0) hp_spec_free(&t);
        hp_spec_free(&base);
    }

    /* lr and weight_decay only: a copy with the two set */
    if (spec_parse_ok(MODEL "optimizer: {lr: 0.5}\n" SEARCH_LR "  stages: [{method: random, trials: 2}]\n", &base,
                      "lr only") == 0) {
        double w[HP_MAX_PARAMS] = {0.03125, 7};
        rc = hp_spec_for_trial(&base, w, &t, &err);
        CHECK(rc == 0 && t.optim.lr == 0.03125 && t.optim.weight_decay == 0 && t.text == NULL,
              "lr-only trial: lr %g wd %g", t.optim.lr, t.optim.weight_decay);
        if (rc == 0) hp_spec_free(&t);
        hp_spec_free(&base);
    }
}

/* Layer names: read, dumped and read back; a search path may name a layer instead of giving its
 * index, and a trial's spec then sets that layer's key (and no other's). */
static void test_layer_names(void) {
    const char *text = "model:\n  layers:\n    - {type: dense, units: 32, name: hidden}\n    - {type: relu}\n"
                       "    - {type: dropout, p: 0.1, name: drop}\n    - {type: dense, units: 10, name: _out2}\n"
                       "optimizer: {type: sgd, lr: 0.05, momentum: 0.9}\n"
                       "search:\n  params:\n    model.layers.drop.p: {low: 0.0, high: 0.5, scale: linear}\n"
                       "    model.layers.hidden.units: {low: 8, high: 64, scale: int}\n"
                       "  stages: [{method: random, trials: 2}]\n";
    hp_spec s;
    if (spec_parse_ok(text, &s, "layer names") != 0) return;
    CHECK(!strcmp(s.model.layers[0].name, "hidden") && s.model.layers[1].name[0] == '\0' &&
              !strcmp(s.model.layers[2].name, "drop") && !strcmp(s.model.layers[3].name, "_out2"),
          "layer names: '%s' '%s' '%s' '%s'", s.model.layers[0].name, s.model.layers[1].name, s.model.layers[2].name,
          s.model.layers[3].name);
    const hp_param_range *p = s.search.params;
    CHECK(s.search.nparams == 4 && !strcmp(p[2].name, "model.layers.drop.p") && !strcmp(p[2].path, "model.layers.drop.p") &&
              !strcmp(p[3].name, "model.layers.hidden.units"),
          "named params: %d, '%s', '%s'", s.search.nparams, p[2].name, p[3].name);
    hp_spec back;
    if (spec_roundtrip(&s, &back, "layer names round trip") == 0) {
        CHECK(!strcmp(back.model.layers[0].name, "hidden") && !strcmp(back.model.layers[2].name, "drop") &&
                  back.model.layers[1].name[0] == '\0' && back.search.nparams == 4,
              "names after the dump: '%s' '%s'", back.model.layers[0].name, back.model.layers[2].name);
        hp_spec_free(&back);
    }
    double v[HP_MAX_PARAMS] = {0.05, 0, 0.375, 24};
    hp_spec t;
    hp_err err = {{0}};
    int rc = hp_spec_for_trial(&s, v, &t, &err);
    CHECK(rc == 0, "named trial: %s", err.msg);
    if (rc == 0) {
        CHECK(t.model.layers[2].p == 0.375 && t.model.layers[0].units == 24 && t.model.layers[3].units == 10 &&
                  !strcmp(t.model.layers[2].name, "drop"),
              "named trial: p %g units %d, last units %d", t.model.layers[2].p, t.model.layers[0].units,
              t.model.layers[3].units);
        hp_spec_free(&t);
    }
    hp_spec_free(&s);
}

/* A trainer: spec: the command, the defaults, names of any kind, and the dump reads back. */
static void test_external_spec(void) {
    hp_spec s;
    const char *text = "name: ext\ntrainer:\n  command: [python3, train.py, --lr, \"{lr}\", --act, \"{act}\"]\n"
                       "  test: [python3, train.py, --test]\n  workdir: runs\ntrain: {epochs: 4, diverge_factor: 3}\n"
                       "search:\n  params:\n    lr: {low: 1.0e-4, high: 1}\n    hidden-units: {low: 16, high: 256, "
                       "scale: int_log}\n    act: {choice: [relu, tanh]}\n"
                       "  stages: [{method: random, trials: 3}]\n";
    if (spec_parse_ok(text, &s, "external") != 0) return;
    const hp_external_spec *e = &s.ext;
    CHECK(e->enabled && e->argc == 6 && !strcmp(e->argv[0], "python3") && !strcmp(e->argv[3], "{lr}") &&
              e->test_argc == 3 && !strcmp(e->test_argv[2], "--test") && !strcmp(e->workdir, "runs"),
          "external: argc %d test_argc %d workdir '%s'", e->argc, e->test_argc, e->workdir);
    CHECK(!strcmp(e->objective, "val_acc") && e->maximize == 1 && e->grace == 10 && e->epoch_timeout == 0,
          "external defaults: objective %s maximize %d grace %g timeout %g", e->objective, e->maximize, e->grace,
          e->epoch_timeout);
    CHECK(s.train.epochs == 4 && s.train.diverge_factor == 3 && s.search.stages[0].epochs == 4,
          "external train: epochs %d diverge %g", s.train.epochs, s.train.diverge_factor);
    CHECK(s.search.nparams == 4 && !strcmp(s.search.params[2].name, "hidden-units") &&
              s.search.params[2].scale == HP_SCALE_INT_LOG && s.search.params[3].scale == HP_SCALE_CHOICE &&
              s.search.lenient == 0 && isnan(s.optim.lr),
          "external params: nparams %d, '%s'", s.search.nparams, s.search.params[2].name);
    hp_spec back;
    if (spec_roundtrip(&s, &back, "external round trip") == 0) {
        CHECK(back.ext.enabled && back.ext.argc == 6 && !strcmp(back.ext.argv[5], "{act}") && back.ext.test_argc == 3 &&
                  !strcmp(back.ext.workdir, "runs") && back.search.nparams == 4,
              "external round trip: argc %d", back.ext.argc);
        hp_spec_free(&back);
    }
    /* whole numbers dump as written: "grace: 10", not "1e+01" */
    char *dump = NULL;
    size_t dlen = 0;
    FILE *f = open_memstream(&dump, &dlen);
    CHECK(f != NULL, "open_memstream failed");
    if (f) {
        hp_err err = {{0}};
        CHECK(hp_spec_dump(&s, f, &err) == 0, "external dump: %s", err.msg);
        CHECK(fclose(f) == 0, "external dump: fclose");
        CHECK(dump && strstr(dump, "\n  grace: 10\n") && strstr(dump, "\n  epoch_timeout: 0\n"),
              "external dump: whole numbers as written:\n%s", dump ? dump : "(none)");
        free(dump);
    }
    hp_spec_free(&s);
    /* another objective with its direction */
    if (spec_parse_ok(EXT "  objective: val_loss\n  maximize: false\n" EXT_SEARCH, &s, "minimised objective") == 0) {
        CHECK(s.ext.maximize == -1 && !strcmp(s.ext.objective, "val_loss"), "val_loss minimised: %d", s.ext.maximize);
        hp_spec_free(&s);
    }
}

int main(void) {
    test_bad_search();
    test_params();
    test_for_trial();
    test_promote();
    test_layer_names();
    test_external_spec();
    return hp_check_summary("test_spec_search");
}
