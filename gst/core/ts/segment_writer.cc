#include "ts/segment_writer.h"

#include <optional>
#include <vector>

#include "ts/packet.h"

namespace ams::ts {
namespace {

struct Track {
  const TrackSegment* in = nullptr;
  std::vector<PesPlan> plans;
  size_t next = 0;
  uint8_t continuity = 0;
  bool done() const { return next >= plans.size(); }
};

Status check_input(const SegmentInput& in) {
  if (!in.video.stream && !in.audio.stream) return invalid_argument("ts: segment without tracks");
  if (in.video.stream && !in.video.stream->is_video())
    return invalid_argument("ts: video is audio");
  if (in.audio.stream && in.audio.stream->is_video()) return invalid_argument("ts: audio is video");
  return Status::ok();
}

// `flush` hands out what `out` holds after each table or PES (packet sink mode).
Status write(const SegmentInput& in, ByteWriter& out, const std::function<void()>& flush) {
  AMS_RETURN_IF_ERROR(check_input(in));
  const bool has_video = in.video.stream != nullptr;
  std::vector<Track> tracks;
  std::vector<PmtEntry> pmt;
  for (const TrackSegment* t : {&in.video, &in.audio}) {
    if (!t->stream) continue;
    const bool pcr = t->stream->is_video() || !has_video;
    AMS_ASSIGN_OR_RETURN(std::vector<PesPlan> plans, t->stream->plan(t->samples, t->payloads, pcr));
    tracks.push_back(Track{t, std::move(plans), 0, static_cast<uint8_t>(t->continuity & 0xf)});
    pmt.push_back(PmtEntry{t->stream->stream_type(), t->stream->pid(), t->stream->descriptors()});
  }
  if (!flush) {  // the plans fix the size: one allocation for the whole segment
    uint64_t packets = 2;
    for (const Track& t : tracks) {
      for (const PesPlan& p : t.plans) packets += p.packet_count;
    }
    out.reserve(out.size() + packets * kPacketSize);
  }
  const uint8_t psi_continuity = static_cast<uint8_t>(in.index & 0xf);
  write_pat(psi_continuity, out);
  write_pmt(has_video ? kVideoPid : kAudioPid, pmt, psi_continuity, out);
  if (flush) flush();

  EsPieces es;
  while (true) {
    // Interleave by decode time, video first on ties.
    Track* t = nullptr;
    for (Track& c : tracks) {
      if (!c.done() && (!t || c.plans[c.next].dts < t->plans[t->next].dts)) t = &c;
    }
    if (!t) break;
    const PesPlan& p = t->plans[t->next++];
    const Stream& stream = *t->in->stream;
    if (out.counting()) {  // the plan fixed the count: no payload is read
      out.zeros(p.packet_count * kPacketSize);
      t->continuity = static_cast<uint8_t>((t->continuity + p.packet_count) & 0xf);
      continue;
    }
    // The elementary stream as pieces of the samples (no copy), then the header, which needs the
    // stream's size (its PES_packet_length); the packets copy both once.
    const bool has_dts = p.dts != p.pts;
    es.clear();
    AMS_RETURN_IF_ERROR(stream.write_es(p, t->in->samples, t->in->payloads, es));
    ByteWriter header;
    write_pes_header(stream.stream_id(), p.pts,
                     has_dts ? std::optional<int64_t>(p.dts) : std::nullopt, es.size(),
                     stream.is_video(), header);
    const PesMarks marks{stream.pid(), p.random_access,
                         p.pcr ? std::optional<int64_t>(p.dts) : std::nullopt};
    AMS_RETURN_IF_ERROR(
        write_pes_packets(header.bytes(), es, p.packet_count, marks, t->continuity, out));
    if (flush) flush();
  }
  return Status::ok();
}

}  // namespace

Status write_segment(const SegmentInput& in, ByteWriter& out) {
  return write(in, out, nullptr);
}

Status write_segment(const SegmentInput& in, const PacketSink& on_packet) {
  ByteWriter scratch;
  return write(in, scratch, [&]() {
    const Bytes& b = scratch.bytes();
    for (size_t pos = 0; pos + kPacketSize <= b.size(); pos += kPacketSize) {
      on_packet(ByteSpan(b).subspan(pos, kPacketSize));
    }
    scratch = ByteWriter();
  });
}

Result<uint64_t> segment_size(const SegmentInput& in) {
  ByteWriter counter = ByteWriter::size_only();
  AMS_RETURN_IF_ERROR(write_segment(in, counter));
  return counter.size();
}

}  // namespace ams::ts
