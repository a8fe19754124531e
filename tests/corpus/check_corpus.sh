#!/usr/bin/env bash
# The corpus checks (meson test, suite `corpus`): makes the corpus of real encoder output
# (make_corpus.py; the quick set, or the full set with AMS_TEST_FULL=1) in build/tests/corpus,
# runs `ams inspect` on every asset, publishes every asset under a streaming locator in a
# temporary database, starts `ams serve` on a free loopback port and runs the format-level checks
# of corpus_check.py against it (docs/corpus.md says what each one does). One line per asset and
# check, `[ corpus ] ASSET CHECK: ok|FAILED (why)`, then a count; exits non-zero on any failure.
#   meson test -C build --suite corpus -v
#   AMS_TEST_FULL=1 meson test -C build --suite corpus -v
#   AMS_CORPUS_ASSETS="x264-bframes-aac" ...       only these assets (the corpus is still made)
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${AMS_SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}
BUILD=${AMS_BUILD_ROOT:?set by meson test}
AMS=$BUILD/tools/ams
OUT=$BUILD/tests/corpus
SCHEMAS=${AMS_DASH_SCHEMAS:-$SRC/../shared/schemas/dash}
export GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-$BUILD/gst/elements}
say() { echo "[ corpus ] $*"; }

SET=quick
[ "${AMS_TEST_FULL:-0}" = 1 ] && SET=full

server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; }
trap cleanup EXIT

# What the checks need is part of the setup (scripts/setup.sh): its absence is a failure, not a
# reason to skip.
for tool in ffmpeg ffprobe gst-launch-1.0 xmllint node curl python3; do
  command -v "$tool" >/dev/null || { say "setup: FAILED ($tool is not installed: scripts/setup.sh)"; exit 1; }
done
[ -f "$HERE/node_modules/hls-parser/package.json" ] ||
  { say "setup: FAILED (hls-parser is not installed: npm ci in tests/corpus, as scripts/setup.sh does)"; exit 1; }
[ -f "$SCHEMAS/DASH-MPD.xsd" ] && [ -f "$SCHEMAS/catalog.xml" ] ||
  { say "setup: FAILED (the DASH schema is absent: $SCHEMAS/DASH-MPD.xsd)"; exit 1; }
[ -x "$AMS" ] || { say "setup: FAILED ($AMS is not built)"; exit 1; }

mkdir -p "$OUT"
start=$(date +%s%N)
python3 "$HERE/make_corpus.py" "$OUT/assets" --set "$SET" ||
  { say "make_corpus: FAILED"; exit 1; }
say "corpus ($SET set) ready in $((($(date +%s%N) - start) / 1000000)) ms: $OUT/assets/corpus.json"

# --- publish every asset -------------------------------------------------------------------
DB=$OUT/ams.db
rm -f "$DB" "$DB-wal" "$DB-shm"
PUBLISHED=$OUT/published.tsv
: >"$PUBLISHED"
while IFS=$'\t' read -r name folder; do
  "$AMS" asset create "$name" --path "$OUT/assets/$folder" --db "$DB" >/dev/null ||
    { say "$name publish: FAILED (ams asset create)"; continue; }
  locator=$("$AMS" locator create --asset "$name" --policy Predefined_DownloadAndClearStreaming --db "$DB") ||
    { say "$name publish: FAILED (ams locator create)"; continue; }
  printf '%s\t%s\n' "$name" "$locator" >>"$PUBLISHED"
done < <(python3 -c '
import json, os, sys
for a in json.load(open(sys.argv[1]))["assets"]:
    folder = a["path"] if a["shape"] == "folder" else os.path.dirname(a["path"])
    print(a["name"] + "\t" + folder)' "$OUT/assets/corpus.json")

# --- the endpoint ----------------------------------------------------------------------------
# Port 0: the server picks a free port and prints its URL on its first line. One server for the
# whole corpus; if an asset kills it, that is that asset's failure, and a new server is started
# for the next asset so that one crash does not hide what the others do.
servers=0
start_server() {
  servers=$((servers + 1))
  local log=$OUT/server-$servers.log
  "$AMS" serve --db "$DB" --listen 127.0.0.1:0 --access-log "$OUT/access.log" >"$log" 2>&1 &
  server_pid=$!
  PORT=""
  for _ in $(seq 100); do
    PORT=$(sed -n 's#.*on http://127\.0\.0\.1:\([0-9]*\)/.*#\1#p' "$log" | head -n 1)
    [ -n "$PORT" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$PORT" ] || { cat "$log"; say "serve: FAILED (the endpoint did not say its port)"; exit 1; }
  say "endpoint http://127.0.0.1:$PORT/ (log $log, access log $OUT/access.log)"
}

RESULTS=$OUT/results.txt
: >"$RESULTS"
: >"$OUT/access.log"
status=0
mapfile -t names < <(python3 -c '
import json, sys
for a in json.load(open(sys.argv[1]))["assets"]:
    print(a["name"])' "$OUT/assets/corpus.json")
[ ${#names[@]} -gt 0 ] || { say "corpus: FAILED (corpus.json lists no asset)"; exit 1; }
for name in "${names[@]}"; do
  if [ -n "${AMS_CORPUS_ASSETS:-}" ] && [[ " $AMS_CORPUS_ASSETS " != *" $name "* ]]; then continue; fi
  [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null || start_server
  python3 "$HERE/corpus_check.py" --corpus "$OUT/assets/corpus.json" --published "$PUBLISHED" \
    --origin "http://127.0.0.1:$PORT" --ams "$AMS" --work "$OUT/work" --schemas "$SCHEMAS" \
    --hls-strict "$HERE/hls_strict.mjs" --asset "$name" --results "$RESULTS" || status=1
  if ! kill -0 "$server_pid" 2>/dev/null; then
    wait "$server_pid"
    rc=$?
    why="status $rc"
    [ $rc -gt 128 ] && why="signal $((rc - 128))"
    say "$name serve: FAILED (the server died on this asset: $why; $OUT/server-$servers.log)"
    grep -v '^$' "$OUT/server-$servers.log" | tail -n 3 | sed 's/^/    /'
    echo "$name 0 1" >>"$RESULTS"
    server_pid=""
    status=1
  fi
done

published=$(wc -l <"$PUBLISHED")
if [ "$published" -ne "${#names[@]}" ]; then
  say "publish: FAILED ($published of ${#names[@]} assets published)"
  echo "publish 0 1" >>"$RESULTS"
  status=1
fi
read -r passed failed < <(awk '{p += $2; f += $3} END {print p + 0, f + 0}' "$RESULTS")
[ $((passed + failed)) -gt 0 ] || { say "no check ran"; exit 1; }
[ "$failed" -eq 0 ] || status=1
say "$((passed + failed)) checks: $passed passed, $failed failed"
exit $status
