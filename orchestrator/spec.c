/* spec.c - the sweep spec: its schema, defaults and cross-field checks (see spec.h and
 * docs/spec.md), and writing a resolved spec back out. The YAML mechanics (loading, typed
 * fields, messages) are in spec_yaml.c. */
#include "spec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_yaml.h"

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Largest dense layer and largest stage the parser accepts: far beyond any real sweep, small
 * enough that sizes computed from them cannot overflow. */
#define SPEC_MAX_UNITS (1 << 20)
#define SPEC_MAX_TRIALS (1 << 20)
#define SPEC_MAX_POINTS 1024
#define SPEC_MAX_CLASSES 65536

/* ---- names ------------------------------------------------------------------------------- */
static const char *const device_names[] = {"auto", "cpu", "cuda"};
static const char *const scale_names[] = {"log", "linear"};
static const char *const method_names[] = {"random", "grid"};
static const char *const param_names[] = {"lr", "weight_decay"};
static const char *const format_names[] = {"idx"};
_Static_assert(NELEM(param_names) == HP_NPARAMS, "one name per searchable parameter");

/* The trainer owns the names of its layer types, initialisations and optimizers (model.h,
 * optim.h); these fill a table for the field readers from its functions. */
static void layer_type_names(const char *out[HP_LAYER_COUNT_]) {
    for (int i = 0; i < HP_LAYER_COUNT_; i++) out[i] = hp_layer_type_name((hp_layer_type)i);
}
static void init_names(const char *out[HP_INIT_COUNT_]) {
    for (int i = 0; i < HP_INIT_COUNT_; i++) out[i] = hp_init_name((hp_init)i);
}
static void optim_names(const char *out[HP_OPTIM_COUNT_]) {
    for (int i = 0; i < HP_OPTIM_COUNT_; i++) out[i] = hp_optim_type_name((hp_optim_type)i);
}

static const char *name_of(const char *const *names, int n, int i) {
    return (i >= 0 && i < n) ? names[i] : "?";
}
const char *hp_param_name(hp_param p) { return name_of(param_names, NELEM(param_names), (int)p); }
const char *hp_device_name(hp_device d) { return name_of(device_names, NELEM(device_names), (int)d); }
const char *hp_scale_name(hp_scale s) { return name_of(scale_names, NELEM(scale_names), (int)s); }
const char *hp_method_name(hp_method m) { return name_of(method_names, NELEM(method_names), (int)m); }

/* ---- field table helpers ------------------------------------------------------------------ */
#define F_NODE(k, p, fl) {.key = (k), .kind = SY_NODE, .dst = (p), .flags = (fl)}
#define F_STR(k, buf) {.key = (k), .kind = SY_STR, .dst = (buf), .cap = sizeof(buf)}
#define F_BOOL(k, p) {.key = (k), .kind = SY_BOOL, .dst = (p)}
#define F_ENUM(k, p, tbl, fl) \
    {.key = (k), .kind = SY_ENUM, .dst = (p), .names = (tbl), .nnames = NELEM(tbl), .flags = (fl)}
#define F_INT(k, p, lo_, hi_) {.key = (k), .kind = SY_INT, .dst = (p), .lo = (lo_), .hi = (hi_)}
#define F_I64(k, p, lo_, hi_) {.key = (k), .kind = SY_I64, .dst = (p), .lo = (lo_), .hi = (hi_)}
#define F_NUM(k, p, lo_, hi_, fl) {.key = (k), .kind = SY_NUM, .dst = (p), .lo = (lo_), .hi = (hi_), .flags = (fl)}

