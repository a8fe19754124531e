#!/bin/sh
# What common encryption costs the streaming endpoint: one DASH fragment of a noisy 720p H.264
# asset (ffmpeg, 3 Mbit/s, 2 s GOPs) and one of its AAC track, served clear and with
# encryption=cenc, side by side in one run (wrk on loopback, 2 threads, 8 and 64 connections).
# Prints a table; it is a benchmark, not a test. docs/performance.md has the latest figures.
#
#   bench/protection_load.sh [BUILD_DIR] [SECONDS_PER_RUN]     (defaults: build, 5)
#
# Needs wrk (Debian: apt-get install wrk) and ffmpeg.
set -eu

build=$(cd "${1:-build}" && pwd)
duration=${2:-5}
command -v wrk >/dev/null || { echo "protection_load.sh: wrk is not installed" >&2; exit 1; }

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

export GST_PLUGIN_PATH="$build/gst/elements" GST_REGISTRY="$work/registry.bin"
ams="$build/tools/ams"
clear=33333333-0000-4000-8000-000000000001
cenc=33333333-0000-4000-8000-000000000002
mkdir "$work/noisy"
ffmpeg -v error -f lavfi -i "testsrc2=size=1280x720:rate=30,noise=alls=30:allf=t" \
  -f lavfi -i sine=sample_rate=48000 -t 12 -c:v libx264 -preset veryfast -b:v 3M -g 60 \
  -keyint_min 60 -sc_threshold 0 -bf 2 -c:a aac -b:a 128k "$work/noisy/noisy.mp4"
"$ams" asset create bench --path "$work/noisy" --db "$work/ams.db" >/dev/null
"$ams" locator create --asset bench --policy Predefined_ClearStreamingOnly --id $clear \
  --db "$work/ams.db" >/dev/null
"$ams" locator create --asset bench --policy Predefined_MultiDrmCencStreaming --id $cenc \
  --db "$work/ams.db" >/dev/null

"$ams" serve --db "$work/ams.db" --listen 127.0.0.1:0 > "$work/serve.out" 2>&1 &
server_pid=$!
for _ in $(seq 50); do grep -q http "$work/serve.out" && break; sleep 0.1; done
base=$(sed -n 's/.* on \(http[^ ]*\)\/$/\1/p' "$work/serve.out")
[ -n "$base" ] || { cat "$work/serve.out" >&2; exit 1; }

mpd=$(curl -sf "$base/$clear/noisy.ism/manifest(format=mpd-time-csf)")
video=$(printf '%s\n' "$mpd" | grep -o 'QualityLevels(\$Bandwidth\$)/Fragments(video=' | head -1)
vbw=$(printf '%s\n' "$mpd" | grep 'contentType="video"' -A40 | grep -o 'bandwidth="[0-9]*"' | head -1 | tr -dc 0-9)
abw=$(printf '%s\n' "$mpd" | grep 'contentType="audio"' -A40 | grep -o 'bandwidth="[0-9]*"' | head -1 | tr -dc 0-9)
aname=$(printf '%s\n' "$mpd" | grep -o 'Fragments([a-z0-9_]*=\$Time' | grep -v video | head -1 | sed 's/Fragments(//; s/=\$Time//')
[ -n "$video" ] && [ -n "$vbw" ] && [ -n "$abw" ] && [ -n "$aname" ] || { echo "no tracks in $mpd" >&2; exit 1; }
vpath="QualityLevels($vbw)/Fragments(video=20000000,format=mpd-time-csf"
apath="QualityLevels($abw)/Fragments($aname=20053333,format=mpd-time-csf"
curl -sf -o /dev/null "$base/$clear/noisy.ism/$apath)" || apath="QualityLevels($abw)/Fragments($aname=20000000,format=mpd-time-csf"

run() {  # name url
  for c in 8 64; do
    out=$(wrk -t2 -c$c -d"${duration}s" --latency "$2")
    rps=$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')
    mbs=$(printf '%s\n' "$out" | awk '/Transfer\/sec/ {print $2}')
    p50=$(printf '%s\n' "$out" | awk '$1 == "50%" {print $2}')
    p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
    bad=$(printf '%s\n' "$out" | awk '/Non-2xx/ {print $NF}')
    printf '| %-26s | %4s | %9s | %9s | %8s | %8s | %6s |\n' "$1" "$c" "$rps" "$mbs" "$p50" "$p99" "${bad:-0}"
  done
}

size() { curl -s -o /dev/null -w '%{size_download}' "$1"; }
echo "ams serve on loopback, wrk -t2 ${duration}s per row, $(nproc) cores; video fragment" \
  "$(size "$base/$clear/noisy.ism/$vpath)") bytes clear, $(size "$base/$cenc/noisy.ism/$vpath,encryption=cenc)") cenc"
echo '| resource                   | conn | req/s     | transfer  | p50      | p99      | non-2xx |'
echo '|----------------------------|------|-----------|-----------|----------|----------|---------|'
run "DASH video fragment, clear" "$base/$clear/noisy.ism/$vpath)"
run "DASH video fragment, cenc" "$base/$cenc/noisy.ism/$vpath,encryption=cenc)"
run "DASH audio fragment, clear" "$base/$clear/noisy.ism/$apath)"
run "DASH audio fragment, cenc" "$base/$cenc/noisy.ism/$apath,encryption=cenc)"
