#!/usr/bin/env bash
# `hpsweep report` and `hpsweep export --csv` on real sweeps: a finished sweep, one where every
# trial diverged, one killed before any trial finished, and a file a sweep is still writing. Each page is checked by
# check_report.py (well formed, self-contained, one mark per drawable trial of the file, read
# with h5py) and each CSV folder read back with pandas against the tables; usage errors give
# their documented exit codes with one line on stderr.
# usage: report.sh HPSWEEP_BINARY TESTS_DIR
set -uo pipefail
bin=$1; tests=$2
. "$tests/integration/lib_resume.sh"
setup_data 6000
check="$tests/integration/check_report.py"
small() { sed 's/trials: 8, epochs: 4/trials: 6, epochs: 3/; s/points: 3, epochs: 5/points: 2, epochs: 4/' resume.yaml; }

# ---- (a) a finished sweep --------------------------------------------------------------------
small > fin.yaml
"$bin" run fin.yaml -o fin.h5 --quiet > run.log 2>&1 || { fail "the sweep"; cat run.log; }
"$bin" report fin.h5 > rep.log 2>&1 && grep -qx "wrote fin.html" rep.log && [ -s fin.html ] \
  && ok "report writes FILE.html beside the file by default" || { fail "report fin.h5"; cat rep.log; }
"$bin" export fin.h5 --csv > exp.log 2>&1 && [ -s fin-csv/trials.csv ] && [ -s fin-csv/curves.csv ] \
  && ok "export --csv writes FILE-csv/ by default: $(cat exp.log)" || { fail "export fin.h5"; cat exp.log; }
$py "$check" fin.h5 fin.html --csv fin-csv && ok "finished sweep: page and CSVs match the file" \
  || fail "check_report on the finished sweep"
grep -q "Learning curves of the top 5 trials" fin.html && ! grep -q "No epoch has a ratio" fin.html \
  && [ "$(grep -c 'class="ur-top"' fin.html)" -eq 5 ] && grep -q "evaluated once on the test split" fin.html \
  && ok "curves of the top 5, their update ratios, the test result" || fail "finished sweep's sections"
# The same table as show's: the counts agree.
"$bin" show fin.h5 --json > fin.json
$py - <<'PY' && ok "status counts equal show --json's" || fail "counts differ from show's"
import json, re, sys
c = json.load(open("fin.json"))["counts"]
page = open("fin.html").read()
got = {k: int(v) for k, v in re.findall(r'<td data-status="(\w+)">(\d+)</td>', page)}
sys.exit(0 if got == c else print(got, c) or 1)
PY
"$bin" report fin.h5 -o other.html --top 2 > /dev/null && grep -q "Learning curves of the top 2 trials" other.html \
  && "$bin" export fin.h5 --csv -o outdir > /dev/null && [ -s outdir/curves.csv ] \
  && ok "-o and --top" || fail "-o and --top"

# ---- (b) no trial finished: every trial diverged -----------------------------------------------
sed 's/low: 1.0e-3, high: 30.0/low: 1000.0, high: 10000.0/; s/trials: 8, epochs: 4/trials: 3, epochs: 2/' \
  resume.yaml > alldiv.yaml
"$bin" run alldiv.yaml -o alldiv.h5 --quiet > /dev/null 2>&1 # exit 1: nothing to evaluate
"$bin" report alldiv.h5 > /dev/null 2>&1 && $py "$check" alldiv.h5 alldiv.html \
  && ok "every trial diverged: the page and its marks" || fail "report alldiv.h5"
n=$(grep -c 'class="pt diverged"' alldiv.html); total=$(sed -n 's/.*data-status="total">\([0-9]*\)<.*/\1/p' alldiv.html)
[ "$n" -gt 0 ] && [ "$n" -eq "$total" ] && grep -q "No trial has a validation score yet" alldiv.html \
  && grep -q "no trial finished with a validation score" alldiv.html && grep -q "No test-set result yet" alldiv.html \
  && ok "all $n marks diverged, no curves of top trials, show's warning" || fail "alldiv page: $n of $total"
"$bin" export alldiv.h5 --csv > /dev/null && $py "$check" alldiv.h5 alldiv.html --csv alldiv-csv \
  && ok "every trial diverged: CSVs" || fail "export alldiv.h5"