/* Marks the cross-field checks need after every section has been read. */
typedef struct spec_marks {
    yaml_node_t *layers;                  /* model.layers */
    yaml_mark_t units[HP_MAX_LAYERS];     /* each dense layer's units value */
} spec_marks;

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
    s->optim = (hp_optim_spec){.type = HP_OPTIM_SGD, .lr = 0.01, .momentum = 0, .nesterov = 0, .weight_decay = 0};
    s->train = (hp_train_spec){.batch_size = 128, .epochs = 1, .diverge_factor = 4};
    s->has_search = 0;
    for (int p = 0; p < HP_NPARAMS; p++)
        s->search.params[p] = (hp_param_range){.enabled = 0, .scale = HP_SCALE_LOG, .bound_low = 0,
                                               .bound_high = INFINITY};
    s->search.nstages = 0;
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
static int parse_data(sy_doc *d, yaml_node_t *n, hp_data_spec *ds) {
    int format = 0;
    sy_field f[] = {
        F_ENUM("format", &format, format_names, 0),
        F_STR("dir", ds->dir),
        F_STR("train_images", ds->train_images),
        F_STR("train_labels", ds->train_labels),
        F_STR("test_images", ds->test_images),
        F_STR("test_labels", ds->test_labels),
        F_INT("classes", &ds->nclasses, 2, SPEC_MAX_CLASSES),
        F_I64("val_size", &ds->val_size, 0, INFINITY),
        F_I64("train_subset", &ds->train_subset, 0, INFINITY),
        F_I64("val_subset", &ds->val_subset, 0, INFINITY),
        F_BOOL("standardize", &ds->standardize),
    };
    if (sy_read_map(d, n, "data", f, NELEM(f))) return -1;
    snprintf(ds->format, sizeof ds->format, "%s", format_names[format]);
    return 0;
}

static int parse_layer(sy_doc *d, yaml_node_t *n, int i, hp_layer_spec *l, yaml_mark_t *units_mark) {
    char where[48];
    snprintf(where, sizeof where, "model.layers[%d]", i);
    int type = 0, init = HP_INIT_DEFAULT, units = 0;
    const char *types[HP_LAYER_COUNT_], *inits[HP_INIT_COUNT_];
    layer_type_names(types);
    init_names(inits);
    sy_field f[] = {
        F_ENUM("type", &type, types, SY_REQUIRED),
        F_INT("units", &units, 1, SPEC_MAX_UNITS),
        F_ENUM("init", &init, inits, 0),
    };
    if (sy_read_map(d, n, where, f, NELEM(f))) return -1;
    l->type = (hp_layer_type)type;
    l->init = (hp_init)init;
    l->units = units;
    l->line = (int)n->start_mark.line + 1;
    *units_mark = f[1].mark;
    if (l->type == HP_LAYER_DENSE) {
        if (!f[1].seen) return sy_fail(d, n->start_mark, "%s: a dense layer needs 'units'", where);
        return 0;
    }
    for (int k = 1; k < NELEM(f); k++)
        if (f[k].seen)
            return sy_fail(d, f[k].key_mark, "%s: '%s' applies only to dense layers, not to %s", where,
                           f[k].key, types[type]);
    return 0;
}

static int parse_model(sy_doc *d, yaml_node_t *n, hp_model_spec *m, spec_marks *mk) {
    yaml_node_t *layers = NULL;
    sy_field f[] = {F_NODE("layers", &layers, SY_REQUIRED)};
    if (sy_read_map(d, n, "model", f, NELEM(f))) return -1;
    if (sy_expect(d, layers, YAML_SEQUENCE_NODE, "model.layers")) return -1;
    mk->layers = layers;
    yaml_node_item_t *it = layers->data.sequence.items.start;
    ptrdiff_t count = layers->data.sequence.items.top - it;
    if (count == 0)
        return sy_fail(d, layers->start_mark, "model.layers: the list is empty; a model needs at least one layer");
    if (count > HP_MAX_LAYERS)
        return sy_fail(d, sy_node(d, it[HP_MAX_LAYERS])->start_mark,
                       "model.layers: %td layers, more than the %d allowed", count, HP_MAX_LAYERS);
    m->nlayers = (int)count;
    for (int i = 0; i < m->nlayers; i++)
        if (parse_layer(d, sy_node(d, it[i]), i, &m->layers[i], &mk->units[i])) return -1;
    return 0;
}

