#!/usr/bin/env bash
# `hpsweep serve` (issue 15) on a sweep being written: the page is fetched with Python's urllib
# while the sweep runs and its count of finished trials grows; it reloads itself (meta refresh);
# /trials.csv and /curves.csv are the tables as CSV;
# other paths are 404, other methods 405; a malformed, an oversized and a silent request do not
# hang it; a taken port, port 0 and a port out of range are refused with one line; SIGTERM stops
# it within a second with exit 4 (docs/exit-codes.md).
# usage: serve.sh HPSWEEP_BINARY TESTS_DIR
set -uo pipefail
bin=$1; tests=$2
. "$tests/integration/lib_resume.sh"
setup_data 6000
port=$($py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"

# Longer epochs than the resume tests, so that the sweep runs for a few seconds.
sed 's/trials: 8, epochs: 4/trials: 8, epochs: 8/; s/points: 3, epochs: 5/points: 3, epochs: 10/' resume.yaml > live.yaml
"$bin" run live.yaml -o live.h5 --quiet > run.log 2>&1 & run_pid=$!
wait_finished live.h5 1 || fail "the sweep did not get going"
"$bin" serve live.h5 --port "$port" > serve.log 2> serve.err & pid=$!
for _ in $(seq 50); do grep -q "ssh -L $port:127.0.0.1:$port" serve.log && break; sleep 0.1; done
grep -q "ssh -L $port:127.0.0.1:$port .* then open http://127.0.0.1:$port/" serve.log \
  && ok "serve prints the ssh tunnel: $(tail -1 serve.log)" || { fail "serve did not start"; cat serve.log serve.err; }

# GET /: STATUS then the count of finished trials (done + diverged) on the page.
fetch() {
  $py - "$url$1" <<'PY'
import re, sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=5)
    page, code = r.read().decode(), r.status
except urllib.error.HTTPError as e:
    page, code = e.read().decode(), e.code
n = sum(int(v) for k, v in re.findall(r'<td data-status="(done|diverged)">(\d+)</td>', page))
print(code, n, int('<meta http-equiv="refresh" content="5"/>' in page))
PY
}
read -r c1 n1 m1 < <(fetch /)
[ "$c1" = 200 ] && [ "$m1" = 1 ] && ok "GET / while the sweep runs: 200, $n1 finished trials, a meta refresh" \
  || fail "first GET /: $c1 $n1 $m1"
n2=$n1; tries=0
while [ "$n2" -le "$n1" ] && [ $tries -lt 60 ] && kill -0 $run_pid 2> /dev/null; do
  sleep 0.3; tries=$((tries + 1)); read -r c2 n2 m2 < <(fetch /report.html)
done
[ "$n2" -gt "$n1" ] && ok "a later GET /report.html sees the sweep move: $n1 -> $n2 finished trials" \
  || fail "the page did not grow ($n1 -> $n2, $tries tries)"

# The tables as CSV: the header of export --csv, and as many rows as the file's tables hold at
# least at the moment of the request (the sweep keeps writing).
$py - "$url" live.h5 <<'PY' && ok "GET /trials.csv and /curves.csv: the tables as export writes them" || fail "CSV over HTTP"
import csv, io, sys, urllib.request
url, h5 = sys.argv[1], sys.argv[2]
for name, first in (("trials", "id"), ("curves", "trial")):
    r = urllib.request.urlopen(f"{url}/{name}.csv", timeout=5)
    ctype, rows = r.headers["Content-Type"], list(csv.reader(io.StringIO(r.read().decode())))
    if not ctype.startswith("text/csv") or rows[0][0] != first or len(rows) < 2:
        sys.exit(print(name, ctype, rows[:2]) or 1)
    print(f"{name}.csv: {len(rows) - 1} rows, {len(rows[0])} columns")
PY

status() { $py - "$url" "$@" <<'PY'
import sys, urllib.request, urllib.error
url, method, path = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    print(urllib.request.urlopen(urllib.request.Request(url + path, method=method), timeout=5).status)
except urllib.error.HTTPError as e:
    print(e.code, e.headers.get("Allow", ""))
PY
}
[ "$(status GET /nope)" = "404 " ] && ok "GET /nope: 404" || fail "GET /nope: $(status GET /nope)"
[ "$(status POST /)" = "405 GET, HEAD" ] && ok "POST /: 405, Allow: GET, HEAD" || fail "POST /: $(status POST /)"
[ "$(status DELETE /x)" = "405 GET, HEAD" ] && ok "DELETE /x: 405" || fail "DELETE /x: $(status DELETE /x)"
[ "$(status HEAD /)" = "200" ] && ok "HEAD /: 200" || fail "HEAD /: $(status HEAD /)"

# Raw requests: a malformed one, an oversized one, a silent client (the server must answer the
# next client within its 2 s read timeout), then a normal GET still works.
$py - "$port" <<'PY' && ok "malformed, oversized and silent requests: 400, 431, and the next client is served" || fail "raw requests"
import socket, sys, time, urllib.request
port = int(sys.argv[1])
def ask(data):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(data)
    got = s.recv(200).decode(errors="replace")
    s.close()
    return got.split("\r\n")[0]
bad = [(b"garbage\r\n\r\n", "400"), (b"GET nothing HTTP/1.1\r\n\r\n", "400"), (b"GET / SPDY/3\r\n\r\n", "400"),
       (b"GET / HTTP/2.0\r\n\r\n", "505"), (b"GET /" + b"a" * 20000, "431")]
for data, want in bad:
    line = ask(data)
    if want not in line:
        sys.exit(print(f"{data[:30]!r}: {line!r}, want {want}") or 1)
silent = socket.create_connection(("127.0.0.1", port), timeout=5)   # says nothing
t0 = time.time()
code = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).status
dt = time.time() - t0
silent.close()
print(f"silent client: the next GET answered {code} after {dt:.2f} s")
sys.exit(0 if code == 200 and dt < 5 else 1)
PY

# Refused: the port taken, port 0, out of range, a bad address, a missing file.
expect() {  # NAME RC REGEX CMD...: exit code RC and one line on stderr matching REGEX
  local name=$1 want=$2 regex=$3; shift 3
  timeout 10 "$@" > out.log 2> err.log; local rc=$?
  if [ $rc -eq "$want" ] && [ "$(grep -c . err.log)" -eq 1 ] && grep -qE -- "$regex" err.log
  then ok "$name (exit $rc): $(head -c 140 err.log)"; else fail "$name: exit $rc"; cat err.log; fi
}
expect port-taken 1 "port $port on 127.0.0.1 is already in use .*choose another with --port" "$bin" serve live.h5 --port "$port"
expect port-0 2 "--port 0 .* is refused" "$bin" serve live.h5 --port 0
expect port-too-big 2 "--port expects an integer in \[1, 65535\], got '70000'" "$bin" serve live.h5 --port 70000
expect bad-bind 2 "--bind 1.2.3: not an IPv4 address" "$bin" serve live.h5 --port "$port" --bind 1.2.3
expect missing-file 1 "serve: .*nope.h5: No such file" "$bin" serve nope.h5 --port "$port"

t0=$(now); kill -TERM $pid; wait $pid; rc=$?; t1=$(now)
[ $rc -eq 4 ] && awk -v d="$(secs "$t0" "$t1")" 'BEGIN { exit !(d < 1.0) }' && grep -q "stopped by SIGTERM" serve.log \
  && ok "SIGTERM stops it in $(secs "$t0" "$t1") s, exit 4" || { fail "SIGTERM: exit $rc in $(secs "$t0" "$t1") s"; cat serve.err; }
wait $run_pid || fail "the sweep failed"
summary serve
