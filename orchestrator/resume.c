/* resume.c - see resume.h */
#include "resume.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int hp_trial_finished(int32_t status) {
    return status == HP_TRIAL_DONE || status == HP_TRIAL_DIVERGED || status == HP_TRIAL_FAILED ||
           status == HP_TRIAL_PRUNED;
}

void hp_resume_free(hp_resume *r) {
    if (!r) return;
    if (r->ckpt)
        for (int64_t i = 0; i < r->ntrials; i++) free(r->ckpt[i].vec);
    free(r->ckpt);
    free(r->spec_text);
    free(r->trials);
    free(r->stages);
    free(r->curves);
    free(r->snapshot_owner);
    free(r->best_state);
    memset(r, 0, sizeof *r);
}

/* Stages must tile the trials in order and staged rows must be their own ids; anything else
 * is a damaged file. A kill between extending a table and writing its new rows can leave
 * zero-filled rows at its end: a last stage row that does not fit is dropped (that stage is
 * planned again), and trial rows past the last stage (written, like every stage's trials,
 * before its stage row) are ignored: planning that stage again rewrites them. */
static int check_tables(const char *path, hp_resume *r, hp_err *err) {
    int64_t next = 0;
    for (int64_t s = 0; s < r->nstages; s++) {
        const hp_stage_record *st = &r->stages[s];
        if (st->stage != s || st->first_trial != next || st->trials < 0 || next + st->trials > r->ntrials) {
            if (s == r->nstages - 1) {
                r->nstages = s;
                break;
            }
            return hp_errf(err, "results file %s: /stages row %lld (stage %d, trials %lld..+%d) does not follow "
                                "the stages before it (damaged file?)",
                           path, (long long)s, (int)st->stage, (long long)st->first_trial, (int)st->trials);
        }
        next += st->trials;
    }
    r->trial_rows = r->ntrials;
    r->ntrials = next;
    for (int64_t i = 0; i < r->ntrials; i++)
        if (r->trials[i].id != i)
            return hp_errf(err, "results file %s: /trials row %lld holds trial id %lld (damaged file?)", path,
                           (long long)i, (long long)r->trials[i].id);
    return 0;
}

/* The latest valid checkpoint of every unfinished trial (a kill mid-write can leave two). */
static int load_checkpoints(hp_results_reader *rd, const char *path, hp_resume *r, hp_err *err) {
    hp_checkpoint_record *ck = NULL;
    int64_t n = 0;
    if (hp_results_read_checkpoints(rd, &ck, &n, err) < 0) return -1;
    r->ckpt = hp_calloc((size_t)(r->ntrials > 0 ? r->ntrials : 1), sizeof *r->ckpt, "checkpoints", err);
    if (!r->ckpt) {
        free(ck);
        return -1;
    }
    for (int64_t i = 0; i < r->ntrials; i++) r->ckpt[i].rec.trial = -1;
    int64_t *slot = hp_calloc((size_t)(r->ntrials > 0 ? r->ntrials : 1), sizeof *slot, "checkpoints", err);
    if (!slot) {
        free(ck);
        return -1;
    }
    for (int64_t i = 0; i < r->ntrials; i++) slot[i] = -1;
    for (int64_t i = 0; i < n; i++) {
        int64_t t = ck[i].trial;
        if (t < 0 || t >= r->ntrials || hp_trial_finished(r->trials[t].status)) continue;
        if (ck[i].epochs_done < 1 || ck[i].epochs_done > r->trials[t].epochs_planned) continue;
        if (slot[t] < 0 || ck[i].epochs_done > ck[slot[t]].epochs_done) slot[t] = i;
    }
    int rc = 0;
    for (int64_t t = 0; rc == 0 && t < r->ntrials; t++) {
        if (slot[t] < 0) continue;
        hp_resume_ckpt *c = &r->ckpt[t];
        c->rec = ck[slot[t]];
        c->n = 2 * c->rec.model_floats + c->rec.optim_floats;
        if (c->n > 0) {
            c->vec = hp_calloc((size_t)c->n, sizeof(float), "a checkpoint", err);
            if (!c->vec || hp_results_read_checkpoint_state(rd, slot[t], c->vec, c->n, err) < 0) {
                rc = hp_err_prefix(err, "results file %s: checkpoint of trial %lld", path, (long long)t);
                break;
            }
        }
        r->nckpt++;
    }
    free(slot);
    free(ck);
    return rc;
}

