/* export_spec.c - the training spec of one trial of a results file (export_spec.h). */
#include "export_spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resume.h"
#include "search.h"
#include "spec.h"

static int write_trial(const hp_resume *res, const hp_spec *spec, const char *path, int64_t id, char **out,
                       size_t *out_len, hp_err *err) {
    const hp_trial_record *r = &res->trials[id];
    if (r->status != HP_TRIAL_DONE && r->status != HP_TRIAL_PRUNED)
        return hp_errf(err, "%s: trial %lld is %s, not done or pruned: choose a trial with a score (hpsweep show %s)",
                       path, (long long)id, hp_trial_status_name((hp_trial_status)r->status), path);
    if (r->epochs_planned < 1 || r->epochs_planned > 1000000)
        return hp_errf(err, "%s: trial %lld plans %d epochs, outside 1..1000000: the file is damaged", path,
                       (long long)id, r->epochs_planned);
    double values[HP_MAX_PARAMS] = {0};
    if (hp_search_check_columns(spec, res->meta.xcols, res->meta.nxcols, path, err) != 0 ||
        hp_search_values_from_record(spec, r, values, err) != 0)
        return hp_err_prefix(err, "%s", path);
    hp_spec t;
    if (hp_spec_for_trial(spec, values, &t, err) != 0)
        return hp_err_prefix(err, "%s: trial %lld's values in the spec", path, (long long)id);
    t.has_search = 0;               /* a spec to train, not to sweep */
    t.train.epochs = r->epochs_planned;
    t.final.ensemble = 1;
    t.init_seed = r->seed; /* the trial's own initialisation, data order and dropout */
    t.has_init_seed = 1;
    /* Written to memory and read back: only a spec that loads is returned. */
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) {
        hp_spec_free(&t);
        return hp_errf(err, "out of memory writing trial %lld's spec", (long long)id);
    }
    const hp_stage_spec *st = r->stage >= 0 && r->stage < spec->search.nstages ? &spec->search.stages[r->stage] : NULL;
    fprintf(m, "# Trial %lld of the sweep %s (%s), stage %d: best validation accuracy %.4f at epoch %d of %d%s.\n",
            (long long)id, res->meta.spec_name, path, (int)r->stage, r->best_val_acc, r->best_epoch, r->epochs_planned,
            r->status == HP_TRIAL_PRUNED ? " (pruned before its last)" : "");
    fprintf(m, "# The spec the sweep ran with the trial's searched values set (hpsweep export --spec);\n"
               "# train it with: hpsweep train THIS.yaml. seed draws the sweep's train/validation split and\n"
               "# init_seed is the trial's own, so on the same device it trains the trial's epochs again.\n");
    if (st && st->train_subset > 0)
        fprintf(m, "# But its stage trained on the first %lld training examples; this spec uses the data\n"
                   "# section's, so its figures will differ.\n", (long long)st->train_subset);
    int rc = hp_spec_dump(&t, m, err);
    hp_spec_free(&t);
    if (fclose(m) != 0 && rc == 0) rc = hp_errf(err, "out of memory writing trial %lld's spec", (long long)id);
    hp_spec back;
    if (rc == 0 && hp_spec_parse(text, len, "the exported spec", &back, err) != 0)
        rc = hp_err_prefix(err, "%s: trial %lld's spec does not read back (please report this)", path, (long long)id);
    else if (rc == 0)
        hp_spec_free(&back);
    if (rc != 0) {
        free(text);
        return rc;
    }
    *out = text;
    *out_len = len;
    return 0;
}

int hp_export_trial_spec(const char *path, int64_t trial, char **text, size_t *len, int64_t *which, hp_err *err) {
    *text = NULL;
    *len = 0;
    hp_resume res;
    if (hp_resume_load(path, &res, err) != 0) return -1;
    hp_spec spec;
    const char *name = res.meta.spec_path[0] ? res.meta.spec_path : path;
    int rc = hp_spec_parse(res.spec_text, res.meta.spec_len, name, &spec, err);
    if (rc != 0) {
        hp_err_prefix(err, "the spec stored in %s", path);
    } else {
        int64_t id = trial >= 0 ? trial : res.best_trial;
        if (spec.ext.enabled)
            rc = hp_errf(err, "%s: an external trainer's sweep has no model section to write; its trials' values are in "
                         "/trials (hpsweep show %s --json, or export --csv)", path, path);
        else if (!spec.has_search)
            rc = hp_errf(err, "%s: the stored spec has no search: section", path);
        else if (id < 0)
            rc = hp_errf(err, "%s: no trial is done or pruned with a score (yet): no spec to export", path);
        else if (id >= res.ntrials)
            rc = hp_errf(err, "%s: --trial %lld: the file has %lld trials (0 to %lld)", path, (long long)id,
                         (long long)res.ntrials, (long long)res.ntrials - 1);
        else
            rc = write_trial(&res, &spec, path, id, text, len, err);
        *which = id;
        hp_spec_free(&spec);
    }
    hp_resume_free(&res);
    return rc;
}
