// libFuzzer target over the codec parsers: hostile configs and samples must give a Status, never a
// crash, an overrun or a huge allocation. The first byte picks the parser. NAL samples also go
// through the CEA-608 caption scan (SEI parsing).
#include <cstddef>
#include <cstdint>

#include "codec/aac.h"
#include "codec/ac3.h"
#include "codec/avc.h"
#include "codec/captions.h"
#include "codec/hevc.h"
#include "codec/nal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const ams::ByteSpan in(data + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      if (auto c = ams::codec::parse_avcc(in); c.is_ok()) {
        (void)ams::codec::avc_codec_string("avc1", *c);
        (void)ams::codec::smooth_codec_private_data(*c);
      }
      break;
    case 1:
      if (auto c = ams::codec::parse_hvcc(in); c.is_ok()) {
        (void)ams::codec::hevc_codec_string("hvc1", *c);
      }
      break;
    case 2:
      if (auto c = ams::codec::parse_audio_specific_config(in); c.is_ok()) {
        ams::ByteWriter w;
        (void)ams::codec::write_adts_header(*c, in.size(), w);
        (void)ams::codec::aac_codec_string(*c);
      }
      break;
    case 3:
      (void)ams::codec::parse_dac3(in);
      (void)ams::codec::parse_dec3(in);
      break;
    default: {
      const uint8_t nal_length_size = static_cast<uint8_t>(data[0] / 6 % 5);
      ams::ByteWriter w;
      const bool converted = ams::codec::length_prefixed_to_annexb(in, nal_length_size, w).is_ok();
      auto size = ams::codec::annexb_size(in, nal_length_size);
      if (converted != size.is_ok() || (converted && *size != w.size())) __builtin_trap();
      (void)ams::codec::summarize_sample(in, nal_length_size, ams::codec::NalFormat::kAvc);
      (void)ams::codec::summarize_sample(in, nal_length_size, ams::codec::NalFormat::kHevc);
      // The CEA-608 scan of the SEI in those NAL units: only CC1..CC4 bits, whatever the bytes.
      for (auto format : {ams::codec::NalFormat::kAvc, ams::codec::NalFormat::kHevc}) {
        ams::codec::Cea608ScanState state;
        ams::codec::Cea608Channels channels = 0;
        ams::codec::scan_cea608(in, nal_length_size, format, state, channels);
        if (channels > 0x0F) __builtin_trap();
      }
      break;
    }
  }
  return 0;
}
