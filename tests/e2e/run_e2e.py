#!/usr/bin/env python3
"""The end-to-end suite's driver and verdict (stdlib only; run by run_e2e.sh).

Plays every asset of a corpus (tests/corpus, /work/notes/corpus-schema.md) plus the asset that
`ams encode` makes, in every format, from one `ams serve`, with GStreamer (gst_players_test, one
process per case), ffmpeg, and the browser matrix (browsers.mjs) on the assets marked
`browsers: true`. Before any client runs it writes the list of (asset, client, format) rows it
expects ($OUT/expected.json); every client appends one row per try to $OUT/results.jsonl as the
try ends; at the end every expected row must be there exactly once (tries 1..n), or the suite
fails naming it.

A failing row carries `errors`, a list of items (one per failed check or player error). It is a
known failure only if every item matches the signature of an entry of known_failures.txt that
covers its (client, format, asset); an item matched only by an `intermittent` entry makes the case
be tried again (3 tries in all), and the row passes only if a try passes. A crash (a client
process that died, was killed, or exited without its row) is never a known failure: it fails the
suite unless an intermittent entry's signature matches it and a later try passes. An entry whose
version is not the installed one is stale and fails the suite; a non-intermittent entry that
matched nothing among the rows it covers is unused, which fails a full run (AMS_TEST_FULL=1) and
is reported in others. Every 5xx answer of the endpoint (its access log) fails the suite, even
when the client that got it recovered.
"""
import argparse
import base64
import fnmatch
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid

FORMATS = [
    ("hls-v3", "manifest(format=m3u8-aapl-v3)"),
    ("hls-v4", "manifest(format=m3u8-aapl)"),
    ("hls-cmaf", "manifest(format=m3u8-cmaf)"),
    ("dash-csf", "manifest(format=mpd-time-csf)"),
    ("dash-cmaf", "manifest(format=mpd-time-cmaf)"),
    ("smooth", "manifest"),
]
FORMAT_IDS = [f for f, _ in FORMATS]
MANIFEST = dict(FORMATS)
# Who plays what in the browser: the library (tools/player/adapters.js drives it) and its formats.
# `ffmpeg-hls-ts` is the control: ffmpeg's own HLS of the same MP4s (its rows are evidence).
BROWSER_CASES = [
    ("hls.js", ["hls-v3", "hls-v4", "hls-cmaf", "ffmpeg-hls-ts"]),
    ("hls.js-1.6", ["hls-v3", "hls-v4", "hls-cmaf"]),
    ("dash.js", ["dash-csf", "dash-cmaf", "smooth"]),
    ("shaka", FORMAT_IDS),
    ("shaka-4", ["smooth"]),
    ("native", ["hls-v3", "hls-v4", "hls-cmaf"]),
]
# Played in the full set only (scripts/test.sh --full), to keep CI's quick set within its time:
# the previous line of a library whose current release the quick set plays.
FULL_ONLY_CLIENTS = {"hls.js-1.6"}
REFERENCE_FORMAT = "ffmpeg-hls-ts"
PLAYER_PAGE = ("player-page", "hls-v4")  # the page `ams serve` serves at /, on the ams-encode asset
CLIENT_ORDER = ["gstreamer", "ffmpeg"] + [c for c, _ in BROWSER_CASES] + ["player-page"]
MAX_TRIES = 3
AMS_ENCODE = "ams-encode"
# The `ams encode` asset through a locator with dynamic filters (docs/filters.md): 10 s to 20 s,
# the video rungs below 1.5 Mbit/s, the English audio only, the middle rung's bitrate as the first
# quality. Its expectations are worked out from the .ism and ffprobe, not from gst-ams.
FILTERED = "ams-encode-filtered"
FILTER_START, FILTER_END, FILTER_MAX_BITRATE = 10, 20, 1500000
# The `ams encode` asset through a locator under Predefined_ClearKey: AES-128 HLS (encryption=cbc,
# docs/protection.md), the players fetching the key from the endpoint's key delivery. The formats
# served encrypted so far.
AES = "ams-encode-aes"
AES_FORMATS = ["hls-v3", "hls-v4"]
# The same asset under Predefined_MultiDrmCencStreaming: CENC DASH (encryption=cenc), played with
# Chromium's ClearKey CDM (EME), the licence from the endpoint's /keydelivery/clearkey/ that the
# MPD names. Only EME players decrypt it: GStreamer 1.22 has no ClearKey decryptor and ffmpeg's
# DASH demuxer passes no key on (tests/integration/protection_test.cc decrypts its fragments with
# ffmpeg and Shaka Packager instead).
CENC = "ams-encode-cenc"
CENC_FORMATS = ["dash-csf", "dash-cmaf"]
CENC_CLIENTS = ["dash.js", "shaka"]
# Under Predefined_MultiDrmStreaming with its CBCS key: DASH CMAF with encryption=cbcs (the same
# segments HLS CMAF serves; HLS players would need their EME configured, so only DASH plays here).
CBCS = "ams-encode-cbcs"
CBCS_FORMATS = ["dash-cmaf"]
# A copy of the asset (its files hard-linked) whose .ism names WebVTT side-cars, English and
# French (docs/subtitles.md): HLS subtitle renditions (WebVTT) and DASH text AdaptationSets (TTML
# in fMP4), checked in the players that list them. Smooth's text StreamIndex is not played here:
# dash.js 5.2.1 failed its paused-seek text check 3 times of 3 (docs/subtitles.md), and shaka 5 has
# no Smooth parser.
SUBS = "ams-encode-subtitles"
SUBS_FORMATS = ["hls-v3", "hls-v4", "hls-cmaf", "dash-csf", "dash-cmaf"]
SUBS_CLIENTS = ["hls.js", "shaka", "dash.js"]
SUBS_CHECK_AT = 12.5  # where the browsers seek and read the cue shown
MADE = (AMS_ENCODE, FILTERED, AES, CENC, CBCS, SUBS)
LICENSED = (CENC, CBCS)  # assets whose passed rows must have fetched a ClearKey licence


def manifest_url(a, fmt):
    """The master URL of an asset in a format, with the asset's further arguments (",encryption=cbc")."""
    path = MANIFEST[fmt]
    args = a.get("manifest_args", "")
    if args:
        path = path[:-1] + args + ")" if path.endswith(")") else path + "(" + args[1:] + ")"
    return a["base"] + "/" + path


def say(text):
    print("[ e2e      ] " + text, flush=True)


