/* report_wall.c - the report's "command center": a wall of small charts, one per trial (best
 * first, then the unscored ones by id), each its validation accuracy per epoch on a scale
 * shared by all, framed by its status; see report.h. */
#include <math.h>
#include <stdlib.h>

#include "report_impl.h"
#include "svg.h"

#define COLS 12
#define CELL_W 84
#define CELL_H 58
#define GAP 4

int64_t rep_wall_order(const hp_rep *r, int64_t *rows, unsigned char *seen) {
    int64_t n = 0;
    for (int64_t k = 0; k < r->s.nranked; k++) {
        int64_t i = r->s.ranked[k] - r->s.trials;
        rows[n++] = i;
        seen[i] = 1;
    }
    for (int64_t i = 0; i < r->s.ntrials; i++)
        if (!seen[i]) rows[n++] = i;
    return n;
}

void rep_wall_axes(const hp_rep *r, hp_axis *x, hp_axis *y) {
    hp_axis_start(x, 0);
    hp_axis_start(y, 0);
    for (int64_t i = 0; i < r->norder; i++) {
        const hp_curve_record *c = &r->curves[r->order[i]];
        if (!isfinite(c->val_acc)) continue;
        hp_axis_add(x, c->epoch);
        hp_axis_add(y, c->val_acc);
    }
    hp_axis_finish(x, 0.03);
    hp_axis_finish(y, 0.08);
}

static void wall_cell(hp_rep *r, const hp_trial_record *t, int64_t pos, const hp_axis *x, const hp_axis *y) {
    FILE *o = r->o;
    double cx = (double)(pos % COLS) * (CELL_W + GAP), cy = (double)(pos / COLS) * (CELL_H + GAP);
    fprintf(o, "<g class=\"cell %s\" data-trial=\"%lld\">", hp_trial_status_name((hp_trial_status)t->status),
            (long long)t->id);
    rep_title(o, t);
    fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%d\"/>", cx, cy, CELL_W, CELL_H);
    fprintf(o, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">#%lld</text><text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
               "text-anchor=\"end\">", cx + 3, cy + 11, (long long)t->id, cx + CELL_W - 3, cy + 11);
    rep_num(o, "%.3f", t->best_val_acc);
    fputs("</text>\n", o);
    hp_plot p = {.o = o, .left = cx + 4, .top = cy + 15, .width = CELL_W - 8, .height = CELL_H - 19, .x = *x, .y = *y};
    int64_t n = rep_series(r, t->id, COL_VAL_ACC, r->bx, r->by);
    hp_plot_line(&p, r->bx, r->by, n, "class=\"wall\" stroke=\"#1f77b4\" stroke-width=\"1.3\"");
    fputs("</g>\n", o);
}

void rep_wall(hp_rep *r) {
    FILE *o = r->o;
    int64_t nt = r->s.ntrials;
    fputs("<h2 id=\"wall\">Every trial's validation accuracy (the command center)</h2>\n<p>One small chart per "
          "trial, best first, then those without a score by id; all on the same scales, so a trial that "
          "learns slowly, stalls or collapses stands out. Frames: red diverged, black failed, orange pruned, "
          "dashed blue running.</p>\n", o);
    if (nt == 0) {
        fputs("<p>No trials yet.</p>\n", o);
        return;
    }
    int64_t *rows = malloc((size_t)nt * sizeof *rows);
    unsigned char *seen = calloc((size_t)nt, 1);
    if (!rows || !seen) {
        fputs("<p class=\"warn\">Out of memory drawing the wall.</p>\n", o);
        free(rows);
        free(seen);
        return;
    }
    int64_t n = rep_wall_order(r, rows, seen);
    hp_axis x, y;
    rep_wall_axes(r, &x, &y);
    int64_t nrows = (n + COLS - 1) / COLS;
    int w = COLS * (CELL_W + GAP), h = (int)(nrows * (CELL_H + GAP));
    fprintf(o, "<svg class=\"plot wall\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
               "aria-label=\"validation accuracy of every trial\">\n", w, h, w, h);
    for (int64_t i = 0; i < n; i++) wall_cell(r, &r->s.trials[rows[i]], i, &x, &y);
    fputs("</svg>\n", o);
    fprintf(o, "<p class=\"note\">Scales: epochs %.3g to %.3g, validation accuracy %.3g to %.3g.</p>\n", x.lo, x.hi,
            y.lo, y.hi);
    free(rows);
    free(seen);
}
