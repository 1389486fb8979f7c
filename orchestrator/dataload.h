/* dataload.h - turn a spec's data section into the three splits a trial needs.
 *
 * Reads the training and test files, holds val_size examples of the training file out for
 * validation (a split that depends only on the sweep seed), applies the subsets, fits the
 * per-channel standardisation on the training split alone and applies it to all three.
 * The test split is loaded here but only the final evaluation ever reads it.
 */
#ifndef HP_DATALOAD_H
#define HP_DATALOAD_H

#include "data.h"
#include "hp_err.h"
#include "spec.h"

typedef struct hp_splits {
    hp_dataset train, val, test;
    hp_norm norm;     /* fitted on train; identity when standardize is off */
    int shared;       /* train and val live in memory this struct does not own (nodedata.h):
                         hp_splits_free leaves them alone */
} hp_splits;

/* `with_test`: also load the test files (the coordinator needs them; trainer ranks do not). */
int hp_splits_load(const hp_spec *spec, int with_test, hp_splits *out, hp_err *err);
/* Load the test files into s->test, standardised with s->norm (train and val already loaded). */
int hp_splits_load_test(const hp_spec *spec, hp_splits *s, hp_err *err);
void hp_splits_free(hp_splits *s);

#endif
