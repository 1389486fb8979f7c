/* export_spec.h - the training spec of one trial of a results file (`hpsweep export --spec`):
 * the spec the sweep ran, with the trial's searched values set at their places, its search:
 * section left out and train.epochs the trial's, written as `hpsweep train` reads it. */
#ifndef HP_EXPORT_SPEC_H
#define HP_EXPORT_SPEC_H

#include <stdint.h>
#include <stdio.h>

#include "hp_err.h"

/* Write trial `trial` of the results file at `path` (-1: the best finished trial, by the one
 * rule of results.h) to f, a comment naming the sweep, the trial and its score first. The
 * trial must be done or pruned (a trial with a score); an external trainer's sweep has no spec
 * to train (its values are in /trials). *which gets the trial written. */
int hp_export_trial_spec(const char *path, int64_t trial, FILE *f, int64_t *which, hp_err *err);

#endif
