/* spec_params.c - search.params: what the search varies, named by its place in the spec
 * (docs/search.md, "What can be searched"), with a scale (log, linear, int, int_log) or a list
 * of choices; and each parameter's ends and choices tried in the spec at load, so that a
 * value the spec would refuse is reported at the parameter's line, not at the first trial. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_parts.h"

static const char *const scale_names[] = {"log", "linear", "int", "int_log", "choice"};

const char *hp_scale_name(hp_scale s) { return (unsigned)s < NELEM(scale_names) ? scale_names[s] : "?"; }

/* The sections a parameter may live in. data (one copy shared by every trial), search and the
 * top-level keys are not per trial. */
static const char *const roots[] = {"model.", "optimizer.", "train."};

/* Largest integer an int scale takes: doubles hold every integer up to 2^53 exactly. */
#define INT_LIMIT 9007199254740992.0

static int is_int_scale(hp_scale s) { return s == HP_SCALE_INT || s == HP_SCALE_INT_LOG; }

int hp_param_is_text(const hp_param_range *r) { return r->scale == HP_SCALE_CHOICE && !r->numeric_choices; }

double hp_param_number(const hp_param_range *r, double v) {
    if (r->scale != HP_SCALE_CHOICE) return v;
    int i = (int)v;
    return r->numeric_choices && i >= 0 && i < r->nchoices ? r->choice_num[i] : NAN;
}

const char *hp_param_text(const hp_param_range *r, double v, char *buf, size_t cap) {
    if (r->scale == HP_SCALE_CHOICE) {
        int i = (int)v;
        snprintf(buf, cap, "%s", i >= 0 && i < r->nchoices ? r->choices[i] : "?");
    } else if (is_int_scale(r->scale)) {
        snprintf(buf, cap, "%.0f", v);
    } else {
        char num[32];
        snprintf(buf, cap, "%s", sy_fmt_num(v, num));
    }
    return buf;
}

/* The slot of a name: 0 and 1 for the learning rate and weight decay (short or full names),
 * else -1. */
static int fixed_slot(const char *name) {
    if (!strcmp(name, "lr") || !strcmp(name, "optimizer.lr")) return HP_PARAM_LR;
    if (!strcmp(name, "weight_decay") || !strcmp(name, "optimizer.weight_decay")) return HP_PARAM_WD;
    return -1;
}

/* A place in the spec: "section.key(.key|.index)*" in a per-trial section. */
static int check_path(sy_doc *d, yaml_mark_t m, const char *name) {
    size_t n = strlen(name);
    if (n >= HP_NAME_MAX)
        return sy_fail(d, m, "search.params: '%.40s...' is longer than %d characters", name, HP_NAME_MAX - 1);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
        /* a list index is written without leading zeros, so one place has one name */
        int zero_lead = c == '0' && (i == 0 || name[i - 1] == '.') && i + 1 < n && name[i + 1] >= '0' && name[i + 1] <= '9';
        if (!ok || zero_lead || (c == '.' && (i == 0 || i + 1 == n || name[i + 1] == '.')))
            return sy_fail(d, m, "search.params: '%s' is not a place in the spec; write lr, weight_decay, or keys and "
                           "list indices joined by '.' (optimizer.momentum, model.layers.2.p, train.batch_size)", name);
    }
    int root = 0;
    for (int i = 0; i < NELEM(roots); i++) root |= !strncmp(name, roots[i], strlen(roots[i]));
    if (!root)
        return sy_fail(d, m, "search.params: '%s' is not in a section a trial can vary; a searched parameter lives "
                       "under model., optimizer. or train. (lr and weight_decay may be written alone)", name);
    if (!strcmp(name, "train.epochs"))
        return sy_fail(d, m, "search.params: train.epochs cannot be searched: each stage sets its trials' epochs "
                       "(search.stages[i].epochs)");
    return 0;
}

