/* spec_train.c - the optimizer and train sections of a spec: each optimizer type and each
 * learning-rate schedule with its own keys (PyTorch's defaults), augmentation and early
 * stopping (docs/spec.md, "optimizer" and "train"), and writing them back out. */
#include <math.h>
#include <string.h>

#include "schedule.h"
#include "spec_parts.h"

/* ---- optimizer ---------------------------------------------------------------------------- */

/* The keys each optimizer type takes, as torch.optim's constructors do. */
static const char *const optim_keys[HP_OPTIM_COUNT_] = {
    [HP_OPTIM_SGD] = "type lr momentum nesterov weight_decay",
    [HP_OPTIM_ADAM] = "type lr betas eps weight_decay",
    [HP_OPTIM_ADAMW] = "type lr betas eps weight_decay",
    [HP_OPTIM_RMSPROP] = "type lr alpha eps momentum weight_decay",
    [HP_OPTIM_ADAGRAD] = "type lr eps weight_decay",
};

/* Default learning rates: PyTorch's for Adam, AdamW (1e-3), RMSprop and Adagrad (1e-2); for
 * SGD, which has none in older PyTorch, 0.01. */
static const double optim_lr[HP_OPTIM_COUNT_] = {
    [HP_OPTIM_SGD] = 0.01, [HP_OPTIM_ADAM] = 1e-3, [HP_OPTIM_ADAMW] = 1e-3, [HP_OPTIM_RMSPROP] = 1e-2,
    [HP_OPTIM_ADAGRAD] = 1e-2};

void spec_optim_defaults(hp_optim_spec *o, hp_optim_type type) {
    *o = (hp_optim_spec){.type = type, .lr = optim_lr[type]};
    /* AdamW's weight decay defaults to 0.01 in PyTorch (hp_optim_spec_defaults leaves it) */
    if (type == HP_OPTIM_ADAMW) o->weight_decay = 0.01;
    hp_optim_spec_defaults(o); /* betas, eps, alpha; values written in the spec replace them */
}

static void optim_variants(sy_variant v[HP_OPTIM_COUNT_], const char *names[HP_OPTIM_COUNT_]) {
    for (int i = 0; i < HP_OPTIM_COUNT_; i++) {
        names[i] = hp_optim_type_name((hp_optim_type)i);
        v[i] = (sy_variant){names[i], optim_keys[i]};
    }
}

/* betas: [beta1, beta2], each in [0, 1) (torch.optim.Adam's check). */
static int parse_betas(sy_doc *d, yaml_node_t *n, hp_optim_spec *o) {
    if (sy_expect(d, n, YAML_SEQUENCE_NODE, "optimizer.betas")) return -1;
    yaml_node_item_t *it = n->data.sequence.items.start;
    ptrdiff_t count = n->data.sequence.items.top - it;
    if (count != 2)
        return sy_fail(d, n->start_mark, "optimizer.betas: expected a pair [beta1, beta2], got %td item%s", count,
                       count == 1 ? "" : "s");
    double *dst[2] = {&o->beta1, &o->beta2};
    for (int k = 0; k < 2; k++) {
        char path[32];
        snprintf(path, sizeof path, "optimizer.betas[%d]", k);
        sy_field f = F_NUM("betas", dst[k], 0, 1, SY_HI_OPEN);
        if (sy_read_value(d, &f, sy_node(d, it[k]), path)) return -1;
    }
    return 0;
}

