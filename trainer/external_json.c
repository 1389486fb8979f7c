/* external_json.c - the JSON of the external-trainer protocol: params.json written, metrics
 * lines parsed strictly (external_impl.h; docs/external.md, "Metrics lines"). */
#include "external_impl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* ---- files ------------------------------------------------------------------------------- */

/* Is s[0..n) a JSON number (RFC 8259)? */
static int json_number_len(const char *s, size_t n) {
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i < n && s[i] == '0') {
        i++;
    } else if (i < n && s[i] >= '1' && s[i] <= '9') {
        while (i < n && isdigit((unsigned char)s[i])) i++;
    } else {
        return 0;
    }
    if (i < n && s[i] == '.') {
        i++;
        if (!(i < n && isdigit((unsigned char)s[i]))) return 0;
        while (i < n && isdigit((unsigned char)s[i])) i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (!(i < n && isdigit((unsigned char)s[i]))) return 0;
        while (i < n && isdigit((unsigned char)s[i])) i++;
    }
    return (int)i;
}

static int is_json_number(const char *s) {
    size_t n = strlen(s);
    return n > 0 && (size_t)json_number_len(s, n) == n;
}

static int put_json_string(FILE *f, const char *s) {
    if (fputc('"', f) == EOF) return -1;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int r;
        if (*p == '"' || *p == '\\') r = fprintf(f, "\\%c", *p);
        else if (*p < 0x20) r = fprintf(f, "\\u%04x", *p);
        else r = fputc(*p, f) == EOF ? -1 : 1;
        if (r < 0) return -1;
    }
    return fputc('"', f) == EOF ? -1 : 0;
}

