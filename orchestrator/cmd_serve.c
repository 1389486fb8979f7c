/* cmd_serve.c - `hpsweep serve FILE.h5 [--port P] [--bind ADDR]`: the report's page over HTTP,
 * regenerated from the file while a sweep writes it, for a browser on a laptop reaching a
 * cluster node through an ssh tunnel. One client at a time; http.h is the server, results/
 * report.h makes the page (read as a SWMR reader, as `show` does).
 *
 * The page is made again when the file's mtime or size changed, at most once per
 * REGEN_INTERVAL_MS; it carries <meta http-equiv="refresh"> so the browser reloads it. SIGINT,
 * SIGTERM (and SIGHUP, SIGUSR1) stop the server within POLL_MS: exit 4 (docs/exit-codes.md).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "http.h"
#include "report.h"
#include "spec.h"
#include "signals.h"

#define DEFAULT_PORT 8765
#define DEFAULT_REFRESH 5
#define REGEN_INTERVAL_MS 1000
#define POLL_MS 200           /* how often the accept loop looks at the stop flag */
#define READ_TIMEOUT_MS 2000  /* a client has this long to send its request */
#define WRITE_TIMEOUT_MS 5000 /* and to take each part of the answer */

static void serve_usage(FILE *f) {
    fprintf(f,
            "usage: hpsweep serve FILE.h5 [--port P] [--bind ADDR] [--refresh S] [--top N]\n"
            "\n"
            "Serve the report of a results file (the page `hpsweep report` writes) over HTTP, made again\n"
            "from the file when it changed (at most once a second), while a sweep is writing it; the page\n"
            "reloads itself every S seconds. Paths: / (also /report.html), /trials.csv and /curves.csv\n"
            "(as export --csv writes them). One client at a time. Ctrl-C stops it (exit 4). On a cluster\n"
            "node, from your laptop: ssh -L P:127.0.0.1:P NODE, then open http://127.0.0.1:P/ in a browser.\n"
            "\n"
            "options:\n"
            "  --port P      the TCP port, 1 to 65535 (default %d)\n"
            "  --bind ADDR   the IPv4 address to listen on (default 127.0.0.1: this machine only; 0.0.0.0\n"
            "                opens the page to anyone who can reach the port)\n"
            "  --refresh S   the browser reloads the page every S seconds, 1 to 3600 (default %d)\n"
            "  --top N       trials in the learning-curve charts (default 5)\n"
            "  -h, --help    this text\n",
            DEFAULT_PORT, DEFAULT_REFRESH);
}

typedef struct serve_opts {
    const char *path, *bind;
    int port;
    hp_report_opts rep;
} serve_opts;

/* Parse one option at argv[*i] into o; 0 ok, 1 not an option of serve, -1 bad value. */
static int serve_opt(int argc, char **argv, int *i, serve_opts *o) {
    const char *cmd = "serve", *val = NULL;
    long long n = 0;
    int r;
    if ((r = hp_cli_opt(argc, argv, i, cmd, "--port", "-p", 1, &val)) != 0) {
        if (r > 0 && strcmp(val, "0") == 0) {
            hp_cli_error(cmd, "--port 0 (any free port) is refused: choose a fixed port, 1 to 65535, so the "
                              "ssh tunnel can name it (default %d)", DEFAULT_PORT);
            return -1;
        }
        if (r < 0 || hp_cli_int(cmd, "--port", val, 1, 65535, &n) != 0) return -1;
        o->port = (int)n;
    } else if ((r = hp_cli_opt(argc, argv, i, cmd, "--bind", NULL, 1, &val)) != 0) {
        if (r < 0) return -1;
        struct in_addr a;
        if (inet_pton(AF_INET, val, &a) != 1) {
            hp_cli_error(cmd, "--bind %s: not an IPv4 address (127.0.0.1: this machine only, the default; "
                              "0.0.0.0: every interface)", val);
            return -1;
        }
        o->bind = val;
    } else if ((r = hp_cli_opt(argc, argv, i, cmd, "--refresh", NULL, 1, &val)) != 0) {
        if (r < 0 || hp_cli_int(cmd, "--refresh", val, 1, 3600, &n) != 0) return -1;
        o->rep.refresh_s = (int)n;
    } else if ((r = hp_cli_opt(argc, argv, i, cmd, "--top", NULL, 1, &val)) != 0) {
        if (r < 0 || hp_cli_int(cmd, "--top", val, 1, 1000, &n) != 0) return -1;
        o->rep.top_n = (int)n;
    } else {
        return 1;
    }
    return 0;
}

