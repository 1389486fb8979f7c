/* coordinator.c - see coordinator.h. Planning (and replanning on resume), the stage loop,
 * stopping on a signal, the final test evaluation. Handing trials out (alone, in lanes, under
 * MPI): coord_dispatch.c. Recording: coord_record.c. */
#include "coordinator.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_impl.h"
#include "ensemble.h"
#include "search.h"
#include "trial.h"

/* ---- stages and the final evaluation --------------------------------------------------------- */

static void print_stage(coord *c, const hp_stage_record *sr, int replanned) {
    if (c->opts->quiet) return;
    hp_coord_clear_status(c);
    printf("stage %d/%d: %s, %d trials x %d epochs; lr [%.3g, %.3g] %s, weight decay [%.3g, %.3g] %s%s\n",
           sr->stage + 1, c->spec->search.nstages, sr->method, sr->trials, sr->epochs, sr->lr_low, sr->lr_high,
           sr->lr_derivation, sr->wd_low, sr->wd_high, sr->wd_derivation, replanned ? " (from the file)" : "");
    const hp_search_spec *ss = &c->spec->search;
    for (int p = HP_NFIXED_PARAMS; p < ss->nparams; p++) {
        const hp_param_range *r = &ss->params[p];
        char a[48], b[48];
        if (r->scale == HP_SCALE_CHOICE) {
            printf("  %s: {", r->name);
            for (int i = 0, k = 0; i < r->nchoices; i++)
                if ((c->plan.stage.choices[p] >> i) & 1u) printf("%s%s", k++ ? ", " : "", r->choices[i]);
            printf("} %s\n", hp_derivation_name(c->plan.stage.derivation[p]));
        } else {
            int real = r->scale == HP_SCALE_LOG || r->scale == HP_SCALE_LINEAR;
            if (real) {
                snprintf(a, sizeof a, "%.3g", c->plan.stage.low[p]);
                snprintf(b, sizeof b, "%.3g", c->plan.stage.high[p]);
            } else {
                hp_param_text(r, c->plan.stage.low[p], a, sizeof a);
                hp_param_text(r, c->plan.stage.high[p], b, sizeof b);
            }
            printf("  %s: [%s, %s] %s\n", r->name, a, b, hp_derivation_name(c->plan.stage.derivation[p]));
        }
    }
    for (int p = 0; p < ss->nparams && !replanned; p++) {
        hp_derivation d = c->plan.stage.derivation[p];
        if (d == HP_DERIV_WIDENED_LOW || d == HP_DERIV_WIDENED_HIGH)
            printf("  note: the best %s of stage %d lay at the %s edge of its range, so the range was widened "
                   "there instead of narrowed\n",
                   ss->params[p].name, sr->stage, d == HP_DERIV_WIDENED_LOW ? "low" : "high");
    }
    fflush(stdout);
}

/* Write a newly planned stage: its trial rows (rewriting rows a kill left behind, then
 * appending), then its stage row. */
static int write_stage(coord *c, const hp_stage_record *sr, hp_err *err) {
    int64_t first = c->plan.stage.first_trial_id, n = c->plan.stage.ntrials, i = 0;
    for (; i < n && first + i < c->plan.trial_rows; i++)
        if (hp_results_update_trial(c->res, &c->plan.recs[first + i], err) != 0) return -1;
    hp_stage_param_record rows[HP_MAX_PARAMS];
    int nrows = hp_search_stage_param_rows(c->spec, &c->plan.stage, rows);
    if (hp_results_add_stage_params(c->res, rows, nrows, err) != 0) return -1;
    if (hp_results_add_stage(c->res, sr, &c->plan.recs[first + i], (int)(n - i), err) != 0) return -1;
    if (first + n > c->plan.trial_rows) c->plan.trial_rows = first + n;
    return 0;
}

/* The /stages row of the stage just planned. */
static void stage_record(const coord *c, int s, hp_stage_record *sr) {
    memset(sr, 0, sizeof *sr);
    sr->stage = s;
    snprintf(sr->method, sizeof sr->method, "%s", hp_method_name(c->plan.stage.method));
    sr->trials = c->plan.stage.ntrials;
    sr->epochs = c->plan.stage.epochs;
    sr->first_trial = c->plan.stage.first_trial_id;
    sr->lr_low = c->plan.stage.low[HP_PARAM_LR];
    sr->lr_high = c->plan.stage.high[HP_PARAM_LR];
    snprintf(sr->lr_derivation, sizeof sr->lr_derivation, "%s",
             hp_derivation_name(c->plan.stage.derivation[HP_PARAM_LR]));
    sr->wd_low = c->plan.stage.low[HP_PARAM_WD];
    sr->wd_high = c->plan.stage.high[HP_PARAM_WD];
    snprintf(sr->wd_derivation, sizeof sr->wd_derivation, "%s",
             hp_derivation_name(c->plan.stage.derivation[HP_PARAM_WD]));
}