/* choice: [a, b, ...] -> r's choices. */
static int parse_choices(sy_doc *d, yaml_node_t *n, const char *where, hp_param_range *r) {
    char path[160];
    snprintf(path, sizeof path, "%s.choice", where);
    yaml_node_item_t *it;
    int count;
    if (sy_list(d, n, path, 2, HP_MAX_CHOICES, "values", &it, &count)) return -1;
    r->nchoices = count;
    r->numeric_choices = 1;
    for (int i = 0; i < count; i++) {
        yaml_node_t *v = sy_node(d, it[i]);
        snprintf(path, sizeof path, "%s.choice[%d]", where, i);
        sy_field f = {.key = "choice", .kind = SY_STR, .dst = r->choices[i], .cap = HP_CHOICE_TEXT};
        if (sy_read_value(d, &f, v, path)) return -1;
        for (int j = 0; j < i; j++)
            if (!strcmp(r->choices[j], r->choices[i]))
                return sy_fail(d, v->start_mark, "%s: '%s' is listed twice", path, r->choices[i]);
        char *end;
        double x = strtod(r->choices[i], &end);
        if (*end || end == r->choices[i] || !isfinite(x)) r->numeric_choices = 0;
        else r->choice_num[i] = x;
    }
    r->low = 0;
    r->high = count - 1;
    return 0;
}

static int parse_bounds(sy_doc *d, yaml_node_t *bounds, const char *where, hp_param_range *r) {
    char path[160], a[32], b[32], c[32], e[32];
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
    int logish = r->scale == HP_SCALE_LOG || r->scale == HP_SCALE_INT_LOG;
    if (logish && lo < 0)
        return sy_fail(d, bounds->start_mark, "%s.bounds: the lower bound %s must be >= 0 on a log scale", where,
                       sy_fmt_num(lo, a));
    if (lo > r->low || hi < r->high)
        return sy_fail(d, bounds->start_mark, "%s.bounds: [%s, %s] does not contain the range [%s, %s]", where,
                       sy_fmt_num(lo, a), sy_fmt_num(hi, b), sy_fmt_num(r->low, c), sy_fmt_num(r->high, e));
    r->bound_low = lo;
    r->bound_high = hi;
    return 0;
}

/* One searched parameter: {low, high, scale, bounds} or {choice: [...]}. */
static int parse_range(sy_doc *d, yaml_node_t *n, int slot, hp_param_range *r) {
    char where[96], a[32], b[32];
    snprintf(where, sizeof where, "search.params.%s", r->name);
    int scale = HP_SCALE_LOG;
    yaml_node_t *bounds = NULL, *choice = NULL;
    sy_field f[] = {
        F_NUM("low", &r->low, -INFINITY, INFINITY, 0),
        F_NUM("high", &r->high, -INFINITY, INFINITY, 0),
        F_ENUM("scale", &scale, scale_names, NELEM(scale_names), 0),
        F_NODE("bounds", &bounds, 0),
        F_NODE("choice", &choice, 0),
    };
    if (sy_read_map(d, n, where, f, NELEM(f))) return -1;
    r->enabled = 1;
    if (choice || scale == HP_SCALE_CHOICE) {
        if (f[0].seen || f[1].seen || f[3].seen)
            return sy_fail(d, f[f[0].seen ? 0 : f[1].seen ? 1 : 3].key_mark,
                           "%s: a choice takes only 'choice: [values]', not low, high or bounds", where);
        if (!choice) return sy_fail(d, n->start_mark, "%s: scale choice needs 'choice: [values]'", where);
        r->scale = HP_SCALE_CHOICE;
        if (parse_choices(d, choice, where, r)) return -1;
        if (slot >= 0)
            return sy_fail(d, choice->start_mark, "%s: a choice is for other parameters; %s takes a range (low, high; "
                           "a grid stage places `points` values in it)", where, r->name);
        return 0;
    }
    if (!f[0].seen || !f[1].seen)
        return sy_fail(d, n->start_mark, "%s: missing required key '%s' (a range takes low and high; a list of "
                       "values takes choice)", where, f[0].seen ? "high" : "low");
    r->scale = (hp_scale)scale;
    if (is_int_scale(r->scale)) {
        for (int i = 0; i < 2; i++) {
            double v = i ? r->high : r->low;
            if (v != floor(v) || fabs(v) > INT_LIMIT)
                return sy_fail(d, f[i].mark, "%s.%s: %s is not an integer; scale %s takes whole numbers", where,
                               i ? "high" : "low", sy_fmt_num(v, a), scale_names[r->scale]);
        }
    }
    if (!(r->low < r->high))
        return sy_fail(d, f[1].mark, "%s: low (%s) must be less than high (%s)", where, sy_fmt_num(r->low, a),
                       sy_fmt_num(r->high, b));
    int logish = r->scale == HP_SCALE_LOG || r->scale == HP_SCALE_INT_LOG;
    if (slot == HP_PARAM_LR && r->low <= 0)
        return sy_fail(d, f[0].mark, "%s.low: %s is out of range; a learning rate must be > 0", where,
                       sy_fmt_num(r->low, a));
    if (logish && r->low <= 0)
        return sy_fail(d, f[0].mark, "%s.low: %s must be > 0 on a log scale (or use scale: %s)", where,
                       sy_fmt_num(r->low, a), r->scale == HP_SCALE_LOG ? "linear" : "int");
    if (slot == HP_PARAM_WD && r->low < 0)
        return sy_fail(d, f[0].mark, "%s.low: %s is out of range; weight decay must be >= 0", where,
                       sy_fmt_num(r->low, a));
    /* No bounds given: the learning rate and weight decay cannot be negative, so widening a
     * linear range of theirs stops at 0; any other parameter stays within its range (a
     * momentum or a dropout rate widened past it would leave the values its key accepts):
     * `bounds` says how far it may widen. */
    r->bound_low = slot >= 0 ? 0 : r->low;
    r->bound_high = slot >= 0 ? INFINITY : r->high;
    if (bounds && parse_bounds(d, bounds, where, r)) return -1;
    return 0;
}

