/* coord_prune.c - pruning within a stage: the median rule and successive halving, made
 * deterministic.
 *
 * A stage with prune: {rule: median, after: A, min_trials: M} stops trial t after epoch e
 * (A <= e < its planned epochs) when its validation accuracy there is below the median of the
 * validation accuracies at epoch e of the stage's trials with a lower id, counted when at least
 * M of them have one (hp_prune_median, search.h, is the rule). With rule: halving (and eta),
 * verdicts come only at the rungs A, A*eta, A*eta^2, ... epochs, and t goes on only while it is
 * among the best 1/eta of those trials and itself (hp_prune_halving). Lower-id trials that
 * ended before epoch e (diverged, pruned, failed) do not count. The verdict waits until every
 * lower-id trial of the stage has reported epoch e or ended, so it depends only on the trials'
 * own (bit-identical) results: the same trials stop at the same epochs alone, in lanes, under
 * mpirun with any number of ranks, whatever order results arrive in, and after a resume. It
 * never deadlocks: trials start in id order, so the lower-id trials a verdict waits for are
 * already running, and the lowest-id unfinished trial never waits. Alone without lanes nothing
 * ever waits (every lower-id trial has finished).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "coord_impl.h"
#include "mpi_util.h"

int hp_coord_prune_begin(coord *c, hp_err *err) {
    const hp_stage_spec *st = &c->spec->search.stages[c->plan.stage.stage];
    free(c->prune.acc);
    c->prune.acc = NULL;
    c->prune.nwait = 0;
    if (st->prune.rule == HP_PRUNE_NONE) return 0;
    int64_t n = c->plan.stage.ntrials;
    c->prune.stride = c->plan.stage.epochs + 1;
    c->prune.acc = hp_calloc((size_t)n * (size_t)c->prune.stride, sizeof(double), "the pruning table", err);
    if (!c->prune.acc) return -1;
    for (int64_t i = 0; i < n * c->prune.stride; i++) c->prune.acc[i] = NAN;
    const hp_resume *r = c->opts->resume;
    for (int64_t k = 0; r && k < r->ncurves; k++) /* epochs a resumed file holds */
        hp_coord_prune_note(c, r->curves[k].trial, r->curves[k].epoch, r->curves[k].val_acc);
    return 0;
}

void hp_coord_prune_note(coord *c, int64_t trial, int epoch, double val_acc) {
    int64_t i = trial - c->plan.stage.first_trial_id;
    if (!c->prune.acc || i < 0 || i >= c->plan.stage.ntrials || epoch < 1 || epoch >= c->prune.stride) return;
    c->prune.acc[i * c->prune.stride + epoch] = val_acc;
}

int hp_coord_prune_verdict(const coord *c, int64_t trial, int epoch) {
    const hp_stage_spec *st = &c->spec->search.stages[c->plan.stage.stage];
    const hp_prune_spec *pr = &st->prune;
    int64_t first = c->plan.stage.first_trial_id, i = trial - first;
    if (!c->prune.acc || pr->rule == HP_PRUNE_NONE || i < 0 || i >= c->plan.stage.ntrials ||
        epoch < pr->after || epoch >= c->plan.recs[trial].epochs_planned)
        return HP_VERDICT_CONTINUE;
    if (pr->rule == HP_PRUNE_HALVING && !hp_prune_is_rung(epoch, pr->after, pr->eta))
        return HP_VERDICT_CONTINUE; /* between rungs: no verdict, no wait */
    const int stride = c->prune.stride;
    double *ref = malloc((size_t)(i > 0 ? i : 1) * sizeof *ref);
    if (!ref) return HP_VERDICT_CONTINUE; /* out of memory: no pruning, never a wrong one */
    int nref = 0;
    for (int64_t s = 0; s < i; s++) {
        double v = c->prune.acc[s * stride + epoch];
        if (isfinite(v)) ref[nref++] = v;
        else if (!hp_trial_finished(c->plan.recs[first + s].status)) { /* not there yet: wait for it */
            free(ref);
            return HP_VERDICT_WAIT;
        }
    }
    double acc = c->prune.acc[i * stride + epoch];
    int stop = pr->rule == HP_PRUNE_HALVING ? hp_prune_halving(acc, ref, nref, pr->eta, pr->min_trials)
                                            : hp_prune_median(acc, ref, nref, pr->min_trials);
    free(ref);
    return stop ? HP_VERDICT_STOP : HP_VERDICT_CONTINUE;
}

int hp_coord_prune_defer(coord *c, int rank, int64_t trial, int epoch, hp_err *err) {
    if (c->prune.nwait == c->prune.cap) {
        int cap = c->prune.cap ? 2 * c->prune.cap : 16;
        coord_waiting *w = realloc(c->prune.wait, (size_t)cap * sizeof *w);
        if (!w) return hp_errf(err, "out of memory for the waiting verdicts");
        c->prune.wait = w, c->prune.cap = cap;
    }
    c->prune.wait[c->prune.nwait++] = (coord_waiting){rank, trial, epoch};
    return 0;
}

int hp_coord_prune_flush(coord *c, int abort, hp_err *err) {
    int kept = 0;
    for (int k = 0; k < c->prune.nwait; k++) {
        coord_waiting w = c->prune.wait[k];
        int v = abort ? HP_VERDICT_ABORT : hp_coord_prune_verdict(c, w.trial, w.epoch);
        if (v == HP_VERDICT_WAIT) {
            c->prune.wait[kept++] = w;
            continue;
        }
        hp_msg_verdict msg = {w.trial, v, 0};
        if (hp_mpi_send_bytes(&msg, (int)sizeof msg, w.rank, HP_TAG_VERDICT, c->opts->comm, err) != 0) return -1;
    }
    c->prune.nwait = kept;
    return 0;
}

void hp_coord_prune_free(coord *c) {
    free(c->prune.acc);
    free(c->prune.wait);
    if (c->prune.cond_made) pthread_cond_destroy(&c->prune.cond);
    memset(&c->prune, 0, sizeof c->prune);
}
