/* spec.c - the sweep spec: the top level, the data and search sections, the checks across
 * sections (see spec.h and docs/spec.md), and the public API. The model section is read in
 * spec_model.c, optimizer and train in spec_train.c, the writer is spec_dump.c; the YAML
 * mechanics (loading, typed fields, messages) are in spec_yaml.c. */
#include "spec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_parts.h"

/* Largest stage and class count the parser accepts (see also spec_parts.h). */
#define SPEC_MAX_TRIALS (1 << 20)
#define SPEC_MAX_POINTS 1024
#define SPEC_MAX_CLASSES 65536

/* ---- names ------------------------------------------------------------------------------- */
static const char *const device_names[] = {"auto", "cpu", "cuda"};
static const char *const method_names[] = {"random", "grid", "promote"};
static const char *const param_names[] = {"lr", "weight_decay"};
enum { FORMAT_IDX, FORMAT_CIFAR10, FORMAT_COUNT };
static const char *const format_names[FORMAT_COUNT] = {"idx", "cifar10"};
_Static_assert(NELEM(param_names) == HP_NFIXED_PARAMS, "one name per parameter with a short name");

static const char *name_of(const char *const *names, int n, int i) {
    return (i >= 0 && i < n) ? names[i] : "?";
}
const char *hp_param_name(hp_param p) { return name_of(param_names, NELEM(param_names), (int)p); }
const char *hp_device_name(hp_device d) { return name_of(device_names, NELEM(device_names), (int)d); }
const char *hp_method_name(hp_method m) { return name_of(method_names, NELEM(method_names), (int)m); }

static void set_defaults(hp_spec *s) {
    hp_data_spec *d = &s->data;
    snprintf(d->format, sizeof d->format, "%s", format_names[0]);
    snprintf(d->dir, sizeof d->dir, "%s", "/usr/share/datasets/fashion-mnist");
    snprintf(d->train_images, sizeof d->train_images, "%s", "train-images-idx3-ubyte.gz");
    snprintf(d->train_labels, sizeof d->train_labels, "%s", "train-labels-idx1-ubyte.gz");
    snprintf(d->test_images, sizeof d->test_images, "%s", "t10k-images-idx3-ubyte.gz");
    snprintf(d->test_labels, sizeof d->test_labels, "%s", "t10k-labels-idx1-ubyte.gz");
    d->nclasses = 10;
    d->val_size = 5000;
    d->train_subset = 0;
    d->val_subset = 0;
    d->standardize = 1;
    s->seed = 0;
    s->device = HP_DEVICE_AUTO;
    s->cuda = (hp_gpu_opts){.deterministic = 1, .allow_tf32 = 0, .workspace_max = 0};
    spec_optim_defaults(&s->optim, HP_OPTIM_SGD);
    spec_train_defaults(&s->train);
    s->has_search = 0;
    s->search.nparams = HP_NFIXED_PARAMS;
    for (int p = 0; p < HP_NFIXED_PARAMS; p++) {
        s->search.params[p] = (hp_param_range){.enabled = 0, .scale = HP_SCALE_LOG, .bound_low = 0,
                                               .bound_high = INFINITY};
        snprintf(s->search.params[p].name, sizeof s->search.params[p].name, "%s", param_names[p]);
        snprintf(s->search.params[p].path, sizeof s->search.params[p].path, "optimizer.%s", param_names[p]);
    }
    s->search.nstages = 0;
    s->final.ensemble = 1;
    s->search.keep_snapshots = 0;
}

/* The default name: the file name without its directory and extension. */
static void default_name(const char *path, char *name, size_t cap) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    const char *dot = strrchr(base, '.');
    if (dot && dot != base) n = (size_t)(dot - base);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)base[n] & 0xC0) == 0x80) n--; /* keep UTF-8 whole */
    }
    if (n == 0) {
        snprintf(name, cap, "spec");
        return;
    }
    memcpy(name, base, n);
    name[n] = '\0';
}

/* ---- sections ----------------------------------------------------------------------------- */

/* The CIFAR-10 binary distribution (cifar-10-binary.tar.gz unpacks to cifar-10-batches-bin):
 * five training batches of 10000 images and one test batch. */
