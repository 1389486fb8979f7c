#!/usr/bin/env bash
# `hpsweep check`: a sound spec passes both sanity checks (exit 0); a learning rate too small
# to learn fails the overfit check (exit 1); a bad spec is exit 2.
# usage: check_cmd.sh HPSWEEP_BINARY TESTS_DIR
set -uo pipefail
bin=$1; tests=$2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
passed=0; failed=0
ok()   { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAILED: $*"; failed=$((failed + 1)); }

"$bin" check "$tests/integration/tiny.yaml" > "$work/good.log" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ "$(grep -c '^ok:' "$work/good.log")" -eq 2 ]; then ok "sound spec passes both checks"
else fail "sound spec: exit $rc"; cat "$work/good.log"; fi

# A learning rate of 1e-9 cannot memorise 64 examples in 200 steps: the overfit check fails.
sed -e 's/lr: 0.05,/lr: 1.0e-9,/' "$tests/integration/tiny.yaml" > "$work/slow.yaml"
grep -q "lr: 1.0e-9" "$work/slow.yaml" || fail "could not set the learning rate in the copied spec"
"$bin" check "$work/slow.yaml" > "$work/slow.log" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "^FAIL: overfit" "$work/slow.log"; then ok "a learning rate too small to learn fails the overfit check"
else fail "tiny learning rate: exit $rc"; cat "$work/slow.log"; fi

printf 'model:\n  layers:\n    - {type: dense, unitz: 10}\n' > "$work/bad.yaml"
"$bin" check "$work/bad.yaml" > "$work/bad.log" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "bad.yaml:3:" "$work/bad.log" && grep -q "unitz" "$work/bad.log"; then ok "bad spec: exit 2 with file:line"
else fail "bad spec: exit $rc"; cat "$work/bad.log"; fi

# --dump: the resolved spec (every default filled in), which reads back to the same dump.
"$bin" check "$tests/integration/tiny.yaml" --dump > "$work/d1.yaml" 2> "$work/d1.err"; rc=$?
"$bin" check "$work/d1.yaml" --dump > "$work/d2.yaml" 2>&1
if [ $rc -eq 0 ] && grep -q "^  val_size: 5000" "$work/d1.yaml" && grep -q "^name: \"tiny\"" "$work/d1.yaml" \
   && cmp -s "$work/d1.yaml" "$work/d2.yaml"; then ok "check --dump prints the defaults and reads back to the same"
else fail "check --dump: exit $rc"; cat "$work/d1.yaml" "$work/d1.err"; fi

echo "check_cmd: $passed passed, $failed failed"
[ $failed -eq 0 ] && [ $passed -gt 0 ]
