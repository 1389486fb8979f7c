/* report_impl.h - internal to the report (report.c: data, page and tables; report_charts.c:
 * the charts; report_compare.c: two files side by side): a results file loaded once, its curve
 * rows indexed by trial. */
#ifndef HP_REPORT_IMPL_H
#define HP_REPORT_IMPL_H

#include <stdint.h>
#include <stdio.h>

#include "report.h"
#include "results.h"
#include "summary.h"
#include "svg.h"

/* The curve columns the charts draw. */
typedef enum rep_col { COL_TRAIN_LOSS, COL_VAL_LOSS, COL_TRAIN_ACC, COL_VAL_ACC, COL_RATIO } rep_col;

typedef struct hp_rep {
    hp_summary s;
    hp_curve_record *curves;
    int64_t ncurves;
    int64_t *order;        /* rows of curves naming a trial of the file, by (trial, epoch) */
    int64_t norder;
    int64_t *first, *count; /* per trial row: where its rows start in order, and how many */
    int64_t maxcount;      /* the most rows of one trial */
    int64_t stray_curves;  /* curve rows naming no trial of the file (left out) */
    double acc_lo, acc_hi; /* range of the finite best_val_acc of all trials (NaN: none) */
    int top_n;
    int refresh_s;         /* > 0: a <meta http-equiv="refresh"> in the page's head */
    double *bx, *by, *bm;  /* scratch of maxcount values: a series and its moving average */
    FILE *o;
} hp_rep;

/* Open results file `path` (through rd, kept open by the caller until the page is written:
 * the header's strings belong to it) and load it into r (zeroed first); top_n <= 0: 5. */
int rep_open(const char *path, const hp_report_opts *opts, hp_results_reader **rd, hp_rep *r, hp_err *err);
void rep_free(hp_rep *r);
/* The page's <!DOCTYPE>, <head> with the style (and a refresh every refresh_s seconds when
 * > 0), and <h1>TITLE</h1> (escaped). */
void rep_page_start(FILE *o, const char *title, int refresh_s);
/* The trials shown in the learning-curve charts: min(ranked, top_n). */
int64_t rep_ntop(const hp_rep *r);

/* A trial's epochs and one column, in epoch order, into x and y; returns the count. */
int64_t rep_series(const hp_rep *r, int64_t trial, rep_col col, double *x, double *y);
/* Centred moving average over HP_REPORT_SMOOTH epochs of the finite values of y. */
void rep_smooth(const double *y, int64_t n, double *out);
/* A trial's hover text: <title>trial ... </title>, escaped. */
void rep_title(FILE *o, const hp_trial_record *t);
/* v formatted with fmt, or "n/a" when not finite. */
void rep_num(FILE *o, const char *fmt, double v);

/* The charts, each an HTML section (report_charts.c, report_wall.c). */
void rep_space(hp_rep *r);
/* The parts of the searched-space chart, for a page that draws two files on the same axes:
 * widen x (lr) and y (weight decay) by r's trials and stage ranges (the axes are started and
 * finished by the caller); draw the chart on finished axes with its colour bar, the count
 * drawn and the callouts (ids from `id`; the colour scale is [r->acc_lo, r->acc_hi]). */
void rep_space_add(const hp_rep *r, hp_axis *x, hp_axis *y);
void rep_space_chart(hp_rep *r, hp_plot *p, const char *id, const char *label);
/* One learning-curve chart of the top trials (raw and smoothed) for a column: widen axes by
 * its values; draw on finished axes. */
void rep_curve_add(hp_rep *r, rep_col col, hp_axis *x, hp_axis *y);
void rep_curve_chart(hp_rep *r, hp_plot *p, rep_col col, const char *id, const char *label);
/* Each chart's axes, finished (scales, ranges and margins), as the page and `plot` both draw
 * them: the searched space; best accuracy against lr (wd 0) or weight decay (wd 1); one
 * learning-curve column of the top trials; the update ratio (returns the epochs that have one). */
void rep_space_axes(const hp_rep *r, hp_plot *p);
void rep_param_axes(const hp_rep *r, int wd, hp_plot *p);
void rep_curve_axes(hp_rep *r, rep_col col, hp_plot *p);
int64_t rep_ratio_axes(const hp_rep *r, hp_plot *p);
void rep_params(hp_rep *r);
void rep_curves(hp_rep *r);
void rep_ratio(hp_rep *r);
void rep_wall(hp_rep *r);
/* The wall's trial rows in its order into rows[ntrials] (seen[ntrials] zeroed: scratch): ranked
 * ones best first, then the others by id; returns the count. Its shared scales: epochs and
 * validation accuracy over every trial's curve. */
int64_t rep_wall_order(const hp_rep *r, int64_t *rows, unsigned char *seen);
void rep_wall_axes(const hp_rep *r, hp_axis *x, hp_axis *y);

/* `hpsweep plot`: draw chart `kind` (hp_chart_kind) of r on a canvas of w x h (chart.c);
 * -1 (err set) when out of memory. */
struct hp_canvas;
int rep_chart_draw(hp_rep *r, int kind, const struct hp_canvas *cv, double w, double h, hp_err *err);

#endif
