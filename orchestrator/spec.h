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
typedef enum hp_param { HP_PARAM_LR = 0, HP_PARAM_WD = 1, HP_NPARAMS = 2 } hp_param;
const char *hp_param_name(hp_param p); /* "lr", "weight_decay" */

typedef enum hp_scale { HP_SCALE_LOG = 0, HP_SCALE_LINEAR = 1 } hp_scale;

typedef struct hp_param_range {
    int enabled;  /* 1 if the search varies this parameter; else the optimizer's value is used */
    double low, high;   /* initial range, low < high; > 0 on a log scale */
    hp_scale scale;     /* log (default) or linear */
    double bound_low, bound_high; /* hard bounds that widening never crosses; default: none
                                     [0, +inf) on either scale: neither parameter can be negative) */
} hp_param_range;

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
    int points;        /* grid: points per enabled parameter (>= 2); trials = points^nparams */
    int epochs;        /* > 0; promote: the epochs added to each promoted trial (required) */
    int top_k;         /* the stage's ranges narrow around the top_k trials of the stage before; default 3;
                          promote: how many of the stage before's best trials continue */
    double margin;     /* narrowing margin, in decades on a log scale (fraction of range on linear); default 0.25 */
    int64_t train_subset; /* > 0: this stage's trials train on only the first N examples of the training
                             split (cheap coarse stages); 0 (default) = data.train_subset's choice */
    hp_prune_spec prune;  /* default: no pruning */
} hp_stage_spec;

typedef struct hp_search_spec {
    hp_param_range params[HP_NPARAMS];
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

typedef enum hp_device { HP_DEVICE_AUTO = 0, HP_DEVICE_CPU = 1, HP_DEVICE_CUDA = 2 } hp_device;

typedef struct hp_spec {
    char path[HP_PATH_MAX];   /* where it was read from (for messages) */
    char name[HP_NAME_MAX];   /* default: the file name without .yaml */
    uint64_t seed;            /* default 0 */
    hp_device device;         /* default auto */
    hp_gpu_opts cuda;        /* the cuda: section (device.h), used when a GPU trains: deterministic
                                 (default 1: the same bits on every run, which a bit-identical resume on
                                 a GPU needs) and allow_tf32 (key tf32, default 0) */
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
const char *hp_scale_name(hp_scale s);
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
} hp_spec_read_opts;
int hp_spec_load_with(const char *path, const hp_spec_read_opts *o, hp_spec *out, hp_err *err);
/* Parse from memory (the spec stored in a results file); `name` is used in messages. */
int hp_spec_parse(const char *text, uint64_t len, const char *name, hp_spec *out, hp_err *err);
/* Whether a stored spec (a results file's) is a synthetic sweep: 1 yes, 0 no, -1 it does not
 * parse (say, a spec of another hpsweep version). results.h's hp_spec_synthetic_fn: what show
 * and report use to say why a file has no test result. */
int hp_spec_text_synthetic(const char *text, uint64_t len);
void hp_spec_free(hp_spec *s);

/* Write the resolved spec (every default filled in) as YAML that hp_spec_parse reads back
 * to the same values. Returns -1 if writing fails. */
int hp_spec_dump(const hp_spec *s, FILE *f, hp_err *err);

/* The path of one of the data files (d->train_images, ...): `file` itself if absolute,
 * else d->dir joined with it. Fails if the result does not fit in cap bytes. */
int hp_spec_data_path(const hp_data_spec *d, const char *file, char *out, size_t cap, hp_err *err);

#endif
