/* summary.c - a results file summarised once for show and report; see summary.h. */
#include "summary.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "show.h" /* HP_SHOW_EDGE_FRACTION */

#define MAX_LISTED 3 /* diverged / failed trials listed by name before "and N more" */

static void warnf(hp_summary *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(hp_summary *s, const char *fmt, ...) {
    if (s->nwarn >= HP_SUMMARY_MAX_WARN) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->warn[s->nwarn++], sizeof s->warn[0], fmt, ap);
    va_end(ap);
}

/* The spec's top-level `name:` value, unquoted, or "" when it has none. */
static void spec_name(const char *spec, char *dst, size_t n) {
    dst[0] = '\0';
    for (const char *line = spec; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp(line, "name:", 5) != 0) continue;
        const char *v = line + 5;
        while (*v == ' ' || *v == '\t') v++;
        size_t len = strcspn(v, "\r\n#");
        while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t')) len--;
        if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
            v++;
            len -= 2;
        }
        if (len >= n) len = n - 1;
        memcpy(dst, v, len);
        dst[len] = '\0';
        return;
    }
}

/* Seconds since the epoch of "YYYY-MM-DDTHH:MM:SSZ" (days-from-civil, proleptic Gregorian),
 * or -1 if it does not parse. timegm() is not POSIX. */
static double parse_utc(const char *s) {
    int y, mo, d, hh, mm, ss;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &mo, &d, &hh, &mm, &ss) != 6) return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return -1;
    y -= mo <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153L * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    double days = (double)(era * 146097 + doe - 719468);
    return days * 86400.0 + hh * 3600.0 + mm * 60.0 + ss;
}

double hp_summary_range_fraction(double v, double lo, double hi) {
    if (lo > 0 && v > 0) return (log10(v) - log10(lo)) / (log10(hi) - log10(lo));
    return (v - lo) / (hi - lo);
}

const char *hp_summary_edge(double v, double lo, double hi) {
    if (!(hi > lo) || !isfinite(v)) return NULL; /* fixed parameter */
    double f = hp_summary_range_fraction(v, lo, hi);
    return f <= HP_SHOW_EDGE_FRACTION ? "low" : f >= 1 - HP_SHOW_EDGE_FRACTION ? "high" : NULL;
}

const hp_trial_record *hp_summary_stage_best(const hp_summary *s, int32_t stage) {
    for (int64_t i = 0; i < s->nranked; i++) /* ranked is best first */
        if (s->ranked[i]->stage == stage) return s->ranked[i];
    return NULL;
}

static void edge_warning(hp_summary *s, const hp_trial_record *best, const hp_stage_record *st,
                         const char *param, double v, double lo, double hi) {
    const char *side = hp_summary_edge(v, lo, hi);
    if (!side) return;
    warnf(s, "best trial %lld of stage %d (the last) has %s = %.3g at the %s edge of the stage's "
             "range [%.3g, %.3g]: the optimum may lie beyond it; widen the range on that side",
          (long long)best->id, st->stage, param, v, side, lo, hi);
}

