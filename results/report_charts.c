/* report_charts.c - the report's charts of the searched space, of accuracy against each
 * parameter, of the top trials' learning curves and of the update/weight ratio; see report.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_impl.h"
#include "svg.h"

/* Colour of a best validation accuracy on the report's scale (grey when not finite). */
static void acc_color(const hp_rep *r, double acc, char col[8]) {
    double t = r->acc_hi > r->acc_lo ? (acc - r->acc_lo) / (r->acc_hi - r->acc_lo) : 1;
    hp_color_seq(isfinite(acc) ? t : NAN, col);
}

/* One trial's mark: circle (done; running dashed), hollow circle (pending), triangle
 * (pruned), square (failed), cross (diverged); filled by accuracy. */
static void mark(hp_rep *r, const hp_plot *p, const hp_trial_record *t) {
    FILE *o = r->o;
    double x = hp_plot_px(p, t->lr), y = hp_plot_py(p, t->weight_decay);
    char col[8];
    acc_color(r, t->best_val_acc, col);
    const char *st = hp_trial_status_name((hp_trial_status)t->status), *tag;
    long long id = (long long)t->id;
    switch (t->status) {
    case HP_TRIAL_DIVERGED:
        tag = "path";
        fprintf(o, "<path class=\"pt %s\" data-trial=\"%lld\" d=\"M%.1f %.1fl8 8m0 -8l-8 8\">", st, id, x - 4, y - 4);
        break;
    case HP_TRIAL_FAILED:
        tag = "rect";
        fprintf(o, "<rect class=\"pt %s\" data-trial=\"%lld\" x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\">", st, id,
                x - 4, y - 4);
        break;
    case HP_TRIAL_PRUNED:
        tag = "polygon";
        fprintf(o, "<polygon class=\"pt %s\" data-trial=\"%lld\" fill=\"%s\" points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\">",
                st, id, col, x, y - 5, x + 5, y + 4, x - 5, y + 4);
        break;
    default:
        tag = "circle";
        fprintf(o, "<circle class=\"pt %s\" data-trial=\"%lld\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\">", st,
                id, x, y, t->status == HP_TRIAL_PENDING ? "3" : "4.5", col);
    }
    rep_title(o, t);
    fprintf(o, "</%s>\n", tag);
}

/* "stage 1's best trial 4 has lr at the high edge, ..." into buf; 0 when it is at no edge. */
static int edge_text(const hp_stage_record *st, const hp_trial_record *b, char *buf, size_t n) {
    const char *le = hp_summary_edge(b->lr, st->lr_low, st->lr_high);
    const char *we = hp_summary_edge(b->weight_decay, st->wd_low, st->wd_high);
    if (!le && !we) return 0;
    snprintf(buf, n, "stage %d's best trial %lld sits at the %s%s%s%s%s of its stage's range", st->stage,
             (long long)b->id, le ? le : "", le ? " lr edge" : "", le && we ? " and the " : "", we ? we : "",
             we ? " weight decay edge" : "");
    return 1;
}

void rep_space_add(const hp_rep *r, hp_axis *x, hp_axis *y) {
    for (int64_t i = 0; i < r->s.ntrials; i++) {
        hp_axis_add(x, r->s.trials[i].lr);
        hp_axis_add(y, r->s.trials[i].weight_decay);
    }
    for (int64_t i = 0; i < r->s.nstages; i++) {
        const hp_stage_record *st = &r->s.stages[i];
        hp_axis_add(x, st->lr_low), hp_axis_add(x, st->lr_high);
        hp_axis_add(y, st->wd_low), hp_axis_add(y, st->wd_high);
    }
}

