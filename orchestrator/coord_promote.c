/* coord_promote.c - promotion (docs/search.md, "Promotion"): a promote stage continues the best
 * trials of the stage before from their final state, kept in /checkpoints until used.
 *
 * What stays in /checkpoints, and when it goes (every rule below holds after a kill too: resume
 * keeps the final states hp_coord_promote_keeps names, and hp_coord_promote_begin sorts them again):
 * - A trial of a stage followed by a promote stage that trains every planned epoch sends its final
 *   state (trial.c). While its stage runs, the coordinator keeps the final states of the best
 *   `cap` finished trials so far (hp_trial_better; cap = the promote stage's slots), freeing the
 *   one a better trial displaces: a trial in the final top `cap` was in the top `cap` of those
 *   finished before it, so the promoted trials' states are always there, and the file holds at
 *   most cap final states besides the running trials' checkpoints.
 * - When the promote stage is planned, the states of trials it does not promote are freed; a
 *   parent's state is freed once its promoted trial finished.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coord_impl.h"

/* A trial whose final state a promote stage can continue: done after every planned epoch (a
 * pruned or diverged trial, or one stopped early, ends on a decision resume would not repeat
 * from that state), with a finite best validation accuracy. */
static int promotable(const hp_trial_record *r) {
    return r->status == HP_TRIAL_DONE && r->epochs_done >= 1 && r->epochs_done == r->epochs_planned &&
           isfinite(r->best_val_acc);
}

static int next_promotes(const coord *c, int stage) {
    const hp_search_spec *ss = &c->spec->search;
    return c->spec->has_search && stage >= 0 && stage + 1 < ss->nstages && stage + 1 < HP_MAX_STAGES &&
           ss->stages[stage + 1].method == HP_METHOD_PROMOTE;
}

static int drop(coord *c, int64_t trial, hp_err *err) {
    return hp_results_checkpoint_width(c->res) > 0 ? hp_results_drop_checkpoint(c->res, trial, err) : 0;
}

int hp_coord_promote_setup(coord *c, hp_err *err) {
    for (int s = 0; s < c->spec->search.nstages && c->spec->has_search; s++)
        if (c->spec->search.stages[s].method == HP_METHOD_PROMOTE && c->ckpt.every == 0)
            return hp_errf(err, "search.stages[%d] promotes trials from their final state, which is kept in "
                                "/checkpoints of %s, but checkpoints are off (--checkpoint-every 0, or a file that "
                                "cannot hold this model's); run without --checkpoint-every 0",
                           s, c->opts->path);
    return 0;
}

int hp_coord_promote_keeps(const coord *c, const hp_trial_record *r) {
    return next_promotes(c, r->stage) && promotable(r);
}

int hp_coord_promote_plan(coord *c, const hp_stage_plan *prev, hp_trial_plan **out, hp_err *err) {
    *out = NULL;
    free(c->promote.parent);
    c->promote.parent = NULL;
    if (c->plan.stage.method != HP_METHOD_PROMOTE) return 0;
    int n = prev->ntrials, k = c->plan.stage.ntrials;
    hp_trial_outcome *o = hp_calloc((size_t)n + 1, sizeof *o, "the promotion candidates", err);
    int *done = hp_calloc((size_t)n + 1, sizeof *done, "the promotion candidates", err);
    hp_trial_plan *t = hp_calloc((size_t)k + 1, sizeof *t, "the promoted trials", err);
    c->promote.parent = hp_calloc((size_t)k + 1, sizeof *c->promote.parent, "the promoted trials' parents", err);
    int rc = o && done && t && c->promote.parent ? 0 : -1;
    for (int i = 0; rc == 0 && i < n; i++) {
        const hp_trial_record *r = &c->plan.recs[prev->first_trial_id + i];
        o[i].score = r->best_val_acc;
        o[i].trial = r->id;
        o[i].usable = promotable(r);
        done[i] = r->epochs_done;
    }
    if (rc == 0 &&
        hp_search_promote(c->spec, &c->plan.stage, c->plan.trials, o, done, n, t, c->promote.parent, err) < 0)
        rc = -1;
    free(o);
    free(done);
    if (rc != 0) {
        free(t);
        return -1;
    }
    *out = t;
    return 0;
}

