/* spec.h - the sweep specification (YAML) and its validation.
 *
 * One YAML file describes the data, the model, the optimizer, training and the search. The
 * parser (libyaml) rejects, with "FILE:LINE:COL: message" naming the key and the value at
 * fault: malformed YAML, unknown keys (listing the keys valid there), duplicate keys, wrong
 * types, values out of range. Missing optional keys take the defaults documented in
 * docs/spec.md (the spec reference).
 */
#ifndef HP_SPEC_H
#define HP_SPEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "data.h"
#include "gpu_device.h"
#include "hp_err.h"
#include "layer_spec.h"
#include "optim.h"
#include "train.h"

#define HP_PATH_MAX 1024
#define HP_NAME_MAX 64
#define HP_MAX_DATA_FILES 16      /* files in one of data.train_files, data.test_files */

typedef struct hp_data_spec {
    char format[16];              /* "idx" (default) or "cifar10" */
    char dir[HP_PATH_MAX];        /* folder the file names below are relative to; default
                                     /usr/share/datasets/fashion-mnist (idx),
                                     /usr/share/datasets/cifar-10-batches-bin (cifar10) */
    /* format idx: one image file and one label file per split */
    char train_images[HP_PATH_MAX]; /* default train-images-idx3-ubyte.gz */
    char train_labels[HP_PATH_MAX]; /* default train-labels-idx1-ubyte.gz */
    char test_images[HP_PATH_MAX];  /* default t10k-images-idx3-ubyte.gz */
    char test_labels[HP_PATH_MAX];  /* default t10k-labels-idx1-ubyte.gz */
    /* format cifar10: binary batch files, concatenated in order (0 files for idx) */
    int ntrain_files;               /* default 5: data_batch_1.bin .. data_batch_5.bin */
    char train_files[HP_MAX_DATA_FILES][HP_PATH_MAX];
    int ntest_files;                /* default 1: test_batch.bin */
    char test_files[HP_MAX_DATA_FILES][HP_PATH_MAX];
    int nclasses;                 /* default 10 */
    int64_t val_size;             /* examples held out of the training file for validation; default 5000 */
    int64_t train_subset;         /* use only this many training examples (after the split); 0 = all */
    int64_t val_subset;           /* likewise for validation; 0 = all */
    int standardize;              /* per-channel standardisation fitted on the training split; default 1 */
} hp_data_spec;

/* --- search (the staged hyperparameter search) ------------------------------------------ */
/* Searched parameters: params[0] is always the learning rate (optimizer.lr, short name lr) and
 * params[1] the weight decay (optimizer.weight_decay, short name weight_decay), searched or not;
 * params[2 .. nparams) are the other parameters the spec names by their place in it
 * ("optimizer.momentum", "model.layers.2.p", "train.batch_size"), always searched. */
#define HP_MAX_PARAMS 16      /* parameters in search.params, lr and weight_decay included */
#define HP_MAX_CHOICES 16     /* values of one choice parameter */
#define HP_CHOICE_TEXT 32     /* bytes of one choice value's text, NUL included */
typedef enum hp_param { HP_PARAM_LR = 0, HP_PARAM_WD = 1, HP_NFIXED_PARAMS = 2 } hp_param;
const char *hp_param_name(hp_param p); /* the short names: "lr", "weight_decay" */

/* log and linear: real values, sampled uniformly in log10(value) or value; int and int_log:
 * integers, sampled likewise and floored (docs/search.md); choice: one of listed values. */
typedef enum hp_scale {
    HP_SCALE_LOG = 0,
    HP_SCALE_LINEAR = 1,
    HP_SCALE_INT = 2,
    HP_SCALE_INT_LOG = 3,
    HP_SCALE_CHOICE = 4
} hp_scale;

typedef struct hp_param_range {
    int enabled;  /* 1 if the search varies this parameter; else (lr, weight_decay only) the optimizer's value */
    char name[HP_NAME_MAX];   /* as search.params names it: "lr", "weight_decay", "optimizer.momentum" */
    char path[HP_NAME_MAX];   /* its place in the spec: "optimizer.lr", "model.layers.2.p" */
    double low, high;   /* initial range, low < high (int scales: integers, low <= high); > 0 on a log scale;
                           choice: 0 and nchoices - 1 */
    hp_scale scale;     /* log (default) or linear */
    double bound_low, bound_high; /* hard bounds that widening never crosses; default: none
                                     [0, +inf) on either scale: neither parameter can be negative) */
    int nchoices;                 /* choice: the listed values, as written */
    char choices[HP_MAX_CHOICES][HP_CHOICE_TEXT];
    int numeric_choices;          /* choice: 1 if every listed value is a number (choice_num holds them) */
    double choice_num[HP_MAX_CHOICES];
} hp_param_range;

