/* report_data.c - a results file as the report's pages and charts read it (report_impl.h):
 * loading it (the summary and the curves indexed by trial), a trial's series of one curve
 * column, the moving average, numbers and a trial's hover title. Below report.c,
 * report_charts.c, report_wall.c, report_compare.c and the cairo charts, which all use it. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_impl.h"
#include "svg.h"

/* ---- data ------------------------------------------------------------------------------------ */

static const hp_curve_record *sort_base; /* qsort has no context argument */

static int by_trial_epoch(const void *a, const void *b) {
    const hp_curve_record *x = &sort_base[*(const int64_t *)a], *y = &sort_base[*(const int64_t *)b];
    if (x->trial != y->trial) return x->trial < y->trial ? -1 : 1;
    return x->epoch < y->epoch ? -1 : x->epoch > y->epoch;
}

/* Index the curve rows by trial: rows that name no trial of the file are counted, not used. */
static int index_curves(hp_rep *r, hp_err *err) {
    int64_t nt = r->s.ntrials, n = r->ncurves;
    r->order = hp_calloc((size_t)(n ? n : 1), sizeof *r->order, "the curve index", err);
    r->first = hp_calloc((size_t)(nt ? nt : 1), sizeof *r->first, "the curve index", err);
    r->count = hp_calloc((size_t)(nt ? nt : 1), sizeof *r->count, "the curve index", err);
    if (!r->order || !r->first || !r->count) return -1;
    for (int64_t i = 0; i < n; i++) {
        int64_t t = r->curves[i].trial;
        if (t >= 0 && t < nt && r->s.trials[t].id == t) r->order[r->norder++] = i;
        else r->stray_curves++;
    }
    sort_base = r->curves;
    qsort(r->order, (size_t)r->norder, sizeof *r->order, by_trial_epoch);
    for (int64_t i = 0; i < r->norder; i++) {
        int64_t t = r->curves[r->order[i]].trial;
        if (r->count[t]++ == 0) r->first[t] = i;
        if (r->count[t] > r->maxcount) r->maxcount = r->count[t];
    }
    size_t m = (size_t)(r->maxcount ? r->maxcount : 1);
    r->bx = hp_calloc(m, sizeof *r->bx, "a curve", err);
    r->by = hp_calloc(m, sizeof *r->by, "a curve", err);
    r->bm = hp_calloc(m, sizeof *r->bm, "a curve", err);
    return r->bx && r->by && r->bm ? 0 : -1;
}

static int rep_load(hp_results_reader *rd, const char *path, hp_spec_synthetic_fn synthetic, hp_rep *r,
                    hp_err *err) {
    /* Curves first: a trial's row is flushed before any of its epochs, so on a file a sweep is
     * writing every curve row read names a trial the later read of /trials sees. */
    if (hp_results_read_curves(rd, &r->curves, &r->ncurves, err) < 0) return -1;
    if (hp_summary_read(rd, path, synthetic, &r->s, err) < 0) return -1;
    r->acc_lo = r->acc_hi = NAN;
    for (int64_t i = 0; i < r->s.ntrials; i++) {
        double a = r->s.trials[i].best_val_acc;
        if (!isfinite(a)) continue;
        if (!(a >= r->acc_lo)) r->acc_lo = a; /* also while NaN */
        if (!(a <= r->acc_hi)) r->acc_hi = a;
    }
    return index_curves(r, err);
}

int rep_open(const char *path, const hp_report_opts *opts, hp_results_reader **rd, hp_rep *r, hp_err *err) {
    memset(r, 0, sizeof *r);
    r->top_n = opts && opts->top_n > 0 ? opts->top_n : 5;
    r->refresh_s = opts ? opts->refresh_s : 0;
    *rd = NULL;
    if (hp_results_open_read(path, rd, err) < 0) return -1;
    return rep_load(*rd, path, opts ? opts->spec_synthetic : NULL, r, err);
}

void rep_free(hp_rep *r) {
    hp_summary_free(&r->s);
    free(r->curves);
    free(r->order);
    free(r->first);
    free(r->count);
    free(r->bx);
    free(r->by);
    free(r->bm);
}

static double col_value(const hp_curve_record *c, rep_col col) {
    switch (col) {
    case COL_TRAIN_LOSS: return c->train_loss;
    case COL_VAL_LOSS: return c->val_loss;
    case COL_TRAIN_ACC: return c->train_acc;
    case COL_VAL_ACC: return c->val_acc;
    default: return c->update_ratio;
    }
}

int64_t rep_series(const hp_rep *r, int64_t trial, rep_col col, double *x, double *y) {
    if (trial < 0 || trial >= r->s.ntrials) return 0;
    int64_t n = r->count[trial];
    for (int64_t i = 0; i < n; i++) {
        const hp_curve_record *c = &r->curves[r->order[r->first[trial] + i]];
        x[i] = c->epoch;
        y[i] = col_value(c, col);
    }
    return n;
}

void rep_smooth(const double *y, int64_t n, double *out) {
    int64_t h = HP_REPORT_SMOOTH / 2;
    for (int64_t i = 0; i < n; i++) {
        double sum = 0;
        int k = 0;
        for (int64_t j = i - h; j <= i + h; j++)
            if (j >= 0 && j < n && isfinite(y[j])) sum += y[j], k++;
        out[i] = isfinite(y[i]) && k ? sum / k : NAN;
    }
}

void rep_num(FILE *o, const char *fmt, double v) {
    if (isfinite(v)) fprintf(o, fmt, v);
    else fputs("n/a", o);
}

void rep_title(FILE *o, const hp_trial_record *t) {
    fprintf(o, "<title>trial %lld (stage %d, %s): lr ", (long long)t->id, t->stage,
            hp_trial_status_name((hp_trial_status)t->status));
    rep_num(o, "%.3g", t->lr);
    fputs(", weight decay ", o);
    rep_num(o, "%.3g", t->weight_decay);
    fputs(", best val acc ", o);
    rep_num(o, "%.4f", t->best_val_acc);
    fprintf(o, " at epoch %d of %d", t->best_epoch, t->epochs_done);
    if (t->message[0]) {
        fputs(": ", o);
        hp_html_esc(o, t->message);
    }
    fputs("</title>", o);
}

