/* cmd_run.c - `hpsweep run SPEC.yaml [-o FILE]`: a staged sweep, alone or under mpirun.
 *
 * Every rank reads the spec and the data; rank 0 creates the results file and coordinates;
 * ranks 1..N-1 train. Before anything is written, all ranks agree (MPI_Allreduce) that the
 * spec and data loaded everywhere, so bad input never leaves a half-made file behind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "cli.h"
#include "coordinator.h"
#include "dataload.h"
#include "mpi_util.h"
#include "protocol.h"
#include "results.h"
#include "sha256.h"
#include "spec.h"
#include "worker.h"

static void run_usage(FILE *f) {
    fprintf(f,
            "usage: hpsweep run SPEC.yaml [-o FILE.h5] [--force] [--threads T] [--quiet]\n"
            "       mpirun -np N hpsweep run SPEC.yaml -o FILE.h5     (rank 0 coordinates, 1..N-1 train)\n"
            "\n"
            "Run the staged hyperparameter search of the spec's search: section and record every\n"
            "trial, epoch and best snapshot in one HDF5 file; finally evaluate the best trial on the\n"
            "test split, once. Inspect the file with 'hpsweep show FILE.h5' (also while it runs).\n"
            "\n"
            "options:\n"
            "  -o, --output FILE  results file (default: NAME.h5, NAME being the spec's name)\n"
            "  --force            overwrite FILE if it exists\n"
            "  --threads T        compute threads per trainer rank (default: OPENBLAS_NUM_THREADS or\n"
            "                     OMP_NUM_THREADS if set, else the node's cores divided among the\n"
            "                     trainer ranks on it); results do not depend on it\n"
            "  --quiet            no per-stage and per-trial lines, only the summary at the end\n"
            "  -h, --help         this text\n"
            "\n"
            "exit codes: 0 done, 1 run-time failure, 2 bad command line or spec, 3 FILE exists\n");
}

typedef struct run_args {
    const char *spec_path;
    const char *output;
    int force, quiet;
    long long threads;
} run_args;

/* Returns -1 on success (continue), else an exit code. Prints only if `loud`. */
static int parse_args(int argc, char **argv, int loud, run_args *a) {
    const char *cmd = "run", *val = NULL;
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        int r;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            if (loud) run_usage(stdout);
            return HP_EXIT_OK;
        } else if ((r = hp_cli_opt(argc, argv, &i, cmd, "--output", "-o", 1, &val)) != 0) {
            if (r < 0) return HP_EXIT_USAGE;
            a->output = val;
        } else if ((r = hp_cli_opt(argc, argv, &i, cmd, "--threads", NULL, 1, &val)) != 0) {
            if (r < 0 || hp_cli_int(cmd, "--threads", val, 1, 4096, &a->threads) != 0) return HP_EXIT_USAGE;
        } else if (strcmp(argv[i], "--force") == 0) {
            a->force = 1;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            a->quiet = 1;
        } else if (argv[i][0] == '-') {
            if (loud) hp_cli_error(cmd, "unknown option '%s' (see 'hpsweep run --help')", argv[i]);
            return HP_EXIT_USAGE;
        } else if (a->spec_path) {
            if (loud) hp_cli_error(cmd, "one spec file expected, got '%s' and '%s'", a->spec_path, argv[i]);
            return HP_EXIT_USAGE;
        } else {
            a->spec_path = argv[i];
        }
    }
    if (!a->spec_path) {
        if (loud) run_usage(stderr);
        return HP_EXIT_USAGE;
    }
    return -1;
}

/* Compute threads of a trainer rank: --threads, else OPENBLAS_NUM_THREADS or OMP_NUM_THREADS,
 * else the node's cores shared among the trainer ranks on it (rank 0 only coordinates when
 * there are others). Results do not depend on the choice (trainer/cpu/gemm.h). */
