/* spec_yaml.c - see spec_yaml.h. Loads a YAML document with libyaml and reads typed fields
 * out of its mappings, with one-line "PATH:LINE:COL: message" errors. */
#include "spec_yaml.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sy_fail(sy_doc *d, yaml_mark_t m, const char *fmt, ...) {
    char msg[HP_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hp_errf(d->err, "%s:%lu:%lu: %s", d->path, (unsigned long)m.line + 1,
                   (unsigned long)m.column + 1, msg);
}

/* Reader errors (bad UTF-8, control characters) carry a byte offset, not a mark: count the
 * lines and the characters (UTF-8 lead bytes) of the last line up to it. */
static yaml_mark_t mark_at_offset(const sy_doc *d, size_t offset) {
    yaml_mark_t m = {0, 0, 0};
    if (offset > d->len) offset = d->len;
    m.index = offset;
    for (size_t i = 0; i < offset; i++) {
        unsigned char c = (unsigned char)d->text[i];
        if (c == '\n') {
            m.line++;
            m.column = 0;
        } else if ((c & 0xC0) != 0x80) {
            m.column++;
        }
    }
    return m;
}

static int parser_fail(sy_doc *d, const yaml_parser_t *p) {
    const char *problem = p->problem ? p->problem : "unknown problem";
    switch (p->error) {
    case YAML_MEMORY_ERROR:
        return hp_errf(d->err, "%s: out of memory while parsing the YAML", d->path);
    case YAML_READER_ERROR: {
        yaml_mark_t m = mark_at_offset(d, p->problem_offset);
        if (p->problem_value != -1)
            return sy_fail(d, m, "malformed YAML: %s (byte or character 0x%X)", problem,
                           (unsigned)p->problem_value);
        return sy_fail(d, m, "malformed YAML: %s", problem);
    }
    default: {
        /* libyaml's words for a tab in the indentation do not say "tab" */
        const char *hint = p->problem_mark.index < d->len && d->text[p->problem_mark.index] == '\t'
                               ? "; it is a tab: indent YAML with spaces" : "";
        if (p->context)
            return sy_fail(d, p->problem_mark, "malformed YAML: %s (%s at line %lu, column %lu)%s",
                           problem, p->context, (unsigned long)p->context_mark.line + 1,
                           (unsigned long)p->context_mark.column + 1, hint);
        return sy_fail(d, p->problem_mark, "malformed YAML: %s%s", problem, hint);
    }
    }
}

/* Pass 1 over the events: syntax, one document, bounded nesting. libyaml's scanner slows
 * down quadratically on very deep flow nesting, so this pass stops long before the loader
 * would have to build such a tree. */
static int check_events(sy_doc *d, int *ndocs) {
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return hp_errf(d->err, "%s: out of memory initialising the YAML parser", d->path);
    yaml_parser_set_input_string(&p, (const unsigned char *)d->text, d->len);
    int depth = 0, rc = 0, done = 0;
    *ndocs = 0;
    while (!done && rc == 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = parser_fail(d, &p);
            break;
        }
        switch (ev.type) {
        case YAML_DOCUMENT_START_EVENT:
            if (++*ndocs > 1)
                rc = sy_fail(d, ev.start_mark,
                             "a spec is one YAML document, but a second document starts here");
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++depth > SY_MAX_DEPTH)
                rc = sy_fail(d, ev.start_mark, "nested more than %d levels deep; a spec needs at most 5",
                             SY_MAX_DEPTH);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return rc;
}

int sy_load(sy_doc *d, const char *path, const char *text, size_t len, hp_err *err) {
    memset(d, 0, sizeof *d);
    d->path = path;
    d->text = text;
    d->len = len;
    d->err = err;
    int ndocs = 0;
    if (check_events(d, &ndocs)) return -1;
    yaml_mark_t start = {0, 0, 0};
    if (ndocs == 0)
        return sy_fail(d, start, "the spec is empty (no YAML document); it needs at least a model: section");

    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return hp_errf(err, "%s: out of memory initialising the YAML parser", path);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    int ok = yaml_parser_load(&p, &d->doc);
    int rc = ok ? 0 : parser_fail(d, &p); /* e.g. an undefined alias */
    yaml_parser_delete(&p);
    if (rc) return -1;
    d->loaded = 1;
    if (!yaml_document_get_root_node(&d->doc))
        return sy_fail(d, start, "the spec is empty (no YAML document); it needs at least a model: section");
    /* YAML 1.1 merge keys (<<: *anchor) are not part of YAML 1.2 and libyaml does not expand
     * them: said plainly, instead of the missing keys they would have brought. */
    for (yaml_node_t *n = d->doc.nodes.start; n < d->doc.nodes.top; n++) {
        if (n->type != YAML_MAPPING_NODE) continue;
        for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
            yaml_node_t *k = yaml_document_get_node(&d->doc, pr->key);
            if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == 2 &&
                memcmp(k->data.scalar.value, "<<", 2) == 0 && k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
                return sy_fail(d, k->start_mark,
                               "a YAML merge key ('<<: *anchor') is not supported: write the keys out (anchors "
                               "and aliases for whole values work)");
        }
    }
    return 0;
}

