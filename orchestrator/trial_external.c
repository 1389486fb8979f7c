/* trial_external.c - a trial trained by the spec's trainer: program (trial.h's
 * hp_trial_external; the protocol: docs/external.md; the runner: trainer/external.h).
 *
 * Each metrics line becomes an epoch of the trial exactly as the built-in trainer's would: the
 * coordinator records it and answers with a verdict; a divergence (a loss or the objective not
 * finite, or the training loss above train.diverge_factor times the first epoch's) or a pruning
 * verdict ends the program. The trial's score (/trials.best_val_acc, /curves.val_acc) is the
 * objective, negated when lower is better, so that the one ranking rule (higher wins) holds.
 * Checkpoints carry no vector: the program keeps its own state in its folder; hpsweep's
 * checkpoint says how many epochs it recorded, which a resumed trial is told. Also a rank's
 * setup before any trial (hp_trial_external_setup: the trials' folder, the programs checked,
 * the GPU its programs see). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "external.h"
#include "gpu_device.h"
#include "hp_time.h"
#include "trial.h"

typedef struct ext_ctx {
    const hp_spec *spec;
    const hp_trial_plan *plan;
    const hp_trial_start *st;
    const hp_trial_hooks *hooks;
    hp_trial_result *res;
    double t0;
    int hook_failed; /* on_epoch's hooks failed: err holds why */
    int aborted;     /* the coordinator said ABORT (the sweep stops) */
} ext_ctx;

/* The command of the spec as the runner takes it (argv points into the spec). */
static void command_of(const hp_external_spec *e, int test, hp_ext_command *c, char **argv) {
    int n = test && e->test_argc ? e->test_argc : e->argc;
    for (int i = 0; i < n; i++) argv[i] = (char *)(test && e->test_argc ? e->test_argv[i] : e->argv[i]);
    argv[n] = NULL;
    *c = (hp_ext_command){.argc = n, .argv = argv, .epoch_timeout_s = test ? 0 : e->epoch_timeout,
                          .grace_s = e->grace, .objective = e->objective, .maximize = e->maximize};
}

/* GPUs on this node without opening one: the CUDA backend's count, else the /dev/nvidiaN nodes
 * (a build without CUDA can still hand GPUs to programs that use them). */
static int node_gpus(void) {
    int n = hp_gpu_visible();
    if (n > 0) return n;
    for (int i = 0; i < 64; i++) {
        char dev[32];
        snprintf(dev, sizeof dev, "/dev/nvidia%d", i);
        struct stat sb;
        if (stat(dev, &sb) != 0) break;
        n = i + 1;
    }
    return n;
}

/* What CUDA_VISIBLE_DEVICES each of this rank's programs gets, by the built-in trainer's rule
 * (device_pick.h: local rank modulo the node's GPUs; an inherited list is indexed, not replaced):
 * device cpu hides every GPU (""); no GPU leaves it as inherited ("-"). */
static int choose_gpu(hp_spec *spec, int local_rank, hp_err *err) {
    hp_external_spec *e = &spec->ext;
    snprintf(e->cuda_visible, sizeof e->cuda_visible, "-");
    if (spec->device == HP_DEVICE_CPU) {
        e->cuda_visible[0] = '\0';
        return 0;
    }
    int n = node_gpus();
    const char *inherited = getenv("CUDA_VISIBLE_DEVICES");
    if (inherited && *inherited) { /* "2,3": the programs see those; rank k gets entry k mod their count */
        int count = 1;
        for (const char *c = inherited; *c; c++) count += *c == ',';
        n = count;
    }
    if (n == 0) {
        if (spec->device == HP_DEVICE_CUDA)
            return hp_errf(err, "%s: device: cuda, but this node has no GPU (no /dev/nvidia0, CUDA_VISIBLE_DEVICES "
                           "empty); use device: auto or cpu", spec->path);
        return 0;
    }
    int k = local_rank % n;
    if (inherited && *inherited) {
        const char *c = inherited;
        for (int i = 0; i < k; i++) c = strchr(c, ',') + 1;
        snprintf(e->cuda_visible, sizeof e->cuda_visible, "%.*s", (int)strcspn(c, ","), c);
    } else {
        snprintf(e->cuda_visible, sizeof e->cuda_visible, "%d", k);
    }
    return 0;
}

/* The folder of the trials' folders: trainer.workdir, else the results file's path without .h5
 * plus ".trials"; absolute, created. The program and its test command must start: each is
 * checked as its runs will use it (command_of). */
