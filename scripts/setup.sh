#!/usr/bin/env bash
# Sets up gst-ams on a Debian 12 machine: installs the Debian packages it needs (only those
# missing), configures and builds. Safe to run again: it does only what is left to do.
#   scripts/setup.sh            build in ./build
#   BUILD_DIR=dir scripts/setup.sh
#   AMS_WERROR=1 scripts/setup.sh   warnings are errors (scripts/test.sh sets it)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}

packages=(
  # build
  meson ninja-build pkg-config g++ git
  libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  libsoup-3.0-dev libsqlite3-dev libssl-dev nlohmann-json3-dev libjwt-dev libgtest-dev
  # run: GStreamer with the encoders `ams encode` uses and the demuxers the tests play with
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-base-apps
  gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly
  gstreamer1.0-libav
  # tests: independent decoders and validators, a static HTTP server, fuzzing, the style check
  ffmpeg libxml2-utils openssl python3 python3-prometheus-client curl clang libclang-rt-14-dev clang-format
  # end-to-end tests (tests/e2e): a browser for hls.js, dash.js and shaka-player
  chromium
)
# npm for the player libraries and the browser driver (a NodeSource nodejs already brings it).
command -v npm >/dev/null || packages+=(nodejs npm)
if [ -n "${AMS_EXTRA_PACKAGES:-}" ]; then
  read -r -a extra <<<"$AMS_EXTRA_PACKAGES"
  packages+=("${extra[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Warnings are errors where the project's own checks build (scripts/test.sh, and so CI, set
# AMS_WERROR=1), not by default: a packager's compiler may warn where ours does not.
werror=false
[ "${AMS_WERROR:-0}" = 1 ] && werror=true
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  meson setup "$BUILD_DIR" -Dwerror=$werror >/dev/null
elif [ "$werror" = true ]; then
  meson configure "$BUILD_DIR" -Dwerror=true >/dev/null
fi
echo "setup: building in $BUILD_DIR"
meson compile -C "$BUILD_DIR" >/dev/null || meson compile -C "$BUILD_DIR"
# The player page's libraries (tools/player), the end-to-end suite's browser driver and the
# corpus checks' strict HLS parser (tests/corpus), as locked.
for dir in tools/player tests/e2e tests/corpus; do
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "setup: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || exit 1
  fi
done
echo "setup: done"
