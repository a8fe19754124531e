// Writes one HLS v3/v4 MPEG-TS segment: PAT, PMT, then the PES packets of a video and/or an audio
// track interleaved by decode time.
//
// Layout: PAT (PID 0) and PMT (PID 0x1000, program 1) open every segment; video on PID 0x100
// (H.264 0x1b, HEVC 0x24), audio on PID 0x101 (AAC/ADTS 0x0f, AC-3 0x81, E-AC-3 0x87). The PCR is
// on the video PID, or on the audio PID when there is no video, in the first packet of every PES,
// equal to its DTS. PTS = presentation time (model pts) + 10 s; DTS = (dts - decode lead)
// + 10 s, so that presentation times of different tracks and of consecutive segments line up with
// the fragment times of the manifests (see ts/stream.h for the continuity counters).
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "base/bytes.h"
#include "base/status.h"
#include "model/presentation.h"
#include "ts/stream.h"

namespace ams::ts {

// The samples one track contributes to a segment.
struct TrackSegment {
  const Stream* stream = nullptr;  // null: the segment has no such track
  std::span<const model::Sample> samples;
  // One payload per sample. A size-only pass may leave it empty unless
  // stream->size_needs_payload().
  std::span<const ByteSpan> payloads;
  uint8_t continuity = 0;  // counter of the track's first packet: continuity_at(...)
};

struct SegmentInput {
  TrackSegment video;
  TrackSegment audio;
  // The segment's position in its playlist: PAT and PMT take continuity `index % 16`, one packet
  // each per segment, so they chain across segments too.
  uint64_t index = 0;
};

// Appends the segment's packets to `out`. With ByteWriter::size_only() nothing is produced and no
// payload is read (unless a stream's size needs it): out.size() is then the exact segment size;
// payload errors (a NAL length past the sample) only show in the real pass.
Status write_segment(const SegmentInput& in, ByteWriter& out);

// Hands each 188-byte packet to `on_packet` as it is made (the GStreamer tsmux way).
using PacketSink = std::function<void(ByteSpan packet)>;
Status write_segment(const SegmentInput& in, const PacketSink& on_packet);

// The exact size in bytes, from the index alone (see write_segment's size-only mode).
Result<uint64_t> segment_size(const SegmentInput& in);

}  // namespace ams::ts