/* A trial's value of parameter r as text, the way it goes into the spec (and to an external
 * trainer): a choice's listed value, an integer without a fraction, else the shortest decimal
 * that reads back as the same double. */
const char *hp_param_text(const hp_param_range *r, double v, char *buf, size_t cap);
/* The number /trials records for parameter r: the value itself, or a numeric choice's number
 * (NaN for a choice of words: /trials has its text). */
double hp_param_number(const hp_param_range *r, double v);
/* Whether parameter r's /trials column holds text (a choice of words) rather than a number. */
int hp_param_is_text(const hp_param_range *r);

/* promote: continue the top_k trials of the stage before from their final state for `epochs` more
 * epochs (docs/search.md, "Promotion"); never stage 0. */
typedef enum hp_method { HP_METHOD_RANDOM = 0, HP_METHOD_GRID = 1, HP_METHOD_PROMOTE = 2 } hp_method;

#define HP_MAX_STAGES 16

/* A stage's pruning rule (docs/search.md, "Pruning"). */
typedef enum hp_prune_rule { HP_PRUNE_NONE = 0, HP_PRUNE_MEDIAN = 1, HP_PRUNE_HALVING = 2 } hp_prune_rule;
typedef struct hp_prune_spec {
    hp_prune_rule rule; /* none (default); median: stop a trial whose validation accuracy at an epoch is
                           below the median of the stage's lower-id trials at that epoch; halving:
                           successive halving at rungs after, after*eta, after*eta^2, ... epochs, a
                           trial going on only while it is in the top 1/eta there */
    int after;          /* the first epoch at which a trial may be stopped (>= 1; default 1) */
    int min_trials;     /* a verdict needs at least this many lower-id trials at the epoch (default 3) */
    int eta;            /* halving: the reduction factor (>= 2; default 3) */
} hp_prune_spec;

typedef struct hp_stage_spec {
    hp_method method;
    int trials;        /* random: number of trials (> 0) */
    int points;        /* grid: points per searched real or int parameter (>= 2); a choice contributes its
                          values; trials = the product */
    int epochs;        /* > 0; promote: the epochs added to each promoted trial (required) */
    int top_k;         /* the stage's ranges narrow around the top_k trials of the stage before; default 3;
                          promote: how many of the stage before's best trials continue */
    double margin;     /* narrowing margin, in decades on a log scale (fraction of range on linear); default 0.25 */
    int64_t train_subset; /* > 0: this stage's trials train on only the first N examples of the training
                             split (cheap coarse stages); 0 (default) = data.train_subset's choice */
    hp_prune_spec prune;  /* default: no pruning */
} hp_stage_spec;

typedef struct hp_search_spec {
    int nparams;              /* entries of params: 2 + the parameters named by their place */
    hp_param_range params[HP_MAX_PARAMS];
    int lenient;              /* 1 when a choice picks a variant (a path ending in .type): a trial's spec then
                                 ignores keys that belong to another variant (momentum with type adam) */
    int nstages;
    hp_stage_spec stages[HP_MAX_STAGES];
    int keep_snapshots; /* keep the best snapshot of the top N finished trials; 0 = all (default) */
} hp_search_spec;

/* final: what the single test evaluation evaluates. */
#define HP_MAX_ENSEMBLE 32
typedef struct hp_final_spec {
    int ensemble; /* 1 (default): the best trial's snapshot alone; K > 1: also the average of the predicted
                     probabilities of the K best trials' snapshots (hp_trial_better), a second /final row */
} hp_final_spec;

/* trainer: an external training program instead of the built-in trainer (docs/external.md). */
#define HP_EXT_MAX_ARGS 48   /* words of a command */
#define HP_EXT_ARG_LEN 256   /* bytes of one word, NUL included */
typedef struct hp_external_spec {
    int enabled;                                   /* 1: the spec has a trainer: section */
    int argc;                                      /* trainer.command: the program and its arguments */
    char argv[HP_EXT_MAX_ARGS][HP_EXT_ARG_LEN];
    int test_argc;                                 /* trainer.test: the test command; 0: the command, mode test */
    char test_argv[HP_EXT_MAX_ARGS][HP_EXT_ARG_LEN];
    char objective[32];                            /* the metric the search ranks by (default val_acc) */
    int maximize;                                  /* 1 higher is better, -1 lower (default: 1 for val_acc,
                                                      required for any other objective) */
    double epoch_timeout;                          /* seconds without a metrics line that fail a trial (0 none) */
    double grace;                                  /* seconds from SIGTERM to SIGKILL (default 10) */
    char workdir[HP_PATH_MAX];                     /* trainer.workdir: the folder of the trials' folders; default:
                                                      the results file's path without .h5, plus .trials */
    int chdir;                                     /* trainer.chdir: 1: the program runs in its trial's folder;
                                                      0 (default): in the folder hpsweep was started in */
    int trials_per_gpu;                            /* trainer.trials_per_gpu: programs a rank runs at once, sharing
                                                      its GPU (default 1; --pack overrides) */
    /* Filled on each rank when a sweep starts, not read from the spec: */
    char run_workdir[HP_PATH_MAX];                 /* the folder in force (absolute) */
    char cuda_visible[64];                         /* what CUDA_VISIBLE_DEVICES gets ("" hides every GPU;
                                                      NULL-like "-": left as inherited) */
} hp_external_spec;

