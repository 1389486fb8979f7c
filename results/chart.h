/* chart.h - `hpsweep plot FILE.h5 KIND -o OUT`: one chart of the report as a PNG, SVG or PDF file,
 * drawn with cairo (one code path for the three formats; canvas_cairo.c). The charts are the
 * report's (docs/report.md): the searched space, accuracy against each parameter, the top
 * trials' learning curves, the update/weight ratio, the wall of every trial. They use the page's
 * data, scales and ticks (report_impl.h, svg.h); chart.c lays them out on a canvas (canvas.h).
 * Cairo is optional at build time: without it hp_chart_write fails with a message saying how
 * to get it, and hp_chart_have_cairo() is 0.
 */
#ifndef HP_CHART_H
#define HP_CHART_H

#include "hp_err.h"

typedef enum hp_chart_kind {
    HP_CHART_SPACE,
    HP_CHART_ACCURACY,
    HP_CHART_CURVES,
    HP_CHART_RATIO,
    HP_CHART_WALL,
    HP_CHART_NKINDS
} hp_chart_kind;

typedef enum hp_chart_format { HP_CHART_PNG, HP_CHART_SVG, HP_CHART_PDF } hp_chart_format;

/* "space", "accuracy", "curves", "ratio", "wall". */
const char *hp_chart_kind_name(hp_chart_kind k);
/* The kind of a name; -1 when none. */
int hp_chart_kind_parse(const char *name);
/* The format of an output name by its extension (.png, .svg, .pdf, any case); -1 when none. */
int hp_chart_format_of(const char *path);

/* Was this build made with cairo? */
int hp_chart_have_cairo(void);

/* Draw chart `kind` of results file `path` into `out` (replaced whole: written under a
 * temporary name and renamed), w x h pixels (PNG) or points (SVG, PDF); top_n trials in the
 * curves (<= 0: 5). */
int hp_chart_write(const char *path, hp_chart_kind kind, const char *out, int w, int h, int top_n, hp_err *err);

#endif