static int prepare_folder(hp_spec *spec, const char *path, hp_err *err) {
    hp_external_spec *e = &spec->ext;
    char base[HP_PATH_MAX + 16], cwd[HP_PATH_MAX];
    size_t n = strlen(path);
    if (e->workdir[0]) snprintf(base, sizeof base, "%s", e->workdir);
    else if (n > 3 && !strcmp(path + n - 3, ".h5")) snprintf(base, sizeof base, "%.*s.trials", (int)(n - 3), path);
    else snprintf(base, sizeof base, "%.*s.trials", (int)(n < HP_PATH_MAX ? n : HP_PATH_MAX), path);
    if (base[0] != '/' && !getcwd(cwd, sizeof cwd))
        return hp_errf(err, "cannot tell the working folder: %s", strerror(errno));
    int w = base[0] == '/' ? snprintf(e->run_workdir, sizeof e->run_workdir, "%s", base)
                           : snprintf(e->run_workdir, sizeof e->run_workdir, "%s/%s", cwd, base);
    if (w < 0 || (size_t)w >= sizeof e->run_workdir)
        return hp_errf(err, "the trials' folder %s is too long; set trainer.workdir", base);
    if (mkdir(e->run_workdir, 0755) != 0 && errno != EEXIST)
        return hp_errf(err, "cannot make the trials' folder %s: %s (set trainer.workdir to a folder you can write)",
                       e->run_workdir, strerror(errno));
    const char *names[HP_MAX_PARAMS];
    int k = 0;
    for (int p = 0; p < spec->search.nparams; p++)
        if (spec->search.params[p].enabled) names[k++] = spec->search.params[p].name;
    for (int test = 0; test < 2; test++) {
        char *argv[HP_EXT_MAX_ARGS + 1];
        hp_ext_command c;
        command_of(e, test, &c, argv);
        if (hp_ext_check(&c, k, names, err) != 0)
            return hp_err_prefix(err, "%s: trainer.%s", spec->path, test && e->test_argc ? "test" : "command");
    }
    return 0;
}

int hp_trial_external_setup(hp_spec *spec, const char *results_path, int local_rank, hp_err *err) {
    return prepare_folder(spec, results_path, err) != 0 || choose_gpu(spec, local_rank, err) != 0 ? -1 : 0;
}

int hp_trial_external_dir(const hp_spec *spec, int64_t trial, char *out, size_t cap, hp_err *err) {
    int w = snprintf(out, cap, "%s/trial-%06lld", spec->ext.run_workdir, (long long)trial);
    if (w < 0 || (size_t)w >= cap)
        return hp_errf(err, "%s: the trial folder under '%s' is too long (%d bytes); set trainer.workdir to a shorter "
                       "path", spec->path, spec->ext.run_workdir, w);
    return 0;
}

/* The trial's parameters as the program gets them: every searched one, by its name. */
static int params_of(const hp_spec *spec, const double *values, hp_ext_param *p, char (*text)[HP_CHOICE_TEXT + 32]) {
    int n = 0;
    for (int i = 0; i < spec->search.nparams; i++) {
        const hp_param_range *r = &spec->search.params[i];
        if (!r->enabled) continue;
        p[n].name = r->name;
        p[n].value = hp_param_text(r, values[i], text[n], sizeof text[n]);
        n++;
    }
    return n;
}

static int on_line(void *vctx, const hp_ext_epoch *e, hp_err *err) {
    ext_ctx *x = vctx;
    const hp_spec *spec = x->spec;
    hp_trial_result *res = x->res;
    hp_epoch_metrics m;
    memset(&m, 0, sizeof m);
    m.epoch = e->epoch;
    m.lr = spec->search.params[HP_PARAM_LR].enabled ? x->plan->values[HP_PARAM_LR] : NAN;
    m.train_loss = e->train_loss;
    m.train_acc = e->train_acc;
    m.val_loss = e->val_loss;
    m.val_acc = spec->ext.maximize > 0 ? e->objective : -e->objective; /* the score: higher is better */
    m.seconds = e->seconds;
    m.update_ratio = NAN;
    /* Divergence: a loss reported as NaN or infinite, an objective that is not finite, or the
     * training loss past diverge_factor times the first epoch's. */
    int has_tl = (e->present & HP_EXT_HAS_TRAIN_LOSS) != 0, has_vl = (e->present & HP_EXT_HAS_VAL_LOSS) != 0;
    if (has_tl && isnan(res->initial_loss) && isfinite(e->train_loss)) res->initial_loss = e->train_loss;
    const char *why = NULL;
    double bad = 0;
    if (!isfinite(e->objective)) why = "the objective", bad = e->objective;
    else if (has_tl && !isfinite(e->train_loss)) why = "the training loss", bad = e->train_loss;
    else if (has_vl && !isfinite(e->val_loss)) why = "the validation loss", bad = e->val_loss;
    m.diverged = why || (has_tl && isfinite(res->initial_loss) && res->initial_loss > 0 &&
                         e->train_loss > spec->train.diverge_factor * res->initial_loss);
    int v = x->hooks->on_epoch(x->hooks->ctx, x->plan, &m, err);
    if (v < 0) {
        x->hook_failed = 1;
        return -1;
    }
    if (v == HP_VERDICT_ABORT) {
        x->aborted = 1;
        return 1;
    }
    res->epochs_done = e->epoch;
    if (m.diverged) {
        res->status = HP_TRIAL_DIVERGED;
        if (why)
            snprintf(res->message, sizeof res->message, "%s is %g at epoch %d", why, bad, e->epoch);
        else
            snprintf(res->message, sizeof res->message, "train loss %.4g against %.4g at the first epoch",
                     e->train_loss, res->initial_loss);
        return 1;
    }
    if (!(m.val_acc <= res->best_val_acc)) {
        res->best_val_acc = m.val_acc;
        res->best_val_loss = m.val_loss;
        res->best_epoch = e->epoch;
    }
    if (v == HP_VERDICT_STOP) {
        res->status = HP_TRIAL_PRUNED;
        return 1;
    }
    if (x->hooks->on_checkpoint && x->st->checkpoint_every > 0 && e->epoch % x->st->checkpoint_every == 0 &&
        e->epoch < x->plan->epochs &&
        hp_trial_send_bare_checkpoint(x->plan, x->hooks, res, e->epoch, m.lr,
                                      x->st->seconds_before + hp_now_seconds() - x->t0, err) != 0) {
        x->hook_failed = 1;
        return -1;
    }
    return 0;
}

