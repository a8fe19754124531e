#!/usr/bin/env python3
"""Helpers of bench/serve_vs_nginx.sh (stdlib only). Subcommands:

  ism FOLDER NAME              write FOLDER/NAME.ism for the MP4s in FOLDER (ffprobe), as the AMS
                               encoder writes one: the audio of the smallest rung, then the videos
  urls BASE MASTER MPD AT      from the HLS v4 master and the DASH CSF MPD text (files), print
                               the top video rung's media playlist URL and its DASH fragment
                               that starts nearest AT (seconds; 'mid' = the middle one); BASE is
                               the .ism URL the manifests are relative to
  segment PLAYLIST_URL FILE AT the TS segment of a media playlist nearest AT seconds ('mid')
  runs MP4 START DURATION      how many runs of back-to-back samples the video samples of
                               [START, START + DURATION) seconds form in the file, and the count
                               of samples (ffprobe packet positions)
  soakpaths BASE MASTER MPD PLAYLIST_URL PLAYLIST
                               every path of a mixed soak, one a line, relative to the server:
                               the master, the MPD, each media playlist of the master, each TS
                               segment of PLAYLIST, each DASH fragment of each Representation
  wrk FILE                     requests, req/s, p50 ms, p99 ms, errors of a `wrk --latency` output
  keepalive URL PID PATH...    on one kept-alive connection to URL's server (after a GET of PATH
                               #1 to open it), GET each PATH twice; print per PATH the server's
                               CPU ms (schedstat of PID's threads) of the first GET and the second
  cpu PID                      CPU time of all the threads of PID in ns (/proc/PID/task/*/schedstat)
                               and the number of threads
"""
import glob
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr


def probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", path],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["streams"]


def track_id(s):
    return int(s["id"], 16) if str(s.get("id", "")).startswith("0x") else int(s["index"]) + 1


def cmd_ism(folder, name):
    files = sorted(f for f in os.listdir(folder) if f.endswith(".mp4"))
    videos, audio = [], None
    for f in files:
        for s in probe(os.path.join(folder, f)):
            if s["codec_type"] == "video":
                videos.append((int(s.get("bit_rate", 0)), f, track_id(s), s["height"]))
    videos.sort(reverse=True)
    smallest = videos[-1][1]
    for s in probe(os.path.join(folder, smallest)):
        if s["codec_type"] == "audio":
            audio = (int(s["bit_rate"]), smallest, track_id(s),
                     s.get("tags", {}).get("language", "und"), int(s["channels"]))
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<smil xmlns="http://www.w3.org/2001/SMIL20/Language">',
           "  <head>", '    <meta name="formats" content="mp4-v3" />', "  </head>",
           "  <body>", "    <switch>"]

    def param(n, v):
        return '        <param name="%s" value=%s valuetype="data" />' % (n, quoteattr(str(v)))

    if audio:
        br, f, tid, lang, ch = audio
        out.append('      <audio src=%s systemBitrate="%d" systemLanguage=%s>'
                   % (quoteattr(f), br, quoteattr(lang)))
        out += [param("systemBitrate", br), param("trackID", tid),
                param("trackName", "aac_%s_%d_%d_%d_1" % (lang, ch, br, tid)),
                param("systemLanguage", lang), "      </audio>"]
    for br, f, tid, _ in videos:
        out.append('      <video src=%s systemBitrate="%d">' % (quoteattr(f), br))
        out += [param("systemBitrate", br), param("trackID", tid), param("trackName", "video"),
                "      </video>"]
    out += ["    </switch>", "  </body>", "</smil>", ""]
    with open(os.path.join(folder, name + ".ism"), "w") as fh:
        fh.write("\n".join(out))


