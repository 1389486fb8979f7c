/* report_impl.h - internal to the report (report.c: data, page and tables; report_charts.c:
 * the charts): a results file loaded once, its curve rows indexed by trial. */
#ifndef HP_REPORT_IMPL_H
#define HP_REPORT_IMPL_H

#include <stdint.h>
#include <stdio.h>

#include "report.h"
#include "results.h"
#include "summary.h"

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
    double *bx, *by, *bm;  /* scratch of maxcount values: a series and its moving average */
    FILE *o;
} hp_rep;

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
void rep_params(hp_rep *r);
void rep_curves(hp_rep *r);
void rep_ratio(hp_rep *r);
void rep_wall(hp_rep *r);

#endif