static int plan_stage(coord *c, int s, hp_err *err) {
    hp_stage_plan prev = c->plan.stage;
    hp_trial_outcome *outcomes = NULL;
    int n = 0;
    if (s > 0) {
        n = prev.ntrials;
        outcomes = hp_calloc((size_t)n, sizeof *outcomes, "stage outcomes", err);
        if (!outcomes) return -1;
        for (int i = 0; i < n; i++) {
            const hp_trial_record *r = &c->plan.recs[prev.first_trial_id + i];
            if (hp_search_values_from_record(c->spec, r, outcomes[i].values, err) != 0) {
                free(outcomes);
                return hp_err_prefix(err, "results file %s", c->opts->path);
            }
            outcomes[i].score = r->best_val_acc;
            outcomes[i].trial = r->id;
            /* a pruned trial counts with the accuracy it reached (below the median: rarely top-k) */
            outcomes[i].usable = (r->status == HP_TRIAL_DONE || r->status == HP_TRIAL_PRUNED) && isfinite(r->best_val_acc);
        }
    }
    int rc = hp_search_plan_stage(c->spec, s, s > 0 ? &prev : NULL, outcomes, n, &c->plan.stage, err);
    free(outcomes);
    if (rc != 0) return -1;
    /* Stages the file already holds are replanned (the same pure function of the spec, the seed
     * and finished results) and must agree with their rows. */
    int replay = c->opts->resume && s < c->opts->resume->nstages;
    if (c->plan.stage.first_trial_id != (replay ? c->opts->resume->stages[s].first_trial : c->plan.nrecs))
        return hp_errf(err, "stage %d starts at trial %lld but %lld trials were planned before it", s,
                       (long long)c->plan.stage.first_trial_id, (long long)c->plan.nrecs);

    hp_trial_plan *promoted = NULL; /* a promote stage's trials (coord_promote.c) */
    if (hp_coord_promote_plan(c, &prev, &promoted, err) != 0) return -1;
    free(c->plan.trials);
    c->plan.trials = hp_calloc((size_t)c->plan.stage.ntrials, sizeof *c->plan.trials, "trial plans", err);
    if (!c->plan.trials) {
        free(promoted);
        return -1;
    }
    for (int i = 0; i < c->plan.stage.ntrials; i++) {
        hp_trial_plan *p = &c->plan.trials[i];
        if (promoted) *p = promoted[i];
        else hp_search_trial(c->spec, &c->plan.stage, i, p);
        hp_trial_record *r = &c->plan.recs[p->id];
        int64_t parent = promoted ? c->promote.parent[i] : -1;
        if (replay && r->parent != parent) {
            free(promoted);
            return hp_errf(err,
                           "results file %s: trial %lld continues trial %lld in the file, but this hpsweep promotes "
                           "trial %lld into that slot; continue the file with the hpsweep version that started it",
                           c->opts->path, (long long)p->id, (long long)r->parent, (long long)parent);
        }
        if (replay) {
            int q = hp_search_record_differs(c->spec, r, p->values, err);
            if (q == -2) return hp_err_prefix(err, "results file %s", c->opts->path);
            if (r->id != p->id || r->stage != s || q >= 0 || r->seed != p->seed || r->epochs_planned != p->epochs) {
                char value[96] = "";
                if (q >= 0) {
                    char text[HP_CHOICE_TEXT + 32];
                    snprintf(value, sizeof value, " (%s differs: this hpsweep plans %s)",
                             c->spec->search.params[q].name,
                             hp_param_text(&c->spec->search.params[q], p->values[q], text, sizeof text));
                }
                return hp_errf(err,
                               "results file %s: trial %lld was planned with lr %.17g, weight decay %.17g, seed %llu, "
                               "%d epochs, but this hpsweep plans seed %llu, %d epochs%s; "
                               "continue the file with the hpsweep version that started it",
                               c->opts->path, (long long)p->id, r->lr, r->weight_decay, (unsigned long long)r->seed,
                               r->epochs_planned, (unsigned long long)p->seed, p->epochs, value);
            }
            continue;
        }
        memset(r, 0, sizeof *r);
        r->parent = parent;
        r->id = p->id;
        r->stage = s;
        r->status = HP_TRIAL_PENDING;
        hp_search_values_to_record(c->spec, p->values, r);
        r->seed = p->seed;
        r->epochs_planned = p->epochs;
        r->best_val_acc = NAN;
        r->best_val_loss = NAN;
        r->initial_loss = NAN;
        r->update_ratio = NAN;
        r->rank = -1;
        r->gpu = -1; /* device "": not run yet */
        r->snapshot_row = -1;
        if (promoted && parent < 0) { /* fewer trials of the stage before finished every epoch than slots */
            r->status = HP_TRIAL_FAILED;
            snprintf(r->message, sizeof r->message, "nothing to promote: stage %d has fewer trials that trained "
                     "every planned epoch than this stage's top_k", s - 1);
            c->prog.done++;
            c->prog.epochs_total -= c->plan.stage.epochs;
        }
    }
    free(promoted);
    if (!replay) c->plan.nrecs += c->plan.stage.ntrials;

    hp_stage_record sr;
    stage_record(c, s, &sr);
    if (!replay && write_stage(c, &sr, err) != 0) return -1;
    print_stage(c, &sr, replay);
    return 0;
}

