/* chart.c - the report's charts laid out on a canvas (canvas.h) for `hpsweep plot`: panels,
 * frames, ticks and labels from svg.h's scales, the data chosen as the page chooses it
 * (report_impl.h: the same axes' contents, top trials, series and moving averages, placeable
 * values only), marks and colours as on the page. See chart.h. */
#include "chart.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "canvas.h"
#include "report_impl.h"
#include "svg.h"

#define ML 66 /* margins of a panel: room for tick labels and axis labels */
#define MT 26
#define MR 18
#define MB 46
#define FONT 11.0

static const char *const kind_names[HP_CHART_NKINDS] = {"space", "accuracy", "curves", "ratio", "wall"};

const char *hp_chart_kind_name(hp_chart_kind k) { return k < HP_CHART_NKINDS ? kind_names[k] : "?"; }

int hp_chart_kind_parse(const char *name) {
    for (int k = 0; k < HP_CHART_NKINDS; k++)
        if (strcmp(name, kind_names[k]) == 0) return k;
    return -1;
}

int hp_chart_format_of(const char *path) {
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/')) return -1;
    return !strcasecmp(dot, ".png") ? HP_CHART_PNG : !strcasecmp(dot, ".svg") ? HP_CHART_SVG
         : !strcasecmp(dot, ".pdf") ? HP_CHART_PDF : -1;
}

/* ---- panels ----------------------------------------------------------------------------------- */

/* The plotting area of a panel at (x, y), w x h, inside its margins (right: extra room). */
static void panel(hp_plot *p, double x, double y, double w, double h, double right) {
    p->o = NULL;
    p->left = x + ML;
    p->top = y + MT;
    p->width = fmax(w - ML - MR - right, 10);
    p->height = fmax(h - MT - MB, 10);
}

static void ticks(const hp_canvas *cv, const hp_plot *p) {
    const hp_pen grid = {.stroke = "#e4e4e4", .width = 1};
    double t[HP_AXIS_MAX_TICKS], lx[2], ly[2];
    char lab[32];
    int n = hp_axis_ticks(&p->x, t);
    for (int i = 0; i < n; i++) {
        lx[0] = lx[1] = hp_plot_px(p, t[i]), ly[0] = p->top, ly[1] = p->top + p->height;
        cv->path(cv->ctx, lx, ly, 2, 0, &grid);
        hp_axis_tick_label(&p->x, t[i], lab, sizeof lab);
        cv->text(cv->ctx, lx[0], p->top + p->height + 14, lab, FONT, HP_ANCHOR_MIDDLE, 0, "#333333");
    }
    n = hp_axis_ticks(&p->y, t);
    for (int i = 0; i < n; i++) {
        ly[0] = ly[1] = hp_plot_py(p, t[i]), lx[0] = p->left, lx[1] = p->left + p->width;
        cv->path(cv->ctx, lx, ly, 2, 0, &grid);
        hp_axis_tick_label(&p->y, t[i], lab, sizeof lab);
        cv->text(cv->ctx, p->left - 4, ly[0] + 4, lab, FONT, HP_ANCHOR_END, 0, "#333333");
    }
}

/* Frame, grid, ticks, axis labels and a title above; then clip to the plotting area. */
static void frame(const hp_canvas *cv, const hp_plot *p, const char *title, const char *xl, const char *yl) {
    ticks(cv, p);
    const hp_pen box = {.stroke = "#444444", .width = 1};
    cv->rect(cv->ctx, p->left, p->top, p->width, p->height, &box);
    cv->text(cv->ctx, p->left + p->width / 2, p->top - 9, title, 13, HP_ANCHOR_MIDDLE, 0, "#111111");
    cv->text(cv->ctx, p->left + p->width / 2, p->top + p->height + 34, xl, 12, HP_ANCHOR_MIDDLE, 0, "#222222");
    cv->text(cv->ctx, p->left - 48, p->top + p->height / 2, yl, 12, HP_ANCHOR_MIDDLE, 1, "#222222");
    cv->clip(cv->ctx, p->left, p->top, p->width, p->height);
}

