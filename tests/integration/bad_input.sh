#!/usr/bin/env bash
# Bad input (the table is docs/bad-input.md): every case gives its documented
# exit code and a one-line message naming the problem, and an existing results file is left
# byte for byte as it was (md5), even with --force. Case names match the table's.
# usage: bad_input.sh HPSWEEP_BINARY TESTS_DIR
set -uo pipefail
bin=$1; tests=$2
. "$tests/integration/lib_resume.sh"
setup_data 6000
R=resume.yaml
cases=0

# A small finished sweep: the results file the cases must leave alone.
sed 's/trials: 8, epochs: 4/trials: 2, epochs: 1/; s/points: 3, epochs: 5/points: 2, epochs: 1/' $R > small.yaml
"$bin" run small.yaml -o keep.h5 --quiet > /dev/null 2>&1 || { echo "cannot make keep.h5"; exit 1; }
keep_sum=$(md5sum < keep.h5)

# expect NAME RC REGEX FILE CMD...: exit code RC, exactly one line on stderr matching REGEX, and
# FILE (a results file, or - for none) unchanged.
expect() {
  local name=$1 want=$2 regex=$3 file=$4; shift 4
  local before=""; [ "$file" != - ] && before=$(md5sum < "$file")
  "$@" > out.log 2> err.log; local rc=$?
  cases=$((cases + 1))
  local lines; lines=$(grep -c . err.log)
  if [ $rc -ne $want ]; then fail "$name: exit $rc, expected $want"; cat err.log
  elif [ $want -ne 0 ] && [ "$lines" -ne 1 ]; then fail "$name: $lines lines on stderr, expected one"; cat err.log
  elif [ $want -ne 0 ] && ! grep -qE -- "$regex" err.log; then fail "$name: message does not match /$regex/"; cat err.log
  elif [ "$file" != - ] && [ "$(md5sum < "$file")" != "$before" ]; then fail "$name: $file was changed"
  else ok "$name (exit $rc): $(head -c 150 err.log)"; fi
}
spec() { sed "$1" $R > "$2"; }  # spec SED_SCRIPT OUT.yaml
run_k() { "$bin" run "$1" -o keep.h5 --force --quiet; }  # a bad spec with --force must not touch keep.h5

# ---- the spec (exit 2) ------------------------------------------------------------------------
printf 'name: x\nseed: [1\n' > malformed.yaml
expect malformed-yaml 2 "malformed.yaml:3:1: malformed YAML" keep.h5 run_k malformed.yaml
spec 's/^seed: 11/seed: 11\nepochz: 3/' unknown.yaml
expect unknown-key 2 "unknown key 'epochz'.*valid keys" keep.h5 run_k unknown.yaml
spec 's/^seed: 11/seed: 11\nseed: 12/' dup.yaml
expect duplicate-key 2 "duplicate key 'seed'" keep.h5 run_k dup.yaml
spec 's/batch_size: 32/batch_size: abc/' type.yaml
expect wrong-type 2 "batch_size: expected an integer, got 'abc'" keep.h5 run_k type.yaml
spec 's/low: 1.0e-3, high: 30.0/low: 1.0, high: 0.1/' lowhigh.yaml
expect low-ge-high 2 "low \(1\) must be less than high \(0.1\)" keep.h5 run_k lowhigh.yaml
spec 's/low: 1.0e-3, high: 30.0/low: 0, high: 0.1/' logzero.yaml
expect log-bound-not-positive 2 "lr.low: 0 is out of range.*> 0" keep.h5 run_k logzero.yaml
spec 's/trials: 8,/trials: 0,/' zero.yaml
expect zero-trials 2 "trials: '0' is out of range" keep.h5 run_k zero.yaml
spec 's/points: 3,/points: 1,/' grid1.yaml
expect grid-one-point 2 "points: '1' is out of range" keep.h5 run_k grid1.yaml
spec 's/epochs: 4}/epochs: -4}/' negep.yaml
expect negative-epochs 2 "epochs: '-4' is out of range" keep.h5 run_k negep.yaml
spec '/^search:/,$d' nosearch.yaml
expect no-search-section 2 "has no search: section" keep.h5 run_k nosearch.yaml
: > empty.yaml
expect empty-spec 2 "the spec is empty" keep.h5 run_k empty.yaml
expect missing-spec 2 "nope.yaml: cannot open the spec: No such file" keep.h5 run_k nope.yaml
mkdir -p dir.yaml
expect spec-is-a-folder 2 "dir.yaml: cannot read the spec: Is a directory" keep.h5 run_k dir.yaml
spec 's/type: dense, units: 32/type: densex, units: 32/' layer.yaml
expect unknown-layer 2 "unknown value 'densex'.*did you mean 'dense'" keep.h5 run_k layer.yaml
spec 's/type: sgd/type: sgdx/' optim.yaml
expect unknown-optimizer 2 "optimizer.type: unknown value 'sgdx'" keep.h5 run_k optim.yaml
spec 's/type: dense, units: 10/type: dense, units: 7/' units.yaml
expect output-width-vs-classes 2 "7 units but data.classes is 10" keep.h5 run_k units.yaml
spec 's/type: dense, units: 32}/type: conv, filters: 4, kernel: 40}/' conv.yaml
expect image-too-small-for-model 2 "kernel 40 is larger than the padded input" keep.h5 run_k conv.yaml

