#!/usr/bin/env python3
"""Issue 18, "Install": `meson install` puts everything a running server needs under its prefix.

The build is installed into a staging folder (meson install --destdir), as a packager does; the
installed `ams` then makes an asset, publishes it and serves it with nothing from the build or
source tree: the plugin from the installed gstreamer-1.0 folder, the private libraries from the
installed lib/gst-ams (the run path names the final prefix, so LD_LIBRARY_PATH points at the
staged one, as it would at the prefix itself), and the player page from share/gst-ams/player. A
marker added to the installed page must be what GET / answers, so the page cannot come from the
source tree; the installed libraries must be what /player/ serves; and GStreamer's playbin must
play the HLS stream to its end. Prints one gtest-style count line for scripts/test.sh.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

BUILD = os.environ["AMS_BUILD_ROOT"]
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


def get(url, timeout=20):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


def main():
    options = json.loads(subprocess.run(["meson", "introspect", "--buildoptions", BUILD],
                                        capture_output=True, text=True, check=True).stdout)
    option = {o["name"]: o["value"] for o in options}
    root, libdir = option["prefix"], option["libdir"]
    bindir, datadir = option["bindir"], option["datadir"]
    work = tempfile.mkdtemp(prefix="ams-install-test-")
    server = None
    try:
        stage = os.path.join(work, "stage")
        r = subprocess.run(["meson", "install", "-C", BUILD, "--destdir", stage, "--no-rebuild",
                            "--quiet"], capture_output=True, text=True)
        if not check(r.returncode == 0, "meson install --destdir: " + r.stderr.strip()[-300:]):
            return
        top = stage + root
        ams = os.path.join(top, bindir, "ams")
        plugin_dir = os.path.join(top, libdir, "gstreamer-1.0")
        private = os.path.join(top, libdir, "gst-ams")
        player = os.path.join(top, datadir, "gst-ams", "player")
        page_files = ["index.html", "player.js", "adapters.js", "style.css",
                      "node_modules/hls.js/dist/hls.min.js", "node_modules/hls.js/LICENSE",
                      "node_modules/dashjs/dist/modern/umd/dash.all.min.js",
                      "node_modules/dashjs/dist/modern/umd/dash.mss.min.js",
                      "node_modules/dashjs/LICENSE.md",
                      "node_modules/shaka-player/dist/shaka-player.compiled.js",
                      "node_modules/shaka-player/LICENSE"]
        check(os.access(ams, os.X_OK), "bin/ams installed")
        check(os.path.isfile(os.path.join(plugin_dir, "libgstams.so")), "the plugin in " + libdir +
              "/gstreamer-1.0")
        check(os.path.isfile(os.path.join(private, "libamscore.so.0")) and
              os.path.isfile(os.path.join(private, "libgstams-common.so.0")),
              "the private libraries in " + libdir + "/gst-ams")
        check(not os.path.exists(os.path.join(top, libdir, "libamscore.so")),
              "no private library in the public " + libdir)
        for f in page_files:
            check(os.path.isfile(os.path.join(player, f)), "share/gst-ams/player/" + f)
        # Every script the installed page loads is installed.
        page = open(os.path.join(player, "index.html")).read()
        for src in re.findall(r'(?:src|href)="/player/([^"]+)"', page):
            check(os.path.isfile(os.path.join(player, src)), "the page's " + src + " is installed")
        # ams(1): every command and every option its --help gives, and groff has nothing to say.
        man = os.path.join(top, option["mandir"], "man1", "ams.1")
        if check(os.path.isfile(man), option["mandir"] + "/man1/ams.1 installed"):
            text = open(man).read().replace("\\-", "-")
            top_help = subprocess.run([os.path.join(BUILD, "tools", "ams"), "--help"],
                                      capture_output=True, text=True).stdout
            commands = re.findall(r"^  (\w[\w-]*)\s{2,}", top_help, re.M)
            check(len(commands) >= 7, "ams --help lists %d commands" % len(commands))
            for c in commands:
                check(".SS ams " + c in text, "the man page has a section for ams " + c)
                h = subprocess.run([os.path.join(BUILD, "tools", "ams"), c, "--help"],
                                   capture_output=True, text=True)
                for flag in sorted(set(re.findall(r"^\s+(?:-\w, )?(--[\w-]+)", h.stdout, re.M))):
                    if flag.startswith("--help"):
                        continue
                    check(flag in text, "the man page names ams %s %s" % (c, flag))
            if shutil.which("groff"):
                g = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", man],
                                   capture_output=True, text=True)
                check(g.returncode == 0 and not g.stderr.strip(),
                      "groff -ww renders the man page without a warning: " + g.stderr.strip())
            else:
                print("note: no groff here, the man page was not rendered")
        marker = "<!-- installed-page-marker %d -->" % os.getpid()
        with open(os.path.join(player, "index.html"), "a") as f:
            f.write(marker + "\n")

        env = {k: v for k, v in os.environ.items() if not k.startswith("GST_")}
        env["LD_LIBRARY_PATH"] = private
        env["GST_PLUGIN_PATH"] = plugin_dir
        env["GST_REGISTRY"] = os.path.join(work, "registry.bin")
        r = subprocess.run(["ldd", ams], capture_output=True, text=True, env=env)
        check(BUILD not in r.stdout and private in r.stdout,
              "the installed ams loads the installed libraries, none of the build tree")
        asset = os.path.join(work, "asset")
        db = os.path.join(work, "ams.db")
        r = subprocess.run([ams, "encode", "--test-source", "4", "--ladder", "360", asset],
                           capture_output=True, text=True, env=env)
        if not check(r.returncode == 0, "ams encode: " + r.stderr.strip()[-300:]):
            return
        subprocess.run([ams, "asset", "create", "demo", "--path", asset, "--db", db], env=env,
                       check=True, capture_output=True)
        locator = subprocess.run([ams, "locator", "create", "--asset", "demo", "--policy",
                                  "Predefined_ClearStreamingOnly", "--db", db], env=env, check=True,
                                 capture_output=True, text=True).stdout.strip()
        token = os.path.join(work, "token")
        with open(token, "w") as f:
            f.write("install-test-operator-token\n")
        log = open(os.path.join(work, "serve.log"), "w+")
        access = os.path.join(work, "access.log")
        server = subprocess.Popen([ams, "serve", "--db", db, "--listen", "127.0.0.1:0",
                                   "--operator-token-file", token, "--access-log", access],
                                  stdout=subprocess.PIPE, stderr=log, text=True, env=env)
        line = server.stdout.readline()
        m = re.search(r"on (http://127\.0\.0\.1:\d+)/", line)
        if not check(m is not None, "ams serve started: " + line.strip()):
            return
        base = m.group(1)
        status, body = get(base + "/")
        check(status == 200 and marker.encode() in body,
              "GET / answers the installed page (the marker added to it is there)")
        for f in page_files[4:]:
            if f.endswith(".js"):
                status, body = get(base + "/player/" + f)
                with open(os.path.join(player, f), "rb") as installed:
                    check(status == 200 and body == installed.read(), "GET /player/" + f +
                          " is the installed file")
        hls = "%s/%s/testsrc.ism/manifest(format=m3u8-aapl)" % (base, locator)
        t0 = time.time()
        r = subprocess.run(["gst-launch-1.0", "-q", "playbin", "uri=" + hls,
                            "video-sink=fakesink sync=false", "audio-sink=fakesink sync=false"],
                           capture_output=True, text=True, env=env, timeout=120)
        check(r.returncode == 0, "playbin plays the HLS stream of the installed server to its end "
              "(%.1f s): %s" % (time.time() - t0, (r.stdout + r.stderr).strip()[-300:]))
        served = [l for l in open(access) if "Fragments(" in l and '" 200 ' in l]
        check(len(served) >= 2, "the server answered %d segment requests with 200" % len(served))
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)
    print("[==========] 1 test ran.")
    if failures:
        print("[  FAILED  ] 1 test, listed below:\n[  FAILED  ] install (%d checks failed)"
              % len(failures))
        sys.exit(1)
    print("[  PASSED  ] 1 test.")


if __name__ == "__main__":
    main()
