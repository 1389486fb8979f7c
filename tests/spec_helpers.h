/* spec_helpers.h - what the spec parser's tests (test_spec.c, test_spec_cnn.c,
 * test_spec_search.c) share: spec text fixtures, failure checks, a table of bad inline specs, a
 * field-by-field comparison of two specs, and the dump round trip. */
#ifndef HP_TEST_SPEC_HELPERS_H
#define HP_TEST_SPEC_HELPERS_H

#include <stddef.h>

#include "spec.h"

#define SPEC_DIR HP_TEST_DIR "/spec/"

/* ---- spec text the tests build on (with the line each part ends on, for line:col checks) ---- */

#define MODEL "model:\n  layers:\n    - {type: dense, units: 10}\n" /* lines 1-3 */
#define SEARCH_LR "search:\n  params:\n    lr: {low: 1.0e-4, high: 1}\n" /* 3 lines */

/* A spec with a dropout layer (lines 1-10), for search.params naming places in it: the parameter
 * goes on line 11, PTAIL after it. */
#define PMODEL "model:\n  layers:\n    - {type: dense, units: 32}\n    - {type: relu}\n" \
               "    - {type: dropout, p: 0.1}\n    - {type: dense, units: 10}\n" /* lines 1-6 */
#define PHEAD PMODEL "optimizer: {type: sgd, lr: 0.05, momentum: 0.9}\ntrain: {batch_size: 32}\n" \
                     "search:\n  params:\n" /* lines 7-10 */
#define PTAIL "  stages: [{method: random, trials: 2}]\n"

/* An external trainer's spec (lines 1-3), its search on lines 4-7. */
#define EXT "trainer:\n  command: [python3, train.py, --lr, \"{lr}\"]\n  epoch_timeout: 30\n"
#define EXT_SEARCH "search:\n  params:\n    lr: {low: 1.0e-4, high: 1}\n  stages: [{method: random, trials: 2}]\n"

/* Every byte of *s is 0 (what a failed parse leaves). */
int spec_is_zeroed(const hp_spec *s);

/* Expect failure (-1, the spec left zeroed, a one-line message) with every string of the
 * NULL-terminated want[] in the message. HP_TEST_VERBOSE=1 prints the messages. */
void spec_expect_fail(const char *label, int rc, const hp_spec *s, const hp_err *err, const char *const *want);

typedef struct spec_bad_case {
    const char *label;
    const char *text;    /* inline spec text, parsed as "x.yaml" (a file name for file cases) */
    const char *want[7]; /* substrings of the message: path:line:col, the key, the value, ... */
} spec_bad_case;

/* Parse each case's text as "x.yaml" and expect failure. */
void spec_run_bad(const spec_bad_case *cases, size_t n);

/* CHECK that every field of a and b is equal, except the path, the text and the layers' spec
 * lines (which differ between a spec and its dump). */
void spec_check_same(const hp_spec *a, const hp_spec *b, const char *label);

/* Dump s, parse the dump back into *back (as "dump.yaml") and CHECK it equals s. Returns the
 * parse's status; on 0 the caller frees *back. */
int spec_roundtrip(const hp_spec *s, hp_spec *back, const char *label);

/* Parse inline text (as "x.yaml"), CHECKing success. */
int spec_parse_ok(const char *text, hp_spec *s, const char *label);

#endif
