#!/usr/bin/env bash
# Issue 18, the Debian package: builds gst-ams_*.deb from a copy of the source tree with the real
# Debian tooling (dpkg-buildpackage -us -uc -b), checks its listing (dpkg -c) and its unit
# (systemd-analyze verify), installs it (dpkg -i), starts the server with the unit's ExecStart as
# the unit's user (runuser: this machine's systemd is not PID 1), publishes and plays an asset
# from the installed files alone, stops it (SIGTERM: exit 0), and purges the package again.
# Root only (a throw-away machine: CI); in the --full set (the package build takes minutes).
# Prints one gtest-style count line for scripts/test.sh.
set -uo pipefail
SRC=${AMS_SOURCE_ROOT:?}
BUILD=${AMS_BUILD_ROOT:?}
if [ "${AMS_TEST_FULL:-0}" = 0 ]; then
  echo "the package test runs in the --full set (scripts/test.sh --full)"
  exit 77
fi
failures=0
check() {  # check CONDITION-STATUS MESSAGE
  if [ "$1" = 0 ]; then echo "ok   $2"; else echo "FAIL $2"; failures=$((failures + 1)); fi
}
finish() {
  echo "[==========] 1 test ran."
  if [ "$failures" -gt 0 ]; then
    echo "[  FAILED  ] 1 test, listed below:"
    echo "[  FAILED  ] package ($failures checks failed)"
    exit 1
  fi
  echo "[  PASSED  ] 1 test."
  exit 0
}
if [ "$(id -u)" != 0 ]; then
  echo "FAIL the package test installs a package: it needs root (CI runs as root)"
  failures=1
  finish
fi
if dpkg-query -W -f='${Status}' gst-ams 2>/dev/null | grep -q "installed"; then
  echo "FAIL gst-ams is installed already: this test would replace it"
  failures=1
  finish
fi
missing=()
for p in debhelper dpkg-dev fakeroot systemd; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { echo "FAIL cannot install ${missing[*]}"; failures=1; finish; }
fi

work=$BUILD/package-test
rm -rf "$work"
mkdir -p "$work/gst-ams"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  dpkg --purge gst-ams >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# The tree as git has it (tracked and new files), with the player libraries npm installed.
(cd "$SRC" && { git ls-files -z; git ls-files -z --others --exclude-standard; } |
  xargs -0 cp --parents -t "$work/gst-ams" 2>/dev/null)
