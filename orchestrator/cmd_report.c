/* cmd_report.c - `hpsweep report FILE` (one self-contained HTML page), `hpsweep report A B` (two
 * sweeps side by side), `hpsweep export FILE --csv` (the trials and curves tables as CSV;
 * results/report.h does the work) and `hpsweep export FILE --spec` (a trial's training spec,
 * export_spec.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "export_spec.h"
#include "outfile.h"
#include "report.h"
#include "spec.h"

static void report_usage(FILE *f) {
    fprintf(f,
            "usage: hpsweep report FILE.h5 [-o REPORT.html] [--top N]\n"
            "       hpsweep report A.h5 B.h5 [-o COMPARE.html] [--top N]\n"
            "\n"
            "Write one self-contained HTML page about a sweep (no network, no scripts): the searched\n"
            "space with each stage's range, best validation accuracy against lr and weight decay, the\n"
            "learning curves of the top trials, the update/weight ratio per epoch, a wall of every\n"
            "trial's validation curve, and the stages, counts, warnings and test result `show` gives.\n"
            "Works while a sweep is still writing the file. docs/report.md explains each chart.\n"
            "With two files: one page comparing them side by side (summaries, the searched spaces on the\n"
            "same axes and colour scale, the best accuracy per stage, each file's top learning curves).\n"
            "\n"
            "options:\n"
            "  -o, --output FILE  the page to write (default: FILE.h5's name with .html, beside it; for\n"
            "                     two files A-vs-B.html beside A)\n"
            "  --top N            trials in the learning-curve charts (default 5)\n"
            "  -h, --help         this text\n");
}

/* PATH with its .h5 extension (if any) replaced by EXT, into buf; -1 when it does not fit. */
static int default_out(const char *path, const char *ext, char *buf, size_t n) {
    size_t len = strlen(path);
    if (len >= 3 && strcmp(path + len - 3, ".h5") == 0) len -= 3;
    return (size_t)snprintf(buf, n, "%.*s%s", (int)len, path, ext) < n ? 0 : -1;
}