static int parse_optim(sy_doc *d, yaml_node_t *n, hp_optim_spec *o) {
    int type = (int)o->type;
    const char *types[HP_OPTIM_COUNT_];
    optim_names(types);
    sy_field f[] = {
        F_ENUM("type", &type, types, 0),
        F_NUM("lr", &o->lr, 0, INFINITY, SY_LO_OPEN),
        F_NUM("momentum", &o->momentum, 0, 1, SY_HI_OPEN),
        F_BOOL("nesterov", &o->nesterov),
        F_NUM("weight_decay", &o->weight_decay, 0, INFINITY, 0),
    };
    if (sy_read_map(d, n, "optimizer", f, NELEM(f))) return -1;
    o->type = (hp_optim_type)type;
    if (o->nesterov && o->momentum == 0)
        return sy_fail(d, f[3].mark, "optimizer.nesterov: Nesterov momentum needs momentum > 0 "
                                     "(momentum is 0); set optimizer.momentum or nesterov: false");
    return 0;
}

static int parse_train(sy_doc *d, yaml_node_t *n, hp_train_spec *t) {
    sy_field f[] = {
        F_INT("batch_size", &t->batch_size, 1, INFINITY),
        F_INT("epochs", &t->epochs, 1, INFINITY),
        F_NUM("diverge_factor", &t->diverge_factor, 1, INFINITY, SY_LO_OPEN),
        F_INT("synthetic_ms", &t->synthetic_ms, 0, 3600000),
    };
    return sy_read_map(d, n, "train", f, NELEM(f));
}

/* One searched parameter: {low, high, scale, bounds}. */
static int parse_range(sy_doc *d, yaml_node_t *n, hp_param p, hp_param_range *r) {
    char where[64], path[80], a[32], b[32], c[32], e[32];
    snprintf(where, sizeof where, "search.params.%s", hp_param_name(p));
    int scale = HP_SCALE_LOG;
    yaml_node_t *bounds = NULL;
    sy_field f[] = {
        F_NUM("low", &r->low, -INFINITY, INFINITY, 0),
        F_NUM("high", &r->high, -INFINITY, INFINITY, 0),
        F_ENUM("scale", &scale, scale_names, 0),
        F_NODE("bounds", &bounds, 0),
    };
    f[0].flags = f[1].flags = SY_REQUIRED;
    if (sy_read_map(d, n, where, f, NELEM(f))) return -1;
    r->enabled = 1;
    r->scale = (hp_scale)scale;
    if (!(r->low < r->high))
        return sy_fail(d, f[1].mark, "%s: low (%s) must be less than high (%s)", where, sy_fmt_num(r->low, a),
                       sy_fmt_num(r->high, b));
    if (p == HP_PARAM_LR && r->low <= 0)
        return sy_fail(d, f[0].mark, "%s.low: %s is out of range; a learning rate must be > 0", where,
                       sy_fmt_num(r->low, a));
    if (r->scale == HP_SCALE_LOG && r->low <= 0)
        return sy_fail(d, f[0].mark, "%s.low: %s must be > 0 on a log scale (or use scale: linear)", where,
                       sy_fmt_num(r->low, a));
    if (p == HP_PARAM_WD && r->low < 0)
        return sy_fail(d, f[0].mark, "%s.low: %s is out of range; weight decay must be >= 0", where,
                       sy_fmt_num(r->low, a));
    /* No bounds given: [0, +inf) on either scale, since neither a learning rate nor a weight
     * decay can be negative: widening a linear range stops at 0. */
    r->bound_low = 0;
    r->bound_high = INFINITY;
    if (!bounds) return 0;
    snprintf(path, sizeof path, "%s.bounds", where);
    if (sy_expect(d, bounds, YAML_SEQUENCE_NODE, path)) return -1;
    yaml_node_item_t *it = bounds->data.sequence.items.start;
    ptrdiff_t count = bounds->data.sequence.items.top - it;
    if (count != 2)
        return sy_fail(d, bounds->start_mark, "%s: expected a list of two numbers [low, high], got %td item%s",
                       path, count, count == 1 ? "" : "s");
    double lo, hi;
    snprintf(path, sizeof path, "%s.bounds[0]", where);
    if (sy_read_bound(d, sy_node(d, it[0]), path, &lo)) return -1;
    snprintf(path, sizeof path, "%s.bounds[1]", where);
    if (sy_read_bound(d, sy_node(d, it[1]), path, &hi)) return -1;
    if (!(lo < hi))
        return sy_fail(d, bounds->start_mark, "%s.bounds: [%s, %s] is empty; the first bound must be the smaller",
                       where, sy_fmt_num(lo, a), sy_fmt_num(hi, b));
    if (r->scale == HP_SCALE_LOG && lo < 0)
        return sy_fail(d, bounds->start_mark, "%s.bounds: the lower bound %s must be >= 0 on a log scale", where,
                       sy_fmt_num(lo, a));
    if (lo > r->low || hi < r->high)
        return sy_fail(d, bounds->start_mark, "%s.bounds: [%s, %s] does not contain the range [%s, %s]", where,
                       sy_fmt_num(lo, a), sy_fmt_num(hi, b), sy_fmt_num(r->low, c), sy_fmt_num(r->high, e));
    r->bound_low = lo;
    r->bound_high = hi;
    return 0;
}