int hp_coord_promote_begin(coord *c, hp_err *err) {
    int s = c->plan.stage.stage;
    int64_t first = c->plan.stage.first_trial_id, n = c->plan.stage.ntrials;
    c->promote.nkept = c->promote.cap = 0;
    if (c->promote.parent) { /* this stage promotes: free the states nobody still continues from */
        int64_t pfirst = hp_search_first_trial_id(c->spec, s - 1), pn = hp_search_stage_trials(c->spec, s - 1);
        for (int64_t id = pfirst; id < pfirst + pn; id++) {
            int needed = 0;
            for (int64_t i = 0; i < n && !needed; i++)
                needed = c->promote.parent[i] == id && !hp_trial_finished(c->plan.recs[first + i].status);
            if (!needed && drop(c, id, err) != 0) return -1;
        }
    }
    if (!next_promotes(c, s)) return 0;
    int64_t cap = hp_search_stage_trials(c->spec, s + 1);
    free(c->promote.kept);
    c->promote.kept = hp_calloc((size_t)cap + 1, sizeof *c->promote.kept, "the kept final states", err);
    const hp_trial_record **fin = hp_calloc((size_t)n + 1, sizeof *fin, "the stage's finished trials", err);
    if (!c->promote.kept || !fin) {
        free(fin);
        return -1;
    }
    c->promote.cap = (int)cap;
    int64_t nfin = 0; /* a resumed stage: its finished trials' states, best first; the best cap stay */
    for (int64_t i = 0; i < n; i++)
        if (promotable(&c->plan.recs[first + i])) fin[nfin++] = &c->plan.recs[first + i];
    qsort(fin, (size_t)nfin, sizeof *fin, hp_trial_ptr_best_first);
    int rc = 0;
    for (int64_t i = 0; i < nfin && rc == 0; i++) {
        if (i < cap) c->promote.kept[c->promote.nkept++] = fin[i]->id;
        else rc = drop(c, fin[i]->id, err);
    }
    free(fin);
    return rc;
}

int hp_coord_promote_after_result(coord *c, const hp_trial_record *r, hp_err *err) {
    if (!hp_coord_promote_keeps(c, r) || c->promote.cap == 0) {
        if (drop(c, r->id, err) != 0) return -1;
    } else if (c->promote.nkept < c->promote.cap) {
        c->promote.kept[c->promote.nkept++] = r->id;
    } else {
        int worst = 0;
        for (int i = 1; i < c->promote.nkept; i++)
            if (hp_trial_better(&c->plan.recs[c->promote.kept[worst]], &c->plan.recs[c->promote.kept[i]])) worst = i;
        int64_t out = r->id;
        if (hp_trial_better(r, &c->plan.recs[c->promote.kept[worst]])) {
            out = c->promote.kept[worst];
            c->promote.kept[worst] = r->id;
        }
        if (drop(c, out, err) != 0) return -1;
    }
    int64_t i = r->id - c->plan.stage.first_trial_id;
    if (c->promote.parent && i >= 0 && i < c->plan.stage.ntrials && c->promote.parent[i] >= 0)
        return drop(c, c->promote.parent[i], err); /* its promoted trial finished: the parent's state is spent */
    return 0;
}

const hp_resume_ckpt *hp_coord_start_ckpt(coord *c, int64_t id, int *rc, hp_err *err) {
    *rc = 0;
    if (c->resume.ckpt && id < c->resume.ntrials && c->resume.ckpt[id].rec.trial == id) return &c->resume.ckpt[id];
    int64_t i = id - c->plan.stage.first_trial_id;
    if (!c->promote.parent || i < 0 || i >= c->plan.stage.ntrials || c->promote.parent[i] < 0) return NULL;
    int64_t parent = c->promote.parent[i];
    hp_resume_ckpt *f = &c->promote.from;
    if (!f->vec && !(f->vec = hp_calloc((size_t)c->ckpt.floats + 1, sizeof(float), "a parent's final state", err))) {
        *rc = -1;
        return NULL;
    }
    int got = hp_results_get_checkpoint(c->res, parent, &f->rec, f->vec, c->ckpt.floats, err);
    if (got == 0 || (got > 0 && f->rec.epochs_done != c->plan.recs[parent].epochs_done))
        hp_errf(err, "results file %s: trial %lld continues trial %lld from its final state (epoch %d), but "
                     "/checkpoints holds %s of trial %lld; the file was changed or damaged: start the sweep again "
                     "(run --force)",
                c->opts->path, (long long)id, (long long)parent, c->plan.recs[parent].epochs_done,
                got == 0 ? "no state" : "another epoch's state", (long long)parent);
    if (got <= 0 || f->rec.epochs_done != c->plan.recs[parent].epochs_done) {
        *rc = -1;
        return NULL;
    }
    f->n = 2 * f->rec.model_floats + f->rec.optim_floats;
    f->rec.trial = id;
    f->rec.seconds = 0; /* a promoted trial's seconds are its own epochs' (the parent's are on its row) */
    return f;
}

void hp_coord_promote_free(coord *c) {
    free(c->promote.parent);
    free(c->promote.kept);
    free(c->promote.from.vec);
    memset(&c->promote, 0, sizeof c->promote);
}