static void cifar10_defaults(hp_data_spec *ds) {
    snprintf(ds->dir, sizeof ds->dir, "%s", "/usr/share/datasets/cifar-10-batches-bin");
    ds->ntrain_files = 5;
    for (int i = 0; i < 5; i++) snprintf(ds->train_files[i], sizeof ds->train_files[i], "data_batch_%d.bin", i + 1);
    ds->ntest_files = 1;
    snprintf(ds->test_files[0], sizeof ds->test_files[0], "%s", "test_batch.bin");
}

static int parse_files(sy_doc *d, yaml_node_t *n, const char *where, char files[][HP_PATH_MAX], int *nfiles) {
    yaml_node_item_t *it;
    int count;
    if (sy_list(d, n, where, 1, HP_MAX_DATA_FILES, "files", &it, &count)) return -1;
    memset(files, 0, sizeof(files[0]) * HP_MAX_DATA_FILES); /* no default name left behind the list */
    for (int k = 0; k < count; k++) {
        char path[48];
        snprintf(path, sizeof path, "%s[%d]", where, k);
        sy_field f = F_STR("file", files[k]);
        if (sy_read_value(d, &f, sy_node(d, it[k]), path)) return -1;
    }
    *nfiles = count;
    return 0;
}

/* The data section's keys depend on its format. */
static const sy_variant data_variants[FORMAT_COUNT] = {
    [FORMAT_IDX] = {"idx", "format dir train_images train_labels test_images test_labels classes val_size "
                           "train_subset val_subset standardize"},
    [FORMAT_CIFAR10] = {"cifar10", "format dir train_files test_files classes val_size train_subset val_subset "
                                   "standardize"},
};

static int parse_data(sy_doc *d, yaml_node_t *n, hp_data_spec *ds) {
    int format = FORMAT_IDX;
    yaml_node_t *train_files = NULL, *test_files = NULL;
    sy_field f[] = {
        F_ENUM("format", &format, format_names, FORMAT_COUNT, 0),
        F_STR("dir", ds->dir),
        F_STR("train_images", ds->train_images),
        F_STR("train_labels", ds->train_labels),
        F_STR("test_images", ds->test_images),
        F_STR("test_labels", ds->test_labels),
        F_NODE("train_files", &train_files, 0),
        F_NODE("test_files", &test_files, 0),
        F_INT("classes", &ds->nclasses, 2, SPEC_MAX_CLASSES),
        F_I64("val_size", &ds->val_size, 1, INFINITY), /* trials are selected on it */
        F_I64("train_subset", &ds->train_subset, 0, INFINITY),
        F_I64("val_subset", &ds->val_subset, 0, INFINITY),
        F_BOOL("standardize", &ds->standardize),
    };
    if (sy_read_tag(d, n, "data", &f[0])) return -1;
    if (format == FORMAT_CIFAR10) cifar10_defaults(ds);
    if (sy_read_variant(d, n, "data", "format", data_variants, FORMAT_COUNT, format, f, NELEM(f))) return -1;
    snprintf(ds->format, sizeof ds->format, "%s", format_names[format]);
    if (train_files && parse_files(d, train_files, "data.train_files", ds->train_files, &ds->ntrain_files))
        return -1;
    if (test_files && parse_files(d, test_files, "data.test_files", ds->test_files, &ds->ntest_files)) return -1;
    return 0;
}

static const char *const prune_names[] = {"none", "median", "halving"};

const char *hp_prune_rule_name(hp_prune_rule r) {
    return (unsigned)r < NELEM(prune_names) ? prune_names[r] : "?";
}

/* A stage's prune: {rule, after, min_trials}. */
static int parse_prune(sy_doc *d, yaml_node_t *n, const char *where, hp_prune_spec *p) {
    char at[64];
    snprintf(at, sizeof at, "%s.prune", where);
    int rule = 0;
    sy_field f[] = {
        F_ENUM("rule", &rule, prune_names, NELEM(prune_names), SY_REQUIRED),
        F_INT("after", &p->after, 1, INFINITY),
        F_INT("min_trials", &p->min_trials, 1, SPEC_MAX_TRIALS),
        F_INT("eta", &p->eta, 2, 64),
    };
    if (sy_read_map(d, n, at, f, NELEM(f))) return -1;
    p->rule = (hp_prune_rule)rule;
    if (f[3].seen && p->rule != HP_PRUNE_HALVING)
        return sy_fail(d, f[3].key_mark, "%s.eta: only the halving rule has a reduction factor", at);
    return 0;
}

