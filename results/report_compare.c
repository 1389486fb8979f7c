/* report_compare.c - `hpsweep report A.h5 B.h5`: two sweeps side by side on one self-contained
 * page: their summaries in one table, the searched spaces on the same axes and colour scale,
 * the best validation accuracy of each stage (table and chart), and the learning curves of
 * each file's top trials on shared scales. See report.h and docs/report.md. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "outfile.h"
#include "report_impl.h"
#include "svg.h"

static const char *const file_tag[2] = {"a", "b"};

static const char *rep_name(const hp_rep *r) { return r->s.name[0] ? r->s.name : r->s.path; }

/* One row of the summary table: a header cell and each file's value, escaped. */
static void row_str(FILE *o, const char *what, const char *va, const char *vb) {
    fprintf(o, "<tr><th class=\"l\">%s</th><td class=\"l\">", what);
    hp_html_esc(o, va);
    fputs("</td><td class=\"l\">", o);
    hp_html_esc(o, vb);
    fputs("</td></tr>\n", o);
}

/* The best scored trial as "0.8600 (trial 4)", or "none". */
static void best_text(const hp_rep *r, char *buf, size_t n) {
    if (r->s.nranked == 0) snprintf(buf, n, "none");
    else snprintf(buf, n, "%.4f (trial %lld)", r->s.ranked[0]->best_val_acc, (long long)r->s.ranked[0]->id);
}

/* The test result of /final as "0.8525 (trial 4)", or "none yet". */
static void final_text(const hp_rep *r, char *buf, size_t n) {
    if (r->s.nfinal == 0 || !isfinite(r->s.final[0].test_acc)) snprintf(buf, n, "none yet");
    else snprintf(buf, n, "%.4f (trial %lld)", r->s.final[0].test_acc, (long long)r->s.final[0].trial);
}

static void summary_table(FILE *o, hp_rep *r[2]) {
    fputs("<h2 id=\"summary\">Summary</h2>\n<table class=\"compare\">\n<tr><th></th><th class=\"l\">A</th>"
          "<th class=\"l\">B</th></tr>\n", o);
    row_str(o, "name", rep_name(r[0]), rep_name(r[1]));
    row_str(o, "file", r[0]->s.path, r[1]->s.path);
    row_str(o, "created", r[0]->s.h->created_utc, r[1]->s.h->created_utc);
    row_str(o, "spec sha256", r[0]->s.h->meta.spec_sha256, r[1]->s.h->meta.spec_sha256);
    for (int st = HP_TRIAL_PENDING; st <= HP_TRIAL_PRUNED + 1; st++) {
        const char *name = st <= HP_TRIAL_PRUNED ? hp_trial_status_name((hp_trial_status)st) : "total";
        fprintf(o, "<tr><th class=\"l\">%s</th>", name);
        for (int f = 0; f < 2; f++)
            fprintf(o, "<td class=\"l\" data-file=\"%s\" data-status=\"%s\">%lld</td>", file_tag[f], name,
                    (long long)(st <= HP_TRIAL_PRUNED ? r[f]->s.counts[st] : r[f]->s.ntrials));
        fputs("</tr>\n", o);
    }
    char va[64], vb[64];
    best_text(r[0], va, sizeof va), best_text(r[1], vb, sizeof vb);
    row_str(o, "best val acc", va, vb);
    final_text(r[0], va, sizeof va), final_text(r[1], vb, sizeof vb);
    row_str(o, "test acc", va, vb);
    snprintf(va, sizeof va, "%.1f s", isfinite(r[0]->s.trial_seconds) ? r[0]->s.trial_seconds : 0);
    snprintf(vb, sizeof vb, "%.1f s", isfinite(r[1]->s.trial_seconds) ? r[1]->s.trial_seconds : 0);
    row_str(o, "training time (sum)", va, vb);
    fputs("</table>\n", o);
}

static void warnings(FILE *o, hp_rep *r[2]) {
    fputs("<h2 id=\"warnings\">Warnings</h2>\n", o);
    for (int f = 0; f < 2; f++) {
        fprintf(o, "<p>%s (%d):</p>\n", f ? "B" : "A", r[f]->s.nwarn);
        if (r[f]->s.nwarn) fputs("<ul>\n", o);
        for (int i = 0; i < r[f]->s.nwarn; i++) {
            fprintf(o, "<li class=\"warn\" data-file=\"%s\">", file_tag[f]);
            hp_html_esc(o, r[f]->s.warn[i]);
            fputs("</li>\n", o);
        }
        if (r[f]->s.nwarn) fputs("</ul>\n", o);
    }
}