/* The trials an ensemble may take: done, with a kept snapshot; best first (hp_trial_better). */
static const hp_trial_record **ensemble_candidates(coord *c, int64_t *n, hp_err *err) {
    const hp_trial_record **cand = hp_calloc((size_t)(c->plan.nrecs > 0 ? c->plan.nrecs : 1), sizeof *cand,
                                             "the ensemble's candidates", err);
    if (!cand) return NULL;
    *n = 0;
    for (int64_t i = 0; i < c->plan.nrecs; i++) {
        const hp_trial_record *r = &c->plan.recs[i];
        if (r->status == HP_TRIAL_DONE && r->snapshot_row >= 0 && r->best_epoch > 0 && isfinite(r->best_val_acc))
            cand[(*n)++] = r;
    }
    qsort(cand, (size_t)*n, sizeof *cand, hp_trial_ptr_best_first);
    return cand;
}

/* final.ensemble K > 1: the K best trials' snapshots (fewer if fewer kept one), their predicted
 * probabilities averaged on the validation and the test split (trainer/ensemble.h), as the
 * /final row "ensemble:K". */
static int ensemble_evaluation(coord *c, hp_final_record *f, hp_err *err) {
    int64_t ncand = 0;
    const hp_trial_record **cand = ensemble_candidates(c, &ncand, err);
    if (!cand) return -1;
    int k = (int)(ncand < c->spec->final.ensemble ? ncand : c->spec->final.ensemble);
    int64_t size = c->snap.state_size;
    float *buf = k > 0 ? hp_calloc((size_t)k * (size_t)size, sizeof(float), "the ensemble's snapshots", err) : NULL;
    const float *states[HP_MAX_ENSEMBLE];
    int rc = k > 0 && buf ? 0 : -1;
    if (k == 0) hp_errf(err, "no finished trial kept a snapshot");
    for (int i = 0; rc == 0 && i < k; i++) {
        states[i] = buf + (int64_t)i * size;
        rc = hp_results_get_snapshot(c->res, cand[i]->snapshot_row, buf + (int64_t)i * size, err);
    }
    double val_loss = 0;
    memset(f, 0, sizeof *f);
    snprintf(f->kind, sizeof f->kind, "ensemble:%u", (unsigned)k % 100u); /* k <= HP_MAX_ENSEMBLE (32) */
    f->trial = -1;
    int batch = c->spec->train.batch_size;
    if (rc == 0)
        rc = hp_ensemble_evaluate(&c->spec->model, &c->data->val, batch, states, k, size, &val_loss, &f->val_acc,
                                  err);
    if (rc == 0)
        rc = hp_ensemble_evaluate(&c->spec->model, &c->data->test, batch, states, k, size, &f->test_loss,
                                  &f->test_acc, err);
    if (rc == 0 && !c->opts->quiet) {
        printf("ensemble of the %d best trials (", k);
        for (int i = 0; i < k; i++) printf("%s%lld", i ? ", " : "", (long long)cand[i]->id);
        printf("): val acc %.4f; test acc %.4f, test loss %.4f\n", f->val_acc, f->test_acc, f->test_loss);
    }
    free(buf);
    free(cand);
    return rc == 0 ? 0 : hp_err_prefix(err, "the final ensemble");
}

