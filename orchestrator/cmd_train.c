/* cmd_train.c - `hpsweep train SPEC.yaml`: train one model, no search.
 *
 * Prints the resolved configuration, one line per epoch, and at the end the best epoch on
 * validation and that snapshot's accuracy on the test split (read once, at the end).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cpu_threads.h"
#include "cli.h"
#include "dataload.h"
#include "device_pick.h"
#include "spec.h"
#include "train.h"
#include "hp_time.h"

static void train_usage(FILE *f) {
    fprintf(f,
            "usage: hpsweep train SPEC.yaml [--lr X] [--wd Y] [--epochs N] [--seed S] [--threads T]\n"
            "                     [--device auto|cpu|cuda] [--no-test]\n"
            "\n"
            "Train one model as the spec's data, model, optimizer and train sections describe\n"
            "(any search: section is ignored), print one line per epoch, then evaluate the\n"
            "best-on-validation snapshot on the test split.\n"
            "\n"
            "options:\n"
            "  --lr X        learning rate (overrides optimizer.lr)\n"
            "  --wd Y        weight decay (overrides optimizer.weight_decay)\n"
            "  --epochs N    epochs (overrides train.epochs)\n"
            "  --seed S      seed of the split, initialisation and data order (overrides seed and\n"
            "                init_seed)\n"
            "  --threads T   compute threads (default: OPENBLAS_NUM_THREADS, else OMP_NUM_THREADS, else\n"
            "                all cores); results do not depend on it\n"
            "  --device D    auto, cpu or cuda (overrides device; auto: the first visible GPU, else the\n"
            "                CPU); the spec's cuda: section says how a GPU trains\n"
            "  --no-test     do not touch the test split\n"
            "  -h, --help    this text\n");
}

/* One line each for the optimizer (with the fields its type uses) and the training loop. */
static void print_optimizer(const hp_spec *spec) {
    const hp_optim_spec *o = &spec->optim;
    printf("optimizer: %s lr %g", hp_optim_type_name(o->type), o->lr);
    switch (o->type) {
    case HP_OPTIM_SGD: printf(" momentum %g%s", o->momentum, o->nesterov ? " (nesterov)" : ""); break;
    case HP_OPTIM_ADAM:
    case HP_OPTIM_ADAMW: printf(" betas (%g, %g) eps %g", o->beta1, o->beta2, o->eps); break;
    case HP_OPTIM_RMSPROP: printf(" alpha %g eps %g momentum %g", o->alpha, o->eps, o->momentum); break;
    case HP_OPTIM_ADAGRAD: printf(" eps %g", o->eps); break;
    default: break;
    }
    printf(" weight decay %g%s\n", o->weight_decay, o->type == HP_OPTIM_ADAMW ? " (decoupled)" : "");
    const hp_train_spec *t = &spec->train;
    const hp_augment_spec *a = &t->augment;
    printf("training: batch %d, %d epochs, seed %llu", t->batch_size, t->epochs, (unsigned long long)spec->seed);
    if (spec->has_init_seed) printf(" (init_seed %llu)", (unsigned long long)spec->init_seed);
    printf(", schedule %s", hp_sched_type_name(t->schedule.type));
    if (t->schedule.warmup_epochs > 0) printf(" after %d warm-up epochs", t->schedule.warmup_epochs);
    if (hp_augment_active(a))
        printf(", augment%s%s%s", a->flip ? " flip" : "", a->shift ? " shift" : "", a->cutout ? " cutout" : "");
    if (t->patience > 0) printf(", early stop after %d epochs without improvement", t->patience);
    printf("\n");
}

/* What the command line asks for: the spec and the values that override it. */
typedef struct train_args {
    const char *spec_path;
    double lr, wd;         /* < 0: the spec's */
    long long epochs;      /* 0: the spec's */
    long long threads;     /* 0: the default */
    uint64_t seed;
    int have_seed, have_device, no_test;
    hp_device device;
} train_args;

