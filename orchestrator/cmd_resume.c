/* cmd_resume.c - `hpsweep resume FILE.h5`: continue an interrupted sweep, alone or under
 * mpirun. The spec is the one stored in the file; finished trials are kept, running ones
 * continue from their last checkpoint, the rest run as planned (resume.h, docs/resume.md). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_sweep.h"

static void resume_usage(FILE *f) {
    fprintf(f,
            "usage: hpsweep resume FILE.h5 [--checkpoint-every N] [--threads T] [--pack K] [--quiet]\n"
            "       mpirun -np N hpsweep resume FILE.h5\n"
            "\n"
            "Continue the sweep recorded in FILE.h5 after an interruption (a signal, a time limit, a\n"
            "crash, kill -9): finished trials are kept, trials that were running continue from their\n"
            "last checkpoint (or start again without one), the rest run as planned; the final results\n"
            "equal those of an uninterrupted run. A file whose writer was killed is recovered first.\n"
            "The spec comes from the file; the data files it names must be unchanged. On a finished\n"
            "sweep it does nothing and exits 0, so it can be repeated until it succeeds.\n"
            "\n"
            "options:\n"
            "  --checkpoint-every N  save running trials' state after every N-th epoch (default: as\n"
            "                        the sweep was started; 0: never)\n"
            "  --threads T           compute threads per trainer rank (see 'hpsweep run --help')\n"
            "  --pack K              trials each training process trains at once (see 'hpsweep run --help')\n"
            "  --quiet               no per-stage and per-trial lines\n"
            "  -h, --help            this text\n"
            "\n"
            "exit codes: 0 done, 1 run-time failure, 2 bad command line or not a results file,\n"
            "3 the data changed since the sweep started, 4 interrupted again (docs/exit-codes.md)\n");
}

static int parse_resume(int argc, char **argv, int loud, hp_sweep_args *a) {
    const char *cmd = "resume";
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    a->resume = 1;
    a->checkpoint_every = -1;
    for (int i = 1; i < argc; i++) {
        int r;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            if (loud) resume_usage(stdout);
            return HP_EXIT_OK;
        } else if ((r = hp_sweep_common_opt(argc, argv, &i, loud, a)) != 0) {
            if (r < 0) return HP_EXIT_USAGE;
        } else if (argv[i][0] == '-') {
            if (loud) hp_cli_error(cmd, "unknown option '%s' (see 'hpsweep resume --help')", argv[i]);
            return HP_EXIT_USAGE;
        } else if (a->output) {
            if (loud) hp_cli_error(cmd, "one results file expected, got '%s' and '%s'", a->output, argv[i]);
            return HP_EXIT_USAGE;
        } else {
            a->output = argv[i];
        }
    }
    if (!a->output) {
        if (loud) resume_usage(stderr);
        return HP_EXIT_USAGE;
    }
    if (!a->output[0]) {
        if (loud) hp_cli_error(cmd, "the results file name is empty");
        return HP_EXIT_USAGE;
    }
    return -1;
}

int hp_cmd_resume(int argc, char **argv) { return hp_sweep_main(argc, argv, parse_resume); }