/* An external trainer's test: its test command on the best finished trial's folder, once. The
 * best by the one rule (hp_trial_better) among the done trials: hpsweep keeps no snapshot of
 * its own, the program does. */
static int external_evaluation(coord *c, hp_err *err) {
    const hp_trial_record *best = NULL;
    for (int64_t i = 0; i < c->plan.nrecs; i++) {
        const hp_trial_record *r = &c->plan.recs[i];
        if (r->status == HP_TRIAL_DONE && isfinite(r->best_val_acc) && (!best || hp_trial_better(r, best))) best = r;
    }
    if (!best) {
        c->no_result = 1;
        return 0;
    }
    hp_trial_plan p;
    memset(&p, 0, sizeof p);
    p.id = best->id, p.stage = best->stage, p.seed = best->seed, p.epochs = best->epochs_planned;
    if (hp_search_values_from_record(c->spec, best, p.values, err) != 0) return -1;
    double loss = NAN, acc = NAN;
    if (hp_trial_external_test(c->spec, &p, &loss, &acc, err) != 0) return -1;
    hp_final_record f;
    memset(&f, 0, sizeof f);
    snprintf(f.kind, sizeof f.kind, "best");
    f.trial = best->id;
    f.val_acc = best->best_val_acc;
    f.test_loss = loss;
    f.test_acc = acc;
    if (!c->opts->quiet)
        printf("best trial %lld: %s %.4f (epoch %d); test acc %.4f, test loss %.4f (its test command, run once)\n",
               (long long)best->id, c->spec->ext.objective,
               c->spec->ext.maximize > 0 ? best->best_val_acc : -best->best_val_acc, best->best_epoch, acc, loss);
    return hp_results_set_final(c->res, &f, 1, err);
}

static int final_evaluation(coord *c, hp_err *err) {
    if (c->spec->ext.enabled) return external_evaluation(c, err);
    if (c->snap.best_trial < 0) {
        c->no_result = 1; /* the caller reports it and exits non-zero */
        return 0;
    }
    const hp_trial_record *r = &c->plan.recs[c->snap.best_trial];
    /* The trial's own spec: its searched values in place (its model may differ from the spec's). */
    double values[HP_MAX_PARAMS];
    hp_spec ts;
    if (hp_search_values_from_record(c->spec, r, values, err) != 0 || hp_spec_for_trial(c->spec, values, &ts, err) != 0)
        return hp_err_prefix(err, "test evaluation of trial %lld", (long long)c->snap.best_trial);
    /* On the CPU, whatever device the trials trained on: under mpirun the coordinator holds no
     * GPU (only trainer ranks open one), one pass over the test split of one snapshot is cheap,
     * and a snapshot is a host-side state vector that any device's trainer reads the same way. */
    hp_trainer *t = NULL;
    int built = hp_trainer_create(&ts.model, &ts.optim, &ts.train, &c->data->train, &c->data->val, r->seed, &t, err);
    hp_spec_free(&ts);
    if (built != 0) return hp_err_prefix(err, "test evaluation of trial %lld", (long long)c->snap.best_trial);
    double loss = 0, acc = 0;
    int rc = hp_trainer_evaluate(t, &c->data->test, c->snap.best_state, &loss, &acc, err);
    hp_trainer_free(t);
    if (rc != 0) return hp_err_prefix(err, "test evaluation of trial %lld", (long long)c->snap.best_trial);
    hp_final_record f[2];
    memset(f, 0, sizeof f);
    snprintf(f[0].kind, sizeof f[0].kind, "best");
    f[0].trial = c->snap.best_trial;
    f[0].val_acc = r->best_val_acc;
    f[0].test_loss = loss;
    f[0].test_acc = acc;
    if (!c->opts->quiet)
        printf("best trial %lld: lr %.4g, weight decay %.4g, val acc %.4f (epoch %d); test acc %.4f, test loss "
               "%.4f (test split read once)\n",
               (long long)r->id, r->lr, r->weight_decay, r->best_val_acc, r->best_epoch, acc, loss);
    int n = 1;
    if (c->spec->final.ensemble > 1) {
        if (ensemble_evaluation(c, &f[1], err) != 0) return -1;
        n = 2;
    }
    return hp_results_set_final(c->res, f, n, err);
}