/* 0: parsed, 1: --help was given, -1: a usage error (printed). */
static int serve_args(int argc, char **argv, serve_opts *o) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            serve_usage(stdout);
            return 1;
        }
        int r = serve_opt(argc, argv, &i, o);
        if (r < 0) return -1;
        if (r == 0) continue;
        if (hp_cli_one_file("serve", argv[i], &o->path) != 0) return -1;
    }
    if (!o->path) {
        serve_usage(stderr);
        return -1;
    }
    return 0;
}

/* ---- the page, made again when the file changed ------------------------------------------------- */

/* What the server serves: the page and the two tables as CSV (as `export --csv` writes them). */
enum { RES_PAGE, RES_TRIALS, RES_CURVES, NRES };
static const char *const res_type[NRES] = {"text/html; charset=utf-8", "text/csv; charset=utf-8",
                                           "text/csv; charset=utf-8"};

typedef struct page_cache {
    int which;  /* RES_* */
    char *page;
    size_t len;
    struct timespec mtime;
    off_t size;
    double made_ms; /* when it was made (monotonic), or -1e18 */
    char err[1200]; /* the last failure to make it ("" when the last attempt worked) */
} page_cache;

static double mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* Make the page again if the file changed and the last one is at least REGEN_INTERVAL_MS old.
 * A failure keeps the previous page (a live file can be briefly unreadable) and records why. */
static void cache_update(page_cache *c, const serve_opts *o) {
    struct stat st;
    if (stat(o->path, &st) != 0) {
        snprintf(c->err, sizeof c->err, "%s: %s", o->path, strerror(errno));
        return;
    }
    int changed = !c->page || st.st_size != c->size || st.st_mtim.tv_sec != c->mtime.tv_sec ||
                  st.st_mtim.tv_nsec != c->mtime.tv_nsec;
    if (!changed || mono_ms() - c->made_ms < REGEN_INTERVAL_MS) return;
    char *page = NULL;
    size_t len = 0;
    hp_err err = {{0}};
    c->made_ms = mono_ms();
    int rc = c->which == RES_PAGE ? hp_report_mem(o->path, &o->rep, &page, &len, &err)
                                  : hp_export_csv_mem(o->path, c->which == RES_CURVES, &page, &len, &err);
    if (rc != 0) {
        snprintf(c->err, sizeof c->err, "%s", err.msg);
        return;
    }
    free(c->page);
    c->page = page, c->len = len, c->size = st.st_size, c->mtime = st.st_mtim;
    c->err[0] = '\0';
}

/* ---- one client ------------------------------------------------------------------------------ */

/* A short HTML page for an error status, reloading like the report. */
static int send_error(int fd, int status, const char *detail, int head_only) {
    char body[2048];
    int n = snprintf(body, sizeof body,
                     "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"/><title>%d %s</title></head><body>"
                     "<h1>%d %s</h1><p>%s</p><p><a href=\"/\">the report</a></p></body></html>\n",
                     status, hp_http_reason(status), status, hp_http_reason(status), detail);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof body ? (size_t)n : sizeof body - 1;
    const char *extra = status == 405 ? "Allow: GET, HEAD\r\n" : status == 503 ? "Retry-After: 2\r\n" : NULL;
    return hp_http_send(fd, status, "text/html; charset=utf-8", extra, body, len, head_only, WRITE_TIMEOUT_MS);
}

/* src with &, <, >, " and ' escaped for HTML into dst (cut short to fit). */
static void html_esc(const char *src, char *dst, size_t n) {
    size_t k = 0;
    for (; *src && k + 7 < n; src++) {
        const char *rep = *src == '&' ? "&amp;" : *src == '<' ? "&lt;" : *src == '>' ? "&gt;"
                          : *src == '"' ? "&quot;" : *src == '\'' ? "&#39;" : NULL;
        if (rep) k += (size_t)snprintf(dst + k, n - k, "%s", rep);
        else dst[k++] = *src;
    }
    dst[k] = '\0';
}

/* The resource a path names, or -1. */
static int resource(const char *path) {
    if (strcmp(path, "/") == 0 || strcmp(path, "/report.html") == 0) return RES_PAGE;
    if (strcmp(path, "/trials.csv") == 0) return RES_TRIALS;
    return strcmp(path, "/curves.csv") == 0 ? RES_CURVES : -1;
}