static void space_stages(hp_rep *r, hp_plot *p) {
    for (int64_t i = 0; i < r->s.nstages; i++) {
        const hp_stage_record *st = &r->s.stages[i];
        char attrs[96];
        snprintf(attrs, sizeof attrs, "class=\"stage-range\" data-stage=\"%d\" stroke=\"%s\"", st->stage,
                 hp_color_cat(st->stage));
        hp_plot_rect(p, st->lr_low, st->wd_low, st->lr_high, st->wd_high, attrs);
        if (hp_axis_ok(&p->x, st->lr_low) && hp_axis_ok(&p->y, st->wd_high))
            fprintf(r->o, "<text class=\"tick\" fill=\"%s\" x=\"%.1f\" y=\"%.1f\">stage %d</text>\n",
                    hp_color_cat(st->stage), hp_plot_px(p, st->lr_low) + 3, hp_plot_py(p, st->wd_high) + 12, st->stage);
    }
}

/* Ring each stage's best trial that sits at an edge of its range; the texts go in `notes`. */
static int space_callouts(hp_rep *r, hp_plot *p, char notes[][200], int max) {
    int n = 0;
    for (int64_t i = 0; i < r->s.nstages && n < max; i++) {
        const hp_stage_record *st = &r->s.stages[i];
        const hp_trial_record *b = hp_summary_stage_best(&r->s, st->stage);
        if (!b || !edge_text(st, b, notes[n], sizeof notes[0])) continue;
        n++;
        if (!hp_axis_ok(&p->x, b->lr) || !hp_axis_ok(&p->y, b->weight_decay)) continue;
        double x = hp_plot_px(p, b->lr), y = hp_plot_py(p, b->weight_decay);
        fprintf(r->o, "<circle class=\"callout\" data-trial=\"%lld\" cx=\"%.1f\" cy=\"%.1f\" r=\"10\"/>"
                      "<text class=\"callout\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">best of stage %d at an edge</text>\n",
                (long long)b->id, x, y, x < p->left + p->width / 2 ? x + 13 : x - 13, y - 8,
                x < p->left + p->width / 2 ? "start" : "end", st->stage);
    }
    return n;
}

void rep_space_chart(hp_rep *r, hp_plot *p, const char *id, const char *label) {
    FILE *o = r->o;
    char bar[48];
    snprintf(bar, sizeof bar, "%s-bar", id);
    hp_plot_begin(p, o, id, 760, 500, 110, label, "learning rate", "weight decay");
    hp_plot_clip(p);
    space_stages(r, p);
    int64_t drawn = 0;
    for (int64_t i = 0; i < r->s.ntrials; i++) {
        const hp_trial_record *t = &r->s.trials[i];
        if (!hp_axis_ok(&p->x, t->lr) || !hp_axis_ok(&p->y, t->weight_decay)) continue;
        mark(r, p, t);
        drawn++;
    }
    char notes[8][200];
    int nn = space_callouts(r, p, notes, 8);
    hp_plot_unclip(p);
    hp_colorbar(o, bar, p->left + p->width + 50, p->top, 14, p->height, r->acc_lo, r->acc_hi,
                "best validation accuracy");
    hp_plot_end(p);
    fprintf(o, "<p class=\"note\" data-drawn=\"%lld\">%lld of %lld trials drawn", (long long)drawn, (long long)drawn,
            (long long)r->s.ntrials);
    if (drawn < r->s.ntrials) fputs(" (the others have a learning rate or weight decay that is not finite and positive)", o);
    fputs(".</p>\n", o);
    for (int i = 0; i < nn; i++) {
        fputs("<p class=\"warn callout-note\">", o);
        hp_html_esc(o, notes[i]);
        fputs(": the optimum may lie beyond it (the next stage widens the range on that side; after the last, "
              "widen it in the spec).</p>\n", o);
    }
}

void rep_space(hp_rep *r) {
    fputs("<h2 id=\"space\">The searched space</h2>\n<p>Every trial at its learning rate and weight decay "
          "(log axes), coloured by its best validation accuracy; crosses diverged, squares failed, triangles "
          "were pruned, hollow circles are pending, dashed ones running. Dashed rectangles are the stages' "
          "ranges.</p>\n", r->o);
    hp_plot p;
    rep_space_axes(r, &p);
    rep_space_chart(r, &p, "chart-space", "trials by learning rate and weight decay");
}

