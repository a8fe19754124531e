#!/usr/bin/env python3
"""Makes the corpus of real encoder output that the corpus checks and the end-to-end suite play.

    python3 tests/corpus/make_corpus.py OUTDIR [--set quick|full] [--jobs N]

Every asset is encoded here, at test time, from test sources (testsrc2 / smptehdbars / sine, a
different tone per language) by ffmpeg (libx264, libx265, aac, ac3, eac3) or by GStreamer
(x264enc, voaacenc, avenc_aac, mp4mux): nothing of it is committed. OUTDIR gets one folder per
asset and corpus.json (the interface in docs/corpus.md). An asset whose recipe (the exact commands,
the files written beside them and the encoder versions, hashed) did not change is kept as it is,
so a second run costs nothing. Expected counts and durations come from ffprobe on the files the
encoders wrote, never from gst-ams.

Stdlib only. Prints one line per asset and what it took.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from fractions import Fraction
from xml.sax.saxutils import quoteattr

GENERATOR_VERSION = 2

# What issue 11 asks for that no encoder on Debian 12 (main) can make.
NOT_COVERED = [
    {
        "feature": "he-aac",
        "why": "no HE-AAC (SBR) encoder in Debian 12 main: ffmpeg's native aac encodes LC only "
        "(with -profile:a aac_he it writes an SBR AudioSpecificConfig over an LC payload, "
        "which ffmpeg itself then refuses to decode: 'Audio object type SBR+21 is not "
        "implemented'), voaacenc and avenc_aac are LC only, and libfdk-aac / fdkaacenc are "
        "in non-free, which this project does not use",
    },
]

# A tone per language, so that a player's audio track can be told from another by ear or FFT.
TONES = {"eng": 440, "fre": 660, "spa": 880, "deu": 330, "eng-description": 550}


def A(lang, codec="aac", channels=2, rate=48000, kbps=128, where="video", file=None,
      description=False):
    """One audio track: in every video file (where="video") or in a file of its own."""
    return {"lang": lang, "codec": codec, "channels": channels, "rate": rate, "kbps": kbps,
            "where": where, "file": file, "description": description}


# The assets. Keys:
#   rungs: (width, height, video kbit/s); fps: exact rational; gop: frames between key frames
#   (forced, scene cuts off, so the rungs' key frames are aligned as AMS requires);
#   video: encoder settings; audio: list of A(); text: WebVTT side-cars; shape: "ism" (an .ism
#   written as the AMS encoder writes one), "folder" (MP4s only) or "mp4" (one file);
#   maker: "ffmpeg" or "gst".
ASSETS = [
    {
        "name": "x264-bframes-aac",
        "set": "quick",
        "browsers": True,
        "description": "libx264 with 3 B-frames (closed 2 s GOPs, avc1), three rungs at 30 fps, "
        "AAC-LC 48 kHz stereo in English and French in every video file with ffmpeg's "
        "priming edit list; 10 s: 5 fragments, so the last 3-fragment TS segment is short",
        "features": ["bframes", "aac-priming", "closed-gop", "gop-2s", "avc1", "fps-30",
                     "audio-48k", "stereo", "audio-in-video-files", "two-languages",
                     "segment-remainder"],
        "source": "testsrc2", "fps": "30", "duration": 10, "gop": 60,
        "rungs": [(640, 360, 800), (480, 270, 500), (320, 180, 250)],
        "video": {"codec": "libx264", "tag": "avc1", "bframes": 3},
        "audio": [A("eng"), A("fre")],
        "shape": "ism", "maker": "ffmpeg",
    },
    {
        "name": "x265-ac3-eac3",
        "set": "quick",
        "browsers": True,
        "description": "libx265 (hvc1, closed 2 s GOPs, B-frames), two rungs at 25 fps, AC-3 5.1 "
        "(English) and E-AC-3 stereo (French) at 48 kHz, each in a file of its own; 8 s: 4 "
        "fragments",
        "features": ["hevc", "hvc1", "bframes", "closed-gop", "gop-2s", "fps-25", "ac3", "eac3",
                     "surround-5.1", "stereo", "audio-48k", "audio-in-own-files",
                     "two-languages", "segment-remainder"],
        "source": "testsrc2", "fps": "25", "duration": 8, "gop": 50,
        "rungs": [(640, 360, 600), (320, 180, 250)],
        "video": {"codec": "libx265", "tag": "hvc1"},
        "audio": [A("eng", "ac3", 6, kbps=384, where="own", file="audio_ac3_eng.mp4"),
                  A("fre", "eac3", 2, kbps=192, where="own", file="audio_eac3_fre.mp4")],
        "shape": "ism", "maker": "ffmpeg",
    },
    {
        "name": "x264-2997-mono44k",
        "set": "quick",
        "browsers": True,
        "description": "libx264 with B-frames at 29.97 fps (key frame every 60 frames, 2.002 s), "
        "two rungs, AAC-LC 44.1 kHz mono in a file of its own; 7.3 s: not a multiple of the "
        "fragment (the last one is 1.3 s) nor of the 3-fragment TS segment",
        "features": ["bframes", "aac-priming", "closed-gop", "gop-2s", "avc1", "fps-29.97",
                     "audio-44.1k", "mono", "audio-in-own-files", "fragment-remainder",
                     "segment-remainder"],
        "source": "testsrc2", "fps": "30000/1001", "duration": 7.3, "gop": 60,
        "rungs": [(640, 360, 700), (320, 180, 250)],
        "video": {"codec": "libx264", "tag": "avc1", "bframes": 3},
        "audio": [A("eng", channels=1, rate=44100, kbps=64, where="own", file="audio_eng.mp4")],
        "shape": "ism", "maker": "ffmpeg",
    },
    {
        "name": "ffmpeg-fmp4",
        "set": "quick",
        "browsers": False,
        "description": "fragmented MP4s straight from ffmpeg (-movflags frag_keyframe+empty_moov+"
        "default_base_moof: empty moov, one moof per GOP), libx264 with B-frames, two rungs at "
        "25 fps with AAC-LC 48 kHz stereo in each; 12 s: 6 fragments, 2 whole TS segments",
        "features": ["fragmented-mp4", "bframes", "aac-priming", "closed-gop", "gop-2s", "avc1",
                     "fps-25", "audio-48k", "stereo", "audio-in-video-files"],
        "source": "testsrc2", "fps": "25", "duration": 12, "gop": 50,
        "rungs": [(640, 360, 700), (320, 180, 250)],
        "video": {"codec": "libx264", "tag": "avc1", "bframes": 3},
        "movflags": "frag_keyframe+empty_moov+default_base_moof",
        "audio": [A("eng")],
        "shape": "ism", "maker": "ffmpeg",
    },
    {
        "name": "text-audio-description",
        "set": "quick",
        "browsers": False,
        "description": "libx264 with B-frames, two rungs at 25 fps; AAC-LC audio in files of their "
        "own: English, French and an English descriptive-audio track (accessibility=description, "
        "role=alternate, as AMS signals it), and an English WebVTT <textstream>; 8 s",
        "features": ["textstream", "webvtt", "audio-description", "two-languages", "bframes",
                     "aac-priming", "closed-gop", "gop-2s", "avc1", "fps-25", "audio-48k",
                     "stereo", "audio-in-own-files", "segment-remainder"],
        "source": "testsrc2", "fps": "25", "duration": 8, "gop": 50,
        "rungs": [(640, 360, 600), (320, 180, 250)],
        "video": {"codec": "libx264", "tag": "avc1", "bframes": 3},
        "audio": [A("eng", where="own", file="audio_eng.m4a"),
                  A("fre", where="own", file="audio_fre.m4a"),
                  A("eng", kbps=96, where="own", file="audio_description_eng.m4a",
                    description=True)],
        "text": [{"file": "subtitles_eng.vtt", "lang": "eng", "label": "English"}],
        "shape": "ism", "maker": "ffmpeg",
    },
    # --- full set ------------------------------------------------------------------------
    {
        "name": "x264-opengop-avc3-50fps",
        "set": "full",
        "browsers": False,
        "description": "libx264 open GOPs (key frames are recovery-point I frames after the first "
        "IDR, leading B-frames reference the previous GOP), avc3 with SPS/PPS in band, 4 s "
        "GOPs at 50 fps, two rungs, AAC-LC 48 kHz stereo in each video file; 14 s: 3.5 "
        "fragments",
        "features": ["open-gop", "avc3", "gop-4s", "fps-50", "bframes", "aac-priming",
                     "audio-48k", "stereo", "audio-in-video-files", "fragment-remainder",
                     "segment-remainder"],
        "source": "testsrc2", "fps": "50", "duration": 14, "gop": 200,
        "rungs": [(640, 360, 900), (320, 180, 300)],
        "video": {"codec": "libx264", "tag": "avc3", "bframes": 3, "open_gop": True},
        "audio": [A("eng")],
        "shape": "ism", "maker": "ffmpeg",
    },
    {
        "name": "x264-23976-4s",
        "set": "full",
        "browsers": False,
        "description": "libx264 with B-frames at 23.976 fps, 4.004 s closed GOPs (96 frames), "
        "two rungs of SMPTE bars, AAC-LC 48 kHz stereo in English and Spanish in files of "
        "their own; 13 s",
        "features": ["bframes", "aac-priming", "closed-gop", "gop-4s", "avc1", "fps-23.976",
                     "audio-48k", "stereo", "audio-in-own-files", "two-languages",
                     "fragment-remainder", "segment-remainder"],
        "source": "smptehdbars", "fps": "24000/1001", "duration": 13, "gop": 96,
        "rungs": [(640, 360, 500), (320, 180, 200)],
        "video": {"codec": "libx264", "tag": "avc1", "bframes": 3},
        "audio": [A("eng", where="own", file="audio_eng.mp4"),
                  A("spa", where="own", file="audio_spa.mp4")],
        "shape": "ism", "maker": "ffmpeg",
    },
    {
        "name": "x264-5994-44k",
        "set": "full",
        "browsers": False,
        "description": "libx264 with B-frames at 59.94 fps (2.002 s closed GOPs, 120 frames), two "
        "rungs, AAC-LC 44.1 kHz stereo in each video file; 6.5 s",
        "features": ["bframes", "aac-priming", "closed-gop", "gop-2s", "avc1", "fps-59.94",
                     "audio-44.1k", "stereo", "audio-in-video-files", "fragment-remainder",
                     "segment-remainder"],
        "source": "testsrc2", "fps": "60000/1001", "duration": 6.5, "gop": 120,
        "rungs": [(640, 360, 900), (320, 180, 300)],
        "video": {"codec": "libx264", "tag": "avc1", "bframes": 3},
        "audio": [A("eng", rate=44100)],
        "shape": "ism", "maker": "ffmpeg",
    },
    {
        "name": "x265-hev1-aac51",
        "set": "full",
        "browsers": False,
        "description": "libx265 hev1 (VPS/SPS/PPS in band), 4 s closed GOPs at 30 fps, two rungs, "
        "AAC-LC 5.1 48 kHz in a file of its own; 10 s",
        "features": ["hevc", "hev1", "bframes", "closed-gop", "gop-4s", "fps-30", "aac-priming",
                     "surround-5.1", "audio-48k", "audio-in-own-files", "fragment-remainder",
                     "segment-remainder"],
        "source": "testsrc2", "fps": "30", "duration": 10, "gop": 120,
        "rungs": [(640, 360, 600), (320, 180, 250)],
        "video": {"codec": "libx265", "tag": "hev1"},
        "audio": [A("eng", channels=6, kbps=256, where="own", file="audio_aac51_eng.mp4")],
        "shape": "ism", "maker": "ffmpeg",
    },
    {
        "name": "x264-negative-cts",
        "set": "full",
        "browsers": False,
        "description": "libx264 with B-frames muxed with -movflags negative_cts_offsets: ctts "
        "version 1 with negative composition offsets instead of a B-frame edit list, two rungs "
        "at 25 fps, AAC-LC 48 kHz stereo in each video file; 8 s",
        "features": ["negative-cts", "ctts-v1", "bframes", "aac-priming", "closed-gop", "gop-2s",
                     "avc1", "fps-25", "audio-48k", "stereo", "audio-in-video-files",
                     "segment-remainder"],
        "source": "smptehdbars", "fps": "25", "duration": 8, "gop": 50,
        "rungs": [(640, 360, 500), (320, 180, 200)],
        "video": {"codec": "libx264", "tag": "avc1", "bframes": 3},
        "movflags": "negative_cts_offsets",
        "audio": [A("eng")],
        "shape": "ism", "maker": "ffmpeg",
    },
    {
        "name": "gst-x264-voaacenc",
        "set": "full",
        "browsers": False,
        "description": "GStreamer encoders through mp4mux: x264enc (2 B-frames, key frame every "
        "50 frames, scene cuts off) in two rungs at 25 fps with voaacenc AAC-LC English in each, "
        "and Spanish from avenc_aac in a file of its own; 10 s",
        "features": ["gstreamer", "x264enc", "voaacenc", "avenc_aac", "mp4mux", "bframes",
                     "closed-gop", "gop-2s", "avc1", "fps-25", "audio-48k", "stereo",
                     "audio-in-video-files", "audio-in-own-files", "two-languages",
                     "segment-remainder"],
        "source": "smpte", "fps": "25", "duration": 10, "gop": 50,
        "rungs": [(640, 360, 700), (320, 180, 250)],
        "video": {"codec": "x264enc", "tag": "avc1", "bframes": 2},
        "audio": [A("eng"), A("spa", where="own", file="audio_spa.mp4")],
        "shape": "ism", "maker": "gst",
    },
    {
        "name": "folder-x264",
        "set": "full",
        "browsers": False,
        "description": "folder shape: two libx264 rungs with the same AAC-LC track in each and no "
        ".ism (amsdemux lists the MP4s in name order and the identical audio once); 8 s",
        "features": ["folder-shape", "bframes", "aac-priming", "closed-gop", "gop-2s", "avc1",
                     "fps-25", "audio-48k", "stereo", "audio-in-video-files",
                     "segment-remainder"],
        "source": "testsrc2", "fps": "25", "duration": 8, "gop": 50,
        "rungs": [(640, 360, 600), (320, 180, 250)],
        "video": {"codec": "libx264", "tag": "avc1", "bframes": 3},
        "audio": [A("eng")],
        "shape": "folder", "maker": "ffmpeg",
    },
    {
        "name": "single-mp4",
        "set": "full",
        "browsers": False,
        "description": "one MP4 (no .ism): libx264 with B-frames at 30 fps and AAC-LC in English "
        "and French; 6 s",
        "features": ["single-mp4", "bframes", "aac-priming", "closed-gop", "gop-2s", "avc1",
                     "fps-30", "audio-48k", "stereo", "audio-in-video-files", "two-languages"],
        "source": "testsrc2", "fps": "30", "duration": 6, "gop": 60,
        "rungs": [(640, 360, 700)],
        "video": {"codec": "libx264", "tag": "avc1", "bframes": 3},
        "audio": [A("eng"), A("fre")],
        "shape": "mp4", "maker": "ffmpeg",
    },
]


class GenerationError(Exception):
    pass


def run(argv, cwd):
    p = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if p.returncode != 0:
        raise GenerationError("%s exited %d: %s" % (argv[0], p.returncode,
                                                    (p.stderr or p.stdout).strip()[-2000:]))
    return p.stdout


def video_file(asset, rung):
    w, h, kbps = rung
    if asset["shape"] == "mp4":
        return asset["name"] + ".mp4"
    with_audio = any(a["where"] == "video" for a in asset["audio"])
    return "%s_%dx%d_%s_%d.mp4" % (asset["name"].replace("-", "_"), w, h,
                                   "AACAudio" if with_audio else "Video", kbps)


def seconds(asset):
    return float(asset["duration"])


def audio_encoder_args(a, index):
    """ffmpeg output options for output audio stream `index`."""
    codec = {"aac": "aac", "ac3": "ac3", "eac3": "eac3"}[a["codec"]]
    return ["-c:a:%d" % index, codec, "-b:a:%d" % index, "%dk" % a["kbps"],
            "-ac:a:%d" % index, str(a["channels"]), "-ar:a:%d" % index, str(a["rate"]),
            "-metadata:s:a:%d" % index, "language=" + a["lang"]]


def tone(a):
    return TONES[a["lang"] + ("-description" if a["description"] else "")]


def ffmpeg_commands(asset):
    """The ffmpeg command lines of an asset: one for the video files (with the audio that goes
    in them), one per audio file of its own."""
    dur = "%g" % seconds(asset)
    fps = asset["fps"]
    gop = asset["gop"]
    video = asset["video"]
    top_w, top_h, _ = asset["rungs"][0]
    src = "%s=size=%dx%d:rate=%s:duration=%s" % (asset["source"], top_w, top_h, fps, dur)
    in_video = [a for a in asset["audio"] if a["where"] == "video"]
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", "-f", "lavfi", "-i", src]
    for a in in_video:
        cmd += ["-f", "lavfi", "-i", "sine=frequency=%d:sample_rate=%d:duration=%s"
                % (tone(a), a["rate"], dur)]
    n = len(asset["rungs"])
    graph = "[0:v]split=%d%s" % (n, "".join("[s%d]" % i for i in range(n)))
    for i, (w, h, _) in enumerate(asset["rungs"]):
        graph += ";[s%d]scale=%d:%d,format=yuv420p[v%d]" % (i, w, h, i)
    cmd += ["-filter_complex", graph]
    for i, rung in enumerate(asset["rungs"]):
        kbps = rung[2]
        cmd += ["-map", "[v%d]" % i]
        for k in range(len(in_video)):
            cmd += ["-map", "%d:a" % (k + 1)]
        # Key frames every `gop` frames in every rung: forced, and scene cuts off so that the
        # encoder adds none of its own (AMS requires aligned key frames of pre-encoded content).
        force = ["-force_key_frames", "expr:eq(mod(n,%d),0)" % gop, "-g", str(gop),
                 "-keyint_min", str(gop)]
        rate = ["-b:v", "%dk" % kbps, "-maxrate", "%dk" % (kbps * 3 // 2),
                "-bufsize", "%dk" % (kbps * 2)]
        if video["codec"] == "libx264":
            params = "open-gop=1" if video.get("open_gop") else "open-gop=0"
            cmd += ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high",
                    "-bf", str(video["bframes"]), "-sc_threshold", "0",
                    "-x264-params", params] + force + rate
        else:
            cmd += ["-c:v", "libx265", "-preset", "veryfast", "-x265-params",
                    "keyint=%d:min-keyint=%d:scenecut=0:open-gop=0:log-level=error"
                    % (gop, gop)] + force + rate
        cmd += ["-tag:v", video["tag"]]
        if video["tag"] in ("avc3", "hev1"):
            # Parameter sets in band, before every key frame, as avc3/hev1 mean.
            cmd += ["-bsf:v", "dump_extra=freq=keyframe"]
        for k, a in enumerate(in_video):
            cmd += audio_encoder_args(a, k)
        if asset.get("movflags"):
            cmd += ["-movflags", asset["movflags"]]
        cmd += [video_file(asset, rung)]
    commands = [cmd]
    for a in asset["audio"]:
        if a["where"] != "own":
            continue
        acmd = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", "-f", "lavfi", "-i",
                "sine=frequency=%d:sample_rate=%d:duration=%s" % (tone(a), a["rate"], dur),
                "-map", "0:a"] + audio_encoder_args(a, 0)
        if asset.get("movflags"):
            acmd += ["-movflags", asset["movflags"]]
        acmd += [a["file"]]
        commands.append(acmd)
    return commands


def gst_commands(asset):
    """One gst-launch-1.0 pipeline: every rung from one videotestsrc through a tee, each with the
    in-video audio; audio files of their own from their own audiotestsrc and encoder."""
    fps = Fraction(asset["fps"])
    dur = seconds(asset)
    frames = round(dur * fps)
    gop = asset["gop"]
    top_w, top_h, _ = asset["rungs"][0]
    p = ["gst-launch-1.0", "-q",
         "videotestsrc", "num-buffers=%d" % frames, "pattern=%s" % asset["source"], "!",
         "video/x-raw,format=I420,width=%d,height=%d,framerate=%d/%d"
         % (top_w, top_h, fps.numerator, fps.denominator), "!", "tee", "name=vt"]
    in_video = [a for a in asset["audio"] if a["where"] == "video"]

    def audio_branch(a, encoder, sink):
        spb = 1024
        buffers = -(-int(dur * a["rate"]) // spb)
        enc = (["voaacenc", "bitrate=%d" % (a["kbps"] * 1000)] if encoder == "voaacenc" else
               ["avenc_aac", "bitrate=%d" % (a["kbps"] * 1000)])
        return (["audiotestsrc", "freq=%d" % tone(a), "samplesperbuffer=%d" % spb,
                 "num-buffers=%d" % buffers, "!",
                 "audio/x-raw,format=S16LE,rate=%d,channels=%d" % (a["rate"], a["channels"]),
                 "!", "audioconvert", "!"] + enc +
                ["!", "aacparse", "!", "taginject", "tags=language-code=%s" % a["lang"], "!",
                 "queue", "!"] + sink)

    for i, rung in enumerate(asset["rungs"]):
        w, h, kbps = rung
        p += ["vt.", "!", "queue", "!", "videoscale", "!",
              "video/x-raw,width=%d,height=%d" % (w, h), "!",
              "x264enc", "bitrate=%d" % kbps, "bframes=%d" % asset["video"]["bframes"],
              "key-int-max=%d" % gop, "speed-preset=veryfast",
              "option-string=scenecut=0:min-keyint=%d" % gop, "!",
              "video/x-h264,profile=high", "!", "h264parse", "!", "queue", "!",
              "mp4mux", "name=m%d" % i, "!", "filesink", "location=%s" % video_file(asset, rung)]
        for a in in_video:
            p += audio_branch(a, "voaacenc", ["m%d." % i])
    for k, a in enumerate(a for a in asset["audio"] if a["where"] == "own"):
        p += audio_branch(a, "avenc_aac", ["mp4mux", "name=am%d" % k, "!", "filesink",
                                           "location=%s" % a["file"]])
    return [p]


def webvtt(text, duration):
    lines = ["WEBVTT", ""]
    t = 0
    n = 1
    while t < duration:
        end = min(t + 2, duration)
        lines += ["%02d:%02d:%06.3f --> %02d:%02d:%06.3f" % (t // 3600, t // 60 % 60, t % 60,
                                                            end // 3600, end // 60 % 60, end % 60),
                  "%s cue %d" % (text["label"], n), ""]
        t += 2
        n += 1
    return "\n".join(lines)


def recipe(asset, versions):
    commands = gst_commands(asset) if asset["maker"] == "gst" else ffmpeg_commands(asset)
    files = {t["file"]: webvtt(t, seconds(asset)) for t in asset.get("text", [])}
    text = json.dumps({"generator": GENERATOR_VERSION, "asset": asset, "commands": commands,
                       "files": files, "versions": versions}, sort_keys=True)
    return commands, files, hashlib.sha256(text.encode()).hexdigest()


def probe(path):
    out = run(["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-show_format",
               "-of", "json", path], cwd=None)
    return json.loads(out)


def key_frame_times(path):
    """Presentation times (ms) of the video key frames, as the demuxer flags them."""
    out = run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
               "packet=pts_time,flags", "-of", "csv=p=0", path], cwd=None)
    times = []
    for line in out.splitlines():
        pts, flags = (line.split(",") + [""])[:2]
        if "K" in flags:
            times.append(round(float(pts) * 1000))
    return sorted(times)


def stream_duration(s, fmt):
    for value in (s.get("duration"), fmt.get("duration")):
        if value not in (None, "N/A"):
            return float(value)
    raise GenerationError("ffprobe gives no duration for stream %s" % s.get("index"))


def start_time(s):
    """Where the file starts the stream (ffprobe applies the edit lists), in seconds."""
    value = s.get("start_time")
    return round(float(value), 6) if value not in (None, "N/A") else 0.0


def track_id(s):
    return int(s["id"], 16) if str(s.get("id", "")).startswith("0x") else int(s["index"]) + 1


def describe(asset, folder):
    """The corpus.json entry and the .ism tracks, from ffprobe on what the encoders wrote."""
    video, audio, ism_tracks = [], [], []
    durations = []
    probed = {}

    def streams(file):
        if file not in probed:
            probed[file] = probe(os.path.join(folder, file))
        return probed[file]

    in_video = [a for a in asset["audio"] if a["where"] == "video"]
    keys = {}
    for rung in asset["rungs"]:
        file = video_file(asset, rung)
        info = streams(file)
        vs = [s for s in info["streams"] if s["codec_type"] == "video"]
        as_ = [s for s in info["streams"] if s["codec_type"] == "audio"]
        if len(vs) != 1 or len(as_) != len(in_video):
            raise GenerationError("%s: %d video and %d audio streams, expected 1 and %d"
                                  % (file, len(vs), len(as_), len(in_video)))
        v = vs[0]
        if Fraction(v["r_frame_rate"]) != Fraction(asset["fps"]):
            raise GenerationError("%s: frame rate %s, expected %s" % (file, v["r_frame_rate"],
                                                                      asset["fps"]))
        if (v["width"], v["height"]) != rung[:2]:
            raise GenerationError("%s: %dx%d, expected %dx%d" % (file, v["width"], v["height"],
                                                                 rung[0], rung[1]))
        durations.append(stream_duration(v, info["format"]))
        keys[file] = key_frame_times(os.path.join(folder, file))
        expected = -(-int(v["nb_read_frames"]) // asset["gop"])
        if len(keys[file]) != expected:
            raise GenerationError("%s: %d key frames, expected %d (one every %d frames)"
                                  % (file, len(keys[file]), expected, asset["gop"]))
        fps = Fraction(asset["fps"])
        video.append({"file": file, "width": v["width"], "height": v["height"],
                      "frames": int(v["nb_read_frames"]),
                      "fps": "%d/%d" % (fps.numerator, fps.denominator),
                      "codec": v["codec_name"], "fourcc": v["codec_tag_string"],
                      "bitrate": int(v["bit_rate"]), "track_id": track_id(v),
                      "start": start_time(v)})
        ism_tracks.append(("video", file, track_id(v), int(v["bit_rate"]), "video", None, None))
    if len({tuple(k) for k in keys.values()}) != 1:
        raise GenerationError("the rungs' key frames are not aligned: %s" % keys)
    for a in asset["audio"]:
        if a["where"] == "video":
            # The AMS encoder's .ism takes the audio from one of the video files (the smallest).
            file = video_file(asset, asset["rungs"][-1])
            s = [s for s in streams(file)["streams"] if s["codec_type"] == "audio"][
                in_video.index(a)]
        else:
            file = a["file"]
            ss = [s for s in streams(file)["streams"] if s["codec_type"] == "audio"]
            if len(ss) != 1:
                raise GenerationError("%s: %d audio streams, expected 1" % (file, len(ss)))
            s = ss[0]
        lang = s.get("tags", {}).get("language", "und")
        if lang != a["lang"] or int(s["channels"]) != a["channels"] or int(
                s["sample_rate"]) != a["rate"]:
            raise GenerationError("%s: %s %s ch %s Hz, expected %s %d ch %d Hz"
                                  % (file, lang, s["channels"], s["sample_rate"], a["lang"],
                                     a["channels"], a["rate"]))
        durations.append(stream_duration(s, streams(file)["format"]))
        bitrate = int(s["bit_rate"])
        tid = track_id(s)
        if a["description"]:
            name = "%s_%s_audio_description" % (a["codec"], a["lang"])
        else:
            name = "%s_%s_%d_%d_%d_1" % ({"eac3": "ec3"}.get(a["codec"], a["codec"]), a["lang"],
                                         a["channels"], bitrate, tid)
        entry = {"file": file, "codec": a["codec"], "language": a["lang"],
                 "channels": a["channels"], "sample_rate": a["rate"], "bitrate": bitrate,
                 "track_id": tid, "track_name": name, "frames": int(s["nb_read_frames"]),
                 "frequency": tone(a), "start": start_time(s)}
        if a["description"]:
            entry["accessibility"] = "description"
            entry["role"] = "alternate"
        audio.append(entry)
        ism_tracks.append(("audio", file, tid, bitrate, name, a["lang"], a["description"]))
    text = [{"file": t["file"], "language": t["lang"]} for t in asset.get("text", [])]
    return video, audio, text, max(durations), ism_tracks


def ism_text(asset, ism_tracks):
    """An .ism as the AMS encoder writes one (docs: ../shared/reference, examples/*.ism)."""
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<smil xmlns="http://www.w3.org/2001/SMIL20/Language">',
           "  <head>", '    <meta name="formats" content="mp4-v3" />', "  </head>",
           "  <body>", "    <switch>"]

    def param(name, value):
        return '        <param name="%s" value=%s valuetype="data" />' % (name, quoteattr(str(value)))

    # Audio first, then video from the highest bitrate down, as the AMS encoder lists them.
    for kind, file, tid, bitrate, name, lang, description in (
            [t for t in ism_tracks if t[0] == "audio"] + [t for t in ism_tracks if t[0] == "video"]):
        if kind == "audio":
            out.append('      <audio src=%s systemBitrate="%d" systemLanguage=%s>'
                       % (quoteattr(file), bitrate, quoteattr(lang)))
            out += [param("systemBitrate", bitrate), param("trackID", tid),
                    param("trackName", name), param("systemLanguage", lang)]
            if description:
                out += [param("accessibility", "description"), param("role", "alternate")]
            out.append("      </audio>")
        else:
            out.append('      <video src=%s systemBitrate="%d">' % (quoteattr(file), bitrate))
            out += [param("systemBitrate", bitrate), param("trackID", tid),
                    param("trackName", "video")]
            out.append("      </video>")
    for t in asset.get("text", []):
        out.append('      <textstream src=%s systemBitrate="0" systemLanguage=%s>'
                   % (quoteattr(t["file"]), quoteattr(t["lang"])))
        out += [param("systemBitrate", 0), param("textDisplayName", t["label"])]
        out.append("      </textstream>")
    out += ["    </switch>", "  </body>", "</smil>", ""]
    return "\n".join(out)


def entry_path(asset):
    name = asset["name"]
    if asset["shape"] == "ism":
        return "%s/%s.ism" % (name, name)
    if asset["shape"] == "mp4":
        return "%s/%s.mp4" % (name, name)
    return name


def make(asset, outdir, versions):
    """Makes one asset (or keeps it); returns (entry, seconds taken, kept)."""
    t0 = time.monotonic()
    commands, files, digest = recipe(asset, versions)
    final = os.path.join(outdir, asset["name"])
    stamp = os.path.join(final, ".recipe.sha256")
    meta = os.path.join(final, ".asset.json")
    try:
        if open(stamp).read().strip() == digest:
            with open(meta) as f:
                return json.load(f), time.monotonic() - t0, True
    except (OSError, ValueError):
        pass
    work = os.path.join(outdir, ".work-" + asset["name"])
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    for cmd in commands:
        run(cmd, cwd=work)
    for name, text in files.items():
        with open(os.path.join(work, name), "w") as f:
            f.write(text)
    video, audio, text, duration, ism_tracks = describe(asset, work)
    if asset["shape"] == "ism":
        with open(os.path.join(work, asset["name"] + ".ism"), "w") as f:
            f.write(ism_text(asset, ism_tracks))
    fragment = float(Fraction(asset["gop"]) / Fraction(asset["fps"]))
    playable = asset["video"]["codec"] not in ("libx265",) and all(
        a["codec"] == "aac" for a in asset["audio"])
    entry = {
        "name": asset["name"], "set": asset["set"], "path": entry_path(asset),
        "manifest": asset["name"], "shape": asset["shape"], "maker": asset["maker"],
        "description": asset["description"], "features": asset["features"],
        "browsers": asset["browsers"], "video": video, "audio": audio, "text": text,
        "duration": round(duration, 6), "fragment": round(fragment, 6),
        "codecs_playable_in_chromium": playable,
    }
    with open(os.path.join(work, ".asset.json"), "w") as f:
        json.dump(entry, f, indent=1)
    with open(os.path.join(work, ".recipe.sha256"), "w") as f:
        f.write(digest + "\n")
    with open(os.path.join(work, ".recipe.json"), "w") as f:
        json.dump({"commands": commands}, f, indent=1)
    shutil.rmtree(final, ignore_errors=True)
    os.rename(work, final)
    return entry, time.monotonic() - t0, False


def tool_versions():
    def first_line(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True).stdout.split("\n")[0]
        except OSError as e:
            raise GenerationError("%s: %s" % (argv[0], e))
    return {"ffmpeg": first_line(["ffmpeg", "-version"]),
            "gstreamer": first_line(["gst-launch-1.0", "--version"])}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--set", choices=["quick", "full"], default="full")
    ap.add_argument("--jobs", type=int, default=2, help="assets made at once (default 2)")
    args = ap.parse_args()
    outdir = os.path.abspath(args.outdir)
    os.makedirs(outdir, exist_ok=True)
    chosen = [a for a in ASSETS if args.set == "full" or a["set"] == "quick"]
    names = [a["name"] for a in ASSETS]
    assert len(set(names)) == len(names), "asset names must be unique"
    t0 = time.monotonic()
    try:
        versions = tool_versions()
    except GenerationError as e:
        print("make_corpus: %s" % e, file=sys.stderr)
        return 1
    entries = {}
    failed = False
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(make, a, outdir, versions): a for a in chosen}
        for future in concurrent.futures.as_completed(futures):
            a = futures[future]
            try:
                entry, took, kept = future.result()
            except GenerationError as e:
                failed = True
                print("[ corpus ] %s: FAILED (%s)" % (a["name"], e), flush=True)
                continue
            entries[a["name"]] = entry
            size = sum(os.path.getsize(os.path.join(dp, f))
                       for dp, _, fs in os.walk(os.path.join(outdir, a["name"])) for f in fs)
            print("[ corpus ] %s: %s in %.1f s (%d video, %d audio, %d text, %.2f s, %d kB)"
                  % (a["name"], "kept" if kept else "made", took, len(entry["video"]),
                     len(entry["audio"]), len(entry["text"]), entry["duration"], size // 1024),
                  flush=True)
    if failed:
        print("make_corpus: some assets could not be made", file=sys.stderr)
        return 1
    corpus = {"version": 1, "set": args.set, "generator": GENERATOR_VERSION, "tools": versions,
              "not_covered": NOT_COVERED,
              "assets": [entries[a["name"]] for a in chosen]}
    tmp = os.path.join(outdir, ".corpus.json.tmp")
    with open(tmp, "w") as f:
        json.dump(corpus, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(outdir, "corpus.json"))
    print("[ corpus ] %d assets (%s set) in %s, %.1f s" % (len(chosen), args.set, outdir,
                                                          time.monotonic() - t0), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