void sy_free(sy_doc *d) {
    if (d->loaded) yaml_document_delete(&d->doc);
    d->loaded = 0;
}

yaml_node_t *sy_root(sy_doc *d) { return yaml_document_get_root_node(&d->doc); }
yaml_node_t *sy_node(sy_doc *d, int index) { return yaml_document_get_node(&d->doc, index); }

/* ---- scalars ---------------------------------------------------------------------------- */

static int is_plain(const yaml_node_t *n) { return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE; }

static int is_one_of(const char *s, size_t n, const char *const *words) {
    for (; *words; words++)
        if (strlen(*words) == n && memcmp(*words, s, n) == 0) return 1;
    return 0;
}

/* YAML's null: an empty value, ~ or null (plain only; "null" in quotes is a string). */
static int is_null(const yaml_node_t *n) {
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    return n->type == YAML_SCALAR_NODE && is_plain(n) && is_one_of(sy_sval(n), sy_slen(n), nulls);
}

/* Copy at most `max` characters of s for a message: control characters become '?', and a
 * cut is marked with "...". */
static void clip(const char *s, size_t n, size_t max, char *buf, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < n && i < max && o + 4 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (n > max && o + 4 < cap) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
}

const char *sy_describe(const yaml_node_t *n, char *buf, size_t cap) {
    if (!n) {
        snprintf(buf, cap, "nothing");
    } else if (n->type == YAML_MAPPING_NODE) {
        snprintf(buf, cap, "a mapping");
    } else if (n->type == YAML_SEQUENCE_NODE) {
        snprintf(buf, cap, "a list");
    } else if (n->type == YAML_SCALAR_NODE && is_null(n)) {
        snprintf(buf, cap, "an empty value");
    } else if (n->type == YAML_SCALAR_NODE) {
        char v[64];
        clip(sy_sval(n), sy_slen(n), 40, v, sizeof v);
        snprintf(buf, cap, "'%s'", v);
    } else {
        snprintf(buf, cap, "nothing");
    }
    return buf;
}

const char *sy_fmt_num(double v, char buf[32]) {
    if (isnan(v)) return strcpy(buf, ".nan");
    if (isinf(v)) return strcpy(buf, v > 0 ? ".inf" : "-.inf");
    /* Whole numbers as written (10, not %.1g's 1e+01), up to where %g would go exponential anyway. */
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, 32, "%.0f", v);
        if (strcmp(buf, "-0") == 0) strcpy(buf, "0");
        return buf;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    return buf;
}

const char *sy_fmt_range(double lo, double hi, unsigned flags, char *buf, size_t cap) {
    char a[32], b[32];
    sy_fmt_num(lo, a);
    sy_fmt_num(hi, b);
    if (isinf(hi) && hi > 0)
        snprintf(buf, cap, "must be %s %s", (flags & SY_LO_OPEN) ? ">" : ">=", a);
    else if (isinf(lo) && lo < 0)
        snprintf(buf, cap, "must be %s %s", (flags & SY_HI_OPEN) ? "<" : "<=", b);
    else
        snprintf(buf, cap, "must be in %c%s, %s%c", (flags & SY_LO_OPEN) ? '(' : '[', a, b,
                 (flags & SY_HI_OPEN) ? ')' : ']');
    return buf;
}

static int in_range(double v, double lo, double hi, unsigned flags) {
    int lo_ok = (flags & SY_LO_OPEN) ? v > lo : v >= lo;
    int hi_ok = (flags & SY_HI_OPEN) ? v < hi : v <= hi;
    return lo_ok && hi_ok;
}

