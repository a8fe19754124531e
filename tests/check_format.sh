#!/bin/sh
# The style check: every C++ source the project tracks is as clang-format (.clang-format) writes
# it. Run by `meson test` (suite style); fails with the offending lines.
#   tests/check_format.sh SOURCE_ROOT
set -eu
cd "${1:?usage: check_format.sh SOURCE_ROOT}"
if [ -d .git ] && command -v git >/dev/null; then
  files=$(git ls-files '*.cc' '*.h')
else
  files=$(find gst tools tests fuzz bench -name '*.cc' -o -name '*.h' | grep -v node_modules)
fi
# shellcheck disable=SC2086
clang-format --dry-run -Werror $files
echo "clang-format: $(echo "$files" | wc -l) files as .clang-format writes them"