static int parse_params(sy_doc *d, yaml_node_t *n, hp_search_spec *ss) {
    yaml_node_t *node[HP_NPARAMS] = {NULL};
    sy_field f[HP_NPARAMS];
    for (int p = 0; p < HP_NPARAMS; p++) f[p] = (sy_field)F_NODE(param_names[p], &node[p], 0);
    if (sy_read_map(d, n, "search.params", f, HP_NPARAMS)) return -1;
    int any = 0;
    for (int p = 0; p < HP_NPARAMS; p++) {
        if (!node[p]) continue;
        any = 1;
        if (parse_range(d, node[p], (hp_param)p, &ss->params[p])) return -1;
    }
    if (!any)
        return sy_fail(d, n->start_mark,
                       "search.params: no parameter to search; give at least one of lr, weight_decay");
    return 0;
}

static int parse_stage(sy_doc *d, yaml_node_t *n, int i, int nenabled, hp_stage_spec *st) {
    char where[48];
    snprintf(where, sizeof where, "search.stages[%d]", i);
    int method = 0;
    *st = (hp_stage_spec){.top_k = 3, .margin = 0.25}; /* epochs 0: train.epochs, filled later */
    sy_field f[] = {
        F_ENUM("method", &method, method_names, SY_REQUIRED),
        F_INT("trials", &st->trials, 1, SPEC_MAX_TRIALS),
        F_INT("points", &st->points, 2, SPEC_MAX_POINTS),
        F_INT("epochs", &st->epochs, 1, INFINITY),
        F_INT("top_k", &st->top_k, 1, INFINITY),
        F_NUM("margin", &st->margin, 0, INFINITY, 0),
    };
    if (sy_read_map(d, n, where, f, NELEM(f))) return -1;
    st->method = (hp_method)method;
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
    if (!points->seen)
        return sy_fail(d, n->start_mark, "%s: a grid stage needs 'points' (values per parameter, >= 2)", where);
    /* full factorial: points^(searched parameters) trials */
    int64_t total = 1;
    for (int k = 0; k < nenabled; k++) {
        total *= st->points;
        if (total > SPEC_MAX_TRIALS)
            return sy_fail(d, points->mark, "%s.points: %d points for %d parameters is more than %d trials",
                           where, st->points, nenabled, SPEC_MAX_TRIALS);
    }
    st->trials = (int)total;
    return 0;
}