/* A line through the placeable points; one that is not ends a piece (as hp_plot_line does). */
static void series(const hp_canvas *cv, const hp_plot *p, const double *x, const double *y, int64_t n,
                   double *bx, double *by, const hp_pen *pen) {
    int64_t k = 0;
    for (int64_t i = 0; i <= n; i++) {
        if (i < n && hp_axis_ok(&p->x, x[i]) && hp_axis_ok(&p->y, y[i])) {
            bx[k] = hp_plot_px(p, x[i]), by[k] = hp_plot_py(p, y[i]), k++;
            continue;
        }
        if (k > 1) cv->path(cv->ctx, bx, by, k, 0, pen);
        k = 0;
    }
}

typedef struct chart {
    hp_rep *r;
    const hp_canvas *cv;
    double *px, *py; /* pixel coordinates of one series (maxcount + 1 each) */
} chart;

/* ---- the searched space ----------------------------------------------------------------------- */

/* A trial's mark as on the page: circle (done; running dashed; pending hollow and smaller),
 * triangle (pruned), square (failed), cross (diverged); filled by accuracy. */
static void space_mark(const chart *c, const hp_plot *p, const hp_trial_record *t) {
    double x = hp_plot_px(p, t->lr), y = hp_plot_py(p, t->weight_decay);
    double a = t->best_val_acc, lo = c->r->acc_lo, hi = c->r->acc_hi;
    char col[8];
    hp_color_seq(isfinite(a) ? (hi > lo ? (a - lo) / (hi - lo) : 1) : NAN, col);
    hp_pen pen = {.stroke = "#222222", .fill = col, .width = 0.6};
    const hp_canvas *cv = c->cv;
    if (t->status == HP_TRIAL_DIVERGED) {
        hp_pen red = {.stroke = "#d62728", .width = 2};
        double ax[2] = {x - 4, x + 4}, ay[2] = {y - 4, y + 4}, by[2] = {y + 4, y - 4};
        cv->path(cv->ctx, ax, ay, 2, 0, &red);
        cv->path(cv->ctx, ax, by, 2, 0, &red);
    } else if (t->status == HP_TRIAL_FAILED) {
        hp_pen black = {.stroke = "#000000", .width = 1.2};
        cv->rect(cv->ctx, x - 4, y - 4, 8, 8, &black);
    } else if (t->status == HP_TRIAL_PRUNED) {
        double tx[3] = {x, x + 5, x - 5}, ty[3] = {y - 5, y + 4, y + 4};
        cv->path(cv->ctx, tx, ty, 3, 1, &pen);
    } else if (t->status == HP_TRIAL_PENDING) {
        hp_pen hollow = {.stroke = "#999999", .width = 1};
        cv->circle(cv->ctx, x, y, 3, &hollow);
    } else {
        pen.dash = t->status == HP_TRIAL_RUNNING ? 2 : 0;
        cv->circle(cv->ctx, x, y, 4.5, &pen);
    }
}

static void space_stages(const chart *c, const hp_plot *p) {
    const hp_summary *s = &c->r->s;
    for (int64_t i = 0; i < s->nstages; i++) {
        const hp_stage_record *st = &s->stages[i];
        if (!hp_axis_ok(&p->x, st->lr_low) || !hp_axis_ok(&p->x, st->lr_high) || !hp_axis_ok(&p->y, st->wd_low) ||
            !hp_axis_ok(&p->y, st->wd_high))
            continue;
        double x0 = hp_plot_px(p, st->lr_low), x1 = hp_plot_px(p, st->lr_high);
        double y0 = hp_plot_py(p, st->wd_high), y1 = hp_plot_py(p, st->wd_low);
        hp_pen pen = {.stroke = hp_color_cat(st->stage), .width = 1.5, .dash = 6};
        c->cv->rect(c->cv->ctx, fmin(x0, x1), fmin(y0, y1), fabs(x1 - x0), fabs(y1 - y0), &pen);
        char lab[32];
        snprintf(lab, sizeof lab, "stage %d", st->stage);
        c->cv->text(c->cv->ctx, fmin(x0, x1) + 3, fmin(y0, y1) + 12, lab, FONT, HP_ANCHOR_START, 0,
                    hp_color_cat(st->stage));
    }
}

