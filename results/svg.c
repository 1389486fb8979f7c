/* svg.c - inline SVG charts and HTML escaping for the report, and the axes, scales and ticks
 * that the page and the cairo plots (plot.c) share; see svg.h. */
#include "svg.h"

#include <math.h>
#include <string.h>

#define MARGIN_LEFT 64
#define MARGIN_TOP 12
#define MARGIN_BOTTOM 44
#define MAX_TICKS HP_AXIS_MAX_TICKS

void hp_html_esc(FILE *o, const char *s) {
    for (const char *p = s; p && *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", o); break;
        case '<': fputs("&lt;", o); break;
        case '>': fputs("&gt;", o); break;
        case '"': fputs("&quot;", o); break;
        case '\'': fputs("&#39;", o); break;
        default:
            /* control characters (none belong in a file's strings) become spaces */
            fputc((unsigned char)*p < 0x20 ? ' ' : *p, o);
        }
    }
}

/* ---- axes ------------------------------------------------------------------------------------ */

void hp_axis_start(hp_axis *a, int log) {
    a->lo = INFINITY;
    a->hi = -INFINITY;
    a->log = log;
}

int hp_axis_ok(const hp_axis *a, double v) {
    /* beyond 1e300 the range's width (and its padding) could overflow to infinity */
    return isfinite(v) && fabs(v) <= HP_AXIS_MAX && (!a->log || v >= 1 / HP_AXIS_MAX);
}

void hp_axis_add(hp_axis *a, double v) {
    if (!hp_axis_ok(a, v)) return;
    if (v < a->lo) a->lo = v;
    if (v > a->hi) a->hi = v;
}

/* Work in log10 units on a log axis. */
static double to_u(const hp_axis *a, double v) { return a->log ? log10(v) : v; }
static double from_u(const hp_axis *a, double u) { return a->log ? pow(10, u) : u; }

void hp_axis_finish(hp_axis *a, double pad) {
    if (!(a->lo <= a->hi)) { /* empty */
        a->lo = a->log ? 1e-4 : 0;
        a->hi = 1;
        return;
    }
    double lo = to_u(a, a->lo), hi = to_u(a, a->hi);
    if (!(hi - lo > 1e-12 * (fabs(lo) + fabs(hi)) + 1e-300)) { /* one value: a range around it */
        double d = a->log ? 0.5 : (fabs(lo) > 0 ? 0.1 * fabs(lo) : 1);
        lo -= d;
        hi += d;
    }
    double w = hi - lo;
    a->lo = from_u(a, lo - pad * w);
    a->hi = from_u(a, hi + pad * w);
}

double hp_axis_frac(const hp_axis *a, double v) {
    double lo = to_u(a, a->lo), hi = to_u(a, a->hi);
    return (to_u(a, v) - lo) / (hi - lo);
}

double hp_plot_px(const hp_plot *p, double x) { return p->left + hp_axis_frac(&p->x, x) * p->width; }
double hp_plot_py(const hp_plot *p, double y) { return p->top + (1 - hp_axis_frac(&p->y, y)) * p->height; }

/* A "nice" step (1, 2 or 5 times a power of ten) near range / target. */
static double nice_step(double range, int target) {
    double raw = range / target, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

int hp_axis_ticks(const hp_axis *a, double *t) {
    int n = 0;
    double lo = to_u(a, a->lo), hi = to_u(a, a->hi);
    if (a->log) {
        double span = hi - lo;
        int step = span > 10 ? 2 : 1;
        for (double k = ceil(lo - 1e-9) - 1; k <= floor(hi + 1e-9) && n < MAX_TICKS - 3; k += step) {
            const double mult[3] = {1, 2, 5};
            for (int m = 0; m < (span < 2 ? 3 : 1); m++) {
                double v = mult[m] * pow(10, k);
                if (v >= a->lo * (1 - 1e-9) && v <= a->hi * (1 + 1e-9)) t[n++] = v;
            }
        }
        return n;
    }
    double s = nice_step(hi - lo, 5);
    for (double v = ceil(lo / s) * s; v <= hi + 1e-9 * s && n < MAX_TICKS; v += s)
        t[n++] = fabs(v) < 1e-9 * s ? 0 : v;
    return n;
}

void hp_axis_tick_label(const hp_axis *a, double v, char *buf, size_t n) {
    double k = log10(v);
    if (a->log && fabs(k - round(k)) < 1e-9 && (k < -2 || k > 3)) snprintf(buf, n, "1e%d", (int)round(k));
    else snprintf(buf, n, "%.3g", v);
}

static void draw_ticks(hp_plot *p) {
    double t[MAX_TICKS];
    char lab[32];
    int n = hp_axis_ticks(&p->x, t);
    for (int i = 0; i < n; i++) {
        double x = hp_plot_px(p, t[i]);
        hp_axis_tick_label(&p->x, t[i], lab, sizeof lab);
        fprintf(p->o, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x, p->top, x,
                p->top + p->height);
        fprintf(p->o, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x,
                p->top + p->height + 14, lab);
    }
    n = hp_axis_ticks(&p->y, t);
    for (int i = 0; i < n; i++) {
        double y = hp_plot_py(p, t[i]);
        hp_axis_tick_label(&p->y, t[i], lab, sizeof lab);
        fprintf(p->o, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", p->left, y,
                p->left + p->width, y);
        fprintf(p->o, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", p->left - 4,
                y + 4, lab);
    }
}

/* ---- the plot ---------------------------------------------------------------------------------- */

void hp_plot_begin(hp_plot *p, FILE *o, const char *id, int w, int h, int right, const char *label,
                   const char *xlabel, const char *ylabel) {
    p->o = o;
    snprintf(p->id, sizeof p->id, "%s", id);
    p->left = MARGIN_LEFT;
    p->top = MARGIN_TOP;
    p->width = w - MARGIN_LEFT - right;
    p->height = h - MARGIN_TOP - MARGIN_BOTTOM;
    fprintf(o, "<svg class=\"plot\" id=\"%s\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
               "aria-label=\"", id, w, h, w, h);
    hp_html_esc(o, label);
    fprintf(o, "\">\n<defs><clipPath id=\"%s-clip\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
               "height=\"%.1f\"/></clipPath></defs>\n", id, p->left, p->top, p->width, p->height);
    fprintf(o, "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n", p->left, p->top,
            p->width, p->height);
    draw_ticks(p);
    fprintf(o, "<text class=\"axis\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", p->left + p->width / 2, h - 6);
    hp_html_esc(o, xlabel);
    fprintf(o, "</text>\n<text class=\"axis\" transform=\"translate(14 %.1f) rotate(-90)\" "
               "text-anchor=\"middle\">", p->top + p->height / 2);
    hp_html_esc(o, ylabel);
    fputs("</text>\n", o);
}

void hp_plot_end(hp_plot *p) { fputs("</svg>\n", p->o); }

void hp_plot_clip(hp_plot *p) { fprintf(p->o, "<g clip-path=\"url(#%s-clip)\">\n", p->id); }
void hp_plot_unclip(hp_plot *p) { fputs("</g>\n", p->o); }

static void line_open(hp_plot *p, const char *attrs) {
    fprintf(p->o, "<polyline fill=\"none\" %s points=\"", attrs ? attrs : "");
}

void hp_plot_line(hp_plot *p, const double *x, const double *y, int64_t n, const char *attrs) {
    int open = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!hp_axis_ok(&p->x, x[i]) || !hp_axis_ok(&p->y, y[i])) {
            if (open) fputs("\"/>\n", p->o);
            open = 0;
            continue;
        }
        if (!open) line_open(p, attrs);
        fprintf(p->o, "%s%.1f,%.1f", open ? " " : "", hp_plot_px(p, x[i]), hp_plot_py(p, y[i]));
        open = 1;
    }
    if (open) fputs("\"/>\n", p->o);
}