/* A promote stage: {method: promote, top_k, epochs, train_subset}; what it refuses (docs/spec.md). */
static int check_promote_stage(sy_doc *d, yaml_node_t *n, int i, const char *where, const sy_field *f) {
    if (i == 0)
        return sy_fail(d, f[0].mark, "%s.method: 'promote' continues trials of the stage before, and stage 0 has "
                       "none; start with a random or grid stage", where);
    static const int refused[] = {1, 2, 5, 7}; /* trials, points, margin, prune */
    for (size_t k = 0; k < sizeof refused / sizeof refused[0]; k++)
        if (f[refused[k]].seen)
            return sy_fail(d, f[refused[k]].key_mark, "%s: '%s' is not a key of a promote stage (it takes top_k, "
                           "epochs and train_subset); remove it", where, f[refused[k]].key);
    if (!f[3].seen)
        return sy_fail(d, n->start_mark, "%s: a promote stage needs 'epochs' (the epochs added to each promoted "
                       "trial, >= 1)", where);
    return 0;
}

static int parse_stage(sy_doc *d, yaml_node_t *n, int i, const hp_search_spec *ss, hp_stage_spec *st,
                       yaml_mark_t *epochs_mark, yaml_mark_t *method_mark) {
    char where[48];
    snprintf(where, sizeof where, "search.stages[%d]", i);
    int method = 0;
    *st = (hp_stage_spec){.top_k = 3, .margin = 0.25, .prune = {HP_PRUNE_NONE, 1, 3, 3}}; /* epochs 0: train.epochs */
    yaml_node_t *prune = NULL;
    sy_field f[] = {
        F_ENUM("method", &method, method_names, NELEM(method_names), SY_REQUIRED),
        F_INT("trials", &st->trials, 1, SPEC_MAX_TRIALS),
        F_INT("points", &st->points, 2, SPEC_MAX_POINTS),
        F_INT("epochs", &st->epochs, 1, INFINITY),
        F_INT("top_k", &st->top_k, 1, INFINITY),
        F_NUM("margin", &st->margin, 0, INFINITY, 0),
        F_I64("train_subset", &st->train_subset, 0, INFINITY),
        F_NODE("prune", &prune, 0),
    };
    if (sy_read_map(d, n, where, f, NELEM(f))) return -1;
    if (prune && parse_prune(d, prune, where, &st->prune)) return -1;
    *epochs_mark = f[3].seen ? f[3].mark : n->start_mark;
    *method_mark = f[0].mark;
    st->method = (hp_method)method;
    if (st->method == HP_METHOD_PROMOTE) return check_promote_stage(d, n, i, where, f);
    const sy_field *trials = &f[1], *points = &f[2];
    if (st->method == HP_METHOD_RANDOM) {
        if (points->seen)
            return sy_fail(d, points->key_mark, "%s: 'points' is for grid stages; a random stage takes 'trials'",
                           where);
        if (!trials->seen) return sy_fail(d, n->start_mark, "%s: a random stage needs 'trials'", where);
        return 0;
    }
    if (trials->seen)
        return sy_fail(d, trials->key_mark,
                       "%s: a grid stage takes 'points' (values per parameter), not 'trials'", where);
    int any_range = 0; /* a choice gives the grid its listed values: points is for ranges */
    for (int p = 0; p < ss->nparams; p++) any_range |= ss->params[p].enabled && ss->params[p].scale != HP_SCALE_CHOICE;
    if (!points->seen && any_range)
        return sy_fail(d, n->start_mark, "%s: a grid stage needs 'points' (values per parameter, >= 2)", where);
    if (!points->seen) st->points = 2;
    /* full factorial: `points` values of each real or int parameter, every value of a choice */
    int64_t total = 1;
    for (int p = 0; p < ss->nparams; p++) {
        const hp_param_range *r = &ss->params[p];
        if (!r->enabled) continue;
        total *= r->scale == HP_SCALE_CHOICE ? r->nchoices : st->points;
        if (total > SPEC_MAX_TRIALS)
            return sy_fail(d, points->mark, "%s.points: %d points for the searched parameters is more than %d trials",
                           where, st->points, SPEC_MAX_TRIALS);
    }
    st->trials = (int)total;
    return 0;
}