/* Both searched spaces on one pair of axes and one colour scale. */
static void spaces(FILE *o, hp_rep *r[2]) {
    fputs("<h2 id=\"space\">The searched spaces</h2>\n<p>Both files on the same axes and the same colour scale "
          "of best validation accuracy (marks as in a single report: crosses diverged, squares failed, "
          "triangles pruned, hollow circles pending; dashed rectangles are the stages' ranges).</p>\n"
          "<div class=\"charts\">\n", o);
    hp_axis x, y;
    hp_axis_start(&x, 1);
    hp_axis_start(&y, 1);
    rep_space_add(r[0], &x, &y);
    rep_space_add(r[1], &x, &y);
    hp_axis_finish(&x, 0.04);
    hp_axis_finish(&y, 0.04);
    double lo = fmin(r[0]->acc_lo, r[1]->acc_lo), hi = fmax(r[0]->acc_hi, r[1]->acc_hi); /* fmin skips NaN */
    for (int f = 0; f < 2; f++) {
        hp_plot p = {.x = x, .y = y};
        char id[16], label[160];
        snprintf(id, sizeof id, "%s-space", file_tag[f]);
        snprintf(label, sizeof label, "%s: %s", f ? "B" : "A", rep_name(r[f]));
        r[f]->acc_lo = lo, r[f]->acc_hi = hi;
        fprintf(o, "<div><p><b>%s</b>: ", f ? "B" : "A");
        hp_html_esc(o, rep_name(r[f]));
        fputs("</p>\n", o);
        rep_space_chart(r[f], &p, id, label);
        fputs("</div>\n", o);
    }
    fputs("</div>\n", o);
}

/* The highest stage number of either file (-1: none). */
static int32_t last_stage(hp_rep *r[2]) {
    int32_t m = -1;
    for (int f = 0; f < 2; f++)
        for (int64_t i = 0; i < r[f]->s.nstages; i++)
            if (r[f]->s.stages[i].stage > m) m = r[f]->s.stages[i].stage;
    return m;
}

static void stage_cell(FILE *o, const hp_rep *r, int f, int32_t stage) {
    const hp_trial_record *b = hp_summary_stage_best(&r->s, stage);
    if (!b) {
        fprintf(o, "<td data-file=\"%s\" data-stage=\"%d\">-</td><td></td><td></td><td></td>", file_tag[f], stage);
        return;
    }
    fprintf(o, "<td data-file=\"%s\" data-stage=\"%d\">%.4f</td><td>%lld</td><td>", file_tag[f], stage,
            b->best_val_acc, (long long)b->id);
    rep_num(o, "%.3g", b->lr);
    fputs("</td><td>", o);
    rep_num(o, "%.3g", b->weight_decay);
    fputs("</td>", o);
}

/* Each file's best validation accuracy per stage, as a line over the stages. */
static void stage_chart(FILE *o, hp_rep *r[2], int32_t last) {
    hp_plot p;
    hp_axis_start(&p.x, 0);
    hp_axis_start(&p.y, 0);
    double sx[2][64], sy[2][64];
    int n = last + 1 < 64 ? last + 1 : 64;
    for (int f = 0; f < 2; f++)
        for (int s = 0; s < n; s++) {
            const hp_trial_record *b = hp_summary_stage_best(&r[f]->s, s);
            sx[f][s] = s;
            sy[f][s] = b ? b->best_val_acc : NAN;
            hp_axis_add(&p.x, s);
            hp_axis_add(&p.y, sy[f][s]);
        }
    hp_axis_finish(&p.x, 0.05);
    hp_axis_finish(&p.y, 0.1);
    hp_plot_begin(&p, o, "stage-best", 520, 300, 16, "best validation accuracy per stage", "stage",
                  "best validation accuracy");
    hp_plot_clip(&p);
    for (int f = 0; f < 2; f++) {
        char attrs[80];
        snprintf(attrs, sizeof attrs, "class=\"stage-line\" data-file=\"%s\" stroke=\"%s\" stroke-width=\"2\"",
                 file_tag[f], hp_color_cat(f));
        hp_plot_line(&p, sx[f], sy[f], n, attrs);
        for (int s = 0; s < n; s++)
            if (hp_axis_ok(&p.y, sy[f][s]))
                fprintf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"><title>%s, stage %d: %.4f</title>"
                           "</circle>\n", hp_plot_px(&p, s), hp_plot_py(&p, sy[f][s]), hp_color_cat(f),
                        f ? "B" : "A", s, sy[f][s]);
    }
    hp_plot_unclip(&p);
    hp_plot_end(&p);
}

