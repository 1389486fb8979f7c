/* test_checked.c - hp_checked.h: the checked arithmetic used on numbers read from files. Each
 * helper must give the exact result where it fits and refuse (leaving *out alone) where it does
 * not: the wrapped sums and products a damaged file could produce, NaN, infinities, and doubles
 * outside the target range or past 2^63. */
#include <math.h>
#include <stdint.h>

#include "check.h"
#include "hp_checked.h"

int main(void) {
    int64_t r = 7;
    CHECK(hp_checked_add(INT64_MAX - 5, 5, &r) == 0 && r == INT64_MAX, "add: INT64_MAX - 5 + 5 fits");
    r = 7;
    CHECK(hp_checked_add(INT64_MAX - 5, 10, &r) == -1 && r == 7, "add: INT64_MAX - 5 + 10 refused, out untouched");
    CHECK(hp_checked_add(INT64_MIN, -1, &r) == -1, "add: INT64_MIN - 1 refused");
    CHECK(hp_checked_add(-3, 5, &r) == 0 && r == 2, "add: -3 + 5 = 2");
    CHECK(hp_checked_mul(3037000499LL, 3037000499LL, &r) == 0 && r == 9223372030926249001LL,
          "mul: the largest square that fits");
    CHECK(hp_checked_mul(3037000500LL, 3037000500LL, &r) == -1, "mul: the next square refused");
    CHECK(hp_checked_mul(INT64_MIN, -1, &r) == -1, "mul: INT64_MIN * -1 refused");
    CHECK(hp_checked_mul(-4, 6, &r) == 0 && r == -24, "mul: -4 * 6");
    /* a /model/layout row: 4 dims of 2^16 would wrap to 0 in uint64, overflow int64 */
    int64_t p = 1;
    int wrapped = 0;
    for (int d = 0; d < 4; d++) wrapped |= hp_checked_mul(p, 65536, &p) != 0;
    CHECK(wrapped, "mul: a shape of four 65536s is refused, not wrapped");
    CHECK(hp_checked_muladd(INT64_MAX / 2, 2, 1, &r) == 0 && r == INT64_MAX, "muladd: 2 * (2^62 - 1) + 1 fits");
    CHECK(hp_checked_muladd(INT64_MAX / 2 + 1, 2, 0, &r) == -1, "muladd: 2 * 2^62 refused");
    CHECK(hp_checked_muladd(INT64_MAX / 2, 2, 2, &r) == -1, "muladd: the sum past INT64_MAX refused");
    r = 7;
    CHECK(hp_checked_to_i64(NAN, 0, 100, &r) == -1 && r == 7, "to_i64: NaN refused");
    CHECK(hp_checked_to_i64(INFINITY, 0, INT64_MAX, &r) == -1, "to_i64: +inf refused");
    CHECK(hp_checked_to_i64(-INFINITY, INT64_MIN, 0, &r) == -1, "to_i64: -inf refused");
    CHECK(hp_checked_to_i64(1e300, 0, INT64_MAX, &r) == -1, "to_i64: 1e300 refused");
    CHECK(hp_checked_to_i64(9223372036854775808.0, 0, INT64_MAX, &r) == -1, "to_i64: 2^63 refused");
    CHECK(hp_checked_to_i64(-1.0, 0, 100, &r) == -1, "to_i64: below the range refused");
    CHECK(hp_checked_to_i64(100.5, 0, 100, &r) == -1, "to_i64: above the range refused");
    CHECK(hp_checked_to_i64(99.9, 0, 100, &r) == 0 && r == 99, "to_i64: 99.9 -> 99 (toward zero)");
    CHECK(hp_checked_to_i64(-2.5, -10, 10, &r) == 0 && r == -2, "to_i64: -2.5 -> -2");
    CHECK(hp_checked_to_i64(4611686018427387904.0, 0, INT64_MAX, &r) == 0 && r == 4611686018427387904LL,
          "to_i64: 2^62 exactly");
    return hp_check_summary("test_checked");
}