static int parse_search(sy_doc *d, yaml_node_t *n, int external, hp_search_spec *ss, spec_marks *mk) {
    yaml_node_t *params = NULL, *stages = NULL;
    sy_field f[] = {
        F_NODE("params", &params, SY_REQUIRED),
        F_INT("keep_snapshots", &ss->keep_snapshots, 0, INFINITY),
        F_NODE("stages", &stages, SY_REQUIRED),
    };
    if (sy_read_map(d, n, "search", f, NELEM(f))) return -1;
    if (spec_parse_params(d, params, external, ss, mk->param)) return -1;
    if (sy_expect(d, stages, YAML_SEQUENCE_NODE, "search.stages")) return -1;
    yaml_node_item_t *it = stages->data.sequence.items.start;
    ptrdiff_t count = stages->data.sequence.items.top - it;
    if (count == 0)
        return sy_fail(d, stages->start_mark,
                       "search.stages: the list is empty; a search needs at least one stage");
    if (count > HP_MAX_STAGES)
        return sy_fail(d, sy_node(d, it[HP_MAX_STAGES])->start_mark,
                       "search.stages: %td stages, more than the %d allowed", count, HP_MAX_STAGES);
    ss->nstages = (int)count;
    for (int i = 0; i < ss->nstages; i++)
        if (parse_stage(d, sy_node(d, it[i]), i, ss, &ss->stages[i], &mk->stage_epochs[i], &mk->stage_method[i]))
            return -1;
    return 0;
}

/* Checks that need more than one section. */
static int check_across(sy_doc *d, const hp_spec *s, const spec_marks *mk) {
    char a[32], b[32];
    /* The logits' width is set by the last dense or conv layer. A dense one must have
     * data.classes units; a conv one is left to the model's shape check (its output is
     * filters x H x W until pooled and flattened). */
    int last = -1;
    for (int i = 0; i < s->model.nlayers; i++)
        if (s->model.layers[i].type == HP_LAYER_DENSE || s->model.layers[i].type == HP_LAYER_CONV) last = i;
    if (last < 0)
        return sy_fail(d, mk->layers->start_mark, "model.layers: no dense or conv layer; a model needs one to "
                       "produce its data.classes (%d) outputs (a last dense layer with units: %d)",
                       s->data.nclasses, s->data.nclasses);
    const hp_layer_spec *l = &s->model.layers[last];
    if (l->type == HP_LAYER_DENSE && l->units != s->data.nclasses)
        return sy_fail(d, mk->units[last], "model.layers[%d].units: the last dense layer has %d units but "
                       "data.classes is %d; they must be equal", last, l->units, s->data.nclasses);

    const hp_sched_spec *sc = &s->train.schedule;
    if (mk->has_warmup && sc->warmup_epochs >= s->train.epochs)
        return sy_fail(d, mk->warmup, "train.schedule.warmup_epochs: '%d' is not less than train.epochs (%d%s): "
                       "the warm-up would fill the whole training", sc->warmup_epochs, s->train.epochs,
                       mk->epochs_overridden ? ", given on the command line" : "");
    for (int i = 0; i < s->search.nstages; i++) {
        int e = s->search.stages[i].epochs ? s->search.stages[i].epochs : s->train.epochs;
        if (s->search.stages[i].method == HP_METHOD_PROMOTE) {
            /* A promoted trial continues its schedule (docs/search.md, "Promotion"): cosine and
             * linear annealed to min_lr over the parent's epochs, so they have no continuation. */
            if (sc->type == HP_SCHED_COSINE || sc->type == HP_SCHED_LINEAR)
                return sy_fail(d, mk->stage_method[i], "search.stages[%d].method: a promoted trial continues its "
                               "learning-rate schedule, but train.schedule.type '%s' already annealed to min_lr at "
                               "the parent's last epoch; use constant, step, multistep, inv_sqrt or plateau, or "
                               "drop the promote stage", i, hp_sched_type_name(sc->type));
            continue; /* its trials train on from the parent's epochs: the warm-up lies behind them */
        }
        if (sc->warmup_epochs >= e) /* hp_sched_create would refuse every trial of the stage */
            return sy_fail(d, mk->stage_epochs[i], "search.stages[%d].epochs: %d epochs is not more than "
                           "train.schedule.warmup_epochs (%d): the stage's trials would be all warm-up; give it more "
                           "epochs or warm up less", i, e, sc->warmup_epochs);
    }
    /* A floor at or above the starting rate would make the schedule climb (cosine, linear) or
     * never act (plateau). With lr searched, compare with the low end of its range. */
    const hp_param_range *lr = &s->search.params[HP_PARAM_LR];
    double base = lr->enabled ? lr->low : s->optim.lr;
    if (mk->has_min_lr && sc->min_lr >= base)
        return sy_fail(d, mk->min_lr, "train.schedule.min_lr: '%s' is not below the learning rate %s (%s); the "
                       "final rate must be lower than the starting one", sy_fmt_num(sc->min_lr, a),
                       sy_fmt_num(base, b), lr->enabled ? "the low end of search.params.lr" : "optimizer.lr");
    return 0;
}