# ---- the data (exit 1) ------------------------------------------------------------------------
spec 's/  dir: data/  dir: nodata/' nodata.yaml
expect missing-data-files 1 "nodata/train-images-idx3-ubyte: cannot open: No such file" keep.h5 run_k nodata.yaml
bad_data() {  # bad_data DIR: a copy of ./data to break, and a spec reading it
  rm -rf "$1"; cp -r data "$1"; sed "s|  dir: data|  dir: $1|" $R > "$1.yaml"
}
bad_data trunc; head -c 100000 data/train-images-idx3-ubyte > trunc/train-images-idx3-ubyte
expect truncated-idx 1 "trunc/train-images-idx3-ubyte" keep.h5 run_k trunc.yaml
bad_data magic; printf '\x00\x00\x09\x03' | dd of=magic/train-images-idx3-ubyte bs=1 count=4 conv=notrunc 2> /dev/null
expect wrong-magic-idx 1 "magic/train-images-idx3-ubyte.*magic" keep.h5 run_k magic.yaml
bad_data label; printf '\x0c' | dd of=label/train-labels-idx1-ubyte bs=1 seek=20 count=1 conv=notrunc 2> /dev/null
expect label-out-of-range 1 "label 12" keep.h5 run_k label.yaml
bad_data count; $py "$tests/integration/make_idx.py" count5k 5000 500 && cp count5k/train-labels-idx1-ubyte count/
expect label-count-mismatch 1 "count/train-" keep.h5 run_k count.yaml
spec 's/val_size: 500/val_size: 6000/' valsize.yaml
expect validation-too-large 1 "val_size 6000 must lie in" keep.h5 run_k valsize.yaml
bad_data isdir; rm isdir/train-images-idx3-ubyte; mkdir isdir/train-images-idx3-ubyte
expect data-file-is-a-folder 1 "isdir/train-images-idx3-ubyte" keep.h5 run_k isdir.yaml

# ---- the device (exit 1) ---------------------------------------------------------------------
# device: cuda where no GPU can be had (a CPU-only build, or no GPU visible): it fails before the
# data is read and before the output is touched (even with --force). Not a case where a GPU is
# visible: there it trains.
if command -v nvidia-smi > /dev/null 2>&1 && nvidia-smi -L 2> /dev/null | grep -q '^GPU'; then
  echo "skipped: device-cuda-without-gpu, train-device-cuda-without-gpu (a GPU is visible here)"