def pick(items, at):
    """items: [(start seconds, value)] in order; the one starting nearest `at` ('mid': middle)."""
    if at == "mid":
        return items[len(items) // 2][1]
    t = float(at)
    return min(items, key=lambda i: abs(i[0] - t))[1]


def cmd_urls(base, master_file, mpd_file, at):
    # The top video rung: the HLS stream with the highest BANDWIDTH, the DASH video
    # Representation with the highest bandwidth.
    master = open(master_file).read().splitlines()
    streams = []
    for i, line in enumerate(master):
        if line.startswith("#EXT-X-STREAM-INF") and "RESOLUTION=" in line:
            bandwidth = int(re.search(r"[:,]BANDWIDTH=(\d+)", line).group(1))
            streams.append((bandwidth, master[i + 1].strip()))
    if not streams:
        sys.exit("serve_vs_nginx.py: no video stream in the HLS master")
    playlist = max(streams)[1]
    root = ET.parse(mpd_file).getroot()
    ns = {"d": "urn:mpeg:dash:schema:mpd:2011"}
    fragment = None
    for aset in root.iter("{urn:mpeg:dash:schema:mpd:2011}AdaptationSet"):
        if aset.get("contentType") != "video" and not aset.get("mimeType", "").startswith("video"):
            continue
        reps = aset.findall("d:Representation", ns)
        top = max(reps, key=lambda r: int(r.get("bandwidth")))
        tmpl = aset.find("d:SegmentTemplate", ns)
        if tmpl is None:
            tmpl = top.find("d:SegmentTemplate", ns)
        scale = int(tmpl.get("timescale", "1"))
        times, t = [], 0
        for s in tmpl.find("d:SegmentTimeline", ns).findall("d:S", ns):
            t = int(s.get("t", t))
            for _ in range(int(s.get("r", "0")) + 1):
                times.append((t / scale, t))
                t += int(s.get("d"))
        when = pick(times, at)
        fragment = (tmpl.get("media").replace("$Bandwidth$", top.get("bandwidth"))
                    .replace("$Time$", str(when)))
    if fragment is None:
        sys.exit("serve_vs_nginx.py: no video AdaptationSet in the MPD")
    print(base + "/" + playlist)
    print(base + "/" + fragment)


def cmd_segment(playlist_url, playlist_file, at):
    items, t, dur = [], 0.0, None
    for line in open(playlist_file).read().splitlines():
        if line.startswith("#EXTINF:"):
            dur = float(line[8:].split(",")[0])
        elif line and not line.startswith("#"):
            items.append((t, line))
            t += dur
    print(playlist_url.rsplit("/", 1)[0] + "/" + pick(items, at))


def cmd_soakpaths(base, master_file, mpd_file, playlist_url, playlist_file):
    server = re.match(r"(https?://[^/]+)", base).group(1)
    rel = lambda url: url[len(server):]
    out = [rel(base + "/manifest(format=m3u8-aapl)"), rel(base + "/manifest(format=mpd-time-csf)")]
    for line in open(master_file).read().splitlines():
        if line and not line.startswith("#"):
            out.append(rel(base + "/" + line.strip()))
    folder = playlist_url.rsplit("/", 1)[0]
    for line in open(playlist_file).read().splitlines():
        if line and not line.startswith("#"):
            out.append(rel(folder + "/" + line.strip()))
    root = ET.parse(mpd_file).getroot()
    ns = {"d": "urn:mpeg:dash:schema:mpd:2011"}
    for aset in root.iter("{urn:mpeg:dash:schema:mpd:2011}AdaptationSet"):
        tmpl_set = aset.find("d:SegmentTemplate", ns)
        for rep in aset.findall("d:Representation", ns):
            tmpl = rep.find("d:SegmentTemplate", ns)
            if tmpl is None:
                tmpl = tmpl_set
            t = 0
            for seg in tmpl.find("d:SegmentTimeline", ns).findall("d:S", ns):
                t = int(seg.get("t", t))
                for _ in range(int(seg.get("r", "0")) + 1):
                    out.append(rel(base + "/" + tmpl.get("media")
                                   .replace("$Bandwidth$", rep.get("bandwidth"))
                                   .replace("$Time$", str(t))))
                    t += int(seg.get("d"))
    print("\n".join(out))


def packets(mp4, stream):
    """(pts seconds, file position, size, key frame) of every packet, in decode order."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", stream, "-show_entries",
                          "packet=pts_time,pos,size,flags", "-of", "json", mp4],
                         check=True, capture_output=True, text=True).stdout
    return [(float(p["pts_time"]), int(p["pos"]), int(p["size"]), "K" in p.get("flags", ""))
            for p in json.loads(out)["packets"]]


def runs_of(rows):
    runs, end = 0, None
    for _, pos, size, _ in sorted(rows, key=lambda r: r[1]):
        if pos != end:
            runs += 1
        end = pos + size
    return runs


def cmd_runs(mp4, start, duration):
    start, duration = float(start), float(duration)
    video = packets(mp4, "v:0")
    # The fragment: from the key frame nearest `start` (by presentation time) to the next key
    # frame at or after start + duration, in decode order, as the fragmenter cuts it.
    keys = [i for i, r in enumerate(video) if r[3]]
    first = min(keys, key=lambda i: abs(video[i][0] - start))
    t0 = video[first][0]
    last = next((i for i in keys if video[i][0] >= t0 + duration - 1e-3), len(video))
    frag = video[first:last]
    print("video %d samples in %d runs of adjacent samples (%d bytes)" %
          (len(frag), runs_of(frag), sum(r[2] for r in frag)))


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * UNITS[m.group(2)]


def cmd_wrk(path):
    text = open(path).read()
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
    p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        errors += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        errors += int(m.group(1))
    print(requests, "%.0f" % rps, "%.3f" % p50, "%.3f" % p99, errors)


def cpu_ns(pid):
    total = 0
    for f in glob.glob("/proc/%s/task/*/schedstat" % pid):
        try:
            total += int(open(f).read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def cmd_keepalive(url, pid, *paths):
    import http.client
    import time
    host = re.match(r"https?://([^/]+)", url).group(1)
    conn = http.client.HTTPConnection(host, timeout=30)

    def get(path):
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            sys.exit("serve_vs_nginx.py: GET %s: %d" % (path, r.status))

    get(paths[0])
    for path in paths[1:]:
        out = []
        for _ in range(2):
            time.sleep(0.3)  # the server idle
            before = cpu_ns(pid)
            get(path)
            out.append("%.3f" % ((cpu_ns(pid) - before) / 1e6))
        print(" ".join(out))


def cmd_cpu(pid):
    total, threads = 0, 0
    for f in glob.glob("/proc/%s/task/*/schedstat" % pid):
        try:
            total += int(open(f).read().split()[0])
            threads += 1
        except (OSError, ValueError, IndexError):
            pass
    print(total, threads)


def main(argv):
    commands = {"ism": cmd_ism, "urls": cmd_urls, "segment": cmd_segment, "runs": cmd_runs,
                "wrk": cmd_wrk, "cpu": cmd_cpu, "soakpaths": cmd_soakpaths,
                "keepalive": cmd_keepalive}
    if len(argv) < 2 or argv[1] not in commands:
        sys.exit(__doc__)
    commands[argv[1]](*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