/* A red ring around each stage's best trial that sits at an edge of its stage's range. */
static void space_callouts(const chart *c, const hp_plot *p) {
    const hp_summary *s = &c->r->s;
    const hp_pen ring = {.stroke = "#d62728", .width = 2};
    for (int64_t i = 0; i < s->nstages; i++) {
        const hp_stage_record *st = &s->stages[i];
        const hp_trial_record *b = hp_summary_stage_best(s, st->stage);
        if (!b || (!hp_summary_edge(b->lr, st->lr_low, st->lr_high) &&
                   !hp_summary_edge(b->weight_decay, st->wd_low, st->wd_high)))
            continue;
        if (hp_axis_ok(&p->x, b->lr) && hp_axis_ok(&p->y, b->weight_decay))
            c->cv->circle(c->cv->ctx, hp_plot_px(p, b->lr), hp_plot_py(p, b->weight_decay), 10, &ring);
    }
}

/* The colour bar of best validation accuracy right of the plotting area. */
static void colorbar(const chart *c, const hp_plot *p) {
    const hp_canvas *cv = c->cv;
    double x = p->left + p->width + 46, y = p->top, w = 14, h = p->height, lo = c->r->acc_lo, hi = c->r->acc_hi;
    for (int i = 0; i < 64; i++) {
        char col[8];
        hp_color_seq((i + 0.5) / 64, col);
        hp_pen pen = {.fill = col};
        cv->rect(cv->ctx, x, y + h * (63 - i) / 64, w, h / 64 + 0.5, &pen);
    }
    const hp_pen box = {.stroke = "#444444", .width = 1};
    cv->rect(cv->ctx, x, y, w, h, &box);
    cv->text(cv->ctx, x - 6, y + h / 2, "best validation accuracy", FONT, HP_ANCHOR_MIDDLE, 1, "#222222");
    if (!isfinite(lo) || !isfinite(hi)) return;
    hp_axis a = {lo, hi > lo ? hi : lo + 1, 0};
    double t[HP_AXIS_MAX_TICKS];
    int n = hi > lo ? hp_axis_ticks(&a, t) : (t[0] = lo, 1);
    for (int i = 0; i < n; i++) {
        char lab[32];
        snprintf(lab, sizeof lab, "%.3g", t[i]);
        cv->text(cv->ctx, x + w + 4, y + (1 - hp_axis_frac(&a, t[i])) * h + 4, lab, FONT, HP_ANCHOR_START, 0,
                 "#333333");
    }
}

static void chart_space(const chart *c, double w, double h) {
    hp_plot p;
    rep_space_axes(c->r, &p);
    panel(&p, 0, 0, w, h, 96);
    frame(c->cv, &p, "trials by learning rate and weight decay", "learning rate", "weight decay");
    space_stages(c, &p);
    for (int64_t i = 0; i < c->r->s.ntrials; i++) {
        const hp_trial_record *t = &c->r->s.trials[i];
        if (hp_axis_ok(&p.x, t->lr) && hp_axis_ok(&p.y, t->weight_decay)) space_mark(c, &p, t);
    }
    space_callouts(c, &p);
    c->cv->clip(c->cv->ctx, 0, 0, 0, 0);
    colorbar(c, &p);
}

/* ---- accuracy against each parameter ---------------------------------------------------------- */

static void accuracy_panel(const chart *c, int wd, double x0, double w, double h) {
    const hp_summary *s = &c->r->s;
    hp_plot p;
    rep_param_axes(c->r, wd, &p);
    panel(&p, x0, 0, w, h, 0);
    const char *name = wd ? "weight decay" : "learning rate";
    frame(c->cv, &p, name, name, "best validation accuracy");
    for (int64_t i = 0; i < s->ntrials; i++) {
        const hp_trial_record *t = &s->trials[i];
        double v = wd ? t->weight_decay : t->lr;
        if (!hp_axis_ok(&p.x, v) || !hp_axis_ok(&p.y, t->best_val_acc)) continue;
        hp_pen pen = {.fill = hp_color_cat(t->stage), .alpha = 0.8};
        c->cv->circle(c->cv->ctx, hp_plot_px(&p, v), hp_plot_py(&p, t->best_val_acc), 3.5, &pen);
    }
    c->cv->clip(c->cv->ctx, 0, 0, 0, 0);
}

