/* cmd_show.c - `hpsweep show FILE`: summarise a results file (results/show.h does the work). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mpi_util.h"
#include "show.h"
#include "spec.h"

static void show_usage(FILE *f) {
    fprintf(f,
            "usage: hpsweep show FILE.h5 [--top N] [--json] [--watch [SECONDS]]\n"
            "\n"
            "Summarise a results file: the stages with their ranges and how they were derived,\n"
            "trial counts by status, the top trials by validation accuracy, warnings (best trial at\n"
            "the edge of a range, diverged and failed trials), and the final test result. Works while\n"
            "a sweep is still writing the file.\n"
            "\n"
            "options:\n"
            "  --top N            rows in the top-trials table (default 10)\n"
            "  --json             one JSON object instead of text, for scripts\n"
            "  --watch [SECONDS]  redraw every SECONDS (default 2) until interrupted\n"
            "  -h, --help         this text\n");
}

int hp_cmd_show(int argc, char **argv) {
    const char *cmd = "show", *path = NULL, *val = NULL;
    hp_show_opts opts = {.top_n = 10, .json = 0, .spec_synthetic = hp_spec_text_synthetic};
    double watch = 0;
    for (int i = 1; i < argc; i++) {
        int r;
        long long n = 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            show_usage(stdout);
            return HP_EXIT_OK;
        } else if ((r = hp_cli_opt(argc, argv, &i, cmd, "--top", NULL, 1, &val)) != 0) {
            if (r < 0 || hp_cli_int(cmd, "--top", val, 1, 1000000, &n) != 0) return HP_EXIT_USAGE;
            opts.top_n = (int)n;
        } else if (strcmp(argv[i], "--json") == 0) {
            opts.json = 1;
        } else if (strcmp(argv[i], "--watch") == 0) {
            watch = 2;
            if (i + 1 < argc && argv[i + 1][0] != '-' && strstr(argv[i + 1], ".h5") == NULL) {
                if (hp_cli_double(cmd, "--watch", argv[++i], &watch) != 0) return HP_EXIT_USAGE;
                if (watch <= 0) return hp_cli_error(cmd, "--watch needs a positive interval"), HP_EXIT_USAGE;
            }
        } else if (hp_cli_one_file(cmd, argv[i], &path) != 0) {
            return HP_EXIT_USAGE;
        }
    }
    if (!path) {
        show_usage(stderr);
        return HP_EXIT_USAGE;
    }
    hp_err err = {{0}};
    for (;;) {
        if (watch > 0) printf("\033[H\033[2J");
        if (hp_show(path, &opts, stdout, &err) != 0) {
            hp_cli_error(cmd, "%s", err.msg);
            return HP_EXIT_FAILURE;
        }
        fflush(stdout);
        if (watch <= 0) return HP_EXIT_OK;
        hp_sleep_us((long)(watch * 1e6));
    }
}
