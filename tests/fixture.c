/* fixture.c - see fixture.h */
#include "fixture.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef HP_TEST_DIR
#define HP_TEST_DIR "."
#endif

/* Next whitespace-separated token, skipping '#' comments to the end of their line. */
static int next_token(FILE *fp, char *tok, int len) {
    int ch;
    for (;;) {
        ch = fgetc(fp);
        if (ch == EOF) return -1;
        if (ch == '#') {
            while (ch != '\n' && ch != EOF) ch = fgetc(fp);
            continue;
        }
        if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') break;
    }
    int n = 0;
    while (ch != EOF && ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
        if (n + 1 >= len) return -2;
        tok[n++] = (char)ch;
        ch = fgetc(fp);
    }
    tok[n] = 0;
    return 0;
}

static int parse_i64(const char *s, int64_t *v) {
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || *end || end == s) return -1;
    *v = x;
    return 0;
}

int hp_fixture_load(const char *name, hp_fixture *f, char *errbuf, int errlen) {
    memset(f, 0, sizeof *f);
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/%s", HP_TEST_DIR, name);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(errbuf, (size_t)errlen, "%s: cannot open (%s); run tests/fixtures/gen_fixtures.py", path,
                 strerror(errno));
        return -1;
    }
    char tok[128];
    int cap = 0;
    const char *why = NULL;
    if (next_token(fp, tok, sizeof tok) != 0 || strcmp(tok, "hpsweep-fixture") != 0 ||
        next_token(fp, tok, sizeof tok) != 0 || strcmp(tok, "1") != 0) {
        why = "not an 'hpsweep-fixture 1' file";
        goto bad;
    }
    for (;;) {
        int r = next_token(fp, tok, sizeof tok);
        if (r == -1) break;
        if (r != 0 || strlen(tok) >= sizeof f->t[0].name) {
            why = "tensor name too long";
            goto bad;
        }
        if (f->n == cap) {
            cap = cap ? 2 * cap : 16;
            hp_fixture_tensor *nt = realloc(f->t, (size_t)cap * sizeof *nt);
            if (!nt) {
                why = "out of memory";
                goto bad;
            }
            f->t = nt;
        }
        hp_fixture_tensor *t = &f->t[f->n];
        memset(t, 0, sizeof *t);
        f->n++;
        memcpy(t->name, tok, strlen(tok) + 1); // fits: checked above
        int64_t nd;
        if (next_token(fp, tok, sizeof tok) != 0 || parse_i64(tok, &nd) != 0 || nd < 0 || nd > 4) {
            why = "bad NDIM (0..4)";
            goto bad;
        }
        t->ndim = (int)nd;
        t->size = 1;
        for (int d = 0; d < t->ndim; d++) {
            if (next_token(fp, tok, sizeof tok) != 0 || parse_i64(tok, &t->shape[d]) != 0 ||
                t->shape[d] <= 0 || t->shape[d] > (1 << 24)) {
                why = "bad dimension";
                goto bad;
            }
            t->size *= t->shape[d];
        }
        if (t->size > (1 << 24)) {
            why = "tensor too large";
            goto bad;
        }
        t->v = malloc((size_t)t->size * sizeof(double));
        if (!t->v) {
            why = "out of memory";
            goto bad;
        }
        for (int64_t i = 0; i < t->size; i++) {
            char *end;
            if (next_token(fp, tok, sizeof tok) != 0) {
                why = "file ends inside a tensor";
                goto bad;
            }
            t->v[i] = strtod(tok, &end);
            if (*end || end == tok) {
                why = "a value is not a number";
                goto bad;
            }
        }
    }
    fclose(fp);
    return 0;
bad:
    snprintf(errbuf, (size_t)errlen, "%s: %s (tensor %d%s%s)", path, why, f->n, f->n ? " " : "",
             f->n ? f->t[f->n - 1].name : "");
    fclose(fp);
    hp_fixture_free(f);
    return -1;
}

void hp_fixture_free(hp_fixture *f) {
    for (int i = 0; i < f->n; i++) free(f->t[i].v);
    free(f->t);
    memset(f, 0, sizeof *f);
}

const hp_fixture_tensor *hp_fixture_find(const hp_fixture *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->t[i].name, name) == 0) return &f->t[i];
    return NULL;
}

const double *hp_fixture_values(const hp_fixture *f, const char *name, int64_t size) {
    const hp_fixture_tensor *t = hp_fixture_find(f, name);
    if (!t) {
        fprintf(stderr, "fixture: no tensor '%s'\n", name);
        return NULL;
    }
    if (size > 0 && t->size != size) {
        fprintf(stderr, "fixture: tensor '%s' has %lld values, expected %lld\n", name, (long long)t->size,
                (long long)size);
        return NULL;
    }
    return t->v;
}

int hp_fixture_copyf(const hp_fixture *f, const char *name, float *out, int64_t size) {
    const double *v = hp_fixture_values(f, name, size);
    if (!v) return -1;
    for (int64_t i = 0; i < size; i++) out[i] = (float)v[i];
    return 0;
}

int hp_fixture_copyd(const hp_fixture *f, const char *name, double *out, int64_t size) {
    const double *v = hp_fixture_values(f, name, size);
    if (!v) return -1;
    memcpy(out, v, (size_t)size * sizeof(double));
    return 0;
}

int hp_fixture_copyi(const hp_fixture *f, const char *name, int32_t *out, int64_t size) {
    const double *v = hp_fixture_values(f, name, size);
    if (!v) return -1;
    for (int64_t i = 0; i < size; i++) {
        if (v[i] != floor(v[i]) || fabs(v[i]) > 2147483647.0) {
            fprintf(stderr, "fixture: tensor '%s'[%lld] = %g is not an int32\n", name, (long long)i, v[i]);
            return -1;
        }
        out[i] = (int32_t)v[i];
    }
    return 0;
}