static void stages(FILE *o, hp_rep *r[2]) {
    int32_t last = last_stage(r);
    fprintf(o, "<h2 id=\"stages\">Best validation accuracy per stage</h2>\n<p><span class=\"sw\" "
               "style=\"background:%s\"></span> A, <span class=\"sw\" style=\"background:%s\"></span> B.</p>\n"
               "<table class=\"stage-best\">\n<tr><th>stage</th><th>A best</th><th>trial</th><th>lr</th>"
               "<th>weight decay</th><th>B best</th><th>trial</th><th>lr</th><th>weight decay</th></tr>\n",
            hp_color_cat(0), hp_color_cat(1));
    for (int32_t s = 0; s <= last; s++) {
        fprintf(o, "<tr><td>%d</td>", s);
        stage_cell(o, r[0], 0, s);
        stage_cell(o, r[1], 1, s);
        fputs("</tr>\n", o);
    }
    fputs("</table>\n", o);
    if (last >= 0) stage_chart(o, r, last);
}

/* One column of the top trials' curves, A and B side by side on shared axes. */
static void curve_pair(FILE *o, hp_rep *r[2], rep_col col, const char *id, const char *label) {
    hp_axis x, y;
    hp_axis_start(&x, 0);
    hp_axis_start(&y, 0);
    rep_curve_add(r[0], col, &x, &y);
    rep_curve_add(r[1], col, &x, &y);
    hp_axis_finish(&x, 0.02);
    hp_axis_finish(&y, 0.05);
    fputs("<div class=\"charts\">\n", o);
    for (int f = 0; f < 2; f++) {
        hp_plot p = {.x = x, .y = y};
        char cid[40];
        snprintf(cid, sizeof cid, "%s-%s", file_tag[f], id);
        fprintf(o, "<div><p><b>%s</b>: %s</p>\n", f ? "B" : "A", label);
        rep_curve_chart(r[f], &p, col, cid, label);
        fputs("</div>\n", o);
    }
    fputs("</div>\n", o);
}

static void curves(FILE *o, hp_rep *r[2]) {
    fprintf(o, "<h2 id=\"curves\">Learning curves of the top trials</h2>\n<p>A's top %lld trials on the left, "
               "B's top %lld on the right, on the same scales; thin lines as measured, thick ones a moving "
               "average over %d epochs; colours by rank (first, second, ...).</p>\n",
            (long long)rep_ntop(r[0]), (long long)rep_ntop(r[1]), HP_REPORT_SMOOTH);
    curve_pair(o, r, COL_VAL_ACC, "val-acc", "validation accuracy");
    curve_pair(o, r, COL_VAL_LOSS, "val-loss", "validation loss");
    curve_pair(o, r, COL_TRAIN_LOSS, "train-loss", "training loss");
}

static void write_compare(FILE *o, hp_rep *r[2]) {
    char title[240];
    snprintf(title, sizeof title, "hpsweep comparison: %.100s vs %.100s", rep_name(r[0]), rep_name(r[1]));
    rep_page_start(o, title, r[0]->refresh_s);
    for (int f = 0; f < 2; f++) r[f]->o = o;
    summary_table(o, r);
    warnings(o, r);
    spaces(o, r);
    stages(o, r);
    curves(o, r);
    fputs("<p class=\"note\">Written by hpsweep report A B; hover a point for its trial. docs/report.md explains "
          "each chart.</p>\n</body>\n</html>\n", o);
}

int hp_report_compare(const char *a, const char *b, const char *out, const hp_report_opts *opts, hp_err *err) {
    hp_results_reader *rd[2] = {NULL, NULL};
    hp_rep ra, rb, *r[2] = {&ra, &rb};
    int rc = rep_open(a, opts, &rd[0], &ra, err);
    if (rc == 0) rc = rep_open(b, opts, &rd[1], &rb, err);
    else memset(&rb, 0, sizeof rb);
    hp_outfile of;
    if (rc == 0 && (rc = hp_outfile_open(&of, out, err)) == 0) {
        write_compare(of.f, r);
        rc = hp_outfile_commit(&of, err);
    }
    for (int f = 0; f < 2; f++) {
        rep_free(r[f]);
        if (rd[f]) hp_results_close_read(rd[f]); /* after the page: the header's strings are the reader's */
    }
    return rc;
}