/* Fill *a from argv. Returns -1 to go on, else the exit code (after --help, or a usage error). */
static int parse_args(int argc, char **argv, train_args *a) {
    const char *cmd = "train", *val = NULL;
    *a = (train_args){.lr = -1, .wd = -1, .device = HP_DEVICE_AUTO};
    for (int i = 1; i < argc; i++) {
        int r;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            train_usage(stdout);
            return HP_EXIT_OK;
        } else if ((r = hp_cli_opt(argc, argv, &i, cmd, "--lr", NULL, 1, &val)) != 0) {
            if (r < 0 || hp_cli_double(cmd, "--lr", val, &a->lr) != 0) return HP_EXIT_USAGE;
            if (a->lr <= 0) return hp_cli_error(cmd, "--lr must be > 0, got %s", val), HP_EXIT_USAGE;
        } else if ((r = hp_cli_opt(argc, argv, &i, cmd, "--wd", NULL, 1, &val)) != 0) {
            if (r < 0 || hp_cli_double(cmd, "--wd", val, &a->wd) != 0) return HP_EXIT_USAGE;
            if (a->wd < 0) return hp_cli_error(cmd, "--wd must be >= 0, got %s", val), HP_EXIT_USAGE;
        } else if ((r = hp_cli_opt(argc, argv, &i, cmd, "--epochs", NULL, 1, &val)) != 0) {
            if (r < 0 || hp_cli_int(cmd, "--epochs", val, 1, 1000000, &a->epochs) != 0) return HP_EXIT_USAGE;
        } else if ((r = hp_cli_opt(argc, argv, &i, cmd, "--threads", NULL, 1, &val)) != 0) {
            if (r < 0 || hp_cli_int(cmd, "--threads", val, 1, 4096, &a->threads) != 0) return HP_EXIT_USAGE;
        } else if ((r = hp_cli_opt(argc, argv, &i, cmd, "--seed", NULL, 1, &val)) != 0) {
            if (r < 0 || hp_cli_u64(cmd, "--seed", val, &a->seed) != 0) return HP_EXIT_USAGE;
            a->have_seed = 1;
        } else if ((r = hp_cli_opt(argc, argv, &i, cmd, "--device", NULL, 1, &val)) != 0) {
            if (r < 0) return HP_EXIT_USAGE;
            if (hp_device_parse(val, &a->device) != 0)
                return hp_cli_error(cmd, "--device expects auto, cpu or cuda, got '%s'", val), HP_EXIT_USAGE;
            a->have_device = 1;
        } else if (strcmp(argv[i], "--no-test") == 0) {
            a->no_test = 1;
        } else if (argv[i][0] == '-') {
            hp_cli_error(cmd, "unknown option '%s' (see 'hpsweep train --help')", argv[i]);
            return HP_EXIT_USAGE;
        } else if (a->spec_path) {
            hp_cli_error(cmd, "one spec file expected, got '%s' and '%s'", a->spec_path, argv[i]);
            return HP_EXIT_USAGE;
        } else {
            a->spec_path = argv[i];
        }
    }
    if (!a->spec_path) {
        train_usage(stderr);
        return HP_EXIT_USAGE;
    }
    return -1;
}

/* Read the spec with the command line's values in place. The search: section is not read (train
 * ignores it), and --epochs is set before the spec's checks across sections (the warm-up must
 * be shorter than the epochs that will run, not than the spec's). */
static int load_spec(const train_args *a, hp_spec *spec, hp_err *err) {
    hp_spec_read_opts ro = {.skip_search = 1, .epochs = (int)a->epochs};
    if (hp_spec_load_with(a->spec_path, &ro, spec, err) != 0) return -1;
    if (spec->ext.enabled) {
        hp_spec_free(spec);
        return hp_errf(err, "%s has a trainer: section (your own program); train runs the built-in trainer only: "
                       "run your program directly, or sweep it with 'hpsweep run %s'", a->spec_path, a->spec_path);
    }
    if (a->lr > 0) spec->optim.lr = a->lr;
    if (a->wd >= 0) spec->optim.weight_decay = a->wd;
    if (a->have_seed) spec->seed = a->seed, spec->has_init_seed = 0; /* --seed: both */
    if (a->have_device) spec->device = a->device;
    return 0;
}

/* The data, optimizer, backend and device lines before training. */
static void print_setup(const hp_spec *spec, const hp_splits *data, hp_gpu_device *gpu, double load_seconds) {
    char device_line[192];
    hp_device_describe(gpu, device_line, sizeof device_line);
    char backend[256];
    hp_cpu_describe(backend, sizeof backend);
    printf("data: %lld train, %lld validation, %lld test examples of %dx%dx%d, %d classes (%.2f s)\n",
           (long long)data->train.n, (long long)data->val.n, (long long)data->test.n, data->train.c,
           data->train.h, data->train.w, spec->data.nclasses, load_seconds);
    print_optimizer(spec);
    printf("backend: %s\ndevice: %s\n", backend, device_line);
}

/* Train epoch by epoch, one line each, until the last, an early stop or a divergence. Returns
 * HP_EXIT_OK (training seconds in *total), or HP_EXIT_FAILURE after a message. */