/* A scalar with a value (not null). `expected` names the type for the message; `plain`
 * requires an unquoted scalar (numbers and booleans: "0.5" in quotes is a string). */
static int need_scalar(sy_doc *d, const yaml_node_t *n, const char *where, const char *expected,
                       int plain) {
    char got[96];
    if (n->type != YAML_SCALAR_NODE || is_null(n))
        return sy_fail(d, n->start_mark, "%s: expected %s, got %s", where, expected,
                       sy_describe(n, got, sizeof got));
    if (plain && !is_plain(n))
        return sy_fail(d, n->start_mark, "%s: expected %s, got the quoted string %s (write it without quotes)",
                       where, expected, sy_describe(n, got, sizeof got));
    return 0;
}

static size_t digits(const char *s, size_t i, size_t n) {
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    return i;
}

/* [-+]? digits */
static int is_integer_text(const char *s, size_t n) {
    size_t i = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    size_t j = digits(s, i, n);
    return j > i && j == n;
}

/* [-+]? (digits [. digits*] | . digits) ([eE] [-+]? digits)?  (YAML 1.2 core floats and ints,
 * written in decimal; no hex, no underscores) */
static int is_number_text(const char *s, size_t n) {
    size_t i = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    size_t j = digits(s, i, n);
    size_t mant = j - i;
    if (j < n && s[j] == '.') {
        size_t k = digits(s, j + 1, n);
        mant += k - (j + 1);
        j = k;
    }
    if (mant == 0) return 0;
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        size_t k = j + 1;
        if (k < n && (s[k] == '-' || s[k] == '+')) k++;
        size_t e = digits(s, k, n);
        if (e == k) return 0;
        j = e;
    }
    return j == n;
}

static int read_number(sy_doc *d, const yaml_node_t *n, const char *where, int allow_inf, double *out) {
    static const char *const pinf[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL};
    static const char *const ninf[] = {"-.inf", "-.Inf", "-.INF", NULL};
    static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};
    char got[96];
    if (need_scalar(d, n, where, "a number", 1)) return -1;
    const char *s = sy_sval(n);
    size_t len = sy_slen(n);
    int pos = is_one_of(s, len, pinf), neg = is_one_of(s, len, ninf);
    if (pos || neg) {
        if (!allow_inf)
            return sy_fail(d, n->start_mark, "%s: expected a finite number, got %s", where,
                           sy_describe(n, got, sizeof got));
        *out = pos ? INFINITY : -INFINITY;
        return 0;
    }
    if (is_one_of(s, len, nans))
        return sy_fail(d, n->start_mark, "%s: expected a number, got %s (not a number)", where,
                       sy_describe(n, got, sizeof got));
    if (strlen(s) != len || !is_number_text(s, len))
        return sy_fail(d, n->start_mark, "%s: expected a number, got %s", where,
                       sy_describe(n, got, sizeof got));
    errno = 0;
    double v = strtod(s, NULL);
    if (errno == ERANGE && isinf(v))
        return sy_fail(d, n->start_mark, "%s: %s is too large for a double", where,
                       sy_describe(n, got, sizeof got));
    *out = v; /* an underflow gives 0 or a subnormal; the range check judges it */
    return 0;
}

int sy_read_bound(sy_doc *d, yaml_node_t *n, const char *where, double *out) {
    return read_number(d, n, where, 1, out);
}

static int read_int64(sy_doc *d, const yaml_node_t *n, const char *where, int64_t *out) {
    char got[96];
    if (need_scalar(d, n, where, "an integer", 1)) return -1;
    const char *s = sy_sval(n);
    size_t len = sy_slen(n);
    if (strlen(s) != len || !is_integer_text(s, len))
        return sy_fail(d, n->start_mark, "%s: expected an integer, got %s", where,
                       sy_describe(n, got, sizeof got));
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE)
        return sy_fail(d, n->start_mark, "%s: %s does not fit in a 64-bit integer", where,
                       sy_describe(n, got, sizeof got));
    *out = (int64_t)v;
    return 0;
}

