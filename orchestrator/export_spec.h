/* export_spec.h - the training spec of one trial of a results file (`hpsweep export --spec`):
 * the spec the sweep ran, with the trial's searched values set at their places, its search:
 * section left out and train.epochs the trial's, written as `hpsweep train` reads it. */
#ifndef HP_EXPORT_SPEC_H
#define HP_EXPORT_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "hp_err.h"

/* Trial `trial` of the results file at `path` (-1: the best done trial, the one the sweep
 * evaluates on the test split) as spec text, read back before it is returned: *text (free() it,
 * *len bytes) starts with a comment naming the sweep, the trial and its score. The trial must be
 * done or pruned (a trial with a score); an external trainer's sweep has no spec to train (its
 * values are in /trials). *which gets the trial. */
int hp_export_trial_spec(const char *path, int64_t trial, char **text, size_t *len, int64_t *which, hp_err *err);

#endif
