/* cmd_run.c - `hpsweep run SPEC.yaml [-o FILE]`: a staged sweep, alone or under mpirun.
 * The command line only; the sweep itself is cmd_sweep.c (shared with `hpsweep resume`). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_sweep.h"

static void run_usage(FILE *f) {
    fprintf(f,
            "usage: hpsweep run SPEC.yaml [-o FILE.h5] [--resume | --force] [--checkpoint-every N]\n"
            "                   [--threads T] [--pack K] [--quiet]\n"
            "       mpirun -np N hpsweep run SPEC.yaml -o FILE.h5     (rank 0 coordinates, 1..N-1 train)\n"
            "\n"
            "Run the staged hyperparameter search of the spec's search: section and record every\n"
            "trial, epoch and best snapshot in one HDF5 file; finally evaluate the best trial on the\n"
            "test split, once. Inspect the file with 'hpsweep show FILE.h5' (also while it runs).\n"
            "With a trainer: section, each trial is your own program instead (docs/external.md).\n"
            "\n"
            "options:\n"
            "  -o, --output FILE     results file (default: NAME.h5, NAME being the spec's name)\n"
            "  --resume              if FILE exists, continue it (its spec must be SPEC, byte for byte);\n"
            "                        if not, start it\n"
            "  --force               overwrite FILE if it exists\n"
            "  --checkpoint-every N  save running trials' state after every N-th epoch (default 1;\n"
            "                        0: never, then interrupted trials restart from their first epoch)\n"
            "  --threads T           compute threads per trainer rank (default: OPENBLAS_NUM_THREADS or\n"
            "                        OMP_NUM_THREADS if set, else the node's cores divided among the\n"
            "                        trainer ranks on it); results do not depend on it\n"
            "  --pack K              trials each training process trains at once, in threads, each with\n"
            "                        its own CUDA stream (default auto: 8 on a GPU, 1 on the CPU); results\n"
            "                        do not depend on it (docs/cuda.md, \"Packing\"); with a trainer:\n"
            "                        section, programs each rank runs at once (default trials_per_gpu)\n"
            "  --quiet               no per-stage and per-trial lines, only the summary at the end\n"
            "  -h, --help            this text\n"
            "\n"
            "SIGTERM, SIGINT (Ctrl-C), SIGUSR1 and SIGHUP stop the sweep cleanly (exit 4): continue it with\n"
            "'hpsweep resume FILE'. A second Ctrl-C exits at once; the file stays readable.\n"
            "exit codes: 0 done, 1 run-time failure, 2 bad command line or spec, 3 FILE exists (or\n"
            "cannot be continued), 4 interrupted (see docs/exit-codes.md)\n");
}

/* Returns -1 on success (continue), else an exit code. Prints only if `loud`. */
static int parse_run(int argc, char **argv, int loud, hp_sweep_args *a) {
    const char *cmd = "run", *val = NULL;
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    a->checkpoint_every = -1;
    for (int i = 1; i < argc; i++) {
        int r;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            if (loud) run_usage(stdout);
            return HP_EXIT_OK;
        } else if ((r = hp_cli_opt(argc, argv, &i, cmd, "--output", "-o", 1, &val)) != 0) {
            if (r < 0) return HP_EXIT_USAGE;
            if (!val[0]) {
                if (loud) hp_cli_error(cmd, "--output: the file name is empty");
                return HP_EXIT_USAGE;
            }
            a->output = val;
        } else if ((r = hp_sweep_common_opt(argc, argv, &i, loud, a)) != 0) {
            if (r < 0) return HP_EXIT_USAGE;
        } else if (strcmp(argv[i], "--force") == 0) {
            a->force = 1;
        } else if (strcmp(argv[i], "--resume") == 0) {
            a->resume = 1;
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
    if (a->force && a->resume) {
        if (loud) hp_cli_error(cmd, "--resume and --force contradict each other: continue FILE, or overwrite it");
        return HP_EXIT_USAGE;
    }
    return -1;
}

int hp_cmd_run(int argc, char **argv) { return hp_sweep_main(argc, argv, parse_run); }
