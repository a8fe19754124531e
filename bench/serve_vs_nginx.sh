#!/usr/bin/env bash
# `ams serve` side by side with Debian's nginx serving the very same bytes as static files
# (issue 12, "Targets"). A benchmark that prints figures; it is not a test and judges nothing (it
# refuses to run only when nginx would not serve the bytes gst-ams answers).
#
#   bench/serve_vs_nginx.sh [--build DIR] [--seconds N] [--asset-seconds S] [--threads N]
#                           [--cache DIR] [--no-long] [--soak MINUTES] [--tls]
#
#   --build DIR          the meson build folder (default: build)
#   --seconds N          wrk run length per row (default 10)
#   --asset-seconds S    length of the benchmark asset (default 120)
#   --threads N          `ams serve --threads` and nginx `worker_processes` (default: cores)
#   --cache DIR          where the encoded assets are kept across runs (default
#                        $AMS_BENCH_CACHE, else ~/.cache/gst-ams-bench)
#   --no-long            skip the 2-hour asset (its first encode takes several minutes)
#   --soak MINUTES       only the soak: every URL of the asset (manifests, playlists, every TS
#                        segment and DASH fragment) in turn at 64 connections for MINUTES; the
#                        server's RSS every 60 s and its slope after a 2-minute warm-up
#   --tls                the table over HTTPS: `ams serve --tls-listen` and nginx `listen ssl`
#                        with one P-256 certificate made by `openssl` (keep-alive connections,
#                        so one handshake per wrk connection); the libsoup floor stays HTTP
#
# In one run it
#  1. makes the asset with ffmpeg (cached): three noisy H.264 rungs 1280x720/960x540/640x360 at
#     3.0/1.5/0.8 Mbit/s, 30 fps, aligned 2 s GOPs (-g 60 -sc_threshold 0), AAC-LC 48 kHz in each
#     file, an .ism as the AMS encoder writes one; and a cheap 2-hour asset of the same shape
#     (320x180/256x144/160x90 at 300/200/100 kbit/s: only its index size matters);
#  2. publishes it, starts `ams serve`, fetches the HLS v4 master, the 720p HLS v4 media playlist,
#     the DASH CSF MPD, the middle 720p DASH fragment and the middle 720p TS segment, writes those
#     bytes into an nginx root and serves them with nginx (sendfile on, tcp_nopush on,
#     worker_processes = the server's loops, access_log off, keepalive defaults); checks nginx
#     serves the same bytes;
#  3. runs wrk (2 threads; 1 thread for 1 connection, as wrk needs connections >= threads) at 1,
#     8 and 64 connections, gst-ams then nginx then the libsoup floor (bench/soup_floor: a
#     libsoup server with as many loops answering the same bytes from memory and nothing else)
#     for each row, and prints one table, and both servers' peak RSS (VmHWM);
#  4. prints gst-ams's CPU time per request at 64 connections, the cost of each manifest's first
#     request after a restart (index warm), the pread calls of one fragment and one TS segment,
#     and the first requests of the 2-hour asset.
#
# Needs, beyond scripts/setup.sh: wrk and nginx (Debian 12: apt-get install wrk nginx-light; the
# nginx service is not used, this script starts its own instance under a temporary folder);
# strace for the pread counts (apt-get install strace; skipped without it).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$here/../build
seconds=10
asset_seconds=120
threads=$(nproc)
cache=${AMS_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-ams-bench}
long=1
soak=0
tls=0
nginx_bin=${NGINX:-/usr/sbin/nginx}

die() { echo "serve_vs_nginx.sh: $*" >&2; exit 1; }
note() { echo "# $*" >&2; }
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --asset-seconds) asset_seconds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --cache) cache=$2; shift 2 ;;
    --no-long) long=0; shift ;;
    --soak) soak=$2; shift 2 ;;
    --tls) tls=1; shift ;;
    *) sed -n '2,18p' "$0" >&2; exit 2 ;;
  esac
done
build=$(cd "$build" 2>/dev/null && pwd) || die "no build folder (run scripts/setup.sh)"
ams=$build/tools/ams
[ -x "$ams" ] || die "$ams is not built"
for tool in wrk ffmpeg ffprobe curl python3; do
  command -v $tool >/dev/null || die "$tool is not installed (apt-get install wrk nginx-light)"
done
[ -x "$nginx_bin" ] || die "no $nginx_bin (apt-get install nginx-light)"
helper() { python3 "$here/serve_vs_nginx.py" "$@"; }

