#include "ts/stream.h"

#include <algorithm>

#include "codec/ac3.h"
#include "codec/avc.h"
#include "codec/hevc.h"
#include "ts/packet.h"

namespace ams::ts {
namespace {

// An audio PES stays within 16-bit PES_packet_length (header after the length field: 8 bytes).
constexpr size_t kMaxAudioPesEs = 0xffff - 8;

void append_annexb(const std::vector<Bytes>& nals, Bytes& out) {
  for (const Bytes& nal : nals) {
    out.insert(out.end(), {0, 0, 0, 1});
    out.insert(out.end(), nal.begin(), nal.end());
  }
}

// MPEG-TS registration descriptor (tag 5) with an ATSC format identifier.
Bytes registration_descriptor(const char (&id)[5]) {
  return {0x05,
          0x04,
          static_cast<uint8_t>(id[0]),
          static_cast<uint8_t>(id[1]),
          static_cast<uint8_t>(id[2]),
          static_cast<uint8_t>(id[3])};
}

ByteSpan payload_at(std::span<const ByteSpan> payloads, size_t i) {
  return i < payloads.size() ? payloads[i] : ByteSpan();
}

}  // namespace

StreamConfig StreamConfig::from_track(const model::Track& track) {
  StreamConfig c;
  c.codec = track.codec;
  c.codec_private = track.codec_private;
  c.timescale = track.timescale;
  c.decode_lead = track.table ? track.table->decode_lead : 0;
  return c;
}

Result<Stream> Stream::create(const StreamConfig& config) {
  if (config.timescale == 0) return invalid_argument("ts: track timescale is 0");
  Stream s;
  s.codec_ = config.codec;
  s.timescale_ = config.timescale;
  s.decode_lead_ = config.decode_lead;
  switch (config.codec) {
    case model::Codec::kH264: {
      AMS_ASSIGN_OR_RETURN(codec::AvcConfig avc, codec::parse_avcc(config.codec_private));
      s.video_ = true;
      s.stream_type_ = 0x1b;
      s.nal_length_size_ = avc.nal_length_size;
      append_annexb(avc.sps, s.parameter_sets_);
      append_annexb(avc.pps, s.parameter_sets_);
      s.aud_ = {0, 0, 0, 1, 0x09, 0xf0};  // primary_pic_type 7: any slice type
      break;
    }
    case model::Codec::kH265: {
      AMS_ASSIGN_OR_RETURN(codec::HevcConfig hevc, codec::parse_hvcc(config.codec_private));
      s.video_ = true;
      s.stream_type_ = 0x24;
      s.nal_length_size_ = hevc.nal_length_size;
      append_annexb(hevc.vps, s.parameter_sets_);
      append_annexb(hevc.sps, s.parameter_sets_);
      append_annexb(hevc.pps, s.parameter_sets_);
      s.aud_ = {0, 0, 0, 1, 0x46, 0x01, 0x50};  // pic_type 2: I, P and B slices
      break;
    }
    case model::Codec::kAac: {
      AMS_ASSIGN_OR_RETURN(s.aac_, codec::parse_audio_specific_config(config.codec_private));
      AMS_RETURN_IF_ERROR(codec::check_adts_compatible(s.aac_));
      s.stream_type_ = 0x0f;
      break;
    }
    case model::Codec::kAc3:
    case model::Codec::kEac3: {
      const bool enhanced = config.codec == model::Codec::kEac3;
      // Parsed only to refuse a broken config early: the frames carry everything a decoder needs.
      auto parsed = enhanced ? codec::parse_dec3(config.codec_private)
                             : codec::parse_dac3(config.codec_private);
      if (!parsed.is_ok()) return parsed.status();
      s.stream_type_ = enhanced ? 0x87 : 0x81;  // ATSC A/52 stream types, as HLS uses them
      s.descriptors_ = registration_descriptor(enhanced ? "EAC3" : "AC-3");
      break;
    }
    default:
      return unsupported(std::string("ts: codec ") + model::codec_name(config.codec));
  }
  s.stream_id_ = s.video_ ? 0xe0 : s.stream_type_ == 0x0f ? 0xc0 : 0xbd;  // AC-3: private_stream_1
  return s;
}

uint16_t Stream::pid() const {
  return video_ ? kVideoPid : kAudioPid;
}

Result<size_t> Stream::reserved_size(const model::Sample& s, ByteSpan payload) const {
  if (!video_) {
    if (codec_ != model::Codec::kAac) return size_t{s.size};
    if (s.size + codec::kAdtsHeaderSize > codec::kAdtsMaxFrameSize) {
      return invalid_data("ts: AAC frame of " + std::to_string(s.size) + " bytes exceeds ADTS");
    }
    return s.size + codec::kAdtsHeaderSize;
  }
  size_t annexb = codec::annexb_size_from_sample_size(s.size);
  if (nal_length_size_ != 4) {
    if (payload.size() != s.size) return invalid_argument("ts: the size needs the sample payload");
    AMS_ASSIGN_OR_RETURN(annexb, codec::annexb_size(payload, nal_length_size_));
  }
  return annexb + aud_.size() + (s.sync ? parameter_sets_.size() : 0);
}

Result<std::vector<PesPlan>> Stream::plan(std::span<const model::Sample> samples,
                                          std::span<const ByteSpan> payloads, bool pcr) const {
  std::vector<PesPlan> out;
  for (size_t i = 0; i < samples.size(); ++i) {
    const model::Sample& s = samples[i];
    AMS_ASSIGN_OR_RETURN(size_t es, reserved_size(s, payload_at(payloads, i)));
    const int64_t pts = rescale(s.pts(), timescale_, kMpegTsTimescale) + kTimestampOffset90k;
    int64_t dts = pts;
    if (video_) {
      dts = rescale(s.dts - decode_lead_, timescale_, kMpegTsTimescale) + kTimestampOffset90k;
      dts = std::min(dts, pts);  // a negative stored composition offset cannot put DTS after PTS
    }
    if (dts < 0) return invalid_argument("ts: timestamp before the 10 s offset can absorb");
    if (!video_ && !out.empty()) {
      PesPlan& last = out.back();
      const model::Sample& first = samples[last.first_sample];
      const int128_t span = static_cast<int128_t>(s.dts) + s.duration - first.dts;
      if (last.reserved_es_size + es <= kMaxAudioPesEs && span * 10 <= timescale_) {
        last.reserved_es_size += es;
        ++last.sample_count;
        continue;
      }
    }
    if (!video_ && es > kMaxAudioPesEs) return invalid_data("ts: audio frame too large");
    out.push_back(PesPlan{i, 1, pts, dts, es, video_ ? s.sync : pcr, pcr, 0});
  }
  for (PesPlan& p : out) {
    const PesMarks marks{pid(), p.random_access,
                         p.pcr ? std::optional<int64_t>(p.dts) : std::nullopt};
    p.packet_count = pes_packet_count(pes_header_size(p.dts != p.pts) + p.reserved_es_size, marks);
  }
  return out;
}

Status Stream::write_access_unit(const model::Sample& s, ByteSpan payload, EsPieces& out) const {
  const codec::NalFormat format =
      codec_ == model::Codec::kH264 ? codec::NalFormat::kAvc : codec::NalFormat::kHevc;
  AMS_ASSIGN_OR_RETURN(codec::NalSummary summary,
                       codec::summarize_sample(payload, nal_length_size_, format));
  static constexpr uint8_t kStartCode[] = {0, 0, 0, 1};
  if (!summary.has_aud) out.borrow(aud_);
  bool params_due = s.sync && !summary.has_parameter_sets;
  const uint8_t aud_type = format == codec::NalFormat::kAvc ? 9 : codec::kHevcNalAud;
  AMS_RETURN_IF_ERROR(codec::for_each_nal(payload, nal_length_size_, [&](ByteSpan nal) {
    if (params_due && codec::nal_type(format, nal) != aud_type) {
      out.borrow(parameter_sets_);
      params_due = false;
    }
    out.borrow(kStartCode);
    out.borrow(nal);
  }));
  if (params_due) out.borrow(parameter_sets_);
  return Status::ok();
}

Status Stream::write_es(const PesPlan& pes, std::span<const model::Sample> samples,
                        std::span<const ByteSpan> payloads, EsPieces& out) const {
  for (size_t i = pes.first_sample; i < pes.first_sample + pes.sample_count; ++i) {
    const ByteSpan payload = payload_at(payloads, i);
    if (payload.size() != samples[i].size) {
      return invalid_argument("ts: payload of sample " + std::to_string(i) + " has the wrong size");
    }
    if (video_) {
      AMS_RETURN_IF_ERROR(write_access_unit(samples[i], payload, out));
      continue;
    }
    if (codec_ == model::Codec::kAac) {
      const size_t mark = out.mark();
      AMS_RETURN_IF_ERROR(codec::write_adts_header(aac_, payload.size(), out.kept()));
      out.keep_since(mark);
    }
    out.borrow(payload);
  }
  return Status::ok();
}

Result<uint64_t> count_packets(const Stream& stream, std::span<const model::Sample> samples,
                               std::span<const ByteSpan> payloads, bool pcr) {
  AMS_ASSIGN_OR_RETURN(std::vector<PesPlan> plans, stream.plan(samples, payloads, pcr));
  uint64_t n = 0;
  for (const PesPlan& p : plans) n += p.packet_count;
  return n;
}

Result<uint8_t> continuity_at(const Stream& stream, std::span<const model::Sample> samples,
                              std::span<const uint32_t> segment_starts, size_t segment, bool pcr,
                              std::span<const ByteSpan> payloads) {
  if (segment > segment_starts.size()) return invalid_argument("ts: segment index out of range");
  uint64_t total = 0;
  for (size_t k = 0; k < segment; ++k) {
    const size_t begin = segment_starts[k];
    const size_t end = k + 1 < segment_starts.size() ? segment_starts[k + 1] : samples.size();
    if (begin > end || end > samples.size()) return invalid_argument("ts: bad segment starts");
    const auto sub_payloads =
        payloads.size() >= end ? payloads.subspan(begin, end - begin) : std::span<const ByteSpan>();
    AMS_ASSIGN_OR_RETURN(
        uint64_t n, count_packets(stream, samples.subspan(begin, end - begin), sub_payloads, pcr));
    total += n;
  }
  return static_cast<uint8_t>(total & 0xf);
}

Result<std::vector<uint8_t>> continuity_table(const Stream& stream, const model::Track& track,
                                              size_t per_segment, bool key_units_only, bool pcr) {
  const std::vector<model::Sample>& all = track.samples();
  const size_t k = key_units_only ? 1 : std::max<size_t>(1, per_segment);
  const size_t n = (track.fragments.size() + k - 1) / k;
  std::vector<uint8_t> table;
  table.reserve(n);
  uint64_t total = 0;
  for (size_t seg = 0; seg < n; ++seg) {
    table.push_back(static_cast<uint8_t>(total & 0xf));
    const model::Fragment& first = track.fragments[seg * k];
    size_t count = 1;
    if (!key_units_only) {
      const size_t last = std::min(track.fragments.size(), seg * k + k) - 1;
      count = track.fragments[last].first_sample + track.fragments[last].sample_count -
              first.first_sample;
    }
    if (first.first_sample + count > all.size()) return invalid_argument("ts: bad fragments");
    AMS_ASSIGN_OR_RETURN(
        uint64_t packets,
        count_packets(stream,
                      std::span<const model::Sample>(all).subspan(first.first_sample, count), {},
                      pcr));
    total += packets;
  }
  return table;
}

}  // namespace ams::ts