/* A parameter of an external trainer: any name its program can take (a placeholder, a variable). */
static int check_name(sy_doc *d, yaml_mark_t m, const char *name) {
    size_t n = strlen(name);
    int ok = n > 0 && n < HP_NAME_MAX && !(name[0] >= '0' && name[0] <= '9');
    for (size_t i = 0; i < n && ok; i++) {
        char c = name[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
             c == '.';
    }
    if (!ok)
        return sy_fail(d, m, "search.params: '%.64s' is not a parameter name for the trainer: command; use letters, "
                       "digits, '_', '-' and '.', not starting with a digit, under %d characters", name, HP_NAME_MAX);
    return 0;
}

int spec_parse_params(sy_doc *d, yaml_node_t *n, int external, hp_search_spec *ss, yaml_mark_t marks[HP_MAX_PARAMS]) {
    if (sy_expect(d, n, YAML_MAPPING_NODE, "search.params")) return -1;
    ss->nparams = HP_NFIXED_PARAMS;
    int any = 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *key = sy_node(d, p->key), *val = sy_node(d, p->value);
        char name[HP_NAME_MAX + 8], got[96];
        if (!key || !val || key->type != YAML_SCALAR_NODE || key->data.scalar.length == 0)
            return sy_fail(d, key ? key->start_mark : n->start_mark, "search.params: a key must be a parameter's "
                           "name, got %s", key ? sy_describe(key, got, sizeof got) : "nothing");
        snprintf(name, sizeof name, "%.*s", (int)(key->data.scalar.length < HP_NAME_MAX + 4 ? key->data.scalar.length
                                                                                           : HP_NAME_MAX + 4),
                 (const char *)key->data.scalar.value);
        int slot = fixed_slot(name);
        if (external && slot >= 0 && strcmp(name, slot == HP_PARAM_LR ? "lr" : "weight_decay") != 0)
            slot = -1; /* an external trainer's "optimizer.lr" is just a name */
        if (slot < 0 && (external ? check_name(d, key->start_mark, name) : check_path(d, key->start_mark, name)))
            return -1;
        const char *path = slot == HP_PARAM_LR ? "optimizer.lr" : slot == HP_PARAM_WD ? "optimizer.weight_decay" : name;
        for (int q = 0; q < ss->nparams; q++)
            if ((q >= HP_NFIXED_PARAMS || ss->params[q].enabled) && !strcmp(ss->params[q].path, path))
                return sy_fail(d, key->start_mark, "search.params: %s is listed twice (as %s and %s)", path,
                               ss->params[q].name, name);
        if (slot < 0 && ss->nparams == HP_MAX_PARAMS)
            return sy_fail(d, key->start_mark, "search.params: more than %d parameters", HP_MAX_PARAMS);
        int at = slot >= 0 ? slot : ss->nparams++;
        hp_param_range *r = &ss->params[at];
        memset(r, 0, sizeof *r);
        snprintf(r->name, sizeof r->name, "%.63s", name);
        snprintf(r->path, sizeof r->path, "%.63s", path);
        if (parse_range(d, val, slot, r)) return -1;
        marks[at] = key->start_mark;
        size_t pl = strlen(path);
        if (!external && r->scale == HP_SCALE_CHOICE && pl > 5 && !strcmp(path + pl - 5, ".type")) ss->lenient = 1;
        any = 1;
    }
    if (!any)
        return sy_fail(d, n->start_mark, "search.params: no parameter to search; give at least one (lr, weight_decay, "
                       "or a place in the spec such as optimizer.momentum)");
    return 0;
}