void rep_space_axes(const hp_rep *r, hp_plot *p) {
    hp_axis_start(&p->x, 1);
    hp_axis_start(&p->y, 1);
    rep_space_add(r, &p->x, &p->y);
    hp_axis_finish(&p->x, 0.04);
    hp_axis_finish(&p->y, 0.04);
}

/* ---- accuracy against each parameter --------------------------------------------------------- */

/* A trial's value of parameter `which`: REP_LR, REP_WD, or parameter column k >= 0 (a number). */
enum { REP_LR = -2, REP_WD = -1 };
static double trial_param(const hp_trial_record *t, int which) {
    return which == REP_LR ? t->lr : which == REP_WD ? t->weight_decay : t->xcol[which].num;
}

/* Whether parameter column k was searched on a log scale (its /stage_params rows say). */
static int column_log(const hp_rep *r, int k) {
    for (int64_t i = 0; i < r->s.nsparams; i++)
        if (!strcmp(r->s.sparams[i].name, r->s.cols[k].name))
            return !strcmp(r->s.sparams[i].scale, "log") || !strcmp(r->s.sparams[i].scale, "int_log");
    return 0;
}

/* Best accuracy against one parameter's values: how many trials can be drawn. */
static int64_t value_axes(const hp_rep *r, int which, hp_plot *p) {
    hp_axis_start(&p->x, which < 0 ? 1 : column_log(r, which));
    hp_axis_start(&p->y, 0);
    int64_t n = 0;
    for (int64_t i = 0; i < r->s.ntrials; i++) {
        const hp_trial_record *t = &r->s.trials[i];
        if (!isfinite(t->best_val_acc) || !hp_axis_ok(&p->x, trial_param(t, which))) continue;
        hp_axis_add(&p->x, trial_param(t, which));
        hp_axis_add(&p->y, t->best_val_acc);
        n++;
    }
    hp_axis_finish(&p->x, 0.04);
    hp_axis_finish(&p->y, 0.06);
    return n;
}

void rep_param_axes(const hp_rep *r, int wd, hp_plot *p) { value_axes(r, wd ? REP_WD : REP_LR, p); }

static void param_chart(hp_rep *r, int which) {
    hp_plot p;
    int64_t valued = 0; /* trials with a value of it: none when it is not searched (an external trainer's lr) */
    for (int64_t i = 0; i < r->s.ntrials; i++) valued += isfinite(trial_param(&r->s.trials[i], which));
    if (value_axes(r, which, &p) == 0 && (which >= 0 || valued == 0)) return; /* nothing to draw */
    char id[32];
    snprintf(id, sizeof id, which == REP_LR ? "acc-lr" : which == REP_WD ? "acc-wd" : "acc-p%d", which);
    const char *name = which == REP_LR ? "learning rate" : which == REP_WD ? "weight decay" : r->s.cols[which].name;
    hp_plot_begin(&p, r->o, id, 520, 340, 16, name, name, "best validation accuracy");
    hp_plot_clip(&p);
    for (int64_t i = 0; i < r->s.ntrials; i++) {
        const hp_trial_record *t = &r->s.trials[i];
        double x = trial_param(t, which);
        if (!hp_axis_ok(&p.x, x) || !hp_axis_ok(&p.y, t->best_val_acc)) continue;
        fprintf(r->o, "<circle class=\"pa\" data-trial=\"%lld\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\" "
                      "fill-opacity=\".8\">", (long long)t->id, hp_plot_px(&p, x), hp_plot_py(&p, t->best_val_acc),
                hp_color_cat(t->stage));
        rep_title(r->o, t);
        fputs("</circle>\n", r->o);
    }
    hp_plot_unclip(&p);
    hp_plot_end(&p);
}

void rep_params(hp_rep *r) {
    FILE *o = r->o;
    fputs("<h2 id=\"params\">Best validation accuracy against each parameter</h2>\n<p>A peak inside the range is "
          "what a good search finds; accuracy still rising at an end of the axis means the range is too narrow. "
          "Colour = stage:", o);
    for (int64_t i = 0; i < r->s.nstages; i++)
        fprintf(o, " <span class=\"sw\" style=\"background:%s\"></span> %d", hp_color_cat(r->s.stages[i].stage),
                r->s.stages[i].stage);
    fputs(". The other searched parameters follow, one chart each (a choice of words is not charted: its "
          "values are in the trials table).</p>\n<div class=\"charts\">\n", o);
    param_chart(r, REP_LR);
    param_chart(r, REP_WD);
    for (int k = 0; k < r->s.ncols; k++)
        if (!r->s.cols[k].text) param_chart(r, k);
    fputs("</div>\n", o);
}