static int read_uint64(sy_doc *d, const yaml_node_t *n, const char *where, uint64_t *out) {
    char got[96];
    if (need_scalar(d, n, where, "a non-negative integer", 1)) return -1;
    const char *s = sy_sval(n);
    size_t len = sy_slen(n);
    if (strlen(s) != len || !is_integer_text(s, len))
        return sy_fail(d, n->start_mark, "%s: expected a non-negative integer, got %s", where,
                       sy_describe(n, got, sizeof got));
    if (s[0] == '-')
        return sy_fail(d, n->start_mark, "%s: %s is out of range; it must be >= 0", where,
                       sy_describe(n, got, sizeof got));
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno == ERANGE)
        return sy_fail(d, n->start_mark, "%s: %s is too large; it must be at most %llu", where,
                       sy_describe(n, got, sizeof got), (unsigned long long)UINT64_MAX);
    *out = (uint64_t)v;
    return 0;
}

static int read_bool(sy_doc *d, const yaml_node_t *n, const char *where, int *out) {
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", NULL};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", NULL};
    char got[96];
    if (need_scalar(d, n, where, "a boolean (true, false, yes or no)", 1)) return -1;
    if (is_one_of(sy_sval(n), sy_slen(n), yes)) {
        *out = 1;
    } else if (is_one_of(sy_sval(n), sy_slen(n), no)) {
        *out = 0;
    } else {
        return sy_fail(d, n->start_mark, "%s: expected a boolean (true, false, yes or no), got %s",
                       where, sy_describe(n, got, sizeof got));
    }
    return 0;
}

static int read_string(sy_doc *d, const yaml_node_t *n, const char *where, char *dst, size_t cap) {
    char got[96];
    if (need_scalar(d, n, where, "a string", 0)) return -1;
    size_t len = sy_slen(n);
    if (len == 0) return sy_fail(d, n->start_mark, "%s: must not be empty", where);
    if (len >= cap)
        return sy_fail(d, n->start_mark, "%s: %s is too long: %zu bytes, at most %zu", where,
                       sy_describe(n, got, sizeof got), len, cap - 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)sy_sval(n)[i];
        if (c < 0x20 || c == 0x7f)
            return sy_fail(d, n->start_mark, "%s: %s contains a control character (0x%02X)", where,
                           sy_describe(n, got, sizeof got), c);
    }
    memcpy(dst, sy_sval(n), len);
    dst[len] = '\0';
    return 0;
}

static void join_names(const char *const *names, int n, char *buf, size_t cap) {
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && o < cap; i++) {
        int w = snprintf(buf + o, cap - o, "%s%s", i ? ", " : "", names[i]);
        if (w < 0) break;
        o += (size_t)w;
    }
}

/* Levenshtein distance, ignoring case (so "adamW" finds "adamw" before "adam"), for "did you
 * mean" (keys are short; longer strings give up). */
