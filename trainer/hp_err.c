/* hp_err.c - see hp_err.h */
#include "hp_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hp_errf(hp_err *err, const char *fmt, ...) {
    if (!err) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int hp_err_prefix(hp_err *err, const char *fmt, ...) {
    if (!err) return -1;
    char out[HP_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, sizeof out, fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    size_t used = (size_t)n < sizeof out ? (size_t)n : sizeof out - 1;
    /* "prefix: old message", cut at HP_ERR_MAX - 1 characters */
    const char sep[] = ": ";
    for (size_t i = 0; sep[i] && used < sizeof out - 1; i++) out[used++] = sep[i];
    for (size_t i = 0; err->msg[i] && used < sizeof out - 1; i++) out[used++] = err->msg[i];
    out[used] = '\0';
    memcpy(err->msg, out, used + 1);
    return -1;
}

void *hp_calloc(size_t n, size_t size, const char *what, hp_err *err) {
    if (n == 0 || size == 0) { n = 1; size = 1; }
    if (n > (size_t)-1 / size) {
        hp_errf(err, "allocation size overflow for %s (%zu x %zu bytes)", what, n, size);
        return NULL;
    }
    void *p = calloc(n, size);
    if (!p) hp_errf(err, "out of memory allocating %zu bytes for %s", n * size, what);
    return p;
}