/* ---- setup, including what a resumed file holds ---------------------------------------------- */

/* Continuing a file: its trials, the checkpoints and /curves rows to reuse, its kept snapshots
 * and its best trial so far. */
static int setup_resume(coord *c, const hp_resume *rs, hp_err *err) {
    const hp_spec *spec = c->spec;
    if (rs->ntrials > c->prog.total || rs->nstages > spec->search.nstages)
        return hp_errf(err, "results file %s holds %lld trials in %lld stages, but its spec plans %lld in %d",
                       c->opts->path, (long long)rs->ntrials, (long long)rs->nstages, (long long)c->prog.total,
                       spec->search.nstages);
    if (rs->state_size != c->snap.state_size)
        return hp_errf(err, "results file %s: snapshots of %lld floats, but the spec's model has %lld", c->opts->path,
                       (long long)rs->state_size, (long long)c->snap.state_size);
    memcpy(c->plan.recs, rs->trials, (size_t)rs->ntrials * sizeof *c->plan.recs);
    c->plan.nrecs = rs->ntrials;
    c->resume.ckpt = rs->ckpt;
    c->resume.ntrials = rs->ntrials;
    c->resume.curve_rows = hp_calloc((size_t)c->prog.total + 1, sizeof *c->resume.curve_rows, "curve rows", err);
    c->resume.free_curves = hp_calloc((size_t)rs->ncurves + 1, sizeof *c->resume.free_curves, "curve rows", err);
    if (!c->resume.curve_rows || !c->resume.free_curves) return -1;
    for (int64_t i = 0; i < rs->ntrials; i++) {
        const hp_trial_record *r = &c->plan.recs[i];
        if (hp_trial_finished(r->status)) {
            c->prog.done++;
            c->prog.epochs_done += r->epochs_done;
            c->prog.epochs_total -= r->epochs_planned - r->epochs_done;
            /* A kill between recording the result and freeing the checkpoint leaves a stale one; a
             * final state kept for a promote stage stays (hp_coord_promote_begin sorts them). */
            if (hp_results_checkpoint_width(c->res) > 0 && !hp_coord_promote_keeps(c, r) &&
                hp_results_drop_checkpoint(c->res, i, err) != 0)
                return -1;
        } else if (r->epochs_planned > 0) {
            c->resume.curve_rows[i] = hp_calloc((size_t)r->epochs_planned + 1, sizeof(int64_t), "curve rows", err);
            if (!c->resume.curve_rows[i]) return -1;
            for (int e = 0; e <= r->epochs_planned; e++) c->resume.curve_rows[i][e] = -1;
        }
    }
    for (int64_t row = rs->ncurves - 1; row >= 0; row--) {
        const hp_curve_record *cr = &rs->curves[row];
        if (cr->epoch < 1 || cr->trial < 0 || cr->trial >= c->prog.total) {
            c->resume.free_curves[c->resume.nfree_curves++] = row; /* never written: reused first-come */
        } else if (c->resume.curve_rows[cr->trial] && cr->epoch <= c->plan.recs[cr->trial].epochs_planned) {
            if (c->resume.curve_rows[cr->trial][cr->epoch] < 0) c->resume.curve_rows[cr->trial][cr->epoch] = row;
            else c->resume.free_curves[c->resume.nfree_curves++] = row; /* a duplicate (cannot happen; reuse it) */
        }
    }
    int keep = spec->search.keep_snapshots;
    c->snap.kept = rs->nsnapshots;
    for (int64_t row = 0; keep > 0 && row < keep; row++)
        c->snap.kept_trial[row] = row < rs->nsnapshots ? rs->snapshot_owner[row] : -1;
    if (keep > 0 && c->snap.kept > keep) c->snap.kept = keep;
    if (rs->best_trial >= 0) {
        c->snap.best_trial = rs->best_trial;
        memcpy(c->snap.best_state, rs->best_state, (size_t)c->snap.state_size * sizeof(float));
    }
    return 0;
}

