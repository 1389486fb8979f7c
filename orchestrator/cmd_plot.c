/* cmd_plot.c - `hpsweep plot FILE.h5 KIND -o OUT.png|.svg|.pdf [--size WxH]`: one of the report's
 * charts as an image file, drawn with cairo (results/chart.h does the work). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "cli.h"

#define DEFAULT_W 800
#define DEFAULT_H 600
#define MIN_SIDE 200
#define MAX_SIDE 10000

static void plot_usage(FILE *f) {
    fprintf(f,
            "usage: hpsweep plot FILE.h5 KIND -o OUT.png|OUT.svg|OUT.pdf [--size WxH] [--top N]\n"
            "\n"
            "Draw one chart of the report (docs/report.md) as a PNG, SVG or PDF file (by OUT's extension),\n"
            "for a paper, a slide or a terminal without a browser. KIND is one of:\n"
            "  space     every trial at its lr and weight decay, coloured by best validation accuracy\n"
            "  accuracy  best validation accuracy against lr and against weight decay\n"
            "  curves    training and validation loss and accuracy of the top trials\n"
            "  ratio     the update/weight ratio per epoch against the 1e-3 band\n"
            "  wall      every trial's validation accuracy, one small chart each\n"
            "\n"
            "options:\n"
            "  -o, --output OUT  the file to write (required)\n"
            "  --size WxH        pixels (PNG) or points (SVG, PDF), each %d to %d (default %dx%d)\n"
            "  --top N           trials in the curves and ratio charts (default 5)\n"
            "  -h, --help        this text\n",
            MIN_SIDE, MAX_SIDE, DEFAULT_W, DEFAULT_H);
}

/* "800x600" into *w, *h; -1 (with a message) when it does not parse or is out of range. */
static int parse_size(const char *s, int *w, int *h) {
    char *end = NULL;
    long a = strtol(s, &end, 10), b = 0;
    int ok = end != s && (*end == 'x' || *end == 'X');
    if (ok) {
        const char *p = end + 1;
        b = strtol(p, &end, 10);
        ok = end != p && *end == '\0';
    }
    if (!ok || a < MIN_SIDE || a > MAX_SIDE || b < MIN_SIDE || b > MAX_SIDE) {
        hp_cli_error("plot", "--size expects WxH, each %d to %d (e.g. %dx%d), got '%s'", MIN_SIDE, MAX_SIDE,
                     DEFAULT_W, DEFAULT_H, s);
        return -1;
    }
    *w = (int)a, *h = (int)b;
    return 0;
}

typedef struct plot_args {
    const char *path, *kind, *out;
    int w, h, top;
} plot_args;

/* 0 parsed, 1 --help, -1 usage error (printed). */
static int plot_parse(int argc, char **argv, plot_args *a) {
    const char *cmd = "plot", *val = NULL;
    for (int i = 1; i < argc; i++) {
        int r;
        long long n = 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            plot_usage(stdout);
            return 1;
        } else if ((r = hp_cli_opt(argc, argv, &i, cmd, "--output", "-o", 1, &val)) != 0) {
            if (r < 0) return -1;
            a->out = val;
        } else if ((r = hp_cli_opt(argc, argv, &i, cmd, "--size", NULL, 1, &val)) != 0) {
            if (r < 0 || parse_size(val, &a->w, &a->h) != 0) return -1;
        } else if ((r = hp_cli_opt(argc, argv, &i, cmd, "--top", NULL, 1, &val)) != 0) {
            if (r < 0 || hp_cli_int(cmd, "--top", val, 1, 1000, &n) != 0) return -1;
            a->top = (int)n;
        } else if (argv[i][0] == '-') {
            hp_cli_error(cmd, "unknown option '%s' (see 'hpsweep plot --help')", argv[i]);
            return -1;
        } else if (!a->path) {
            a->path = argv[i];
        } else if (!a->kind) {
            a->kind = argv[i];
        } else {
            hp_cli_error(cmd, "unexpected argument '%s': give FILE.h5 KIND -o OUT", argv[i]);
            return -1;
        }
    }
    if (!a->path || !a->kind) {
        plot_usage(stderr);
        return -1;
    }
    return 0;
}

/* The checks that need no file: the kind, the output and its format, cairo. */
static int plot_check(const plot_args *a, int *kind) {
    const char *cmd = "plot";
    *kind = hp_chart_kind_parse(a->kind);
    if (*kind < 0) {
        hp_cli_error(cmd, "unknown chart '%s': choose space, accuracy, curves, ratio or wall", a->kind);
        return -1;
    }
    if (!a->out) {
        hp_cli_error(cmd, "give the file to write with -o OUT.png, OUT.svg or OUT.pdf");
        return -1;
    }
    if (hp_chart_format_of(a->out) < 0) {
        hp_cli_error(cmd, "%s: unknown format: name it .png, .svg or .pdf", a->out);
        return -1;
    }
    if (!hp_chart_have_cairo()) {
        hp_err err = {{0}};
        hp_chart_write(a->path, (hp_chart_kind)*kind, a->out, a->w, a->h, a->top, &err);
        hp_cli_error(cmd, "%s", err.msg);
        return -1;
    }
    return 0;
}

int hp_cmd_plot(int argc, char **argv) {
    plot_args a = {.w = DEFAULT_W, .h = DEFAULT_H, .top = 5};
    int r = plot_parse(argc, argv, &a), kind = 0;
    if (r != 0) return r > 0 ? HP_EXIT_OK : HP_EXIT_USAGE;
    if (plot_check(&a, &kind) != 0) return HP_EXIT_USAGE;
    hp_err err = {{0}};
    if (hp_chart_write(a.path, (hp_chart_kind)kind, a.out, a.w, a.h, a.top, &err) != 0) {
        hp_cli_error("plot", "%s", err.msg);
        return HP_EXIT_FAILURE;
    }
    printf("wrote %s (%s, %dx%d)\n", a.out, a.kind, a.w, a.h);
    return HP_EXIT_OK;
}