static int parse_search(sy_doc *d, yaml_node_t *n, hp_search_spec *ss) {
    yaml_node_t *params = NULL, *stages = NULL;
    sy_field f[] = {
        F_NODE("params", &params, SY_REQUIRED),
        F_INT("keep_snapshots", &ss->keep_snapshots, 0, INFINITY),
        F_NODE("stages", &stages, SY_REQUIRED),
    };
    if (sy_read_map(d, n, "search", f, NELEM(f))) return -1;
    if (parse_params(d, params, ss)) return -1;
    int nenabled = 0;
    for (int p = 0; p < HP_NPARAMS; p++) nenabled += ss->params[p].enabled;
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
        if (parse_stage(d, sy_node(d, it[i]), i, nenabled, &ss->stages[i])) return -1;
    return 0;
}

static int parse_root(sy_doc *d, hp_spec *s) {
    yaml_node_t *data = NULL, *model = NULL, *optim = NULL, *train = NULL, *search = NULL;
    int device = (int)s->device;
    sy_field f[] = {
        F_STR("name", s->name),
        {.key = "seed", .kind = SY_U64, .dst = &s->seed},
        F_ENUM("device", &device, device_names, 0),
        F_NODE("data", &data, 0),
        F_NODE("model", &model, SY_REQUIRED),
        F_NODE("optimizer", &optim, 0),
        F_NODE("train", &train, 0),
        F_NODE("search", &search, 0),
    };
    if (sy_read_map(d, sy_root(d), "", f, NELEM(f))) return -1;
    s->device = (hp_device)device;
    spec_marks mk;
    memset(&mk, 0, sizeof mk);
    if (data && parse_data(d, data, &s->data)) return -1;
    if (parse_model(d, model, &s->model, &mk)) return -1;
    if (optim && parse_optim(d, optim, &s->optim)) return -1;
    if (train && parse_train(d, train, &s->train)) return -1;
    if (search) {
        s->has_search = 1;
        if (parse_search(d, search, &s->search)) return -1;
    }

    /* The logits' width is the last dense layer's units; it must be the number of classes. */
    int last = -1;
    for (int i = 0; i < s->model.nlayers; i++)
        if (s->model.layers[i].type == HP_LAYER_DENSE) last = i;
    if (last < 0)
        return sy_fail(d, mk.layers->start_mark, "model.layers: no dense layer; the last dense layer's units "
                                                  "must equal data.classes (%d)", s->data.nclasses);
    if (s->model.layers[last].units != s->data.nclasses)
        return sy_fail(d, mk.units[last], "model.layers[%d].units: the last dense layer has %d units but "
                       "data.classes is %d; they must be equal", last, s->model.layers[last].units,
                       s->data.nclasses);
    for (int i = 0; i < s->search.nstages; i++)
        if (s->search.stages[i].epochs == 0) s->search.stages[i].epochs = s->train.epochs;
    return 0;
}

/* ---- public API ---------------------------------------------------------------------------- */

/* Parse `text` (len bytes, NUL at text[len]), taking ownership of it. */
static int parse_owned(char *text, size_t len, const char *path, hp_spec *out, hp_err *err) {
    memset(out, 0, sizeof *out);
    set_defaults(out);
    snprintf(out->path, sizeof out->path, "%s", path);
    default_name(path, out->name, sizeof out->name);
    out->text = text;
    out->text_len = len;
    sy_doc d;
    int rc = sy_load(&d, path, text, len, err);
    if (rc == 0) rc = parse_root(&d, out);
    sy_free(&d);
    if (rc) hp_spec_free(out);
    return rc;
}

static int too_large(const char *path, hp_err *err) {
    return hp_errf(err, "%s: the spec is larger than %u bytes; a spec is a small YAML file "
                   "(is this the right file?)", path, (unsigned)SY_MAX_TEXT);
}

