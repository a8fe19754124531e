"""Just enough ISO BMFF, MPEG-TS, H.264/H.265 and audio header parsing for the corpus checks.

Independent of gst-ams on purpose: the checks look at the bytes the server sends with their own
eyes. Stdlib only. Every parser raises MediaError on bytes it cannot read.
"""

import struct


class MediaError(Exception):
    pass


# --- ISO BMFF ------------------------------------------------------------------------------

CONTAINERS = {"moov", "trak", "mdia", "minf", "stbl", "mvex", "moof", "traf", "edts", "dinf"}


def boxes(data, start=0, end=None):
    """(type, payload start, box end, box start) of each box in data[start:end]."""
    end = len(data) if end is None else end
    out = []
    o = start
    while o + 8 <= end:
        size, kind = struct.unpack(">I4s", data[o:o + 8])
        header = 8
        if size == 1:
            if o + 16 > end:
                raise MediaError("truncated 64-bit box size at %d" % o)
            size = struct.unpack(">Q", data[o + 8:o + 16])[0]
            header = 16
        elif size == 0:
            size = end - o
        if size < header or o + size > end:
            raise MediaError("box %r at %d has size %d past the end (%d)" % (kind, o, size, end))
        out.append((kind.decode("latin-1"), o + header, o + size, o))
        o += size
    if o != end:
        raise MediaError("%d stray bytes after the last box" % (end - o))
    return out


def find(data, path, start=0, end=None):
    """Every box at `path` ("moov/trak/mdia"), as (payload start, end)."""
    first, _, rest = path.partition("/")
    found = []
    for kind, p, e, _ in boxes(data, start, end):
        if kind == first:
            found += find(data, rest, p, e) if rest else [(p, e)]
    return found


def one(data, path, start=0, end=None):
    found = find(data, path, start, end)
    if len(found) != 1:
        raise MediaError("%d %s boxes, expected 1" % (len(found), path))
    return found[0]


def u32(d, o):
    return struct.unpack(">I", d[o:o + 4])[0]


def descriptor(d, o):
    """An MPEG-4 descriptor (tag, payload start, end) at o (ISO 14496-1 expandable size)."""
    tag = d[o]
    o += 1
    size = 0
    for _ in range(4):
        b = d[o]
        o += 1
        size = size << 7 | b & 0x7F
        if not b & 0x80:
            break
    return tag, o, o + size


def esds_codec(d, p, e):
    """mp4a.OTI.AOT from an esds box payload."""
    tag, o, end = descriptor(d, p + 4)
    if tag != 3:
        raise MediaError("esds: no ES_Descriptor")
    flags = d[o + 2]
    o += 3
    if flags & 0x80:
        o += 2
    if flags & 0x40:
        o += 1 + d[o]
    if flags & 0x20:
        o += 2
    tag, o, end = descriptor(d, o)
    if tag != 4:
        raise MediaError("esds: no DecoderConfigDescriptor")
    oti = d[o]
    if oti != 0x40:
        return "mp4a.%02x" % oti
    tag, o, end = descriptor(d, o + 13)
    if tag != 5:
        raise MediaError("esds: no DecoderSpecificInfo")
    return "mp4a.40.%d" % aac_object_type(d[o:end])


def aac_object_type(asc):
    if not asc:
        raise MediaError("empty AudioSpecificConfig")
    aot = asc[0] >> 3
    if aot == 31:
        aot = 32 + ((asc[0] & 7) << 3 | asc[1] >> 5)
    return aot


def hevc_codec(fourcc, ptl):
    """RFC 6381 / ISO 14496-15 E.3 string from the 12 profile_tier_level bytes."""
    space, tier, idc = ptl[0] >> 6, ptl[0] >> 5 & 1, ptl[0] & 0x1F
    compat = int("{:032b}".format(int.from_bytes(ptl[1:5], "big"))[::-1], 2)
    constraints = list(ptl[5:11])
    while constraints and constraints[-1] == 0:
        constraints.pop()
    return "%s.%s%d.%X.%s%d%s" % (fourcc, ["", "A", "B", "C"][space], idc, compat, "LH"[tier],
                                  ptl[11], "".join(".%X" % b for b in constraints))