/* The values tried at load: a range's ends and its finite hard bounds (as far as widening may
 * go), every choice. */
static int probe_values(const hp_param_range *r, double *v) {
    if (r->scale == HP_SCALE_CHOICE) {
        for (int i = 0; i < r->nchoices; i++) v[i] = i;
        return r->nchoices;
    }
    int n = 0;
    v[n++] = r->low, v[n++] = r->high;
    if (isfinite(r->bound_low) && r->bound_low < r->low) v[n++] = r->bound_low;
    if (isfinite(r->bound_high) && r->bound_high > r->high) v[n++] = r->bound_high;
    return n;
}

/* The message of a nested parse without its "PATH:LINE:COL: " (the place of an inserted value
 * means nothing to the user; the parameter's own place is given instead). */
static const char *strip_place(const char *msg, const char *path) {
    size_t n = strlen(path);
    if (strncmp(msg, path, n) != 0) return msg;
    const char *p = msg + n;
    for (int k = 0; k < 2 && *p == ':'; k++) {
        p++;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p == ':') p++;
    while (*p == ' ') p++;
    return p;
}

int spec_check_params(sy_doc *d, const hp_spec *s, const yaml_mark_t marks[HP_MAX_PARAMS]) {
    const hp_search_spec *ss = &s->search;
    if (s->ext.enabled) return 0; /* names, not places: the program takes the values */
    for (int p = HP_NFIXED_PARAMS; p < ss->nparams; p++) {
        const hp_param_range *r = &ss->params[p];
        double v[HP_MAX_CHOICES];
        int nv = probe_values(r, v);
        for (int i = 0; i < nv; i++) {
            char text[HP_CHOICE_TEXT + 32];
            hp_param_text(r, v[i], text, sizeof text);
            /* With the learning rate searched, at the low end of its range, as check_across judges it. */
            char lr[32];
            const hp_param_range *lrr = &ss->params[HP_PARAM_LR];
            const char *paths[2] = {r->path, lrr->path}, *values[2] = {text, hp_param_text(lrr, lrr->low, lr, sizeof lr)};
            hp_spec_read_opts o = {.skip_search = 1, .lenient = ss->lenient};
            hp_err inner = {{0}};
            hp_spec t;
            if (spec_parse_subst(d->text, d->len, d->path, &o, lrr->enabled ? 2 : 1, paths, values, &t, &inner) == 0) {
                hp_spec_free(&t);
                continue;
            }
            static const char *const what[] = {"low", "high", "a bound", "a bound"};
            return sy_fail(d, marks[p], "search.params.%s: the value %s (%s) does not work in the spec: %s", r->name,
                           text, r->scale == HP_SCALE_CHOICE ? "a choice" : what[i], strip_place(inner.msg, d->path));
        }
    }
    return 0;
}
