/* cmd_sweep.c - see cmd_sweep.h. The steps, each agreed across ranks (MPI_Allreduce) before
 * the next, so bad input never leaves a half-made file and every rank exits with the code:
 *   1. rank 0 gets the spec (from SPEC, or from the results file on resume) and decides what
 *      to do with the output (create, continue, refuse); the spec text goes to every rank;
 *   2. the ranks that train open their device (device_pick.h: trainer ranks under mpirun, rank 0 only
 *      when alone; GPU node-local rank % GPUs visible), then every rank loads the data (rank 0
 *      with the test split);
 *   3. rank 0 creates the file, or checks the data against it and reopens it (recovering a
 *      file whose writer was killed);
 *   4. rank 0 coordinates, ranks 1..N-1 train; a stop signal ends it with HP_EXIT_INTERRUPTED.
 */
#include "cmd_sweep.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpu_threads.h"
#include "cli.h"
#include "coordinator.h"
#include "dataload.h"
#include "device_pick.h"
#include "lanes.h"
#include "mpi_util.h"
#include "nodedata.h"
#include "protocol.h"
#include "resume.h"
#include "results.h"
#include "search_probe.h"
#include "sha256.h"
#include "signals.h"
#include "spec.h"
#include "worker.h"

/* hp_cli_int where loud, else the same check without a message. */
static int int_opt(const char *cmd, const char *opt, const char *val, long long lo, long long hi, int loud,
                   long long *out) {
    if (loud) return hp_cli_int(cmd, opt, val, lo, hi, out);
    char *end = NULL;
    errno = 0;
    long long v = strtoll(val, &end, 10);
    if (errno || end == val || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int hp_sweep_common_opt(int argc, char **argv, int *i, int loud, hp_sweep_args *a) {
    const char *val = NULL;
    int r;
    /* Every rank parses; only rank 0 (loud) prints, so errors appear once. */
    if ((r = hp_cli_opt(argc, argv, i, a->cmd, "--threads", NULL, 1, &val)) != 0)
        return r < 0 || int_opt(a->cmd, "--threads", val, 1, 4096, loud, &a->threads) != 0 ? -1 : 1;
    if ((r = hp_cli_opt(argc, argv, i, a->cmd, "--checkpoint-every", NULL, 1, &val)) != 0)
        return r < 0 || int_opt(a->cmd, "--checkpoint-every", val, 0, 1000000, loud, &a->checkpoint_every) != 0 ? -1
                                                                                                                : 1;
    if ((r = hp_cli_opt(argc, argv, i, a->cmd, "--pack", NULL, 1, &val)) != 0) {
        if (r < 0) return -1;
        if (strcmp(val, "auto") == 0) return a->pack = 0, 1;
        return int_opt(a->cmd, "--pack", val, 1, HP_MAX_PACK, loud, &a->pack) != 0 ? -1 : 1;
    }
    if (strcmp(argv[*i], "--quiet") == 0) return a->quiet = 1, 1;
    return 0;
}

/* Compute threads of a trainer rank: --threads, else OPENBLAS_NUM_THREADS or OMP_NUM_THREADS,
 * else the node's cores shared among the trainer ranks on it (rank 0 only coordinates when
 * there are others). Results do not depend on the choice (trainer/cpu/gemm.h). */
static int choose_threads(const hp_sweep_args *a, int size, int rank, MPI_Comm comm, hp_err *err) {
    if (a->threads > 0) return (int)a->threads;
    const char *env = getenv("OPENBLAS_NUM_THREADS");
    if (!env || atoi(env) <= 0) env = getenv("OMP_NUM_THREADS");
    if (env && atoi(env) > 0) return atoi(env);
    int local_rank = 0, local_size = 1;
    if (hp_mpi_node_rank(comm, &local_rank, &local_size, err) != 0) return -1;
    int trainers = local_size;
    if (size > 1) {
        /* Is rank 0 (which does not train) on this node? */
        int here = rank == 0, any = 0;
        MPI_Comm node;
        if (hp_mpi_check(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node),
                         "MPI_Comm_split_type", err) != 0)
            return -1;
        int rc = hp_mpi_check(MPI_Allreduce(&here, &any, 1, MPI_INT, MPI_MAX, node), "MPI_Allreduce", err);
        MPI_Comm_free(&node);
        if (rc != 0) return -1;
        trainers -= any;
    }
    int cores = hp_cpu_cores();
    int t = trainers > 0 ? cores / trainers : cores;
    return t < 1 ? 1 : t;
}

/* Agree across ranks on how a step went: returns the worst (largest) code of all. A rank
 * other than 0 keeps its own message only where rank 0 succeeded, so that an error every rank
 * meets (a bad spec, a missing data file) is printed once, by rank 0. */
static int agree(int code, MPI_Comm comm, int rank, hp_err *err) {
    if (comm == MPI_COMM_NULL) return code; /* alone, without MPI */
    int worst = code, root = code;
    if (MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS ||
        MPI_Bcast(&root, 1, MPI_INT, 0, comm) != MPI_SUCCESS)
        return HP_EXIT_FAILURE;
    if (rank != 0 && root != HP_EXIT_OK) err->msg[0] = '\0';
    return worst;
}

enum { MODE_NEW = 0, MODE_CONTINUE = 1, MODE_COMPLETE = 2 };

typedef struct sweep_state {
    hp_spec spec;
    hp_splits data;
    hp_resume resume;     /* rank 0, MODE_CONTINUE / MODE_COMPLETE */
    hp_gpu_device *gpus[HP_MAX_PACK]; /* the GPU of each lane of this rank (all the same device, a
                                          context each); NULL: the CPU, or a rank that does not train */
    int pack;             /* trials this rank trains at once (lanes.h) */
    int lane_threads;     /* pack > 1 on the CPU: compute threads of each lane */
    int mpi_threads;      /* the thread level MPI provides */
    char mem_note[96];    /* on a GPU: ", N MiB per trial, M GiB free" (check_memory) */
    hp_node_data node_data; /* the node's shared copy of the splits (nodedata.h) */
    int mode;
    int checkpoint_every;
    char path[HP_PATH_MAX + 8];
} sweep_state;

/* Step 1 on rank 0: the spec and what to do with the output. Returns an exit code. */
static int decide(const hp_sweep_args *a, sweep_state *s, hp_err *err) {
    struct stat sb;
    if (a->spec_path) {
        if (hp_spec_load(a->spec_path, &s->spec, err) != 0) return HP_EXIT_USAGE;
        if (!s->spec.has_search)
            return hp_errf(err, "%s has no search: section; add one (see docs/spec.md) or use 'hpsweep train'",
                           a->spec_path),
                   HP_EXIT_USAGE;
        snprintf(s->path, sizeof s->path, "%s", a->output ? a->output : "");
        if (!a->output) snprintf(s->path, sizeof s->path, "%s.h5", s->spec.name);
        if (stat(s->path, &sb) != 0) return s->mode = MODE_NEW, HP_EXIT_OK; /* --resume without a file: start */
        if (a->force) return s->mode = MODE_NEW, HP_EXIT_OK;                  /* removed once the data loaded */
        if (!a->resume)
            return hp_errf(err, "%s exists; pass --resume to continue it (same spec), --force to overwrite it, or "
                                "-o to write elsewhere",
                           s->path),
                   HP_EXIT_EXISTS;
        if (hp_resume_load(s->path, &s->resume, err) != 0)
            return hp_err_prefix(err, "cannot continue it (--resume)"), HP_EXIT_EXISTS;
        char sha[65];
        hp_sha256_hex(s->spec.text, s->spec.text_len, sha);
        if (strcmp(sha, s->resume.meta.spec_sha256) != 0)
            return hp_errf(err,
                           "%s was started from another spec (sha256 %.12s...), not %s (sha256 %.12s...); to continue "
                           "it use 'hpsweep resume %s' (it uses the spec stored in the file), or pass --force to "
                           "start over, or -o to write elsewhere",
                           s->path, s->resume.meta.spec_sha256, a->spec_path, sha, s->path),
                   HP_EXIT_EXISTS;
    } else {
        snprintf(s->path, sizeof s->path, "%s", a->output);
        if (hp_resume_load(s->path, &s->resume, err) != 0) return HP_EXIT_USAGE;
        const hp_results_meta *m = &s->resume.meta;
        const char *name = m->spec_path[0] ? m->spec_path : s->path;
        if (hp_spec_parse(s->resume.spec_text, m->spec_len, name, &s->spec, err) != 0)
            return hp_err_prefix(err, "the spec stored in %s", s->path), HP_EXIT_USAGE;
        if (!s->spec.has_search)
            return hp_errf(err, "the spec stored in %s has no search: section; it is not a sweep", s->path),
                   HP_EXIT_USAGE;
    }
    s->mode = MODE_CONTINUE;
    if (s->resume.meta.spec_name[0]) snprintf(s->spec.name, sizeof s->spec.name, "%s", s->resume.meta.spec_name);
    int64_t finished = 0, done = 0;
    for (int64_t i = 0; i < s->resume.ntrials; i++) {
        finished += hp_trial_finished(s->resume.trials[i].status);
        done += s->resume.trials[i].status == HP_TRIAL_DONE;
    }
    /* Complete: every trial finished, and the test evaluated, or nothing to evaluate (no model: a
     * synthetic sweep; no trial done; an external trainer's test needs a done trial, not a snapshot). */
    int no_test = s->spec.ext.enabled ? done == 0 : s->resume.best_trial < 0 || s->spec.train.synthetic_ms > 0;
    if (finished == hp_search_total_trials(&s->spec) && (s->resume.nfinal > 0 || no_test)) s->mode = MODE_COMPLETE;
    return HP_EXIT_OK;
}

/* Step 1 continued: rank 0's spec text and mode reach every rank. */
static int share_spec(int rank, sweep_state *s, MPI_Comm comm, hp_err *err) {
    if (comm == MPI_COMM_NULL) return HP_EXIT_OK; /* alone: nobody to share it with */
    int64_t hdr[2] = {s->mode, (int64_t)s->spec.text_len};
    char name[HP_PATH_MAX];
    snprintf(name, sizeof name, "%s", rank == 0 ? s->spec.path : "");
    if (hp_mpi_check(MPI_Bcast(hdr, 2, MPI_INT64_T, 0, comm), "MPI_Bcast", err) != 0 ||
        hp_mpi_check(MPI_Bcast(name, (int)sizeof name, MPI_CHAR, 0, comm), "MPI_Bcast", err) != 0)
        return HP_EXIT_FAILURE;
    char *text = rank == 0 ? s->spec.text : hp_calloc((size_t)hdr[1] + 1, 1, "the spec text", err);
    if (!text) return HP_EXIT_FAILURE;
    int rc = hp_mpi_check(MPI_Bcast(text, (int)hdr[1], MPI_CHAR, 0, comm), "MPI_Bcast", err);
    if (rank != 0 && rc == 0) {
        s->mode = (int)hdr[0];
        rc = hp_spec_parse(text, (uint64_t)hdr[1], name, &s->spec, err);
    }
    if (rank != 0) free(text);
    return rc == 0 ? HP_EXIT_OK : HP_EXIT_FAILURE;
}

/* Step 3, new file: the layout fixes the snapshot width, the model and optimizer the
 * checkpoint width. */
static int create_results(const hp_sweep_args *a, sweep_state *s, hp_results **out, hp_err *err) {
    const hp_spec *spec = &s->spec;
    const hp_splits *data = &s->data;
    hp_model *m = NULL;
    /* An external trainer keeps its models in its own files: /model/layout gets one placeholder
     * entry (a file's snapshot rows need a width), no snapshot is ever written. */
    static const hp_tensor_info placeholder = {.name = "external", .ndim = 1, .shape = {1}, .offset = 0, .size = 1};
    if (!spec->ext.enabled &&
        hp_model_create(&spec->model, data->train.c, data->train.h, data->train.w, spec->data.nclasses, 1, &m, err) !=
            0)
        /* A model the spec cannot describe is a usage error (2); one this machine cannot hold is a
         * run-time failure (1), as docs/exit-codes.md says. */
        return hp_err_prefix(err, "%s", spec->path), strstr(err->msg, "out of memory") ? HP_EXIT_FAILURE
                                                                                       : HP_EXIT_USAGE;
    const hp_tensor_info *layout = &placeholder;
    int ntensors = m ? hp_model_layout(m, &layout) : 1;
    hp_results_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.nxcols = spec->has_search ? hp_search_param_columns(spec, meta.xcols) : 0;
    meta.spec_yaml = spec->text;
    meta.spec_len = spec->text_len;
    hp_sha256_hex(spec->text, spec->text_len, meta.spec_sha256);
    meta.seed = spec->seed;
    if (m) { /* an external trainer's data are its own */
        meta.data_hash[0] = hp_dataset_hash(&data->train);
        meta.data_hash[1] = hp_dataset_hash(&data->val);
        meta.data_hash[2] = hp_dataset_hash(&data->test);
    }
    snprintf(meta.spec_name, sizeof meta.spec_name, "%s", spec->name);
    snprintf(meta.spec_path, sizeof meta.spec_path, "%s", spec->path);
    meta.checkpoint_every = s->checkpoint_every;
    int rc = 0;
    if (m && s->checkpoint_every > 0)
        rc = hp_trainer_checkpoint_size_for(&spec->model, &spec->optim, data->train.c, data->train.h, data->train.w,
                                            spec->data.nclasses, &meta.checkpoint_width, err);
    int64_t state_width = 0, ckpt_width = 0;
    int varies = 0;
    if (rc == 0 && m && spec->has_search &&
        hp_search_sizes(spec, data, &state_width, &ckpt_width, &varies, err) != 0) {
        hp_model_free(m);
        return HP_EXIT_USAGE;
    }
    if (state_width > meta.state_width) meta.state_width = state_width;
    if (s->checkpoint_every > 0 && ckpt_width > meta.checkpoint_width) meta.checkpoint_width = ckpt_width;
    if (rc == 0 && varies && spec->final.ensemble > 1) {
        hp_model_free(m);
        return hp_errf(err, "%s: final.ensemble averages models of one shape, but search.params changes the model's "
                       "size; remove final.ensemble or search sizes in separate sweeps", spec->path),
               HP_EXIT_USAGE;
    }
    /* --force removes the old file only now, when everything that can be checked was. */
    struct stat sb;
    if (rc == 0 && a->force && stat(s->path, &sb) == 0 && (rc = hp_results_remove(s->path, err)) != 0)
        hp_err_prefix(err, "--force");
    if (rc == 0) rc = hp_results_create(s->path, &meta, layout, ntensors, out, err);
    hp_model_free(m);
    /* Another run won a race for the path: it exists now, ours was never made (exit 3). */
    return rc == 0 ? HP_EXIT_OK : rc == HP_RESULTS_EXISTS ? HP_EXIT_EXISTS : HP_EXIT_FAILURE;
}

/* Step 3, continuing: the data must be what the sweep started with; then reopen the file. */
static int reopen_results(const hp_sweep_args *a, sweep_state *s, hp_results **out, hp_err *err) {
    const hp_dataset *sets[3] = {&s->data.train, &s->data.val, &s->data.test};
    const char *names[3] = {"training", "validation", "test"};
    for (int i = 0; i < 3 && !s->spec.ext.enabled; i++) {
        uint64_t h = hp_dataset_hash(sets[i]);
        if (h != s->resume.meta.data_hash[i])
            return hp_errf(err,
                           "%s: the %s split differs from the one the sweep started with (hash %016llx, now %016llx); "
                           "restore the data files the spec names, or start a new sweep",
                           s->path, names[i], (unsigned long long)s->resume.meta.data_hash[i], (unsigned long long)h),
                   HP_EXIT_EXISTS;
    }
    int recovered = 0;
    int rc = hp_results_open_resume(s->path, &recovered, out, err);
    if (rc == HP_RESULTS_EXISTS) return HP_EXIT_EXISTS; /* another hpsweep writes it: left alone */
    if (rc != 0) return HP_EXIT_FAILURE;
    const hp_param_column *cols = NULL;
    int ncols = hp_results_param_columns(*out, &cols);
    if (s->spec.has_search && hp_search_check_columns(&s->spec, cols, ncols, s->path, err) != 0) {
        hp_results_close(*out, NULL);
        *out = NULL;
        return HP_EXIT_EXISTS;
    }
    if (recovered && !a->quiet)
        printf("%s was not closed cleanly (its writer was killed): recovered every flushed row\n", s->path);
    return HP_EXIT_OK;
}

static void report_stop(const hp_sweep_args *a, const sweep_state *s, const hp_coord_stats *st) {
    const char *why = st->interrupted > 0 ? hp_signal_name(st->interrupted) : "a trainer rank's signal";
    fprintf(stderr,
            "hpsweep %s: interrupted by %s: stopped dispatching; %lld trials finished, %lld running (each continues "
            "from its last checkpoint), %lld pending; %s closed in %.0f ms. Continue with: hpsweep resume %s\n",
            a->cmd, why, (long long)st->finished, (long long)st->running, (long long)st->pending, s->path,
            1e3 * st->stop_seconds, s->path);
    fflush(stderr);
}

/* The device of a training rank, one line for the log: the GPU's description, or "cpu" with the
 * BLAS backend, cut to len bytes (the protocol's fixed field). */
static void describe_device(const hp_gpu_device *gpu, char *buf, size_t len) {
    if (gpu) {
        hp_device_describe(gpu, buf, len);
        return;
    }
    char backend[160];
    hp_cpu_describe(backend, sizeof backend);
    snprintf(buf, len, "cpu (%.*s)", (int)(len > 8 ? len - 8 : 0), backend);
}

static int coordinate(const hp_sweep_args *a, sweep_state *s, hp_results *res, int size, MPI_Comm comm, hp_err *err) {
    if (!a->quiet) {
        char backend[128], device[192];
        hp_cpu_describe(backend, sizeof backend);
        hp_device_describe(s->gpus[0], device, sizeof device);
        printf("hpsweep %s: %s, %lld trials in %d stage%s, %s -> %s%s\n", HPSWEEP_VERSION, s->spec.name,
               (long long)hp_search_total_trials(&s->spec), s->spec.search.nstages,
               s->spec.search.nstages == 1 ? "" : "s", size > 1 ? "coordinator + trainer ranks" : "training alone",
               s->path, s->mode == MODE_CONTINUE ? " (continuing it)" : "");
        if (size > 1)
            printf("ranks: 1 coordinator + %d trainer%s\n", size - 1, size - 1 == 1 ? "" : "s");
        else if (s->pack > 1)
            printf("backend: %s\ndevice: %s, %d trials at once%s\n", backend, device, s->pack, s->mem_note);
        else if (s->mem_note[0])
            printf("backend: %s\ndevice: %s%s\n", backend, device, s->mem_note);
        else
            printf("backend: %s\ndevice: %s\n", backend, device);
        fflush(stdout);
    }
    hp_coord_opts opts = {size - 1,
                          comm,
                          a->quiet,
                          isatty(STDERR_FILENO) && !a->quiet,
                          s->checkpoint_every,
                          s->mode == MODE_CONTINUE ? &s->resume : NULL,
                          &hp_stop_signal,
                          s->path,
                          s->pack,
                          s->gpus,
                          s->lane_threads};
    hp_coord_stats stats;
    int crc = hp_coordinate(&s->spec, &s->data, &res, &opts, &stats, err);
    hp_err cerr = {{0}};
    int close_rc = res ? hp_results_close(res, &cerr) : 0;
    if (crc != 0) {
        if (size > 1) {
            fprintf(stderr, "hpsweep %s: %s\n", a->cmd, err->msg);
            fprintf(stderr, "hpsweep %s: aborting the trainer ranks; %s keeps every trial recorded so far\n", a->cmd,
                    s->path);
            fflush(stderr);
            MPI_Abort(comm, HP_EXIT_FAILURE);
        }
        return HP_EXIT_FAILURE;
    }
    if (close_rc != 0) {
        *err = cerr;
        return HP_EXIT_FAILURE;
    }
    if (stats.interrupted) {
        report_stop(a, s, &stats);
        if (size > 1 && !stats.workers_stopped) {
            fprintf(stderr, "hpsweep %s: trainer ranks still busy: aborting them (the results file is closed)\n",
                    a->cmd);
            fflush(stderr);
            MPI_Abort(comm, HP_EXIT_INTERRUPTED);
        }
        return HP_EXIT_INTERRUPTED;
    }
    if (stats.no_result) {
        /* Every trial diverged, failed or was pruned: the file is complete, but there is no model. */
        hp_errf(err, "no trial finished with a model to evaluate: all %lld trials diverged, failed or were pruned, so "
                     "the test split was not evaluated; 'hpsweep show %s' lists why each ended (diverged: lower the lr "
                     "range; failed: the message says why)",
                (long long)stats.finished, s->path);
        return HP_EXIT_FAILURE;
    }
    int n = stats.lanes > 0 ? stats.lanes : 1;
    double per = stats.trials ? 1e3 / (double)stats.trials : 0;
    printf("done: %lld trials in %.1f s; trainer utilisation %.1f%%, idle trainer time %.2f ms per trial, "
               "recording %.2f ms per trial\nresults: %s (see 'hpsweep show %s')\n",
               (long long)stats.trials, stats.wall, 100 * stats.utilisation, (stats.wall * n - stats.busy) * per,
               stats.record * per, s->path, s->path);
    return HP_EXIT_OK;
}

static int train_ranks(sweep_state *s, int rank, MPI_Comm comm, hp_err *err) {
    hp_msg_ready me;
    memset(&me, 0, sizeof me);
    me.protocol_version = HP_PROTOCOL_VERSION;
    me.sizeof_plan = (int)sizeof(hp_trial_plan);
    me.sizeof_epoch = (int)sizeof(hp_msg_epoch);
    me.sizeof_result = (int)sizeof(hp_msg_result);
    me.sizeof_trial = (int)sizeof(hp_msg_trial);
    me.sizeof_checkpoint = (int)sizeof(hp_msg_checkpoint);
    me.blas_threads = hp_cpu_threads();
    me.gpu = hp_device_gpu_index(s->gpus[0]);
    me.lanes = s->pack;
    if (gethostname(me.host, sizeof me.host) != 0) snprintf(me.host, sizeof me.host, "unknown");
    me.host[sizeof me.host - 1] = '\0';
    snprintf(me.device_name, sizeof me.device_name, "%.*s", (int)sizeof me.device_name - 1, hp_device_label(s->gpus[0]));
    describe_device(s->gpus[0], me.device, sizeof me.device);
    size_t used = strlen(me.device);
    snprintf(me.device + used, sizeof me.device - used, "%s", s->mem_note);
    int interrupted = 0;
    if (hp_worker_run(&s->spec, &s->data, &me, s->gpus, s->lane_threads, comm, &interrupted, err) != 0) {
        fprintf(stderr, "hpsweep (rank %d): %s\n", rank, err->msg);
        fflush(stderr);
        MPI_Abort(comm, HP_EXIT_FAILURE);
    }
    return interrupted ? HP_EXIT_INTERRUPTED : HP_EXIT_OK;
}

/* An external trainer's rank (spec trainer:): the programs it runs at once (--pack, else
 * trainer.trials_per_gpu) and their threads; the GPU and folder are trial_external.c's. */
static int ext_lanes(const hp_sweep_args *a, sweep_state *s, int threads, hp_err *err) {
    s->pack = a->pack > 0 ? (int)a->pack : s->spec.ext.trials_per_gpu;
    if (s->pack > 1 && s->mpi_threads < MPI_THREAD_FUNNELED)
        return hp_errf(err, "--pack %d runs trials from threads, but this MPI provides no thread support "
                            "(MPI_THREAD_FUNNELED): use --pack 1, or an MPI built with threads", s->pack);
    s->lane_threads = threads > s->pack ? threads / s->pack : 1;
    return 0;
}

/* A training rank's devices: --pack contexts on its GPU (or the CPU), and the lanes' threads. */
static int open_devices(const hp_sweep_args *a, sweep_state *s, int local_rank, int threads, hp_err *err) {
    if (hp_device_open(s->spec.device, &s->spec.cuda, local_rank, &s->gpus[0], err) != 0) {
        hp_err_prefix(err, "%s", s->spec.path);
        return -1;
    }
    s->pack = a->pack > 0 ? (int)a->pack : s->gpus[0] ? HP_PACK_GPU_DEFAULT : 1;
    if (s->pack > 1 && s->mpi_threads < MPI_THREAD_FUNNELED)
        return hp_errf(err, "--pack %d trains trials in threads, but this MPI provides no thread support "
                            "(MPI_THREAD_FUNNELED): use --pack 1, or an MPI built with threads",
                       s->pack);
    for (int i = 1; i < s->pack && s->gpus[0]; i++)
        if (hp_device_open(s->spec.device, &s->spec.cuda, local_rank, &s->gpus[i], err) != 0) {
            hp_err_prefix(err, "%s: lane %d of --pack %d", s->spec.path, i + 1, s->pack);
            return -1;
        }
    s->lane_threads = threads > s->pack ? threads / s->pack : 1;
    return 0;
}

/* On a GPU: measure one trial's device memory, refuse a --pack whose trials would not fit in
 * what the GPU has free (before any trial starts), and note both for the log. */
static int check_memory(sweep_state *s, hp_err *err) {
    int64_t per = 0;
    size_t free_b = 0, total_b = 0;
    /* With searched sizes (units, batch_size, optimizer.type) the largest trial, not the spec's own. */
    char largest[256] = "";
    int rc = s->spec.has_search
                 ? hp_search_device_bytes(&s->spec, &s->data, s->gpus[0], &per, largest, sizeof largest, err)
                 : hp_trial_device_bytes(&s->spec, &s->data, s->gpus[0], &per, err);
    if (rc != 0 || hp_gpu_device_mem_info(s->gpus[0], &free_b, &total_b, err) != 0) {
        hp_err_prefix(err, "%s: measuring a trial's GPU memory", s->spec.path);
        return -1;
    }
    char why[300] = "";
    if (largest[0])
        snprintf(why, sizeof why, " (at %s)", largest);
    const double mib = 1024.0 * 1024.0;
    /* Each lane also holds a context's cuDNN workspace (grown to what its convolutions ask). */
    const double need = (double)s->pack * ((double)per + 64 * mib);
    if (need > (double)free_b) {
        int fit = (int)((double)free_b / ((double)per + 64 * mib));
        return hp_errf(err,
                       "%s: --pack %d: %d trials of %s%.0f MiB each%s and a cuDNN workspace per trial need %.0f "
                       "MiB, but cuda:%d has %.0f MiB free of %.0f: use --pack %d or fewer, fewer ranks per GPU, a "
                       "smaller batch_size or a train_subset",
                       s->spec.path, s->pack, s->pack, why[0] ? "up to " : "", (double)per / mib, why, need / mib,
                       hp_device_gpu_index(s->gpus[0]),
                       (double)free_b / mib, (double)total_b / mib, fit > 1 ? fit : 1);
    }
    snprintf(s->mem_note, sizeof s->mem_note, ", %s%.0f MiB per trial, %.1f GiB free", why[0] ? "up to " : "",
             (double)per / mib,
             (double)free_b / (mib * 1024.0));
    return 0;
}

/* comm: MPI_COMM_WORLD, or MPI_COMM_NULL alone without MPI (mpi_util.h: hp_mpi_launched). */
static int run_ranks(const hp_sweep_args *a, MPI_Comm comm, int rank, int size, int mpi_threads, hp_err *err) {
    sweep_state *s = hp_calloc(1, sizeof *s, "the sweep state", err);
    if (!s) return HP_EXIT_FAILURE;
    s->mpi_threads = mpi_threads;
    s->pack = 1;
    s->node_data.node = MPI_COMM_NULL;
    s->node_data.win = MPI_WIN_NULL;
    int code = rank == 0 ? decide(a, s, err) : HP_EXIT_OK;
    if ((code = agree(code, comm, rank, err)) != HP_EXIT_OK) goto out;
    if ((code = agree(share_spec(rank, s, comm, err), comm, rank, err)) != HP_EXIT_OK) goto out;
    if (s->mode == MODE_COMPLETE) {
        if (rank == 0)
            printf("%s: every trial is finished%s; nothing to do (see 'hpsweep show %s')\n", s->path,
                   s->resume.nfinal > 0                ? " and the test evaluation recorded"
                   : s->spec.train.synthetic_ms > 0    ? " (a synthetic sweep: no test evaluation)"
                                                       : " (no trial finished with a model: no test evaluation)",
                   s->path);
        goto out;
    }
    s->checkpoint_every = a->checkpoint_every >= 0         ? (int)a->checkpoint_every
                          : s->mode == MODE_CONTINUE && rank == 0 ? s->resume.meta.checkpoint_every
                                                                 : 1;

    int threads = choose_threads(a, size, rank, comm, err);
    code = threads < 0 ? HP_EXIT_FAILURE : HP_EXIT_OK;
    if (threads > 0) hp_cpu_set_threads(threads);
    /* The device, before the data (a GPU that cannot be had fails fast) and before the results
     * file (nothing is written). Every rank takes part in the node split (a collective call);
     * only the ranks that train open a device: the coordinator under mpirun never holds a GPU. */
    int local_rank = 0, local_size = 1;
    if (hp_mpi_node_rank(comm, &local_rank, &local_size, code == HP_EXIT_OK ? err : NULL) != 0)
        code = HP_EXIT_FAILURE;
    if (s->spec.ext.enabled) {
        /* Every rank needs the trials' folder (rank 0's choice) and the program; then no device
         * is opened here: each program gets its GPU through CUDA_VISIBLE_DEVICES. */
        char where[HP_PATH_MAX + 8];
        snprintf(where, sizeof where, "%s", rank == 0 ? s->path : "");
        if (comm != MPI_COMM_NULL && MPI_Bcast(where, (int)sizeof where, MPI_CHAR, 0, comm) != MPI_SUCCESS)
            code = HP_EXIT_FAILURE;
        if (code == HP_EXIT_OK && (hp_trial_external_setup(&s->spec, where, local_rank, err) != 0 ||
                                   ext_lanes(a, s, threads, err) != 0))
            code = HP_EXIT_USAGE;
    } else if (code == HP_EXIT_OK && (size == 1 || rank != 0) && open_devices(a, s, local_rank, threads, err) != 0) {
        code = HP_EXIT_FAILURE;
    }
    /* The data: collective over each node (one shared copy, nodedata.h), so agree first. */
    if ((code = agree(code, comm, rank, err)) != HP_EXIT_OK) goto out;
    if (!s->spec.ext.enabled && hp_splits_load_node(&s->spec, rank == 0, comm, &s->data, &s->node_data, err) != 0)
        code = HP_EXIT_FAILURE;
    if (code == HP_EXIT_OK && s->gpus[0] && check_memory(s, err) != 0) code = HP_EXIT_FAILURE;
    if ((code = agree(code, comm, rank, err)) != HP_EXIT_OK) goto out;

    hp_results *res = NULL;
    if (rank == 0 && hp_stop_signal) { /* stopped before anything was written */
        code = HP_EXIT_INTERRUPTED;
        hp_errf(err, "interrupted by %s before the sweep started; %s%s: run the same command again",
                hp_signal_name(hp_stop_signal), s->mode == MODE_NEW ? "nothing was written" : s->path,
                s->mode == MODE_NEW ? "" : " is unchanged");
    }
    if (rank == 0 && code == HP_EXIT_OK)
        code = s->mode == MODE_NEW ? create_results(a, s, &res, err) : reopen_results(a, s, &res, err);
    if ((code = agree(code, comm, rank, err)) != HP_EXIT_OK) {
        if (res) hp_results_close(res, NULL);
        goto out;
    }
    code = rank == 0 ? coordinate(a, s, res, size, comm, err) : train_ranks(s, rank, comm, err);
out:
    for (int i = 0; i < HP_MAX_PACK; i++) hp_device_close(s->gpus[i]);
    hp_resume_free(&s->resume);
    hp_splits_free_node(&s->data, &s->node_data);
    hp_spec_free(&s->spec);
    free(s);
    return code;
}

int hp_sweep_main(int argc, char **argv, hp_sweep_parse_fn parse) {
    int provided = MPI_THREAD_FUNNELED; /* alone, lanes are threads of this process: as FUNNELED */
    const char *cmd = argc > 0 ? argv[0] : "run";
    /* Before MPI_Init too: a signal while MPI starts (which can take a second) then stops the
     * sweep before it begins, instead of being lost. Again after it, in case MPI replaced them. */
    int handlers = hp_signals_install();
    /* Started without mpirun: one process, and MPI is not initialised at all (mpi_util.h). */
    int with_mpi = hp_mpi_launched();
    MPI_Comm comm = with_mpi ? MPI_COMM_WORLD : MPI_COMM_NULL;
    /* FUNNELED: with --pack, lanes train in threads, and only the main thread calls MPI. */
    if (with_mpi && MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        hp_cli_error(cmd, "MPI_Init failed: is Open MPI installed and working? (try 'mpirun -np 1 true')");
        return HP_EXIT_FAILURE;
    }
    int rank = 0, size = 1;
    if (with_mpi) {
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &size);
    }
    if ((hp_signals_install() != 0 || handlers != 0) && rank == 0)
        fprintf(stderr, "hpsweep %s: warning: cannot install signal handlers; a signal will stop it abruptly\n", cmd);

    hp_sweep_args a;
    int code = parse(argc, argv, rank == 0, &a);
    if (code < 0) {
        hp_err err = {{0}};
        code = run_ranks(&a, comm, rank, size, provided, &err);
        if (code != HP_EXIT_OK && err.msg[0]) {
            if (size > 1)
                fprintf(stderr, "hpsweep %s (rank %d): %s\n", a.cmd, rank, err.msg);
            else
                fprintf(stderr, "hpsweep %s: %s\n", a.cmd, err.msg);
        }
    }
    /* Interrupted under mpirun: mpirun, which forwarded the signal, is tearing the job down and
     * would not complete MPI_Finalize's handshake (the ranks would hang until it kills them),
     * so exit at once: the results file is closed already and trainer ranks never touch it. */
    if (code == HP_EXIT_INTERRUPTED && size > 1) {
        fflush(NULL);
        _exit(code);
    }
    if (with_mpi) MPI_Finalize();
    return code;
}