class InitTrack:
    """What a checker needs from an init segment (or a moov) about its one track."""

    def __init__(self):
        self.track_id = 0
        self.handler = ""
        self.timescale = 0
        self.fourcc = ""
        self.codec = ""
        self.nal_length_size = 4
        self.trex_flags = 0
        self.shift = 0  # edit list: media time of the presentation start, in timescale ticks


def parse_init(data):
    (moov_p, moov_e), = find(data, "moov") or [(None, None)]
    if moov_p is None:
        raise MediaError("no moov box")
    traks = find(data, "trak", moov_p, moov_e)
    if len(traks) != 1:
        raise MediaError("%d tracks in the init segment, expected 1" % len(traks))
    tp, te = traks[0]
    t = InitTrack()
    kp, _ = one(data, "tkhd", tp, te)
    t.track_id = u32(data, kp + (20 if data[kp] == 1 else 12))
    mp, _ = one(data, "mdia/mdhd", tp, te)
    t.timescale = u32(data, mp + (20 if data[mp] == 1 else 12))
    if t.timescale == 0:
        raise MediaError("mdhd timescale 0")
    hp, _ = one(data, "mdia/hdlr", tp, te)
    t.handler = data[hp + 8:hp + 12].decode("latin-1")
    mvhd_p, _ = one(data, "mvhd", moov_p, moov_e)
    movie_ts = u32(data, mvhd_p + (20 if data[mvhd_p] == 1 else 12))
    for ep, _ in find(data, "edts/elst", tp, te):
        version, count = data[ep], u32(data, ep + 4)
        o = ep + 8
        empty = 0
        for _ in range(count):
            if version == 1:
                dur, media_time = struct.unpack(">Qq", data[o:o + 16])
                o += 20
            else:
                dur, media_time = struct.unpack(">Ii", data[o:o + 8])
                o += 12
            if media_time == -1:
                empty += dur
                continue
            t.shift = media_time - (empty * t.timescale // movie_ts if movie_ts else 0)
            break
    sp, se = one(data, "mdia/minf/stbl/stsd", tp, te)
    entries = boxes(data, sp + 8, se)
    if len(entries) != 1:
        raise MediaError("%d sample entries" % len(entries))
    kind, ep, ee, _ = entries[0]
    t.fourcc = kind
    if kind in ("avc1", "avc3", "hvc1", "hev1"):
        children = {k: (p, e) for k, p, e, _ in boxes(data, ep + 78, ee)}
        if kind.startswith("avc"):
            if "avcC" not in children:
                raise MediaError("%s without avcC" % kind)
            cp, _ = children["avcC"]
            t.codec = "%s.%02x%02x%02x" % (kind, data[cp + 1], data[cp + 2], data[cp + 3])
            t.nal_length_size = (data[cp + 4] & 3) + 1
        else:
            if "hvcC" not in children:
                raise MediaError("%s without hvcC" % kind)
            cp, _ = children["hvcC"]
            t.codec = hevc_codec(kind, data[cp + 1:cp + 13])
            t.nal_length_size = (data[cp + 21] & 3) + 1
    elif kind in ("mp4a", "ac-3", "ec-3"):
        children = {k: (p, e) for k, p, e, _ in boxes(data, ep + 28, ee)}
        if kind == "mp4a":
            if "esds" not in children:
                raise MediaError("mp4a without esds")
            t.codec = esds_codec(data, *children["esds"])
        else:
            t.codec = kind
    else:
        t.codec = kind
    for xp, xe in find(data, "mvex/trex", moov_p, moov_e):
        if u32(data, xp + 4) == t.track_id:
            t.trex_flags = u32(data, xp + 20)
    return t


class Sample:
    __slots__ = ("dts", "cto", "duration", "size", "flags", "offset")

    def __init__(self, dts, cto, duration, size, flags, offset):
        self.dts, self.cto, self.duration = dts, cto, duration
        self.size, self.flags, self.offset = size, flags, offset

    @property
    def sync(self):
        return not self.flags >> 16 & 1


def parse_fragment(data, init):
    """Every sample of a moof+mdat segment (one track), with absolute file offsets."""
    moofs = [(p, e, s) for k, p, e, s in boxes(data) if k == "moof"]
    if not moofs:
        raise MediaError("no moof box")
    samples = []
    for mp, me, ms in moofs:
        trafs = find(data, "traf", mp, me)
        if len(trafs) != 1:
            raise MediaError("%d traf boxes in a moof, expected 1" % len(trafs))
        tp, te = trafs[0]
        hp, _ = one(data, "tfhd", tp, te)
        flags = u32(data, hp) & 0xFFFFFF
        o = hp + 8
        base = ms
        if flags & 0x1:
            base = struct.unpack(">Q", data[o:o + 8])[0]
            o += 8
        if flags & 0x2:
            o += 4
        default_duration = default_size = 0
        default_flags = init.trex_flags if init else 0
        if flags & 0x8:
            default_duration = u32(data, o)
            o += 4
        if flags & 0x10:
            default_size = u32(data, o)
            o += 4
        if flags & 0x20:
            default_flags = u32(data, o)
        tfdt = find(data, "tfdt", tp, te)
        if len(tfdt) != 1:
            raise MediaError("%d tfdt boxes, expected 1" % len(tfdt))
        dp = tfdt[0][0]
        dts = struct.unpack(">Q", data[dp + 4:dp + 12])[0] if data[dp] == 1 else u32(data, dp + 4)
        for rp, _ in find(data, "trun", tp, te):
            version = data[rp]
            rflags = u32(data, rp) & 0xFFFFFF
            count = u32(data, rp + 4)
            o = rp + 8
            offset = base
            if rflags & 0x1:
                offset = base + struct.unpack(">i", data[o:o + 4])[0]
                o += 4
            first_flags = None
            if rflags & 0x4:
                first_flags = u32(data, o)
                o += 4
            for i in range(count):
                duration, size, sflags, cto = default_duration, default_size, default_flags, 0
                if rflags & 0x100:
                    duration = u32(data, o)
                    o += 4
                if rflags & 0x200:
                    size = u32(data, o)
                    o += 4
                if rflags & 0x400:
                    sflags = u32(data, o)
                    o += 4
                elif i == 0 and first_flags is not None:
                    sflags = first_flags
                if rflags & 0x800:
                    cto = struct.unpack(">i" if version else ">I", data[o:o + 4])[0]
                    o += 4
                if offset + size > len(data):
                    raise MediaError("sample %d runs past the end of the segment" % i)
                samples.append(Sample(dts, cto, duration, size, sflags, offset))
                dts += duration
                offset += size
    return samples


def length_prefixed_nals(data, size):
    o = 0
    out = []
    while o < len(data):
        if o + size > len(data):
            raise MediaError("NAL length field past the end of the sample")
        n = int.from_bytes(data[o:o + size], "big")
        o += size
        if n == 0 or o + n > len(data):
            raise MediaError("NAL unit of %d bytes past the end of the sample" % n)
        out.append(data[o:o + n])
        o += n
    return out


def annexb_nals(data):
    out = []
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        start = i + 3
        j = data.find(b"\x00\x00\x01", start)
        end = len(data) if j < 0 else j
        nal = data[start:end]
        if j >= 0 and nal.endswith(b"\x00"):
            nal = nal.rstrip(b"\x00")
        if nal:
            out.append(nal)
        i = j
    return out


def unescape(nal):
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


class Bits:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def bit(self):
        if self.pos >= len(self.data) * 8:
            raise MediaError("bitstream ends early")
        b = self.data[self.pos >> 3] >> (7 - (self.pos & 7)) & 1
        self.pos += 1
        return b

    def ue(self):
        zeros = 0
        while self.bit() == 0:
            zeros += 1
            if zeros > 31:
                raise MediaError("bad exp-Golomb code")
        value = 0
        for _ in range(zeros):
            value = value << 1 | self.bit()
        return (1 << zeros) - 1 + value


def h264_sei_has_recovery_point(nal):
    payload = unescape(nal[1:])
    o = 0
    while o < len(payload) and payload[o] != 0x80:
        kind = 0
        while payload[o] == 0xFF:
            kind += 255
            o += 1
        kind += payload[o]
        o += 1
        size = 0
        while o < len(payload) and payload[o] == 0xFF:
            size += 255
            o += 1
        if o >= len(payload):
            break
        size += payload[o]
        o += 1
        if kind == 6:
            return True
        o += size
    return False


def random_access(codec, nals):
    """(True, why) when the access unit made of `nals` is a random-access point: an H.264 IDR,
    or an I picture with a recovery-point SEI (an open GOP's key frame); an H.265 IRAP."""
    if not nals:
        return False, "no NAL unit"
    if codec.startswith(("hvc", "hev", "hevc")):
        types = [n[0] >> 1 & 0x3F for n in nals]
        vcl = [t for t in types if t < 32]
        if vcl and 16 <= vcl[0] <= 23:
            return True, "IRAP (NAL type %d)" % vcl[0]
        return False, "first picture is not an IRAP (VCL NAL types %s)" % vcl[:4]
    types = [n[0] & 0x1F for n in nals]
    if 5 in types:
        return True, "IDR"
    slices = [n for n in nals if n[0] & 0x1F == 1]
    if slices:
        bits = Bits(unescape(slices[0][1:8]))
        bits.ue()
        slice_type = bits.ue() % 5
        recovery = any(h264_sei_has_recovery_point(n) for n in nals if n[0] & 0x1F == 6)
        if slice_type == 2 and recovery:
            return True, "I picture with a recovery point"
        return False, "not an IDR: slice type %d%s" % (slice_type,
                                                     ", recovery point" if recovery else "")
    return False, "no picture (NAL types %s)" % types[:8]


def h264_codec_from_nals(nals):
    for n in nals:
        if n[0] & 0x1F == 7:
            return "avc1.%02x%02x%02x" % (n[1], n[2], n[3])
    return None


def hevc_codec_from_nals(nals):
    for n in nals:
        if n[0] >> 1 & 0x3F == 33:
            sps = unescape(n[2:])
            return hevc_codec("hvc1", sps[1:13])
    return None


# --- MPEG-TS -------------------------------------------------------------------------------

VIDEO_TYPES = {0x1B: "h264", 0x24: "hevc"}
AUDIO_TYPES = {0x0F: "aac", 0x81: "ac3", 0x87: "eac3"}


class Pes:
    __slots__ = ("pid", "pts", "dts", "data")

    def __init__(self, pid, pts, dts, data):
        self.pid, self.pts, self.dts, self.data = pid, pts, dts, data


class TsSegment:
    def __init__(self):
        self.pmt_pid = None
        self.streams = {}  # pid -> "h264" | "hevc" | "aac" | "ac3" | "eac3" | "other"
        self.pes = []
        self.problems = []
        self.pat_count = 0
        self.first_pids = []
        self.first_cc = {}  # pid -> the continuity counter of its first packet with payload
        self.last_cc = {}

    def of(self, kind):
        return [p for p in self.pes if self.streams.get(p.pid) in kind]


def timestamp(b):
    return ((b[0] >> 1 & 7) << 30 | b[1] << 22 | (b[2] >> 1) << 15 | b[3] << 7 | b[4] >> 1)


def parse_ts(data):
    if len(data) == 0 or len(data) % 188:
        raise MediaError("%d bytes: not a whole number of 188-byte packets" % len(data))
    seg = TsSegment()
    cc = {}
    open_pes = {}

    def close(pid):
        buf = open_pes.pop(pid, None)
        if buf is None:
            return
        b = bytes(buf)
        if len(b) < 9 or b[:3] != b"\x00\x00\x01":
            seg.problems.append("PID %d: PES without a start code" % pid)
            return
        flags = b[7] >> 6
        hlen = b[8]
        pts = dts = None
        if flags & 2:
            pts = timestamp(b[9:14])
            dts = pts
        if flags == 3:
            dts = timestamp(b[14:19])
        seg.pes.append(Pes(pid, pts, dts, b[9 + hlen:]))

    for i in range(0, len(data), 188):
        p = data[i:i + 188]
        if p[0] != 0x47:
            raise MediaError("packet %d: no sync byte" % (i // 188))
        pid = (p[1] & 0x1F) << 8 | p[2]
        pusi = p[1] & 0x40
        afc = p[3] >> 4 & 3
        counter = p[3] & 0xF
        if len(seg.first_pids) < 2:
            seg.first_pids.append(pid)
        o = 4
        discontinuity = False
        if afc & 2:
            alen = p[4]
            discontinuity = alen > 0 and bool(p[5] & 0x80)
            o = 5 + alen
        if afc & 1 and pid != 0x1FFF:
            prev = cc.get(pid)
            # A repeated counter is allowed for a duplicate packet only (ISO 13818-1 2.4.3.3).
            duplicate = prev is not None and counter == prev[0] and p == prev[1]
            if prev is not None and not discontinuity and not duplicate and (
                    counter != (prev[0] + 1) % 16):
                seg.problems.append("PID %d: continuity counter %d after %d (packet %d)"
                                    % (pid, counter, prev[0], i // 188))
            cc[pid] = (counter, p)
            seg.first_cc.setdefault(pid, counter)
            seg.last_cc[pid] = counter
        if not afc & 1 or o >= 188:
            continue
        payload = p[o:]
        if pid == 0 or pid == seg.pmt_pid:
            if not pusi:
                continue
            section = payload[1 + payload[0]:]
            length = (section[1] & 0xF) << 8 | section[2]
            body = section[3:3 + length - 4]
            if pid == 0:
                seg.pat_count += 1
                for k in range(5, len(body), 4):
                    if body[k:k + 2] != b"\x00\x00":
                        seg.pmt_pid = (body[k + 2] & 0x1F) << 8 | body[k + 3]
            else:
                info = (body[7] & 0xF) << 8 | body[8]
                k = 9 + info
                while k + 5 <= len(body):
                    stype = body[k]
                    epid = (body[k + 1] & 0x1F) << 8 | body[k + 2]
                    elen = (body[k + 3] & 0xF) << 8 | body[k + 4]
                    desc = body[k + 5:k + 5 + elen]
                    kind = VIDEO_TYPES.get(stype) or AUDIO_TYPES.get(stype)
                    if stype == 0x06:
                        tags = set()
                        d = 0
                        while d + 2 <= len(desc):
                            tags.add(desc[d])
                            d += 2 + desc[d + 1]
                        kind = "ac3" if 0x6A in tags else "eac3" if 0x7A in tags else None
                    seg.streams[epid] = kind or "other"
                    k += 5 + elen
            continue
        if pusi:
            close(pid)
            open_pes[pid] = bytearray(payload)
        elif pid in open_pes:
            open_pes[pid] += payload
    for pid in list(open_pes):
        close(pid)
    if seg.pmt_pid is None:
        raise MediaError("no PAT")
    if not seg.streams:
        raise MediaError("no PMT")
    return seg


ADTS_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025,
              8000, 7350]


def adts_codec(data):
    if len(data) < 7 or data[0] != 0xFF or data[1] & 0xF0 != 0xF0:
        raise MediaError("audio PES does not start with an ADTS header")
    return "mp4a.40.%d" % ((data[2] >> 6) + 1), ADTS_RATES[data[2] >> 2 & 0xF]


def ac3_rate(data):
    if data[:2] != b"\x0b\x77":
        raise MediaError("AC-3/E-AC-3 PES does not start with a sync frame")
    return [48000, 44100, 32000, 0][data[4] >> 6]
