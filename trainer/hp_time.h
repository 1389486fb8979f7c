/* hp_time.h - wall-clock seconds on the monotonic clock, for epoch and trial timings. */
#ifndef HP_TIME_H
#define HP_TIME_H

#include <time.h>

/* Seconds since an arbitrary fixed point; differences are durations. 0 if the clock fails
 * (CLOCK_MONOTONIC cannot fail on Linux; a failure only makes timings read 0). */
static inline double hp_now_seconds(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
