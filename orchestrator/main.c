/* main.c - hpsweep's entry point: dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    hp_cmd_fn fn;
    const char *summary;
} commands[] = {
    {"run", hp_cmd_run, "run a staged hyperparameter sweep (alone, or under mpirun)"},
    {"resume", hp_cmd_resume, "continue an interrupted sweep from its results file"},
    {"train", hp_cmd_train, "train one model from a spec, no search"},
    {"show", hp_cmd_show, "summarise a results file (also while the sweep writes it)"},
    {"report", hp_cmd_report, "write one self-contained HTML page of charts about a results file (or two)"},
    {"serve", hp_cmd_serve, "serve a results file's report over HTTP while the sweep runs (ssh tunnel)"},
    {"plot", hp_cmd_plot, "draw one chart of the report as PNG, SVG or PDF (cairo)"},
    {"export", hp_cmd_export, "write a results file's trials and curves as CSV (--csv), or a trial's spec (--spec)"},
    {"check", hp_cmd_check, "validate a spec, load its data, run the sanity checks (--dump: print it resolved)"},
};
enum { NCOMMANDS = sizeof commands / sizeof commands[0] };

static void usage(FILE *f) {
    fprintf(f,
            "hpsweep %s - staged hyperparameter search for neural networks\n"
            "\n"
            "usage: hpsweep COMMAND [ARGS]\n"
            "\n"
            "commands:\n",
            HPSWEEP_VERSION);
    for (int i = 0; i < NCOMMANDS; i++) fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\n"
            "'hpsweep COMMAND --help' describes each command. 'hpsweep --version' prints the version.\n"
            "Quick start: hpsweep run sweeps/quickstart.yaml -o quickstart.h5 && hpsweep show quickstart.h5\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return HP_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return HP_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("hpsweep %s\n", HPSWEEP_VERSION);
        return HP_EXIT_OK;
    }
    for (int i = 0; i < NCOMMANDS; i++)
        if (strcmp(cmd, commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "hpsweep: unknown command '%s'; commands are:", cmd);
    for (int i = 0; i < NCOMMANDS; i++) fprintf(stderr, " %s", commands[i].name);
    fprintf(stderr, " (see 'hpsweep --help')\n");
    return HP_EXIT_USAGE;
}
