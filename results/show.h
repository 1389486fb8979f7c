/* show.h - `hpsweep show FILE`: a summary of a results file, as text or JSON.
 *
 * Works on a finished file and on one a sweep is still writing (SWMR read). Prints the
 * header (sweep name from the spec's top-level `name:`, seed, creation time, versions), the
 * stages with their ranges and how each was derived, trial status counts, the top-N trials
 * by best validation accuracy (done and running trials, with the device each ran on), warnings (the best trial of the last
 * stage at an edge of its range, diverged and failed trials with their messages, unfinished
 * trials, no test result), the final test-set result and the elapsed time.
 */
#ifndef HP_SHOW_H
#define HP_SHOW_H

#include <stdio.h>

#include "hp_err.h"
#include "results.h"

typedef struct hp_show_opts {
    int top_n; /* rows of the top table; <= 0: 10 */
    int json;  /* 1: one JSON object (file, name, seed, ..., stages, counts, top, final,
                  warnings, elapsed) instead of text */
    /* Whether the stored spec is a synthetic sweep (results.h); NULL or -1: judged by whether
     * the best trial kept a snapshot (a synthetic trial keeps none). */
    hp_spec_synthetic_fn spec_synthetic;
} hp_show_opts;

/* A trial counts as "at an edge" of a range when it lies within this fraction of the range's
 * width (log10 width for positive ranges) of either end. */
#define HP_SHOW_EDGE_FRACTION 0.05

/* Summarise `path` on `out`. opts may be NULL (defaults). Returns -1 with err set when the
 * file cannot be read or the output cannot be written. */
int hp_show(const char *path, const hp_show_opts *opts, FILE *out, hp_err *err);

/* The same on a reader already open (path only names the file in messages); the reader stays
 * open. The results fuzzer summarises each input this way, twice, after one open. */
int hp_show_reader(hp_results_reader *rd, const char *path, const hp_show_opts *opts, FILE *out, hp_err *err);

#endif