typedef enum hp_device { HP_DEVICE_AUTO = 0, HP_DEVICE_CPU = 1, HP_DEVICE_CUDA = 2 } hp_device;

typedef struct hp_spec {
    char path[HP_PATH_MAX];   /* where it was read from (for messages) */
    char name[HP_NAME_MAX];   /* default: the file name without .yaml */
    uint64_t seed;            /* default 0 */
    uint64_t init_seed;       /* hpsweep train only (has_init_seed): the seed of initialisation, data order
                                 and dropout, where `seed` also draws the train/validation split; what
                                 export --spec writes for a trial (its own seed). Refused in a sweep */
    int has_init_seed;
    hp_device device;         /* default auto */
    hp_gpu_opts cuda;        /* the cuda: section (device.h), used when a GPU trains: deterministic
                                 (default 1: the same bits on every run, which a bit-identical resume on
                                 a GPU needs) and allow_tf32 (key tf32, default 0) */
    hp_external_spec ext;     /* the trainer: section (an external program; then no model, optimizer, data) */
    hp_data_spec data;
    hp_model_spec model;
    hp_optim_spec optim;
    hp_train_spec train;
    int has_search;           /* 1 if the spec has a search: section */
    hp_search_spec search;
    hp_final_spec final;      /* the final: section */
    char *text;               /* the whole YAML text, owned (stored in results files) */
    uint64_t text_len;
} hp_spec;

/* Names as written in specs ("auto", "cpu", "cuda"; "log", "linear"; "random", "grid"). */
const char *hp_device_name(hp_device d);
const char *hp_scale_name(hp_scale s); /* "log", "linear", "int", "int_log", "choice" */
const char *hp_method_name(hp_method m); /* "random", "grid", "promote" */
const char *hp_prune_rule_name(hp_prune_rule r); /* "none", "median" */

/* Parse and validate a spec file. On error returns -1 with "PATH:LINE:COL: ..." in err.
 * The spec format, every key, its default and its range: docs/spec.md. */
int hp_spec_load(const char *path, hp_spec *out, hp_err *err);

/* How `hpsweep train` reads a spec: what differs from hp_spec_load. Zeroed: the same. */
typedef struct hp_spec_read_opts {
    int skip_search; /* the search: section is not read, so not checked (train ignores it); has_search
                        stays 0 and search holds the defaults */
    int epochs;      /* > 0: train.epochs is this (a command-line override), set before the checks
                        across sections, so they judge the epochs that will run */
    int lenient;     /* keys of another variant are ignored, not refused (a trial's spec; search.lenient) */
} hp_spec_read_opts;
int hp_spec_load_with(const char *path, const hp_spec_read_opts *o, hp_spec *out, hp_err *err);
/* Parse from memory (the spec stored in a results file); `name` is used in messages. */
int hp_spec_parse(const char *text, uint64_t len, const char *name, hp_spec *out, hp_err *err);
/* Whether a stored spec (a results file's) is a synthetic sweep: 1 yes, 0 no, -1 it does not
 * parse (say, a spec of another hpsweep version). results.h's hp_spec_synthetic_fn: what show
 * and report use to say why a file has no test result. */
int hp_spec_text_synthetic(const char *text, uint64_t len);
void hp_spec_free(hp_spec *s);

/* The spec one trial trains with: `base` with each searched parameter p set to values[p] at its
 * place (search.params), parsed and checked again; the search: section is not read. With only
 * lr and weight_decay searched this is a copy with optimizer.lr and weight_decay set. out does
 * not own base's text: free it with hp_spec_free as usual. A value the spec refuses (it was
 * checked at load for each parameter's ends and choices, but not for every combination) fails
 * with the spec's message. */
int hp_spec_for_trial(const hp_spec *base, const double *values, hp_spec *out, hp_err *err);

/* Write the resolved spec (every default filled in) as YAML that hp_spec_parse reads back
 * to the same values. Returns -1 if writing fails. */
int hp_spec_dump(const hp_spec *s, FILE *f, hp_err *err);

/* The path of one of the data files (d->train_images, ...): `file` itself if absolute,
 * else d->dir joined with it. Fails if the result does not fit in cap bytes. */
int hp_spec_data_path(const hp_data_spec *d, const char *file, char *out, size_t cap, hp_err *err);

#endif