/* cuda: {deterministic, tf32}: how a GPU trains (ignored on the CPU, so one spec serves both). */
static int parse_cuda(sy_doc *d, yaml_node_t *n, hp_gpu_opts *o) {
    sy_field f[] = {
        F_BOOL("deterministic", &o->deterministic),
        F_BOOL("tf32", &o->allow_tf32),
    };
    return sy_read_map(d, n, "cuda", f, NELEM(f));
}

/* final: {ensemble: K}. The K best snapshots must be kept: with search.keep_snapshots N > 0 only
 * the N best are, so K <= N (checked here, once search is read). */
static int parse_final(sy_doc *d, yaml_node_t *n, hp_spec *s) {
    sy_field f[] = {
        F_INT("ensemble", &s->final.ensemble, 1, HP_MAX_ENSEMBLE),
    };
    if (sy_read_map(d, n, "final", f, NELEM(f))) return -1;
    int keep = s->search.keep_snapshots;
    if (f[0].seen && keep > 0 && s->final.ensemble > keep)
        return sy_fail(d, f[0].mark,
                       "final.ensemble: %d needs the snapshots of the %d best trials, but search.keep_snapshots "
                       "keeps %d; raise keep_snapshots to at least %d (0 keeps all) or lower ensemble",
                       s->final.ensemble, s->final.ensemble, keep, s->final.ensemble);
    return 0;
}

static int parse_root(sy_doc *d, const hp_spec_read_opts *o, hp_spec *s) {
    yaml_node_t *data = NULL, *model = NULL, *optim = NULL, *train = NULL, *search = NULL, *cuda = NULL,
                *final = NULL, *trainer = NULL;
    int device = (int)s->device;
    sy_field f[] = {
        F_STR("name", s->name),
        {.key = "seed", .kind = SY_U64, .dst = &s->seed},
        {.key = "init_seed", .kind = SY_U64, .dst = &s->init_seed},
        F_ENUM("device", &device, device_names, NELEM(device_names), 0),
        F_NODE("cuda", &cuda, 0),
        F_NODE("data", &data, 0),
        F_NODE("model", &model, 0),
        F_NODE("trainer", &trainer, 0),
        F_NODE("optimizer", &optim, 0),
        F_NODE("train", &train, 0),
        F_NODE("search", &search, 0),
        F_NODE("final", &final, 0),
    };
    if (sy_read_map(d, sy_root(d), "", f, NELEM(f))) return -1;
    /* The name makes the default output NAME.h5 in the working folder: a path would put it
     * elsewhere (name: ../x wrote ../x.h5). */
    if (f[0].seen && (strchr(s->name, '/') || !strcmp(s->name, ".") || !strcmp(s->name, "..") || !s->name[0]))
        return sy_fail(d, f[0].mark,
                       "name: '%s' is not a plain name (no '/', not '.' or '..', not empty): the default results "
                       "file is NAME.h5 in the working folder; use -o to write elsewhere",
                       s->name);
    s->device = (hp_device)device;
    s->has_init_seed = f[2].seen;
    if (s->has_init_seed && (trainer || (search && !o->skip_search)))
        return sy_fail(d, f[2].mark, "init_seed: %s; init_seed is for 'hpsweep train' (a spec from 'hpsweep export "
                       "--spec'): remove it", trainer ? "an external trainer seeds itself (HPSWEEP_SEED)"
                                                      : "each trial of a sweep gets its own seed from seed");
    if (trainer) { /* an external program: no model, optimizer, data */
        if (spec_check_external(d, sy_root(d), train) || spec_parse_external(d, trainer, &s->ext)) return -1;
        s->optim.lr = s->optim.weight_decay = NAN; /* not searched: the program's own, unknown here */
    } else if (!model) {
        return sy_fail(d, sy_root(d)->start_mark, "missing required key 'model' (the built-in trainer's network, "
                       "docs/spec.md), or a trainer: section (your own training program, docs/external.md)");
    }
    if (cuda && parse_cuda(d, cuda, &s->cuda)) return -1;
    spec_marks mk;
    memset(&mk, 0, sizeof mk);
    if (data && parse_data(d, data, &s->data)) return -1;
    if (model && spec_parse_model(d, model, &s->model, &mk)) return -1;
    if (optim && spec_parse_optim(d, optim, &s->optim)) return -1;
    if (train && spec_parse_train(d, train, &s->train, &mk)) return -1;
    if (o->epochs > 0) {
        s->train.epochs = o->epochs;
        mk.epochs_overridden = 1;
    }
    if (search && !o->skip_search) {
        s->has_search = 1;
        if (parse_search(d, search, s->ext.enabled, &s->search, &mk)) return -1;
    }
    if (final && parse_final(d, final, s)) return -1;
    for (int i = 0; s->ext.enabled && i < s->search.nstages; i++)
        if (s->search.stages[i].method == HP_METHOD_PROMOTE)
            return sy_fail(d, mk.stage_method[i], "search.stages[%d].method: promote continues a trial from the state "
                           "hpsweep saved, and an external trainer's state is its own files; use random or grid stages",
                           i);
    if (s->ext.enabled && s->final.ensemble > 1)
        return sy_fail(d, sy_root(d)->start_mark, "final.ensemble: an external trainer's snapshots are its own files, "
                       "so hpsweep cannot average them; remove final.ensemble (the test command evaluates the best "
                       "trial's snapshot)");
    if (!s->ext.enabled && check_across(d, s, &mk)) return -1;
    if (s->has_search && spec_check_params(d, s, mk.param)) return -1;
    for (int i = 0; i < s->search.nstages; i++)
        if (s->search.stages[i].epochs == 0) s->search.stages[i].epochs = s->train.epochs;
    return 0;
}