else
  spec 's/^seed: 11/seed: 11\ndevice: cuda/' cuda.yaml
  expect device-cuda-without-gpu 1 "cuda.yaml: device: cuda: .*(built without CUDA|no CUDA device is visible).*device: cpu" \
    keep.h5 run_k cuda.yaml
  expect train-device-cuda-without-gpu 1 "resume.yaml: device: cuda: .*device: cpu" - "$bin" train $R --device cuda
fi

# ---- the command line (exit 2) ---------------------------------------------------------------
expect unknown-option 2 "unknown option '--bogus'" keep.h5 "$bin" run $R -o keep.h5 --bogus
expect threads-zero 2 "--threads" keep.h5 "$bin" run $R -o keep.h5 --force --threads 0
expect checkpoint-every-negative 2 "--checkpoint-every" keep.h5 "$bin" run $R -o keep.h5 --force --checkpoint-every -1
expect resume-and-force 2 "--resume and --force contradict" keep.h5 "$bin" run $R -o keep.h5 --force --resume
expect resume-two-files 2 "one results file expected" keep.h5 "$bin" resume keep.h5 other.h5
expect train-unknown-device 2 "--device expects auto, cpu or cuda, got 'gpu'" - "$bin" train $R --device gpu

# ---- train reads only what it uses ------------------------------------------------------------
# `hpsweep train` ignores the search: section, so a broken one does not stop it (zero.yaml: a
# stage of 0 trials). --epochs counts before the warm-up is checked against the epochs: the spec
# warms up for 2 epochs of 1 (refused as written), --epochs 3 trains, --epochs 2 is still refused.
expect train-ignores-search 0 "" - "$bin" train zero.yaml --no-test
sed 's/^train: {batch_size: 32, epochs: 1}/train: {batch_size: 32, epochs: 1, schedule: {type: constant, warmup_epochs: 2}}/' \
  $R > warm.yaml
grep -q "warmup_epochs: 2" warm.yaml || fail "could not set the warm-up in warm.yaml"
expect train-epochs-past-warmup 0 "" - "$bin" train warm.yaml --epochs 3 --no-test
expect train-epochs-within-warmup 2 "warmup_epochs: '2' is not less than train.epochs \(2, given on the command line\)" - \
  "$bin" train warm.yaml --epochs 2 --no-test

# ---- the results file -------------------------------------------------------------------------
expect output-exists 3 "keep.h5 exists; pass --resume.*--force" keep.h5 "$bin" run $R -o keep.h5
expect resume-changed-spec 3 "another spec \(sha256 [0-9a-f]+.*\(sha256 [0-9a-f]+.*hpsweep resume keep.h5" keep.h5 \
  "$bin" run $R -o keep.h5 --resume
echo "not an HDF5 file" > text.h5
expect resume-not-hdf5 2 "text.h5 is not an HDF5 file" text.h5 "$bin" resume text.h5
$py -c "import h5py; h5py.File('foreign.h5', 'w').create_dataset('x', data=[1, 2, 3])"
expect resume-hdf5-from-another-program 2 "foreign.h5 is an HDF5 file but not an hpsweep results file" foreign.h5 \
  "$bin" resume foreign.h5
cp keep.h5 newer.h5
$py -c "import h5py; f = h5py.File('newer.h5', 'r+', libver='latest'); f.attrs['format_version'] = 99; f.close()"
expect resume-newer-format 2 "newer hpsweep \(format version 99" newer.h5 "$bin" resume newer.h5
head -c 3000 keep.h5 > damaged.h5
expect resume-damaged-file 2 "damaged.h5" damaged.h5 "$bin" resume damaged.h5
expect resume-missing-file 2 "missing.h5: No such file" - "$bin" resume missing.h5
mkdir -p folder.h5
expect resume-a-folder 2 "folder.h5 is a folder" - "$bin" resume folder.h5
# The data changed since the sweep started: a copy of keep.h5 whose spec reads ./data2.
rm -rf data2; cp -r data data2; printf '\x03' | dd of=data2/train-labels-idx1-ubyte bs=1 seek=30 count=1 conv=notrunc 2> /dev/null
sed 's|  dir: data|  dir: data2|' small.yaml > small2.yaml
HPSWEEP_FAULT=epoch:2:term "$bin" run small.yaml -o changed.h5 --quiet > /dev/null 2>&1
rm -rf data.saved; mv data data.saved; mv data2 data
expect resume-changed-data 3 "training split differs from the one the sweep started with" changed.h5 \
  "$bin" resume changed.h5
