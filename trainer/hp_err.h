/* hp_err.h - the one error-reporting convention of hpsweep.
 *
 * Every fallible function returns int: 0 on success, -1 on failure, and on failure
 * fills a caller-provided hp_err with one human-readable line that names the file,
 * the value at fault and, where there is one, the fix. Callers either handle the
 * error or add context with hp_err_prefix() and return -1 themselves. Nothing
 * below main() prints errors or exits.
 */
#ifndef HP_ERR_H
#define HP_ERR_H

#include <stddef.h>

#define HP_ERR_MAX 1024

typedef struct hp_err {
    char msg[HP_ERR_MAX];
} hp_err;

/* Set the message (printf-style). Always returns -1 so callers can `return hp_errf(...)`. */
int hp_errf(hp_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepend context: "context: previous message". Returns -1. */
int hp_err_prefix(hp_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Checked allocation helpers: on failure they fill err ("out of memory allocating N bytes for WHAT")
 * and return NULL. Zero-filled. */
void *hp_calloc(size_t n, size_t size, const char *what, hp_err *err);

#endif
