/* summary.h - internal to results/: a results file read and summarised once (stages, trial
 * status counts, trials ranked best first, warnings, elapsed time), shared by `show`
 * (show.c prints it as text or JSON) and `report` (report.c draws it as HTML), so both say
 * the same thing. Also the edge rule (HP_SHOW_EDGE_FRACTION, show.h) as a function.
 */
#ifndef HP_SUMMARY_H
#define HP_SUMMARY_H

#include <stdint.h>

#include "hp_err.h"
#include "results.h"

#define HP_SUMMARY_MAX_WARN 24

typedef struct hp_summary {
    const char *path;
    const hp_results_header *h;
    char name[96];
    hp_trial_record *trials;
    int64_t ntrials;
    hp_stage_record *stages;
    int64_t nstages;
    hp_final_record *final;
    int64_t nfinal;
    hp_stage_param_record *sparams;     /* /stage_params (none in a version-2 file) */
    int64_t nsparams;
    const hp_param_column *cols;        /* /trials' parameter columns (the reader's) */
    int ncols;
    int64_t counts[HP_TRIAL_PRUNED + 1];
    const hp_trial_record **ranked; /* done and running trials with a score, best first */
    int64_t nranked;
    char warn[HP_SUMMARY_MAX_WARN][400];
    int nwarn;
    double trial_seconds, wall_seconds; /* wall_seconds < 0: unknown */
    int synthetic;                      /* the stored spec says a synthetic sweep: 1 yes, 0 no, -1 unknown */
} hp_summary;


/* Read the trials, stages and final rows of an open reader and summarise them (path only
 * names the file in messages). synthetic may be NULL: a best trial without a snapshot is then
 * taken for a synthetic sweep. On failure err is set; hp_summary_free is safe either way. */
int hp_summary_read(hp_results_reader *rd, const char *path, hp_spec_synthetic_fn synthetic, hp_summary *s,
                    hp_err *err);
void hp_summary_free(hp_summary *s);

/* Where v lies in [lo, hi] as a fraction of the width: log10 scale when the range is
 * positive (the search samples log-uniformly), linear otherwise. */
double hp_summary_range_fraction(double v, double lo, double hi);
/* Which edge of [lo, hi] v sits at (within HP_SHOW_EDGE_FRACTION of the width): "low",
 * "high", or NULL (mid-range, a fixed parameter lo == hi, or v not finite). */
const char *hp_summary_edge(double v, double lo, double hi);
/* The best ranked trial of `stage`, or NULL when none of it has a score. */
const hp_trial_record *hp_summary_stage_best(const hp_summary *s, int32_t stage);

#endif
