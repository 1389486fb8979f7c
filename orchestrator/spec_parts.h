/* spec_parts.h - private to the spec parser: what its files (spec.c: the root, data and
 * search sections and the public API; spec_model.c: model.layers; spec_train.c: optimizer
 * and train; spec_dump.c: hp_spec_dump) share. Not part of the public API.
 */
#ifndef HP_SPEC_PARTS_H
#define HP_SPEC_PARTS_H

#include <stdio.h>

#include "spec.h"
#include "spec_yaml.h"

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Field table entries (see sy_field). */
#define F_NODE(k, p, fl) {.key = (k), .kind = SY_NODE, .dst = (p), .flags = (fl)}
#define F_STR(k, buf) {.key = (k), .kind = SY_STR, .dst = (buf), .cap = sizeof(buf)}
#define F_BOOL(k, p) {.key = (k), .kind = SY_BOOL, .dst = (p)}
#define F_ENUM(k, p, tbl, n, fl) {.key = (k), .kind = SY_ENUM, .dst = (p), .names = (tbl), .nnames = (n), .flags = (fl)}
#define F_INT(k, p, lo_, hi_) {.key = (k), .kind = SY_INT, .dst = (p), .lo = (lo_), .hi = (hi_)}
#define F_I64(k, p, lo_, hi_) {.key = (k), .kind = SY_I64, .dst = (p), .lo = (lo_), .hi = (hi_)}
#define F_NUM(k, p, lo_, hi_, fl) {.key = (k), .kind = SY_NUM, .dst = (p), .lo = (lo_), .hi = (hi_), .flags = (fl)}

/* Largest sizes the parser accepts: far beyond any real model, small enough that sizes
 * computed from them cannot overflow. */
#define SPEC_MAX_UNITS (1 << 20)  /* dense units, conv filters */
#define SPEC_MAX_KERNEL 1024      /* kernel, stride, padding of convolutions and pools */
#define SPEC_MAX_AUGMENT 1024     /* augmentation shift and cutout, in pixels */

/* Marks of values that the checks across sections need once every section has been read. */
typedef struct spec_marks {
    yaml_node_t *layers;              /* model.layers */
    yaml_mark_t units[HP_MAX_LAYERS]; /* each dense layer's units value */
    int has_warmup, has_min_lr;       /* train.schedule keys written */
    int epochs_overridden;            /* train.epochs came from hp_spec_read_opts (for messages) */
    yaml_mark_t warmup, min_lr;       /* their values */
    yaml_mark_t stage_epochs[HP_MAX_STAGES]; /* each stage's epochs value (or the stage) */
    yaml_mark_t param[HP_MAX_PARAMS];       /* each searched parameter's name in search.params */
    yaml_mark_t stage_method[HP_MAX_STAGES]; /* each stage's method value */
} spec_marks;

/* Sections (each fills its part of the spec, which holds the defaults on entry). */
int spec_parse_model(sy_doc *d, yaml_node_t *n, hp_model_spec *m, spec_marks *mk);
void spec_optim_defaults(hp_optim_spec *o, hp_optim_type type);
int spec_parse_optim(sy_doc *d, yaml_node_t *n, hp_optim_spec *o);
void spec_train_defaults(hp_train_spec *t);
int spec_parse_train(sy_doc *d, yaml_node_t *n, hp_train_spec *t, spec_marks *mk);

/* search.params (spec_params.c): read them into ss (marks: where each is named); then, once the
 * whole spec is read, try each parameter's ends and choices in the spec (spec_parse_subst). */
int spec_parse_params(sy_doc *d, yaml_node_t *n, int external, hp_search_spec *ss, yaml_mark_t marks[HP_MAX_PARAMS]);
/* trainer: (spec_external.c), and what a spec with one may not have (model, optimizer, data,
 * cuda; train keys other than epochs and diverge_factor). */
int spec_parse_external(sy_doc *d, yaml_node_t *n, hp_external_spec *e);
int spec_check_external(sy_doc *d, yaml_node_t *root, yaml_node_t *train);
int spec_check_params(sy_doc *d, const hp_spec *s, const yaml_mark_t marks[HP_MAX_PARAMS]);
/* Parse a copy of text with the value at each paths[i] set to values[i] (spec.c). */
int spec_parse_subst(const char *text, size_t len, const char *path, const hp_spec_read_opts *o, int n,
                     const char *const *paths, const char *const *values, hp_spec *out, hp_err *err);

/* Writers of the resolved sections for hp_spec_dump, in the form the parsers read back. */
void spec_dump_layers(const hp_model_spec *m, FILE *f);
void spec_dump_optim(const hp_optim_spec *o, FILE *f);
void spec_dump_train(const hp_train_spec *t, FILE *f);

#endif
