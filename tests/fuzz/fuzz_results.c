/* fuzz_results.c - libFuzzer target: a results file as `hpsweep show` and `resume` read it
 * (results/results.h reader, results/show.h's summary, text and JSON, and the report page of
 * results/report.h), on any bytes. Every input must be summarised or
 * refused with an error, in bounded time (libFuzzer's -timeout catches a hang), never a crash,
 * a leak or undefined behaviour in hpsweep's code. Seeds: small valid files (corpus/results). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "results.h"
#include "show.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[96];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/hpsweep-fuzz-results.%ld.h5", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) abort();
    hp_err err = {{0}};
    hp_results_reader *r = NULL;
    if (hp_results_open_read(path, &r, &err) != 0) return 0; /* refused: a clear error is the goal */
    /* What resume reads, then what show prints, as text and as JSON, all from one open (an
     * HDF5 open is most of an input's cost). */
    hp_trial_record *t = NULL;
    hp_curve_record *c = NULL;
    hp_stage_record *st = NULL;
    hp_final_record *fi = NULL;
    hp_checkpoint_record *ck = NULL;
    int64_t n = 0;
    if (hp_results_read_trials(r, &t, &n, &err) == 0) free(t);
    if (hp_results_read_curves(r, &c, &n, &err) == 0) free(c);
    if (hp_results_read_stages(r, &st, &n, &err) == 0) free(st);
    if (hp_results_read_final(r, &fi, &n, &err) == 0) free(fi);
    if (hp_results_read_checkpoints(r, &ck, &n, &err) == 0) free(ck);
    FILE *null = fopen("/dev/null", "w");
    if (!null) abort();
    hp_show_opts o;
    memset(&o, 0, sizeof o);
    o.top_n = 5;
    hp_err serr = {{0}};
    (void)hp_show_reader(r, path, &o, null, &serr);
    o.json = 1;
    (void)hp_show_reader(r, path, &o, null, &serr);
    fclose(null);
    hp_results_close_read(r);
    /* The report page (in memory), which reads the same tables and draws them: every value
     * it places must be checked first (a second open of the file). */
    hp_report_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.top_n = 3;
    char *page = NULL;
    size_t len = 0;
    if (hp_report_mem(path, &ro, &page, &len, &serr) == 0) free(page);
    return 0;
}
