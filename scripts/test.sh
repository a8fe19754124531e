#!/usr/bin/env bash
# Sets everything up and runs every test: unit, element, integration and end-to-end suites
# (meson test), then each fuzzer for a short, bounded time. Prints one closing line
# "tests: N passed, N failed, N skipped".
#   scripts/test.sh                  the quick test corpus in the end-to-end suite (what CI runs)
#   scripts/test.sh --full           the full corpus (tests/corpus, AMS_TEST_FULL=1), no 30 min bound,
#                                    the valgrind leak run (suite leak) and the ASan + UBSan build of
#                                    the unit, tool, element and integration suites (scripts/sanitize.sh)
#   FUZZ_SECONDS=0 scripts/test.sh   skips the fuzzers
set -uo pipefail
cd "$(dirname "$0")/.."
meson_args=()
full=0
for arg in "$@"; do
  case $arg in
    --full)
      full=1
      export AMS_TEST_FULL=1
      export AMS_EXTRA_PACKAGES="${AMS_EXTRA_PACKAGES:-} valgrind"  # the leak run
      meson_args+=(--timeout-multiplier 4) ;;
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

# The sanitizer build: its own build directory, so its meson testlog is counted beside the first.
logs=("$BUILD_DIR/meson-logs/testlog.txt")
if [ "$full" = 1 ]; then
  scripts/sanitize.sh || status=1
  logs+=("${ASAN_BUILD_DIR:-build-asan}/meson-logs/testlog.txt")
fi

# Count test cases: every gtest case, except that the end-to-end suite counts by its own verdict
# (its player cases, where a failure listed in tests/e2e/known_failures.txt is not a failure).
read -r passed failed skipped known < <(python3 - "${logs[@]}" <<'PY'
import re, sys
passed = failed = skipped = known = 0
name = ""
lines = []
for path in sys.argv[1:]:
    try:
        lines += open(path, errors="replace").read().splitlines()
    except OSError:
        pass
# A gtest binary whose cases all passed can still fail: a sanitizer report at its exit (a leak
# LeakSanitizer found, exit status 23), a crash, a timeout. That counts as one failure.
result = ""
case_failed = False
def close_test():
    global failed
    if name and not name.endswith("/ e2e") and result not in ("", "exit status 0", "exit status 77") \
            and not case_failed:
        failed += 1
for line in lines + ["test: (end)"]:
    m = re.match(r"^test:\s+(.*)$", line)
    if m:
        close_test()
        name = m.group(1)
        result = ""
        case_failed = False
    m = re.match(r"^result:\s+(.*)$", line)
    if m:
        result = m.group(1).strip()
    e2e = name.endswith("/ e2e")
    m = re.match(r"^\[  (PASSED|FAILED|SKIPPED) +\] (\d+) tests?[,.]", line)
    if m and not e2e:
        n = int(m.group(2))
        if m.group(1) == "PASSED": passed += n
        elif m.group(1) == "FAILED": failed += n; case_failed = True
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
