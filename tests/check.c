/* check.c - see check.h */
#include "check.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

static int64_t g_passed, g_failed;

int hp_check_(int ok, const char *file, int line, const char *fmt, ...) {
    if (ok) {
        g_passed++;
        return 1;
    }
    g_failed++;
    fprintf(stderr, "%s:%d: FAILED: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 0;
}

static int close_enough(double got, double want, double atol, double rtol) {
    if (isnan(got) || isnan(want)) return 0;
    return fabs(got - want) <= atol + rtol * fabs(want);
}

int hp_check_close_(double got, double want, double atol, double rtol, const char *file, int line,
                    const char *what) {
    return hp_check_(close_enough(got, want, atol, rtol), file, line,
                     "%s: got %.10g, want %.10g (|diff| %.3g > atol %.1g + rtol %.1g * |want|)", what, got,
                     want, fabs(got - want), atol, rtol);
}

#define ALLCLOSE_BODY                                                                              \
    int64_t bad = 0, worst = -1;                                                                   \
    double worst_excess = 0;                                                                       \
    for (int64_t i = 0; i < n; i++) {                                                              \
        double g = (double)got[i], w = (double)want[i];                                            \
        if (!close_enough(g, w, atol, rtol)) {                                                     \
            double excess = isnan(g) || isnan(w) ? INFINITY : fabs(g - w) - (atol + rtol * fabs(w)); \
            if (bad < 3)                                                                           \
                fprintf(stderr, "%s:%d: %s[%lld]: got %.10g, want %.10g\n", file, line, what,       \
                        (long long)i, g, w);                                                       \
            if (worst < 0 || excess > worst_excess) {                                              \
                worst = i;                                                                         \
                worst_excess = excess;                                                             \
            }                                                                                      \
            bad++;                                                                                 \
        }                                                                                          \
    }                                                                                              \
    return hp_check_(bad == 0, file, line,                                                         \
                     "%s: %lld of %lld elements differ (worst at %lld; atol %.1g, rtol %.1g)", what, \
                     (long long)bad, (long long)n, (long long)worst, atol, rtol);

int hp_check_allclose_(const double *got, const double *want, int64_t n, double atol, double rtol,
                       const char *file, int line, const char *what) {
    ALLCLOSE_BODY
}

int hp_check_allclosef_(const float *got, const float *want, int64_t n, double atol, double rtol,
                        const char *file, int line, const char *what) {
    ALLCLOSE_BODY
}

int hp_check_summary(const char *test_name) {
    printf("%s: %lld passed, %lld failed\n", test_name, (long long)g_passed, (long long)g_failed);
    if (g_passed + g_failed == 0) {
        fprintf(stderr, "%s: no check ran; a test that checks nothing is a failure\n", test_name);
        return 1;
    }
    return g_failed ? 1 : 0;
}

int hp_check_skip(const char *why) {
    printf("SKIPPED: %s\n", why);
    return 77;
}