work=$(mktemp -d /tmp/serve-vs-nginx.XXXXXX)
chmod 755 "$work"  # nginx's workers run as another user when started as root
server_pid=
nginx_pid=
stop_server() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=
  fi
}
stop_nginx() {
  if [ -n "$nginx_pid" ]; then
    kill -QUIT "$nginx_pid" 2>/dev/null
    wait "$nginx_pid" 2>/dev/null
    nginx_pid=
  fi
}
floor_pid=
stop_floor() {
  if [ -n "$floor_pid" ]; then
    kill "$floor_pid" 2>/dev/null
    wait "$floor_pid" 2>/dev/null
    floor_pid=
  fi
}
cleanup() { stop_server; stop_nginx; stop_floor; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

export GST_PLUGIN_PATH="$build/gst/elements" GST_REGISTRY="$work/registry.bin"

# ---------------------------------------------------------------------------------------------
# 1. The assets, encoded once and kept in $cache (a folder per recipe; .recipe says it is whole).

# make_ladder FOLDER SECONDS "W:H:KBPS ..." NOISE PRESET
make_ladder() {
  local folder=$1 secs=$2 rungs=$3 noise=$4 preset=$5
  local recipe="v1 testsrc2 30fps noise=$noise g60 x264 $preset rungs=$rungs aac128k ${secs}s"
  if [ "$(cat "$folder/.recipe" 2>/dev/null)" = "$recipe" ]; then return 0; fi
  note "encoding $folder ($recipe); kept for the next runs"
  local tmp=$folder.tmp
  rm -rf "$tmp" && mkdir -p "$tmp" || die "cannot write $tmp"
  local n=0 graph="" outputs=() tw th tk
  IFS=: read -r tw th tk <<<"${rungs%% *}"
  local src="testsrc2=size=${tw}x${th}:rate=30:duration=$secs"
  [ "$noise" -gt 0 ] && src="$src,noise=alls=$noise:allf=t"
  local count
  count=$(echo "$rungs" | wc -w)
  graph="[0:v]split=$count"
  for r in $rungs; do graph="$graph[s$n]"; n=$((n + 1)); done
  n=0
  for r in $rungs; do
    local w h k
    IFS=: read -r w h k <<<"$r"
    graph="$graph;[s$n]scale=$w:$h,format=yuv420p[v$n]"
    outputs+=(-map "[v$n]" -map 1:a -c:v libx264 -preset "$preset" -profile:v high
      -b:v "${k}k" -maxrate "${k}k" -bufsize "$((k * 2))k" -g 60 -keyint_min 60 -sc_threshold 0
      -c:a aac -b:a 128k -ar 48000 -ac 2 -metadata:s:a:0 language=eng
      "$tmp/bench_${w}x${h}_AACAudio_${k}.mp4")
    n=$((n + 1))
  done
  ffmpeg -nostdin -hide_banner -v error -y -f lavfi -i "$src" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$secs" \
    -filter_complex "$graph" "${outputs[@]}" || die "ffmpeg failed"
  helper ism "$tmp" bench || die "cannot write the .ism"
  echo "$recipe" >"$tmp/.recipe"
  rm -rf "$folder" && mv "$tmp" "$folder"
}

asset=$cache/noisy-${asset_seconds}s
make_ladder "$asset" "$asset_seconds" "1280:720:3000 960:540:1500 640:360:800" 40 veryfast
long_asset=$cache/long-2h
[ "$long" = 1 ] && [ "$soak" = 0 ] &&
  make_ladder "$long_asset" 7200 "320:180:300 256:144:200 160:90:100" 0 superfast

# ---------------------------------------------------------------------------------------------
# 2. Publish, serve, fetch once; the same bytes as static files under nginx.

db=$work/ams.db
locator=33333333-0000-4000-8000-000000000001
long_locator=33333333-0000-4000-8000-000000000002
"$ams" asset create bench --path "$asset" --db "$db" >/dev/null || die "asset create failed"
"$ams" locator create --asset bench --policy Predefined_ClearStreamingOnly --id $locator \
  --db "$db" >/dev/null || die "locator create failed"
if [ "$long" = 1 ] && [ "$soak" = 0 ]; then
  "$ams" asset create long --path "$long_asset" --db "$db" >/dev/null &&
    "$ams" locator create --asset long --policy Predefined_ClearStreamingOnly \
      --id $long_locator --db "$db" >/dev/null || die "cannot publish the 2-hour asset"
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# One port for every start of the server, so that URLs stay valid across restarts.
base=http://127.0.0.1:$(free_port)
tls_args=()
if [ "$tls" = 1 ]; then
  command -v openssl >/dev/null || die "--tls needs the openssl command"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$work/tls.key" \
    -out "$work/tls.crt" -subj /CN=bench -addext subjectAltName=IP:127.0.0.1 -days 2 2>/dev/null ||
    die "openssl could not make the certificate"
  chmod a+r "$work/tls.key"
  tls_base=https://127.0.0.1:$(free_port)
  tls_args=(--tls-listen "${tls_base#https://}" --tls-certificate "$work/tls.crt" --tls-key "$work/tls.key")
fi
start_server() {
  : >"$work/serve.out"
  "$ams" serve --db "$db" --listen "${base#http://}" "${tls_args[@]}" --threads "$threads" >"$work/serve.out" 2>&1 &
  server_pid=$!
  local i
  for i in $(seq 100); do grep -q http "$work/serve.out" && break; sleep 0.1; done
  grep -q "on $base/" "$work/serve.out" || { cat "$work/serve.out" >&2; die "ams serve did not start"; }
}

fetch() {  # URL FILE: the body, failing on any non-2xx answer
  curl -sf -o "$2" "$1" || die "GET $1 failed ($(curl -s -o /dev/null -w '%{http_code}' "$1"))"
}

start_server
ism=$base/$locator/bench.ism
got=$work/gst
mkdir -p "$got"
fetch "$ism/manifest(format=m3u8-aapl)" "$got/master.m3u8"
fetch "$ism/manifest(format=mpd-time-csf)" "$got/manifest.mpd"
grep -q 'RESOLUTION=1280x720' "$got/master.m3u8" || die "no 720p rung in the HLS master"
{ read -r playlist_url; read -r fragment_url; } < <(helper urls "$ism" "$got/master.m3u8" \
  "$got/manifest.mpd" mid) || die "cannot read the manifests"
fetch "$playlist_url" "$got/media.m3u8"
segment_url=$(helper segment "$playlist_url" "$got/media.m3u8" mid) || die "no TS segment"
fetch "$fragment_url" "$got/fragment.m4s"
fetch "$segment_url" "$got/segment.ts"

names=("HLS master" "HLS media playlist 720p" "DASH MPD" "DASH fragment 720p" "TS segment 720p")
files=(master.m3u8 media.m3u8 manifest.mpd fragment.m4s segment.ts)
urls=("$ism/manifest(format=m3u8-aapl)" "$playlist_url" "$ism/manifest(format=mpd-time-csf)"
  "$fragment_url" "$segment_url")

nginx_dir=$work/nginx
mkdir -p "$nginx_dir/root" "$nginx_dir/tmp"
cp "$got"/* "$nginx_dir/root/"
chmod -R a+rX "$nginx_dir"
nginx_port=$(free_port)
nginx_tls=""
if [ "$tls" = 1 ]; then
  nginx_tls_port=$(free_port)
  nginx_tls="server { listen 127.0.0.1:$nginx_tls_port ssl; root $nginx_dir/root;
    ssl_certificate $work/tls.crt; ssl_certificate_key $work/tls.key;
    ssl_protocols TLSv1.2 TLSv1.3; }"
fi
cat >"$nginx_dir/nginx.conf" <<EOF
worker_processes $threads;
daemon off;
pid $nginx_dir/nginx.pid;
error_log $nginx_dir/error.log;
events { worker_connections 1024; }
http {
  sendfile on;
  tcp_nopush on;
  access_log off;
  client_body_temp_path $nginx_dir/tmp/body;
  proxy_temp_path $nginx_dir/tmp/proxy;
  fastcgi_temp_path $nginx_dir/tmp/fastcgi;
  uwsgi_temp_path $nginx_dir/tmp/uwsgi;
  scgi_temp_path $nginx_dir/tmp/scgi;
  types {
    application/vnd.apple.mpegurl m3u8;
    application/dash+xml mpd;
    video/mp4 m4s;
    video/mp2t ts;
  }
  server {
    listen 127.0.0.1:$nginx_port;
    root $nginx_dir/root;
  }
  $nginx_tls
}
EOF
"$nginx_bin" -e "$nginx_dir/error.log" -p "$nginx_dir" -c "$nginx_dir/nginx.conf" &
nginx_pid=$!
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$nginx_port/master.m3u8" && break; sleep 0.1; done
static="http://127.0.0.1:$nginx_port"

# --tls: the table's URLs are the HTTPS ones; curl checks the certificate.
plain_urls=("${urls[@]}")  # the sections after the table stay on HTTP
if [ "$tls" = 1 ]; then
  for i in "${!urls[@]}"; do urls[$i]=$tls_base${urls[$i]#"$base"}; done
  static="https://127.0.0.1:$nginx_tls_port"
  fetch() { curl -sf --cacert "$work/tls.crt" -o "$2" "$1" || die "GET $1 failed"; }
fi

# The same bytes from both, twice from gst-ams (its answers must not vary either).
for i in "${!files[@]}"; do
  f=${files[$i]}
  fetch "$static/$f" "$work/nginx-$f"
  fetch "${urls[$i]}" "$work/again-$f"
  cmp -s "$got/$f" "$work/nginx-$f" || die "nginx serves other bytes than gst-ams for $f"
  cmp -s "$got/$f" "$work/again-$f" || die "gst-ams answered ${urls[$i]} with other bytes the second time"
done

size() { stat -c %s "$1"; }
nginx_pids() { echo "$nginx_pid"; ps -o pid= --ppid "$nginx_pid"; }
cpu_ticks() {  # utime + stime of the processes given, clock ticks
  local t=0 p
  for p in "$@"; do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo $t
}
kb() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$2/status" 2>/dev/null; }
hz=$(getconf CLK_TCK)

echo "gst-ams $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null) ($(basename "$build"):" \
  "$(meson introspect --buildoptions "$build" 2>/dev/null | python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"][0])' 2>/dev/null)) vs" \
  "$("$nginx_bin" -v 2>&1 | sed 's/.*: //'); $(nproc) cores, $threads loops / workers;" \
  "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "asset: $asset ($asset_seconds s); bytes: master $(size "$got/master.m3u8"), media playlist" \
  "$(size "$got/media.m3u8"), MPD $(size "$got/manifest.mpd"), fragment $(size "$got/fragment.m4s")," \
  "TS segment $(size "$got/segment.ts")"
tls_of() {  # HOST:PORT: the protocol and cipher the server chose
  openssl s_client -connect "$1" -CAfile "$work/tls.crt" </dev/null 2>/dev/null |
    awk '/^New, / {sub(/,$/, "", $2); print $2, $5}'
}
[ "$tls" = 1 ] && echo "over HTTPS: gst-ams $tls_base ($(tls_of "${tls_base#https://}")), nginx" \
  "$static ($(tls_of "${static#https://}")); the libsoup floor column is plain HTTP"
echo "fragment: ${fragment_url#"$base"}"
echo "segment:  ${segment_url#"$base"}"

# ---------------------------------------------------------------------------------------------
# 5. Long mode: only the soak.

if [ "$soak" != 0 ]; then
  # Every resource of the asset in a shuffled order: the manifests and playlists, every TS
  # segment of the 720p playlist and every DASH fragment of every Representation.
  helper soakpaths "$ism" "$got/master.m3u8" "$got/manifest.mpd" "$playlist_url" \
    "$got/media.m3u8" | shuf --random-source=<(yes) >"$work/soak.paths"
  {
    echo "local paths = {"
    sed 's/.*/  "&",/' "$work/soak.paths"
    echo "}"
    echo 'local n = 0'
    echo 'request = function() n = n + 1; return wrk.format(nil, paths[n % #paths + 1]) end'
  } >"$work/soak.lua"
  stop_nginx
  echo "soak: wrk -t2 -c64 -d${soak}m over $(wc -l <"$work/soak.paths") URLs of the asset in turn" \
    "($(grep -ci 'manifest' "$work/soak.paths") manifests and playlists," \
    "$(grep -c 'Fragments(.*format=m3u8-aapl)$' "$work/soak.paths") TS segments, the rest DASH fragments);"
  echo "the server every 60 s:"
  printf '%8s %10s %10s %8s %6s\n' seconds "VmRSS kB" "VmHWM kB" threads fds
  wrk -t2 -c64 -d"${soak}m" --latency -s "$work/soak.lua" "$base" >"$work/soak.wrk" 2>&1 &
  wrk_pid=$!
  t0=$SECONDS
  : >"$work/soak.rss"
  while kill -0 $wrk_pid 2>/dev/null; do
    rss=$(kb VmRSS $server_pid)
    echo "$((SECONDS - t0)) $rss" >>"$work/soak.rss"
    printf '%8d %10s %10s %8s %6s\n' $((SECONDS - t0)) "$rss" \
      "$(kb VmHWM $server_pid)" "$(kb Threads $server_pid)" "$(ls /proc/$server_pid/fd | wc -l)"
    next=$((SECONDS + 60))
    while [ $SECONDS -lt $next ] && kill -0 $wrk_pid 2>/dev/null; do sleep 1; done
  done
  wait $wrk_pid
  sleep 2
  printf '%8s %10s %10s %8s %6s   (2 s after the load)\n' end "$(kb VmRSS $server_pid)" \
    "$(kb VmHWM $server_pid)" "$(kb Threads $server_pid)" "$(ls /proc/$server_pid/fd | wc -l)"
  # Least-squares slope of VmRSS after a 2-minute warm-up.
  awk '$1 >= 120 { n++; x += $1 / 60; y += $2 / 1024; xx += ($1 / 60) ^ 2; xy += $1 / 60 * $2 / 1024 }
       END { if (n >= 2 && n * xx != x * x)
               printf "RSS slope after 2 min: %.2f MB/min over %d samples\n", (n * xy - x * y) / (n * xx - x * x), n
             else print "RSS slope: too few samples after the 2-minute warm-up" }' "$work/soak.rss"
  read -r n rps p50 p99 errors < <(helper wrk "$work/soak.wrk")
  echo "soak: $n requests, $rps req/s, p50 $p50 ms, p99 $p99 ms, errors $errors"
  grep -E 'Socket errors|Non-2xx' "$work/soak.wrk"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# 3. The table: each row gst-ams then nginx.

