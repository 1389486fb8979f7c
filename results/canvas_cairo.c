/* canvas_cairo.c - the canvas of canvas.h drawn with cairo, and hp_chart_write (chart.h): one
 * drawing code path whatever the format; only the surface differs (an image surface written as
 * PNG, an SVG or a PDF surface). Each file is written under a temporary name beside the target
 * and renamed into place. Built without cairo (no pkg-config cairo at configure time), this file
 * keeps only a hp_chart_write that says how to get it. */
#include "chart.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "canvas.h"
#include "report_impl.h"

#define NO_CAIRO_MSG                                                                                          \
    "this hpsweep was built without cairo, which plot needs: install libcairo2-dev (Debian; "             \
    "scripts/setup.sh does) and configure and build again (cmake finds it with pkg-config)"

#ifndef HPSWEEP_HAVE_CAIRO

int hp_chart_have_cairo(void) { return 0; }

int hp_chart_write(const char *path, hp_chart_kind kind, const char *out, int w, int h, int top_n, hp_err *err) {
    (void)path, (void)kind, (void)out, (void)w, (void)h, (void)top_n;
    return hp_errf(err, NO_CAIRO_MSG);
}

#else

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>

int hp_chart_have_cairo(void) { return 1; }

/* "#rrggbb" as a source colour with alpha a. */
static void set_color(cairo_t *cr, const char *hex, double a) {
    unsigned v = 0;
    if (!hex || sscanf(hex, "#%6x", &v) != 1) v = 0x999999;
    cairo_set_source_rgba(cr, ((v >> 16) & 255) / 255.0, ((v >> 8) & 255) / 255.0, (v & 255) / 255.0,
                          a > 0 ? a : 1);
}

/* Fill and stroke the current path with pen. */
static void paint(cairo_t *cr, const hp_pen *pen) {
    if (pen->fill) {
        set_color(cr, pen->fill, pen->alpha);
        pen->stroke ? cairo_fill_preserve(cr) : cairo_fill(cr);
    }
    if (pen->stroke) {
        set_color(cr, pen->stroke, pen->alpha);
        cairo_set_line_width(cr, pen->width > 0 ? pen->width : 1);
        double d = pen->dash;
        cairo_set_dash(cr, &d, d > 0 ? 1 : 0, 0);
        cairo_stroke(cr);
    }
    cairo_new_path(cr);
}

static void c_path(void *ctx, const double *x, const double *y, int64_t n, int closed, const hp_pen *pen) {
    cairo_t *cr = ctx;
    for (int64_t i = 0; i < n; i++) i ? cairo_line_to(cr, x[i], y[i]) : cairo_move_to(cr, x[i], y[i]);
    if (closed) cairo_close_path(cr);
    paint(cr, pen);
}

static void c_circle(void *ctx, double cx, double cy, double r, const hp_pen *pen) {
    cairo_new_sub_path(ctx);
    cairo_arc(ctx, cx, cy, r, 0, 6.283185307179586);
    paint(ctx, pen);
}

static void c_rect(void *ctx, double x, double y, double w, double h, const hp_pen *pen) {
    cairo_rectangle(ctx, x, y, w, h);
    paint(ctx, pen);
}

static void c_text(void *ctx, double x, double y, const char *s, double size, int anchor, int vertical,
                   const char *color) {
    cairo_t *cr = ctx;
    cairo_text_extents_t e;
    cairo_save(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
    cairo_text_extents(cr, s, &e);
    cairo_translate(cr, x, y);
    if (vertical) cairo_rotate(cr, -1.5707963267948966);
    double dx = anchor == HP_ANCHOR_START ? 0 : anchor == HP_ANCHOR_MIDDLE ? -e.x_advance / 2 : -e.x_advance;
    cairo_move_to(cr, dx, 0);
    set_color(cr, color, 1);
    cairo_show_text(cr, s);
    cairo_restore(cr);
}

static void c_clip(void *ctx, double x, double y, double w, double h) {
    cairo_reset_clip(ctx);
    if (w <= 0) return;
    cairo_rectangle(ctx, x, y, w, h);
    cairo_clip(ctx);
}

/* The surface for a format: PNG draws into memory first, SVG and PDF write `file` as they go. */
static cairo_surface_t *make_surface(int fmt, const char *file, int w, int h) {
    if (fmt == HP_CHART_SVG) return cairo_svg_surface_create(file, w, h);
    if (fmt == HP_CHART_PDF) return cairo_pdf_surface_create(file, w, h);
    return cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
}

/* Draw into `tmp`; 0, or -1 with err naming `out` and cairo's reason. */
static int draw_file(hp_rep *r, hp_chart_kind kind, int fmt, const char *tmp, const char *out, int w, int h,
                     hp_err *err) {
    cairo_surface_t *sf = make_surface(fmt, tmp, w, h);
    cairo_t *cr = cairo_create(sf);
    hp_canvas cv = {cr, c_path, c_circle, c_rect, c_text, c_clip};
    int rc = cairo_status(cr) == CAIRO_STATUS_SUCCESS ? rep_chart_draw(r, kind, &cv, w, h, err) : 0;
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    if (rc == 0 && st == CAIRO_STATUS_SUCCESS && fmt == HP_CHART_PNG) st = cairo_surface_write_to_png(sf, tmp);
    cairo_surface_finish(sf); /* SVG and PDF: writes the rest of the file */
    if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_status(sf);
    cairo_surface_destroy(sf);
    if (rc == 0 && st != CAIRO_STATUS_SUCCESS)
        rc = hp_errf(err, "%s: cairo cannot write it: %s (is the folder writable, the disk full?)", out,
                     cairo_status_to_string(st));
    return rc;
}

int hp_chart_write(const char *path, hp_chart_kind kind, const char *out, int w, int h, int top_n, hp_err *err) {
    int fmt = hp_chart_format_of(out);
    if (fmt < 0) return hp_errf(err, "%s: unknown format: name it .png, .svg or .pdf", out);
    char tmp[4160];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp%ld", out, (long)getpid()) >= sizeof tmp)
        return hp_errf(err, "%s: the path is too long", out);
    hp_results_reader *rd = NULL;
    hp_rep r;
    hp_report_opts opts = {.top_n = top_n, .refresh_s = 0, .spec_synthetic = NULL};
    int rc = rep_open(path, &opts, &rd, &r, err);
    if (rc == 0) rc = draw_file(&r, kind, fmt, tmp, out, w, h, err);
    rep_free(&r);
    if (rd) hp_results_close_read(rd);
    if (rc == 0 && rename(tmp, out) != 0)
        rc = hp_errf(err, "%s: cannot rename %s to it: %s", out, tmp, strerror(errno));
    if (rc != 0) unlink(tmp); /* may not exist: nothing to check */
    return rc;
}

#endif