static int same_char(char x, char y) { return tolower((unsigned char)x) == tolower((unsigned char)y); }
static int edit_distance(const char *a, size_t na, const char *b) {
    size_t nb = strlen(b);
    if (na > 63 || nb > 63) return 99;
    int row[64];
    for (size_t j = 0; j <= nb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int up = row[j];
            int best = diag + !same_char(a[i - 1], b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

/* " (did you mean 'x'?)" for the candidate at most 2 edits from the scalar (and fewer edits
 * than its length, so that "a" does not suggest "lr"), or "". */
static const char *did_you_mean(const yaml_node_t *n, const char *const *cand, int ncand, char *buf, size_t cap) {
    int best = 3, besti = -1;
    buf[0] = '\0';
    for (int i = 0; i < ncand; i++) {
        int dist = edit_distance(sy_sval(n), sy_slen(n), cand[i]);
        if (dist < best && (size_t)dist < sy_slen(n)) {
            best = dist;
            besti = i;
        }
    }
    if (besti >= 0) snprintf(buf, cap, " (did you mean '%s'?)", cand[besti]);
    return buf;
}

static int read_enum(sy_doc *d, const yaml_node_t *n, const char *where, const char *const *names,
                     int nnames, int *out) {
    char got[96], valid[512], hint[96];
    join_names(names, nnames, valid, sizeof valid);
    if (n->type != YAML_SCALAR_NODE || is_null(n))
        return sy_fail(d, n->start_mark, "%s: expected one of %s, got %s", where, valid,
                       sy_describe(n, got, sizeof got));
    for (int i = 0; i < nnames; i++)
        if (strlen(names[i]) == sy_slen(n) && memcmp(names[i], sy_sval(n), sy_slen(n)) == 0) {
            *out = i;
            return 0;
        }
    return sy_fail(d, n->start_mark, "%s: unknown value %s; valid values: %s%s", where,
                   sy_describe(n, got, sizeof got), valid, did_you_mean(n, names, nnames, hint, sizeof hint));
}

int sy_expect(sy_doc *d, yaml_node_t *n, yaml_node_type_t type, const char *where) {
    char got[96];
    if (n->type == type) return 0;
    return sy_fail(d, n->start_mark, "%s: expected %s, got %s", *where ? where : "the spec",
                   type == YAML_MAPPING_NODE ? "a mapping" : "a list", sy_describe(n, got, sizeof got));
}

/* "in model.layers[0] (type: conv)", "in optimizer", "at the top level" */
static const char *place(const char *where, const char *what, char *buf, size_t cap) {
    if (!*where)
        snprintf(buf, cap, "at the top level");
    else if (what)
        snprintf(buf, cap, "in %s (%s)", where, what);
    else
        snprintf(buf, cap, "in %s", where);
    return buf;
}

static int unknown_key(sy_doc *d, const yaml_node_t *key, const char *where, const char *what, const sy_field *f,
                       int nf) {
    char valid[512], k[64], hint[96], at[160];
    const char *names[SY_MAX_FIELDS];
    int n = nf < SY_MAX_FIELDS ? nf : SY_MAX_FIELDS;
    for (int i = 0; i < n; i++) names[i] = f[i].key;
    join_names(names, n, valid, sizeof valid);
    did_you_mean(key, names, n, hint, sizeof hint);
    clip(sy_sval(key), sy_slen(key), 40, k, sizeof k);
    return sy_fail(d, key->start_mark, "unknown key '%s' %s; valid keys: %s%s", k, place(where, what, at, sizeof at),
                   valid, hint);
}

int sy_read_value(sy_doc *d, sy_field *f, yaml_node_t *v, const char *path) {
    char got[96], range[128];
    sy_fmt_range(f->lo, f->hi, f->flags, range, sizeof range);
    switch (f->kind) {
    case SY_STR:
        return read_string(d, v, path, (char *)f->dst, f->cap);
    case SY_INT:
    case SY_I64: {
        int64_t x = 0;
        if (read_int64(d, v, path, &x)) return -1;
        if (f->kind == SY_INT && (x > INT_MAX || x < INT_MIN))
            return sy_fail(d, v->start_mark, "%s: %s is out of range; it %s and fit in an int", path,
                           sy_describe(v, got, sizeof got), range);
        if (!in_range((double)x, f->lo, f->hi, f->flags))
            return sy_fail(d, v->start_mark, "%s: %s is out of range; it %s", path,
                           sy_describe(v, got, sizeof got), range);
        if (f->kind == SY_INT)
            *(int *)f->dst = (int)x;
        else
            *(int64_t *)f->dst = x;
        return 0;
    }
    case SY_U64:
        return read_uint64(d, v, path, (uint64_t *)f->dst);
    case SY_NUM: {
        double x = 0;
        if (read_number(d, v, path, 0, &x)) return -1;
        if (!in_range(x, f->lo, f->hi, f->flags))
            return sy_fail(d, v->start_mark, "%s: %s is out of range; it %s", path,
                           sy_describe(v, got, sizeof got), range);
        *(double *)f->dst = x;
        return 0;
    }
    case SY_BOOL:
        return read_bool(d, v, path, (int *)f->dst);
    case SY_ENUM:
        return read_enum(d, v, path, f->names, f->nnames, (int *)f->dst);
    case SY_NODE:
        *(yaml_node_t **)f->dst = v;
        return 0;
    }
    return hp_errf(d->err, "%s: internal error: field kind %d", path, (int)f->kind);
}

static int read_map(sy_doc *d, yaml_node_t *map, const char *where, const char *what, sy_field *fields, int nf) {
    char at[160];
    if (sy_expect(d, map, YAML_MAPPING_NODE, where)) return -1;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *key = sy_node(d, p->key), *val = sy_node(d, p->value);
        char got[96], path[192];
        if (!key || !val) return hp_errf(d->err, "%s: internal error: dangling YAML node", d->path);
        if (key->type != YAML_SCALAR_NODE || is_null(key))
            return sy_fail(d, key->start_mark, "%s: keys must be names, got %s", *where ? where : "the spec",
                           sy_describe(key, got, sizeof got));
        sy_field *f = NULL;
        for (int i = 0; i < nf && !f; i++)
            if (strlen(fields[i].key) == sy_slen(key) && memcmp(fields[i].key, sy_sval(key), sy_slen(key)) == 0)
                f = &fields[i];
        /* Unknown keys are rejected before duplicates are looked for, so the keys seen so far
         * are distinct known keys and a field's `seen` flag finds a duplicate in O(1). */
        if (!f) return unknown_key(d, key, where, what, fields, nf);
        if (f->seen && f->key_mark.line == key->start_mark.line)
            return sy_fail(d, key->start_mark, "duplicate key '%s' %s: first on line %lu column %lu, again "
                           "on line %lu column %lu", f->key, place(where, NULL, at, sizeof at),
                           (unsigned long)f->key_mark.line + 1, (unsigned long)f->key_mark.column + 1,
                           (unsigned long)key->start_mark.line + 1, (unsigned long)key->start_mark.column + 1);
        if (f->seen)
            return sy_fail(d, key->start_mark, "duplicate key '%s' %s: first on line %lu, again on line %lu",
                           f->key, place(where, NULL, at, sizeof at), (unsigned long)f->key_mark.line + 1,
                           (unsigned long)key->start_mark.line + 1);
        f->seen = 1;
        f->key_mark = key->start_mark;
        f->mark = val->start_mark;
        snprintf(path, sizeof path, "%s%s%s", where, *where ? "." : "", f->key);
        if (sy_read_value(d, f, val, path)) return -1;
    }
    for (int i = 0; i < nf; i++)
        if ((fields[i].flags & SY_REQUIRED) && !fields[i].seen) {
            if (!*where)
                return sy_fail(d, map->start_mark, "missing required key '%s' at the top level", fields[i].key);
            if (what)
                return sy_fail(d, map->start_mark, "%s (%s): missing required key '%s'", where, what, fields[i].key);
            return sy_fail(d, map->start_mark, "%s: missing required key '%s'", where, fields[i].key);
        }
    return 0;
}

int sy_read_map(sy_doc *d, yaml_node_t *map, const char *where, sy_field *fields, int nf) {
    return read_map(d, map, where, NULL, fields, nf);
}

/* ---- mappings whose keys depend on a variant ---------------------------------------------- */

/* The next name of a space-separated key list; *required = 1 for a '*' suffix. Returns its
 * length (0 at the end) and advances *p. */
static size_t next_key(const char **p, const char **name, int *required) {
    const char *s = *p;
    while (*s == ' ') s++;
    const char *e = s;
    while (*e && *e != ' ' && *e != '*') e++;
    *name = s;
    *required = *e == '*';
    *p = *required ? e + 1 : e;
    return (size_t)(e - s);
}

int sy_keys_has(const char *keys, const char *key, size_t n) {
    const char *name;
    int req;
    for (size_t len; (len = next_key(&keys, &name, &req)) > 0;)
        if (len == n && memcmp(name, key, n) == 0) return 1;
    return 0;
}

int sy_read_tag(sy_doc *d, yaml_node_t *map, const char *where, sy_field *tag) {
    char path[192], valid[512];
    if (sy_expect(d, map, YAML_MAPPING_NODE, where)) return -1;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *key = sy_node(d, p->key), *val = sy_node(d, p->value);
        if (!key || !val) return hp_errf(d->err, "%s: internal error: dangling YAML node", d->path);
        if (key->type != YAML_SCALAR_NODE || strlen(tag->key) != sy_slen(key) ||
            memcmp(tag->key, sy_sval(key), sy_slen(key)) != 0)
            continue;
        snprintf(path, sizeof path, "%s.%s", where, tag->key);
        return sy_read_value(d, tag, val, path); /* `seen` stays 0: the full read sees the key again */
    }
    if (!(tag->flags & SY_REQUIRED)) return 0;
    join_names(tag->names, tag->nnames, valid, sizeof valid);
    return sy_fail(d, map->start_mark, "%s: missing required key '%s' (one of %s)", where, tag->key, valid);
}

int sy_read_variant(sy_doc *d, yaml_node_t *map, const char *where, const char *tag, const sy_variant *v,
                    int nv, int chosen, sy_field *fields, int nf) {
    char what[96], valid[512], others[256], k[64], got[96];
    const sy_variant *me = &v[chosen];
    snprintf(what, sizeof what, "%s: %s", tag, me->name);
    /* the keys of this variant, in the order its list gives them */
    sy_field sel[SY_MAX_FIELDS];
    int idx[SY_MAX_FIELDS], n = 0, req;
    const char *keys = me->keys, *name;
    size_t vo = 0;
    valid[0] = '\0';
    for (size_t len; (len = next_key(&keys, &name, &req)) > 0;) {
        int j = 0;
        while (j < nf && !(strlen(fields[j].key) == len && memcmp(fields[j].key, name, len) == 0)) j++;
        if (j == nf || n == SY_MAX_FIELDS)
            return hp_errf(d->err, "%s: internal error: no field for key '%.*s' of %s", d->path, (int)len, name, what);
        idx[n] = j;
        sel[n] = fields[j];
        if (req) sel[n].flags |= SY_REQUIRED;
        n++;
        int w = snprintf(valid + vo, sizeof valid - vo, "%s%.*s", vo ? ", " : "", (int)len, name);
        if (w > 0 && (size_t)w < sizeof valid - vo) vo += (size_t)w;
    }
    if (sy_expect(d, map, YAML_MAPPING_NODE, where)) return -1;
    /* A key of another variant gets its own message: the key is right, the type is not. */
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *key = sy_node(d, p->key), *val = sy_node(d, p->value);
        if (!key || !val || key->type != YAML_SCALAR_NODE || is_null(key)) continue; /* read_map reports */
        if (sy_keys_has(me->keys, sy_sval(key), sy_slen(key))) continue;
        size_t oo = 0;
        others[0] = '\0';
        for (int j = 0; j < nv; j++) {
            if (j == chosen || !sy_keys_has(v[j].keys, sy_sval(key), sy_slen(key))) continue;
            int w = snprintf(others + oo, sizeof others - oo, "%s%s", oo ? ", " : "", v[j].name);
            if (w > 0 && (size_t)w < sizeof others - oo) oo += (size_t)w;
        }
        if (!oo) continue; /* unknown everywhere: read_map reports it */
        if (d->lenient) { /* drop the pair; the loop sees the next one at the same place */
            memmove(p, p + 1, (size_t)(map->data.mapping.pairs.top - p - 1) * sizeof *p);
            map->data.mapping.pairs.top--;
            p--;
            continue;
        }
        clip(sy_sval(key), sy_slen(key), 40, k, sizeof k);
        return sy_fail(d, key->start_mark, "%s: key '%s' (set to %s) does not apply to %s %s, only to %s; "
                       "valid keys for %s: %s", where, k, sy_describe(val, got, sizeof got), tag, me->name,
                       others, me->name, valid);
    }
    if (read_map(d, map, where, what, sel, n)) return -1;
    for (int i = 0; i < n; i++) {
        fields[idx[i]].seen = sel[i].seen;
        fields[idx[i]].key_mark = sel[i].key_mark;
        fields[idx[i]].mark = sel[i].mark;
    }
    return 0;
}

