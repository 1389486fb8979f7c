/* canvas.h - internal to results/: the small drawing interface the charts of `hpsweep plot` are
 * laid out on (chart.c), so the layout (panels, scales, ticks, which points, marks) is written
 * once and a backend only strokes and fills: canvas_cairo.c draws it with cairo into PNG, SVG
 * or PDF (one code path for the three formats). Coordinates are pixels from the top left.
 * Colours are "#rrggbb" strings, as svg.h's colour maps give them; NULL means none.
 */
#ifndef HP_CANVAS_H
#define HP_CANVAS_H

#include <stdint.h>

typedef struct hp_pen {
    const char *stroke; /* outline colour, or NULL: no outline */
    const char *fill;   /* fill colour, or NULL: not filled */
    double width;       /* outline width in pixels */
    double alpha;       /* opacity of both, 0 to 1 (0 is taken as 1) */
    double dash;        /* > 0: dashed with dashes of this length */
} hp_pen;

enum { HP_ANCHOR_START = -1, HP_ANCHOR_MIDDLE = 0, HP_ANCHOR_END = 1 };

typedef struct hp_canvas {
    void *ctx;
    /* A polyline through n points (closed: a polygon). */
    void (*path)(void *ctx, const double *x, const double *y, int64_t n, int closed, const hp_pen *pen);
    void (*circle)(void *ctx, double cx, double cy, double r, const hp_pen *pen);
    void (*rect)(void *ctx, double x, double y, double w, double h, const hp_pen *pen);
    /* Text with its baseline at y, anchored at x; vertical: rotated a quarter turn to the left. */
    void (*text)(void *ctx, double x, double y, const char *s, double size, int anchor, int vertical,
                 const char *color);
    /* Clip what follows to a rectangle; w <= 0 removes the clip. */
    void (*clip)(void *ctx, double x, double y, double w, double h);
} hp_canvas;

#endif