/* Would writing `out` replace the results file itself (the same file under any name)? */
static int same_file(const char *path, const char *out) {
    struct stat a, b;
    return stat(path, &a) == 0 && stat(out, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The file arguments, -o and --top of a report command line; 1: --help was given. */
static int parse_args(int argc, char **argv, const char *cmd, void (*usage)(FILE *), const char **path,
                      const char **path2, const char **out, int *top) {
    const char *val = NULL;
    for (int i = 1; i < argc; i++) {
        int r;
        long long n = 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 1;
        } else if ((r = hp_cli_opt(argc, argv, &i, cmd, "--output", "-o", 1, &val)) != 0) {
            if (r < 0) return -1;
            *out = val;
        } else if (top && (r = hp_cli_opt(argc, argv, &i, cmd, "--top", NULL, 1, &val)) != 0) {
            if (r < 0 || hp_cli_int(cmd, "--top", val, 1, 1000, &n) != 0) return -1;
            *top = (int)n;
        } else if (argv[i][0] == '-') {
            hp_cli_error(cmd, "unknown option '%s' (see 'hpsweep %s --help')", argv[i], cmd);
            return -1;
        } else if (*path && path2 && !*path2) {
            *path2 = argv[i];
        } else if (*path) {
            if (path2) hp_cli_error(cmd, "one or two results files expected, got a third: '%s'", argv[i]);
            else hp_cli_error(cmd, "one results file expected, got '%s' and '%s'", *path, argv[i]);
            return -1;
        } else {
            *path = argv[i];
        }
    }
    if (!*path) {
        usage(stderr);
        return -1;
    }
    return 0;
}

/* A-vs-B.html beside A: A's path without .h5, "-vs-", B's base name without .h5. */
static int compare_out(const char *a, const char *b, char *buf, size_t n) {
    const char *base = strrchr(b, '/');
    base = base ? base + 1 : b;
    size_t lb = strlen(base);
    if (lb >= 3 && strcmp(base + lb - 3, ".h5") == 0) lb -= 3;
    char tail[4096];
    if ((size_t)snprintf(tail, sizeof tail, "-vs-%.*s.html", (int)lb, base) >= sizeof tail) return -1;
    return default_out(a, tail, buf, n);
}

/* Would writing `out` replace either results file? Says so on stderr. */
static int replaces_input(const char *cmd, const char *a, const char *b, const char *out) {
    if (!same_file(a, out) && !(b && same_file(b, out))) return 0;
    hp_cli_error(cmd, "%s: the page would replace the results file; choose another -o", out);
    return 1;
}

int hp_cmd_report(int argc, char **argv) {
    const char *cmd = "report", *path = NULL, *path2 = NULL, *out = NULL;
    hp_report_opts opts = {.top_n = 5, .spec_synthetic = hp_spec_text_synthetic};
    int r = parse_args(argc, argv, cmd, report_usage, &path, &path2, &out, &opts.top_n);
    if (r != 0) return r > 0 ? HP_EXIT_OK : HP_EXIT_USAGE;
    char buf[4096];
    if (!out && path2 && compare_out(path, path2, buf, sizeof buf) != 0) {
        hp_cli_error(cmd, "%s: the path is too long", path);
        return HP_EXIT_USAGE;
    }
    if (!out && !path2 && default_out(path, ".html", buf, sizeof buf) != 0) {
        hp_cli_error(cmd, "%s: the path is too long", path);
        return HP_EXIT_USAGE;
    }
    if (replaces_input(cmd, path, path2, out ? out : buf)) return HP_EXIT_USAGE;
    hp_err err = {{0}};
    if ((path2 ? hp_report_compare(path, path2, out ? out : buf, &opts, &err)
               : hp_report(path, out ? out : buf, &opts, &err)) != 0) {
        hp_cli_error(cmd, "%s", err.msg);
        return HP_EXIT_FAILURE;
    }
    printf("wrote %s\n", out ? out : buf);
    return HP_EXIT_OK;
}

static void export_usage(FILE *f) {
    fprintf(f,
            "usage: hpsweep export FILE.h5 --csv [-o DIR]\n"
            "       hpsweep export FILE.h5 --spec [--trial N] [-o SPEC.yaml | -o -]\n"
            "\n"
            "--csv: write the /trials and /curves tables of a results file as DIR/trials.csv and\n"
            "DIR/curves.csv: a header row with the tables' column names, one row per table row (RFC 4180;\n"
            "status by name, NaN as an empty field).\n"
            "--spec: write the best trial's spec (or trial N's), to train it again or for longer: the spec\n"
            "the sweep ran with the trial's searched values set, without its search: section, train.epochs\n"
            "the trial's and init_seed its seed, so 'hpsweep train SPEC.yaml' repeats the trial's epochs\n"
            "(docs/report.md). Both work while a sweep is still writing the file.\n"
            "\n"
            "options:\n"
            "  --csv              CSV files\n"
            "  --spec             a training spec (YAML)\n"
            "  --trial N          with --spec: trial N instead of the best (a done or pruned trial)\n"
            "  -o, --output PATH  --csv: the folder to write into, created if missing (default: FILE.h5's\n"
            "                     name with -csv, beside it); --spec: the file (default: FILE.h5's name\n"
            "                     with -best.yaml or -trial-N.yaml, beside it; '-': standard output)\n"
            "  -h, --help         this text\n");
}

int hp_cmd_export(int argc, char **argv) {
    const char *cmd = "export", *path = NULL, *out = NULL, *val = NULL;
    int csv = 0, spec = 0;
    long long trial = -1;
    for (int i = 1; i < argc; i++) {
        int r;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            export_usage(stdout);
            return HP_EXIT_OK;
        } else if ((r = hp_cli_opt(argc, argv, &i, cmd, "--output", "-o", 1, &val)) != 0) {
            if (r < 0) return HP_EXIT_USAGE;
            out = val;
        } else if ((r = hp_cli_opt(argc, argv, &i, cmd, "--trial", NULL, 1, &val)) != 0) {
            if (r < 0 || hp_cli_int(cmd, "--trial", val, 0, INT64_MAX / 2, &trial) != 0) return HP_EXIT_USAGE;
        } else if (strcmp(argv[i], "--csv") == 0) {
            csv = 1;
        } else if (strcmp(argv[i], "--spec") == 0) {
            spec = 1;
        } else if (hp_cli_one_file(cmd, argv[i], &path) != 0) {
            return HP_EXIT_USAGE;
        }
    }
    if (!path) {
        export_usage(stderr);
        return HP_EXIT_USAGE;
    }
    if (csv == spec) {
        hp_cli_error(cmd, "choose one format: --csv or --spec (see 'hpsweep export --help')");
        return HP_EXIT_USAGE;
    }
    if (trial >= 0 && !spec) {
        hp_cli_error(cmd, "--trial goes with --spec");
        return HP_EXIT_USAGE;
    }
    char buf[4096];
    hp_err err = {{0}};
    if (spec) {
        char tail[48];
        if (trial >= 0) snprintf(tail, sizeof tail, "-trial-%lld.yaml", trial);
        else snprintf(tail, sizeof tail, "-best.yaml");
        if (!out && default_out(path, tail, buf, sizeof buf) != 0) {
            hp_cli_error(cmd, "%s: the path is too long", path);
            return HP_EXIT_USAGE;
        }
        const char *dest = out ? out : buf;
        int to_stdout = strcmp(dest, "-") == 0;
        if (!to_stdout && same_file(path, dest)) {
            hp_cli_error(cmd, "%s: the spec would replace the results file; choose another -o", dest);
            return HP_EXIT_USAGE;
        }
        char *text = NULL;
        size_t len = 0;
        int64_t which = -1;
        int rc = hp_export_trial_spec(path, trial, &text, &len, &which, &err);
        if (rc == 0 && to_stdout) {
            rc = fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : hp_errf(&err, "writing to standard output failed");
        } else if (rc == 0) { /* whole or not at all (outfile.h) */
            hp_outfile o;
            rc = hp_outfile_open(&o, dest, &err);
            if (rc == 0 && fwrite(text, 1, len, o.f) != len) {
                hp_outfile_abort(&o);
                rc = hp_errf(&err, "%s: writing failed", dest);
            } else if (rc == 0) {
                rc = hp_outfile_commit(&o, &err);
            }
        }
        free(text);
        if (rc != 0) {
            hp_cli_error(cmd, "%s", err.msg);
            return HP_EXIT_FAILURE;
        }
        if (!to_stdout) printf("wrote %s (trial %lld); train it with: hpsweep train %s\n", dest, (long long)which, dest);
        return HP_EXIT_OK;
    }
    if (!out && default_out(path, "-csv", buf, sizeof buf) != 0) {
        hp_cli_error(cmd, "%s: the path is too long", path);
        return HP_EXIT_USAGE;
    }
    long long nt = 0, nc = 0;
    if (hp_export_csv(path, out ? out : buf, &nt, &nc, &err) != 0) {
        hp_cli_error(cmd, "%s", err.msg);
        return HP_EXIT_FAILURE;
    }
    printf("wrote %s/trials.csv (%lld rows) and %s/curves.csv (%lld rows)\n", out ? out : buf, nt, out ? out : buf, nc);
    return HP_EXIT_OK;
}
