/* search_promote.c - planning a promote stage's trials (search.h, hp_search_promote; the rules:
 * docs/search.md, "Promotion"). A pure function of the stage before's plans and outcomes, like
 * the rest of the planner, so a resumed or MPI sweep promotes the same trials. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"

typedef struct ranked {
    double score;
    int64_t id;
    int at; /* index into the candidates */
} ranked;

static int by_rank(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    if (hp_better_score(x->score, x->id, y->score, y->id)) return -1;
    return hp_better_score(y->score, y->id, x->score, x->id) ? 1 : 0;
}

int hp_search_promote(const hp_spec *spec, const hp_stage_plan *plan, const hp_trial_plan *cand,
                      const hp_trial_outcome *outcome, const int *epochs_done, int n, hp_trial_plan *out,
                      int64_t *parent, hp_err *err) {
    int s = plan->stage;
    if (s < 1 || s >= spec->search.nstages || spec->search.stages[s].method != HP_METHOD_PROMOTE)
        return hp_errf(err, "%s: stage %d is not a promote stage (search.stages[%d].method)", spec->path, s, s);
    if (n < 0 || (n > 0 && (!cand || !outcome || !epochs_done)))
        return hp_errf(err, "%s: promoting into stage %d: %d candidates given without arrays", spec->path, s, n);
    int extra = spec->search.stages[s].epochs;
    ranked *r = hp_calloc((size_t)(n > 0 ? n : 1), sizeof *r, "the promotion candidates", err);
    if (!r) return -1;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (outcome[i].usable && isfinite(outcome[i].score) && epochs_done[i] >= 1 &&
            epochs_done[i] <= 0x7fffffff - extra)
            r[k++] = (ranked){outcome[i].score, outcome[i].trial, i};
    qsort(r, (size_t)k, sizeof *r, by_rank);
    if (k > plan->ntrials) k = plan->ntrials;
    for (int i = 0; i < plan->ntrials; i++) {
        hp_trial_plan *p = &out[i];
        if (i < k) {
            *p = cand[r[i].at]; /* values (the whole array) and seed: the parent's */
            p->epochs = epochs_done[r[i].at] + extra;
            parent[i] = cand[r[i].at].id;
        } else {
            memset(p, 0, sizeof *p);
            parent[i] = -1;
        }
        p->id = plan->first_trial_id + i;
        p->stage = s;
        p->index = i;
    }
    free(r);
    return k;
}