int hp_trial_external(const hp_spec *spec, const hp_trial_plan *plan, const hp_trial_start *st,
                      const hp_trial_hooks *hooks, hp_trial_result *res, int *cancelled, hp_err *err) {
    double t0 = hp_now_seconds();
    char dir[HP_PATH_MAX + 32], text[HP_MAX_PARAMS][HP_CHOICE_TEXT + 32];
    char *argv[HP_EXT_MAX_ARGS + 1];
    hp_ext_param params[HP_MAX_PARAMS];
    hp_ext_command cmd;
    command_of(&spec->ext, 0, &cmd, argv);
    hp_ext_trial t = {.id = plan->id, .seed = plan->seed, .epochs = plan->epochs, .workdir = dir, .mode = "train",
                      .stay = !spec->ext.chdir};
    t.nparams = params_of(spec, plan->values, params, text);
    t.params = params;
    t.cuda_visible = strcmp(spec->ext.cuda_visible, "-") ? spec->ext.cuda_visible : NULL;
    res->initial_loss = NAN;
    if (st->resume && st->resume->epochs_done > 0 && st->resume->epochs_done < plan->epochs) {
        t.resume_epoch = st->resume->epochs_done;
        res->epochs_done = st->resume->epochs_done;
        res->initial_loss = st->resume->initial_loss;
        res->best_epoch = st->resume->best_epoch;
        if (res->best_epoch > 0) {
            res->best_val_acc = st->resume->best_val_acc;
            res->best_val_loss = st->resume->best_val_loss;
        }
    }
    ext_ctx x = {spec, plan, st, hooks, res, t0, 0, 0};
    hp_ext_result out;
    hp_err rerr = {{0}};
    int rc = hp_trial_external_dir(spec, plan->id, dir, sizeof dir, &rerr);
    if (rc == 0) rc = hp_ext_run(&cmd, &t, on_line, &x, st->cancel, &out, &rerr);
    if (x.hook_failed) {
        *err = rerr;
        return -1;
    }
    if (x.aborted || (rc == 0 && out.status == HP_EXT_CANCELLED)) return *cancelled = 1, 0;
    if (rc != 0) { /* it could not start (checked before the sweep, so something changed since) */
        res->status = HP_TRIAL_FAILED;
        snprintf(res->message, sizeof res->message, "%.127s", rerr.msg);
    } else if (out.status == HP_EXT_FAILED) {
        res->status = HP_TRIAL_FAILED;
        snprintf(res->message, sizeof res->message, "%s", out.message);
    } else if (out.status == HP_EXT_DONE) {
        res->status = HP_TRIAL_DONE;
    } /* HP_EXT_STOPPED: on_line set pruned or diverged */
    res->seconds = st->seconds_before + hp_now_seconds() - t0;
    return hooks->on_result(hooks->ctx, plan, res, NULL, 0, err);
}

int hp_trial_external_test(const hp_spec *spec, const hp_trial_plan *plan, double *test_loss, double *test_acc,
                           hp_err *err) {
    char dir[HP_PATH_MAX + 32], text[HP_MAX_PARAMS][HP_CHOICE_TEXT + 32];
    char *argv[HP_EXT_MAX_ARGS + 1];
    hp_ext_param params[HP_MAX_PARAMS];
    hp_ext_command cmd;
    command_of(&spec->ext, 1, &cmd, argv);
    hp_ext_trial t = {.id = plan->id, .seed = plan->seed, .epochs = plan->epochs, .resume_epoch = plan->epochs,
                      .workdir = dir, .mode = "test", .stay = !spec->ext.chdir};
    t.nparams = params_of(spec, plan->values, params, text);
    t.params = params;
    t.cuda_visible = strcmp(spec->ext.cuda_visible, "-") ? spec->ext.cuda_visible : NULL;
    if (hp_trial_external_dir(spec, plan->id, dir, sizeof dir, err) != 0) return -1;
    hp_ext_result out;
    if (hp_ext_run(&cmd, &t, NULL, NULL, NULL, &out, err) != 0)
        return hp_err_prefix(err, "the test command of trial %lld", (long long)plan->id);
    if (out.status != HP_EXT_DONE)
        return hp_errf(err, "the test command of trial %lld (in %s): %s", (long long)plan->id, dir,
                       out.message[0] ? out.message : "it did not finish");
    *test_loss = out.test_loss;
    *test_acc = out.test_acc;
    return 0;
}
