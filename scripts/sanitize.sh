#!/usr/bin/env bash
# Builds gst-ams with AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer (gcc) in
# build-asan and runs the unit, tool, element and integration suites there (scripts/test.sh --full
# calls it; docs/testing.md says what runs, what does not and why). Any ASan or UBSan finding
# aborts the process that made it and so fails its test; a leak that is not ours and is listed in
# tests/sanitize/lsan.supp is not reported, every other leak fails the test of the process that
# leaked at its exit.
#   scripts/sanitize.sh                     every suite below
#   scripts/sanitize.sh server demux        only these meson tests (or suites)
#   ASAN_BUILD_DIR=dir scripts/sanitize.sh  another build directory
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${ASAN_BUILD_DIR:-build-asan}

# -fno-sanitize-recover: a UBSan finding aborts (by default UBSan prints and goes on, and the test
# would pass). -Db_lundef=false: the plugin is a shared object whose sanitizer symbols come from
# the runtime the program loads, which meson's -Wl,--no-undefined would refuse.
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true \
    -Dcpp_args=-fno-sanitize-recover=undefined -Dc_args=-fno-sanitize-recover=undefined \
    >/dev/null || exit 1
fi
meson compile -C "$BUILD" -j "${ASAN_JOBS:-2}" >/dev/null || meson compile -C "$BUILD" -j 1 || exit 1

# The plugin built with ASan needs the ASan runtime loaded first, which only a program built with
# ASan does. So: the registry is scanned in the (ASan) process that needs it, not in GStreamer's
# uninstrumented gst-plugin-scanner; and the GStreamer tools the tests run (gst-launch-1.0,
# gst-inspect-1.0) run through wrappers that preload the runtime, for them only (preloading it
# everywhere would put ffmpeg, python3 and node under LeakSanitizer too).
export GST_REGISTRY_FORK=no
libasan=$(gcc -print-file-name=libasan.so)
libasan=$(readlink -f "$libasan")
[ -f "$libasan" ] || { echo "sanitize: no libasan (apt-get install libasan8)" >&2; exit 1; }
wrappers=$ROOT/$BUILD/sanitize-bin
mkdir -p "$wrappers"
for tool in gst-launch-1.0 gst-inspect-1.0; do
  real=$(PATH=${PATH//$wrappers:/} command -v "$tool") || continue
  printf '#!/bin/sh\nLD_PRELOAD=%s${LD_PRELOAD:+:$LD_PRELOAD} exec %s "$@"\n' "$libasan" "$real" \
    >"$wrappers/$tool"
  chmod +x "$wrappers/$tool"
done
export PATH=$wrappers:$PATH

# halt_on_error: the first error ends the process. fast_unwind_on_malloc=0: whole stacks through
# GLib's frames (it has no frame pointers), which the suppressions need to match narrowly.
# detect_leaks: LeakSanitizer at every exit,
# with the suppressions of leaks inside GLib, GStreamer and libsoup (each one says why it is not
# ours). A process that leaks exits 23 and prints the stack of each allocation it lost.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1:strict_init_order=1:fast_unwind_on_malloc=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/sanitize/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:report_error_type=1}

# The unit (core), tool, element and integration suites. Left out: e2e (browsers and every
# player: longer than its 30 min bound without ASan already), corpus (the same `ams serve` and
# plugin code as the integration suites, over many more assets: hours under ASan) and leak (it
# runs valgrind, which cannot run an ASan binary).
select=("$@")
[ ${#select[@]} -eq 0 ] && select=(--suite unit --suite tools --suite elements --suite integration)
# ASan makes every test several times slower: the timeouts are scaled like --full's.
meson test -C "$BUILD" --print-errorlogs --num-processes 2 --timeout-multiplier 6 "${select[@]}"