int spec_parse_optim(sy_doc *d, yaml_node_t *n, hp_optim_spec *o) {
    int type = HP_OPTIM_SGD;
    const char *names[HP_OPTIM_COUNT_];
    sy_variant variants[HP_OPTIM_COUNT_];
    optim_variants(variants, names);
    yaml_node_t *betas = NULL;
    enum { K_TYPE, K_LR, K_MOMENTUM, K_NESTEROV, K_WD, K_BETAS, K_EPS, K_ALPHA, K_COUNT };
    sy_field f[] = {
        [K_TYPE] = F_ENUM("type", &type, names, HP_OPTIM_COUNT_, 0),
        [K_LR] = F_NUM("lr", &o->lr, 0, INFINITY, SY_LO_OPEN),
        [K_MOMENTUM] = F_NUM("momentum", &o->momentum, 0, 1, SY_HI_OPEN),
        [K_NESTEROV] = F_BOOL("nesterov", &o->nesterov),
        [K_WD] = F_NUM("weight_decay", &o->weight_decay, 0, INFINITY, 0),
        [K_BETAS] = F_NODE("betas", &betas, 0),
        /* eps > 0: hp_optim_spec_defaults reads 0 as "unset" */
        [K_EPS] = F_NUM("eps", &o->eps, 0, INFINITY, SY_LO_OPEN),
        [K_ALPHA] = F_NUM("alpha", &o->alpha, 0, 1, SY_HI_OPEN),
    };
    _Static_assert(NELEM(f) == K_COUNT, "a field per optimizer key");
    if (sy_read_tag(d, n, "optimizer", &f[K_TYPE])) return -1;
    spec_optim_defaults(o, (hp_optim_type)type);
    if (sy_read_variant(d, n, "optimizer", "type", variants, HP_OPTIM_COUNT_, type, f, NELEM(f))) return -1;
    if (betas && parse_betas(d, betas, o)) return -1;
    if (o->nesterov && o->momentum == 0)
        return sy_fail(d, f[K_NESTEROV].mark, "optimizer.nesterov: Nesterov momentum needs momentum > 0 "
                                              "(momentum is 0); set optimizer.momentum or nesterov: false");
    /* The trainer's own check, so that what the parser accepts the optimizer accepts too. */
    hp_err e = {{0}};
    if (hp_optim_spec_check(o, &e)) return sy_fail(d, n->start_mark, "%s", e.msg);
    return 0;
}

static void put_optim(const void *spec, const char *key, size_t n, FILE *f) {
    const hp_optim_spec *o = spec;
    char a[32], b[32];
#define IS(k) (n == sizeof(k) - 1 && memcmp(key, k, n) == 0)
    if (IS("lr")) fputs(sy_fmt_num(o->lr, a), f);
    else if (IS("momentum")) fputs(sy_fmt_num(o->momentum, a), f);
    else if (IS("nesterov")) fputs(o->nesterov ? "true" : "false", f);
    else if (IS("weight_decay")) fputs(sy_fmt_num(o->weight_decay, a), f);
    else if (IS("betas")) fprintf(f, "[%s, %s]", sy_fmt_num(o->beta1, a), sy_fmt_num(o->beta2, b));
    else if (IS("eps")) fputs(sy_fmt_num(o->eps, a), f);
    else if (IS("alpha")) fputs(sy_fmt_num(o->alpha, a), f);
    else fputs("~", f); /* a key without a writer: the parse back fails loudly */
#undef IS
}

void spec_dump_optim(const hp_optim_spec *o, FILE *f) {
    fprintf(f, "optimizer:\n  type: %s", hp_optim_type_name(o->type));
    sy_put_keys((unsigned)o->type < HP_OPTIM_COUNT_ ? optim_keys[o->type] : "", "\n  ", o, put_optim, f);
    fputc('\n', f);
}

/* ---- train.schedule ----------------------------------------------------------------------- */

/* The keys each schedule takes; every one may warm up linearly first. */
static const char *const sched_keys[HP_SCHED_COUNT_] = {
    [HP_SCHED_CONSTANT] = "type warmup_epochs",
    [HP_SCHED_STEP] = "type warmup_epochs step_size* gamma",
    [HP_SCHED_MULTISTEP] = "type warmup_epochs milestones* gamma",
    [HP_SCHED_COSINE] = "type warmup_epochs min_lr",
    [HP_SCHED_LINEAR] = "type warmup_epochs min_lr",
    [HP_SCHED_INV_SQRT] = "type warmup_epochs",
    [HP_SCHED_PLATEAU] = "type warmup_epochs gamma patience threshold min_lr",
};