/* ---- public API ---------------------------------------------------------------------------- */

/* Parse `text` (len bytes, NUL at text[len]), taking ownership of it, with the value at each
 * of paths[0..n) set to values[i] first. */
static int parse_owned(char *text, size_t len, const char *path, const hp_spec_read_opts *o, int n,
                       const char *const *paths, const char *const *values, hp_spec *out, hp_err *err) {
    static const hp_spec_read_opts plain;
    if (!o) o = &plain;
    memset(out, 0, sizeof *out);
    set_defaults(out);
    snprintf(out->path, sizeof out->path, "%s", path);
    default_name(path, out->name, sizeof out->name);
    out->text = text;
    out->text_len = len;
    sy_doc d;
    int rc = sy_load(&d, path, text, len, err);
    d.lenient = o->lenient;
    for (int i = 0; i < n && rc == 0; i++) rc = sy_set_path(&d, paths[i], values[i]);
    if (rc == 0) rc = parse_root(&d, o, out);
    sy_free(&d);
    if (rc) hp_spec_free(out);
    return rc;
}

int spec_parse_subst(const char *text, size_t len, const char *path, const hp_spec_read_opts *o, int n,
                     const char *const *paths, const char *const *values, hp_spec *out, hp_err *err) {
    memset(out, 0, sizeof *out);
    char *copy = hp_calloc(len + 1, 1, "the spec text", err);
    if (!copy) return hp_err_prefix(err, "%s", path);
    if (len) memcpy(copy, text, len);
    return parse_owned(copy, len, path, o, n, paths, values, out, err);
}

int hp_spec_for_trial(const hp_spec *base, const double *values, hp_spec *out, hp_err *err) {
    const hp_search_spec *ss = &base->search;
    if (ss->nparams <= HP_NFIXED_PARAMS || base->ext.enabled) { /* lr and weight decay only: no need to read the spec again */
        memcpy(out, base, sizeof *out);
        out->text = NULL;
        out->text_len = 0;
        if (ss->params[HP_PARAM_LR].enabled) out->optim.lr = values[HP_PARAM_LR];
        if (ss->params[HP_PARAM_WD].enabled) out->optim.weight_decay = values[HP_PARAM_WD];
        return 0;
    }
    if (!base->text) return hp_errf(err, "%s: the spec's text is not at hand to set a trial's values", base->path);
    const char *paths[HP_MAX_PARAMS], *vals[HP_MAX_PARAMS];
    char text[HP_MAX_PARAMS][HP_CHOICE_TEXT + 32];
    int n = 0;
    for (int p = 0; p < ss->nparams && p < HP_MAX_PARAMS; p++) {
        if (!ss->params[p].enabled) continue;
        paths[n] = ss->params[p].path;
        vals[n] = hp_param_text(&ss->params[p], values[p], text[n], sizeof text[n]);
        n++;
    }
    hp_spec_read_opts o = {.skip_search = 1, .lenient = ss->lenient};
    hp_spec t;
    if (spec_parse_subst(base->text, (size_t)base->text_len, base->path, &o, n, paths, vals, &t, err) != 0)
        return -1;
    /* What the trial trains with comes from the new reading; the search and the rest stay the base's. */
    memcpy(out, base, sizeof *out);
    out->model = t.model;
    out->optim = t.optim;
    out->train = t.train;
    out->text = NULL;
    out->text_len = 0;
    hp_spec_free(&t);
    return 0;
}