mv data data2; mv data.saved data
echo "a file, not a folder" > notafolder
expect unwritable-output-folder 1 "notafolder/out.h5: cannot create it.*Not a directory" - \
  "$bin" run small.yaml -o notafolder/out.h5 --quiet
[ ! -e notafolder/out.h5 ] || fail "unwritable-output-folder left a file"
# A full disk: a file size limit (RLIMIT_FSIZE) the snapshot rows soon exceed. The sweep stops
# with the system's message; the file keeps every row written before, and resumes once there is
# room.
# (MPI needs a few MB for its own files: 8 MB, and 3.3 MB snapshot rows.)
sed 's/units: 32}/units: 1024}/' small.yaml > big.yaml
expect full-disk 1 "full.h5.*File too large.*free some space" - bash -c "ulimit -f 8000; exec $bin run big.yaml -o full.h5 --quiet"
"$bin" show full.h5 > /dev/null 2>&1 && ok "full-disk: the file reads" || fail "full-disk: show"
"$bin" resume full.h5 --quiet > out.log 2>&1 && ok "full-disk: resumes once there is room" || { fail "full-disk resume"; cat out.log; }
# Another hpsweep is writing the file: resume refuses it, the live sweep goes on.
# Long enough (about 30 s alone) that the checks below always find it running; SIGTERM ends it.
sed 's/trials: 8, epochs: 4/trials: 8, epochs: 400/' $R > slow.yaml
"$bin" run slow.yaml -o live.h5 --quiet > /dev/null 2>&1 & pid=$!
wait_finished live.h5 0 || true
for i in $(seq 50); do "$bin" show live.h5 2>/dev/null | grep -q "1 running" && break; sleep 0.05; done
expect resume-while-being-written 3 "being written by another hpsweep that is still running" - "$bin" resume live.h5
expect force-while-being-written 3 "--force: results file live.h5 is being written by another hpsweep" - \
  "$bin" run slow.yaml -o live.h5 --force --quiet
kill -TERM $pid; wait $pid; [ $? -eq 4 ] && ok "the live sweep was not disturbed (stopped by SIGTERM: exit 4)" || fail "live sweep"
# More trainer ranks than trials: the idle ones wait and stop; not an error.
expect more-ranks-than-trials 0 "" - mpi 7 "$bin" run small.yaml -o ranks.h5 --quiet

[ "$(md5sum < keep.h5)" = "$keep_sum" ] && ok "keep.h5 unchanged after every case" || fail "keep.h5 changed"
expect empty-output-name 2 "--output: the file name is empty" keep.h5 "$bin" run $R -o ''
expect empty-resume-name 2 "the results file name is empty" keep.h5 "$bin" resume ''
sed 's/^name: resume/name: ..\/escaped/' $R > escaped.yaml
expect name-with-a-path 2 "name: '../escaped' is not a plain name" keep.h5 "$bin" run escaped.yaml --quiet
[ ! -e ../escaped.h5 ] && ok "nothing written outside the working folder" || fail "../escaped.h5 was written"
sed 's/val_size: 500/val_size: 0/' $R > val0.yaml
expect val-size-zero 2 "data.val_size: '0' is out of range; it must be >= 1" keep.h5 run_k val0.yaml

