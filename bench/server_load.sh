#!/bin/sh
# Load figures for `ams serve` on loopback with wrk: requests/s and latency percentiles for a
# master manifest, a media playlist, a 720p CMAF fragment and a 720p TS segment at 1, 8 and 64
# connections, and the server's peak RSS. Prints a table; it is a benchmark, not a test.
#
#   bench/server_load.sh [BUILD_DIR] [SECONDS_PER_RUN]     (defaults: build, 5)
#
# Needs wrk (Debian: apt-get install wrk). Encodes a 6 s test asset into a temporary folder.
set -eu

build=$(cd "${1:-build}" && pwd)
duration=${2:-5}
command -v wrk >/dev/null || { echo "server_load.sh: wrk is not installed" >&2; exit 1; }

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

export GST_PLUGIN_PATH="$build/gst/elements" GST_REGISTRY="$work/registry.bin"
ams="$build/tools/ams"
locator=33333333-0000-4000-8000-000000000001
"$ams" encode --test-source 6 --ladder 720,360 "$work/asset" >/dev/null 2>&1
"$ams" asset create bench --path "$work/asset" --db "$work/ams.db" >/dev/null
"$ams" locator create --asset bench --policy Predefined_ClearStreamingOnly --id $locator \
  --db "$work/ams.db" >/dev/null

"$ams" serve --db "$work/ams.db" --listen 127.0.0.1:0 > "$work/serve.out" 2>&1 &
server_pid=$!
for _ in $(seq 50); do grep -q http "$work/serve.out" && break; sleep 0.1; done
base=$(sed -n 's/.* on \(http[^ ]*\)\/$/\1/p' "$work/serve.out")
[ -n "$base" ] || { cat "$work/serve.out" >&2; exit 1; }
ism="$base/$locator/$(basename "$work"/asset/*.ism)"

# The 720p level's QualityLevels, from the HLS master.
master=$(curl -sf "$ism/manifest(format=m3u8-aapl)")
level=$(printf '%s\n' "$master" | grep -A1 'RESOLUTION=1280x720' | grep -o 'QualityLevels([0-9]*)' | head -1)

run() {  # name url
  for c in 1 8 64; do
    t=2; [ "$c" -lt 2 ] && t=1
    out=$(wrk -t$t -c$c -d"${duration}s" --latency "$2")
    rps=$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(printf '%s\n' "$out" | awk '$1 == "50%" {print $2}')
    p90=$(printf '%s\n' "$out" | awk '$1 == "90%" {print $2}')
    p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
    bad=$(printf '%s\n' "$out" | awk '/Non-2xx/ {print $NF}')
    printf '| %-22s | %4s | %9s | %8s | %8s | %8s | %6s |\n' "$1" "$c" "$rps" "$p50" "$p90" "$p99" "${bad:-0}"
  done
}

echo "ams serve on loopback, wrk ${duration}s per row, $(nproc) cores"
echo '| resource               | conn | req/s     | p50      | p90      | p99      | non-2xx |'
echo '|------------------------|------|-----------|----------|----------|----------|---------|'
run "master (m3u8-aapl)" "$ism/manifest(format=m3u8-aapl)"
run "media playlist (720p)" "$ism/$level/Manifest(video,format=m3u8-aapl)"
run "CMAF fragment (720p)" "$ism/$level/Fragments(video=20000000,format=m3u8-cmaf)"
run "TS segment (720p)" "$ism/$level/Fragments(video=0,format=m3u8-aapl)"
echo
echo "CMAF fragment: $(curl -s -o /dev/null -w '%{size_download}' "$ism/$level/Fragments(video=20000000,format=m3u8-cmaf)") bytes;" \
  "TS segment: $(curl -s -o /dev/null -w '%{size_download}' "$ism/$level/Fragments(video=0,format=m3u8-aapl)") bytes"
echo "server peak RSS (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/$server_pid/status)"
