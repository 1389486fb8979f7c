/* fuzz_spec.c - libFuzzer target: the spec parser (orchestrator/spec.h) on any bytes.
 * Every input must end in a spec or an error message, never a crash, a leak or undefined
 * behaviour (ASan + UBSan); a spec that parses must dump (hp_spec_dump) to YAML that parses
 * again to the same dump (the round trip the results file relies on: a resumed sweep reads the
 * stored spec text). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

static char *dump(const hp_spec *s, size_t *len) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f) abort();
    hp_err err = {{0}};
    if (hp_spec_dump(s, f, &err) != 0) abort();
    fclose(f);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    hp_spec s;
    hp_err err = {{0}};
    if (hp_spec_parse((const char *)data, size, "fuzz.yaml", &s, &err) != 0) {
        if (!err.msg[0]) abort(); /* an error must say what is wrong */
        return 0;
    }
    size_t n1 = 0, n2 = 0;
    char *d1 = dump(&s, &n1);
    hp_spec t;
    hp_err err2 = {{0}};
    if (hp_spec_parse(d1, n1, "dump.yaml", &t, &err2) != 0) {
        fprintf(stderr, "the dump of a valid spec does not parse: %s\n--- dump:\n%s\n", err2.msg, d1);
        abort();
    }
    char *d2 = dump(&t, &n2);
    if (n1 != n2 || memcmp(d1, d2, n1) != 0) {
        fprintf(stderr, "dump -> parse -> dump differs:\n--- first:\n%s\n--- second:\n%s\n", d1, d2);
        abort();
    }
    free(d1);
    free(d2);
    hp_spec_free(&t);
    hp_spec_free(&s);
    return 0;
}
