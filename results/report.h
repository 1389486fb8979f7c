/* report.h - `hpsweep report FILE.h5`: one self-contained HTML page about a sweep, and
 * `hpsweep export FILE.h5 --csv`: its /trials and /curves tables as CSV files.
 *
 * The page needs nothing outside itself (no network, no scripts, no fonts): the charts are
 * inline SVG drawn here (svg.h), the style is inline CSS, and hovering a point shows its
 * trial through SVG <title> elements. Sections (docs/report.md says why each matters): the
 * summary `show` gives (counts, warnings, stages, final test result), the searched space
 * (every trial at its lr and weight decay, coloured by best validation accuracy, each stage's
 * range drawn over them, a callout when a stage's best trial sits at an edge of its range),
 * best validation accuracy against each parameter, the learning curves of the top trials with
 * a moving average, the update/weight ratio per epoch against the 1e-3 band, and a wall of
 * every trial's validation-accuracy curve. Works on a file a sweep is still writing.
 *
 * Every number from the file is checked before it is drawn: values that cannot be placed
 * (NaN, infinities, non-positive values on a log axis) are left out and counted on the page.
 * Each trial drawn in the searched-space chart is one element of class "pt" with
 * data-trial="ID" (tests count them).
 */
#ifndef HP_REPORT_H
#define HP_REPORT_H

#include <stddef.h>

#include "hp_err.h"
#include "results.h"

typedef struct hp_report_opts {
    int top_n;     /* trials in the learning-curve charts; <= 0: 5 */
    int refresh_s; /* > 0: the page asks the browser to reload it every refresh_s seconds
                      (<meta http-equiv="refresh">, for `hpsweep serve`); 0: no such tag */
    hp_spec_synthetic_fn spec_synthetic; /* as hp_show_opts's; may be NULL */
} hp_report_opts;

/* The moving average of the learning curves: a centred window of this many epochs. */
#define HP_REPORT_SMOOTH 3
/* The shaded update/weight ratio band: 1e-3 within half a decade either way. */
#define HP_REPORT_RATIO_LO 3.1622776601683794e-4
#define HP_REPORT_RATIO_HI 3.1622776601683794e-3

/* Write the report of results file `path` to `out` (replaced whole, or left as it was on
 * failure). opts may be NULL. */
int hp_report(const char *path, const char *out, const hp_report_opts *opts, hp_err *err);

/* The same page in memory: *page (malloc'd, the caller frees it) and *len. On failure *page is
 * NULL and err says why. */
int hp_report_mem(const char *path, const hp_report_opts *opts, char **page, size_t *len, hp_err *err);

/* Write a page comparing results files a and b to `out` (replaced whole, or left as it was):
 * both summaries in one table, the searched spaces on the same axes and colour scale, the best
 * validation accuracy of each stage, the top trials' learning curves of each on shared scales.
 * The marks of A's searched space are in the svg with id "a-space", B's in "b-space". */
int hp_report_compare(const char *a, const char *b, const char *out, const hp_report_opts *opts, hp_err *err);

/* Write DIR/trials.csv and DIR/curves.csv (DIR is created if missing): a header row with
 * the HDF5 tables' column names, then one row per table row; RFC 4180 (CRLF line ends,
 * strings with a comma, quote or line break quoted, quotes doubled); status as its name;
 * NaN as an empty field, infinities as inf and -inf; doubles with the digits that read back
 * to the same value. *ntrials and *ncurves (may be NULL) get the rows written. */
int hp_export_csv(const char *path, const char *dir, long long *ntrials, long long *ncurves, hp_err *err);

/* One table as that CSV in memory (curves: /curves, else /trials): *csv (malloc'd, the caller
 * frees it) and *len; on failure *csv is NULL and err says why. */
int hp_export_csv_mem(const char *path, int curves, char **csv, size_t *len, hp_err *err);

#endif
