#!/bin/sh
# meson install: the player page and the player libraries it loads, copied from the npm packages
# that scripts/setup.sh installed as locked (tools/player/package-lock.json), with their licences,
# into $DESTDIR$prefix/$datadir/gst-ams/player. The page names the same paths as the build tree.
#   install.sh SOURCE_DIR DATADIR (MESON_INSTALL_DESTDIR_PREFIX is set by meson)
set -eu
src=$1
dest=${MESON_INSTALL_DESTDIR_PREFIX:?run by meson install}/$2/gst-ams/player
libraries="
node_modules/hls.js/dist/hls.min.js
node_modules/hls.js/LICENSE
node_modules/dashjs/dist/modern/umd/dash.all.min.js
node_modules/dashjs/dist/modern/umd/dash.mss.min.js
node_modules/dashjs/LICENSE.md
node_modules/shaka-player/dist/shaka-player.compiled.js
node_modules/shaka-player/LICENSE
"
for f in $libraries; do
  if [ ! -f "$src/$f" ]; then
    echo "install.sh: $src/$f is missing: run 'npm ci' in tools/player (scripts/setup.sh does)" >&2
    exit 1
  fi
done
mkdir -p "$dest"
for f in index.html player.js adapters.js style.css; do
  install -m 644 "$src/$f" "$dest/$f"
done
for f in $libraries; do
  install -D -m 644 "$src/$f" "$dest/$f"
done
echo "Installed the player page into $dest"
