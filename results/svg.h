/* svg.h - internal to results/: a small writer of inline SVG charts for report.c: axes on
 * linear or log10 scales with ticks and labels (the scales and ticks also used by plot.c), points, polylines that break at non-finite
 * values, shaded bands, rectangles, colour maps; and HTML escaping of text from the file.
 *
 * Everything is written with fprintf on one FILE; callers check ferror() once at the end
 * (a write error is sticky), as show.c does. Values that cannot be placed (NaN, infinities,
 * beyond 1e300, and zero or negative values on a log axis) are never drawn: hp_axis_ok says which.
 */
#ifndef HP_SVG_H
#define HP_SVG_H

#include <stdint.h>
#include <stdio.h>

/* Write s with &, <, >, " and ' escaped (safe in HTML text and in quoted attributes). */
void hp_html_esc(FILE *o, const char *s);

typedef struct hp_axis {
    double lo, hi; /* data range shown */
    int log;       /* 1: log10 scale */
} hp_axis;

/* Start an empty axis (hp_axis_add widens it), add values (those not placeable are
 * skipped), then finish: pad by `pad` of the width on each side; an empty axis becomes
 * [1e-4, 1] (log) or [0, 1], a single value a range around it. */
void hp_axis_start(hp_axis *a, int log);
void hp_axis_add(hp_axis *a, double v);
void hp_axis_finish(hp_axis *a, double pad);
/* Can v be placed on this axis: finite, within +-HP_AXIS_MAX, and on a log axis at least
 * 1 / HP_AXIS_MAX (so neither 0 nor negative)? */
#define HP_AXIS_MAX 1e300
int hp_axis_ok(const hp_axis *a, double v);
/* Tick values within the axis into t[HP_AXIS_MAX_TICKS]: decades on a log axis (with 2x and 5x
 * when it spans less than two, every other one when it spans more than ten), nice steps (1, 2,
 * 5 times a power of ten) on a linear one. Returns the count. Shared by the page and plot.c. */
#define HP_AXIS_MAX_TICKS 64
int hp_axis_ticks(const hp_axis *a, double *t);
/* A tick's label: "1e-5" for decades beyond [1e-2, 1e3] on a log axis, else %.3g. */
void hp_axis_tick_label(const hp_axis *a, double v, char *buf, size_t n);
/* v's position in [0, 1] along the axis (may lie outside for values beyond the range). */
double hp_axis_frac(const hp_axis *a, double v);

typedef struct hp_plot {
    FILE *o;
    double left, top, width, height; /* the plotting area, in pixels of the svg */
    hp_axis x, y;
    char id[40];                     /* the svg's id (its clip path is ID-clip) */
} hp_plot;

/* Open an <svg> of w x h pixels with a framed plotting area (room for tick labels on the left
 * and below, `right` pixels on the right), ticks and grid lines on both axes, axis labels,
 * and a clip path for the data (id from `id`). p->x and p->y must be finished axes. */
void hp_plot_begin(hp_plot *p, FILE *o, const char *id, int w, int h, int right, const char *label,
                   const char *xlabel, const char *ylabel);
void hp_plot_end(hp_plot *p);
/* Pixel coordinates of data values. */
double hp_plot_px(const hp_plot *p, double x);
double hp_plot_py(const hp_plot *p, double y);
/* Open a group clipped to the plotting area (close with hp_plot_unclip). */
void hp_plot_clip(hp_plot *p);
void hp_plot_unclip(hp_plot *p);
/* A line through (x[i], y[i]); a point that cannot be placed ends one polyline and the next
 * placeable one starts another. attrs: extra SVG attributes, e.g. "stroke=\"#123\"". */
void hp_plot_line(hp_plot *p, const double *x, const double *y, int64_t n, const char *attrs);
/* A horizontal band from y0 to y1 across the plotting area. */
void hp_plot_hband(hp_plot *p, double y0, double y1, const char *attrs);
/* A rectangle between data corners (x0, y0) and (x1, y1). */
void hp_plot_rect(hp_plot *p, double x0, double y0, double x1, double y1, const char *attrs);

/* Colours as "#rrggbb": a sequential map of t in [0, 1] (dark blue -> green -> yellow;
 * t outside is clamped, NaN gives grey), and a categorical palette (index wraps). */
void hp_color_seq(double t, char out[8]);
const char *hp_color_cat(int64_t i);

/* A vertical colour bar for values [lo, hi] at (x, y), w x h pixels, with ticks. */
void hp_colorbar(FILE *o, const char *id, double x, double y, double w, double h, double lo, double hi,
                 const char *label);

#endif