static int setup(coord *c, hp_err *err) {
    const hp_spec *spec = c->spec;
    const hp_splits *d = c->data;
    if (spec->ext.enabled) { /* the program keeps its own state: one placeholder float, no vectors */
        c->snap.state_size = 1;
        c->ckpt.floats = 0;
    } else {
        hp_model *probe = NULL;
        if (hp_model_create(&spec->model, d->train.c, d->train.h, d->train.w, spec->data.nclasses, 1, &probe, err) != 0)
            return -1;
        c->snap.state_size = hp_model_state_size(probe);
        hp_model_free(probe);
        /* Rows may be wider than the spec's own model: searched model.* values that make a model
         * larger (search_probe.h, hp_search_sizes); each snapshot is padded to the row. */
        int64_t rows = hp_results_state_size(c->res);
        if (rows < c->snap.state_size)
            return hp_errf(err, "results file %s: snapshot rows of %lld floats, but the spec's model has %lld",
                           c->opts->path, (long long)rows, (long long)c->snap.state_size);
        c->snap.state_size = rows;
        if (hp_trainer_checkpoint_size_for(&spec->model, &spec->optim, d->train.c, d->train.h, d->train.w,
                                           spec->data.nclasses, &c->ckpt.floats, err) != 0)
            return -1;
    }
    int64_t width = hp_results_checkpoint_width(c->res);
    /* A searched optimizer.type may give trials a larger state than the spec's own optimizer: the
     * file's rows were sized for the largest (cmd_sweep.c), and so is the receiving buffer. */
    if (width > c->ckpt.floats) c->ckpt.floats = width;
    c->ckpt.every = c->opts->checkpoint_every;
    if (c->ckpt.every > 0 && (width == 0 || (spec->train.synthetic_ms == 0 && width < c->ckpt.floats))) {
        if (!c->opts->quiet)
            printf("note: %s cannot hold checkpoints of this model (%lld floats per row, %lld needed): running "
                   "trials will restart if this sweep is interrupted\n",
                   c->opts->path, (long long)width, (long long)c->ckpt.floats);
        c->ckpt.every = 0;
    }
    c->plan.recs = hp_calloc((size_t)c->prog.total + 1, sizeof *c->plan.recs, "trial records", err);
    c->snap.buf = hp_calloc((size_t)c->snap.state_size, sizeof(float), "snapshot buffer", err);
    c->snap.best_state = hp_calloc((size_t)c->snap.state_size, sizeof(float), "best snapshot", err);
    c->ckpt.buf = hp_calloc((size_t)c->ckpt.floats + 1, sizeof(float), "checkpoint buffer", err);
    c->slots = hp_calloc((size_t)c->opts->nworkers + 1, sizeof *c->slots, "worker slots", err);
    c->snap.kept_trial =
        hp_calloc((size_t)spec->search.keep_snapshots + 1, sizeof *c->snap.kept_trial, "kept snapshots", err);
    if (!c->plan.recs || !c->snap.buf || !c->snap.best_state || !c->ckpt.buf || !c->slots || !c->snap.kept_trial)
        return -1;

    c->plan.trial_rows = hp_results_ntrials(c->res);
    if (hp_coord_promote_setup(c, err) != 0) return -1;
    return c->opts->resume ? setup_resume(c, c->opts->resume, err) : 0;
}

static void count_states(const coord *c, hp_coord_stats *st) {
    st->finished = st->running = 0;
    for (int64_t i = 0; i < c->plan.nrecs; i++) {
        if (hp_trial_finished(c->plan.recs[i].status)) st->finished++;
        else if (c->plan.recs[i].status == HP_TRIAL_RUNNING) st->running++;
    }
    st->pending = c->prog.total - st->finished - st->running;
}

/* After a stop: close the file (every event is flushed already; closing clears its "being
 * written" flag), then let the trainer ranks finish their exchange and stop them. */
static int end_stopped(coord *c, hp_results **res, hp_coord_stats *stats, hp_err *err) {
    double t = hp_now_seconds();
    count_states(c, stats);
    hp_err cerr = {{0}};
    int crc = hp_results_close(*res, &cerr);
    *res = NULL;
    c->res = NULL;
    stats->stop_seconds = hp_now_seconds() - t;
    if (crc != 0) {
        *err = cerr;
        return -1;
    }
    stats->workers_stopped = 1;
    if (c->opts->nworkers > 0) {
        int drained = hp_coord_drain_workers(c, 1.5, err);
        if (drained < 0) return -1;
        stats->workers_stopped = drained;
    }
    return 0;
}

/* Every stage ran: stop the trainer ranks, then evaluate the best snapshot on the test split
 * (not in a synthetic sweep, nor when the resumed file already holds that result). */