/* workdir/params.json, written under a temporary name and renamed. */
int ext_write_params(const char *prog, const hp_ext_trial *t, const char *path, hp_err *err) {
    char tmp[EXT_PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return hp_errf(err, "trainer program '%s', trial %lld: cannot write %s: %s (check the folder's permissions)",
                       prog, (long long)t->id, tmp, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return hp_errf(err, "trainer program '%s', trial %lld: fdopen %s: %s", prog, (long long)t->id, tmp,
                       strerror(errno));
    }
    int bad = fprintf(f, "{\"trial\": %lld, \"seed\": %llu, \"epochs\": %d, \"resume_epoch\": %d, \"mode\": ",
                      (long long)t->id, (unsigned long long)t->seed, t->epochs, t->resume_epoch) < 0;
    bad |= put_json_string(f, t->mode && t->mode[0] ? t->mode : "train") != 0;
    bad |= fputs(", \"params\": {", f) == EOF;
    for (int i = 0; i < t->nparams && !bad; i++) {
        if (i) bad |= fputs(", ", f) == EOF;
        bad |= put_json_string(f, t->params[i].name) != 0;
        bad |= fputs(": ", f) == EOF;
        if (is_json_number(t->params[i].value)) bad |= fputs(t->params[i].value, f) == EOF;
        else bad |= put_json_string(f, t->params[i].value) != 0;
    }
    bad |= fputs("}}\n", f) == EOF;
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        unlink(tmp);
        return hp_errf(err, "trainer program '%s', trial %lld: writing %s failed: %s (is the disk full?)", prog,
                       (long long)t->id, tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        return hp_errf(err, "trainer program '%s', trial %lld: cannot rename %s to %s: %s", prog, (long long)t->id,
                       tmp, path, strerror(e));
    }
    return 0;
}

/* ---- the metrics line parser --------------------------------------------------------------- */

typedef struct jp {
    const char *s;
    size_t n, i;
    char why[96];
} jp;

static void jp_ws(jp *p) {
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\r' || p->s[p->i] == '\n'))
        p->i++;
}

static int jp_fail(jp *p, const char *what) {
    snprintf(p->why, sizeof p->why, "%s at byte %zu", what, p->i + 1);
    return -1;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A string at p->i (the opening quote). Decoded into out[n] when out; *toolong when it did not
 * fit (the parse goes on). \uXXXX escapes are validated and stored as UTF-8. */
static int jp_string(jp *p, char *out, size_t n, int *toolong) {
    size_t o = 0;
    *toolong = 0;
    p->i++; /* the quote */
    for (;;) {
        if (p->i >= p->n) return jp_fail(p, "unterminated string");
        unsigned char c = (unsigned char)p->s[p->i];
        char put[4];
        int np = 0;
        if (c == '"') {
            p->i++;
            break;
        } else if (c < 0x20) {
            return jp_fail(p, "control character in a string");
        } else if (c == '\\') {
            if (p->i + 1 >= p->n) return jp_fail(p, "unterminated string");
            char e = p->s[p->i + 1];
            const char *map = strchr("\"\\/bfnrt", e);
            if (e && map) {
                static const char to[] = "\"\\/\b\f\n\r\t";
                put[np++] = to[map - "\"\\/bfnrt"];
                p->i += 2;
            } else if (e == 'u') {
                unsigned v = 0;
                for (int k = 0; k < 4; k++) {
                    int h = p->i + 2 + (size_t)k < p->n ? hexval(p->s[p->i + 2 + (size_t)k]) : -1;
                    if (h < 0) return jp_fail(p, "bad \\u escape");
                    v = v * 16 + (unsigned)h;
                }
                p->i += 6;
                if (v < 0x80) {
                    put[np++] = (char)v;
                } else if (v < 0x800) {
                    put[np++] = (char)(0xc0 | (v >> 6));
                    put[np++] = (char)(0x80 | (v & 0x3f));
                } else {
                    put[np++] = (char)(0xe0 | (v >> 12));
                    put[np++] = (char)(0x80 | ((v >> 6) & 0x3f));
                    put[np++] = (char)(0x80 | (v & 0x3f));
                }
            } else {
                return jp_fail(p, "bad escape in a string");
            }
        } else {
            put[np++] = (char)c;
            p->i++;
        }
        for (int k = 0; k < np; k++) {
            if (out && o + 1 < n) out[o++] = put[k];
            else *toolong = 1;
        }
    }
    if (out) out[o] = '\0';
    return 0;
}

static int jp_word(jp *p, const char *w) {
    size_t l = strlen(w);
    if (p->n - p->i >= l && memcmp(p->s + p->i, w, l) == 0) {
        p->i += l;
        return 1;
    }
    return 0;
}

/* A value: *kind 1 number (in *v), 0 anything else (string, true, false, null). */
static int jp_value(jp *p, int *kind, double *v) {
    *kind = 0;
    if (p->i >= p->n) return jp_fail(p, "missing value");
    char c = p->s[p->i];
    int tl;
    if (c == '"') return jp_string(p, NULL, 0, &tl);
    if (jp_word(p, "true") || jp_word(p, "false") || jp_word(p, "null")) return 0;
    *kind = 1;
    if (jp_word(p, "NaN")) {
        *v = NAN;
        return 0;
    }
    if (jp_word(p, "Infinity")) {
        *v = INFINITY;
        return 0;
    }
    if (jp_word(p, "-Infinity")) {
        *v = -INFINITY;
        return 0;
    }
    if (c == '{' || c == '[') return jp_fail(p, "nested objects and arrays are not supported");
    int l = json_number_len(p->s + p->i, p->n - p->i);
    if (l == 0) return jp_fail(p, "not a JSON value");
    if (l > 80) return jp_fail(p, "number longer than 80 characters");
    char num[96];
    memcpy(num, p->s + p->i, (size_t)l);
    num[l] = '\0';
    errno = 0;
    *v = strtod(num, NULL);
    if (errno == ERANGE && isinf(*v)) return jp_fail(p, "number out of range");
    p->i += (size_t)l;
    return 0;
}

/* What a metrics line says. */

int ext_parse_line(const char *s, size_t n, const char *objective, ext_line *L, char *why, size_t nwhy) {
    memset(L, 0, sizeof *L);
    L->e.train_loss = L->e.train_acc = L->e.val_loss = L->e.val_acc = NAN;
    L->test_loss = L->test_acc = NAN;
    jp p = {s, n, 0, ""};
    int rc = 0;
    unsigned seen = 0; /* standard keys met: a second one is a fault */
    jp_ws(&p);
    if (p.i >= n || s[p.i] != '{') {
        rc = jp_fail(&p, "expected '{'");
    } else {
        p.i++;
        jp_ws(&p);
        if (p.i < n && s[p.i] == '}') {
            p.i++;
        } else {
            for (;;) {
                char key[EXT_KEY_MAX];
                int toolong, kind;
                double v = 0;
                jp_ws(&p);
                if (p.i >= n || s[p.i] != '"') { rc = jp_fail(&p, "expected a string key"); break; }
                if (jp_string(&p, key, sizeof key, &toolong) != 0) { rc = -1; break; }
                if (toolong) { rc = jp_fail(&p, "key longer than 127 bytes"); break; }
                jp_ws(&p);
                if (p.i >= n || s[p.i] != ':') { rc = jp_fail(&p, "expected ':'"); break; }
                p.i++;
                jp_ws(&p);
                if (jp_value(&p, &kind, &v) != 0) { rc = -1; break; }
                if (!kind && strcmp(key, objective) == 0) {
                    snprintf(p.why, sizeof p.why, "the objective \"%.60s\" is not a number", key);
                    rc = -1;
                    break;
                }
                if (kind) {
                    static const char *const std_names[] = {"epoch", "train_loss", "train_acc", "val_loss",
                                                            "val_acc", "test_loss", "test_acc"};
                    int which = -1;
                    for (int k = 0; k < 7; k++)
                        if (strcmp(key, std_names[k]) == 0) which = k;
                    double *slot[7] = {&L->epoch, &L->e.train_loss, &L->e.train_acc, &L->e.val_loss,
                                       &L->e.val_acc, &L->test_loss, &L->test_acc};
                    if (which >= 0) {
                        if (seen & (1u << which)) {
                            snprintf(p.why, sizeof p.why, "key \"%.60s\" given twice", key);
                            rc = -1;
                            break;
                        }
                        seen |= 1u << which;
                        *slot[which] = v;
                    } else if (L->e.nextra < HP_EXT_NEXTRA && strlen(key) < HP_EXT_NAME_MAX) {
                        memcpy(L->e.extra_names[L->e.nextra], key, strlen(key) + 1);
                        L->e.extra[L->e.nextra++] = v;
                    }
                    if (strcmp(key, objective) == 0) {
                        L->has_obj = 1;
                        L->obj = v;
                    }
                }
                jp_ws(&p);
                if (p.i < n && s[p.i] == ',') { p.i++; continue; }
                if (p.i < n && s[p.i] == '}') { p.i++; break; }
                rc = jp_fail(&p, "expected ',' or '}'");
                break;
            }
        }
        if (rc == 0) {
            jp_ws(&p);
            if (p.i < n) rc = jp_fail(&p, "text after the object");
        }
        L->e.present = (seen >> 1) & 0xfu; /* train_loss, train_acc, val_loss, val_acc */
        L->has_epoch = !!(seen & 1u);
        L->has_test_loss = !!(seen & (1u << 5));
        L->has_test_acc = !!(seen & (1u << 6));
    }
    if (rc != 0) snprintf(why, nwhy, "%s", p.why);
    return rc;
}
