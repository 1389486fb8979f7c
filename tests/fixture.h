/* fixture.h - reader of the "hpsweep-fixture 1" text files under tests/fixtures/.
 *
 * Format (written by tests/fixtures/gen_fixtures.py, documented there): a first line
 * "hpsweep-fixture 1", '#' comment lines, then per tensor a line "NAME NDIM D0 .. D{NDIM-1}"
 * followed by prod(D) whitespace-separated numbers in row-major order. Every value is read
 * as a double (the writer's %.17g round-trips every float64, and so every float32, exactly).
 */
#ifndef HP_TEST_FIXTURE_H
#define HP_TEST_FIXTURE_H

#include <stdint.h>

typedef struct hp_fixture_tensor {
    char name[64];
    int ndim;
    int64_t shape[4];
    int64_t size; /* product of shape (1 for a scalar) */
    double *v;    /* [size] */
} hp_fixture_tensor;

typedef struct hp_fixture {
    int n;
    hp_fixture_tensor *t; /* [n] */
} hp_fixture;

/* Load HP_TEST_DIR "/fixtures/" NAME. On failure returns -1 and writes one line to errbuf. */
int hp_fixture_load(const char *name, hp_fixture *f, char *errbuf, int errlen);
void hp_fixture_free(hp_fixture *f);

/* The tensor called `name`, or NULL. */
const hp_fixture_tensor *hp_fixture_find(const hp_fixture *f, const char *name);
/* The values of `name` (NULL when missing); if `size` > 0 the tensor must hold exactly that
 * many values, else NULL too. Failures are reported as CHECK failures by the caller. */
const double *hp_fixture_values(const hp_fixture *f, const char *name, int64_t size);
/* Copy `size` values of `name` into floats / int32; returns 0, or -1 if missing or mis-sized. */
int hp_fixture_copyf(const hp_fixture *f, const char *name, float *out, int64_t size);
int hp_fixture_copyd(const hp_fixture *f, const char *name, double *out, int64_t size);
int hp_fixture_copyi(const hp_fixture *f, const char *name, int32_t *out, int64_t size);

#endif
