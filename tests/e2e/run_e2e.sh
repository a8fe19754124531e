#!/usr/bin/env bash
# The end-to-end suite: plays every asset of the test corpus (tests/corpus/make_corpus.py: real
# ffmpeg and GStreamer encoder output) and the asset `ams encode` makes (30 s, three H.264 rungs,
# AAC in English and French; asset `ams-encode`), in every format, from one `ams serve`, with real
# clients: GStreamer (playbin3 + hlsdemux2/dashdemux2/mssdemux2), ffmpeg, and, on the assets marked
# `browsers: true`, hls.js, dash.js, shaka-player and Chromium's own HLS player in headless
# Chromium. run_e2e.py computes the (asset, client, format) rows it expects before anything runs,
# each client appends one row per try to build/tests/e2e/results.jsonl as the try ends, and the
# verdict fails on a missing row, a crash, a failure that known_failures.txt does not match by its
# signature, a stale or unused entry (docs/players.md). matrix.mjs turns the verdict into the
# README's "Player support" table. Run by `meson test` (suite e2e):
#   meson test -C build --suite e2e -v                 the quick set (CI)
#   AMS_TEST_FULL=1 meson test -C build --suite e2e    the full set (scripts/test.sh --full)
#   AMS_E2E_CORPUS=DIR ...                             a corpus made already (DIR/corpus.json)
#   AMS_E2E_ASSETS="ams-encode x264-*" ...             only these assets (globs)
#   AMS_E2E_CLIENTS="gstreamer ffmpeg" ...             a subset of clients (gstreamer ffmpeg browsers)
#   AMS_E2E_BROWSER_ONLY="shaka:dash-csf player-page"  a subset of the browser cases
#   AMS_E2E_SERVER=static ...   `ams package` output behind python3 -m http.server instead
set -uo pipefail

GST_TEST=${1:?usage: run_e2e.sh GST_PLAYERS_TEST}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${AMS_SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}
BUILD=${AMS_BUILD_ROOT:?set by meson test}
OUT=$BUILD/tests/e2e
export GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-$BUILD/gst/elements}
mkdir -p "$OUT"

# The corpus: the one named, or made now (idempotent: an unchanged asset is kept) where the
# corpus suite (tests/corpus/check_corpus.sh) makes it too, so that CI encodes it once.
set_name=quick
[ -n "${AMS_TEST_FULL:-}" ] && [ "${AMS_TEST_FULL}" != 0 ] && set_name=full
CORPUS=${AMS_E2E_CORPUS:-}
if [ -z "$CORPUS" ]; then
  CORPUS=$BUILD/tests/corpus/assets
  if [ ! -f "$SRC/tests/corpus/make_corpus.py" ]; then
    echo "e2e: FAIL: tests/corpus/make_corpus.py is missing and AMS_E2E_CORPUS is not set"
    exit 1
  fi
  start=$(date +%s)
  python3 "$SRC/tests/corpus/make_corpus.py" "$CORPUS" --set "$set_name" >"$OUT/corpus.log" 2>&1 ||
    { tail -n 40 "$OUT/corpus.log"; echo "e2e: FAIL: make_corpus.py $CORPUS --set $set_name failed"; exit 1; }
  echo "[ e2e      ] corpus ($set_name set) in $CORPUS: $(($(date +%s) - start)) s"
fi
[ -f "$CORPUS/corpus.json" ] || { echo "e2e: FAIL: $CORPUS/corpus.json does not exist"; exit 1; }

exec python3 "$HERE/run_e2e.py" --gst-test "$GST_TEST" --build "$BUILD" --src "$SRC" --out "$OUT" \
  --corpus "$CORPUS"
