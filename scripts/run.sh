#!/usr/bin/env bash
# The main job: sets everything up, makes a sample asset with `ams encode` from a test source
# (once, into ./sample), publishes it under a streaming locator and starts the streaming endpoint,
# printing the URLs to open.
#   LISTEN=127.0.0.1:8080 scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
AMS="$BUILD_DIR/tools/ams"
export GST_PLUGIN_PATH="$PWD/$BUILD_DIR/gst/elements${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
SAMPLE=${SAMPLE:-$PWD/sample}
LISTEN=${LISTEN:-127.0.0.1:8080}
DB=${AMS_DB:-$SAMPLE/ams.db}

if ! ls "$SAMPLE"/*.ism >/dev/null 2>&1; then
  echo "run: encoding a 30 s sample asset into $SAMPLE"
  "$AMS" encode --test-source 30 --audio-languages eng,fre "$SAMPLE"
fi
ism=$(ls "$SAMPLE"/*.ism | head -n 1)
name=$(basename "$ism" .ism)

if ! "$AMS" help serve >/dev/null 2>&1; then
  # Until the streaming endpoint exists: the asset plays with the elements alone.
  echo
  echo "The sample asset is $ism. Play it with:"
  echo "  GST_PLUGIN_PATH=$GST_PLUGIN_PATH gst-launch-1.0 filesrc location=$ism ! amsdemux name=d \\"
  echo "    d.video_0 ! queue ! decodebin ! videoconvert ! autovideosink \\"
  echo "    d.audio_0 ! queue ! decodebin ! audioconvert ! autoaudiosink"
  exec gst-launch-1.0 filesrc location="$ism" ! amsdemux name=d \
    d.video_0 ! queue ! decodebin ! fakesink sync=true d.audio_0 ! queue ! decodebin ! fakesink sync=true
fi

if ! "$AMS" asset list --db "$DB" | awk -F'\t' '$1 == "sample" {found = 1} END {exit !found}'; then
  "$AMS" asset create sample --path "$SAMPLE" --db "$DB" >/dev/null
fi
locator=$("$AMS" locator list --db "$DB" | awk -F'\t' '$2 == "sample" {print $1; exit}')
if [ -z "$locator" ]; then
  locator=$("$AMS" locator create --asset sample --policy Predefined_DownloadAndClearStreaming --db "$DB")
fi
# The operator's token for the locator list of the player page (/api/locators): made once, kept
# beside the database, readable by its owner only.
TOKEN_FILE=${AMS_OPERATOR_TOKEN_FILE:-$(dirname "$DB")/operator-token}
if [ ! -s "$TOKEN_FILE" ]; then
  (umask 077; head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$TOKEN_FILE")
fi
token=$(head -n 1 "$TOKEN_FILE")
base="http://$LISTEN/$locator/$name.ism"
cat <<URLS

Streaming locator $locator publishes $ism:
  Smooth     $base/manifest
  HLS v4     $base/manifest(format=m3u8-aapl)
  HLS v3     $base/manifest(format=m3u8-aapl-v3)
  HLS CMAF   $base/manifest(format=m3u8-cmaf)
  DASH CSF   $base/manifest(format=mpd-time-csf)
  DASH CMAF  $base/manifest(format=mpd-time-cmaf)
  Player     http://$LISTEN/#token=$token

URLS
exec "$AMS" serve --db "$DB" --listen "$LISTEN" --operator-token-file "$TOKEN_FILE"
