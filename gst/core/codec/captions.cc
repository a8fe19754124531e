#include "codec/captions.h"

#include <vector>

namespace ams::codec {
namespace {

// The RBSP of a NAL unit's payload: emulation prevention bytes (00 00 03) removed.
std::vector<uint8_t> rbsp_of(ByteSpan payload) {
  std::vector<uint8_t> out;
  out.reserve(payload.size());
  size_t zeros = 0;
  for (uint8_t b : payload) {
    if (zeros >= 2 && b == 3) {
      zeros = 0;
      continue;
    }
    zeros = b == 0 ? zeros + 1 : 0;
    out.push_back(b);
  }
  return out;
}

// cc_data() of ATSC A/53 (after user_data_type_code 3): the 608 pairs it holds.
void scan_cc_data(ByteSpan d, Cea608ScanState& state, Cea608Channels& channels) {
  if (d.size() < 2) return;
  const bool process = (d[0] & 0x40) != 0;
  const size_t count = d[0] & 0x1F;
  if (!process) return;
  size_t at = 2;  // past em_data
  for (size_t i = 0; i < count && at + 3 <= d.size(); ++i, at += 3) {
    const bool valid = (d[at] & 0x04) != 0;
    const uint8_t type = d[at] & 0x03;
    if (!valid || type > 1) continue;                            // 2 and 3: CEA-708 (DTVCC) data
    const uint8_t b1 = d[at + 1] & 0x7F, b2 = d[at + 2] & 0x7F;  // parity off
    if (b1 == 0 && b2 == 0) continue;                            // null padding
    // A control code (first byte 0x10..0x1F) names the channel of its field by bit 3.
    if (b1 >= 0x10 && b1 <= 0x1F) state.second_channel[type] = (b1 & 0x08) ? 1 : 0;
    channels |= static_cast<Cea608Channels>(1u << (type * 2 + state.second_channel[type]));
  }
}

// user_data_registered_itu_t_t35 (SEI payload type 4).
void scan_t35(ByteSpan p, Cea608ScanState& state, Cea608Channels& channels) {
  // country 0xB5 (United States), provider 0x0031 (ATSC), "GA94", type 3 (cc_data).
  static constexpr uint8_t kHeader[] = {0xB5, 0x00, 0x31, 'G', 'A', '9', '4', 0x03};
  if (p.size() < sizeof kHeader) return;
  for (size_t i = 0; i < sizeof kHeader; ++i) {
    if (p[i] != kHeader[i]) return;
  }
  scan_cc_data(p.subspan(sizeof kHeader), state, channels);
}

// The SEI messages of an SEI RBSP.
void scan_sei(const std::vector<uint8_t>& rbsp, Cea608ScanState& state, Cea608Channels& channels) {
  size_t at = 0;
  while (at < rbsp.size()) {
    if (rbsp[at] == 0x80 && at + 1 == rbsp.size()) return;  // rbsp_trailing_bits
    uint32_t type = 0, size = 0;
    while (at < rbsp.size() && rbsp[at] == 0xFF && type < 0xFFFF) type += rbsp[at++];
    if (at >= rbsp.size()) return;
    type += rbsp[at++];
    while (at < rbsp.size() && rbsp[at] == 0xFF && size < 0xFFFFFF) size += rbsp[at++];
    if (at >= rbsp.size()) return;
    size += rbsp[at++];
    if (size > rbsp.size() - at) return;
    if (type == 4) scan_t35(ByteSpan(rbsp).subspan(at, size), state, channels);
    at += size;
  }
}

}  // namespace

bool is_sei_nal(NalFormat format, uint8_t type) {
  // HEVC's suffix SEI (40) carries none of these.
  return type == (format == NalFormat::kAvc ? 6 : 39);
}

bool is_slice_nal(NalFormat format, uint8_t type) {
  return format == NalFormat::kAvc ? type >= 1 && type <= 5 : type <= 31;
}

void scan_cea608_nal(ByteSpan nal, NalFormat format, Cea608ScanState& state,
                     Cea608Channels& channels) {
  const size_t header = format == NalFormat::kAvc ? 1 : 2;
  if (nal.size() <= header || !is_sei_nal(format, nal_type(format, nal))) return;
  scan_sei(rbsp_of(nal.subspan(header)), state, channels);
}

void scan_cea608(ByteSpan sample, uint8_t nal_length_size, NalFormat format, Cea608ScanState& state,
                 Cea608Channels& channels) {
  (void)for_each_nal(sample, nal_length_size,
                     [&](ByteSpan nal) { scan_cea608_nal(nal, format, state, channels); });
}

}  // namespace ams::codec