static int train_epochs(hp_trainer *t, const hp_spec *spec, double *total) {
    hp_err err = {{0}};
    *total = 0;
    for (int e = 0; e < spec->train.epochs; e++) {
        hp_epoch_metrics m;
        if (hp_trainer_epoch(t, &m, &err) != 0) {
            hp_cli_error("train", "epoch %d: %s", e + 1, err.msg);
            return HP_EXIT_FAILURE;
        }
        *total += m.seconds;
        printf("epoch %3d/%d  lr %.3g  train loss %.4f acc %.4f  val loss %.4f acc %.4f  update/weight %.1e  "
               "%.2f s\n",
               m.epoch, spec->train.epochs, m.lr, m.train_loss, m.train_acc, m.val_loss, m.val_acc, m.update_ratio,
               m.seconds);
        fflush(stdout);
        if (m.stop_early) {
            printf("early stop: no better validation accuracy for %d epochs (train.patience)\n", spec->train.patience);
            break;
        }
        if (m.diverged) {
            printf("diverged: the training loss became non-finite or exceeded %g x the initial loss; "
                   "lower the learning rate\n",
                   spec->train.diverge_factor);
            return HP_EXIT_FAILURE;
        }
    }
    return HP_EXIT_OK;
}

/* The best epoch on validation, and (unless no_test) its snapshot on the test split, once. */
static int report_best(hp_trainer *t, const hp_spec *spec, const hp_splits *data, double total, int no_test) {
    int best_epoch = 0;
    double best_acc = 0, best_loss = 0;
    const float *best = hp_trainer_best_state(t, &best_epoch, &best_acc, &best_loss);
    printf("best: epoch %d, val acc %.4f, val loss %.4f; training took %.1f s (%.0f images/s)\n", best_epoch,
           best_acc, best_loss, total, total > 0 ? (double)data->train.n * spec->train.epochs / total : 0.0);
    if (no_test) return HP_EXIT_OK;
    hp_err err = {{0}};
    double test_loss = 0, test_acc = 0;
    if (hp_trainer_evaluate(t, &data->test, best, &test_loss, &test_acc, &err) != 0) {
        hp_cli_error("train", "test evaluation: %s", err.msg);
        return HP_EXIT_FAILURE;
    }
    printf("test (best snapshot, evaluated once): loss %.4f acc %.4f\n", test_loss, test_acc);
    return HP_EXIT_OK;
}

/* Build the trainer on gpu (NULL: the CPU), train it, report. Returns the exit code. */
static int train_model(const hp_spec *spec, const hp_splits *data, hp_gpu_device *gpu, const char *spec_path,
                       int no_test) {
    hp_err err = {{0}};
    hp_trainer *t = NULL;
    uint64_t seed = spec->has_init_seed ? spec->init_seed : spec->seed; /* the split is always seed's */
    if (hp_trainer_create_on(gpu, &spec->model, &spec->optim, &spec->train, &data->train, &data->val, seed, &t,
                             &err) != 0) {
        hp_cli_error("train", "%s: %s", spec_path, err.msg);
        return HP_EXIT_FAILURE;
    }
    printf("model: %lld parameters; initial loss %.4f (ln %d = %.4f)\n",
           (long long)hp_model_param_count(hp_trainer_model(t)), hp_trainer_initial_loss(t),
           spec->data.nclasses, log((double)spec->data.nclasses));
    fflush(stdout);
    double total = 0;
    int rc = train_epochs(t, spec, &total);
    if (rc == HP_EXIT_OK) rc = report_best(t, spec, data, total, no_test);
    hp_trainer_free(t); /* before its device */
    return rc;
}

int hp_cmd_train(int argc, char **argv) {
    const char *cmd = "train";
    train_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;

    hp_err err = {{0}};
    hp_spec spec;
    if (load_spec(&a, &spec, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return HP_EXIT_USAGE;
    }
    hp_cpu_set_threads(a.threads > 0 ? (int)a.threads : hp_cpu_default_threads());

    /* One process, so node-local rank 0: the first visible GPU. Opened before the data is
     * loaded, so a GPU that cannot be had fails at once. */
    hp_gpu_device *gpu = NULL;
    if (hp_device_open(spec.device, &spec.cuda, 0, &gpu, &err) != 0) {
        hp_cli_error(cmd, "%s: %s", a.spec_path, err.msg);
        hp_spec_free(&spec);
        return HP_EXIT_FAILURE;
    }
    hp_splits data;
    double t0 = hp_now_seconds();
    if (hp_splits_load(&spec, !a.no_test, &data, &err) != 0) {
        hp_cli_error(cmd, "%s", err.msg);
        hp_device_close(gpu);
        hp_spec_free(&spec);
        return HP_EXIT_FAILURE;
    }
    print_setup(&spec, &data, gpu, hp_now_seconds() - t0);
    rc = train_model(&spec, &data, gpu, a.spec_path, a.no_test);
    hp_device_close(gpu);
    hp_splits_free(&data);
    hp_spec_free(&spec);
    return rc;
}
