"""What the manifests and playlists of the six formats name, read independently of gst-ams:
Smooth (StreamIndex/c timelines), DASH (SegmentTemplate + SegmentTimeline) and HLS (master and
media playlists). Used by corpus_check.py. Stdlib only.
"""

import re
import urllib.parse
import xml.etree.ElementTree as ET

HLS_TYPE = "application/vnd.apple.mpegurl"

class Named:
    """One URL a manifest or playlist names, with what it should be."""

    def __init__(self, url, content_type, kind, track, fmt, index=None, start=None):
        self.url, self.content_type, self.kind = url, content_type, kind
        self.track, self.fmt, self.index, self.start = track, fmt, index, start


def fmp4_type(kind):
    return "audio/mp4" if kind == "audio" else "video/mp4" if kind == "video" else ""


def smooth_urls(base, text):
    """Smooth fragments: QualityLevels({bitrate})/Fragments(name={start time}); `r` is the total
    count of the run (AMS)."""
    root = ET.fromstring(text)
    out, timelines = [], {}
    for si in root.iter("StreamIndex"):
        kind = si.get("Type", "")
        template = si.get("Url", "")
        times = []
        t = 0
        for c in si.iter("c"):
            if c.get("t") is not None:
                t = int(c.get("t"))
            d = int(c.get("d", "0"))
            for _ in range(int(c.get("r", "1"))):
                times.append((t, d))
                t += d
        for q in si.iter("QualityLevel"):
            bitrate = q.get("Bitrate")
            name = si.get("Name") or kind
            timelines[(kind, name, bitrate)] = [(s / 1e7, d / 1e7) for s, d in times]
            for i, (start, _) in enumerate(times):
                rel = template.replace("{bitrate}", bitrate).replace("{Bitrate}", bitrate)
                rel = rel.replace("{start time}", str(start)).replace("{start_time}", str(start))
                out.append(Named(urllib.parse.urljoin(base, rel), fmp4_type(kind), "segment",
                                 "%s/%s" % (name, bitrate), "smooth", i, start / 1e7))
    return out, timelines


def ns(tag):
    return "{urn:mpeg:dash:schema:mpd:2011}" + tag


def dash_urls(mpd_url, text, fmt):
    root = ET.fromstring(text)
    out, timelines = [], {}
    for period in root.iter(ns("Period")):
        for aset in period.iter(ns("AdaptationSet")):
            kind = aset.get("contentType") or (aset.get("mimeType") or "").split("/")[0]
            mime = aset.get("mimeType") or ""
            for rep in aset.iter(ns("Representation")):
                tmpl = rep.find(ns("SegmentTemplate"))
                if tmpl is None:
                    tmpl = aset.find(ns("SegmentTemplate"))
                if tmpl is None:
                    continue
                timescale = int(tmpl.get("timescale", "1"))
                pto = int(tmpl.get("presentationTimeOffset", "0"))
                times = []
                t = 0
                tl = tmpl.find(ns("SegmentTimeline"))
                for s in tl.iter(ns("S")) if tl is not None else []:
                    if s.get("t") is not None:
                        t = int(s.get("t"))
                    d = int(s.get("d"))
                    for _ in range(int(s.get("r", "0")) + 1):
                        times.append((t, d))
                        t += d
                rep_id = rep.get("id", "")
                bw = rep.get("bandwidth", "")

                def fill(template, time=None, number=None):
                    v = template.replace("$RepresentationID$", rep_id).replace(
                        "$Bandwidth$", bw)
                    if time is not None:
                        v = v.replace("$Time$", str(time))
                    if number is not None:
                        v = v.replace("$Number$", str(number))
                    return urllib.parse.urljoin(mpd_url, v)

                ctype = rep.get("mimeType") or mime
                track = "%s/%s" % (rep_id, bw)
                if tmpl.get("initialization"):
                    out.append(Named(fill(tmpl.get("initialization")), ctype, "init", track, fmt))
                start_number = int(tmpl.get("startNumber", "1"))
                timelines[(kind, rep_id, bw)] = [((s - pto) / timescale, d / timescale)
                                                 for s, d in times]
                for i, (s, _) in enumerate(times):
                    out.append(Named(fill(tmpl.get("media", ""), s, start_number + i), ctype,
                                     "segment", track, fmt, i, (s - pto) / timescale))
    return out, timelines


def attributes(line):
    out = {}
    for m in re.finditer(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)', line.partition(":")[2]):
        out[m.group(1)] = m.group(2).strip('"')
    return out


class Playlist:
    def __init__(self, url, text):
        self.url, self.text = url, text
        self.segments = []  # (url, extinf, start)
        self.map = None
        self.target = None
        self.iframes = "#EXT-X-I-FRAMES-ONLY" in text
        t = 0.0
        extinf = None
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("#EXT-X-TARGETDURATION:"):
                self.target = int(line.split(":", 1)[1])
            elif line.startswith("#EXT-X-MAP:"):
                self.map = urllib.parse.urljoin(url, attributes(line)["URI"])
            elif line.startswith("#EXTINF:"):
                extinf = float(line.split(":", 1)[1].split(",")[0])
            elif line and not line.startswith("#"):
                self.segments.append((urllib.parse.urljoin(url, line), extinf, t))
                t += extinf or 0
                extinf = None


class Master:
    def __init__(self, url, text):
        self.url = url
        self.media = []  # attribute dicts with absolute URI
        self.variants = []  # (attributes, uri)
        self.iframes = []  # attribute dicts with absolute URI
        lines = [line.strip() for line in text.splitlines()]
        for i, line in enumerate(lines):
            if line.startswith("#EXT-X-MEDIA:"):
                a = attributes(line)
                if "URI" in a:
                    a["URI"] = urllib.parse.urljoin(url, a["URI"])
                self.media.append(a)
            elif line.startswith("#EXT-X-STREAM-INF:"):
                uri = next((x for x in lines[i + 1:] if x and not x.startswith("#")), None)
                self.variants.append((attributes(line), urllib.parse.urljoin(url, uri or "")))
            elif line.startswith("#EXT-X-I-FRAME-STREAM-INF:"):
                a = attributes(line)
                a["URI"] = urllib.parse.urljoin(url, a.get("URI", ""))
                self.iframes.append(a)


AUDIO_CODECS = ("mp4a", "ac-3", "ec-3")


def is_audio_codecs(codecs):
    return all(c.strip().startswith(AUDIO_CODECS) for c in codecs.split(",") if c.strip())
