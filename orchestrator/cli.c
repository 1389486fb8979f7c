/* cli.c - see cli.h */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hp_cli_error(const char *cmd, const char *fmt, ...) {
    fprintf(stderr, "hpsweep %s: ", cmd);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int hp_cli_opt(int argc, char **argv, int *i, const char *cmd, const char *long_name,
               const char *short_name, int takes_value, const char **val) {
    const char *a = argv[*i];
    size_t n = strlen(long_name);
    int is_long = strncmp(a, long_name, n) == 0 && (a[n] == '\0' || (takes_value && a[n] == '='));
    int is_short = short_name && strcmp(a, short_name) == 0;
    if (!is_long && !is_short) return 0;
    if (!takes_value) return 1;
    if (is_long && a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (*i + 1 >= argc) {
        hp_cli_error(cmd, "option %s needs a value (see 'hpsweep %s --help')", a, cmd);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

int hp_cli_double(const char *cmd, const char *opt, const char *s, double *out) {
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v)) {
        hp_cli_error(cmd, "%s expects a finite number, got '%s'", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

int hp_cli_int(const char *cmd, const char *opt, const char *s, long long lo, long long hi, long long *out) {
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        hp_cli_error(cmd, "%s expects an integer in [%lld, %lld], got '%s'", opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

int hp_cli_u64(const char *cmd, const char *opt, const char *s, uint64_t *out) {
    char *end = NULL;
    errno = 0;
    if (s[0] == '-') {
        hp_cli_error(cmd, "%s expects a non-negative integer, got '%s'", opt, s);
        return -1;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0') {
        hp_cli_error(cmd, "%s expects a non-negative integer, got '%s'", opt, s);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

int hp_cli_one_file(const char *cmd, const char *arg, const char **path) {
    if (arg[0] == '-') {
        hp_cli_error(cmd, "unknown option '%s' (see 'hpsweep %s --help')", arg, cmd);
        return -1;
    }
    if (*path) {
        hp_cli_error(cmd, "one results file expected, got '%s' and '%s'", *path, arg);
        return -1;
    }
    *path = arg;
    return 0;
}