void hp_plot_rect(hp_plot *p, double x0, double y0, double x1, double y1, const char *attrs) {
    if (!hp_axis_ok(&p->x, x0) || !hp_axis_ok(&p->x, x1) || !hp_axis_ok(&p->y, y0) || !hp_axis_ok(&p->y, y1))
        return;
    double a = hp_plot_px(p, x0), b = hp_plot_px(p, x1), c = hp_plot_py(p, y0), d = hp_plot_py(p, y1);
    fprintf(p->o, "<rect %s x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n", attrs ? attrs : "",
            fmin(a, b), fmin(c, d), fabs(b - a), fabs(d - c));
}

void hp_plot_hband(hp_plot *p, double y0, double y1, const char *attrs) {
    if (!hp_axis_ok(&p->y, y0) || !hp_axis_ok(&p->y, y1)) return;
    double c = hp_plot_py(p, y0), d = hp_plot_py(p, y1);
    fprintf(p->o, "<rect %s x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n", attrs ? attrs : "", p->left,
            fmin(c, d), p->width, fabs(d - c));
}

/* ---- colours ----------------------------------------------------------------------------------- */

void hp_color_seq(double t, char out[8]) {
    /* five stops from dark blue through teal and green to yellow (a viridis-like ramp) */
    static const double stop[5][3] = {
        {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
    if (isnan(t)) {
        snprintf(out, 8, "#999999");
        return;
    }
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double f = t * 4;
    int i = f >= 4 ? 3 : (int)f;
    f -= i;
    int c[3];
    for (int k = 0; k < 3; k++) c[k] = (int)lround(stop[i][k] + f * (stop[i + 1][k] - stop[i][k]));
    snprintf(out, 8, "#%02x%02x%02x", c[0], c[1], c[2]);
}

const char *hp_color_cat(int64_t i) {
    static const char *const pal[8] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                       "#9467bd", "#8c564b", "#e377c2", "#17becf"};
    return pal[((i % 8) + 8) % 8];
}

void hp_colorbar(FILE *o, const char *id, double x, double y, double w, double h, double lo, double hi,
                 const char *label) {
    fprintf(o, "<defs><linearGradient id=\"%s\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">", id);
    for (int i = 0; i <= 8; i++) {
        char c[8];
        hp_color_seq(i / 8.0, c);
        fprintf(o, "<stop offset=\"%.3f\" stop-color=\"%s\"/>", i / 8.0, c);
    }
    fprintf(o, "</linearGradient></defs>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
               "fill=\"url(#%s)\" stroke=\"#444\"/>\n", x, y, w, h, id);
    if (!isfinite(lo) || !isfinite(hi)) return;
    hp_axis a = {lo, hi, 0};
    double t[MAX_TICKS];
    int n = 1;
    t[0] = lo;
    if (hi > lo) n = hp_axis_ticks(&a, t);
    else a.hi = lo + 1; /* one value: a single tick at the bottom */
    for (int i = 0; i < n; i++) {
        double ty = y + (1 - hp_axis_frac(&a, t[i])) * h;
        fprintf(o, "<line class=\"axisline\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                   "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">%.3g</text>\n",
                x + w, ty, x + w + 4, ty, x + w + 6, ty + 4, t[i]);
    }
    fprintf(o, "<text class=\"axis\" transform=\"translate(%.1f %.1f) rotate(-90)\" text-anchor=\"middle\">",
            x - 6, y + h / 2);
    hp_html_esc(o, label);
    fputs("</text>\n", o);
}