/* Read one request and answer it; returns the status sent (0: none, the client went away). */
static int serve_client(int fd, page_cache cache[NRES], const serve_opts *o) {
    hp_http_req req;
    int st = hp_http_read(fd, READ_TIMEOUT_MS, &req);
    if (st < 0) return 0;
    if (st > 0) {
        send_error(fd, st, "The request could not be read (malformed, too large, or too slow).", 0);
        return st;
    }
    int head = strcmp(req.method, "HEAD") == 0;
    if (!head && strcmp(req.method, "GET") != 0) {
        send_error(fd, 405, "Only GET and HEAD are served.", 0);
        return 405;
    }
    int res = resource(req.path);
    if (res < 0) {
        send_error(fd, 404, "This server has <a href=\"/\">the report</a> (also /report.html), "
                            "<a href=\"/trials.csv\">/trials.csv</a> and <a href=\"/curves.csv\">/curves.csv</a>.",
                   head);
        return 404;
    }
    page_cache *c = &cache[res];
    cache_update(c, o);
    if (!c->page) {
        char esc[1200], detail[1300];
        html_esc(c->err, esc, sizeof esc);
        snprintf(detail, sizeof detail, "The report cannot be made yet: %s", esc);
        send_error(fd, 503, detail, head);
        return 503;
    }
    hp_http_send(fd, 200, res_type[res], NULL, c->page, c->len, head, WRITE_TIMEOUT_MS);
    return 200;
}

/* ---- the command ------------------------------------------------------------------------------ */

static void print_banner(const serve_opts *o) {
    char host[256];
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "THIS-HOST");
    host[sizeof host - 1] = '\0';
    printf("hpsweep serve: the report of %s on http://%s:%d/ (made again when the file changes; Ctrl-C stops)\n",
           o->path, o->bind, o->port);
    printf("from another machine: ssh -L %d:127.0.0.1:%d %s   then open http://127.0.0.1:%d/\n", o->port, o->port,
           host, o->port);
    if (strcmp(o->bind, "127.0.0.1") != 0)
        printf("note: bound to %s: anyone who can reach this port can read the page\n", o->bind);
    fflush(stdout);
}

/* Accept and answer clients until a stop signal. 0, or -1 on a socket error (err set). */
static int serve_loop(int lfd, page_cache c[NRES], const serve_opts *o, hp_err *err) {
    while (!hp_stop_signal) {
        int fd = hp_http_accept(lfd, POLL_MS, err);
        if (fd == -1) return -1;
        if (fd < 0) continue;
        serve_client(fd, c, o);
        hp_http_close(fd);
    }
    return 0;
}

int hp_cmd_serve(int argc, char **argv) {
    serve_opts o = {.bind = "127.0.0.1", .port = DEFAULT_PORT, .rep = {.top_n = 5, .refresh_s = DEFAULT_REFRESH, .spec_synthetic = hp_spec_text_synthetic}};
    int r = serve_args(argc, argv, &o);
    if (r != 0) return r > 0 ? HP_EXIT_OK : HP_EXIT_USAGE;
    if (hp_signals_install() != 0) {
        hp_cli_error("serve", "cannot install the signal handlers: %s", strerror(errno));
        return HP_EXIT_FAILURE;
    }
    page_cache c[NRES];
    for (int i = 0; i < NRES; i++) c[i] = (page_cache){.which = i, .made_ms = -1e18};
    cache_update(&c[RES_PAGE], &o); /* the file must be readable now: a wrong path fails at once */
    hp_err err = {{0}};
    int lfd = -1, rc = 0;
    if (!c[RES_PAGE].page) {
        hp_cli_error("serve", "%s", c[RES_PAGE].err);
        return HP_EXIT_FAILURE;
    }
    if (hp_http_listen(o.bind, o.port, &lfd, &err) == 0) {
        print_banner(&o);
        rc = serve_loop(lfd, c, &o, &err);
        close(lfd);
    } else {
        rc = -1;
    }
    for (int i = 0; i < NRES; i++) free(c[i].page);
    if (rc != 0) {
        hp_cli_error("serve", "%s", err.msg);
        return HP_EXIT_FAILURE;
    }
    printf("hpsweep serve: stopped by %s\n", hp_signal_name(hp_stop_signal));
    return HP_EXIT_INTERRUPTED;
}
