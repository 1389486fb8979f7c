/* test_chart.c - `hpsweep plot` (results/chart.h): every chart kind in every format is written
 * from the sample file (tests/results/sample.h) and from a file of 1,000 trials, and has its
 * format's magic bytes (the PNG signature, "<svg" in an SVG, "%PDF" first in a PDF); a PNG's IHDR
 * width and height are the size asked for; errors name the file. Built without cairo, the
 * writer must refuse with the message that says how to get it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chart.h"
#include "check.h"
#include "results/sample.h"

/* The first n bytes of a file into buf; returns how many were read (0 when it cannot be opened). */
static size_t head_of(const char *path, unsigned char *buf, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    return got;
}

static unsigned be32(const unsigned char *p) {
    return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

/* Check the magic bytes of `path` for its format; for a PNG also the IHDR size. */
static void check_file(const char *path, int fmt, int w, int h) {
    unsigned char b[512];
    size_t n = head_of(path, b, sizeof b);
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (fmt == HP_CHART_PNG) {
        CHECK(n >= 24 && memcmp(b, png, 8) == 0 && memcmp(b + 12, "IHDR", 4) == 0, "%s: the PNG signature", path);
        CHECK(n >= 24 && be32(b + 16) == (unsigned)w && be32(b + 20) == (unsigned)h, "%s: IHDR %ux%u, want %dx%d",
              path, n >= 24 ? be32(b + 16) : 0, n >= 24 ? be32(b + 20) : 0, w, h);
    } else if (fmt == HP_CHART_PDF) {
        CHECK(n >= 5 && memcmp(b, "%PDF-", 5) == 0, "%s: starts with %%PDF-", path);
    } else {
        b[n < sizeof b ? n : sizeof b - 1] = '\0';
        CHECK(n > 0 && strstr((const char *)b, "<svg") != NULL, "%s: an <svg element", path);
    }
}

static void all_kinds(const char *h5, const char *stem, int w, int h) {
    static const char *const ext[3] = {"png", "svg", "pdf"};
    for (int k = 0; k < HP_CHART_NKINDS; k++)
        for (int f = 0; f < 3; f++) {
            char out[256];
            hp_err err = {{0}};
            snprintf(out, sizeof out, "%s_%s.%s", stem, hp_chart_kind_name((hp_chart_kind)k), ext[f]);
            CHECK(hp_chart_format_of(out) == f, "%s: format by extension", out);
            CHECK(hp_chart_write(h5, (hp_chart_kind)k, out, w, h, 5, &err) == 0, "%s: %s", out, err.msg);
            check_file(out, f, w, h);
        }
}

static void test_names(void) {
    for (int k = 0; k < HP_CHART_NKINDS; k++)
        CHECK(hp_chart_kind_parse(hp_chart_kind_name((hp_chart_kind)k)) == k, "kind %d round trip", k);
    CHECK(hp_chart_kind_parse("pie") < 0, "no pie chart");
    CHECK(hp_chart_format_of("a.PNG") == HP_CHART_PNG && hp_chart_format_of("x/a.Pdf") == HP_CHART_PDF, "any case");
    CHECK(hp_chart_format_of("a.jpg") < 0 && hp_chart_format_of("a") < 0 && hp_chart_format_of("x.png/a") < 0,
          "unknown extensions");
}

static void test_errors(void) {
    hp_err err = {{0}};
    CHECK(hp_chart_write("chart_missing.h5", HP_CHART_SPACE, "chart_missing.png", 800, 600, 5, &err) != 0 &&
              strstr(err.msg, "chart_missing.h5") && access("chart_missing.png", F_OK) != 0,
          "a missing file: %s", err.msg);
    CHECK(hp_chart_write("chart_sample.h5", HP_CHART_SPACE, "chart_no_dir/x.pdf", 800, 600, 5, &err) != 0 &&
              strstr(err.msg, "chart_no_dir/x.pdf"), "an output that cannot be created: %s", err.msg);
    CHECK(hp_chart_write("chart_sample.h5", HP_CHART_SPACE, "chart_x.jpg", 800, 600, 5, &err) != 0 &&
              strstr(err.msg, ".png, .svg or .pdf"), "an unknown format: %s", err.msg);
}

int main(void) {
    hp_err err = {{0}};
    sample_expect ex;
    CHECK(sample_write("chart_sample.h5", &ex, &err) == 0, "sample_write: %s", err.msg);
    test_names();
    if (!hp_chart_have_cairo()) {
        CHECK(hp_chart_write("chart_sample.h5", HP_CHART_SPACE, "chart.png", 800, 600, 5, &err) != 0 &&
                  strstr(err.msg, "built without cairo") && strstr(err.msg, "libcairo2-dev"),
              "without cairo: %s", err.msg);
        printf("built without cairo: only the refusal is checked\n");
        return hp_check_summary("test_chart");
    }
    all_kinds("chart_sample.h5", "chart_sample", 800, 600);
    all_kinds("chart_sample.h5", "chart_small", 640, 480);
    /* report_big.h5 is test_report's (1,000 trials); present when that test ran first */
    if (access("report_big.h5", R_OK) == 0) all_kinds("report_big.h5", "chart_big", 1200, 900);
    if (access("report_hostile.h5", R_OK) == 0) all_kinds("report_hostile.h5", "chart_hostile", 300, 200);
    test_errors();
    return hp_check_summary("test_chart");
}
