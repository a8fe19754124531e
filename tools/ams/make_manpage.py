#!/usr/bin/env python3
"""Writes ams(1) from the built command's own help, so that the page says what the program does:
`ams --help` gives the commands, `ams COMMAND --help` each one's usage, summary and options.

  make_manpage.py AMS OUTPUT VERSION
"""
import datetime
import os
import re
import subprocess
import sys
import tempfile


def roff(text):
    text = text.replace("\\", "\\e")
    lines = []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def opt(text):
    return roff(text).replace("-", "\\-")


def helptext(ams, *args):
    # The default database path is the reader's, not the builder's: the command runs with a home
    # of its own (where GStreamer may also write its registry), which the text then calls "~".
    with tempfile.TemporaryDirectory(prefix="ams-manpage-") as home:
        env = dict(os.environ, HOME=home, XDG_DATA_HOME=home + "/.local/share",
                   XDG_CACHE_HOME=home + "/.cache")
        r = subprocess.run([ams, *args], capture_output=True, text=True, env=env)
        return (r.stdout + r.stderr).strip("\n").replace(home, "~")


def command_section(name, text):
    out = [".SS " + name]
    lines = text.split("\n")
    i = 0
    usage, summary, options = [], [], []
    section = None
    while i < len(lines):
        line = lines[i]
        i += 1
        if line.strip() == "Usage:":
            section = "usage"
            continue
        if re.match(r"^(Help|Application|GStreamer) Options:$", line.strip()):
            section = "options" if line.strip().startswith("Application") else "skip"
            continue
        if section == "usage" and line.startswith("  "):
            usage.append(line.strip())
            continue
        if section == "usage" and line.strip() == "":
            section = "summary"
            continue
        if section == "options" and line.startswith("  "):
            m = re.match(r"^\s+(\S.*?)(?:\s{2,}(\S.*))?$", line)
            if m:
                options.append((m.group(1), m.group(2) or ""))
            continue
        if section == "skip":
            continue
        if line.strip():
            summary.append(line.strip())
        elif summary and summary[-1] != "":
            summary.append("")
    for u in usage:
        out.append(".nf\n.B " + opt(u) + "\n.fi")
    paragraph = []
    for s in summary + [""]:
        if s == "":
            if paragraph:
                out.append(".PP\n" + roff(" ".join(paragraph)))
                paragraph = []
        else:
            paragraph.append(s)
    for flag, description in options:
        out.append(".TP\n.B " + opt(flag) + "\n" + roff(description))
    return "\n".join(out)


def main():
    ams, output, version = sys.argv[1], sys.argv[2], sys.argv[3]
    top = helptext(ams, "--help")
    commands = re.findall(r"^  (\w[\w-]*)\s{2,}(.+)$", top, re.M)
    if not commands:
        sys.exit("make_manpage.py: `ams --help` lists no command:\n" + top)
    date = datetime.datetime.utcfromtimestamp(
        int(os.environ.get("SOURCE_DATE_EPOCH", "0")) or os.path.getmtime(ams)).strftime("%Y-%m-%d")
    page = [
        '.TH AMS 1 "%s" "gst-ams %s" "User Commands"' % (date, version),
        ".SH NAME",
        "ams \\- an Azure Media Services streaming origin: encode, package, publish and serve assets",
        ".SH SYNOPSIS",
        ".B ams\n.I command\n[\\fIoptions\\fR]",
        ".br\n.B ams help\n.I command",
        ".SH DESCRIPTION",
        "An asset is a folder of adaptive-bitrate MP4 files with an .ism server manifest; a "
        "streaming locator (a GUID) publishes it under a streaming policy; \\fBams serve\\fR "
        "answers the URLs the Azure Media Services streaming endpoint answered (Smooth "
        "Streaming, HLS v3, v4 and CMAF, MPEG-DASH CSF and CMAF), packaging the MP4 files per "
        "request.",
        ".SH COMMANDS",
    ]
    for name, description in commands:
        page.append(".TP\n.B %s\n%s" % (name, roff(description)))
    page.append(".SH \"COMMAND USAGE AND OPTIONS\"")
    for name, _ in commands:
        page.append(command_section("ams " + name, helptext(ams, name, "--help")))
    page += [
        ".SH ENVIRONMENT",
        ".TP\n.B AMS_DB\nThe database of assets, policies, locators and filters when no \\fB\\-\\-db\\fR is "
        "given (else ~/.local/share/gst-ams/ams.db).",
        ".TP\n.B GST_PLUGIN_PATH\nWhere GStreamer finds the gstams plugin when it is not installed "
        "where GStreamer looks.",
        ".SH \"SEE ALSO\"",
        "gst\\-launch\\-1.0(1), gst\\-inspect\\-1.0(1); the documentation in docs/ of the source "
        "tree.",
    ]
    with open(output, "w") as f:
        f.write("\n".join(page) + "\n")


if __name__ == "__main__":
    main()