/* ---- learning curves of the top trials --------------------------------------------------------- */

int64_t rep_ntop(const hp_rep *r) { return r->s.nranked < r->top_n ? r->s.nranked : r->top_n; }

void rep_curve_add(hp_rep *r, rep_col col, hp_axis *x, hp_axis *y) {
    for (int64_t k = 0; k < rep_ntop(r); k++) {
        int64_t n = rep_series(r, r->s.ranked[k]->id, col, r->bx, r->by);
        for (int64_t i = 0; i < n; i++)
            if (isfinite(r->by[i])) hp_axis_add(x, r->bx[i]), hp_axis_add(y, r->by[i]);
    }
}

void rep_curve_chart(hp_rep *r, hp_plot *p, rep_col col, const char *id, const char *label) {
    hp_plot_begin(p, r->o, id, 520, 320, 16, label, "epoch", label);
    hp_plot_clip(p);
    for (int64_t k = 0; k < rep_ntop(r); k++) {
        const hp_trial_record *t = r->s.ranked[k];
        int64_t n = rep_series(r, t->id, col, r->bx, r->by);
        char attrs[96];
        snprintf(attrs, sizeof attrs, "class=\"raw\" data-trial=\"%lld\" stroke=\"%s\" stroke-opacity=\".35\"",
                 (long long)t->id, hp_color_cat(k));
        hp_plot_line(p, r->bx, r->by, n, attrs);
        rep_smooth(r->by, n, r->bm);
        snprintf(attrs, sizeof attrs, "class=\"avg\" data-trial=\"%lld\" stroke=\"%s\" stroke-width=\"2\"",
                 (long long)t->id, hp_color_cat(k));
        hp_plot_line(p, r->bx, r->bm, n, attrs);
    }
    hp_plot_unclip(p);
    hp_plot_end(p);
}

void rep_curve_axes(hp_rep *r, rep_col col, hp_plot *p) {
    hp_axis_start(&p->x, 0);
    hp_axis_start(&p->y, 0);
    rep_curve_add(r, col, &p->x, &p->y);
    hp_axis_finish(&p->x, 0.02);
    hp_axis_finish(&p->y, 0.05);
}

static void curve_chart(hp_rep *r, rep_col col, const char *id, const char *label) {
    hp_plot p;
    rep_curve_axes(r, col, &p);
    rep_curve_chart(r, &p, col, id, label);
}

static void top_legend(hp_rep *r) {
    FILE *o = r->o;
    fputs("<table class=\"legend\">\n<tr><th></th><th>trial</th><th>stage</th><th>lr</th><th>weight decay</th>"
          "<th>best val acc</th><th>epochs</th></tr>\n", o);
    for (int64_t k = 0; k < rep_ntop(r); k++) {
        const hp_trial_record *t = r->s.ranked[k];
        fprintf(o, "<tr><td><span class=\"sw\" style=\"background:%s\"></span></td><td>%lld</td><td>%d</td><td>",
                hp_color_cat(k), (long long)t->id, t->stage);
        rep_num(o, "%.3g", t->lr);
        fputs("</td><td>", o);
        rep_num(o, "%.3g", t->weight_decay);
        fputs("</td><td>", o);
        rep_num(o, "%.4f", t->best_val_acc);
        fprintf(o, "</td><td>%d</td></tr>\n", t->epochs_done);
    }
    fputs("</table>\n", o);
}

