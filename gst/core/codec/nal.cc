#include "codec/nal.h"

#include "codec/hevc.h"

namespace ams::codec {
namespace {

constexpr uint8_t kAvcNalIdr = 5;
constexpr uint8_t kAvcNalSps = 7;
constexpr uint8_t kAvcNalAud = 9;

}  // namespace

Status for_each_nal(ByteSpan sample, uint8_t nal_length_size,
                    const std::function<void(ByteSpan nal)>& fn) {
  if (nal_length_size < 1 || nal_length_size > 4) {
    return invalid_argument("NAL length size " + std::to_string(nal_length_size));
  }
  // Validate the whole sample first so that callers never see a partial walk.
  for (int pass = 0; pass < 2; ++pass) {
    size_t pos = 0;
    while (pos < sample.size()) {
      if (sample.size() - pos < nal_length_size) return truncated("NAL length prefix cut short");
      uint32_t len = 0;
      for (uint8_t i = 0; i < nal_length_size; ++i) len = (len << 8) | sample[pos + i];
      pos += nal_length_size;
      if (len > sample.size() - pos) return truncated("NAL unit runs past the sample");
      if (pass == 1) fn(sample.subspan(pos, len));
      pos += len;
    }
  }
  return Status::ok();
}

Status length_prefixed_to_annexb(ByteSpan sample, uint8_t nal_length_size, ByteWriter& out) {
  return for_each_nal(sample, nal_length_size, [&out](ByteSpan nal) {
    out.u32(1);
    out.bytes(nal);
  });
}

Result<size_t> annexb_size(ByteSpan sample, uint8_t nal_length_size) {
  size_t size = 0;
  AMS_RETURN_IF_ERROR(for_each_nal(sample, nal_length_size,
                                   [&size](ByteSpan nal) { size += kStartCodeSize + nal.size(); }));
  return size;
}

uint8_t nal_type(NalFormat format, ByteSpan nal) {
  if (nal.empty()) return 0xff;
  return format == NalFormat::kAvc ? (nal[0] & 0x1f) : ((nal[0] >> 1) & 0x3f);
}

Result<NalSummary> summarize_sample(ByteSpan sample, uint8_t nal_length_size, NalFormat format) {
  NalSummary s;
  AMS_RETURN_IF_ERROR(for_each_nal(sample, nal_length_size, [&](ByteSpan nal) {
    ++s.count;
    if (nal.empty()) return;
    const uint8_t type = nal_type(format, nal);
    if (format == NalFormat::kAvc) {
      s.has_aud |= type == kAvcNalAud;
      s.has_parameter_sets |= type == kAvcNalSps;
      s.has_idr |= type == kAvcNalIdr;
    } else {
      s.has_aud |= type == kHevcNalAud;
      s.has_parameter_sets |= type == kHevcNalVps || type == kHevcNalSps;
      s.has_idr |= type >= 16 && type <= 23;
    }
  }));
  return s;
}

}  // namespace ams::codec
