/* spec_yaml.h - private to the spec parser (spec*.c): a loaded YAML document, typed,
 * checked readers for the fields of a mapping, lists, and the writer of a variant's keys (the
 * dump). The lowest piece of the parser: it uses none of spec*.c.
 *
 * Every error is one line "PATH:LINE:COL: message" (1-based, from libyaml's 0-based marks).
 * A mapping is read against a table of the keys valid there (sy_field): unknown keys,
 * duplicate keys (libyaml accepts those silently), wrong types and values out of range are
 * rejected with the key path and the value at fault. Not part of the public API.
 */
#ifndef HP_SPEC_YAML_H
#define HP_SPEC_YAML_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <yaml.h>

#include "hp_err.h"

/* Limits that keep a hostile file from costing time or memory (see docs/spec.md). */
#define SY_MAX_TEXT (1u << 20) /* bytes in a spec */
#define SY_MAX_DEPTH 16        /* nesting of mappings and lists; the schema needs 5 */
#define SY_MAX_FIELDS 32       /* keys of one mapping */

typedef struct sy_doc {
    const char *path;   /* name used in messages */
    const char *text;   /* the YAML text (borrowed), for positions of reader errors */
    size_t len;
    yaml_document_t doc;
    int loaded;
    hp_err *err;
    int lenient;        /* sy_read_variant drops keys of another variant instead of refusing them */
} sy_doc;

/* Parse text (len bytes) into d: exactly one YAML document, nested at most SY_MAX_DEPTH
 * deep. Malformed YAML gives libyaml's problem text at its position. */
int sy_load(sy_doc *d, const char *path, const char *text, size_t len, hp_err *err);
void sy_free(sy_doc *d);

/* Set the value at `path` (spec_yaml_edit.c) ("optimizer.momentum", "model.layers.2.p": mapping keys and 0-based
 * list indices, '.'-separated) to the plain scalar `value`, adding the key (and mappings on the
 * way) where the document lacks it. Fails, naming the path, where a list index is out of range,
 * a step meets a single value, or the place holds a mapping or a list. */
int sy_set_path(sy_doc *d, const char *path, const char *value);
yaml_node_t *sy_root(sy_doc *d); /* never NULL after a successful sy_load */
yaml_node_t *sy_node(sy_doc *d, int index);

/* A scalar node's text and its length (the text need not end at a NUL). */
static inline const char *sy_sval(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }
static inline size_t sy_slen(const yaml_node_t *n) { return n->data.scalar.length; }

