/* search_probe.h - what the searched values can make one trial hold, worked out before a sweep
 * starts: the widest trainer state and checkpoint (the results file's row widths) and, on a GPU,
 * the most device memory (what --pack is checked against). Each searched parameter other than
 * lr and weight decay is tried at its ends and choices, then all at their largest together. */
#ifndef HP_SEARCH_PROBE_H
#define HP_SEARCH_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "dataload.h"
#include "hp_err.h"
#include "spec.h"
#include "trial.h"

/* The largest trainer state and checkpoint (floats) any probe builds; *varies: some searched
 * value changes the model's size. */
int hp_search_sizes(const hp_spec *spec, const hp_splits *data, int64_t *state_width, int64_t *ckpt_width,
                    int *varies, hp_err *err);
/* The most device memory (bytes) one trial holds on gpu (hp_trial_device_bytes) at any probe;
 * `largest` names that probe ("search.params name = value, ..."), or is "" when no searched
 * value makes a trial larger than the lowest values do. */
int hp_search_device_bytes(const hp_spec *spec, const hp_splits *data, hp_gpu_device *gpu, int64_t *bytes,
                           char *largest, size_t cap, hp_err *err);

#endif
