// One elementary stream of a TS segment: the track's codec configuration parsed once, how its
// samples become PES packets, and how many TS packets they take.
//
// The packet count of a PES is fixed from the sample index alone (sizes, times, sync flags), never
// from what the payload turns out to contain: a video access unit reserves room for an access unit
// delimiter and, on sync samples, the parameter sets, whether or not the sample already carries
// them, and unused room becomes adaptation-field stuffing. So the continuity counter at the start
// of any segment is arithmetic over the sizes of the samples before it, and a segment can be
// generated without generating the ones before it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "codec/aac.h"
#include "codec/nal.h"
#include "model/presentation.h"
#include "ts/packet.h"

namespace ams::ts {

// Added to every PTS, DTS and PCR (90 kHz): 10 s. DTS runs ahead of PTS by the composition shift
// (a few frames) and must not go negative; 10 s is the value Apple's segmenters and many
// packagers start at, so players treat it as ordinary, and it leaves ~26.5 h before the 33-bit
// wrap.
inline constexpr int64_t kTimestampOffset90k = 10 * kMpegTsTimescale;

// What the writer needs of a track (see model::Track).
struct StreamConfig {
  model::Codec codec = model::Codec::kUnknown;
  Bytes codec_private;  // avcC / hvcC record, AudioSpecificConfig, dac3 / dec3 payload
  uint32_t timescale = 0;
  int64_t decode_lead = 0;  // model::SampleTable::decode_lead

  static StreamConfig from_track(const model::Track& track);
};

// The samples of one PES packet and its fixed layout.
struct PesPlan {
  size_t first_sample = 0;  // index into the segment's samples
  size_t sample_count = 0;
  int64_t pts = 0;              // 90 kHz, offset applied
  int64_t dts = 0;              // == pts for audio
  size_t reserved_es_size = 0;  // upper bound of the elementary stream bytes
  bool random_access = false;
  bool pcr = false;  // carries the PCR (= dts)
  uint64_t packet_count = 0;
};

class Stream {
 public:
  static Result<Stream> create(const StreamConfig& config);

  bool is_video() const { return video_; }
  uint16_t pid() const;
  uint8_t stream_type() const { return stream_type_; }
  uint8_t stream_id() const { return stream_id_; }
  ByteSpan descriptors() const { return descriptors_; }  // for the PMT
  uint8_t nal_length_size() const { return nal_length_size_; }
  // Whether a size-only pass needs the payload (video with NAL length prefixes other than 4).
  bool size_needs_payload() const { return video_ && nal_length_size_ != 4; }

  // Splits one segment's samples into PES packets: one per video access unit, audio frames grouped
  // up to 100 ms (and 64 KiB). `payloads` may be empty unless size_needs_payload(). `pcr` puts a
  // PCR on every PES (the video stream, or audio when alone).
  Result<std::vector<PesPlan>> plan(std::span<const model::Sample> samples,
                                    std::span<const ByteSpan> payloads, bool pcr) const;

  // The elementary stream bytes of plan's samples: Annex B with AUD (and parameter sets on sync
  // samples) for video, ADTS frames for AAC, frames as stored for AC-3 / E-AC-3; as pieces that
  // point into `payloads` and this stream, valid while both are.
  Status write_es(const PesPlan& pes, std::span<const model::Sample> samples,
                  std::span<const ByteSpan> payloads, EsPieces& out) const;

 private:
  Result<size_t> reserved_size(const model::Sample& s, ByteSpan payload) const;
  Status write_access_unit(const model::Sample& s, ByteSpan payload, EsPieces& out) const;

  model::Codec codec_ = model::Codec::kUnknown;
  bool video_ = false;
  uint8_t stream_type_ = 0;
  uint8_t stream_id_ = 0;
  Bytes descriptors_;
  uint32_t timescale_ = 0;
  int64_t decode_lead_ = 0;
  uint8_t nal_length_size_ = 4;
  Bytes parameter_sets_;  // Annex B: VPS, SPS, PPS with start codes
  Bytes aud_;             // Annex B access unit delimiter
  codec::AacConfig aac_;
};

// Packets a stream's samples of one segment take on its PID.
Result<uint64_t> count_packets(const Stream& stream, std::span<const model::Sample> samples,
                               std::span<const ByteSpan> payloads, bool pcr);

// The continuity counter of the stream's first packet in segment `segment`, for segments that
// start at `segment_starts` (indices into `samples`, all samples of the track, ascending; segment
// k ends where k + 1 starts). Cost: one pass of arithmetic over the index entries before the
// segment (no payload read unless size_needs_payload(), then `payloads` covers every sample).
Result<uint8_t> continuity_at(const Stream& stream, std::span<const model::Sample> samples,
                              std::span<const uint32_t> segment_starts, size_t segment, bool pcr,
                              std::span<const ByteSpan> payloads = {});

// The continuity counter of the stream's first packet in every segment of `track`: MPEG-TS
// segments of `per_segment` fragments (model/segments.h) played back to back, or with
// `key_units_only` the HLS I-frame segments (one per fragment, holding its first sample). One pass
// over the index; element k is segment k's counter. Fails where continuity_at would (payloads
// needed: NAL lengths other than 4 bytes).
Result<std::vector<uint8_t>> continuity_table(const Stream& stream, const model::Track& track,
                                              size_t per_segment, bool key_units_only, bool pcr);

}  // namespace ams::ts