static void chart_accuracy(const chart *c, double w, double h) {
    accuracy_panel(c, 0, 0, w / 2, h);
    accuracy_panel(c, 1, w / 2, w / 2, h);
}

/* ---- learning curves of the top trials ---------------------------------------------------------- */

static void curve_panel(const chart *c, rep_col col, const char *label, double x0, double y0, double w, double h) {
    hp_rep *r = c->r;
    hp_plot p;
    rep_curve_axes(r, col, &p);
    panel(&p, x0, y0, w, h, 0);
    frame(c->cv, &p, label, "epoch", label);
    for (int64_t k = 0; k < rep_ntop(r); k++) {
        int64_t n = rep_series(r, r->s.ranked[k]->id, col, r->bx, r->by);
        hp_pen raw = {.stroke = hp_color_cat(k), .width = 1, .alpha = 0.35};
        series(c->cv, &p, r->bx, r->by, n, c->px, c->py, &raw);
        rep_smooth(r->by, n, r->bm);
        hp_pen avg = {.stroke = hp_color_cat(k), .width = 2};
        series(c->cv, &p, r->bx, r->bm, n, c->px, c->py, &avg);
    }
    c->cv->clip(c->cv->ctx, 0, 0, 0, 0);
}

static void chart_curves(const chart *c, double w, double h) {
    curve_panel(c, COL_TRAIN_LOSS, "training loss", 0, 0, w / 2, h / 2);
    curve_panel(c, COL_VAL_LOSS, "validation loss", w / 2, 0, w / 2, h / 2);
    curve_panel(c, COL_TRAIN_ACC, "training accuracy", 0, h / 2, w / 2, h / 2);
    curve_panel(c, COL_VAL_ACC, "validation accuracy", w / 2, h / 2, w / 2, h / 2);
}

/* ---- update/weight ratio ------------------------------------------------------------------------- */

static void chart_ratio(const chart *c, double w, double h) {
    hp_rep *r = c->r;
    hp_plot p;
    rep_ratio_axes(r, &p);
    panel(&p, 0, 0, w, h, 0);
    frame(c->cv, &p, "update/weight ratio per epoch", "epoch", "update / weight ratio");
    const hp_pen grey = {.stroke = "#999999", .width = 0.7, .alpha = 0.3}, band = {.fill = "#2ca02c", .alpha = 0.25};
    for (int64_t i = 0; i < r->s.ntrials; i++) {
        int64_t n = rep_series(r, i, COL_RATIO, r->bx, r->by);
        series(c->cv, &p, r->bx, r->by, n, c->px, c->py, &grey);
    }
    double y0 = hp_plot_py(&p, HP_REPORT_RATIO_HI), y1 = hp_plot_py(&p, HP_REPORT_RATIO_LO);
    c->cv->rect(c->cv->ctx, p.left, y0, p.width, y1 - y0, &band);
    for (int64_t k = 0; k < rep_ntop(r); k++) {
        int64_t n = rep_series(r, r->s.ranked[k]->id, COL_RATIO, r->bx, r->by);
        hp_pen top = {.stroke = hp_color_cat(k), .width = 2};
        series(c->cv, &p, r->bx, r->by, n, c->px, c->py, &top);
    }
    c->cv->clip(c->cv->ctx, 0, 0, 0, 0);
}

/* ---- the wall ------------------------------------------------------------------------------------ */

static const char *wall_frame_color(int32_t status) {
    switch (status) {
    case HP_TRIAL_DIVERGED: return "#d62728";
    case HP_TRIAL_FAILED: return "#000000";
    case HP_TRIAL_PRUNED: return "#ff7f0e";
    case HP_TRIAL_RUNNING: return "#1f77b4";
    default: return "#bbbbbb";
    }
}