static int choose_threads(const run_args *a, int size, int rank, MPI_Comm comm, hp_err *err) {
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
    int cores = hp_backend_cpu_cores();
    int t = trainers > 0 ? cores / trainers : cores;
    return t < 1 ? 1 : t;
}

/* Agree across ranks on how a step went: returns the worst (largest) code of all. A rank
 * other than 0 keeps its own message only where rank 0 succeeded, so that an error every rank
 * meets (a bad spec, a missing data file) is printed once, by rank 0. */
static int agree(int code, MPI_Comm comm, int rank, hp_err *err) {
    int worst = code, root = code;
    if (MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS ||
        MPI_Bcast(&root, 1, MPI_INT, 0, comm) != MPI_SUCCESS)
        return HP_EXIT_FAILURE;
    if (rank != 0 && root != HP_EXIT_OK) err->msg[0] = '\0';
    return worst;
}

static int create_results(const hp_spec *spec, const hp_splits *data, const run_args *a, const char *path,
                          hp_results **out, hp_err *err) {
    struct stat sb;
    if (stat(path, &sb) == 0) {
        if (!a->force) {
            hp_errf(err, "%s exists; pass --force to overwrite it, or -o to write elsewhere", path);
            return HP_EXIT_EXISTS;
        }
        if (unlink(path) != 0) {
            hp_errf(err, "cannot remove %s for --force: %s", path, strerror(errno));
            return HP_EXIT_FAILURE;
        }
    }
    hp_model *m = NULL;
    if (hp_model_create(&spec->model, data->train.c, data->train.h, data->train.w, spec->data.nclasses, 1, &m,
                        err) != 0) {
        hp_err_prefix(err, "%s", spec->path);
        return HP_EXIT_USAGE;
    }
    const hp_tensor_info *layout = NULL;
    int ntensors = hp_model_layout(m, &layout);
    hp_results_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.spec_yaml = spec->text;
    meta.spec_len = spec->text_len;
    hp_sha256_hex(spec->text, spec->text_len, meta.spec_sha256);
    meta.seed = spec->seed;
    meta.data_hash[0] = hp_dataset_hash(&data->train);
    meta.data_hash[1] = hp_dataset_hash(&data->val);
    meta.data_hash[2] = hp_dataset_hash(&data->test);
    int rc = hp_results_create(path, &meta, layout, ntensors, out, err);
    hp_model_free(m);
    return rc == 0 ? HP_EXIT_OK : HP_EXIT_FAILURE;
}

