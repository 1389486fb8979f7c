#!/usr/bin/env bash
# The report page in a real browser (headless Chromium): it loads with no console message at
# error level, the page itself requests nothing from the network (every request it made is in
# Chromium's net log; the browser's own background requests are told apart by their isolation
# key), and its DOM after loading holds one mark per drawable trial (check_report.py on the DOM
# Chromium dumps). A screenshot is kept as the test's artifact (OUT_DIR/report-screenshot.png).
# Each check is also run on a copy of the page with a planted console error and an external image,
# and must fail there: the checks can fail. Skipped (77) where no chromium is installed.
# usage: browser.sh HPSWEEP TESTS_DIR [OUT_DIR]
set -uo pipefail
bin=$1; tests=$2; out=$(realpath "${3:-.}")
chrome=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$chrome" ] || { echo "skipped: no chromium (Debian: apt-get install chromium; scripts/setup.sh --test)"; exit 77; }
. "$tests/integration/lib_resume.sh" # scratch folder with ./data, ok/fail/summary
setup_data 2000
sed 's/trials: 8, epochs: 4/trials: 6, epochs: 1/; s/points: 3, epochs: 5/points: 2, epochs: 2/' resume.yaml > small.yaml
"$bin" run small.yaml -o s.h5 --quiet > run.log 2>&1 || { fail "the sweep"; cat run.log; }
"$bin" report s.h5 -o s.html > report.log 2>&1 || { fail "the report"; cat report.log; }
sed 's|</body>|<img src="http://example.com/x.png"><script>console.error("planted");</script></body>|' s.html > planted.html

# load PAGE [ARGS]: Chromium on PAGE with a dead proxy (nothing can leave this machine), its net
# log in PAGE.net.json, its log in PAGE.err.
load() {
  local page=$1; shift
  rm -rf profile
  timeout 90 "$chrome" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --disable-background-networking --user-data-dir="$PWD/profile" --proxy-server=127.0.0.1:9 \
    --log-net-log="$PWD/$page.net.json" --enable-logging=stderr --v=0 "$@" "file://$PWD/$page" 2> "$page.err"
}
# console_errors PAGE: the console messages at error level Chromium logged (console.error, uncaught exceptions).
console_errors() { grep -E 'CONSOLE:[0-9]+\]|Uncaught' "$1.err" | grep -v 'CONSOLE:[0-9]+\] "[^"]*", source: chrome' || true; }
# page_requests PAGE: URLs the page requested that are not file: or data: URLs.
page_requests() {
  $py - "$1.net.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
types = {v: k for k, v in d["constants"]["logEventTypes"].items()}
for e in d.get("events", []):
    p = e.get("params", {})
    if types.get(e["type"]) == "URL_REQUEST_START_JOB" and str(p.get("network_isolation_key", "")).startswith("file://"):
        if not str(p.get("url", "")).startswith(("file:", "data:")):
            print(p["url"])
PY
}

for page in s.html planted.html; do
  load "$page" --dump-dom > "$page.dom" || { fail "$page: chromium exited $?"; tail -5 "$page.err"; continue; }
  errs=$(console_errors "$page"); reqs=$(page_requests "$page")
  if [ "$page" = s.html ]; then
    [ -z "$errs" ] && ok "the page loads with no console error" || fail "console errors: $errs"
    [ -z "$reqs" ] && ok "the page requests nothing from the network" || fail "network requests: $reqs"
    if $py "$tests/integration/check_report.py" s.h5 s.html.dom > check.log 2>&1; then
      ok "the loaded DOM: one mark per drawable trial, nothing external ($(tail -1 check.log))"
    else fail "the loaded DOM"; cat check.log; fi
  else
    [ -n "$errs" ] && ok "planted console error seen" || fail "the planted console error was not seen"
    [ "$reqs" = "http://example.com/x.png" ] && ok "planted external image seen" || fail "planted request: '$reqs'"
  fi
done
sed 's/class="pt[^"]*"/class="gone"/' s.html.dom > gone.dom
$py "$tests/integration/check_report.py" s.h5 gone.dom > gone.log 2>&1 && fail "check_report.py passed a DOM without marks" \
  || ok "check_report.py fails a DOM without marks"

mkdir -p "$out"
load s.html --window-size=1200,4000 --screenshot="$out/report-screenshot.png" > /dev/null
if [ "$(head -c 8 "$out/report-screenshot.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
  ok "screenshot kept: $out/report-screenshot.png ($(stat -c %s "$out/report-screenshot.png") bytes)"
else fail "no PNG screenshot"; fi
summary browser