void spec_train_defaults(hp_train_spec *t) {
    *t = (hp_train_spec){.batch_size = 128, .epochs = 1, .diverge_factor = 4};
    /* PyTorch's: StepLR/MultiStepLR gamma 0.1; ReduceLROnPlateau factor 0.1, patience 10,
     * threshold 1e-4 (relative); min_lr 0 */
    t->schedule = (hp_sched_spec){.type = HP_SCHED_CONSTANT, .gamma = 0.1, .patience = 10, .threshold = 1e-4};
}

static int parse_milestones(sy_doc *d, yaml_node_t *n, hp_sched_spec *s) {
    yaml_node_item_t *it;
    int count;
    if (sy_list(d, n, "train.schedule.milestones", 1, HP_MAX_MILESTONES, "milestones", &it, &count)) return -1;
    for (int k = 0; k < count; k++) {
        char path[48];
        snprintf(path, sizeof path, "train.schedule.milestones[%d]", k);
        yaml_node_t *v = sy_node(d, it[k]);
        sy_field f = F_INT("milestones", &s->milestones[k], 1, INFINITY);
        if (sy_read_value(d, &f, v, path)) return -1;
        if (k > 0 && s->milestones[k] <= s->milestones[k - 1])
            return sy_fail(d, v->start_mark, "%s: '%d' is not greater than the milestone before it (%d); "
                           "milestones are epochs in increasing order", path, s->milestones[k], s->milestones[k - 1]);
    }
    s->nmilestones = count;
    return 0;
}

static int parse_schedule(sy_doc *d, yaml_node_t *n, hp_sched_spec *s, spec_marks *mk) {
    const char *const where = "train.schedule";
    int type = HP_SCHED_CONSTANT;
    const char *names[HP_SCHED_COUNT_];
    sy_variant variants[HP_SCHED_COUNT_];
    for (int i = 0; i < HP_SCHED_COUNT_; i++) {
        names[i] = hp_sched_type_name((hp_sched_type)i);
        variants[i] = (sy_variant){names[i], sched_keys[i]};
    }
    yaml_node_t *milestones = NULL;
    enum { K_TYPE, K_WARMUP, K_STEP, K_GAMMA, K_MILESTONES, K_MIN_LR, K_PATIENCE, K_THRESHOLD, K_COUNT };
    sy_field f[] = {
        [K_TYPE] = F_ENUM("type", &type, names, HP_SCHED_COUNT_, 0),
        [K_WARMUP] = F_INT("warmup_epochs", &s->warmup_epochs, 0, INFINITY),
        [K_STEP] = F_INT("step_size", &s->step_size, 1, INFINITY),
        [K_GAMMA] = F_NUM("gamma", &s->gamma, 0, 1, SY_LO_OPEN),
        [K_MILESTONES] = F_NODE("milestones", &milestones, 0),
        [K_MIN_LR] = F_NUM("min_lr", &s->min_lr, 0, INFINITY, 0),
        [K_PATIENCE] = F_INT("patience", &s->patience, 0, INFINITY),
        [K_THRESHOLD] = F_NUM("threshold", &s->threshold, 0, 1, SY_HI_OPEN), /* relative */
    };
    _Static_assert(NELEM(f) == K_COUNT, "a field per schedule key");
    if (sy_read_tag(d, n, where, &f[K_TYPE])) return -1;
    if (sy_read_variant(d, n, where, "type", variants, HP_SCHED_COUNT_, type, f, NELEM(f))) return -1;
    s->type = (hp_sched_type)type;
    if (milestones && parse_milestones(d, milestones, s)) return -1;
    if (s->type == HP_SCHED_PLATEAU && s->gamma >= 1) /* ReduceLROnPlateau: "Factor should be < 1.0" */
        return sy_fail(d, f[K_GAMMA].mark, "%s.gamma: '%g' is out of range for plateau; the factor must be in (0, 1) "
                       "(1 would never reduce the rate)", where, s->gamma);
    mk->has_warmup = f[K_WARMUP].seen;
    mk->warmup = f[K_WARMUP].mark;
    mk->has_min_lr = f[K_MIN_LR].seen;
    mk->min_lr = f[K_MIN_LR].mark;
    hp_err e = {{0}};
    if (hp_sched_spec_check(s, &e)) return sy_fail(d, n->start_mark, "%s", e.msg);
    return 0;
}