/* ---- lists, and writing keys back (the dump) ----------------------------------------------- */
int sy_list(sy_doc *d, yaml_node_t *n, const char *where, int min, int max, const char *noun,
            yaml_node_item_t **items, int *count) {
    if (sy_expect(d, n, YAML_SEQUENCE_NODE, where)) return -1;
    yaml_node_item_t *it = n->data.sequence.items.start;
    ptrdiff_t c = n->data.sequence.items.top - it;
    if (c == 0 && min == 1) return sy_fail(d, n->start_mark, "%s: the list is empty; give at least one", where);
    if (c < min) return sy_fail(d, n->start_mark, "%s: %td %s, fewer than the %d needed", where, c, noun, min);
    if (c > max)
        return sy_fail(d, sy_node(d, it[max])->start_mark, "%s: %td %s, more than the %d allowed", where, c, noun, max);
    *items = it;
    *count = (int)c;
    return 0;
}

void sy_put_keys(const char *keys, const char *sep, const void *spec, sy_put_fn put, FILE *f) {
    for (const char *p = keys; *p;) {
        while (*p == ' ') p++;
        size_t n = strcspn(p, " *");
        if (n && !(n == 4 && memcmp(p, "type", 4) == 0)) {
            fprintf(f, "%s%.*s: ", sep, (int)n, p);
            put(spec, p, n, f);
        }
        p += n;
        if (*p == '*') p++;
    }
}
