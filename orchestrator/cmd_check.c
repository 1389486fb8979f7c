/* cmd_check.c - `hpsweep check SPEC.yaml`: the sanity checks of the recipe before a sweep.
 *
 * 1. The spec parses and validates; the data loads; the model fits the data.
 * 2. The initial loss is near ln(classes) (a model that starts far from it is mis-initialised).
 * 3. The model can overfit a tiny subset (64 examples) to 100% training accuracy with
 *    regularisation off: if it cannot, something is wrong before any tuning can help.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cpu_threads.h"
#include "cli.h"
#include "dataload.h"
#include "device_pick.h"
#include "spec.h"
#include "train.h"

static void check_usage(FILE *f) {
    fprintf(f,
            "usage: hpsweep check SPEC.yaml [--no-overfit] [--dump]\n"
            "\n"
            "Validate the spec, load the data, build the model, and run the recipe's sanity checks:\n"
            "the initial loss should be near ln(classes), and the model should overfit 64 training\n"
            "examples (weight decay, dropout and augmentation off) to 100%% training accuracy within\n"
            "200 steps. Both run on the spec's device (device:, cuda:).\n"
            "Exit code 0 when every check passes, 1 when one fails (or the device cannot be used), 2 for\n"
            "a bad spec.\n"
            "\n"
            "  --dump   only validate the spec and print it with every default filled in (YAML that\n"
            "           hpsweep reads back to the same values); no data, no device, no checks\n");
}

typedef struct check_args {
    const char *path;
    int overfit, dump;
} check_args;

/* Fill *a from argv. Returns -1 to go on, else the exit code (after --help, or a usage error). */
static int parse_args(int argc, char **argv, check_args *a) {
    const char *cmd = "check";
    *a = (check_args){.path = NULL, .overfit = 1, .dump = 0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            check_usage(stdout);
            return HP_EXIT_OK;
        } else if (strcmp(argv[i], "--no-overfit") == 0) {
            a->overfit = 0;
        } else if (strcmp(argv[i], "--dump") == 0) {
            a->dump = 1;
        } else if (argv[i][0] == '-') {
            hp_cli_error(cmd, "unknown option '%s' (see 'hpsweep check --help')", argv[i]);
            return HP_EXIT_USAGE;
        } else if (a->path) {
            hp_cli_error(cmd, "one spec file expected, got '%s' and '%s'", a->path, argv[i]);
            return HP_EXIT_USAGE;
        } else {
            a->path = argv[i];
        }
    }
    if (!a->path) {
        check_usage(stderr);
        return HP_EXIT_USAGE;
    }
    return -1;
}

/* Build the spec's model, print its tensors, and check its initial loss. Returns HP_EXIT_OK,
 * HP_EXIT_FAILURE (the initial loss is off), or HP_EXIT_USAGE (the model does not fit the data). */
static int check_model(hp_gpu_device *gpu, const hp_spec *spec, const hp_splits *data, const char *path) {
    hp_err err = {{0}};
    hp_trainer *t = NULL;
    if (hp_trainer_create_on(gpu, &spec->model, &spec->optim, &spec->train, &data->train, &data->val, spec->seed, &t,
                             &err) != 0) {
        hp_cli_error("check", "%s: %s", path, err.msg);
        return HP_EXIT_USAGE;
    }
    hp_model *m = hp_trainer_model(t);
    const hp_tensor_info *layout = NULL;
    int nt = hp_model_layout(m, &layout);
    printf("model: %lld parameters in %d tensors\n", (long long)hp_model_param_count(m), nt);
    for (int i = 0; i < nt; i++) {
        printf("  %-24s [", layout[i].name);
        for (int d = 0; d < layout[i].ndim; d++) printf("%s%lld", d ? ", " : "", (long long)layout[i].shape[d]);
        printf("]%s\n", layout[i].is_buffer ? " (buffer)" : "");
    }
    double init = hp_trainer_initial_loss(t), expect = log((double)spec->data.nclasses);
    int init_ok = fabs(init - expect) <= 0.25 * expect;
    printf("%s initial loss %.4f, expected about ln(%d) = %.4f\n", init_ok ? "ok:  " : "FAIL:", init,
           spec->data.nclasses, expect);
    hp_trainer_free(t);
    return init_ok ? HP_EXIT_OK : HP_EXIT_FAILURE;
}

/* 64 examples, every regulariser off (weight decay, dropout, augmentation, schedule, early
 * stopping), up to 200 full-batch steps at the spec's learning rate: training accuracy must
 * reach 100%. Returns HP_EXIT_OK or HP_EXIT_FAILURE. */