static int too_large(const char *path, hp_err *err) {
    return hp_errf(err, "%s: the spec is larger than %u bytes; a spec is a small YAML file "
                   "(is this the right file?)", path, (unsigned)SY_MAX_TEXT);
}

int hp_spec_load(const char *path, hp_spec *out, hp_err *err) { return hp_spec_load_with(path, NULL, out, err); }

int hp_spec_load_with(const char *path, const hp_spec_read_opts *o, hp_spec *out, hp_err *err) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return hp_errf(err, "%s: cannot open the spec: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = hp_calloc(cap + 1, 1, "the spec text", err);
    if (!buf) {
        fclose(f);
        return hp_err_prefix(err, "%s", path);
    }
    for (;;) {
        if (n == cap) {
            if (cap > SY_MAX_TEXT) {
                free(buf);
                fclose(f);
                return too_large(path, err);
            }
            char *bigger = realloc(buf, 2 * cap + 1);
            if (!bigger) {
                free(buf);
                fclose(f);
                return hp_errf(err, "%s: out of memory reading the spec (%zu bytes)", path, 2 * cap + 1);
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        int e = errno;
        free(buf);
        fclose(f);
        return hp_errf(err, "%s: cannot read the spec: %s", path, strerror(e));
    }
    if (fclose(f) != 0) {
        free(buf);
        return hp_errf(err, "%s: cannot close the spec: %s", path, strerror(errno));
    }
    if (n > SY_MAX_TEXT) {
        free(buf);
        return too_large(path, err);
    }
    buf[n] = '\0';
    return parse_owned(buf, n, path, o, 0, NULL, NULL, out, err);
}

int hp_spec_parse(const char *text, uint64_t len, const char *name, hp_spec *out, hp_err *err) {
    memset(out, 0, sizeof *out);
    if (!name) name = "(spec)";
    if (!text && len)
        return hp_errf(err, "%s: no spec text (NULL with length %llu)", name, (unsigned long long)len);
    if (len > SY_MAX_TEXT) return too_large(name, err);
    char *copy = hp_calloc((size_t)len + 1, 1, "the spec text", err);
    if (!copy) return hp_err_prefix(err, "%s", name);
    if (len) memcpy(copy, text, (size_t)len);
    return parse_owned(copy, (size_t)len, name, NULL, 0, NULL, NULL, out, err);
}

int hp_spec_text_synthetic(const char *text, uint64_t len) {
    hp_spec spec;
    hp_err err = {{0}};
    if (hp_spec_parse(text, len, "the stored spec", &spec, &err) != 0) return -1;
    int synthetic = spec.train.synthetic_ms > 0;
    hp_spec_free(&spec);
    return synthetic;
}

void hp_spec_free(hp_spec *s) {
    if (!s) return;
    free(s->text);
    memset(s, 0, sizeof *s);
}

int hp_spec_data_path(const hp_data_spec *d, const char *file, char *out, size_t cap, hp_err *err) {
    size_t dl = strlen(d->dir);
    int slash = dl > 0 && d->dir[dl - 1] == '/';
    int w = file[0] == '/' ? snprintf(out, cap, "%s", file)
                           : snprintf(out, cap, "%s%s%s", d->dir, slash ? "" : "/", file);
    if (w < 0 || (size_t)w >= cap)
        return hp_errf(err, "data file '%s' in '%s': the path is too long (%d bytes, at most %zu)", file, d->dir,
                       w, cap ? cap - 1 : 0);
    return 0;
}