static int end_finished(coord *c, int64_t done_before, hp_coord_stats *stats, hp_err *err) {
    const hp_coord_opts *opts = c->opts;
    if (opts->nworkers > 0 && hp_coord_stop_workers(c, err) != 0) return -1;
    int has_final = opts->resume && opts->resume->nfinal > 0 && done_before == c->prog.total;
    if (c->spec->train.synthetic_ms == 0 && !has_final && final_evaluation(c, err) != 0) return -1;
    count_states(c, stats);
    return 0;
}

/* The figures of the run for the caller's summary: trials, wall time, utilisation of the lanes. */
static void fill_stats(const coord *c, double wall, int64_t done_before, hp_coord_stats *stats) {
    const hp_coord_opts *opts = c->opts;
    stats->trials = c->prog.done - done_before;
    stats->wall = wall;
    int nranks = 0; /* lanes in all: trials that can run at once */
    for (int rank = 1; rank <= opts->nworkers; rank++)
        nranks += c->slots[rank].info.lanes > 0 ? c->slots[rank].info.lanes : 1;
    if (opts->nworkers == 0) nranks = c->lanes.set ? hp_lanes_count(c->lanes.set) : 1;
    stats->busy = c->timing.trial_seconds;
    stats->utilisation = wall > 0 ? stats->busy / (wall * nranks) : 0;
    stats->lanes = nranks;
    stats->record = c->timing.record_seconds;
    stats->interrupted = c->stopping;
    stats->no_result = c->no_result;
}

static void coord_free(coord *c) {
    if (c->lanes.set) { /* after an error, trials may still run: stop them before the threads are joined */
        c->lanes.cancel = 1;
        hp_lanes_free(c->lanes.set);
    }
    if (c->lanes.mu_made) pthread_mutex_destroy(&c->lanes.mu);
    hp_coord_prune_free(c);
    hp_coord_promote_free(c);
    hp_coord_clear_status(c);
    if (c->resume.curve_rows)
        for (int64_t i = 0; i < c->prog.total; i++) free(c->resume.curve_rows[i]);
    free(c->resume.curve_rows);
    free(c->resume.free_curves);
    free(c->plan.recs);
    free(c->plan.trials);
    free(c->snap.buf);
    free(c->snap.best_state);
    free(c->ckpt.buf);
    free(c->slots);
    free(c->snap.kept_trial);
}

int hp_coordinate(const hp_spec *spec, const hp_splits *data, hp_results **res, const hp_coord_opts *opts,
                  hp_coord_stats *stats, hp_err *err) {
    coord c;
    memset(&c, 0, sizeof c);
    c.spec = spec;
    c.data = data;
    c.res = *res;
    c.opts = opts;
    c.snap.best_trial = -1;
    c.prog.total = hp_search_total_trials(spec);
    for (int s = 0; s < spec->search.nstages; s++)
        c.prog.epochs_total += hp_search_stage_trials(spec, s) * (int64_t)spec->search.stages[s].epochs;
    hp_coord_stats local;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);

    int rc = -1;
    hp_coord_fault_setup(&c);
    if (setup(&c, err) != 0) goto done;
    if (opts->nworkers == 0) hp_coord_describe_self(&c);
    else if (hp_coord_collect_ready(&c, err) != 0) goto done;
    if (opts->nworkers == 0 && opts->pack > 1 && hp_coord_lanes_open(&c, err) != 0) goto done;

    c.timing.t0 = hp_now_seconds();
    int64_t done_before = c.prog.done;
    for (int s = 0; s < spec->search.nstages && !hp_coord_stop_requested(&c); s++) {
        if (plan_stage(&c, s, err) != 0 || hp_coord_prune_begin(&c, err) != 0 || hp_coord_promote_begin(&c, err) != 0)
            goto done;
        int stage_rc = opts->nworkers > 0 ? hp_coord_run_stage_mpi(&c, err)
                       : c.lanes.set      ? hp_coord_run_stage_lanes(&c, err)
                                          : hp_coord_run_stage_alone(&c, err);
        if (stage_rc != 0) goto done;
    }
    double wall = hp_now_seconds() - c.timing.t0;
    hp_coord_clear_status(&c);
    if ((c.stopping ? end_stopped(&c, res, stats, err) : end_finished(&c, done_before, stats, err)) != 0) goto done;
    fill_stats(&c, wall, done_before, stats);
    rc = 0;
done:
    coord_free(&c);
    return rc;
}