/* "PATH:LINE:COL: message"; returns -1. */
int sy_fail(sy_doc *d, yaml_mark_t m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A short, printable, one-line description of a node for messages: "'fast'", "an empty
 * value", "a mapping", "a list". */
const char *sy_describe(const yaml_node_t *n, char *buf, size_t cap);

/* Shortest decimal form that reads back as the same double (whole numbers below 1e15 as
 * integers: "10", not "1e+01"); ".inf", "-.inf", ".nan". */
const char *sy_fmt_num(double v, char buf[32]);

typedef enum sy_kind {
    SY_STR,   /* dst: char[cap]; a non-empty string shorter than cap, no control characters */
    SY_INT,   /* dst: int */
    SY_I64,   /* dst: int64_t */
    SY_U64,   /* dst: uint64_t; lo/hi unused (any value 0 .. 2^64-1) */
    SY_NUM,   /* dst: double, finite */
    SY_BOOL,  /* dst: int, 0 or 1 from true/false/yes/no */
    SY_ENUM,  /* dst: int, the index of the name in names[] */
    SY_NODE   /* dst: yaml_node_t *; read by the caller (nested sections, lists) */
} sy_kind;

#define SY_REQUIRED 1u /* missing key is an error */
#define SY_LO_OPEN 2u  /* value must be > lo (else >= lo) */
#define SY_HI_OPEN 4u  /* value must be < hi (else <= hi) */

typedef struct sy_field {
    const char *key;
    sy_kind kind;
    void *dst;
    size_t cap;                 /* SY_STR: size of dst */
    double lo, hi;              /* SY_INT, SY_I64, SY_NUM: accepted range (may be +-INFINITY) */
    unsigned flags;
    const char *const *names;   /* SY_ENUM: the valid names */
    int nnames;
    /* filled by sy_read_map */
    int seen;
    yaml_mark_t key_mark;       /* where the key was written */
    yaml_mark_t mark;           /* where its value starts */
} sy_field;

/* Read mapping `map` (at path `where`, "" for the top level) against fields[0..nf). Each
 * key present is converted into its dst; keys not present leave dst untouched (the
 * caller's default). */
int sy_read_map(sy_doc *d, yaml_node_t *map, const char *where, sy_field *fields, int nf);

/* Convert one value node into f->dst as f's kind and range say (a list item, or a key read
 * ahead of its mapping); `path` names it in messages. */
int sy_read_value(sy_doc *d, sy_field *f, yaml_node_t *v, const char *path);

/* ---- mappings whose valid keys depend on a variant -----------------------------------------
 * A layer's keys depend on its type, an optimizer's on its type, the data section's on its
 * format. Each variant lists its keys, space-separated, with a '*' after a required one:
 * {"conv", "type filters* kernel* stride padding bias init"}. The caller reads the tag first
 * (sy_read_tag), then the whole mapping against the one table of every key of every variant
 * (sy_read_variant), which keeps only the chosen variant's keys. A key that belongs to another
 * variant is reported as not applying to this one ("key 'units' (set to '5') does not apply to
 * type relu, only to dense; valid keys for relu: type"); any other unknown key as usual, with
 * the variant named and a "did you mean" among its keys. */
typedef struct sy_variant {
    const char *name; /* the tag's value: "conv" */
    const char *keys; /* the keys valid for it, in the order messages list them */
} sy_variant;

/* Read the tag field (an SY_ENUM, e.g. "type") of mapping `map` ahead of the other keys. Absent:
 * an error if tag->flags has SY_REQUIRED, else *dst keeps the caller's default. */
int sy_read_tag(sy_doc *d, yaml_node_t *map, const char *where, sy_field *tag);

/* Read `map` as variant v[chosen] of v[0..nv), against fields[0..nf) (every key of every
 * variant; each variant's keys must have a field). Fills `seen`, `key_mark` and `mark` of the
 * fields read, like sy_read_map. With d->lenient, keys of another variant are dropped from the
 * mapping (a trial's spec where a choice picked the variant). */
int sy_read_variant(sy_doc *d, yaml_node_t *map, const char *where, const char *tag, const sy_variant *v,
                    int nv, int chosen, sy_field *fields, int nf);

/* 1 if the space-separated key list names key (n bytes; a '*' suffix is ignored). */
int sy_keys_has(const char *keys, const char *key, size_t n);

/* Require a mapping / a sequence at `where`. */
int sy_expect(sy_doc *d, yaml_node_t *n, yaml_node_type_t type, const char *where);

/* A number at `where` that may also be +-.inf (for hard bounds); NaN is refused. */
int sy_read_bound(sy_doc *d, yaml_node_t *n, const char *where, double *out);

/* Format a range as "must be >= 1", "must be in [0, 1)". */
const char *sy_fmt_range(double lo, double hi, unsigned flags, char *buf, size_t cap);

/* Items of list `n` at `where` (a YAML sequence of min..max items, `noun` naming them in
 * messages: "layers", "files"): *items and *count on success. */
int sy_list(sy_doc *d, yaml_node_t *n, const char *where, int min, int max, const char *noun,
            yaml_node_item_t **items, int *count);

/* Write "SEP key: value" for each key of a variant's key list but "type", put() writing the
 * value of `spec`'s field for that key. */
typedef void (*sy_put_fn)(const void *spec, const char *key, size_t n, FILE *f);
void sy_put_keys(const char *keys, const char *sep, const void *spec, sy_put_fn put, FILE *f);

#endif
