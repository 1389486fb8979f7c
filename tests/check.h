/* check.h - the small assertion library every test uses.
 *
 * Checks never abort: each failure prints "FILE:LINE: what (got G, want W)" and is counted;
 * hp_check_summary() prints "N passed, M failed" and returns the process exit code (0 only
 * if nothing failed and at least one check ran, so a test that checks nothing fails).
 * Comparisons of numbers use |a - r| <= atol + rtol * |r|, as numpy.isclose does; NaN never
 * compares close.
 */
#ifndef HP_CHECK_H
#define HP_CHECK_H

#include <stdint.h>

int hp_check_(int ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int hp_check_close_(double got, double want, double atol, double rtol, const char *file, int line,
                    const char *what);
/* Compare arrays; reports the first few mismatches and the worst relative error. */
int hp_check_allclose_(const double *got, const double *want, int64_t n, double atol, double rtol,
                       const char *file, int line, const char *what);
int hp_check_allclosef_(const float *got, const float *want, int64_t n, double atol, double rtol,
                        const char *file, int line, const char *what);
int hp_check_summary(const char *test_name);
/* For tests that cannot run here (e.g. no GPU): prints why and returns 77 (ctest: skipped). */
int hp_check_skip(const char *why);

#define CHECK(cond, ...) hp_check_(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_CLOSE(got, want, atol, rtol, what) \
    hp_check_close_((got), (want), (atol), (rtol), __FILE__, __LINE__, (what))
#define CHECK_ALLCLOSE(got, want, n, atol, rtol, what) \
    hp_check_allclose_((got), (want), (n), (atol), (rtol), __FILE__, __LINE__, (what))
#define CHECK_ALLCLOSEF(got, want, n, atol, rtol, what) \
    hp_check_allclosef_((got), (want), (n), (atol), (rtol), __FILE__, __LINE__, (what))

#endif
