/* report.c - `hpsweep report`: write the page and its tables; the charts are in
 * report_charts.c and report_wall.c, the file's data as they all read it in report_data.c. See
 * report.h. */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "outfile.h"
#include "report_impl.h"
#include "svg.h"

/* ---- the page -------------------------------------------------------------------------------- */

static const char css[] =
    "body{font-family:sans-serif;margin:1.5em auto;max-width:1500px;padding:0 1em;color:#222;background:#fff}\n"
    "h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.8em}\n"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;"
    "text-align:right}th{background:#f2f2f2}td.l,th.l{text-align:left}\n"
    ".warn{color:#8a4b00}.note{color:#555;font-size:.9em}.charts{display:flex;flex-wrap:wrap;gap:1em}\n"
    "svg.plot{max-width:100%;height:auto;font-size:11px;background:#fff}\n"
    "svg .frame{fill:none;stroke:#444}svg .grid{stroke:#e4e4e4}svg .axisline{stroke:#444}\n"
    "svg .tick{fill:#333}svg .axis{fill:#222;font-size:12px}\n"
    "svg .stage-range{fill:none;stroke-width:1.5;stroke-dasharray:6 3}\n"
    "svg .pt{stroke:#222;stroke-width:.6}svg .pt.diverged{stroke:#d62728;stroke-width:2;fill:none}\n"
    "svg .pt.failed{fill:none;stroke:#000;stroke-width:1.2}svg .pt.pending{fill:none;stroke:#999}\n"
    "svg .pt.running{stroke-dasharray:2 1}svg .callout{fill:none;stroke:#d62728;stroke-width:2}\n"
    "svg text.callout{fill:#d62728;stroke:none;font-weight:bold}\n"
    "svg .band{fill:#2ca02c;fill-opacity:.25}svg .ur{stroke:#999;stroke-opacity:.3;stroke-width:.7}\n"
    "svg .cell rect{fill:#fafafa;stroke:#bbb}svg .cell.diverged rect{stroke:#d62728}"
    "svg .cell.failed rect{stroke:#000}svg .cell.pruned rect{stroke:#ff7f0e}"
    "svg .cell.running rect{stroke:#1f77b4;stroke-dasharray:3 2}\n"
    ".sw{display:inline-block;width:1.2em;height:.8em;vertical-align:middle}\n"
    "pre{background:#f6f6f6;padding:.6em;overflow:auto}\n";