# bench_one URL PIDS...: one wrk run; sets n rps p50 p99 errors ticks
bench_one() {
  local url=$1 c=$2
  shift 2
  local t=2 before after
  [ "$c" -lt 2 ] && t=1
  before=$(cpu_ticks "$@")
  wrk -t$t -c"$c" -d"${seconds}s" --latency "$url" >"$work/wrk.out" 2>&1
  after=$(cpu_ticks "$@")
  read -r n rps p50 p99 errors < <(helper wrk "$work/wrk.out") || die "wrk failed: $(cat "$work/wrk.out")"
  ticks=$((after - before))
  if [ "$errors" != 0 ]; then
    error_lines+=("$label, $c connections: $(grep -E 'Socket errors|Non-2xx' "$work/wrk.out" | tr -s ' \n' ' ')")
  fi
}

# The libsoup floor (bench/soup_floor.cc): a libsoup server with as many loops, answering the same
# bytes from memory and doing nothing else. What it cannot beat, no libsoup server can.
floor_bin=$build/bench/soup_floor
start_floor() {  # FILE
  floor_port=$(free_port)
  "$floor_bin" "$floor_port" "$threads" "$1" &
  floor_pid=$!
  for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$floor_port/x" && break; sleep 0.1; done
}
[ -x "$floor_bin" ] || die "$floor_bin is not built"