static void put_sched(const void *spec, const char *key, size_t n, FILE *f) {
    const hp_sched_spec *s = spec;
    char a[32];
#define IS(k) (n == sizeof(k) - 1 && memcmp(key, k, n) == 0)
    if (IS("warmup_epochs")) fprintf(f, "%d", s->warmup_epochs);
    else if (IS("step_size")) fprintf(f, "%d", s->step_size);
    else if (IS("gamma")) fputs(sy_fmt_num(s->gamma, a), f);
    else if (IS("min_lr")) fputs(sy_fmt_num(s->min_lr, a), f);
    else if (IS("patience")) fprintf(f, "%d", s->patience);
    else if (IS("threshold")) fputs(sy_fmt_num(s->threshold, a), f);
    else if (IS("milestones")) {
        fputc('[', f);
        for (int k = 0; k < s->nmilestones && k < HP_MAX_MILESTONES; k++)
            fprintf(f, "%s%d", k ? ", " : "", s->milestones[k]);
        fputc(']', f);
    } else {
        fputs("~", f); /* a key without a writer: the parse back fails loudly */
    }
#undef IS
}

/* ---- train -------------------------------------------------------------------------------- */

static int parse_augment(sy_doc *d, yaml_node_t *n, hp_augment_spec *a) {
    sy_field f[] = {
        F_BOOL("flip", &a->flip),
        F_INT("shift", &a->shift, 0, SPEC_MAX_AUGMENT),
        F_INT("cutout", &a->cutout, 0, SPEC_MAX_AUGMENT),
        F_NUM("mixup", &a->mixup, 0, INFINITY, 0),
    };
    return sy_read_map(d, n, "train.augment", f, NELEM(f));
}

int spec_parse_train(sy_doc *d, yaml_node_t *n, hp_train_spec *t, spec_marks *mk) {
    yaml_node_t *schedule = NULL, *augment = NULL;
    sy_field f[] = {
        F_INT("batch_size", &t->batch_size, 1, INFINITY),
        F_INT("epochs", &t->epochs, 1, INFINITY),
        F_NUM("diverge_factor", &t->diverge_factor, 1, INFINITY, SY_LO_OPEN),
        F_INT("synthetic_ms", &t->synthetic_ms, 0, 3600000),
        F_NODE("schedule", &schedule, 0),
        F_NODE("augment", &augment, 0),
        F_INT("patience", &t->patience, 0, INFINITY),
    };
    if (sy_read_map(d, n, "train", f, NELEM(f))) return -1;
    if (schedule && parse_schedule(d, schedule, &t->schedule, mk)) return -1;
    if (augment && parse_augment(d, augment, &t->augment)) return -1;
    return 0;
}

void spec_dump_train(const hp_train_spec *t, FILE *f) {
    char a[32];
    fprintf(f, "train:\n  batch_size: %d\n  epochs: %d\n  diverge_factor: %s\n", t->batch_size, t->epochs,
            sy_fmt_num(t->diverge_factor, a));
    if (t->synthetic_ms > 0) fprintf(f, "  synthetic_ms: %d\n", t->synthetic_ms);
    fprintf(f, "  patience: %d\n", t->patience);
    const hp_sched_spec *s = &t->schedule;
    fprintf(f, "  schedule: {type: %s", hp_sched_type_name(s->type));
    sy_put_keys((unsigned)s->type < HP_SCHED_COUNT_ ? sched_keys[s->type] : "", ", ", s, put_sched, f);
    const hp_augment_spec *g = &t->augment;
    fprintf(f, "}\n  augment: {flip: %s, shift: %d, cutout: %d, mixup: %s}\n", g->flip ? "true" : "false", g->shift,
            g->cutout, sy_fmt_num(g->mixup, a));
}