# ---- (b1) empty: killed before any trial finished -----------------------------------------------
# One epoch recorded, then kill -9 (a file a killed writer left: read as SWMR readers do).
small > empty.yaml
(HPSWEEP_FAULT=epoch:1:kill "$bin" run empty.yaml -o empty.h5 --quiet) > /dev/null 2>&1
if "$bin" report empty.h5 > empty.log 2>&1 && $py "$check" empty.h5 empty.html > empty.chk 2>&1; then
  running=$(grep -c 'class="pt running"' empty.html); pending=$(grep -c 'class="pt pending"' empty.html)
  [ "$running" -eq 1 ] && [ "$pending" -ge 1 ] && grep -q "No test-set result yet" empty.html \
    && ok "killed before any trial finished: $running running and $pending pending marks, no test result" \
    || fail "empty page: $running running, $pending pending"
else fail "report empty.h5"; cat empty.log empty.chk; fi

# ---- (b2) two sweeps side by side ---------------------------------------------------------------
"$bin" report fin.h5 alldiv.h5 > cmp.log 2>&1 && grep -qx "wrote fin-vs-alldiv.html" cmp.log \
  && $py "$check" fin.h5 fin-vs-alldiv.html --compare alldiv.h5 \
  && ok "report A B writes A-vs-B.html: each file's marks in its chart" || { fail "report fin.h5 alldiv.h5"; cat cmp.log; }
"$bin" report alldiv.h5 fin.h5 -o cmp2.html --top 2 > /dev/null && $py "$check" alldiv.h5 cmp2.html --compare fin.h5 \
  && grep -q "top 2 on the right" cmp2.html && ok "report A B -o --top" || fail "report A B -o --top"

# ---- (b3) plot: each chart in each format, from the binary --------------------------------------
if "$bin" plot fin.h5 space -o probe.png > /dev/null 2> probe.err; then
  for k in space accuracy curves ratio wall; do
    for f in png svg pdf; do "$bin" plot fin.h5 $k -o "fin-$k.$f" --size 640x480 > /dev/null || fail "plot $k $f"; done
  done
  $py - <<'PY' && ok "plot: 5 charts x PNG, SVG, PDF with their magic bytes, the PNGs 640x480" || fail "plot files"
import struct, sys
bad = []
for k in ("space", "accuracy", "curves", "ratio", "wall"):
    png, svg, pdf = (open(f"fin-{k}.{e}", "rb").read() for e in ("png", "svg", "pdf"))
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR" or struct.unpack(">II", png[16:24]) != (640, 480):
        bad.append(f"{k}.png")
    if b"<svg" not in svg[:400] or not pdf.startswith(b"%PDF-"):
        bad.append(f"{k}.svg/pdf")
sys.exit(print(bad) or 1 if bad else 0)
PY
  "$bin" plot fin.h5 wall -o default.png > /dev/null && $py -c "import struct,sys; d=open('default.png','rb').read(24); sys.exit(struct.unpack('>II', d[16:24]) != (800, 600))" \
    && ok "plot: the default size is 800x600" || fail "plot default size"
  plot_missing_rc=1
else
  grep -q "built without cairo" probe.err && ok "plot: this build has no cairo and says so: $(cat probe.err)" || { fail "plot probe"; cat probe.err; }
  plot_missing_rc=2 # without cairo, every plot is refused before the file is read
fi

# ---- (c) a file being written ------------------------------------------------------------------
sed 's/trials: 8, epochs: 4/trials: 8, epochs: 8/; s/points: 3, epochs: 5/points: 3, epochs: 10/' resume.yaml > live.yaml
"$bin" run live.yaml -o live.h5 --quiet > live.log 2>&1 & pid=$!
wait_finished live.h5 1 || fail "the live sweep did not get going"
for i in 1 2; do
  "$bin" report live.h5 -o live$i.html > /dev/null 2> live$i.err && $py "$check" live.h5 live$i.html --live \
    && ok "report while the sweep writes the file ($i)" || { fail "live report $i"; cat live$i.err; }
  sleep 0.2
done
"$bin" export live.h5 --csv -o live-csv > /dev/null && [ "$(wc -l < live-csv/trials.csv)" -ge 2 ] \
  && ok "export while the sweep writes the file" || fail "live export"