static void wall_cell(const chart *c, const hp_trial_record *t, double x, double y, double cw, double ch,
                      const hp_axis *ax, const hp_axis *ay) {
    hp_pen box = {.stroke = wall_frame_color(t->status), .fill = "#fafafa", .width = 1,
                  .dash = t->status == HP_TRIAL_RUNNING ? 3 : 0};
    c->cv->rect(c->cv->ctx, x + 1, y + 1, cw - 2, ch - 2, &box);
    char lab[48];
    double fs = fmin(FONT, ch / 5);
    snprintf(lab, sizeof lab, "#%lld", (long long)t->id);
    c->cv->text(c->cv->ctx, x + 3, y + fs + 1, lab, fs, HP_ANCHOR_START, 0, "#333333");
    if (isfinite(t->best_val_acc)) snprintf(lab, sizeof lab, "%.3f", t->best_val_acc);
    else snprintf(lab, sizeof lab, "n/a");
    c->cv->text(c->cv->ctx, x + cw - 3, y + fs + 1, lab, fs, HP_ANCHOR_END, 0, "#333333");
    hp_plot p = {.left = x + 4, .top = y + fs + 4, .width = fmax(cw - 8, 1), .height = fmax(ch - fs - 8, 1),
                 .x = *ax, .y = *ay};
    int64_t n = rep_series(c->r, t->id, COL_VAL_ACC, c->r->bx, c->r->by);
    const hp_pen line = {.stroke = "#1f77b4", .width = 1.3};
    series(c->cv, &p, c->r->bx, c->r->by, n, c->px, c->py, &line);
}

static int chart_wall(const chart *c, double w, double h, hp_err *err) {
    int64_t nt = c->r->s.ntrials;
    if (nt == 0) {
        c->cv->text(c->cv->ctx, w / 2, h / 2, "no trials yet", 14, HP_ANCHOR_MIDDLE, 0, "#333333");
        return 0;
    }
    int64_t *rows = hp_calloc((size_t)nt, sizeof *rows, "the wall", err);
    unsigned char *seen = hp_calloc((size_t)nt, 1, "the wall", err);
    if (!rows || !seen) return free(rows), free(seen), -1;
    int64_t n = rep_wall_order(c->r, rows, seen);
    hp_axis ax, ay;
    rep_wall_axes(c->r, &ax, &ay);
    int64_t cols = (int64_t)ceil(sqrt((double)n * w / h)), nrows;
    if (cols < 1) cols = 1;
    nrows = (n + cols - 1) / cols;
    double cw = w / (double)cols, ch = h / (double)nrows;
    for (int64_t i = 0; i < n; i++)
        wall_cell(c, &c->r->s.trials[rows[i]], (double)(i % cols) * cw, (double)(i / cols) * ch, cw, ch, &ax, &ay);
    free(rows);
    free(seen);
    return 0;
}

int rep_chart_draw(hp_rep *r, int kind, const hp_canvas *cv, double w, double h, hp_err *err) {
    chart c = {.r = r, .cv = cv};
    size_t m = (size_t)r->maxcount + 1;
    c.px = hp_calloc(m, sizeof *c.px, "a plotted line", err);
    c.py = hp_calloc(m, sizeof *c.py, "a plotted line", err);
    int rc = c.px && c.py ? 0 : -1;
    const hp_pen white = {.fill = "#ffffff"};
    if (rc == 0) cv->rect(cv->ctx, 0, 0, w, h, &white);
    if (rc == 0) switch (kind) {
        case HP_CHART_SPACE: chart_space(&c, w, h); break;
        case HP_CHART_ACCURACY: chart_accuracy(&c, w, h); break;
        case HP_CHART_CURVES: chart_curves(&c, w, h); break;
        case HP_CHART_RATIO: chart_ratio(&c, w, h); break;
        default: rc = chart_wall(&c, w, h, err);
        }
    free(c.px);
    free(c.py);
    return rc;
}
