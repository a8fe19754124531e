#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each on a seed corpus made from
# small generated files, for SECONDS seconds each (default 30). Exits non-zero when a fuzzer finds
# a crash, a leak, a timeout or an out-of-memory input; the reproducer is kept in $OUT.
#
#   scripts/fuzz.sh [SECONDS] [FUZZER...]
#   scripts/fuzz.sh --long [CAP_SECONDS] [FUZZER...]
#   FUZZ_BUILD=build-fuzz FUZZ_OUT=/tmp/ams-fuzz scripts/fuzz.sh 60 box_fuzzer
#
# --long is the nightly run: each fuzzer goes on until it has executed FUZZ_RUNS inputs (default
# 10,000,000) or for CAP_SECONDS (default 14400, a safeguard), niced (FUZZ_NICE, default 10) so
# that it leaves the machine to builds, FUZZ_PARALLEL fuzzers at a time (default 1; one process
# each, as libFuzzer's -jobs would split the run count and the log). Short runs take FUZZ_PARALLEL
# too, default 2. The corpus under
# $FUZZ_OUT/corpus/NAME is kept between runs in either mode, so each night starts where the last
# one ended. The summary gives runs, time, exec/s and coverage per fuzzer.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LONG=0
if [ "${1:-}" = "--long" ]; then
  LONG=1
  shift
fi
if [ $LONG -eq 1 ]; then
  SECONDS_EACH=${1:-14400}
else
  SECONDS_EACH=${1:-30}
fi
shift || true
BUILD=${FUZZ_BUILD:-$ROOT/build-fuzz}
OUT=${FUZZ_OUT:-/tmp/ams-fuzz}
EXAMPLES=$ROOT/../shared/reference/examples
RUNS=${FUZZ_RUNS:-10000000}
# Short runs go two at a time (CI's machine has two cores; each fuzzer still gets its SECONDS).
if [ $LONG -eq 1 ]; then PARALLEL=${FUZZ_PARALLEL:-1}; else PARALLEL=${FUZZ_PARALLEL:-2}; fi
NICE=${FUZZ_NICE:-10}

if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ meson setup "$BUILD" "$ROOT" -Dfuzzers=true -Db_lundef=false
else
  # fuzz/meson.build looks for the fuzzer sources at configure time: pick up new ones.
  mkdir -p "$OUT"
  meson setup --reconfigure "$BUILD" "$ROOT" >"$OUT/setup.log" 2>&1 || { cat "$OUT/setup.log"; exit 1; }
