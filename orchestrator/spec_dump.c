/* spec_dump.c - hp_spec_dump: a resolved spec (every default filled in) written as YAML that
 * hp_spec_parse reads back to the same values. Each section is written with exactly the keys
 * its variant (data format, layer, optimizer, schedule type) takes. */
#include <errno.h>
#include <string.h>

#include "spec_parts.h"

/* A double-quoted YAML string (the parser refuses control characters, so only " and \ need
 * escaping). */
static void put_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void put_files(FILE *f, const char *key, const char files[][HP_PATH_MAX], int n) {
    fprintf(f, "  %s: [", key);
    for (int i = 0; i < n && i < HP_MAX_DATA_FILES; i++) {
        if (i) fputs(", ", f);
        put_str(f, files[i]);
    }
    fputs("]\n", f);
}

static void dump_data(const hp_data_spec *d, FILE *f) {
    fprintf(f, "data:\n  format: %s\n  dir: ", d->format);
    put_str(f, d->dir);
    fputc('\n', f);
    if (strcmp(d->format, "cifar10") == 0) {
        put_files(f, "train_files", d->train_files, d->ntrain_files);
        put_files(f, "test_files", d->test_files, d->ntest_files);
    } else {
        const char *const keys[] = {"train_images", "train_labels", "test_images", "test_labels"};
        const char *const vals[] = {d->train_images, d->train_labels, d->test_images, d->test_labels};
        for (int i = 0; i < NELEM(keys); i++) {
            fprintf(f, "  %s: ", keys[i]);
            put_str(f, vals[i]);
            fputc('\n', f);
        }
    }
    fprintf(f, "  classes: %d\n  val_size: %lld\n  train_subset: %lld\n  val_subset: %lld\n  standardize: %s\n",
            d->nclasses, (long long)d->val_size, (long long)d->train_subset, (long long)d->val_subset,
            d->standardize ? "true" : "false");
}

static void dump_search(const hp_search_spec *ss, FILE *f) {
    char a[32], b[32];
    fputs("search:\n  params:\n", f);
    for (int p = 0; p < ss->nparams; p++) {
        const hp_param_range *r = &ss->params[p];
        if (!r->enabled) continue;
        if (r->scale == HP_SCALE_CHOICE) {
            fprintf(f, "    %s: {choice: [", r->name);
            for (int i = 0; i < r->nchoices; i++) {
                if (i) fputs(", ", f);
                put_str(f, r->choices[i]);
            }
            fputs("]}\n", f);
            continue;
        }
        fprintf(f, "    %s: {low: %s, ", r->name, sy_fmt_num(r->low, a));
        fprintf(f, "high: %s, scale: %s, ", sy_fmt_num(r->high, a), hp_scale_name(r->scale));
        fprintf(f, "bounds: [%s, %s]}\n", sy_fmt_num(r->bound_low, a), sy_fmt_num(r->bound_high, b));
    }
    fprintf(f, "  keep_snapshots: %d\n  stages:\n", ss->keep_snapshots);
    for (int i = 0; i < ss->nstages; i++) {
        const hp_stage_spec *st = &ss->stages[i];
        if (st->method == HP_METHOD_PROMOTE) {
            fprintf(f, "    - {method: promote, top_k: %d, epochs: %d, train_subset: %lld}\n", st->top_k, st->epochs,
                    (long long)st->train_subset);
            continue;
        }
        if (st->method == HP_METHOD_GRID)
            fprintf(f, "    - {method: grid, points: %d, ", st->points);
        else
            fprintf(f, "    - {method: random, trials: %d, ", st->trials);
        fprintf(f, "epochs: %d, top_k: %d, margin: %s, train_subset: %lld, ", st->epochs, st->top_k,
                sy_fmt_num(st->margin, a), (long long)st->train_subset);
        fprintf(f, "prune: {rule: %s, after: %d, min_trials: %d", hp_prune_rule_name(st->prune.rule), st->prune.after,
                st->prune.min_trials);
        if (st->prune.rule == HP_PRUNE_HALVING) fprintf(f, ", eta: %d", st->prune.eta);
        fputs("}}\n", f);
    }
}

static void dump_words(const char *key, int n, const char (*w)[HP_EXT_ARG_LEN], FILE *f) {
    fprintf(f, "  %s: [", key);
    for (int i = 0; i < n; i++) {
        if (i) fputs(", ", f);
        put_str(f, w[i]);
    }
    fputs("]\n", f);
}

static void dump_external(const hp_external_spec *e, FILE *f) {
    char a[32], b[32];
    fputs("trainer:\n", f);
    dump_words("command", e->argc, e->argv, f);
    if (e->test_argc) dump_words("test", e->test_argc, e->test_argv, f);
    fputs("  objective: ", f);
    put_str(f, e->objective);
    fprintf(f, "\n  maximize: %s\n  epoch_timeout: %s\n  grace: %s\n  chdir: %s\n", e->maximize > 0 ? "true" : "false",
            sy_fmt_num(e->epoch_timeout, a), sy_fmt_num(e->grace, b), e->chdir ? "true" : "false");
    fprintf(f, "  trials_per_gpu: %d\n", e->trials_per_gpu);
    if (e->workdir[0]) {
        fputs("  workdir: ", f);
        put_str(f, e->workdir);
        fputc('\n', f);
    }
}

static void dump_final(const hp_final_spec *fs, FILE *f) { fprintf(f, "final:\n  ensemble: %d\n", fs->ensemble); }

int hp_spec_dump(const hp_spec *s, FILE *f, hp_err *err) {
    fputs("name: ", f);
    put_str(f, s->name);
    fprintf(f, "\nseed: %llu\n", (unsigned long long)s->seed);
    if (s->has_init_seed) fprintf(f, "init_seed: %llu\n", (unsigned long long)s->init_seed);
    fprintf(f, "device: %s\n", hp_device_name(s->device));
    if (!s->ext.enabled) /* an external trainer computes as it likes */
        fprintf(f, "cuda: {deterministic: %s, tf32: %s}\n", s->cuda.deterministic ? "true" : "false",
                s->cuda.allow_tf32 ? "true" : "false");
    if (s->ext.enabled) {
        dump_external(&s->ext, f);
        fprintf(f, "train:\n  epochs: %d\n  diverge_factor: %.17g\n", s->train.epochs, s->train.diverge_factor);
    } else {
        dump_data(&s->data, f);
        spec_dump_layers(&s->model, f);
        spec_dump_optim(&s->optim, f);
        spec_dump_train(&s->train, f);
    }
    if (s->has_search) dump_search(&s->search, f);
    dump_final(&s->final, f);
    if (fflush(f) != 0 || ferror(f))
        return hp_errf(err, "writing the spec '%s': %s", s->name, strerror(errno));
    return 0;
}
