#!/usr/bin/env bash
# Sets everything up and runs every test: unit, element, integration and end-to-end suites
# (meson test), then each fuzzer for a short, bounded time. Prints one closing line
# "tests: N passed, N failed, N skipped".
#   FUZZ_SECONDS=0 scripts/test.sh   skips the fuzzers
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1
BUILD_DIR=${BUILD_DIR:-build}

status=0
meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 2 || status=1

if [ "${FUZZ_SECONDS:-20}" != "0" ] && [ -x scripts/fuzz.sh ]; then
  scripts/fuzz.sh "${FUZZ_SECONDS:-20}" || status=1
fi

# Count the gtest cases, which is what the suites really hold.
passed=$(grep -hoE '^\[  PASSED  \] [0-9]+ test' "$BUILD_DIR"/meson-logs/testlog.txt 2>/dev/null | awk '{s+=$4} END {print s+0}')
failed=$(grep -hoE '^\[  FAILED  \] [0-9]+ test' "$BUILD_DIR"/meson-logs/testlog.txt 2>/dev/null | awk '{s+=$4} END {print s+0}')
skipped=$(grep -hoE '^\[  SKIPPED \] [0-9]+ test' "$BUILD_DIR"/meson-logs/testlog.txt 2>/dev/null | awk '{s+=$4} END {print s+0}')
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