rows=()
error_lines=()
cpu_rows=()
hwm_rows=()
note "wrk ${seconds}s per row, $((${#files[@]} * 9)) rows"
for i in "${!files[@]}"; do
  bytes=$(size "$got/${files[$i]}")
  start_floor "$got/${files[$i]}"
  for c in 1 8 64; do
    label="gst-ams ${names[$i]}"
    bench_one "${urls[$i]}" $c "$server_pid"
    g=("$rps" "$(awk -v r="$rps" -v b="$bytes" 'BEGIN {printf "%.1f", r * b / 1e6}')" "$p50" "$p99" "$errors")
    g_n=$n g_ticks=$ticks
    label="nginx ${names[$i]}"
    # shellcheck disable=SC2046
    bench_one "$static/${files[$i]}" $c $(nginx_pids)
    s=("$rps" "$(awk -v r="$rps" -v b="$bytes" 'BEGIN {printf "%.1f", r * b / 1e6}')" "$p50" "$p99" "$errors")
    label="libsoup floor ${names[$i]}"
    bench_one "http://127.0.0.1:$floor_port/x" $c "$floor_pid"
    floor_rps=$rps
    ratio=$(awk -v a="${g[0]}" -v b="${s[0]}" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
    floor_ratio=$(awk -v a="$floor_rps" -v b="${s[0]}" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
    rows+=("$(printf '| %-23s | %4s | %8s | %8s | %8s | %8s | %8s | %8s | %8s | %8s | %5s | %8s | %5s | %s/%s |' \
      "${names[$i]}" $c "${g[0]}" "${g[1]}" "${g[2]}" "${g[3]}" "${s[0]}" "${s[1]}" "${s[2]}" \
      "${s[3]}" "$ratio" "$floor_rps" "$floor_ratio" "${g[4]}" "${s[4]}")")
    note "${rows[-1]}"
    if [ $c = 64 ]; then
      cpu_rows+=("$(printf '| %-23s | %9s | %9.3f | %9s | %9.3f |' "${names[$i]}" "$g_n" \
        "$(awk -v t=$g_ticks -v n="$g_n" -v hz="$hz" 'BEGIN {print (n > 0 ? t * 1000 / hz / n : 0)}')" \
        "$n" "$(awk -v t=$ticks -v n="$n" -v hz="$hz" 'BEGIN {print (n > 0 ? t * 1000 / hz / n : 0)}')")")
    fi
  done
  stop_floor
  hwm_rows+=("$(printf '%-23s gst-ams VmHWM %7s kB, VmRSS %7s kB, threads %3s' "after ${names[$i]}" \
    "$(kb VmHWM "$server_pid")" "$(kb VmRSS "$server_pid")" "$(kb Threads "$server_pid")")")
done

echo
echo "wrk -t2 (-t1 at 1 connection) -d${seconds}s --latency; MB/s = req/s x body bytes; p50/p99 in ms;"
echo "errors = socket errors + non-2xx (gst-ams/nginx); ratio = gst-ams / nginx; libsoup floor ="
echo "bench/soup_floor with $threads loops answering the same bytes from memory, floor ratio = floor / nginx"
echo
echo '| resource                | conn | gst-ams req/s | MB/s | p50 | p99 | nginx req/s | MB/s | p50 | p99 | ratio | libsoup floor req/s | floor ratio | errors |'
echo '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|'
printf '%s\n' "${rows[@]}" | sed 's/| \+/| /g; s/ \+|/ |/g'
[ ${#error_lines[@]} -gt 0 ] && printf 'errors: %s\n' "${error_lines[@]}"
echo
echo "peak RSS (VmHWM) at the end of the runs: gst-ams $(kb VmHWM "$server_pid") kB" \
  "(VmRSS now $(kb VmRSS "$server_pid") kB, $(kb Threads "$server_pid") threads);" \
  "nginx master $(kb VmHWM "$nginx_pid") kB + workers" \
  "$(for p in $(ps -o pid= --ppid "$nginx_pid"); do printf '%s ' "$(kb VmHWM "$p")"; done)kB"
printf '%s\n' "${hwm_rows[@]}"
echo
echo "server CPU per request at 64 connections (utime+stime from /proc/PID/stat around the run):"
echo '| resource | gst-ams requests | gst-ams ms/request | nginx requests | nginx ms/request |'
echo '|---|---|---|---|---|'
printf '%s\n' "${cpu_rows[@]}" | sed 's/| \+/| /g; s/ \+|/ |/g'
stop_nginx
stop_server

# ---------------------------------------------------------------------------------------------
# 4. First requests, syscalls, the 2-hour asset.

cpu_ns() { helper cpu "$1" | cut -d' ' -f1; }
minflt() { awk '{print $10}' "/proc/$1/stat"; }
# first URL: "wall-ms cpu-ms faults" of one GET on a new connection: curl's total time, the
# server's CPU (the sum of /proc/PID/task/*/schedstat run time over its threads) and its minor
# page faults around the request. A thread that ends during the request takes its run time out
# of that sum: the larger of it and utime+stime (in 1/CLK_TCK s, dead threads included) is shown.
first() {
  local before after wall f0 f1 t0 t1
  sleep 0.3  # let the server go idle (pipelines of the previous request stopped)
  before=$(cpu_ns "$server_pid")
  t0=$(cpu_ticks "$server_pid")
  f0=$(minflt "$server_pid")
  wall=$(curl -sf -o /dev/null -w '%{time_total}' "$1") || { echo "GET $1 failed" >&2; return 1; }
  after=$(cpu_ns "$server_pid")
  t1=$(cpu_ticks "$server_pid")
  f1=$(minflt "$server_pid")
  awk -v w="$wall" -v b="$before" -v a="$after" -v f=$((f1 - f0)) -v t=$((t1 - t0)) -v hz="$hz" \
    'BEGIN {c = (a - b) / 1e6; if (t * 1000 / hz > c) c = t * 1000 / hz
            printf "%.2f %.3f %d\n", w * 1000, c, f}'
}
# stats "v v v ...": median (min-max)
stats() {
  echo "$1" | tr ' ' '\n' | grep . | sort -n | awk '{v[NR] = $1}
    END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%s (%s-%s)", m, v[1], v[NR]}'
}

first_fragment=$(helper urls "$ism" "$got/master.m3u8" "$got/manifest.mpd" 0 | tail -1)
rounds=5
echo
echo "first request of each manifest after a restart, index warm: $rounds times a fresh \`ams serve\`,"
echo "4 GETs of the first 720p DASH fragment (the presentation is built: every file's moov is"
echo "indexed), then for each manifest one GET (first: cold answer cache) and one more (again:"
echo "answered from the cache). Every GET is a new curl, so a new connection; server CPU = the sum"
echo "of /proc/PID/task/*/schedstat run time over its threads around the GET; median (min-max):"
declare -A c_cpu c_wall c_flt a_cpu a_wall k_cpu k_again
for round in $(seq $rounds); do
  start_server
  for _ in 1 2 3 4; do fetch "$first_fragment" /dev/null; done
  for i in 0 1 2; do
    read -r wall cpu flt < <(first "${plain_urls[$i]}") || die "GET ${plain_urls[$i]} failed"
    c_cpu[$i]="${c_cpu[$i]:-} $cpu" c_wall[$i]="${c_wall[$i]:-} $wall" c_flt[$i]="${c_flt[$i]:-} $flt"
    read -r wall cpu flt < <(first "${plain_urls[$i]}") || die "GET ${plain_urls[$i]} failed"
    a_cpu[$i]="${a_cpu[$i]:-} $cpu" a_wall[$i]="${a_wall[$i]:-} $wall"
  done
  stop_server
  # The same on one kept-alive connection: what the answer costs without a connection's set-up.
  start_server
  for _ in 1 2 3 4; do fetch "$first_fragment" /dev/null; done
  i=0
  while read -r first again; do
    k_cpu[$i]="${k_cpu[$i]:-} $first" k_again[$i]="${k_again[$i]:-} $again"
    i=$((i + 1))
  done < <(helper keepalive "$base" "$server_pid" "${first_fragment#"$base"}" \
    "${plain_urls[0]#"$base"}" "${plain_urls[1]#"$base"}" "${plain_urls[2]#"$base"}")
  stop_server
done
echo "The last two columns: the same two GETs on one connection kept alive (opened with a GET of"
echo "the fragment), so without the set-up of a connection."
echo '| manifest | first: server CPU ms | first: wall ms | first: page faults | again: server CPU ms | again: wall ms | kept alive, first: CPU ms | kept alive, again: CPU ms |'
echo '|---|---|---|---|---|---|---|---|'
for i in 0 1 2; do
  echo "| ${names[$i]} | $(stats "${c_cpu[$i]}") | $(stats "${c_wall[$i]}") | $(stats "${c_flt[$i]}") |" \
    "$(stats "${a_cpu[$i]}") | $(stats "${a_wall[$i]}") | $(stats "${k_cpu[$i]}") | $(stats "${k_again[$i]}") |"
done

echo
frag_start=$(echo "$fragment_url" | sed 's/.*=\([0-9]*\),format.*/\1/')
seg_start=$(echo "$segment_url" | sed 's/.*=\([0-9]*\),format.*/\1/')
mp4=$asset/bench_1280x720_AACAudio_3000.mp4
echo "read calls of the MP4 in one request (pread64 and preadv: amsdemux reads a run of samples, small"
echo "gaps included, with one preadv; a fresh server, after one GET of the first fragment; other"
echo "pread64 = SQLite reading the locator on a loop that had not seen it yet):"
echo "  file layout, fragment: $(helper runs "$mp4" "$(awk -v t="$frag_start" 'BEGIN {print t / 1e7}')" 2)"
echo "  file layout, TS segment: $(helper runs "$mp4" "$(awk -v t="$seg_start" 'BEGIN {print t / 1e7}')" 6)"
if command -v strace >/dev/null; then
  for which in fragment segment; do
    [ $which = fragment ] && url=$fragment_url || url=$segment_url
    start_server
    fetch "$first_fragment" /dev/null
    sleep 0.3
    syscr0=$(awk '/^syscr/ {print $2}' "/proc/$server_pid/io")
    # -ff: one file per thread, so that no call is split into unfinished/resumed lines
    strace -ff -qq -y -e trace=pread64,preadv,futex -o "$work/strace.$which" -p "$server_pid" &
    strace_pid=$!
    sleep 1
    fetch "$url" /dev/null
    sleep 0.5
    kill -INT $strace_pid; wait $strace_pid 2>/dev/null
    syscr1=$(awk '/^syscr/ {print $2}' "/proc/$server_pid/io")
    t=$work/strace-all.$which
    cat "$work/strace.$which".* >"$t"
    echo "  $which: pread64/preadv of the MP4 $(grep -Ec 'preadv?(64)?\([0-9]*<[^>]*\.mp4>' "$t")" \
      "($(grep -E 'preadv?(64)?\([0-9]*<[^>]*\.mp4>' "$t" | awk '{s += $NF} END {print s + 0}') bytes)," \
      "other pread64 $(grep 'pread64(' "$t" | grep -vc '\.mp4>'), futex $(grep -c 'futex(' "$t")" \
      "(strace -f on the server); /proc/PID/io syscr +$((syscr1 - syscr0))"
    stop_server
  done
else
  echo "  (strace is not installed: apt-get install strace)"
fi

if [ "$long" = 1 ]; then
  echo
  echo "2-hour asset ($long_asset: 3 rungs 320x180/256x144/160x90 at 300/200/100 kbit/s,"
  echo "AAC in each, 2 s GOPs; $(du -sh "$long_asset" | cut -f1)), page cache warm; wall ms (curl) and server CPU ms;"
  echo "first = the first request of a fresh server (nothing indexed), after the master = the"
  echo "first of its kind after the master (index built); 3 fresh servers each, median (min-max):"
  start_server
  lism=$base/$long_locator/bench.ism
  fetch "$lism/manifest(format=m3u8-aapl)" "$work/long-master.m3u8"
  fetch "$lism/manifest(format=mpd-time-csf)" "$work/long.mpd"
  { read -r lplaylist; read -r lfragment; } < <(helper urls "$lism" "$work/long-master.m3u8" \
    "$work/long.mpd" 3600)
  fetch "$lplaylist" "$work/long-media.m3u8"
  lsegment=$(helper segment "$lplaylist" "$work/long-media.m3u8" 3600)
  stop_server
  echo "  fragment: ${lfragment#"$base"}"
  echo "  segment:  ${lsegment#"$base"}"
  lurls=("$lism/manifest(format=m3u8-aapl)" "$lfragment" "$lsegment")
  lnames=("master (HLS v4)" "DASH fragment at 1 h" "TS segment at 1 h")
  declare -A l_wall l_cpu l_flt m_wall m_cpu
  for round in 1 2 3; do
    for i in 0 1 2; do
      start_server
      read -r wall cpu flt < <(first "${lurls[$i]}") || die "GET ${lurls[$i]} failed"
      l_wall[$i]="${l_wall[$i]:-} $wall" l_cpu[$i]="${l_cpu[$i]:-} $cpu" l_flt[$i]="${l_flt[$i]:-} $flt"
      if [ $i = 0 ]; then
        for j in 1 2; do
          read -r wall cpu _ < <(first "${lurls[$j]}") || die "GET ${lurls[$j]} failed"
          m_wall[$j]="${m_wall[$j]:-} $wall" m_cpu[$j]="${m_cpu[$j]:-} $cpu"
        done
      fi
      stop_server
    done
  done
  echo '| request | first: wall ms | first: server CPU ms | first: page faults | after the master: wall ms | after the master: server CPU ms |'
  echo '|---|---|---|---|---|---|'
  for i in 0 1 2; do
    if [ $i = 0 ]; then a="-" b="-"; else a=$(stats "${m_wall[$i]}") b=$(stats "${m_cpu[$i]}"); fi
    echo "| ${lnames[$i]} | $(stats "${l_wall[$i]}") | $(stats "${l_cpu[$i]}") | $(stats "${l_flt[$i]}") | $a | $b |"
  done
fi
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