class Suite:
    def __init__(self, args):
        self.args = args
        self.out = args.out
        self.results = os.path.join(self.out, "results.jsonl")
        self.logs = os.path.join(self.out, "logs")
        self.ams = os.path.join(args.build, "tools", "ams")
        self.access_log = os.path.join(self.out, "access.log")
        self.problems = []  # what fails the suite besides rows: (kind, text)
        self.clients = set(os.environ.get("AMS_E2E_CLIENTS", "gstreamer ffmpeg browsers").split())
        self.browser_only = set(os.environ.get("AMS_E2E_BROWSER_ONLY", "").split())
        self.asset_globs = os.environ.get("AMS_E2E_ASSETS", "").split()
        self.full = os.environ.get("AMS_TEST_FULL", "") not in ("", "0")
        self.mode = os.environ.get("AMS_E2E_SERVER", "serve")
        self.server = None
        self.harness_env = {}

    def problem(self, kind, text):
        self.problems.append((kind, text))
        say("%s: %s" % (kind.upper(), text))

    # --- The corpus --------------------------------------------------------------------------
    def load_corpus(self, directory):
        path = os.path.join(directory, "corpus.json")
        with open(path) as f:
            corpus = json.load(f)
        if corpus.get("version") != 1:
            raise SystemExit("e2e: %s: version %r, expected 1" % (path, corpus.get("version")))
        assets = []
        for a in corpus["assets"]:
            for key in ("name", "path", "manifest", "video", "audio", "duration", "fragment",
                        "browsers", "codecs_playable_in_chromium"):
                if key not in a:
                    raise SystemExit("e2e: %s: asset %s has no %r" % (path, a.get("name"), key))
            a = dict(a)
            a["root"] = directory
            a["abspath"] = os.path.normpath(os.path.join(directory, a["path"]))
            assets.append(a)
        return assets

    def ams_encode_entry(self, directory):
        """Makes the `ams encode` asset and its corpus entry, from ffprobe (not from gst-ams)."""
        asset_dir = os.path.join(directory, AMS_ENCODE)
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        t0 = time.time()
        with open(os.path.join(self.out, "encode.log"), "w") as log:
            rc = subprocess.call([self.ams, "encode", "--test-source", "30", "--gop", "2",
                                  "--audio-languages", "eng,fre", "--ladder", "540,360,180",
                                  asset_dir], stdout=log, stderr=subprocess.STDOUT)
        if rc != 0:
            print(open(os.path.join(self.out, "encode.log")).read())
            return None
        ism = sorted(f for f in os.listdir(asset_dir) if f.endswith(".ism"))[0]
        say("encoded %s in %d ms" % (os.path.join(asset_dir, ism), (time.time() - t0) * 1000))
        video, audio, duration = [], [], 0.0
        for name in sorted(os.listdir(asset_dir)):
            if not name.endswith(".mp4"):
                continue
            for s in ffprobe_streams(os.path.join(asset_dir, name)):
                duration = max(duration, float(s.get("duration", 0)))
                if s["codec_type"] == "video":
                    video.append({"file": name, "height": s["height"],
                                  "frames": int(s["nb_read_frames"]), "fps": s["r_frame_rate"]})
                elif s["codec_type"] == "audio":
                    lang = s.get("tags", {}).get("language", "und")
                    if any(x["language"] == lang for x in audio):
                        continue  # the same audio muxed into every rung
                    audio.append({"file": name, "codec": s["codec_name"], "language": lang,
                                  "channels": s["channels"], "sample_rate": int(s["sample_rate"])})
        video.sort(key=lambda v: -v["height"])
        entry = {
            "name": AMS_ENCODE, "set": "quick", "path": "%s/%s" % (AMS_ENCODE, ism),
            "manifest": ism[:-4],
            "description": "`ams encode --test-source 30`: 30 s, H.264 540p, 360p and 180p with "
                           "B-frames in 2 s closed GOPs, AAC-LC in English (muxed into every rung) "
                           "and French (a file of its own)",
            "features": ["ams-encode", "bframes", "closed-gop", "gop-2s", "avc1"],
            "browsers": True, "video": video, "audio": audio, "text": [],
            "duration": duration, "fragment": 2.0, "codecs_playable_in_chromium": True,
        }
        entries = [entry]
        filtered = self.filtered_entry(entry, os.path.join(asset_dir, ism))
        if filtered:
            entries.append(filtered)
        aes = dict(entry, name=AES, policy="Predefined_ClearKey", manifest_args=",encryption=cbc",
                   formats=AES_FORMATS, features=entry["features"] + ["aes-128"])
        aes["description"] = ("the ams-encode asset through a locator under Predefined_ClearKey: "
                              "AES-128 HLS v3 and v4, the key from the endpoint's key delivery")
        entries.append(aes)
        cenc = dict(entry, name=CENC, policy="Predefined_MultiDrmCencStreaming",
                    manifest_args=",encryption=cenc", formats=CENC_FORMATS, clients=CENC_CLIENTS,
                    features=entry["features"] + ["cenc", "clearkey"])
        cenc["description"] = ("the ams-encode asset through a locator under "
                               "Predefined_MultiDrmCencStreaming: CENC DASH CSF and CMAF, played "
                               "with EME ClearKey, the licence from the endpoint")
        entries.append(cenc)
        cbcs = dict(entry, name=CBCS, policy="Predefined_MultiDrmStreaming",
                    manifest_args=",encryption=cbcs", formats=CBCS_FORMATS, clients=CENC_CLIENTS,
                    features=entry["features"] + ["cbcs", "clearkey"])
        cbcs["description"] = ("the ams-encode asset through a locator under "
                               "Predefined_MultiDrmStreaming: CBCS DASH CMAF (1:9 pattern), played "
                               "with EME ClearKey, the licence from the endpoint")
        entries.append(cbcs)
        subs = self.subtitles_entry(entry, directory, asset_dir, ism)
        if subs:
            entries.append(subs)
        with open(os.path.join(directory, "corpus.json"), "w") as f:
            json.dump({"version": 1, "assets": entries}, f, indent=2)
        return directory

    def subtitles_entry(self, entry, directory, asset_dir, ism):
        """The ams-encode asset's files hard-linked into a folder of their own, with an English and a
        French WebVTT side-car named by the .ism: a cue of 1.8 s every 2 s, "<Label> cue N"."""
        folder = os.path.join(directory, SUBS)
        os.makedirs(folder)
        for name in os.listdir(asset_dir):
            os.link(os.path.join(asset_dir, name), os.path.join(folder, name))
        text = []
        for lang, label in (("eng", "English"), ("fra", "French")):
            cues = [[2 * k + 0.1, 2 * k + 1.9, "%s cue %d" % (label, k + 1)]
                    for k in range(int(entry["duration"] // 2))]
            stamp = lambda t: "%02d:%02d:%06.3f" % (t // 3600, t // 60 % 60, t % 60)
            vtt = "WEBVTT\n\n" + "".join("%s --> %s\n%s\n\n" % (stamp(a), stamp(b), t)
                                         for a, b, t in cues)
            with open(os.path.join(folder, "subtitles_%s.vtt" % lang), "w") as f:
                f.write(vtt)
            text.append({"file": "subtitles_%s.vtt" % lang, "lang": lang, "label": label,
                         "cues": cues, "check_at": SUBS_CHECK_AT})
        ism_path = os.path.join(folder, ism)
        xml = open(ism_path).read()
        streams = "".join('<textstream src="subtitles_%s.vtt" systemBitrate="0" systemLanguage="%s">'
                          '<param name="trackName" value="subtitles_%s" valuetype="data"/>'
                          '</textstream>\n' % (t["lang"], t["lang"], t["lang"]) for t in text)
        if "</switch>" not in xml:
            self.problem("setup", "%s has no </switch> for the side-cars" % ism_path)
            return None
        os.remove(ism_path)  # a link to the ams-encode asset's .ism: written anew, not through it
        with open(ism_path, "w") as f:
            f.write(xml.replace("</switch>", streams + "</switch>"))
        subs = dict(entry, name=SUBS, path="%s/%s" % (SUBS, ism), formats=SUBS_FORMATS,
                    clients=SUBS_CLIENTS, text=text, features=entry["features"] + ["webvtt"])
        subs["description"] = ("the ams-encode asset with English and French WebVTT side-cars "
                               "(<textstream>): HLS subtitle renditions; the players list both "
                               "languages and, paused after a seek to %.1f s, show the English "
                               "side-car's cue at that time" % SUBS_CHECK_AT)
        return subs

    def filtered_entry(self, entry, ism_path):
        """The ams-encode asset as the filters leave it, from its .ism's bitrates (what the filter
        compares) and its ffprobe figures: whole 2 s fragments from 10 s to 20 s."""
        bitrates = {}
        for m in re.finditer(r'<video src="([^"]+)" systemBitrate="(\d+)"', open(ism_path).read()):
            bitrates[m.group(1)] = int(m.group(2))
        kept = [v for v in entry["video"] if bitrates.get(v["file"], 0) <= FILTER_MAX_BITRATE]
        if not kept:
            self.problem("setup", "no rung of %s is below %d bit/s" % (ism_path, FILTER_MAX_BITRATE))
            return None
        first = sorted(kept, key=lambda v: bitrates[v["file"]])[len(kept) // 2]
        seconds = FILTER_END - FILTER_START
        video = [dict(v, frames=int(round(seconds * fraction(v["fps"])))) for v in kept]
        audio = [a for a in entry["audio"] if a["language"] in ("eng", "en")]
        filtered = dict(entry, name=FILTERED, video=video, audio=audio, duration=float(seconds))
        filtered["description"] = ("the ams-encode asset through a locator with filters: %d s to "
                                   "%d s, video up to %d bit/s (%s), English audio, first quality "
                                   "%d bit/s" % (FILTER_START, FILTER_END, FILTER_MAX_BITRATE,
                                                 ",".join("%dp" % v["height"] for v in video),
                                                 bitrates[first["file"]]))
        filtered["features"] = entry["features"] + ["filters"]
        filtered["filters"] = [
            ["asset-filter", "create", "e2e-clip", "--start", str(FILTER_START), "--end",
             str(FILTER_END)],
            ["asset-filter", "create", "e2e-renditions", "--track",
             "Type=Video;Bitrate=0-%d" % FILTER_MAX_BITRATE, "--track", "Type=Audio;Language=en",
             "--first-quality", str(bitrates[first["file"]])],
        ]
        filtered["first_quality_height"] = first["height"]
        # Smooth has no presentation offset (DASH's presentationTimeOffset, HLS's timeline that
        # players start at the first segment): its chunks keep their media times, as AMS's do, so
        # its timeline starts at the first fragment kept, a GOP boundary (2 s GOPs).
        filtered["video_start_by_format"] = {"smooth": float(FILTER_START)}
        return filtered

    # --- Known failures ----------------------------------------------------------------------
    def installed_versions(self):
        v = {}
        m = re.search(r"GStreamer (\S+)", run_text(["gst-inspect-1.0", "--version"]))
        v["gstreamer"] = "gstreamer@" + (m.group(1) if m else "?")
        # The upstream release (5.1.9 of "5.1.9-0+deb12u1"): a distribution's rebuild or security
        # revision does not change what the demuxers do.
        m = re.search(r"ffmpeg version n?([0-9][0-9.]*)", run_text(["ffmpeg", "-version"]))
        v["ffmpeg"] = "ffmpeg@" + (m.group(1) if m else "?")
        modules = os.path.join(self.args.src, "tools", "player", "node_modules")
        for client, folder in [("hls.js", "hls.js"), ("hls.js-1.6", "hls.js-1.6"),
                               ("dash.js", "dashjs"), ("shaka", "shaka-player"),
                               ("shaka-4", "shaka-player-4")]:
            try:
                with open(os.path.join(modules, folder, "package.json")) as f:
                    pkg = json.load(f)
                v[client] = "%s@%s" % (pkg["name"], pkg["version"])
            except (OSError, ValueError, KeyError):
                v[client] = folder + "@?"
        m = re.search(r"Chromium (\S+)", run_text([os.environ.get("AMS_E2E_CHROMIUM", "chromium"),
                                                   "--version"]))
        v["native"] = v["player-page"] = "chromium@" + (m.group(1) if m else "?")
        return v

    def load_known(self, path, versions):
        """known_failures.txt: CLIENT FORMAT[,FORMAT] ASSET-GLOB PACKAGE@VERSION KIND /REGEX/ REASON
        (KIND: known, sometimes or intermittent; lines that start with white space continue the reason)."""
        entries = []
        pattern = re.compile(r"^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(known|sometimes|intermittent)\s+"
                             r"/((?:[^/\\]|\\.)*)/(?:\s+(.*))?$")
        with open(path) as f:
            lines = f.read().split("\n")
        last = None  # the entry the next continuation line belongs to
        for number, line in enumerate(lines, 1):
            if not line.strip() or line.startswith("#"):
                continue
            if line[0].isspace():
                if last is None:
                    self.problem("known_failures.txt", "line %d continues no entry" % number)
                elif last:
                    last["reason"] = (last["reason"] + " " + line.strip()).strip()
                continue
            last = {}  # a line that is no entry: its continuation lines are dropped with it
            m = pattern.match(line)
            if not m:
                self.problem("known_failures.txt", "line %d is not CLIENT FORMAT ASSET "
                             "PACKAGE@VERSION known|sometimes|intermittent /REGEX/ REASON: %s" % (number, line))
                continue
            client, formats, glob, version, kind, regex, reason = m.groups()
            try:
                compiled = re.compile(regex.replace("\\/", "/"))
            except re.error as e:
                self.problem("known_failures.txt", "line %d: bad regex: %s" % (number, e))
                continue
            entry = {"line": number, "client": client, "formats": formats.split(","),
                     "asset": glob, "version": version, "kind": kind, "regex": compiled,
                     "signature": regex, "reason": reason or "", "matched": 0, "covered": 0}
            last = entry
            if client not in CLIENT_ORDER:
                self.problem("known_failures.txt", "line %d: unknown client %s" % (number, client))
                continue
            for fmt in entry["formats"]:
                if fmt not in FORMAT_IDS + [REFERENCE_FORMAT]:
                    self.problem("known_failures.txt", "line %d: unknown format %s" % (number, fmt))
            if version != versions.get(client):
                self.problem("stale entry", "known_failures.txt:%d (%s %s) was seen with %s, "
                             "installed is %s: check it again and update the entry"
                             % (number, client, formats, version, versions.get(client)))
            entries.append(entry)
        for e in entries:
            if not e["reason"]:
                self.problem("known_failures.txt", "line %d gives no reason" % e["line"])
        return entries

    @staticmethod
    def covers(entry, key):
        asset, client, fmt = key
        return (entry["client"] == client and fmt in entry["formats"]
                and fnmatch.fnmatchcase(asset, entry["asset"]))

    def judge(self, row, entries):
        """For a failed try: ('known' | 'retry' | 'unexpected', [(item, [entries])])."""
        key = (row["asset"], row["client"], row["format"])
        items = row.get("errors") or [row.get("error") or "failed, with no error text"]
        judged = []
        for item in items:
            matches = [e for e in entries if self.covers(e, key) and e["regex"].search(item)
                       and (e["kind"] == "intermittent" or not row.get("crashed"))]
            for e in matches:
                e["matched"] += 1
            judged.append((item, matches))
        if any(not m for _, m in judged):
            return "unexpected", judged
        if any(all(e["kind"] == "intermittent" for e in m) for _, m in judged):
            return "retry", judged
        return "known", judged

    # --- The endpoint ------------------------------------------------------------------------
    def start_endpoint(self, assets):
        server_log = os.path.join(self.out, "server.log")
        if self.mode == "serve" and subprocess.call([self.ams, "help", "serve"],
                                                    stdout=subprocess.DEVNULL,
                                                    stderr=subprocess.DEVNULL) != 0:
            self.mode = "static"
        if self.mode == "serve":
            if os.path.exists(self.access_log):
                os.remove(self.access_log)  # the verdict reads this run's answers only
            db = os.path.join(self.out, "ams.db")
            if os.path.exists(db):
                os.remove(db)
            for a in assets:
                folder = a["abspath"] if os.path.isdir(a["abspath"]) else os.path.dirname(a["abspath"])
                name = "e2e-" + a["name"]
                r = subprocess.run([self.ams, "asset", "create", name, "--path", folder, "--db", db],
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    self.problem("setup", "ams asset create %s: %s" % (name, r.stderr.strip()))
                    a["locator"] = str(uuid.uuid4())  # its cases run, and fail, against a 404
                    continue
                filters = []
                for args in a.get("filters", []):
                    f = subprocess.run([self.ams] + args + ["--asset", name, "--db", db],
                                       capture_output=True, text=True)
                    if f.returncode != 0:
                        self.problem("setup", "ams %s: %s" % (" ".join(args), f.stderr.strip()))
                    filters.append(args[2])
                r = subprocess.run([self.ams, "locator", "create", "--asset", name, "--policy",
                                    a.get("policy", "Predefined_ClearStreamingOnly"), "--db", db] +
                                   (["--filters", ",".join(filters)] if filters else []),
                                   capture_output=True, text=True)
                a["locator"] = r.stdout.strip() if r.returncode == 0 else str(uuid.uuid4())
                if r.returncode != 0:
                    self.problem("setup", "ams locator create %s: %s" % (name, r.stderr.strip()))
            cmd = [self.ams, "serve", "--db", db, "--listen", "127.0.0.1:0", "--access-log",
                   self.access_log]
            # The player page lists the locators with the operator's token (#token= in its URL).
            self.operator_token = base64.urlsafe_b64encode(os.urandom(24)).decode()
            token_file = os.path.join(self.out, "operator-token")
            with open(token_file, "w") as f:
                f.write(self.operator_token + "\n")
            cmd += ["--operator-token-file", token_file]
            if "--player-dir" in run_text([self.ams, "serve", "--help"]):
                cmd += ["--player-dir", os.path.join(self.args.src, "tools", "player")]
            pattern = re.compile(r"on http://127\.0\.0\.1:(\d+)/")
        else:
            static = os.path.join(self.out, "static")
            shutil.rmtree(static, ignore_errors=True)
            for a in assets:
                a["locator"] = str(uuid.uuid4())
                with open(os.path.join(self.out, "package.log"), "a") as log:
                    rc = subprocess.call([self.ams, "package", "--format", "all", "--output",
                                          os.path.join(static, a["locator"], a["manifest"] + ".ism"),
                                          a["abspath"]], stdout=log, stderr=subprocess.STDOUT)
                if rc != 0:
                    self.problem("setup", "ams package %s failed (%s)" % (a["name"], log.name))
            cmd = [sys.executable, "-u", "-m", "http.server", "--bind", "127.0.0.1",
                   "--directory", static, "0"]
            pattern = re.compile(r"port (\d+)")
        # Port 0: the server picks a free port and prints its URL (picking one here raced with
        # tests running beside this one).
        log = open(server_log, "w")
        self.server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        port = None
        for _ in range(100):
            m = pattern.search(open(server_log, errors="replace").read())
            if m:
                port = m.group(1)
                break
            time.sleep(0.1)
        if not port:
            print(open(server_log, errors="replace").read())
            raise SystemExit("e2e: the endpoint did not say its port")
        self.origin = "http://127.0.0.1:%s" % port
        for a in assets:
            a["base"] = "%s/%s/%s.ism" % (self.origin, a["locator"], a["manifest"])
        say("%s endpoint: %s (log %s)" % (self.mode, self.origin, server_log))

    def check_first_quality(self, a):
        """The filters' first quality leads the HLS master and the DASH video Representations
        (what a player starts with): read from the manifests as every player gets them."""
        import urllib.request
        want = a["first_quality_height"]
        for fmt in ("hls-v4", "hls-cmaf", "dash-csf"):
            url = a["base"] + "/" + MANIFEST[fmt]
            try:
                text = urllib.request.urlopen(url, timeout=20).read().decode()
            except OSError as e:
                self.problem("filters", "%s: %s" % (url, e))
                continue
            if fmt.startswith("hls"):
                m = re.search(r"#EXT-X-STREAM-INF:[^\n]*RESOLUTION=\d+x(\d+)", text)
            else:
                m = re.search(r"<Representation [^>]*height=\"(\d+)\"", text)
            got = int(m.group(1)) if m else None
            if got != want:
                self.problem("filters", "%s %s: the first video variant is %sp, the filters' first "
                             "quality is %dp" % (a["name"], fmt, got, want))
            else:
                say("filters: %s %s lists the first quality (%dp) first" % (a["name"], fmt, want))

    def stop_endpoint(self):
        if self.server and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(10)
            except subprocess.TimeoutExpired:
                self.server.kill()
        if self.server and self.server.returncode not in (0, -signal.SIGTERM):
            self.problem("crash", "the endpoint exited with %s during the run (%s)"
                         % (describe_exit(self.server.returncode),
                            os.path.join(self.out, "server.log")))

    # --- Rows --------------------------------------------------------------------------------
    def read_rows(self):
        rows = []
        with open(self.results) as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    self.problem("results", "results.jsonl line %d is not JSON: %s" % (number, line[:200]))
        return rows

    def append_row(self, row):
        with open(self.results, "a") as f:
            f.write(json.dumps(row) + "\n")
            f.flush()

    def rows_of(self, key, try_):
        return [r for r in self.read_rows() if (r.get("asset"), r.get("client"), r.get("format")) == key
                and r.get("try") == try_]

    def expectations_env(self, a, fmt):
        v = a["video"]
        return {
            "AMS_E2E_BASE": a["base"], "AMS_E2E_ASSET": a["name"], "AMS_E2E_RESULTS": self.results,
            "AMS_E2E_MANIFEST_ARGS": a.get("manifest_args", ""),
            "AMS_E2E_RUNGS": ",".join("%d:%d" % (x["height"], x["frames"]) for x in v),
            "AMS_E2E_FPS": v[0]["fps"] if v else "0",
            "AMS_E2E_DURATION": "%.6f" % a["duration"],
            "AMS_E2E_VIDEO_START": "%.6f" % a.get("video_start_by_format", {}).get(
                fmt, max(0.0, float(v[0].get("start") or 0)) if v else 0.0),
            "AMS_E2E_FRAGMENT": "%.6f" % a["fragment"],
            "AMS_E2E_TS_SEGMENT": "%.6f" % (a["fragment"] * a.get("fragments_per_segment", 3)),
            "AMS_E2E_SWITCH_SLACK": str(self.switch_slack(a)),
        }

    def switch_slack(self, a):
        """How many frames a switch between video bitrates may show twice or skip: where open GOPs
        make fragment i of one bitrate start a frame or two away from another's (each begins with
        its own leading frames), a player that switches there gets the frames in between from both
        or neither. Read from the index (`ams inspect`): 0 for aligned encodes."""
        if "switch_slack" in a:
            return a["switch_slack"]
        slack = 0
        if "abspath" not in a:
            return slack
        r = subprocess.run([self.ams, "inspect", a["abspath"]], capture_output=True, text=True)
        if r.returncode == 0 and a["video"]:
            video = [t for t in json.loads(r.stdout)["tracks"] if t["type"] == "video"]
            fps = float(fraction(a["video"][0]["fps"]))
            counts = {len(t.get("fragments", [])) for t in video}
            if len(video) > 1 and len(counts) == 1:
                for i in range(counts.pop()):
                    starts = [t["fragments"][i]["start"] for t in video]
                    slack = max(slack, math.ceil((max(starts) - min(starts)) * fps / 1e7 - 1e-6))
        a["switch_slack"] = slack
        return slack

    # A case runs until a try passes, a failure is not intermittent, or MAX_TRIES were used.
    def run_with_retries(self, key, run_try, entries):
        for try_ in range(1, MAX_TRIES + 1):
            run_try(try_)
            rows = self.rows_of(key, try_)
            if len(rows) != 1 or rows[0].get("ok") is not False or rows[0].get("reference"):
                return
            decision, _ = self.judge(rows[0], entries)
            if decision != "retry":
                return
            if try_ < MAX_TRIES:
                say("%s %s %s: try %d failed with a known intermittent failure; trying again"
                    % (key[1], key[0], key[2], try_))

    def gst_try(self, a, fmt, try_):
        key = (a["name"], "gstreamer", fmt)
        env = dict(os.environ, **self.expectations_env(a, fmt), AMS_E2E_TRY=str(try_))
        # GStreamer 1.22 autoplugs its TTML parser only when asked (ttmlparse has rank none
        # otherwise): without it playbin3 fails a DASH stream with an stpp text AdaptationSet with
        # not-negotiated (docs/subtitles.md). What a GStreamer user of subtitles sets.
        env.setdefault("GST_TTML_AUTOPLUG", "1")
        log_path = os.path.join(self.logs, "gstreamer-%s-%s-%d.log" % (a["name"], fmt, try_))
        test = "Formats/GstPlayers.PlaysToTheEndAndSeeks/" + fmt.replace("-", "_")
        with open(log_path, "w") as log:
            p = subprocess.Popen([self.args.gst_test, "--gtest_filter=" + test], env=env,
                                 stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            # Two playbacks, each of which gives up at max(30 s, 3 x the duration), and room.
            limit = 2 * max(30, math.ceil(3 * a["duration"])) + 60
            try:
                rc = p.wait(limit)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                rc = p.wait()
                rc = "timeout"
        with open(log_path, errors="replace") as f:
            text = f.read()
        for line in text.splitlines():
            if not re.match(r"^(\[==========\]|\[----------\]|\[ RUN|\[  PASSED|Note: Google Test|$)", line):
                print("    " + line if not line.startswith("[") else line)
        rows = self.rows_of(key, try_)
        if len(rows) > 1:
            return  # the verdict names the duplicate
        if not rows:
            # The process could not write its row: the harness writes it, as a crash.
            lines = [l for l in text.splitlines()
                     if re.search(r"ERROR|CRITICAL|assert|Bail out|Segmentation|Abort|terminate", l)]
            what = ("killed after %d s without an end" % limit if rc == "timeout"
                    else "ended with %s before it wrote its row" % describe_exit(rc))
            item = "crash: gst_players_test %s%s" % (what, (": " + " / ".join(lines[-6:])) if lines else "")
            self.append_row({"asset": a["name"], "client": "gstreamer", "format": fmt, "try": try_,
                             "ok": False, "crashed": True, "written_by": "run_e2e.py",
                             "url": manifest_url(a, fmt), "log": log_path,
                             "error": item, "errors": [item]})
            say("gstreamer %s %s: CRASH: %s (log %s)" % (a["name"], fmt, item, log_path))
            return
        consistent = (rc == 0 and rows[0]["ok"] is True) or (rc == 1 and rows[0]["ok"] is False)
        if not consistent:
            self.problem("crash", "gst_players_test %s %s try %d exited with %s but its row says ok=%s "
                         "(log %s)" % (a["name"], fmt, try_, describe_exit(rc), rows[0]["ok"], log_path))

    def ffmpeg_try(self, a, fmt, try_):
        url = manifest_url(a, fmt)
        row = {"asset": a["name"], "client": "ffmpeg", "format": fmt, "try": try_, "url": url}
        if fmt == "smooth" and not self.ffmpeg_smooth:
            # A real check, not a list: `ffmpeg -demuxers` has no Smooth Streaming demuxer.
            row.update(ok=None, skipped="ffmpeg has no Smooth Streaming demuxer (ffmpeg -demuxers)")
            self.append_row(row)
            return
        err = os.path.join(self.logs, "ffmpeg-%s-%s-%d.err" % (a["name"], fmt, try_))
        progress = os.path.join(self.logs, "ffmpeg-%s-%s-%d.progress" % (a["name"], fmt, try_))
        if os.path.exists(progress):
            os.remove(progress)
        # AMS fragment URLs have no file extension, which ffmpeg's HLS demuxer refuses by default
        # since the 2023 security fix ("is not in allowed_segment_extensions"): off for HLS.
        picky = ["-extension_picky", "0"] if fmt.startswith("hls-") else []
        maps = ["-map", "0:v:0"] + (["-map", "0:a:0"] if a["audio"] else [])
        t0 = time.time()
        with open(err, "w") as e:
            rc = subprocess.call(["timeout", "120", "ffmpeg", "-nostdin", "-v", "error", "-rw_timeout",
                                  "20000000"] + picky + ["-i", url] + maps +
                                 ["-progress", progress, "-f", "null", "-"], stderr=e)
        wall_ms = int((time.time() - t0) * 1000)
        frames = 0
        if os.path.exists(progress):
            for line in open(progress):
                if line.startswith("frame="):
                    frames = int(line.split("=", 1)[1])
        expected = self.ffmpeg_expected_frames(a, url, picky)
        errors = []
        if rc == 124:
            errors.append("no end within 120 s")
        elif rc != 0:
            errors.append("exit code %d" % rc)
        stderr = open(err, errors="replace").read()
        seen = []
        for line in stderr.splitlines():
            line = re.sub(r"^\[[^\]]*@ 0x[0-9a-f]+\] ", "", line.strip())
            if line and line not in seen:
                seen.append(line)
        errors += ["stderr: " + line for line in seen[:10]]
        if frames != expected and frames < expected and fmt.startswith("dash-") and a["audio"] \
                and rc == 0:
            # ffmpeg's DASH demuxer (libavformat/dashdec.c, dash_read_packet) reads from the
            # representation with the lowest timestamp and returns EOF for the whole input as soon
            # as that one ends: the video frames presented after the audio's last frame are never
            # read. Decode the video alone to tell that from frames missing in our stream.
            alone = os.path.join(self.logs, "ffmpeg-%s-%s-%d-video.progress" % (a["name"], fmt, try_))
            with open(err + ".video", "w") as e:
                subprocess.call(["timeout", "120", "ffmpeg", "-nostdin", "-v", "error", "-rw_timeout",
                                 "20000000", "-i", url, "-map", "0:v:0", "-progress", alone, "-f",
                                 "null", "-"], stderr=e)
            video_frames = 0
            if os.path.exists(alone):
                for line in open(alone):
                    if line.startswith("frame="):
                        video_frames = int(line.split("=", 1)[1])
            if video_frames == expected:
                errors.append("%d video frames with the audio mapped, all %d with the video alone"
                              % (frames, video_frames))
            else:
                errors.append("%d video frames, expected %s (video alone: %d)"
                              % (frames, expected, video_frames))
        elif frames != expected:
            errors.append("%d video frames, expected %s" % (frames, expected))
        row.update(ok=not errors, frames=frames, wall_ms=wall_ms, error=" | ".join(errors),
                   errors=errors, stderr=stderr[:2000])
        self.append_row(row)
        if errors:
            say("ffmpeg    %s %s: FAILED (%s) %s" % (a["name"], fmt, row["error"][:500], url))
        else:
            say("ffmpeg    %s %s: %d frames decoded in %d ms" % (a["name"], fmt, frames, wall_ms))

    def ffmpeg_expected_frames(self, a, url, picky):
        counts = {v["frames"] for v in a["video"]}
        if len(counts) == 1:
            return counts.pop()
        # Rungs of different frame counts: the one ffmpeg maps as 0:v:0, by its height.
        out = run_text(["ffprobe", "-v", "error"] + picky + ["-select_streams", "v:0", "-show_entries",
                                                             "stream=height", "-of", "csv=p=0", url])
        heights = {v["height"]: v["frames"] for v in a["video"]}
        try:
            return heights[int(out.split()[0])]
        except (ValueError, IndexError, KeyError):
            return "the frames of one rung (ffprobe could not say which rung ffmpeg plays)"

    # --- Browsers ----------------------------------------------------------------------------
    def make_reference(self, a):
        """ffmpeg's own HLS (MPEG-TS, alternate audio) of the asset's MP4s: the browsers' control."""
        out = os.path.join(self.out, "reference", a["name"])
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        r = subprocess.run([self.ams, "inspect", "--no-fragments", a["abspath"]], capture_output=True,
                           text=True)
        if r.returncode != 0:
            return None, "ams inspect failed: " + r.stderr.strip()[:300]
        tracks = [t for t in json.loads(r.stdout)["tracks"] if t["type"] in ("video", "audio")]
        folder = a["abspath"] if os.path.isdir(a["abspath"]) else os.path.dirname(a["abspath"])
        inputs, maps, streams, v, n_audio = [], [], [], 0, 0
        for t in tracks:
            inputs += ["-i", os.path.join(folder, t["file"])]
            maps += ["-map", "%d:%d" % (len(inputs) // 2 - 1, t["trackId"] - 1)]
            if t["type"] == "video":
                streams.append("v:%d,agroup:aud" % v)
                v += 1
            else:
                streams.append("a:%d,agroup:aud,language:%s%s" % (n_audio, t["language"],
                                                                  ",default:yes" if n_audio == 0 else ""))
                n_audio += 1
        log = os.path.join(self.logs, "reference-%s.log" % a["name"])
        with open(log, "w") as f:
            rc = subprocess.call(["ffmpeg", "-nostdin", "-v", "error"] + inputs + maps +
                                 ["-c", "copy", "-f", "hls", "-hls_time",
                                  "%.6f" % (a["fragment"] * a.get("fragments_per_segment", 3)),
                                  "-hls_playlist_type", "vod", "-hls_segment_type", "mpegts",
                                  "-var_stream_map", " ".join(streams), "-master_pl_name",
                                  "master.m3u8", "-hls_segment_filename",
                                  os.path.join(out, "s%v_%03d.ts"), os.path.join(out, "p%v.m3u8")],
                                 stdout=f, stderr=subprocess.STDOUT)
        if rc != 0:
            return None, "ffmpeg's HLS muxer failed: " + open(log, errors="replace").read()[:300]
        return out, None

    def browser_round(self, cases, assets_by_name, try_):
        """Runs browsers.mjs once over `cases` [(asset, client, format)], try number `try_`."""
        plan = {"origin": self.origin, "operatorToken": getattr(self, "operator_token", ""),
                "results": self.results, "out": self.out, "try": try_,
                "static": self.mode == "static", "cases": [], "assets": {}}
        for asset, client, fmt in cases:
            a = assets_by_name[asset]
            plan["cases"].append({"asset": asset, "client": client, "format": fmt})
            if asset not in plan["assets"]:
                plan["assets"][asset] = {
                    "base": a["base"], "fragment": a["fragment"],
                    "video_duration": (a["video"][0]["frames"] / fraction(a["video"][0]["fps"])
                                       if a["video"] else a["duration"]),
                    "duration": a["duration"], "heights": sorted({v["height"] for v in a["video"]}),
                    "languages": sorted({x["language"] for x in a["audio"]}),
                    "codecs_playable_in_chromium": a["codecs_playable_in_chromium"],
                    "reference": a.get("reference"), "reference_error": a.get("reference_error"),
                    "args": a.get("manifest_args", ""),
                    "text": [t for t in a.get("text", []) if t.get("cues")],
                }
        plan_path = os.path.join(self.out, "browser-plan-%d.json" % try_)
        with open(plan_path, "w") as f:
            json.dump(plan, f, indent=2)
        rc = subprocess.call(["node", os.path.join(self.args.here, "browsers.mjs"), "--plan", plan_path,
                              "--player", os.path.join(self.args.src, "tools", "player")])
        if rc != 0:
            self.problem("crash", "browsers.mjs exited with %s (try %d): the rows it did not write are "
                         "missing" % (describe_exit(rc), try_))

    # --- The run -----------------------------------------------------------------------------
    def expected_rows(self, assets):
        rows = []
        cases = [(c, f) for c, f in BROWSER_CASES if self.full or c not in FULL_ONLY_CLIENTS]
        for a in assets:
            served = a.get("formats", FORMAT_IDS + [REFERENCE_FORMAT])
            only = a.get("clients")  # an asset only some clients can play (CENC: EME players)
            if only is not None:
                rows += [(a["name"], client, f) for client, formats in cases
                         if client in only and "browsers" in self.clients for f in formats
                         if f in served and (not self.browser_only
                                             or "%s:%s" % (client, f) in self.browser_only)]
                # The player page's Subtitles menu, on the asset with side-cars.
                if a["name"] == SUBS and "browsers" in self.clients and (
                        not self.browser_only or "player-page" in self.browser_only):
                    rows.append((a["name"],) + PLAYER_PAGE)
                continue
            if "gstreamer" in self.clients:
                rows += [(a["name"], "gstreamer", f) for f in FORMAT_IDS if f in served]
            if "ffmpeg" in self.clients:
                rows += [(a["name"], "ffmpeg", f) for f in FORMAT_IDS if f in served]
            if "browsers" in self.clients and a["browsers"]:
                for client, formats in cases:
                    rows += [(a["name"], client, f) for f in formats if f in served
                             and (not self.browser_only or "%s:%s" % (client, f) in self.browser_only)]
                if a["name"] == AMS_ENCODE and (not self.browser_only or "player-page" in self.browser_only):
                    rows.append((a["name"],) + PLAYER_PAGE)
        return rows

    def run(self):
        os.makedirs(self.logs, exist_ok=True)
        open(self.results, "w").close()
        versions = self.installed_versions()
        say("installed: " + ", ".join("%s %s" % kv for kv in sorted(versions.items())))
        entries = self.load_known(os.path.join(self.args.here, "known_failures.txt"), versions)

        # The assets: `ams encode`'s, then the corpus's.
        directories = [os.path.join(self.out, "ams-encode-corpus")] + self.args.corpus
        assets = []
        encode = None
        for d in directories:
            if d == directories[0]:
                continue
            assets += [a for a in self.load_corpus(d)
                       if self.full or a.get("set", "quick") == "quick" or self.args.all_sets]
        names = list(MADE) + [a["name"] for a in assets]
        if len(set(names)) != len(names):
            raise SystemExit("e2e: asset names are not unique: %s" % names)
        wanted = lambda n: not self.asset_globs or any(fnmatch.fnmatchcase(n, g) for g in self.asset_globs)
        assets = [a for a in assets if wanted(a["name"])]
        # The two assets made here (`ams encode`'s and the same through filters) are expected
        # before they exist: if they cannot be made, their rows are missing and the suite fails.
        made = [n for n in MADE if wanted(n)]
        shapes = {AES: {"formats": AES_FORMATS},
                  CENC: {"formats": CENC_FORMATS, "clients": CENC_CLIENTS},
                  CBCS: {"formats": CBCS_FORMATS, "clients": CENC_CLIENTS},
                  SUBS: {"formats": SUBS_FORMATS, "clients": SUBS_CLIENTS}}
        placeholders = [dict({"name": n, "browsers": True}, **shapes.get(n, {})) for n in made]
        expected = self.expected_rows(placeholders + assets)
        with open(os.path.join(self.out, "expected.json"), "w") as f:
            json.dump([list(k) for k in expected], f, indent=1)
        say("expecting %d rows: %d assets (%s), clients: %s" % (
            len(expected), len(assets) + len(made),
            ", ".join(made + [a["name"] for a in assets]), " ".join(sorted(self.clients))))

        if made:
            encode = self.ams_encode_entry(directories[0])
            if encode:
                assets = [a for a in self.load_corpus(encode) if a["name"] in made] + assets
            else:
                self.problem("setup", "ams encode failed: the %s rows will be missing" % ", ".join(made))
        for a in assets:
            a["fragments_per_segment"] = fragments_per_segment(self.ams, a["abspath"])

        t_start = time.time()
        try:
            self.start_endpoint(assets)
            for a in assets:
                if "first_quality_height" in a:
                    self.check_first_quality(a)
            self.ffmpeg_smooth = "smoothstreaming" in [l.split()[1] for l in run_text(
                ["ffmpeg", "-hide_banner", "-demuxers"]).splitlines() if re.match(r"^\s*D", l)]
            expected_set = set(expected)
            for a in assets:
                for fmt in FORMAT_IDS:
                    if (a["name"], "gstreamer", fmt) in expected_set:
                        self.run_with_retries((a["name"], "gstreamer", fmt),
                                              lambda t, a=a, fmt=fmt: self.gst_try(a, fmt, t), entries)
                for fmt in FORMAT_IDS:
                    if (a["name"], "ffmpeg", fmt) in expected_set:
                        self.run_with_retries((a["name"], "ffmpeg", fmt),
                                              lambda t, a=a, fmt=fmt: self.ffmpeg_try(a, fmt, t), entries)
            browser_cases = [k for k in expected if k[1] not in ("gstreamer", "ffmpeg")]
            if browser_cases:
                self.browsers(browser_cases, assets, entries)
        finally:
            self.stop_endpoint()
        say("clients ran for %.0f s" % (time.time() - t_start))
        return self.verdict(expected, entries, versions, assets)

    def browsers(self, cases, assets, entries):
        problems = []
        if not os.path.isdir(os.path.join(self.args.here, "node_modules", "playwright-core")) or \
           not os.path.isdir(os.path.join(self.args.src, "tools", "player", "node_modules")):
            problems.append("npm packages missing: run scripts/setup.sh (npm ci in tests/e2e and tools/player)")
        if not shutil.which(os.environ.get("AMS_E2E_CHROMIUM", "chromium")):
            problems.append("chromium is not installed: run scripts/setup.sh")
        if problems:
            for p in problems:
                self.problem("setup", p)
            return
        by_name = {a["name"]: a for a in assets}
        for name in sorted({c[0] for c in cases if c[2] == REFERENCE_FORMAT}):
            if name in by_name:
                ref, error = self.make_reference(by_name[name])
                by_name[name]["reference"], by_name[name]["reference_error"] = ref, error
                say("reference: ffmpeg's HLS of %s: %s" % (name, ref or error))
        todo = [c for c in cases if c[0] in by_name]
        for try_ in range(1, MAX_TRIES + 1):
            if not todo:
                break
            self.browser_round(todo, by_name, try_)
            again = []
            for key in todo:
                rows = self.rows_of(key, try_)
                if len(rows) == 1 and rows[0].get("ok") is False and not rows[0].get("reference") \
                        and self.judge(rows[0], entries)[0] == "retry":
                    again.append(key)
            if again and try_ < MAX_TRIES:
                say("browsers: %d cases failed with a known intermittent failure on try %d; trying "
                    "them again: %s" % (len(again), try_, ", ".join("%s %s %s" % k for k in again)))
            todo = again

    def server_errors(self, assets):
        """Every 5xx the endpoint answered in this run is a defect of ours, even when the client
        that got it recovered (a retry, another rung) and its row passed."""
        if self.mode != "serve" or not os.path.exists(self.access_log):
            return
        names = {a.get("locator"): a["name"] for a in assets}
        line_re = re.compile(r'"(\S+) (\S+) HTTP/[\d.]+" (\d{3}) ')
        errors = []
        with open(self.access_log, errors="replace") as f:
            for line in f:
                m = line_re.search(line)
                if m and m.group(3).startswith("5"):
                    locator = m.group(2).split("/")[1] if m.group(2).count("/") > 1 else ""
                    errors.append("%s %s %s (asset %s)" % (m.group(3), m.group(1), m.group(2),
                                                           names.get(locator, "?")))
        for e in errors[:20]:
            self.problem("server error", e)
        if len(errors) > 20:
            self.problem("server error", "and %d more 5xx answers (%s)" % (len(errors) - 20, self.access_log))

    def licences_fetched(self, final):
        """A CENC row that passed played decrypted media, so its player fetched a licence: the
        endpoint answered at least as many ClearKey licence requests with 200 as such rows passed
        (a row cannot pass on clear bytes or a cached key by accident)."""
        passed = sum(1 for v in final if v.get("verdict") == "pass" and v.get("asset") in LICENSED)
        if not passed or self.mode != "serve" or not os.path.exists(self.access_log):
            return
        licences = 0
        with open(self.access_log, errors="replace") as f:
            for line in f:
                if '"POST /keydelivery/clearkey/ HTTP/' in line and re.search(r'HTTP/[\d.]+" 200 ', line):
                    licences += 1
        if licences < passed:
            self.problem("licence", "%d CENC/CBCS rows passed but the endpoint answered %d ClearKey licence "
                         "requests (%s)" % (passed, licences, self.access_log))
        else:
            say("ClearKey licences answered: %d, for %d CENC/CBCS rows passed" % (licences, passed))

    # --- The verdict -------------------------------------------------------------------------
    def verdict(self, expected, entries, versions, assets):
        for e in entries:
            e["matched"] = e["covered"] = 0  # counted again over every row and try
        rows = self.read_rows()
        by_key = {}
        for r in rows:
            key = (r.get("asset"), r.get("client"), r.get("format"))
            by_key.setdefault(key, []).append(r)
        expected_set = set(expected)
        for key in sorted(set(by_key) - expected_set, key=str):
            self.problem("unexpected row", "%s %s %s: a row nobody expected" % key)
        final = []
        counts = {"pass": 0, "known": 0, "n/a": 0, "fail": 0, "missing": 0, "control": 0}
        asset_info = {a["name"]: a for a in assets}
        for key in expected:
            tries = sorted(by_key.get(key, []), key=lambda r: r.get("try", 0))
            numbers = [r.get("try") for r in tries]
            for e in entries:
                if self.covers(e, key) and tries:
                    e["covered"] += 1
            v = {"asset": key[0], "client": key[1], "format": key[2], "tries": len(tries)}
            if not tries:
                v.update(verdict="missing", error="no row: the case did not run or its client died")
                self.problem("missing row", "%s %s %s" % key)
                counts["missing"] += 1
                final.append(v)
                continue
            numbered = numbers == list(range(1, len(tries) + 1))
            if not numbered:
                self.problem("duplicate row", "%s %s %s: tries %s, expected 1..n once each" % (key + (numbers,)))
            last = tries[-1]
            earlier = [{"try": r.get("try"), "error": r.get("error", "")[:500]} for r in tries[:-1]]
            v.update(url=last.get("url"), earlier=earlier, summary=summary_of(last))
            for r in tries[:-1] if numbered else []:
                # Only a failure that an intermittent entry matches is tried again.
                if r.get("ok") is not False or r.get("reference") or self.judge(r, entries)[0] != "retry":
                    self.problem("retry", "%s %s %s try %d was tried again, but it is not an "
                                 "intermittent failure" % (key + (r.get("try"),)))
            info = asset_info.get(key[0], {})
            if last.get("unsupported") == [] and info.get("codecs_playable_in_chromium") is False:
                self.problem("corpus", "%s %s %s: the corpus says Chromium cannot decode this asset, but "
                             "MediaSource.isTypeSupported accepts every codec of its manifest (%s)"
                             % (key + (", ".join(last.get("codecs", [])),)))
            if last.get("reference"):
                v.update(verdict="control", ok=last.get("ok"), error=last.get("error") or last.get("skipped", ""))
                counts["control"] += 1
            elif last.get("ok") is True:
                v.update(verdict="pass")
                counts["pass"] += 1
                if earlier:
                    say("PASSED ON TRY %d %s %s %s (earlier: %s)" % (len(tries), key[0], key[1], key[2],
                                                                     " || ".join(e["error"][:300] for e in earlier)))
            elif last.get("ok") is None:
                why = last.get("skipped") or last.get("unsupported_reason") or "skipped"
                if last.get("unsupported") and info.get("codecs_playable_in_chromium") is True:
                    v.update(verdict="fail", error="Chromium refuses %s (MediaSource.isTypeSupported) but the "
                             "corpus says the asset plays in Chromium" % ", ".join(last["unsupported"]))
                    self.problem("failure", "%s %s %s: %s" % (key + (v["error"],)))
                    counts["fail"] += 1
                else:
                    v.update(verdict="n/a", error=why)
                    counts["n/a"] += 1
            else:
                decision, judged = self.judge(last, entries)
                v["error"] = last.get("error", "")
                v["items"] = [{"item": i, "entries": [m["line"] for m in ms]} for i, ms in judged]
                if decision == "known":
                    lines = sorted({m["line"] for _, ms in judged for m in ms})
                    v.update(verdict="known", known=[{"line": m["line"], "version": m["version"],
                                                       "reason": m["reason"]}
                                                      for m in entries if m["line"] in lines])
                    counts["known"] += 1
                    say("KNOWN FAILURE %s %s %s: %s (known_failures.txt:%s)" % (
                        key + (v["error"][:300], ",".join(map(str, lines)))))
                else:
                    v["verdict"] = "fail"
                    counts["fail"] += 1
                    unmatched = [i for i, ms in judged if not ms]
                    why = ("%d tries, each failed" % len(tries) if decision == "retry"
                           else "not in known_failures.txt: " + " | ".join(unmatched)[:800])
                    self.problem("failure", "%s %s %s (%d %s): %s" % (
                        key + (len(tries), "try" if len(tries) == 1 else "tries", why)))
                    for r in tries:
                        if r.get("crashed"):
                            self.problem("crash", "%s %s %s try %d: %s" % (key + (r["try"], r["error"][:400])))
            final.append(v)
        self.server_errors(assets)
        self.licences_fetched(final)
        # Entries that matched nothing among the rows they cover.
        unused = []
        for e in entries:
            if e["covered"] and not e["matched"]:
                unused.append(e)
                text = "known_failures.txt:%d (%s %s %s /%s/) matched no failure in the %d rows it covers" % (
                    e["line"], e["client"], ",".join(e["formats"]), e["asset"], e["signature"], e["covered"])
                if e["kind"] in ("intermittent", "sometimes"):
                    say("did not occur this run (%s): %s" % (e["kind"], text))
                elif self.full:
                    self.problem("unused entry", text + ": remove it, or fix its signature")
                else:
                    say("UNUSED ENTRY (fails a full run): " + text)
        bad = len(self.problems)
        verdict = {
            "date": time.strftime("%Y-%m-%d"), "full": self.full, "mode": self.mode,
            "versions": versions,
            "assets": [{k: a.get(k) for k in ("name", "set", "description", "features", "browsers",
                                               "codecs_playable_in_chromium", "duration", "fragment")}
                       | {"heights": [v["height"] for v in a["video"]],
                          "languages": [x["language"] for x in a["audio"]],
                          "codecs": sorted({x["codec"] for x in a["audio"]})}
                       for a in assets],
            "rows": final, "counts": counts, "problems": [{"kind": k, "text": t} for k, t in self.problems],
            "known_failures": [{"line": e["line"], "client": e["client"], "formats": e["formats"],
                                "asset": e["asset"], "version": e["version"], "kind": e["kind"],
                                "signature": e["signature"], "reason": e["reason"],
                                "matched": e["matched"], "covered": e["covered"]} for e in entries],
        }
        try:
            with open(os.path.join(self.out, "chromium.json")) as f:
                verdict["chromium"] = json.load(f)
        except (OSError, ValueError):
            pass
        with open(os.path.join(self.out, "verdict.json"), "w") as f:
            json.dump(verdict, f, indent=1)
        r = subprocess.run(["node", os.path.join(self.args.here, "matrix.mjs"),
                            os.path.join(self.out, "verdict.json")], capture_output=True, text=True)
        if r.returncode == 0:
            with open(os.path.join(self.out, "matrix.md"), "w") as f:
                f.write(r.stdout)
            print(r.stdout)
        else:
            self.problem("matrix", "matrix.mjs failed: " + r.stderr.strip()[:500])
            bad = len(self.problems)
        tries = sum(v["tries"] for v in final)
        say("%d rows expected: %d passed, %d known failures, %d n/a, %d failed, %d missing, %d controls; "
            "%d tries" % (len(expected), counts["pass"], counts["known"], counts["n/a"], counts["fail"],
                          counts["missing"], counts["control"], tries))
        # The line scripts/test.sh counts.
        say("%d cases passed, %d known failures, %d unexpected" % (counts["pass"], counts["known"], bad))
        say("results: %s, verdict: %s" % (self.results, os.path.join(self.out, "verdict.json")))
        return 1 if bad else 0


def fraction(text):
    n, _, d = str(text).partition("/")
    return float(n) / float(d or 1)


def run_text(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


def describe_exit(rc):
    if rc == "timeout":
        return "a timeout"
    if isinstance(rc, int) and rc < 0:
        try:
            return "signal %d (%s)" % (-rc, signal.Signals(-rc).name)
        except ValueError:
            return "signal %d" % -rc
    return "exit code %s" % rc


def ffprobe_streams(path):
    out = run_text(["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", path])
    return json.loads(out or "{}").get("streams", [])


def fragments_per_segment(ams, path):
    """The origin's fragments per HLS v3/v4 segment for this asset (an origin setting, not media)."""
    try:
        return int(json.loads(run_text([ams, "inspect", "--no-fragments", path]))["fragmentsPerHlsSegment"])
    except (ValueError, KeyError, TypeError):
        return 3


def summary_of(row):
    keep = ("frames", "ttff_ms", "switches", "heights", "duration", "seek_landed", "checks", "wall_ms",
            "levels", "audio", "demuxer", "unsupported", "codecs")
    return {k: row[k] for k in keep if k in row}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--gst-test", required=True)
    p.add_argument("--build", required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--corpus", action="append", default=[], help="a folder with corpus.json")
    p.add_argument("--all-sets", action="store_true", help="play the full set's assets too")
    args = p.parse_args()
    args.here = os.path.dirname(os.path.abspath(__file__))
    os.makedirs(args.out, exist_ok=True)
    suite = Suite(args)
    sys.exit(suite.run())


if __name__ == "__main__":
    main()
