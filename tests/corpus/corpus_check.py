#!/usr/bin/env python3
"""The format-level checks of every corpus asset against a running `ams serve`.

    corpus_check.py --corpus DIR/corpus.json --published FILE --origin http://127.0.0.1:PORT
                    --ams AMS --work DIR --schemas DIR --hls-strict tests/corpus/hls_strict.mjs

--published lists "NAME<TAB>LOCATOR" per published asset (check_corpus.sh writes it). Prints one
line `[ corpus ] ASSET CHECK: ok|FAILED (why)` per asset and check and a final count; exits 1 on
any failure. What each check does is written down in docs/corpus.md.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import traceback
import urllib.parse
import xml.etree.ElementTree as ET
from fractions import Fraction

import media
from manifests import (HLS_TYPE, Master, Named, Playlist, dash_urls, fmp4_type, is_audio_codecs,
                       smooth_urls)
from media import MediaError

FORMATS = [  # (id, manifest selector)
    ("smooth", "manifest"),
    ("hls-v4", "manifest(format=m3u8-aapl)"),
    ("hls-v3", "manifest(format=m3u8-aapl-v3)"),
    ("hls-cmaf", "manifest(format=m3u8-cmaf)"),
    ("dash-csf", "manifest(format=mpd-time-csf)"),
    ("dash-cmaf", "manifest(format=mpd-time-cmaf)"),
]
MANIFEST_TYPES = {"smooth": "application/vnd.ms-sstr+xml", "dash": "application/dash+xml",
                  "hls": "application/vnd.apple.mpegurl"}
MAX_REQUESTS = 20000  # per asset: a manifest that names more than this is itself a failure
AUDIO_FRAME = {"aac": 1024, "ac3": 1536, "eac3": 1536}


def say(asset, check, ok, why=""):
    print("[ corpus ] %s %s: %s" % (asset, check, "ok" if ok else "FAILED (%s)" % why),
          flush=True)


def summary(problems, limit=3):
    text = "; ".join(problems[:limit])
    if len(problems) > limit:
        text += "; and %d more" % (len(problems) - limit)
    return text


class Response:
    def __init__(self, url, status, headers, body, error=None):
        self.url, self.status, self.headers, self.body, self.error = (url, status, headers, body,
                                                                      error)

    @property
    def content_type(self):
        return (self.headers.get("content-type") or "").split(";")[0].strip().lower()

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


class Client:
    """GETs over one keep-alive connection; every answer is kept (per URL) for the checks."""

    def __init__(self, origin):
        u = urllib.parse.urlsplit(origin)
        self.host, self.port = u.hostname, u.port
        self.conn = None
        self.cache = {}
        self.count = 0

    def get(self, url):
        if url in self.cache:
            return self.cache[url]
        self.count += 1
        if self.count > MAX_REQUESTS:
            raise RuntimeError("more than %d requests for one asset" % MAX_REQUESTS)
        path = urllib.parse.urlsplit(url)
        target = path.path + ("?" + path.query if path.query else "")
        last = None
        for _ in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=90)
                self.conn.request("GET", target)
                r = self.conn.getresponse()
                body = r.read()
                headers = {k.lower(): v for k, v in r.getheaders()}
                if headers.get("connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                resp = Response(url, r.status, headers, body)
                self.cache[url] = resp
                return resp
            except (OSError, http.client.HTTPException) as e:
                last = e
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
        resp = Response(url, 0, {}, b"", error="%s: %s" % (type(last).__name__, last))
        self.cache[url] = resp
        return resp


# --- the asset under test ---------------------------------------------------------------------

class AssetRun:
    def __init__(self, args, entry, locator, client):
        self.args, self.entry, self.client = args, entry, client
        self.name = entry["name"]
        self.base = "%s/%s/%s.ism/" % (args.origin.rstrip("/"), locator, entry["manifest"])
        self.locator = locator
        self.results = []
        self.manifests = {}  # format id -> Response
        self.playlists = {}  # url -> (Playlist, format id, kind "video"|"audio"|"iframes")
        self.masters = {}  # format id -> Master
        self.named = []  # Named
        self.timelines = {}  # format id -> {(kind, name, bitrate): [(start, duration)]}
        self.inits = {}  # url -> InitTrack or MediaError

    def report(self, check, problems):
        ok = not problems
        say(self.name, check, ok, summary(problems))
        self.results.append((check, ok))
        # Every problem, not only the first three of the line above.
        with open(os.path.join(self.work, check + ".txt"), "w") as f:
            f.write("".join(p + "\n" for p in problems) or "ok\n")

    def missing(self, formats):
        """Why the inputs of a check over `formats` are incomplete: a master manifest or a
        media playlist that did not answer 200 (a check must not pass on what it never saw)."""
        out = []
        for fid in formats:
            r = self.manifests[fid]
            if r.status != 200:
                out.append("%s: no manifest (%s)" % (fid, r.status or r.error))
            for url in self.playlist_urls(fid):
                if url not in self.playlists:
                    out.append("%s %s: no playlist (%s)" % (fid, short(url),
                                                           self.client.get(url).status))
        return out

    def unavailable(self, named):
        """Problems for the media of `named` that did not answer 200."""
        bad = [n for n in named if self.client.get(n.url).status != 200]
        if not bad:
            return []
        return ["%d of %d segments could not be fetched, first %s %s (%s)" % (
            len(bad), len(named), bad[0].fmt, short(bad[0].url), self.client.get(bad[0].url).status)]

    # -- fetch and list ------------------------------------------------------------------------
    def discover(self):
        for fid, selector in FORMATS:
            r = self.client.get(self.base + selector)
            self.manifests[fid] = r
            if r.status != 200:
                continue
            try:
                if fid == "smooth":
                    named, tl = smooth_urls(self.base, r.text)
                    self.named += named
                    self.timelines[fid] = tl
                elif fid.startswith("dash"):
                    named, tl = dash_urls(r.url, r.text, fid)
                    self.named += named
                    self.timelines[fid] = tl
                else:
                    self.discover_hls(fid, r)
            except (ET.ParseError, ValueError, KeyError) as e:
                self.manifests[fid] = Response(r.url, r.status, r.headers, r.body,
                                               error="unreadable: %s" % e)

    def discover_hls(self, fid, r):
        master = Master(r.url, r.text)
        self.masters[fid] = master
        lists = []
        for a in master.media:
            if "URI" in a:
                lists.append((a["URI"], a.get("TYPE", "").lower(), a.get("NAME", "")))
        for a, uri in master.variants:
            lists.append((uri, "audio" if is_audio_codecs(a.get("CODECS", "")) else "video",
                          uri))
        for a in master.iframes:
            lists.append((a["URI"], "iframes", a["URI"]))
        for uri, kind, track in lists:
            if uri in self.playlists:
                continue
            self.named.append(Named(uri, HLS_TYPE, "playlist", track, fid))
            pr = self.client.get(uri)
            if pr.status != 200:
                continue
            pl = Playlist(uri, pr.text)
            self.playlists[uri] = (pl, fid, kind)
            media_kind = "audio" if kind in ("audio", "subtitles") else "video"
            seg_type = "video/mp2t" if fid != "hls-cmaf" else fmp4_type(media_kind)
            if kind == "subtitles":
                seg_type = "text/vtt"
            if pl.map:
                self.named.append(Named(pl.map, fmp4_type(media_kind), "init", uri, fid))
            for i, (seg, _, start) in enumerate(pl.segments):
                self.named.append(Named(seg, seg_type, "keyframe" if kind == "iframes" else
                                        "segment", uri, fid, i, start))

    def fetch_all(self):
        for n in self.named:
            self.client.get(n.url)

    def body(self, url):
        r = self.client.get(url)
        return r.body if r.status == 200 else None

    def init_for(self, url):
        if url not in self.inits:
            data = self.body(url)
            try:
                if data is None:
                    raise MediaError("init segment answered %d" % self.client.get(url).status)
                self.inits[url] = media.parse_init(data)
            except (MediaError, IndexError, struct.error) as e:
                self.inits[url] = MediaError("init %s: %s" % (short(url), e))
        return self.inits[url]

    # -- checks -------------------------------------------------------------------------------
    def check_inspect(self):
        path = os.path.join(self.args.corpus_dir, self.entry["path"])
        p = subprocess.run([self.args.ams, "inspect", path], capture_output=True, text=True,
                           timeout=120)
        problems = []
        if p.returncode != 0:
            return self.report("inspect", ["exit status %d%s: %s" % (
                p.returncode, " (signal %d)" % -p.returncode if p.returncode < 0 else "",
                p.stderr.strip()[-300:])])
        try:
            doc = json.loads(p.stdout)
        except ValueError as e:
            return self.report("inspect", ["not JSON: %s" % e])
        tracks = doc.get("tracks", [])
        by = {k: [t for t in tracks if t.get("type") == k] for k in ("video", "audio", "text")}
        for kind in ("video", "audio", "text"):
            if len(by[kind]) != len(self.entry[kind]):
                problems.append("%d %s tracks, the asset has %d" % (len(by[kind]), kind,
                                                                    len(self.entry[kind])))
        for t in by["video"]:
            want = [v["frames"] for v in self.entry["video"] if v["file"] == t.get("file")]
            if want and t.get("samples") != want[0]:
                problems.append("%s: %s samples, ffprobe counts %d frames"
                                % (t.get("file"), t.get("samples"), want[0]))
        self.report("inspect", problems)

    def check_manifests(self):
        problems = []
        for fid, _ in FORMATS:
            r = self.manifests[fid]
            want = MANIFEST_TYPES[fid.split("-")[0]]
            if r.status != 200:
                problems.append("%s answered %s%s" % (fid, r.status or r.error,
                                                      ": " + error_text(r) if r.body else ""))
            elif r.content_type != want:
                problems.append("%s: Content-Type %r, expected %s" % (fid, r.content_type, want))
            elif r.error:
                problems.append("%s: %s" % (fid, r.error))
        self.report("manifests", problems)

    def check_dash_schema(self):
        problems = []
        schema = os.path.join(self.args.schemas, "DASH-MPD.xsd")
        catalog = os.path.join(self.args.schemas, "catalog.xml")
        if not (os.path.isfile(schema) and os.path.isfile(catalog)):
            return self.report("dash-schema", ["the DASH schema is absent (%s)" % schema])
        for fid in ("dash-csf", "dash-cmaf"):
            r = self.manifests[fid]
            if r.status != 200:
                problems.append("%s: no MPD (%s)" % (fid, r.status or r.error))
                continue
            path = os.path.join(self.work, fid + ".mpd")
            with open(path, "wb") as f:
                f.write(r.body)
            env = dict(os.environ, XML_CATALOG_FILES=catalog)
            p = subprocess.run(["xmllint", "--noout", "--nonet", "--schema", schema, path],
                               env=env, capture_output=True, text=True, timeout=120)
            if p.returncode != 0:
                errors = [line.replace(path + ":", "line ") for line in p.stderr.splitlines()
                          if "validates" not in line and "fails to validate" not in line]
                problems.append("%s: %s" % (fid, summary(errors, 2) or "xmllint exit %d"
                                            % p.returncode))
        self.report("dash-schema", problems)

    def hls_texts(self):
        out = []
        for fid in ("hls-v4", "hls-v3", "hls-cmaf"):
            r = self.manifests[fid]
            if r.status == 200:
                out.append((r.url, r.body))
        for url, (pl, _, _) in self.playlists.items():
            out.append((url, pl.text.encode()))
        return out

    def check_hls_strict(self):
        problems = []
        if not all(self.manifests[f].status == 200 for f in ("hls-v4", "hls-v3", "hls-cmaf")):
            problems.append("not every HLS master playlist could be fetched")
        texts = self.hls_texts()
        for fid in self.masters:
            missing = [u for u in self.playlist_urls(fid) if u not in self.playlists]
            if missing:
                problems.append("%s: %d playlists answered no 200 (%s)" % (
                    fid, len(missing), short(missing[0])))
        folder = os.path.join(self.work, "hls")
        os.makedirs(folder, exist_ok=True)
        paths = {}
        for i, (url, body) in enumerate(texts):
            path = os.path.join(folder, "%04d.m3u8" % i)
            with open(path, "wb") as f:
                f.write(body)
            paths[path] = url
        if paths:
            p = subprocess.run(["node", self.args.hls_strict] + list(paths), capture_output=True,
                               text=True, timeout=300)
            seen = set()
            for line in p.stdout.splitlines():
                try:
                    res = json.loads(line)
                except ValueError:
                    continue
                seen.add(res["file"])
                if not res["ok"]:
                    problems.append("%s: %s" % (short(paths[res["file"]]), res["error"]))
            if p.returncode != 0 or seen != set(paths):
                problems.append("hls-parser did not report on every playlist (exit %d: %s)"
                                % (p.returncode, p.stderr.strip()[-300:]))
        self.report("hls-strict", problems)

    def playlist_urls(self, fid):
        m = self.masters.get(fid)
        if not m:
            return []
        return ([a["URI"] for a in m.media if "URI" in a] + [u for _, u in m.variants] +
                [a["URI"] for a in m.iframes])

    def check_target_duration(self):
        problems = self.missing(("hls-v4", "hls-v3", "hls-cmaf"))
        count = 0
        for url, (pl, fid, _) in self.playlists.items():
            if pl.target is None:
                problems.append("%s %s: no EXT-X-TARGETDURATION" % (fid, short(url)))
                continue
            for seg, extinf, _ in pl.segments:
                count += 1
                if extinf is None:
                    problems.append("%s %s: a segment without EXTINF" % (fid, short(url)))
                elif int(extinf + 0.5) > pl.target:
                    problems.append("%s %s: EXTINF %.6f rounds above the target duration %d"
                                    % (fid, short(url), extinf, pl.target))
        if count == 0:
            problems.append("no HLS segment listed")
        self.report("hls-target-duration", problems)

    def video_codec_name(self):
        return "hevc" if self.entry["video"][0]["codec"] == "hevc" else "h264"

    def ts_video_first_au(self, seg):
        video = seg.of(("h264", "hevc"))
        if not video:
            raise MediaError("no video PES")
        return video[0], media.annexb_nals(video[0].data)

    def check_keyframes(self, check, formats):
        problems = self.missing(formats)
        checked = 0
        codec = self.video_codec_name()
        video = [n for n in self.named if n.fmt in formats and n.kind in ("segment", "keyframe")
                 and self.is_video(n)]
        problems += self.unavailable(video)
        for n in video:
            data = self.body(n.url)
            if data is None:
                continue
            try:
                if n.content_type == "video/mp2t":
                    seg = media.parse_ts(data)
                    if not seg.of(("h264", "hevc")):
                        raise MediaError("no video stream")
                    _, nals = self.ts_video_first_au(seg)
                else:
                    init = self.init_of(n)
                    if isinstance(init, MediaError):
                        raise init
                    samples = media.parse_fragment(data, init)
                    if not samples:
                        raise MediaError("no sample")
                    if not samples[0].sync:
                        raise MediaError("first sample not flagged sync (flags 0x%08x)"
                                         % samples[0].flags)
                    s = samples[0]
                    nals = media.length_prefixed_nals(data[s.offset:s.offset + s.size],
                                                      init.nal_length_size)
                ok, why = media.random_access(codec, nals)
                checked += 1
                if not ok:
                    problems.append("%s %s: %s" % (n.fmt, short(n.url), why))
            except (MediaError, IndexError, ValueError) as e:
                problems.append("%s %s: %s" % (n.fmt, short(n.url), e))
        if checked == 0 and not problems:
            problems.append("no video segment to look at")
        self.report(check, problems)

    def is_video(self, n):
        """Whether Named `n` is a video segment (HLS TS audio is video/mp2t too)."""
        if n.fmt.startswith("hls"):
            return self.playlist_kind(n.track) in ("video", "iframes")
        return n.content_type.startswith("video/")

    def playlist_kind(self, url):
        entry = self.playlists.get(url)
        return entry[2] if entry else None

    def init_of(self, n):
        """The init segment for a fragment Named `n` (HLS: the playlist's EXT-X-MAP; DASH: the
        Representation's initialization; Smooth: none)."""
        if n.fmt == "hls-cmaf":
            pl = self.playlists.get(n.track)
            if not pl or not pl[0].map:
                return MediaError("no EXT-X-MAP")
            return self.init_for(pl[0].map)
        for m in self.named:
            if m.fmt == n.fmt and m.kind == "init" and m.track == n.track:
                return self.init_for(m.url)
        return MediaError("no init segment")

    def check_ts_structure(self):
        problems = self.missing(("hls-v4", "hls-v3"))
        checked = 0
        ts = [n for n in self.named if n.content_type == "video/mp2t"]
        problems += self.unavailable(ts)
        previous = {}  # playlist -> (index, last counters) of the segment before
        for n in ts:
            data = self.body(n.url)
            if data is None:
                continue
            try:
                seg = media.parse_ts(data)
                checked += 1
                where = "%s %s" % (n.fmt, short(n.url))
                if seg.first_pids[:2] != [0, seg.pmt_pid]:
                    problems.append("%s: starts with PIDs %s, not PAT then PMT"
                                    % (where, seg.first_pids))
                for p in seg.problems:
                    problems.append("%s: %s" % (where, p))
                # The segments of one playlist are one transport stream cut in pieces: each
                # PID's counter goes on from the previous segment (a client that feeds them to
                # one demuxer sees a discontinuity otherwise). Not so for I-frame segments, each
                # a resource of its own (in Apple's own I-frame playlists, byte ranges of the
                # stream, whose counters skip).
                before = previous.get(n.track) if n.kind == "segment" else None
                if before is not None and before[0] == n.index - 1:
                    for pid, first in sorted(seg.first_cc.items()):
                        last = before[1].get(pid)
                        if last is not None and first != (last + 1) % 16:
                            problems.append("%s: PID %d starts at continuity counter %d, the "
                                            "previous segment ended at %d" % (where, pid, first,
                                                                               last))
                previous[n.track] = (n.index, seg.last_cc)
            except (MediaError, IndexError) as e:
                problems.append("%s %s: %s" % (n.fmt, short(n.url), e))
        if checked == 0 and not problems:
            problems.append("no TS segment listed")
        self.report("ts-structure", problems)

    def stream_codecs(self, fid, url, kind):
        """The codec strings a media playlist's first segment (or its init segment) carries."""
        pl = self.playlists[url][0]
        if not pl.segments:
            raise MediaError("%s has no segment" % short(url))
        if fid == "hls-cmaf":
            init = self.init_for(pl.map) if pl.map else MediaError("no EXT-X-MAP")
            if isinstance(init, MediaError):
                raise init
            return {init.codec.lower()}
        # The first segment that answers (a segment that does not is the urls check's failure).
        data = next((d for d in (self.body(u) for u, _, _ in pl.segments) if d is not None),
                    None)
        if data is None:
            raise MediaError("no segment of %s is available" % short(url))
        seg = media.parse_ts(data)
        out = set()
        for pid, stype in seg.streams.items():
            pes = [p for p in seg.pes if p.pid == pid]
            if stype in ("h264", "hevc") and pes:
                nals = media.annexb_nals(pes[0].data)
                c = (media.h264_codec_from_nals(nals) if stype == "h264"
                     else media.hevc_codec_from_nals(nals))
                if c is None:
                    raise MediaError("no SPS in the first video PES of %s" % short(url))
                out.add(c.lower())
            elif stype == "aac" and pes:
                out.add(media.adts_codec(pes[0].data)[0])
            elif stype == "ac3":
                out.add("ac-3")
            elif stype == "eac3":
                out.add("ec-3")
        return out

    @staticmethod
    def same_codec(listed, carried, ts):
        a, b = listed.lower(), carried.lower()
        if ts:
            # In MPEG-TS the sample-entry code means nothing: avc1/avc3 and hvc1/hev1 name
            # the same bitstream (RFC 6381); the profile and level must still agree.
            a = re.sub(r"^(avc)3", r"\g<1>1", re.sub(r"^hev1", "hvc1", a))
            b = re.sub(r"^(avc)3", r"\g<1>1", re.sub(r"^hev1", "hvc1", b))
        return a == b

    def check_codecs(self):
        problems = self.missing(("hls-v4", "hls-v3", "hls-cmaf"))
        for fid, master in self.masters.items():
            ts = fid != "hls-cmaf"
            groups = {}
            for a in master.media:
                if a.get("TYPE") == "AUDIO" and "URI" in a:
                    groups.setdefault(a.get("GROUP-ID"), []).append(a["URI"])
            entries = [(a, uri, False) for a, uri in master.variants] + [
                (a, a["URI"], True) for a in master.iframes]
            for a, uri, iframes in entries:
                listed = [c.strip() for c in a.get("CODECS", "").split(",") if c.strip()]
                if not listed:
                    problems.append("%s %s: no CODECS" % (fid, short(uri)))
                    continue
                try:
                    if uri not in self.playlists:
                        raise MediaError("playlist %s not available" % short(uri))
                    carried = set(self.stream_codecs(fid, uri, "video"))
                    if not iframes and "AUDIO" in a:
                        for audio_uri in groups.get(a["AUDIO"], []):
                            if audio_uri not in self.playlists:
                                raise MediaError("audio playlist %s not available"
                                                 % short(audio_uri))
                            carried |= self.stream_codecs(fid, audio_uri, "audio")
                except (MediaError, IndexError) as e:
                    problems.append("%s %s: %s" % (fid, short(uri), e))
                    continue
                unmatched = [c for c in listed if not any(self.same_codec(c, x, ts)
                                                          for x in carried)]
                missing = [x for x in carried if not any(self.same_codec(c, x, ts)
                                                         for c in listed)]
                if unmatched or missing:
                    problems.append("%s %s: CODECS=\"%s\" but the streams carry %s" % (
                        fid, short(uri), ",".join(listed), ",".join(sorted(carried))))
        if not self.masters:
            problems.append("no HLS master playlist")
        self.report("hls-codecs", problems)

    # -- timing -------------------------------------------------------------------------------
    def audio_frame(self):
        """The longest audio frame of the asset, in seconds (the tolerance of A/V alignment)."""
        return max((AUDIO_FRAME[a["codec"]] / a["sample_rate"] for a in self.entry["audio"]),
                   default=0.0)

    def segment_start(self, n, kind):
        """Earliest presentation time (s) of one media segment, from its own bytes."""
        data = self.body(n.url)
        if data is None:
            raise MediaError("%s not available" % short(n.url))
        if n.content_type == "video/mp2t":
            seg = media.parse_ts(data)
            pes = seg.of(("h264", "hevc") if kind == "video" else ("aac", "ac3", "eac3"))
            pts = [p.pts for p in pes if p.pts is not None]
            if not pts:
                raise MediaError("%s: no %s PES with a PTS" % (short(n.url), kind))
            return (min(pts) if kind == "video" else pts[0]) / 90000.0
        init = self.init_of(n)
        if isinstance(init, MediaError):
            raise init
        samples = media.parse_fragment(data, init)
        if not samples:
            raise MediaError("%s: no sample" % short(n.url))
        return (min(s.dts + s.cto for s in samples) - init.shift) / init.timescale

    def source_offset(self, where):
        """How much later than the audio track named in `where` the source starts its video."""
        video = min((v.get("start", 0.0) for v in self.entry["video"]), default=0.0)
        for a in self.entry["audio"]:
            if a["track_name"] in urllib.parse.unquote(where):
                return video - a.get("start", 0.0)
        return 0.0

    def check_av_sync(self):
        problems = self.missing([f for f, _ in FORMATS])
        tolerance = self.audio_frame() + 1.0 / 90000
        if not self.entry["audio"]:
            return self.report("av-sync", [])
        compared = 0
        # Manifest timelines (Smooth, DASH): the times the players are told.
        for fid, tl in self.timelines.items():
            video = [v for k, v in tl.items() if k[0] == "video"]
            audio = [(k, v) for k, v in tl.items() if k[0] == "audio"]
            if not video or not audio:
                problems.append("%s: %d video and %d audio timelines" % (fid, len(video),
                                                                          len(audio)))
                continue
            for key, a in audio:
                compared += 1
                problems += compare_starts("%s %s" % (fid, key[1]), [s for s, _ in video[0]],
                                           [s for s, _ in a], tolerance,
                                           self.source_offset(key[1]))
        # HLS: the times in the segments themselves.
        for fid in ("hls-v4", "hls-cmaf", "hls-v3"):
            master = self.masters.get(fid)
            if not master:
                problems.append("%s: no master playlist" % fid)
                continue
            try:
                if fid == "hls-v3":
                    for _, uri in master.variants:
                        if uri not in self.playlists:
                            raise MediaError("%s not available" % short(uri))
                        pl = self.playlists[uri][0]
                        if self.playlists[uri][2] != "video":
                            continue
                        v, a = [], []
                        for i, (seg, _, _) in enumerate(pl.segments):
                            n = Named(seg, "video/mp2t", "segment", uri, fid, i)
                            v.append(self.segment_start(n, "video"))
                            a.append(self.segment_start(n, "audio"))
                        compared += 1
                        problems += compare_starts("%s %s" % (fid, short(uri)), v, a, tolerance,
                                                   self.source_offset(uri))
                    continue
                starts = {}
                for uri, (pl, f, kind) in self.playlists.items():
                    if f != fid or kind not in ("video", "audio"):
                        continue
                    ctype = "video/mp2t" if fid == "hls-v4" else fmp4_type(kind)
                    starts[(kind, uri)] = [
                        self.segment_start(Named(seg, ctype, "segment", uri, fid, i), kind)
                        for i, (seg, _, _) in enumerate(pl.segments)]
                video = [(k, v) for k, v in starts.items() if k[0] == "video"]
                audio = [(k, v) for k, v in starts.items() if k[0] == "audio"]
                for vk, v in video[:1]:
                    for ak, a in audio:
                        compared += 1
                        problems += compare_starts("%s %s" % (fid, short(ak[1])), v, a,
                                                   tolerance, self.source_offset(ak[1]))
            except (MediaError, IndexError) as e:
                problems.append("%s: %s" % (fid, e))
        if compared == 0 and not problems:
            problems.append("nothing to compare")
        self.report("av-sync", problems)

    def check_dash_media_times(self):
        """Each DASH segment's earliest presentation time, read from its own tfdt and trun (minus
        the init segment's edit list), is the time the MPD gives it (S@t minus
        presentationTimeOffset), to within one frame of that track."""
        problems = self.missing(("dash-csf", "dash-cmaf"))
        segments = [n for n in self.named if n.fmt in ("dash-csf", "dash-cmaf")
                    and n.kind == "segment"]
        problems += self.unavailable(segments)
        fps = max((Fraction(v["fps"]) for v in self.entry["video"]), default=Fraction(25))
        worst = {}
        for n in segments:
            if self.body(n.url) is None:
                continue
            kind = "video" if n.content_type.startswith("video/") else "audio"
            frame = float(1 / fps) if kind == "video" else self.audio_frame()
            try:
                ept = self.segment_start(n, kind)
            except (MediaError, IndexError, struct.error) as e:
                problems.append("%s %s: %s" % (n.fmt, short(n.url), e))
                continue
            off = ept - n.start
            if abs(off) > frame + 1e-7:
                key = (n.fmt, n.track)
                worst.setdefault(key, []).append((abs(off), n, ept))
        for (fmt, track), bad in sorted(worst.items()):
            _, n, ept = max(bad, key=lambda b: b[0])
            problems.append("%s %s: %d segments start more than a frame away from the MPD's "
                            "time, worst %s: MPD %.6f s, media %.6f s" % (
                                fmt, track, len(bad), short(n.url), n.start, ept))
        if not segments and not problems:
            problems.append("no DASH segment listed")
        self.report("dash-media-times", problems)

    def check_no_negative_time(self):
        problems = self.missing([f for f, _ in FORMATS])
        texts = [(fid, r.url, r.text) for fid, r in self.manifests.items() if r.status == 200]
        texts += [(fid, url, pl.text) for url, (pl, fid, _) in self.playlists.items()]
        for fid, url, text in texts:
            for m in re.finditer(r'(?:=|:)\s*"?-\d[\d.]*', text):
                line = text[:m.start()].count("\n") + 1
                snippet = text[max(0, m.start() - 40):m.end() + 10].strip().replace("\n", " ")
                problems.append("%s %s line %d: %s" % (fid, short(url), line, snippet))
                break
        for n in self.named:
            if re.search(r"=-\d", urllib.parse.unquote(n.url)):
                problems.append("URL %s" % short(n.url))
        for fid, tl in self.timelines.items():
            for key, times in tl.items():
                if times and times[0][0] < 0:
                    problems.append("%s %s starts at %.6f s" % (fid, key[1], times[0][0]))
        self.report("no-negative-time", problems)

    def check_urls(self):
        problems = self.missing([f for f, _ in FORMATS])
        per_format = {fid: 0 for fid, _ in FORMATS}
        for n in self.named:
            r = self.client.get(n.url)
            per_format[n.fmt] += 1
            if r.status != 200:
                problems.append("%s %s: %s%s" % (n.fmt, short(n.url), r.status or r.error,
                                                 " " + error_text(r) if r.body else ""))
            elif n.content_type and r.content_type != n.content_type:
                problems.append("%s %s: Content-Type %r, expected %s" % (
                    n.fmt, short(n.url), r.content_type, n.content_type))
        for fid, count in per_format.items():
            if count == 0 and self.manifests[fid].status == 200:
                problems.append("%s names no URL" % fid)
        server_errors = [r for r in self.client.cache.values() if r.status >= 500]
        if server_errors:
            problems.insert(0, "%d answers were 5xx (first: %s %d)" % (
                len(server_errors), short(server_errors[0].url), server_errors[0].status))
        self.report("urls", problems)

    def check_downloads(self):
        problems = []
        folder = os.path.dirname(os.path.join(self.args.corpus_dir, self.entry["path"]))
        if self.entry["shape"] == "folder":
            folder = os.path.join(self.args.corpus_dir, self.entry["path"])
        files = sorted({t["file"] for k in ("video", "audio", "text") for t in self.entry[k]})
        for f in files:
            r = self.client.get("%s/%s/%s" % (self.args.origin.rstrip("/"), self.locator,
                                              urllib.parse.quote(f)))
            if f.endswith(".vtt"):
                want = {"text/vtt"}
            elif f.endswith(".m4a"):
                want = {"audio/mp4"}
            elif any(v["file"] == f for v in self.entry["video"]):
                want = {"video/mp4"}
            else:
                want = {"audio/mp4", "video/mp4"}
            if r.status != 200:
                problems.append("%s: %s" % (f, r.status or r.error))
            elif r.content_type not in want:
                problems.append("%s: Content-Type %r, expected %s" % (f, r.content_type,
                                                                      " or ".join(sorted(want))))
            elif r.body != open(os.path.join(folder, f), "rb").read():
                problems.append("%s: %d bytes served, not the file's %d" % (
                    f, len(r.body), os.path.getsize(os.path.join(folder, f))))
        self.report("downloads", problems)

    def check_package_bytes(self):
        problems = []
        out = os.path.join(self.work, "package", self.entry["manifest"] + ".ism")
        shutil.rmtree(out, ignore_errors=True)
        path = os.path.join(self.args.corpus_dir, self.entry["path"])
        p = subprocess.run([self.args.ams, "package", path, "--format", "all", "--output", out],
                           capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            return self.report("package-bytes", ["ams package exit status %d: %s" % (
                p.returncode, (p.stderr or p.stdout).strip()[-300:])])
        compared = 0
        for dirpath, _, names in os.walk(out):
            for name in sorted(names):
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, out)
                r = self.client.get(self.base + rel)
                compared += 1
                if r.status != 200:
                    problems.append("%s: %s" % (rel, r.status or r.error))
                else:
                    with open(full, "rb") as f:
                        packaged = f.read()
                    if r.body != packaged:
                        at = next((i for i, (a, b) in enumerate(zip(r.body, packaged)) if a != b),
                                  min(len(r.body), len(packaged)))
                        problems.append("%s: the %d bytes served differ from the %d packaged "
                                        "from byte %d (TS packet %d)" % (
                                            rel, len(r.body), len(packaged), at, at // 188))
        if compared == 0:
            problems.append("ams package wrote nothing")
        self.report("package-bytes", problems)

    def check_ffprobe(self):
        problems = self.missing([f for f, _ in FORMATS if f != "smooth"])
        runs = []
        for fid in ("hls-v4", "hls-v3", "hls-cmaf"):
            master = self.masters.get(fid)
            if not master:
                problems.append("%s: no master playlist" % fid)
                continue
            for uri in [a["URI"] for a in master.media if "URI" in a] + [
                    u for _, u in master.variants]:
                runs.append((fid, uri, True))
        for fid in ("dash-csf", "dash-cmaf"):
            if self.manifests[fid].status == 200:
                runs.append((fid, self.manifests[fid].url, False))
            else:
                problems.append("%s: no MPD" % fid)
        frames = {v["frames"] for v in self.entry["video"]}
        for fid, url, hls in sorted(set(runs)):
            base = ["ffprobe", "-v", "error", "-rw_timeout", "30000000"]
            if hls:
                base += ["-extension_picky", "0"]
            # ffmpeg's DASH demuxer, reading every Representation at once, has been seen to
            # drop the last packet of one of them: each stream is read on its own.
            listing = ffprobe(base + ["-show_entries", "stream=index,codec_type", url])
            if isinstance(listing, str):
                problems.append("%s %s: %s" % (fid, short(url), listing))
                continue
            if not listing:
                problems.append("%s %s: no stream" % (fid, short(url)))
            for s in listing:
                got = ffprobe(base + ["-select_streams", str(s["index"]), "-count_frames",
                                      "-show_entries", "stream=codec_type,nb_read_frames", url])
                what = "%s %s stream %d (%s)" % (fid, short(url), s["index"], s["codec_type"])
                if isinstance(got, str):
                    problems.append("%s: %s" % (what, got))
                elif not got:
                    problems.append("%s: not read" % what)
                elif s["codec_type"] == "video" and int(got[0].get("nb_read_frames", 0)) not in frames:
                    problems.append("%s: %s frames, the source has %s" % (
                        what, got[0].get("nb_read_frames"), "/".join(map(str, sorted(frames)))))
        self.report("ffprobe", problems)

    def check_selftest(self):
        """The checks' own parsers, shown bytes they must refuse: a check that cannot fail is
        no check. Uses this asset's own segments, altered."""
        problems = []
        codec = self.video_codec_name()
        ts = next((n for n in self.named if n.content_type == "video/mp2t" and self.is_video(n)
                   and n.kind == "segment" and self.body(n.url)), None)
        frag = next((n for n in self.named if n.fmt == "dash-csf" and self.is_video(n)
                     and n.kind == "segment" and self.body(n.url)), None)
        if ts is None or frag is None:
            problems.append("nothing to test the checks on: the server gave no TS and no DASH "
                            "video segment of this asset")
        else:
            data = bytearray(self.body(ts.url))
            seg = media.parse_ts(bytes(data))
            pid = seg.of(("h264", "hevc"))[0].pid
            packets = [i for i in range(0, len(data), 188)
                       if ((data[i + 1] & 0x1F) << 8 | data[i + 2]) == pid and data[i + 3] & 0x10]
            if len(packets) > 3:
                i = packets[2]
                data[i + 3] = data[i + 3] & 0xF0 | (data[i + 3] + 5) & 0xF
                if not media.parse_ts(bytes(data)).problems:
                    problems.append("a continuity-counter break went unseen")
            later = seg.of(("h264", "hevc"))[1:]
            if not later or media.random_access(codec, media.annexb_nals(later[-1].data))[0]:
                problems.append("the last video access unit of a TS segment passed for a "
                                "random-access point")
            init = self.init_of(frag)
            samples = media.parse_fragment(self.body(frag.url), init)
            last = samples[-1]
            nals = media.length_prefixed_nals(
                self.body(frag.url)[last.offset:last.offset + last.size], init.nal_length_size)
            if last.sync or media.random_access(codec, nals)[0]:
                problems.append("the last sample of a fragment passed for a sync sample")
        bad_mpd = ('<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" '
                   'profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" '
                   'minBufferTime="PT2S"><Period><AdaptationSet><SegmentTemplate><SegmentTimeline>'
                   '<S t="-1" d="2"/></SegmentTimeline></SegmentTemplate></AdaptationSet>'
                   '</Period></MPD>')
        path = os.path.join(self.work, "selftest.mpd")
        with open(path, "w") as f:
            f.write(bad_mpd)
        schema = os.path.join(self.args.schemas, "DASH-MPD.xsd")
        env = dict(os.environ, XML_CATALOG_FILES=os.path.join(self.args.schemas, "catalog.xml"))
        if subprocess.run(["xmllint", "--noout", "--nonet", "--schema", schema, path], env=env,
                          capture_output=True).returncode == 0:
            problems.append("xmllint accepted an MPD with S@t=-1")
        path = os.path.join(self.work, "selftest.m3u8")
        with open(path, "w") as f:
            f.write("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:4.0,\na.ts\n#EXT-X-ENDLIST\n")
        p = subprocess.run(["node", self.args.hls_strict, path], capture_output=True, text=True)
        if '"ok":false' not in p.stdout:
            problems.append("hls-parser accepted an EXTINF above the target duration")
        self.report("checker-selftest", problems)

    def run(self):
        self.work = os.path.join(self.args.work, self.name)
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        steps = [
            ("inspect", self.check_inspect),
            (None, self.discover),
            ("manifests", self.check_manifests),
            ("dash-schema", self.check_dash_schema),
            (None, self.fetch_all),
            ("hls-strict", self.check_hls_strict),
            ("hls-target-duration", self.check_target_duration),
            ("hls-keyframes", lambda: self.check_keyframes(
                "hls-keyframes", ("hls-v4", "hls-v3", "hls-cmaf"))),
            ("dash-keyframes", lambda: self.check_keyframes(
                "dash-keyframes", ("dash-csf", "dash-cmaf"))),
            ("ts-structure", self.check_ts_structure),
            ("hls-codecs", self.check_codecs),
            ("av-sync", self.check_av_sync),
            ("dash-media-times", self.check_dash_media_times),
            ("no-negative-time", self.check_no_negative_time),
            ("urls", self.check_urls),
            ("downloads", self.check_downloads),
            ("package-bytes", self.check_package_bytes),
            ("ffprobe", self.check_ffprobe),
            ("checker-selftest", self.check_selftest),
        ]
        for name, step in steps:
            try:
                step()
            except RuntimeError:
                raise
            except Exception as e:  # a checker that trips over the bytes fails, never passes
                if name is None:
                    raise
                self.report(name, ["the check itself failed: %s: %s (%s)" % (
                    type(e).__name__, e, traceback.format_exc().strip().splitlines()[-3])])
        return self.results


def ffprobe(cmd):
    """ffprobe's streams (a list), or why it failed (a string)."""
    try:
        p = subprocess.run(cmd + ["-of", "json"], capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return "no answer within 300 s"
    err = p.stderr.strip()
    if p.returncode != 0 or err:
        return "exit %d: %s" % (p.returncode, err.splitlines()[0] if err else "")
    try:
        return json.loads(p.stdout or "{}").get("streams", [])
    except ValueError as e:
        return "unreadable output: %s" % e


def compare_starts(what, video, audio, tolerance, offset=0.0):
    """Segment i of audio starts within `tolerance` of segment i of video; segment 0 by as much
    as the source files put video after audio (`offset`: a file without an edit list may)."""
    if len(video) != len(audio):
        return ["%s: %d video segments, %d audio segments (video starts %s, audio %s)" % (
            what, len(video), len(audio), fmt_times(video), fmt_times(audio))]
    if not video:
        return ["%s: no segment" % what]
    bad = [(i, v, a) for i, (v, a) in enumerate(zip(video, audio))
           if abs(v - a - (offset if i == 0 else 0.0)) > tolerance]
    if bad:
        i, v, a = bad[0]
        return ["%s: segment %d starts at %.6f s in video, %.6f s in audio (%d of %d segments "
                "differ by more than one audio frame, %.1f ms%s)" % (
                    what, i, v, a, len(bad), len(video), tolerance * 1000,
                    "; the source starts video %.6f s after audio" % offset if offset else "")]
    return []


def fmt_times(times):
    text = ",".join("%.3f" % t for t in times[:4])
    return text + (",..." if len(times) > 4 else "")


def short(url):
    path = urllib.parse.urlsplit(url).path
    m = re.search(r"\.ism/(.*)$", path)
    return urllib.parse.unquote(m.group(1) if m else path)


def error_text(r):
    """The AMS error body in one line: its hresult and message, if any."""
    parts = re.findall(r"<(hresult|message|Message|detail)>(.*?)</\1>", r.text, re.S)
    text = " ".join(v.strip() for _, v in parts) if parts else r.text
    return re.sub(r"\s+", " ", text).strip()[:160]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--published", required=True)
    ap.add_argument("--origin", required=True)
    ap.add_argument("--ams", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--schemas", required=True)
    ap.add_argument("--hls-strict", required=True)
    ap.add_argument("--asset", action="append", help="check only these assets")
    ap.add_argument("--results", help="append 'ASSET PASSED FAILED' lines to this file")
    args = ap.parse_args()
    args.corpus_dir = os.path.dirname(os.path.abspath(args.corpus))
    with open(args.corpus) as f:
        corpus = json.load(f)
    with open(args.published) as f:
        published = dict(line.rstrip("\n").split("\t", 1) for line in f if line.strip())
    total_passed = total_failed = 0
    for entry in corpus["assets"]:
        if args.asset and entry["name"] not in args.asset:
            continue
        locator = published.get(entry["name"])
        if not locator:
            say(entry["name"], "publish", False, "no streaming locator")
            results = [("publish", False)]
        else:
            try:
                results = AssetRun(args, entry, locator, Client(args.origin)).run()
            except RuntimeError as e:
                say(entry["name"], "crawl", False, str(e))
                results = [("crawl", False)]
        passed = sum(1 for _, ok in results if ok)
        failed = len(results) - passed
        total_passed += passed
        total_failed += failed
        if args.results:
            with open(args.results, "a") as f:
                f.write("%s %d %d\n" % (entry["name"], passed, failed))
    if total_passed + total_failed == 0:
        print("[ corpus ] no check ran", flush=True)
        return 1
    return 0 if total_failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
