#!/usr/bin/env bash
# Sets everything up and runs every test: unit, element, integration and end-to-end suites
# (meson test), then each fuzzer for a short, bounded time. Prints one closing line
# "tests: N passed, N failed, N skipped".
#   scripts/test.sh                  the quick test corpus in the end-to-end suite (what CI runs)
#   scripts/test.sh --full           the full corpus (tests/corpus, AMS_TEST_FULL=1), no 30 min bound
#   FUZZ_SECONDS=0 scripts/test.sh   skips the fuzzers
set -uo pipefail
cd "$(dirname "$0")/.."
meson_args=()
for arg in "$@"; do
  case $arg in
    --full) export AMS_TEST_FULL=1; meson_args+=(--timeout-multiplier 4) ;;
    *) echo "usage: scripts/test.sh [--full]" >&2; exit 2 ;;
  esac
done
AMS_WERROR=1 scripts/setup.sh || exit 1
BUILD_DIR=${BUILD_DIR:-build}

status=0
meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 2 "${meson_args[@]}" || status=1

if [ "${FUZZ_SECONDS:-20}" != "0" ] && [ -x scripts/fuzz.sh ]; then
  scripts/fuzz.sh "${FUZZ_SECONDS:-20}" || status=1
fi

# Count test cases: every gtest case, except that the end-to-end suite counts by its own verdict
# (its player cases, where a failure listed in tests/e2e/known_failures.txt is not a failure).
read -r passed failed skipped known < <(python3 - "$BUILD_DIR/meson-logs/testlog.txt" <<'PY'
import re, sys
passed = failed = skipped = known = 0
name = ""
try:
    lines = open(sys.argv[1], errors="replace").read().splitlines()
except OSError:
    lines = []
for line in lines:
    m = re.match(r"^test:\s+(.*)$", line)
    if m:
        name = m.group(1)
    e2e = name.endswith("/ e2e")
    m = re.match(r"^\[  (PASSED|FAILED|SKIPPED) +\] (\d+) tests?[,.]", line)
    if m and not e2e:
        n = int(m.group(2))
        if m.group(1) == "PASSED": passed += n
        elif m.group(1) == "FAILED": failed += n
        else: skipped += n
    m = re.match(r"^\[ e2e +\] (\d+) cases passed, (\d+) known failures, (\d+) unexpected", line)
    if m:
        passed += int(m.group(1)); known += int(m.group(2)); failed += int(m.group(3))
print(passed, failed, skipped, known)
PY
)
[ "${known:-0}" -gt 0 ] && echo "known failures: $known (tests/e2e/known_failures.txt)"
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
