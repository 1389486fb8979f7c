/* search_record.c - see search.h: the search's parameters as /trials columns and /stage_params
 * rows, and trial values read back from /trials (narrowing after a resume, replanning checks). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "search.h"

_Static_assert(HP_MAX_XCOLS == HP_MAX_PARAMS - HP_NFIXED_PARAMS, "one /trials column per other parameter");
_Static_assert(HP_XTEXT >= HP_CHOICE_TEXT, "a choice's text fits its /trials column");

int hp_search_param_columns(const hp_spec *spec, hp_param_column cols[HP_MAX_XCOLS]) {
    const hp_search_spec *s = &spec->search;
    int n = 0;
    for (int p = HP_NFIXED_PARAMS; p < s->nparams && n < HP_MAX_XCOLS; p++, n++) {
        memset(&cols[n], 0, sizeof cols[n]);
        snprintf(cols[n].name, sizeof cols[n].name, "%s", s->params[p].name);
        cols[n].text = hp_param_is_text(&s->params[p]);
    }
    return n;
}

int hp_search_check_columns(const hp_spec *spec, const hp_param_column *cols, int n, const char *path, hp_err *err) {
    hp_param_column want[HP_MAX_XCOLS];
    int m = hp_search_param_columns(spec, want);
    for (int i = 0; i < (m > n ? m : n); i++) {
        if (i < m && i < n && !strcmp(want[i].name, cols[i].name) && want[i].text == cols[i].text) continue;
        return hp_errf(err, "results file %s: /trials has %s%s%s where the spec's search.params has %s%s%s; the file "
                       "belongs to another spec (continue it with the spec that started it)", path,
                       i < n ? "the column '" : "no column", i < n ? cols[i].name : "", i < n ? "'" : "",
                       i < m ? "'" : "no parameter", i < m ? want[i].name : "", i < m ? "'" : "");
    }
    return 0;
}

void hp_search_values_to_record(const hp_spec *spec, const double *values, hp_trial_record *r) {
    const hp_search_spec *s = &spec->search;
    r->lr = hp_param_number(&s->params[HP_PARAM_LR], values[HP_PARAM_LR]);
    r->weight_decay = hp_param_number(&s->params[HP_PARAM_WD], values[HP_PARAM_WD]);
    memset(r->xcol, 0, sizeof r->xcol);
    for (int p = HP_NFIXED_PARAMS, k = 0; p < s->nparams && k < HP_MAX_XCOLS; p++, k++) {
        const hp_param_range *pr = &s->params[p];
        if (hp_param_is_text(pr)) hp_param_text(pr, values[p], r->xcol[k].text, sizeof r->xcol[k].text);
        else r->xcol[k].num = hp_param_number(pr, values[p]);
    }
}

/* The index of a choice whose text or number the column holds; -1 if none. */
static int choice_index(const hp_param_range *r, double num, const char *text) {
    for (int i = 0; i < r->nchoices; i++)
        if (text ? !strcmp(r->choices[i], text) : r->choice_num[i] == num) return i;
    return -1;
}

int hp_search_values_from_record(const hp_spec *spec, const hp_trial_record *r, double values[HP_MAX_PARAMS],
                                 hp_err *err) {
    const hp_search_spec *s = &spec->search;
    for (int p = 0; p < s->nparams; p++) {
        const hp_param_range *pr = &s->params[p];
        int k = p - HP_NFIXED_PARAMS;
        double num = p == HP_PARAM_LR ? r->lr : p == HP_PARAM_WD ? r->weight_decay : r->xcol[k].num;
        if (pr->scale != HP_SCALE_CHOICE) {
            values[p] = num;
            continue;
        }
        int text = hp_param_is_text(pr);
        int i = choice_index(pr, num, text ? r->xcol[k].text : NULL);
        if (i < 0) {
            char a[48];
            if (text) snprintf(a, sizeof a, "'%.40s'", r->xcol[k].text);
            else snprintf(a, sizeof a, "%.17g", num);
            return hp_errf(err, "trial %lld: column %s holds %s, which is not one of the spec's choices for it",
                           (long long)r->id, pr->name, a);
        }
        values[p] = i;
    }
    return 0;
}

int hp_search_record_differs(const hp_spec *spec, const hp_trial_record *r, const double *values, hp_err *err) {
    double v[HP_MAX_PARAMS];
    if (hp_search_values_from_record(spec, r, v, err) != 0) return -2;
    for (int p = 0; p < spec->search.nparams; p++)
        if (!(v[p] == values[p] || (isnan(v[p]) && isnan(values[p])))) return p;
    return -1;
}

int hp_search_stage_param_rows(const hp_spec *spec, const hp_stage_plan *plan, hp_stage_param_record *rows) {
    const hp_search_spec *s = &spec->search;
    int n = 0;
    for (int p = 0; p < s->nparams; p++, n++) {
        const hp_param_range *pr = &s->params[p];
        hp_stage_param_record *row = &rows[n];
        memset(row, 0, sizeof *row);
        row->stage = plan->stage;
        snprintf(row->name, sizeof row->name, "%s", pr->name);
        snprintf(row->scale, sizeof row->scale, "%s", hp_scale_name(pr->scale));
        snprintf(row->derivation, sizeof row->derivation, "%s", hp_derivation_name(plan->derivation[p]));
        if (pr->scale != HP_SCALE_CHOICE || !pr->enabled) {
            row->low = plan->low[p];
            row->high = plan->high[p];
            continue;
        }
        row->low = row->high = NAN;
        size_t o = 0;
        for (int i = 0; i < pr->nchoices; i++) {
            if (!((plan->choices[p] >> i) & 1u)) continue;
            int w = snprintf(row->choices + o, sizeof row->choices - o, "%s%s", o ? "," : "", pr->choices[i]);
            if (w < 0 || (size_t)w >= sizeof row->choices - o) break;
            o += (size_t)w;
        }
    }
    return n;
}