int hp_spec_load(const char *path, hp_spec *out, hp_err *err) {
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
    return parse_owned(buf, n, path, out, err);
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
    return parse_owned(copy, (size_t)len, name, out, err);
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

/* ---- writing a resolved spec --------------------------------------------------------------- */

/* A double-quoted YAML string (the parser refuses control characters, so only " and \ need
 * escaping). */
static void put_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int hp_spec_dump(const hp_spec *s, FILE *f, hp_err *err) {
    char a[32], b[32];
    const hp_data_spec *d = &s->data;
    fputs("name: ", f);
    put_str(f, s->name);
    fprintf(f, "\nseed: %llu\ndevice: %s\n", (unsigned long long)s->seed, hp_device_name(s->device));
    fprintf(f, "data:\n  format: %s\n", d->format);
    const char *const keys[] = {"dir", "train_images", "train_labels", "test_images", "test_labels"};
    const char *const vals[] = {d->dir, d->train_images, d->train_labels, d->test_images, d->test_labels};
    for (int i = 0; i < NELEM(keys); i++) {
        fprintf(f, "  %s: ", keys[i]);
        put_str(f, vals[i]);
        fputc('\n', f);
    }
    fprintf(f, "  classes: %d\n  val_size: %lld\n  train_subset: %lld\n  val_subset: %lld\n  standardize: %s\n",
            d->nclasses, (long long)d->val_size, (long long)d->train_subset, (long long)d->val_subset,
            d->standardize ? "true" : "false");
    fputs("model:\n  layers:\n", f);
    for (int i = 0; i < s->model.nlayers; i++) {
        const hp_layer_spec *l = &s->model.layers[i];
        if (l->type == HP_LAYER_DENSE)
            fprintf(f, "    - {type: %s, units: %d, init: %s}\n", hp_layer_type_name(l->type), l->units,
                    hp_init_name(l->init));
        else
            fprintf(f, "    - {type: %s}\n", hp_layer_type_name(l->type));
    }
    const hp_optim_spec *o = &s->optim;
    fprintf(f, "optimizer:\n  type: %s\n  lr: %s\n  momentum: %s\n  nesterov: %s\n",
            hp_optim_type_name(o->type), sy_fmt_num(o->lr, a), sy_fmt_num(o->momentum, b),
            o->nesterov ? "true" : "false");
    fprintf(f, "  weight_decay: %s\n", sy_fmt_num(o->weight_decay, a));
    fprintf(f, "train:\n  batch_size: %d\n  epochs: %d\n  diverge_factor: %s\n", s->train.batch_size,
            s->train.epochs, sy_fmt_num(s->train.diverge_factor, a));
    if (s->train.synthetic_ms > 0) fprintf(f, "  synthetic_ms: %d\n", s->train.synthetic_ms);
    if (s->has_search) {
        const hp_search_spec *ss = &s->search;
        fputs("search:\n  params:\n", f);
        for (int p = 0; p < HP_NPARAMS; p++) {
            const hp_param_range *r = &ss->params[p];
            if (!r->enabled) continue;
            fprintf(f, "    %s: {low: %s, ", hp_param_name((hp_param)p), sy_fmt_num(r->low, a));
            fprintf(f, "high: %s, scale: %s, ", sy_fmt_num(r->high, a), hp_scale_name(r->scale));
            fprintf(f, "bounds: [%s, %s]}\n", sy_fmt_num(r->bound_low, a), sy_fmt_num(r->bound_high, b));
        }
        fprintf(f, "  keep_snapshots: %d\n  stages:\n", ss->keep_snapshots);
        for (int i = 0; i < ss->nstages; i++) {
            const hp_stage_spec *st = &ss->stages[i];
            if (st->method == HP_METHOD_GRID)
                fprintf(f, "    - {method: grid, points: %d, ", st->points);
            else
                fprintf(f, "    - {method: random, trials: %d, ", st->trials);
            fprintf(f, "epochs: %d, top_k: %d, margin: %s}\n", st->epochs, st->top_k, sy_fmt_num(st->margin, a));
        }
    }
    if (fflush(f) != 0 || ferror(f))
        return hp_errf(err, "writing the spec '%s': %s", s->name, strerror(errno));
    return 0;
}