fi
ALL=()
for src in "$ROOT"/fuzz/*_fuzzer.cc; do ALL+=("$(basename "$src" .cc)"); done
FUZZERS=("$@")
[ ${#FUZZERS[@]} -eq 0 ] && FUZZERS=("${ALL[@]}")
# Only the fuzzers: the rest of the project is not needed here.
meson compile -C "$BUILD" -j "${FUZZ_JOBS:-2}" "${FUZZERS[@]}"

# --- Seed corpora --------------------------------------------------------------------------
mkdir -p "$OUT"
SEEDS=$OUT/seeds
rm -rf "$SEEDS"
mkdir -p "$SEEDS"/{box_fuzzer,clearkey_fuzzer,codec_fuzzer,filter_fuzzer,index_fuzzer,ism_fuzzer,presentation_fuzzer,protection_fuzzer,url_fuzzer,webvtt_fuzzer}

make_mp4() {  # name, gst-launch muxer description
  gst-launch-1.0 -q videotestsrc num-buffers=12 ! video/x-raw,width=64,height=48,framerate=12/1 ! \
    x264enc key-int-max=4 bframes=1 ! h264parse ! mux. \
    audiotestsrc num-buffers=8 ! avenc_aac ! aacparse ! mux. \
    $2 name=mux ! filesink location="$SEEDS/box_fuzzer/$1" >/dev/null 2>&1 || \
  gst-launch-1.0 -q videotestsrc num-buffers=12 ! video/x-raw,width=64,height=48,framerate=12/1 ! \
    x264enc key-int-max=4 bframes=1 ! h264parse ! $2 name=mux ! \
    filesink location="$SEEDS/box_fuzzer/$1" >/dev/null 2>&1 || true
}
make_mp4 progressive.mp4 "mp4mux"
make_mp4 fragmented.mp4 "mp4mux fragment-duration=300"
if command -v ffmpeg >/dev/null; then
  ffmpeg -v error -y -f lavfi -i testsrc2=size=64x48:rate=10 -t 1 -c:v libx264 -bf 2 \
    "$SEEDS/box_fuzzer/ffmpeg_editlist.mp4" || true
  ffmpeg -v error -y -f lavfi -i testsrc2=size=64x48:rate=10 -t 1 -c:v libx264 \
    -movflags frag_keyframe+empty_moov "$SEEDS/box_fuzzer/ffmpeg_frag.mp4" || true
fi

# The index fuzzer: the same small MP4s, one with a mov_text track, and .ism + MP4 pairs (the .ism
# after a '<' up to a NUL byte, then the MP4 it names as a.mp4; see index_fuzzer.cc).
cp "$SEEDS"/box_fuzzer/*.mp4 "$SEEDS/index_fuzzer/" 2>/dev/null || true
if command -v ffmpeg >/dev/null; then
  printf '1\n00:00:00,100 --> 00:00:00,500\nHi\n' >"$SEEDS/subs.srt"
  ffmpeg -v error -y -f lavfi -i testsrc2=size=64x48:rate=10 -f lavfi -i sine=sample_rate=48000 \
    -i "$SEEDS/subs.srt" -t 1 -map 0:v -map 1:a -map 2:s -c:v libx264 -bf 2 -c:a aac -c:s mov_text \
    -movflags +faststart "$SEEDS/index_fuzzer/ffmpeg_mov_text.mp4" || true
  rm -f "$SEEDS/subs.srt"
fi
ism_seed() {  # name, extra tracks
  local mp4=$SEEDS/index_fuzzer/ffmpeg_mov_text.mp4
  [ -f "$mp4" ] || return 0
  { printf '<<smil xmlns="http://www.w3.org/2001/SMIL20/Language"><body><switch>'
    printf '<video src="a.mp4" systemBitrate="100000"><param name="trackID" value="1" valuetype="data"/></video>'
    printf '<audio src="a.mp4" systemBitrate="64000"><param name="trackID" value="2" valuetype="data"/></audio>'
    printf "%s</switch></body></smil>" "${2:-}"
    printf '\0'
    cat "$mp4"; } >"$SEEDS/index_fuzzer/$1"
}
ism_seed ism_av ""
ism_seed ism_vtt '<textstream src="a.vtt" systemBitrate="0" systemLanguage="eng"/>'
ism_seed ism_mov_text '<textstream src="a.mp4"><param name="trackID" value="3" valuetype="data"/></textstream>'

# Filters: the REST reference's example and one of each property and operation.
cp "$ROOT/../shared/reference/examples/rest_assetfilter.json" "$SEEDS/filter_fuzzer/" 2>/dev/null || true
printf '%s' '{"presentationTimeRange":{"startTimestamp":100000000,"endTimestamp":200000000}}' \
  >"$SEEDS/filter_fuzzer/range"
printf '%s' '{"tracks":[{"trackSelections":[{"property":"Type","operation":"Equal","value":"Video"},{"property":"Bitrate","operation":"Equal","value":"0-1500000"}]},{"trackSelections":[{"property":"Language","operation":"NotEqual","value":"en"},{"property":"FourCC","operation":"Equal","value":"mp4a"},{"property":"Name","operation":"Equal","value":"aac_eng_2_128041_2_1"}]}],"firstQuality":{"bitrate":721495}}' \
  >"$SEEDS/filter_fuzzer/tracks"

# Codec configs out of the seed MP4s: the first byte picks the parser (see codec_fuzzer.cc).
python3 - "$SEEDS" <<'PY'
import pathlib, sys
seeds = pathlib.Path(sys.argv[1])
n = 0
for mp4 in (seeds / "box_fuzzer").glob("*.mp4"):
    data = mp4.read_bytes()
    for tag, selector in ((b"avcC", 0), (b"hvcC", 1)):
        i = data.find(tag)
        if i >= 4:
            size = int.from_bytes(data[i - 4:i], "big")
            (seeds / "codec_fuzzer" / f"{tag.decode()}_{n}").write_bytes(
                bytes([selector]) + data[i + 4:i - 4 + size])
            n += 1
(seeds / "codec_fuzzer" / "asc_lc_44k_stereo").write_bytes(b"\x02\x12\x10")
(seeds / "codec_fuzzer" / "annexb").write_bytes(b"\x04\x00\x00\x00\x05\x65\x88\x84\x00\x10")
PY

# The presentation fuzzer decodes its input into an asset description (fuzz/asset_generator.h):
# any bytes make one, and longer inputs make more files, tracks and samples. Fixed pseudo-random
# inputs of a few sizes, so that the first runs already build assets of every layout.
python3 - "$SEEDS/presentation_fuzzer" <<'PY'
import pathlib, random, sys
out = pathlib.Path(sys.argv[1])
rng = random.Random(19)
for n, size in enumerate((16, 64, 256, 512, 1024, 2048, 2048, 4096)):
    (out / f"random_{n}_{size}").write_bytes(bytes(rng.randrange(256) for _ in range(size)))
PY

for f in "$EXAMPLES"/*.ism "$EXAMPLES"/*ism*.xml; do
  [ -f "$f" ] && cp "$f" "$SEEDS/ism_fuzzer/"
done
printf '%s\n' \
  '/1f2c4a44-5c3b-4f5e-8a6b-2b0e9f3a1d7c/ignite.ism/manifest(format=m3u8-aapl)' \
  '/1f2c4a44-5c3b-4f5e-8a6b-2b0e9f3a1d7c/ignite.ism/QualityLevels(3579827)/Fragments(video=60000000,format=mpd-time-csf)' \
  '/1f2c4a44-5c3b-4f5e-8a6b-2b0e9f3a1d7c/ignite.ism/manifest(format=mpd-time-cmaf,filter=f1)' \
  > "$SEEDS/url_fuzzer/urls"

# WebVTT side-cars: cues with ids, settings and markup, STYLE/REGION/NOTE blocks, CRLF, a BOM.
printf '\xEF\xBB\xBFWEBVTT - seed\r\n\r\nSTYLE\r\n::cue { color: lime }\r\n\r\nNOTE x\r\n\r\n1\r\n00:00:01.000 --> 00:00:02.500 line:0 align:start\r\n<v A>Hi</v>\r\n\r\n' \
  >"$SEEDS/webvtt_fuzzer/crlf"
printf 'WEBVTT\n\nREGION\nid:r width:40%%\n\n00:03.250 --> 00:04.000 region:r\ntwo\nlines\n00:05.000 --> 100:00:00.000\nlong\n\nbad\n00:00:61.000 --> 00:01:00.000\nx\n' \
  >"$SEEDS/webvtt_fuzzer/lf"

# ClearKey licence requests (EME's format) and video samples for common encryption (the first
# byte picks scheme and codec, see protection_fuzzer.cc): an AUD, an SPS and a slice.
printf '%s' '{"kids":["KLTKnqX8R_2MQIBB_EYOqg","AAAAAAAAQACAAAAAAAAAAA"],"type":"temporary"}' \
  >"$SEEDS/clearkey_fuzzer/request"
python3 - "$SEEDS/protection_fuzzer" <<'PY'
import pathlib, sys
out = pathlib.Path(sys.argv[1])
def nal(b): return len(b).to_bytes(4, "big") + b
sample = nal(b"\x09\xf0") + nal(b"\x67" + bytes(range(11))) + nal(b"\x65" + bytes(i % 251 for i in range(300)))
for selector in range(4):
    (out / f"sample_{selector}").write_bytes(bytes([selector]) + sample)
PY

# --- Runs ----------------------------------------------------------------------------------
# One fuzzer: writes $OUT/NAME.log and $OUT/NAME.result (exit code, seconds taken).
run_one() {
  local name=$1 exe=$BUILD/fuzz/$1
  local corpus=$OUT/corpus/$name artifacts=$OUT/artifacts/$name log=$OUT/$name.log
  mkdir -p "$corpus" "$artifacts"
  # Reproducers of past findings (fuzz/corpus/NAME, a few KB each) are replayed every run.
  local committed=()
  [ -d "$ROOT/fuzz/corpus/$name" ] && committed=("$ROOT/fuzz/corpus/$name")
  local limits=(-max_total_time="$SECONDS_EACH")
  local prefix=()
  if [ $LONG -eq 1 ]; then
    limits+=(-runs="$RUNS")
    prefix=(nice -n "$NICE")
  fi
  local start rc
  start=$(date +%s)
  set +e
  "${prefix[@]}" "$exe" "${limits[@]}" -rss_limit_mb=2048 -timeout=5 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" "$SEEDS/$name" "${committed[@]}" >"$log" 2>&1
  rc=$?
  set -e
  echo "$rc $(($(date +%s) - start))" >"$OUT/$name.result"
}

status=0
summary=()
pending=()
for name in "${FUZZERS[@]}"; do
  [ -x "$BUILD/fuzz/$name" ] || { summary+=("$name: not built"); status=1; continue; }
  rm -f "$OUT/$name.result"
  pending+=("$name")
  if [ "$PARALLEL" -gt 1 ]; then
    run_one "$name" &
    while [ "$(jobs -rp | wc -l)" -ge "$PARALLEL" ]; do wait -n || true; done
  else
    run_one "$name"
  fi
done
wait

for name in "${pending[@]}"; do
  log=$OUT/$name.log
  artifacts=$OUT/artifacts/$name
  corpus=$OUT/corpus/$name
  read -r rc took <"$OUT/$name.result"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || true)  # none when a seed crashes
  found=$(find "$artifacts" -type f | wc -l)
  if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
    status=1
    summary+=("$name: FAILED (exit $rc, ${execs:-?} runs in ${took}s, $cov); reproducers in $artifacts: $(ls "$artifacts" | tr '\n' ' ')log $log")
    # CI keeps only what is printed: the finding itself, so that it can be reproduced from the log.
    echo "== $name: the end of $log =="
    grep -v -E '^#[0-9]+' "$log" | tail -n 40
    for f in "$artifacts"/*; do
      [ -f "$f" ] && [ "$(stat -c %s "$f")" -le 4096 ] && { echo "== $f (base64) =="; base64 -w 100 "$f"; }
    done
  else
    line="$name: ok, ${execs:-?} runs in ${took}s (${rate:-?} exec/s), $cov, corpus $(ls "$corpus" | wc -l) inputs"
    if [ $LONG -eq 1 ] && [ "${execs:-0}" -lt "$RUNS" ] && [ "${rate:-0}" -gt 0 ]; then
      line+="; stopped by the ${SECONDS_EACH}s cap: $RUNS runs need about $((RUNS / rate))s at this rate"
    fi
    summary+=("$line")
  fi
done
echo "== fuzz summary =="
printf '%s\n' "${summary[@]}"
exit $status