void rep_curves(hp_rep *r) {
    FILE *o = r->o;
    fprintf(o, "<h2 id=\"curves\">Learning curves of the top %lld trials</h2>\n<p>Thin lines are the epochs as "
               "measured, thick ones a moving average over %d epochs. Look for validation loss turning up while "
               "training loss falls (overfitting), a large gap between them, or curves still rising at the end "
               "(train longer).</p>\n", (long long)rep_ntop(r), HP_REPORT_SMOOTH);
    if (rep_ntop(r) == 0) {
        fputs("<p>No trial has a validation score yet.</p>\n", o);
        return;
    }
    top_legend(r);
    fputs("<div class=\"charts\">\n", o);
    curve_chart(r, COL_TRAIN_LOSS, "train-loss", "training loss");
    curve_chart(r, COL_VAL_LOSS, "val-loss", "validation loss");
    curve_chart(r, COL_TRAIN_ACC, "train-acc", "training accuracy");
    curve_chart(r, COL_VAL_ACC, "val-acc", "validation accuracy");
    fputs("</div>\n", o);
}

/* ---- update/weight ratio --------------------------------------------------------------------- */

/* Is trial row i among the top trials? Returns its place, or -1. */
static int64_t top_place(const hp_rep *r, int64_t i) {
    for (int64_t k = 0; k < rep_ntop(r); k++)
        if (r->s.ranked[k]->id == i) return k;
    return -1;
}

int64_t rep_ratio_axes(const hp_rep *r, hp_plot *p) {
    int64_t n = 0;
    hp_axis_start(&p->x, 0);
    hp_axis_start(&p->y, 1);
    for (int64_t i = 0; i < r->norder; i++) {
        const hp_curve_record *c = &r->curves[r->order[i]];
        if (!hp_axis_ok(&p->y, c->update_ratio)) continue;
        hp_axis_add(&p->x, c->epoch);
        hp_axis_add(&p->y, c->update_ratio);
        n++;
    }
    hp_axis_add(&p->y, HP_REPORT_RATIO_LO / 3); /* the band always shows */
    hp_axis_add(&p->y, HP_REPORT_RATIO_HI * 3);
    hp_axis_finish(&p->x, 0.02);
    hp_axis_finish(&p->y, 0.03);
    return n;
}

void rep_ratio(hp_rep *r) {
    FILE *o = r->o;
    fprintf(o, "<h2 id=\"ratio\">Update/weight ratio per epoch</h2>\n<p>The norm of the last update over the norm "
               "of the weights, per epoch (log scale). The recipe wants about 1e-3 (the shaded band, %.2g to %.2g): "
               "far below it the learning rate is too low, far above it too high. Grey: every trial; coloured: "
               "the top trials as above.</p>\n", HP_REPORT_RATIO_LO, HP_REPORT_RATIO_HI);
    hp_plot p;
    if (rep_ratio_axes(r, &p) == 0)
        fputs("<p class=\"note\">No epoch has a ratio to draw (synthetic trials record none; a trial records it "
              "from its first epoch).</p>\n", o);
    hp_plot_begin(&p, o, "chart-ratio", 760, 380, 16, "update/weight ratio per epoch", "epoch", "update / weight ratio");
    hp_plot_clip(&p);
    for (int pass = 0; pass < 2; pass++) { /* grey lines, the band over them, the top trials over it */
        if (pass == 1) hp_plot_hband(&p, HP_REPORT_RATIO_LO, HP_REPORT_RATIO_HI, "class=\"band\"");
        for (int64_t i = 0; i < r->s.ntrials; i++) {
            int64_t k = top_place(r, i);
            if ((pass == 0) != (k < 0)) continue;
            int64_t n = rep_series(r, i, COL_RATIO, r->bx, r->by);
            char attrs[96];
            if (k < 0) snprintf(attrs, sizeof attrs, "class=\"ur\" data-trial=\"%lld\"", (long long)i);
            else
                snprintf(attrs, sizeof attrs, "class=\"ur-top\" data-trial=\"%lld\" stroke=\"%s\" stroke-width=\"2\"",
                         (long long)i, hp_color_cat(k));
            hp_plot_line(&p, r->bx, r->by, n, attrs);
        }
    }
    hp_plot_unclip(&p);
    hp_plot_end(&p);
}