static int run_ranks(const run_args *a, int rank, int size, hp_err *err) {
    MPI_Comm comm = MPI_COMM_WORLD;
    hp_spec spec;
    hp_splits data;
    memset(&spec, 0, sizeof spec);
    memset(&data, 0, sizeof data);
    int code = HP_EXIT_OK;
    if (hp_spec_load(a->spec_path, &spec, err) != 0) {
        code = HP_EXIT_USAGE;
    } else if (!spec.has_search) {
        hp_errf(err, "%s has no search: section; add one (see docs/spec.md) or use 'hpsweep train'", a->spec_path);
        code = HP_EXIT_USAGE;
    }
    if ((code = agree(code, comm, rank, err)) != HP_EXIT_OK) goto out;

    int threads = choose_threads(a, size, rank, comm, err);
    code = threads < 0 ? HP_EXIT_FAILURE : HP_EXIT_OK;
    if (threads > 0) hp_backend_set_threads(threads);

    if (code == HP_EXIT_OK && hp_splits_load(&spec, rank == 0, &data, err) != 0) code = HP_EXIT_FAILURE;
    if ((code = agree(code, comm, rank, err)) != HP_EXIT_OK) goto out;

    char path[HP_PATH_MAX + 8];
    if (a->output)
        snprintf(path, sizeof path, "%s", a->output);
    else
        snprintf(path, sizeof path, "%s.h5", spec.name);

    hp_results *res = NULL;
    if (rank == 0) code = create_results(&spec, &data, a, path, &res, err);
    if ((code = agree(code, comm, rank, err)) != HP_EXIT_OK) goto out;

    if (rank == 0) {
        char backend[128];
        hp_backend_describe(backend, sizeof backend);
        if (!a->quiet) {
            printf("hpsweep %s: %s, %lld trials in %d stage%s, %s -> %s\n", HPSWEEP_VERSION, spec.name,
                   (long long)hp_search_total_trials(&spec), spec.search.nstages, spec.search.nstages == 1 ? "" : "s",
                   size > 1 ? "coordinator + trainer ranks" : "training alone", path);
            if (size > 1)
                printf("ranks: 1 coordinator + %d trainer%s\n", size - 1, size - 1 == 1 ? "" : "s");
            else
                printf("backend: %s\n", backend);
            fflush(stdout);
        }
        hp_coord_opts opts = {size - 1, comm, a->quiet, isatty(STDERR_FILENO) && !a->quiet};
        hp_coord_stats stats;
        int crc = hp_coordinate(&spec, &data, res, &opts, &stats, err);
        hp_err cerr = {{0}};
        int close_rc = hp_results_close(res, &cerr);
        if (crc != 0) {
            code = HP_EXIT_FAILURE;
            if (size > 1) {
                fprintf(stderr, "hpsweep run: %s\n", err->msg);
                fprintf(stderr, "hpsweep run: aborting the trainer ranks; %s keeps every trial recorded so far\n", path);
                fflush(stderr);
                MPI_Abort(comm, HP_EXIT_FAILURE);
            }
        } else if (close_rc != 0) {
            *err = cerr;
            code = HP_EXIT_FAILURE;
        } else {
            int n = size > 1 ? size - 1 : 1;
            double per = stats.trials ? 1e3 / (double)stats.trials : 0;
            printf("done: %lld trials in %.1f s; trainer utilisation %.1f%%, idle trainer time %.2f ms per trial, "
                   "recording %.2f ms per trial\nresults: %s (see 'hpsweep show %s')\n",
                   (long long)stats.trials, stats.wall, 100 * stats.utilisation,
                   (stats.wall * n - stats.busy) * per, stats.record * per, path, path);
        }
    } else {
        hp_msg_ready me;
        memset(&me, 0, sizeof me);
        me.protocol_version = HP_PROTOCOL_VERSION;
        me.sizeof_plan = (int)sizeof(hp_trial_plan);
        me.sizeof_epoch = (int)sizeof(hp_msg_epoch);
        me.sizeof_result = (int)sizeof(hp_msg_result);
        me.blas_threads = hp_backend_threads();
        me.gpu = -1;
        if (gethostname(me.host, sizeof me.host) != 0) snprintf(me.host, sizeof me.host, "unknown");
        me.host[sizeof me.host - 1] = '\0';
        hp_backend_describe(me.device, sizeof me.device);
        if (hp_worker_run(&spec, &data, &me, comm, err) != 0) {
            fprintf(stderr, "hpsweep run (rank %d): %s\n", rank, err->msg);
            fflush(stderr);
            MPI_Abort(comm, HP_EXIT_FAILURE);
        }
    }
out:
    hp_splits_free(&data);
    hp_spec_free(&spec);
    return code;
}

int hp_cmd_run(int argc, char **argv) {
    int provided = 0;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_SINGLE, &provided) != MPI_SUCCESS) {
        hp_cli_error("run", "MPI_Init failed: is Open MPI installed and working? (try 'mpirun -np 1 true')");
        return HP_EXIT_FAILURE;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    run_args a;
    int code = parse_args(argc, argv, rank == 0, &a);
    if (code < 0) {
        hp_err err = {{0}};
        code = run_ranks(&a, rank, size, &err);
        if (code != HP_EXIT_OK && err.msg[0]) {
            if (size > 1)
                fprintf(stderr, "hpsweep run (rank %d): %s\n", rank, err.msg);
            else
                fprintf(stderr, "hpsweep run: %s\n", err.msg);
        }
    }
    MPI_Finalize();
    return code;
}
