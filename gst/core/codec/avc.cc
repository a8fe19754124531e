#include "codec/avc.h"

namespace ams::codec {
namespace {

Status read_nal_list(ByteReader& r, size_t count, std::vector<Bytes>& out, const char* what) {
  for (size_t i = 0; i < count; ++i) {
    uint16_t len = 0;
    if (!r.read_u16(len)) return truncated(std::string("avcC: ") + what + " length");
    if (len == 0) return invalid_data(std::string("avcC: empty ") + what);
    Bytes nal;
    if (!r.read_bytes(len, nal))
      return truncated(std::string("avcC: ") + what + " exceeds the record");
    out.push_back(std::move(nal));
  }
  return Status::ok();
}

}  // namespace

Result<AvcConfig> parse_avcc(ByteSpan data) {
  ByteReader r(data);
  uint8_t version = 0, length_byte = 0, sps_byte = 0, pps_count = 0;
  AvcConfig cfg;
  if (!r.read_u8(version) || !r.read_u8(cfg.profile) || !r.read_u8(cfg.profile_compat) ||
      !r.read_u8(cfg.level) || !r.read_u8(length_byte) || !r.read_u8(sps_byte)) {
    return truncated("avcC: shorter than its 6-byte header");
  }
  if (version != 1) return unsupported("avcC: configurationVersion " + std::to_string(version));
  cfg.nal_length_size = static_cast<uint8_t>((length_byte & 3) + 1);
  if (cfg.nal_length_size == 3) return invalid_data("avcC: lengthSizeMinusOne 2 is reserved");
  AMS_RETURN_IF_ERROR(read_nal_list(r, sps_byte & 0x1f, cfg.sps, "SPS"));
  if (!r.read_u8(pps_count)) return truncated("avcC: numOfPictureParameterSets");
  AMS_RETURN_IF_ERROR(read_nal_list(r, pps_count, cfg.pps, "PPS"));
  // High-profile extension fields (chroma format, bit depths, SPS extensions) may follow; nothing
  // here needs them.
  return cfg;
}

std::string avc_codec_string(std::string_view fourcc, const AvcConfig& cfg) {
  const uint8_t pcl[] = {cfg.profile, cfg.profile_compat, cfg.level};
  return std::string(fourcc) + "." + to_hex(pcl);
}

std::string smooth_codec_private_data(const AvcConfig& cfg) {
  std::string s;
  for (const Bytes& nal : cfg.sps) s += "00000001" + to_hex(nal, /*upper=*/true);
  for (const Bytes& nal : cfg.pps) s += "00000001" + to_hex(nal, /*upper=*/true);
  return s;
}

}  // namespace ams::codec