static int check_overfit(hp_gpu_device *gpu, const hp_spec *spec, const hp_splits *data) {
    hp_dataset tiny = data->train;
    tiny.n = data->train.n < 64 ? data->train.n : 64;
    hp_optim_spec optim = spec->optim;
    optim.weight_decay = 0;
    hp_model_spec model = spec->model;
    for (int i = 0; i < model.nlayers; i++)
        if (model.layers[i].type == HP_LAYER_DROPOUT) model.layers[i].p = 0;
    hp_train_spec ts = spec->train;
    ts.batch_size = (int)tiny.n;
    ts.epochs = 200;
    ts.diverge_factor = 1e30;
    ts.patience = 0;
    memset(&ts.augment, 0, sizeof ts.augment);
    memset(&ts.schedule, 0, sizeof ts.schedule); /* constant */
    hp_err err = {{0}};
    hp_trainer *t = NULL;
    if (hp_trainer_create_on(gpu, &model, &optim, &ts, &tiny, &tiny, spec->seed, &t, &err) != 0) {
        hp_cli_error("check", "%s", err.msg);
        return HP_EXIT_FAILURE;
    }
    hp_epoch_metrics em = {0};
    int steps = 0;
    for (steps = 1; steps <= 200; steps++) {
        if (hp_trainer_epoch(t, &em, &err) != 0) {
            hp_cli_error("check", "overfit check: %s", err.msg);
            hp_trainer_free(t);
            return HP_EXIT_FAILURE;
        }
        if (em.val_acc >= 1.0) break;
    }
    hp_trainer_free(t);
    int ok = em.val_acc >= 1.0;
    printf("%s overfit %lld examples: training accuracy %.4f, loss %.4g after %d steps at lr %g\n",
           ok ? "ok:  " : "FAIL:", (long long)tiny.n, em.val_acc, em.val_loss, steps > 200 ? 200 : steps, optim.lr);
    if (ok) return HP_EXIT_OK;
    printf("      a model that cannot memorise 64 examples has a bug or a bad learning rate\n");
    return HP_EXIT_FAILURE;
}

/* check --dump: the resolved spec, every default filled in. */
static int dump_spec(const hp_spec *spec) {
    hp_err err = {{0}};
    int rc = hp_spec_dump(spec, stdout, &err);
    if (rc != 0) fprintf(stderr, "hpsweep check: %s\n", err.msg);
    return rc == 0 ? HP_EXIT_OK : HP_EXIT_FAILURE;
}

int hp_cmd_check(int argc, char **argv) {
    const char *cmd = "check";
    check_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;
    hp_cpu_set_threads(hp_cpu_default_threads());
    hp_err err = {{0}};
    hp_spec spec;
    if (hp_spec_load(a.path, &spec, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return HP_EXIT_USAGE;
    }
    if (a.dump) {
        rc = dump_spec(&spec);
        hp_spec_free(&spec);
        return rc;
    }
    if (spec.ext.enabled) { /* nothing of hpsweep's own to train: the program is checked when a sweep starts */
        printf("spec: %s is valid (an external trainer: %s%s)\n", a.path, spec.ext.argv[0],
               spec.has_search ? ", with a search" : ", no search: section");
        hp_spec_free(&spec);
        return HP_EXIT_OK;
    }
    printf("spec: %s is valid (%d layers%s)\n", a.path, spec.model.nlayers,
           spec.has_search ? ", with a search" : ", no search: section");
    /* The checks run where the sweep's trials would: the spec's device (one process: node-local
     * rank 0). */
    hp_gpu_device *gpu = NULL;
    if (hp_device_open(spec.device, &spec.cuda, 0, &gpu, &err) != 0) {
        hp_cli_error(cmd, "%s: %s", a.path, err.msg);
        hp_spec_free(&spec);
        return HP_EXIT_FAILURE;
    }
    char device_line[192];
    hp_device_describe(gpu, device_line, sizeof device_line);
    printf("device: %s\n", device_line);
    hp_splits data;
    if (hp_splits_load(&spec, 0, &data, &err) != 0) {
        hp_cli_error(cmd, "%s", err.msg);
        hp_device_close(gpu);
        hp_spec_free(&spec);
        return HP_EXIT_FAILURE;
    }
    printf("data: %lld train, %lld validation examples of %dx%dx%d\n", (long long)data.train.n,
           (long long)data.val.n, data.train.c, data.train.h, data.train.w);
    rc = check_model(gpu, &spec, &data, a.path);
    if (rc != HP_EXIT_USAGE && a.overfit) {
        int orc = check_overfit(gpu, &spec, &data);
        if (orc != HP_EXIT_OK) rc = orc;
    }
    hp_device_close(gpu); /* after every trainer on it */
    hp_splits_free(&data);
    hp_spec_free(&spec);
    return rc;
}