(cd "$SRC" && cp -r --parents -t "$work/gst-ams" tools/player/node_modules)
start=$(date +%s)
(cd "$work/gst-ams" && dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1)
check $? "dpkg-buildpackage -us -uc -b ($(($(date +%s) - start)) s; log $work/build.log)"
deb=$(ls "$work"/gst-ams_*_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { echo "FAIL no gst-ams_*.deb was built"; tail -n 30 "$work/build.log"; failures=$((failures + 1)); finish; }
echo "built $(basename "$deb")"
listing=$(dpkg -c "$deb" | awk '{print $6}')
for f in ./usr/bin/ams ./usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstams.so \
  ./usr/lib/x86_64-linux-gnu/gst-ams/libamscore.so.0 ./lib/systemd/system/gst-ams.service \
  ./etc/gst-ams/ams.conf ./usr/share/man/man1/ams.1.gz ./usr/share/gst-ams/player/index.html \
  ./usr/share/gst-ams/player/node_modules/hls.js/dist/hls.min.js; do
  grep -qx "$f" <<<"$listing"; check $? "the package holds $f"
done

dpkg -i "$deb" >"$work/install.log" 2>&1
check $? "dpkg -i $(basename "$deb")"
getent passwd gst-ams >/dev/null; check $? "the system user gst-ams exists"
[ -s /etc/gst-ams/operator-token ] && [ "$(stat -c %a:%G /etc/gst-ams/operator-token)" = 640:gst-ams ]
check $? "an operator token was made, readable by root and the gst-ams group only"
verify=$(systemd-analyze verify /lib/systemd/system/gst-ams.service 2>&1)
# Documentation=man:ams(1) is looked up with man(1), which a minimal machine may lack.
command -v man >/dev/null || verify=$(grep -v "man ams(1)" <<<"$verify")
[ -z "$verify" ]; check $? "systemd-analyze verify gst-ams.service says nothing${verify:+: $verify}"
for setting in ProtectSystem=strict NoNewPrivileges=yes "ReadWritePaths=/var/lib/gst-ams" User=gst-ams; do
  grep -q "^$setting" /lib/systemd/system/gst-ams.service; check $? "the unit has $setting"
done

# An asset, published as the service's user, in its database.
runuser -u gst-ams -- /usr/bin/ams encode --test-source 4 --ladder 360 /var/lib/gst-ams/demo \
  >"$work/encode.log" 2>&1
check $? "the installed ams encodes an asset as gst-ams"
runuser -u gst-ams -- /usr/bin/ams asset create demo --path /var/lib/gst-ams/demo \
  --db /var/lib/gst-ams/ams.db >/dev/null 2>&1
locator=$(runuser -u gst-ams -- /usr/bin/ams locator create --asset demo \
  --policy Predefined_ClearStreamingOnly --db /var/lib/gst-ams/ams.db 2>/dev/null)
[ -n "$locator" ]; check $? "published under locator $locator"

# The unit's ExecStart, as the unit's user, listening on a free port (the operator's edit of the
# configuration file; the package's default is 127.0.0.1:8080).
sed -i 's/^listen = .*/listen = 127.0.0.1:0/' /etc/gst-ams/ams.conf
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/gst-ams.service)
read -r -a argv <<<"$exec_start"
unset GST_PLUGIN_PATH GST_REGISTRY
export GST_REGISTRY=$work/registry.bin
runuser -u gst-ams -- env GST_REGISTRY=/var/lib/gst-ams/registry.bin "${argv[@]}" \
  >"$work/serve.out" 2>"$work/serve.err" &
server=$!
url=""
for _ in $(seq 1 100); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/serve.out" | head -n 1)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ]; check $? "the unit's ExecStart ($exec_start) serves on $url"
token=$(cat /etc/gst-ams/operator-token)
code=$(curl -s -o "$work/locators.json" -w '%{http_code}' -H "Authorization: Bearer $token" "$url/api/locators")
[ "$code" = 200 ] && grep -q "$locator" "$work/locators.json"
check $? "/api/locators with the operator token lists the locator ($code)"
code=$(curl -s -o "$work/index.html" -w '%{http_code}' "$url/")
[ "$code" = 200 ] && cmp -s "$work/index.html" /usr/share/gst-ams/player/index.html
check $? "the player page is the installed one ($code)"
hls="$url/$locator/testsrc.ism/manifest(format=m3u8-aapl)"
timeout 120 gst-launch-1.0 -q playbin "uri=$hls" video-sink="fakesink sync=false" \
  audio-sink="fakesink sync=false" >"$work/play.log" 2>&1
check $? "playbin plays $hls to its end"
[ -s /var/log/gst-ams/access.log ] && grep -q 'Fragments(' /var/log/gst-ams/access.log
check $? "the access log in /var/log/gst-ams has the segment requests"
# The signal goes to ams itself (as systemd sends it to the main process), not to runuser, which
# would end its session with a status of its own.
ams_pid=$(pgrep -P "$server" -x ams | head -n 1)
[ -n "$ams_pid" ] && kill -TERM "$ams_pid"
wait "$server"
check $? "SIGTERM ends the server with status 0"
server=""
systemctl_lines=$(grep -E "draining|shutting down" "$work/serve.err" | tr '\n' ' ')
echo "server said: $(head -n 1 "$work/serve.out"); $systemctl_lines"

dpkg --purge gst-ams >"$work/purge.log" 2>&1
check $? "dpkg --purge gst-ams"
! getent passwd gst-ams >/dev/null && [ ! -e /etc/gst-ams ] && [ ! -e /var/lib/gst-ams ] && [ ! -e /usr/bin/ams ]
check $? "the purge removed the user, /etc/gst-ams, /var/lib/gst-ams and the files"
finish
