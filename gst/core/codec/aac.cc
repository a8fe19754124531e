#include "codec/aac.h"

#include "codec/bit_reader.h"

namespace ams::codec {
namespace {

constexpr uint32_t kRates[13] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                 22050, 16000, 12000, 11025, 8000,  7350};

bool read_object_type(BitReader& br, uint8_t& type) {
  uint32_t v = 0;
  if (!br.read(5, v)) return false;
  if (v == 31) {
    uint32_t ext = 0;
    if (!br.read(6, ext)) return false;
    v = 32 + ext;
  }
  type = static_cast<uint8_t>(v);
  return true;
}

Status read_rate(BitReader& br, uint8_t& index, uint32_t& rate) {
  uint32_t v = 0;
  if (!br.read(4, v)) return truncated("AudioSpecificConfig: samplingFrequencyIndex");
  index = static_cast<uint8_t>(v);
  if (v == 0xf) {
    if (!br.read(24, rate)) return truncated("AudioSpecificConfig: samplingFrequency");
  } else {
    rate = aac_sample_rate(index);
  }
  if (rate == 0) return invalid_data("AudioSpecificConfig: reserved sampling rate");
  return Status::ok();
}

}  // namespace

uint32_t aac_sample_rate(uint8_t sampling_index) {
  return sampling_index < 13 ? kRates[sampling_index] : 0;
}

Result<AacConfig> parse_audio_specific_config(ByteSpan data) {
  BitReader br(data);
  AacConfig cfg;
  uint32_t channels = 0;
  if (!read_object_type(br, cfg.object_type))
    return truncated("AudioSpecificConfig: audioObjectType");
  if (cfg.object_type == 0) return invalid_data("AudioSpecificConfig: object type 0");
  AMS_RETURN_IF_ERROR(read_rate(br, cfg.sampling_index, cfg.sample_rate));
  if (!br.read(4, channels)) return truncated("AudioSpecificConfig: channelConfiguration");
  cfg.channel_config = static_cast<uint8_t>(channels);
  cfg.core_object_type = cfg.object_type;
  cfg.output_sample_rate = cfg.sample_rate;
  if (cfg.object_type == 5 || cfg.object_type == 29) {
    uint8_t ext_index = 0;
    AMS_RETURN_IF_ERROR(read_rate(br, ext_index, cfg.output_sample_rate));
    if (!read_object_type(br, cfg.core_object_type)) {
      return truncated("AudioSpecificConfig: core audioObjectType");
    }
    if (cfg.core_object_type == 22 &&
        !br.skip(4)) {  // ER BSAC carries extensionChannelConfiguration
      return truncated("AudioSpecificConfig: extensionChannelConfiguration");
    }
  }
  return cfg;
}

std::string aac_codec_string(const AacConfig& cfg) {
  return "mp4a.40." + std::to_string(cfg.object_type);
}

Status check_adts_compatible(const AacConfig& cfg) {
  if (cfg.core_object_type < 1 || cfg.core_object_type > 4) {
    return unsupported("ADTS cannot carry AAC object type " + std::to_string(cfg.core_object_type));
  }
  if (cfg.sampling_index > 12) return unsupported("ADTS cannot carry an explicit sampling rate");
  if (cfg.channel_config > 7) return unsupported("ADTS cannot carry channel configuration > 7");
  return Status::ok();
}

Status write_adts_header(const AacConfig& cfg, size_t payload_size, ByteWriter& out) {
  AMS_RETURN_IF_ERROR(check_adts_compatible(cfg));
  const size_t frame = payload_size + kAdtsHeaderSize;
  if (frame > kAdtsMaxFrameSize) return invalid_data("AAC frame too large for ADTS");
  const uint32_t profile = cfg.core_object_type - 1u;
  out.u8(0xff);
  out.u8(0xf1);  // sync, MPEG-4, layer 0, no CRC
  out.u8(
      static_cast<uint8_t>((profile << 6) | (cfg.sampling_index << 2) | (cfg.channel_config >> 2)));
  out.u8(static_cast<uint8_t>(((cfg.channel_config & 3) << 6) | (frame >> 11)));
  out.u8(static_cast<uint8_t>(frame >> 3));
  out.u8(static_cast<uint8_t>(((frame & 7) << 5) | 0x1f));  // buffer fullness 0x7ff: VBR
  out.u8(0xfc);                                             // one raw data block
  return Status::ok();
}

Bytes make_audio_specific_config(uint8_t object_type, uint32_t sample_rate, uint32_t channels) {
  BitWriter bw;
  if (object_type >= 32) {  // 31 is the escape value itself, not a type
    bw.put(5, 31);
    bw.put(6, object_type - 32u);
  } else {
    bw.put(5, object_type);
  }
  uint32_t index = 0xf;
  for (uint32_t i = 0; i < 13; ++i) {
    if (kRates[i] == sample_rate) index = i;
  }
  bw.put(4, index);
  if (index == 0xf) bw.put(24, sample_rate);
  const uint32_t config = channels >= 1 && channels <= 6 ? channels : channels == 8 ? 7 : 0;
  bw.put(4, config);
  bw.put(3, 0);  // frameLengthFlag, dependsOnCoreCoder, extensionFlag
  return bw.take();
}

}  // namespace ams::codec
