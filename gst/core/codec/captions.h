// CEA-608 closed captions carried in H.264 and HEVC video (ATSC A/53 Part 4, ANSI/SCTE 128): SEI
// messages of type user_data_registered_itu_t_t35 (country 0xB5, provider 0x0031, user identifier
// "GA94", user_data_type_code 3) holding cc_data triplets. Found here so that the manifests can
// signal them (HLS CLOSED-CAPTIONS, the DASH Accessibility descriptor); the samples themselves pass
// through untouched. Pure: no file access.
#pragma once

#include <cstdint>

#include "base/bytes.h"
#include "codec/nal.h"

namespace ams::codec {

// CC1..CC4 as bits 0..3: which CEA-608 channels a sample's cc_data carries data for (a valid
// byte pair other than null padding; field 1 holds CC1 and CC2, field 2 CC3 and CC4, the channel
// of a field given by its last control code, CC1/CC3 before any).
using Cea608Channels = uint8_t;

// The CEA-608 channels in the SEI of one length-prefixed sample, added to `channels`. Malformed
// NAL units or SEI messages are skipped (never an error: captions only add signalling). `state`
// carries the current channel of each field from one sample to the next (0 for CC1/CC3).
struct Cea608ScanState {
  uint8_t second_channel[2] = {0, 0};  // per field: 1 when the last control code named CC2/CC4
};
void scan_cea608(ByteSpan sample, uint8_t nal_length_size, NalFormat format, Cea608ScanState& state,
                 Cea608Channels& channels);

// The same for one NAL unit (its header included); anything but an SEI NAL unit adds nothing.
void scan_cea608_nal(ByteSpan nal, NalFormat format, Cea608ScanState& state,
                     Cea608Channels& channels);

// Whether a NAL unit of this type is one of SEI's kind (H.264 6, HEVC prefix SEI 39), and whether
// it is a coded slice (H.264 1..5, HEVC 0..31), after which no SEI of the access unit may come
// (ISO/IEC 14496-10 7.4.1.2.3, ISO/IEC 23008-2 7.4.2.4.4): a reader can stop there.
bool is_sei_nal(NalFormat format, uint8_t type);
bool is_slice_nal(NalFormat format, uint8_t type);

}  // namespace ams::codec