static void make_warnings(hp_summary *s) {
    /* The best trial of the last stage that has a scored trial. */
    const hp_trial_record *best = NULL;
    for (int64_t i = 0; i < s->nranked; i++)
        if (!best || s->ranked[i]->stage > best->stage) best = s->ranked[i];
    /* ranked is best first, so the first trial of the highest stage is that stage's best */
    for (int64_t i = 0; best && i < s->nranked; i++)
        if (s->ranked[i]->stage == best->stage) { best = s->ranked[i]; break; }
    const hp_stage_record *st = NULL;
    for (int64_t i = 0; best && i < s->nstages; i++)
        if (s->stages[i].stage == best->stage) st = &s->stages[i];
    if (best && st && st->stage == s->stages[s->nstages - 1].stage) {
        edge_warning(s, best, st, "lr", best->lr, st->lr_low, st->lr_high);
        edge_warning(s, best, st, "weight_decay", best->weight_decay, st->wd_low, st->wd_high);
    }

    const hp_trial_status bad[2] = {HP_TRIAL_DIVERGED, HP_TRIAL_FAILED};
    for (int b = 0; b < 2; b++) {
        int64_t listed = 0;
        for (int64_t i = 0; i < s->ntrials; i++) {
            const hp_trial_record *t = &s->trials[i];
            if (t->status != (int32_t)bad[b]) continue;
            if (listed++ < MAX_LISTED)
                warnf(s, "trial %lld (stage %d, lr %.3g, weight_decay %.3g) %s at epoch %d: %s",
                      (long long)t->id, t->stage, t->lr, t->weight_decay,
                      hp_trial_status_name(bad[b]), t->epochs_done,
                      t->message[0] ? t->message : "(no message)");
        }
        if (listed > MAX_LISTED)
            warnf(s, "... and %lld more %s trials", (long long)(listed - MAX_LISTED),
                  hp_trial_status_name(bad[b]));
    }
    int64_t open = s->counts[HP_TRIAL_PENDING] + s->counts[HP_TRIAL_RUNNING];
    if (open > 0)
        warnf(s, "%lld trials not finished (%lld running, %lld pending): the sweep is still "
                 "running or was interrupted (`hpsweep resume %s` continues it)",
              (long long)open, (long long)s->counts[HP_TRIAL_RUNNING],
              (long long)s->counts[HP_TRIAL_PENDING], s->path);
    if (s->ntrials > 0 && s->nranked == 0 && open == 0)
        warnf(s, "no trial finished with a validation score: check the spec's ranges and data");
    if (s->ntrials > 0 && open == 0 && s->nfinal == 0 && s->nranked > 0) {
        /* The spec says whether the sweep trained models; only when it cannot be read is a best
         * trial without a snapshot taken for a synthetic sweep (a real one can lose its best
         * trial's snapshot row to keep_snapshots when show's ranking and the sweep's differ). */
        int synthetic = s->synthetic >= 0 ? s->synthetic : s->ranked[0]->snapshot_row < 0;
        if (synthetic)
            warnf(s, "no test-set result in /final: a synthetic sweep (train.synthetic_ms > 0) trains no model, "
                     "so nothing was evaluated on the test split");
        else
            warnf(s, "no test-set result in /final: the sweep stopped before its final evaluation "
                     "(`hpsweep resume %s` runs it)", s->path);
    }
}

int hp_summary_read(hp_results_reader *rd, const char *path, hp_spec_synthetic_fn synthetic, hp_summary *s,
                    hp_err *err) {
    memset(s, 0, sizeof *s);
    s->path = path;
    s->h = hp_results_reader_header(rd);
    s->synthetic = synthetic ? synthetic(s->h->meta.spec_yaml, s->h->meta.spec_len) : -1;
    /* The resolved name the writer stored (files since resume exist), else the spec's name: line. */
    if (s->h->meta.spec_name[0]) snprintf(s->name, sizeof s->name, "%s", s->h->meta.spec_name);
    else spec_name(s->h->meta.spec_yaml, s->name, sizeof s->name);
    if (hp_results_read_trials(rd, &s->trials, &s->ntrials, err) < 0 ||
        hp_results_read_stages(rd, &s->stages, &s->nstages, err) < 0 ||
        hp_results_read_final(rd, &s->final, &s->nfinal, err) < 0 ||
        hp_results_read_stage_params(rd, &s->sparams, &s->nsparams, err) < 0)
        return -1;
    s->ncols = hp_results_reader_param_columns(rd, &s->cols);
    s->ranked = hp_calloc((size_t)s->ntrials, sizeof *s->ranked, "the trial ranking", err);
    if (!s->ranked) return -1;
    for (int64_t i = 0; i < s->ntrials; i++) {
        const hp_trial_record *t = &s->trials[i];
        s->counts[t->status]++; /* the reader checked the range */
        s->trial_seconds += isfinite(t->seconds) ? t->seconds : 0;
        if ((t->status == HP_TRIAL_DONE || t->status == HP_TRIAL_RUNNING) &&
            isfinite(t->best_val_acc))
            s->ranked[s->nranked++] = t;
    }
    qsort(s->ranked, (size_t)s->nranked, sizeof *s->ranked, hp_trial_ptr_best_first);
    double created = parse_utc(s->h->created_utc);
    time_t now = time(NULL);
    s->wall_seconds = created >= 0 && now != (time_t)-1 ? (double)now - created : -1;
    make_warnings(s);
    return 0;
}

void hp_summary_free(hp_summary *s) {
    free(s->trials);
    free(s->stages);
    free(s->final);
    free(s->sparams);
    free(s->ranked);
}