/* Who owns each snapshot row, and the best finished trial with its snapshot. */
static int load_snapshots(hp_results_reader *rd, const char *path, hp_resume *r, hp_err *err) {
    r->nsnapshots = hp_results_read_nsnapshots(rd, err);
    if (r->nsnapshots < 0) return -1;
    r->snapshot_owner = hp_calloc((size_t)(r->nsnapshots > 0 ? r->nsnapshots : 1), sizeof(int64_t), "snapshots", err);
    if (!r->snapshot_owner) return -1;
    for (int64_t i = 0; i < r->nsnapshots; i++) r->snapshot_owner[i] = -1;
    r->best_trial = -1;
    for (int64_t i = 0; i < r->ntrials; i++) {
        const hp_trial_record *t = &r->trials[i];
        if (t->snapshot_row >= 0 && t->snapshot_row < r->nsnapshots) r->snapshot_owner[t->snapshot_row] = i;
        if (t->status == HP_TRIAL_DONE && t->best_epoch > 0 && isfinite(t->best_val_acc) &&
            (r->best_trial < 0 || hp_trial_better(t, &r->trials[r->best_trial])))
            r->best_trial = i;
    }
    r->state_size = hp_results_reader_state_size(rd);
    if (r->best_trial < 0) return 0;
    const hp_trial_record *b = &r->trials[r->best_trial];
    if (b->snapshot_row < 0 && r->nsnapshots == 0) { /* a synthetic sweep keeps no snapshots */
        r->best_trial = -1;
        return 0;
    }
    if (b->snapshot_row < 0 || b->snapshot_row >= r->nsnapshots)
        return hp_errf(err, "results file %s: the best trial %lld has no snapshot row (%lld); the file is damaged",
                       path, (long long)b->id, (long long)b->snapshot_row);
    r->best_state = hp_calloc((size_t)r->state_size, sizeof(float), "the best snapshot", err);
    if (!r->best_state) return -1;
    return hp_results_read_snapshot(rd, b->snapshot_row, r->best_state, err);
}

int hp_resume_load(const char *path, hp_resume *out, hp_err *err) {
    memset(out, 0, sizeof *out);
    out->best_trial = -1;
    hp_results_reader *rd = NULL;
    if (hp_results_open_read(path, &rd, err) < 0) return -1;
    const hp_results_header *h = hp_results_reader_header(rd);
    int rc = -1;
    out->meta = h->meta;
    const hp_param_column *cols = NULL; /* the /trials parameter columns, for the meta a writer gets */
    out->meta.nxcols = hp_results_reader_param_columns(rd, &cols);
    for (int i = 0; i < out->meta.nxcols && i < HP_MAX_XCOLS; i++) out->meta.xcols[i] = cols[i];
    out->spec_text = hp_calloc((size_t)h->meta.spec_len + 1, 1, "the spec text", err);
    if (!out->spec_text) goto done;
    if (h->meta.spec_len) memcpy(out->spec_text, h->meta.spec_yaml, (size_t)h->meta.spec_len);
    out->meta.spec_yaml = out->spec_text;
    hp_final_record *final = NULL;
    if (hp_results_read_trials(rd, &out->trials, &out->ntrials, err) < 0 ||
        hp_results_read_stages(rd, &out->stages, &out->nstages, err) < 0 ||
        hp_results_read_curves(rd, &out->curves, &out->ncurves, err) < 0 ||
        hp_results_read_final(rd, &final, &out->nfinal, err) < 0)
        goto done;
    free(final);
    if (check_tables(path, out, err) < 0 || load_checkpoints(rd, path, out, err) < 0 ||
        load_snapshots(rd, path, out, err) < 0)
        goto done;
    rc = 0;
done:
    hp_results_close_read(rd);
    if (rc < 0) hp_resume_free(out);
    return rc;
}