wait $pid || fail "the live sweep failed"
"$bin" report live.h5 > /dev/null && $py "$check" live.h5 live.html && ok "report after it finished" || fail "final report"
total() { sed -n 's/.*data-status="total">\([0-9]*\)<.*/\1/p' "$1"; }
[ "$(total live1.html)" -lt "$(total live.html)" ] && ok "the first live page saw a partial file ($(total live1.html) of $(total live.html) trials)" \
  || fail "the live page saw the whole sweep: not a live test"

# ---- errors -------------------------------------------------------------------------------------
expect() {  # NAME RC REGEX CMD...: exit code RC and one line on stderr matching REGEX
  local name=$1 want=$2 regex=$3; shift 3
  "$@" > out.log 2> err.log; local rc=$?
  if [ $rc -eq "$want" ] && { [ "$want" -eq 0 ] || { [ "$(grep -c . err.log)" -eq 1 ] && grep -qE -- "$regex" err.log; }; }
  then ok "$name (exit $rc): $(head -c 120 err.log)"; else fail "$name: exit $rc"; cat err.log; fi
}
expect missing-file 1 "report: .*nope.h5: No such file" "$bin" report nope.h5
echo "not hdf5" > text.h5
expect not-hdf5 1 "text.h5 is not an HDF5 file" "$bin" report text.h5
expect export-missing 1 "export: .*nope.h5: No such file" "$bin" export nope.h5 --csv
expect unwritable-output 1 "report: nodir/x.html: cannot create it: No such file" "$bin" report fin.h5 -o nodir/x.html
cp fin.h5 same.h5; sum=$(md5sum < same.h5)
expect output-is-the-results-file 2 "same.h5: the page would replace the results file" "$bin" report same.h5 -o ./same.h5
[ "$(md5sum < same.h5)" = "$sum" ] && ok "the results file is untouched" || fail "report -o FILE.h5 changed it"
expect unknown-option 2 "unknown option '--bogus'" "$bin" report fin.h5 --bogus
expect three-files 2 "one or two results files expected, got a third: 'x.h5'" "$bin" report fin.h5 alldiv.h5 x.h5
expect export-two-files 2 "one results file expected" "$bin" export fin.h5 alldiv.h5 --csv
expect compare-missing 1 "report: .*nope.h5: No such file" "$bin" report fin.h5 nope.h5
expect compare-output-is-b 2 "alldiv.h5: the page would replace the results file" "$bin" report fin.h5 alldiv.h5 -o alldiv.h5
expect export-no-format 2 "choose one format: --csv or --spec" "$bin" export fin.h5
expect export-two-formats 2 "choose one format: --csv or --spec" "$bin" export fin.h5 --csv --spec
expect export-trial-without-spec 2 "--trial goes with --spec" "$bin" export fin.h5 --csv --trial 1
expect export-spec-nothing-scored 1 "no trial is done or pruned with a score" "$bin" export alldiv.h5 --spec -o none.yaml
[ ! -e none.yaml ] || fail "export --spec with nothing scored left a file"
expect help 0 "" "$bin" report --help
grep -q "usage: hpsweep report FILE.h5" out.log || fail "report --help text"
"$bin" report > /dev/null 2>&1; [ $? -eq 2 ] && ok "no file: exit 2" || fail "report without a file"
expect plot-unknown-kind 2 "unknown chart 'pie': choose space, accuracy, curves, ratio or wall" "$bin" plot fin.h5 pie -o x.png
expect plot-no-output 2 "give the file to write with -o" "$bin" plot fin.h5 space
expect plot-bad-format 2 "x.jpg: unknown format: name it .png, .svg or .pdf" "$bin" plot fin.h5 space -o x.jpg
expect plot-bad-size 2 "--size expects WxH, each 200 to 10000 .*got '800'" "$bin" plot fin.h5 space -o x.png --size 800
expect plot-tiny-size 2 "--size expects WxH.*got '10x10'" "$bin" plot fin.h5 space -o x.png --size 10x10
expect plot-missing-file $plot_missing_rc "plot: .*nope.h5" "$bin" plot nope.h5 space -o x.png
[ ! -e nodir ] && ! ls ./*.tmp* > /dev/null 2>&1 && ok "no temporary files left" || fail "temporary files left"
summary report
