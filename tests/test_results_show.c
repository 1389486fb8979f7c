/* test_results_show.c - `hpsweep show`: text and JSON summaries of the sample results file.
 *
 * Leaves results_show.json for tests/results/check_show_json.py (a real JSON parser).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "results/sample.h"
#include "show.h"

#define FILE_H5 "results_show_sample.h5"

/* Run hp_show into a string (static buffer). Returns NULL on failure. */
static const char *show(const char *path, int top_n, int json, hp_err *err) {
    static char text[16384];
    FILE *f = tmpfile();
    if (!f) return NULL;
    hp_show_opts o = {.top_n = top_n, .json = json};
    int rc = hp_show(path, &o, f, err);
    rewind(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return rc == 0 ? text : NULL;
}

static void has(const char *text, const char *want) {
    CHECK(text && strstr(text, want), "output lacks '%s'", want);
}

static void test_text(void) {
    hp_err err = {{0}};
    const char *t = show(FILE_H5, 0, 0, &err);
    CHECK(t != NULL, "hp_show: %s", err.msg);
    if (!t) return;
    printf("%s", t);
    has(t, "hpsweep results: " FILE_H5);
    has(t, "name      results-test\n");
    has(t, "seed      7\n");
    has(t, "format version 3");
    has(t, "stages (2)");
    has(t, "grid");
    has(t, "widened_high");
    has(t, "trials    7 total: 4 done, 1 diverged, 1 failed, 1 pruned, 0 running, 0 pending");
    has(t, "top 4 of 4 scored trials");
    /* ranking: best_val_acc 0.86 (4), 0.84 (5), 0.80 (0), 0.75 (3) */
    const char *head = strstr(t, "best_val_acc");
    long long want[4] = {4, 5, 0, 3};
    for (int i = 0; head && i < 4; i++) {
        head = strchr(head, '\n');
        long long rank = -1, trial = -1;
        if (head) sscanf(++head, "%lld %lld", &rank, &trial);
        CHECK(rank == i + 1 && trial == want[i], "top row %d: rank %lld trial %lld, want trial %lld",
              i + 1, rank, trial, want[i]);
    }
    /* the device column: trial 4 ran on rank 1's GPU, trial 5 on rank 2's CPU */
    has(t, " 1.5  done      cuda:0 " SAMPLE_GPU_NAME "\n");
    has(t, " 1.5  done      cpu\n");
    has(t, "best trial 4 of stage 1 (the last) has lr = 0.099 at the high edge of the stage's "
           "range [0.001, 0.1]");
    CHECK(!strstr(t, "has weight_decay ="), "weight decay 1e-4 lies mid-range: no edge warning");
    has(t, "trial 1 (stage 0, lr 0.9, weight_decay 1e-05) diverged at epoch 1: loss 4.1e+07 "
           "exceeds 10 x initial loss 2.30");
    has(t, "trial 2 (stage 0, lr 1e-05, weight_decay 0.01) failed at epoch 0: out of memory");
    CHECK(!strstr(t, "not finished"), "no unfinished-trials warning on a finished sweep");
    has(t, "warnings (3)");
    has(t, "final (test split, evaluated once)");
    has(t, "  best             4    0.8600    0.8525     0.3125");
    has(t, "elapsed   5.0s of training (sum over trials)");

    t = show(FILE_H5, 2, 0, &err);
    has(t, "top 2 of 4 scored trials");
    CHECK(t && !strstr(t, "     3       0  "), "top 2 stops after two rows");

    t = show("results_show_missing.h5", 0, 0, &err);
    CHECK(t == NULL && strstr(err.msg, "results_show_missing.h5") &&
              strstr(err.msg, "No such file"), "show of a missing file: %s", err.msg);
}

static void test_json(void) {
    hp_err err = {{0}};
    const char *j = show(FILE_H5, 0, 1, &err);
    CHECK(j != NULL, "hp_show --json: %s", err.msg);
    if (!j) return;
    /* Structure checks here; tests/results/check_show_json.py parses it for real. */
    int depth = 0, min = 0, in_str = 0;
    for (const char *p = j; *p; p++) {
        if (in_str) {
            if (*p == '\\') p++;
            else if (*p == '"') in_str = 0;
            continue;
        }
        if (*p == '"') in_str = 1;
        else if (*p == '{' || *p == '[') depth++;
        else if (*p == '}' || *p == ']') depth--;
        if (depth < min) min = depth;
        if (depth == 0 && p[1] && p[1] != '\n' && p != j) min = -1; /* one object only */
    }
    CHECK(j[0] == '{' && depth == 0 && min == 0 && !in_str, "balanced single JSON object");
    const char *keys[] = {"\"stages\": [", "\"counts\": {", "\"top\": [", "\"final\": [",
                          "\"warnings\": [", "\"elapsed\": {", "\"name\": \"results-test\"",
                          "\"diverged\": 1", "\"total\": 7",
                          "\"gpu\": 0, \"device\": \"" SAMPLE_GPU_NAME "\"", "\"gpu\": -1, \"device\": \"cpu\""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) has(j, keys[i]);
    CHECK(!strstr(j, "nan") && !strstr(j, "inf"), "no NaN/Inf literals in JSON");
    FILE *f = fopen("results_show.json", "w");
    CHECK(f && fputs(j, f) >= 0 && fclose(f) == 0, "write results_show.json");
}

int main(void) {
    static sample_expect ex;
    hp_err err = {{0}};
    int rc = sample_write(FILE_H5, &ex, &err);
    CHECK(rc == 0, "sample_write: %s", err.msg);
    if (rc == 0) {
        test_text();
        test_json();
    }
    return hp_check_summary("test_results_show");
}