sed 's/type: dense, units: 32}/type: dense, units: 1048576}\n    - {type: dense, units: 1048576}/' $R > huge.yaml
expect model-too-large-for-memory 1 "out of memory allocating [0-9]+ bytes for the model state" keep.h5 run_k huge.yaml

# A lone run with the loopback interface down (a network namespace of its own: `unshare -n`).
# Alone, hpsweep does not initialise MPI, whose singleton start needs a daemon over loopback;
# forcing MPI on (HPSWEEP_MPI=1) there shows the failure it avoids.
sed 's/^train: {batch_size: 32, epochs: 1}/train: {batch_size: 32, epochs: 1, synthetic_ms: 2}/' small.yaml > lo.yaml
if unshare -n true 2> /dev/null; then
  expect loopback-down-alone 0 "" - unshare -n "$bin" run lo.yaml -o lo.h5 --quiet
  HPSWEEP_MPI=1 unshare -n "$bin" run lo.yaml -o lo2.h5 --quiet > lo2.log 2>&1 \
    && { fail "HPSWEEP_MPI=1 without loopback: it ran, so the case above shows nothing"; } \
    || ok "HPSWEEP_MPI=1 without loopback fails in MPI_Init (what a lone run now avoids)"
else
  echo "skip: loopback-down-alone (unshare -n is not permitted here)"
fi

# ---- outcomes ----------------------------------------------------------------------------------
# Every trial diverges (lr 1000 and up): the file is complete, but there is no model for the test
# split: exit 1 naming why, and `show` says no trial scored (not that the sweep was interrupted).
sed 's/low: 1.0e-3, high: 30.0/low: 1000.0, high: 10000.0/; s/trials: 8, epochs: 4/trials: 3, epochs: 2/' $R > alldiv.yaml
expect no-trial-finished 1 "no trial finished with a model to evaluate: all 12 trials diverged, failed or were pruned" - \
  "$bin" run alldiv.yaml -o alldiv.h5 --quiet
"$bin" show alldiv.h5 > show_alldiv.log 2>&1
grep -q "no trial finished with a validation score" show_alldiv.log && ! grep -q "stopped before its final" show_alldiv.log \
  && ok "show on it: no trial scored, no blame on an interruption" || { fail "show on alldiv.h5"; cat show_alldiv.log; }

# A synthetic sweep (train.synthetic_ms > 0) trains no model, so no test result by design: `show`
# says so and does not send the user to resume it. show reads the stored spec to know, not the
# snapshots: keep.h5 (a real finished sweep, its trials with snapshots) with its spec text made
# synthetic and /final emptied must read as synthetic (it said "stopped before its final evaluation").
sed 's/^train: {batch_size: 32, epochs: 1}/train: {batch_size: 32, epochs: 1, synthetic_ms: 2}/' small.yaml > syn.yaml
"$bin" run syn.yaml -o syn.h5 --quiet > /dev/null 2>&1 || fail "show-finished-synthetic: the synthetic sweep failed"
cp keep.h5 synspec.h5
$py - << 'PYEOF' || fail "show-finished-synthetic: could not make synspec.h5"
import h5py, numpy as np
f = h5py.File('synspec.h5', 'r+', libver='latest')
text = f.attrs['spec_yaml'].decode().replace('epochs: 1}', 'epochs: 1, synthetic_ms: 2}', 1)
assert 'synthetic_ms' in text
f.attrs.create('spec_yaml', np.bytes_(text.encode()))
f['final'].resize((0,))
f.close()
PYEOF
for f in syn.h5 synspec.h5; do
  "$bin" show $f > show_syn.log 2>&1
  grep -q "a synthetic sweep (train.synthetic_ms > 0) trains no model" show_syn.log && ! grep -q "stopped before its final" show_syn.log \
    && ok "show-finished-synthetic ($f): no test result by design, no blame on an interruption" \
    || { fail "show-finished-synthetic: show $f"; cat show_syn.log; }
done

echo "bad_input: $cases cases"
summary bad_input