void rep_page_start(FILE *o, const char *title, int refresh_s) {
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n", o);
    if (refresh_s > 0) fprintf(o, "<meta http-equiv=\"refresh\" content=\"%d\"/>\n", refresh_s);
    fputs("<title>", o);
    hp_html_esc(o, title);
    fprintf(o, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", css);
    hp_html_esc(o, title);
    fputs("</h1>\n", o);
}

static void page_head(hp_rep *r) {
    FILE *o = r->o;
    const hp_results_header *h = r->s.h;
    char title[160];
    snprintf(title, sizeof title, "hpsweep report: %s", r->s.name[0] ? r->s.name : r->s.path);
    rep_page_start(o, title, r->refresh_s);
    fputs("<table>\n<tr><th class=\"l\">file</th><td class=\"l\">", o);
    hp_html_esc(o, r->s.path);
    fputs("</td></tr>\n<tr><th class=\"l\">created</th><td class=\"l\">", o);
    hp_html_esc(o, h->created_utc);
    fputs(" by hpsweep ", o);
    hp_html_esc(o, h->hpsweep_version);
    fprintf(o, " (format version %d)</td></tr>\n<tr><th class=\"l\">seed</th><td class=\"l\">%llu</td></tr>\n",
            h->format_version, (unsigned long long)h->meta.seed);
    fputs("<tr><th class=\"l\">spec sha256</th><td class=\"l\">", o);
    hp_html_esc(o, h->meta.spec_sha256);
    fprintf(o, "</td></tr>\n<tr><th class=\"l\">training time</th><td class=\"l\">%.1f s (sum over trials)"
               "</td></tr>\n</table>\n", isfinite(r->s.trial_seconds) ? r->s.trial_seconds : 0);
}

static void section_status(hp_rep *r) {
    FILE *o = r->o;
    fputs("<h2 id=\"status\">Trials by status</h2>\n<table class=\"counts\">\n<tr>", o);
    for (int st = HP_TRIAL_PENDING; st <= HP_TRIAL_PRUNED; st++)
        fprintf(o, "<th>%s</th>", hp_trial_status_name((hp_trial_status)st));
    fputs("<th>total</th></tr>\n<tr>", o);
    for (int st = HP_TRIAL_PENDING; st <= HP_TRIAL_PRUNED; st++)
        fprintf(o, "<td data-status=\"%s\">%lld</td>", hp_trial_status_name((hp_trial_status)st),
                (long long)r->s.counts[st]);
    fprintf(o, "<td data-status=\"total\">%lld</td></tr>\n</table>\n", (long long)r->s.ntrials);
    fprintf(o, "<h2 id=\"warnings\">Warnings (%d)</h2>\n", r->s.nwarn);
    if (r->s.nwarn == 0) fputs("<p>none</p>\n", o);
    else fputs("<ul>\n", o);
    for (int i = 0; i < r->s.nwarn; i++) {
        fputs("<li class=\"warn\">", o);
        hp_html_esc(o, r->s.warn[i]);
        fputs("</li>\n", o);
    }
    if (r->s.nwarn) fputs("</ul>\n", o);
    if (r->stray_curves)
        fprintf(o, "<p class=\"warn\">%lld rows of /curves name no trial of the file and are left out.</p>\n",
                (long long)r->stray_curves);
}

static void section_final(hp_rep *r) {
    FILE *o = r->o;
    fputs("<h2 id=\"final\">Final test result</h2>\n", o);
    if (r->s.nfinal == 0) {
        fputs("<p>No test-set result yet.</p>\n", o);
        return;
    }
    fputs("<p>The chosen snapshot, evaluated once on the test split.</p>\n<table class=\"final\">\n"
          "<tr><th class=\"l\">kind</th><th>trial</th><th>val acc</th><th>test acc</th><th>test loss</th></tr>\n", o);
    for (int64_t i = 0; i < r->s.nfinal; i++) {
        const hp_final_record *f = &r->s.final[i];
        fputs("<tr><td class=\"l\">", o);
        hp_html_esc(o, f->kind);
        fprintf(o, "</td><td>%lld</td><td>", (long long)f->trial);
        rep_num(o, "%.4f", f->val_acc);
        fputs("</td><td>", o);
        rep_num(o, "%.4f", f->test_acc);
        fputs("</td><td>", o);
        rep_num(o, "%.4f", f->test_loss);
        fputs("</td></tr>\n", o);
    }
    fputs("</table>\n", o);
}

/* A parameter's range and derivation: two cells. */
static void range_cells(FILE *o, double lo, double hi, const char *derivation) {
    fputs("<td>", o);
    rep_num(o, "%.3g", lo);
    fputs(" .. ", o);
    rep_num(o, "%.3g", hi);
    fputs("</td><td class=\"l\">", o);
    hp_html_esc(o, derivation);
    fputs("</td>", o);
}

static void stage_row(FILE *o, const hp_stage_record *st) {
    fprintf(o, "<tr><td>%d</td><td class=\"l\">", st->stage);
    hp_html_esc(o, st->method);
    fprintf(o, "</td><td>%d</td><td>%d</td>", st->trials, st->epochs);
    range_cells(o, st->lr_low, st->lr_high, st->lr_derivation);
    range_cells(o, st->wd_low, st->wd_high, st->wd_derivation);
    fputs("</tr>\n", o);
}

static void section_stages(hp_rep *r) {
    FILE *o = r->o;
    fprintf(o, "<h2 id=\"stages\">Stages (%lld)</h2>\n<table class=\"stages\">\n<tr><th>stage</th>"
               "<th class=\"l\">method</th><th>trials</th><th>epochs</th><th>lr range</th><th class=\"l\">"
               "derivation</th><th>weight decay range</th><th class=\"l\">derivation</th></tr>\n",
            (long long)r->s.nstages);
    for (int64_t i = 0; i < r->s.nstages; i++) stage_row(o, &r->s.stages[i]);
    fputs("</table>\n", o);
}

static void section_top(hp_rep *r) {
    FILE *o = r->o;
    int64_t n = r->s.nranked < 10 ? r->s.nranked : 10;
    fprintf(o, "<h2 id=\"top\">Top %lld of %lld scored trials</h2>\n<table class=\"top\">\n<tr><th>#</th>"
               "<th>trial</th><th>stage</th><th>lr</th><th>weight decay</th>",
            (long long)n, (long long)r->s.nranked);
    for (int k = 0; k < r->s.ncols; k++) { /* the other searched parameters, by their short titles */
        fputs("<th>", o);
        hp_html_esc(o, hp_param_column_title(r->s.cols, r->s.ncols, k));
        fputs("</th>", o);
    }
    fputs("<th>best val acc</th><th>best epoch</th><th>seconds</th><th class=\"l\">status</th>"
          "<th class=\"l\">device</th></tr>\n", o);
    for (int64_t i = 0; i < n; i++) {
        const hp_trial_record *t = r->s.ranked[i];
        fprintf(o, "<tr><td>%lld</td><td>%lld</td><td>%d</td><td>", (long long)(i + 1), (long long)t->id, t->stage);
        rep_num(o, "%.3e", t->lr);
        fputs("</td><td>", o);
        rep_num(o, "%.3e", t->weight_decay);
        fputs("</td><td>", o);
        for (int k = 0; k < r->s.ncols; k++) {
            if (r->s.cols[k].text) hp_html_esc(o, t->xcol[k].text);
            else rep_num(o, "%.4g", t->xcol[k].num);
            fputs("</td><td>", o);
        }
        rep_num(o, "%.4f", t->best_val_acc);
        fprintf(o, "</td><td>%d</td><td>", t->best_epoch);
        rep_num(o, "%.1f", t->seconds);
        fprintf(o, "</td><td class=\"l\">%s</td><td class=\"l\">", hp_trial_status_name((hp_trial_status)t->status));
        hp_html_esc(o, t->device[0] ? t->device : "-");
        fputs("</td></tr>\n", o);
    }
    fputs("</table>\n", o);
}

static void page_tail(hp_rep *r) {
    fputs("<h2 id=\"spec\">Spec</h2>\n<details><summary>the spec the sweep ran (stored in the file)</summary>\n<pre>",
          r->o);
    hp_html_esc(r->o, r->s.h->meta.spec_yaml);
    fputs("</pre></details>\n<p class=\"note\">Written by hpsweep report; hover a point or a cell for its trial. "
          "docs/report.md explains each chart.</p>\n</body>\n</html>\n", r->o);
}

static void write_page(hp_rep *r) {
    page_head(r);
    section_status(r);
    section_final(r);
    section_stages(r);
    rep_space(r);
    rep_params(r);
    section_top(r);
    rep_curves(r);
    rep_ratio(r);
    rep_wall(r);
    page_tail(r);
}

int hp_report(const char *path, const char *out, const hp_report_opts *opts, hp_err *err) {
    hp_results_reader *rd = NULL;
    hp_rep r;
    int rc = rep_open(path, opts, &rd, &r, err);
    hp_outfile of;
    if (rc == 0 && (rc = hp_outfile_open(&of, out, err)) == 0) {
        r.o = of.f;
        write_page(&r);
        rc = hp_outfile_commit(&of, err);
    }
    rep_free(&r);
    if (rd) hp_results_close_read(rd); /* after the page: the header's strings belong to the reader */
    return rc;
}

/* Close a memory stream and check it; on failure the buffer is freed. */
static int mem_close(FILE *f, char **page, hp_err *err) {
    int bad = fflush(f) != 0 || ferror(f);
    if (fclose(f) != 0 || bad) {
        free(*page);
        *page = NULL;
        return hp_errf(err, "writing the page in memory failed (out of memory?)");
    }
    return 0;
}

int hp_report_mem(const char *path, const hp_report_opts *opts, char **page, size_t *len, hp_err *err) {
    *page = NULL;
    *len = 0;
    hp_results_reader *rd = NULL;
    hp_rep r;
    int rc = rep_open(path, opts, &rd, &r, err);
    if (rc == 0) {
        FILE *f = open_memstream(page, len);
        if (!f) rc = hp_errf(err, "cannot open a memory stream for the page: %s", strerror(errno));
        else {
            r.o = f;
            write_page(&r);
            rc = mem_close(f, page, err);
        }
    }
    rep_free(&r);
    if (rd) hp_results_close_read(rd);
    return rc;
}
