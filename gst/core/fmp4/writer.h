// The fragmented-MP4 writer: init segments and media fragments of one track, written from the
// model alone (the sample table gives every time, size and flag; only the payload comes from the
// file). Pure functions: no GStreamer, no I/O except read_fragment_payload. docs/fragments.md
// says what each variant writes and why.
//
//   Variant   URL format                    init segment        fragment
//   kCmaf     m3u8-cmaf, mpd-time-cmaf      ftyp cmf2 + moov    styp cmfs, moof(tfdt), mdat
//   kDash     mpd-time-csf                  ftyp iso6 + moov    styp msdh, moof(tfdt), mdat
//   kSmooth   Smooth Streaming (PIFF 1.1)   none (client-made)  moof(tfxd), mdat
//
// CMAF and DASH fragments keep the track's own timescale (tfdt = decode time of the first
// sample); Smooth fragments are in the 10 MHz manifest timescale, as Smooth clients build their
// init segment from the client manifest's TimeScale.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "model/media_file.h"
#include "model/presentation.h"

namespace ams::fmp4 {

enum class Variant { kCmaf, kDash, kSmooth };

const char* variant_name(Variant v);  // "cmaf", "dash", "smooth"

// The track ID every segment uses: one track per init segment (as CMAF requires), so 1 everywhere.
inline constexpr uint32_t kTrackId = 1;

struct Protection;  // fmp4/protection.h

// How far the track's decoding runs ahead of its presentation (SampleTable::decode_lead; 0 without
// a table). Non-Smooth fragments add it to every composition offset, and the init segment's edit
// list (one edit of duration 0, media time = the lead) takes it off again.
inline int64_t decode_lead(const model::Track& track) {
  return track.table ? track.table->decode_lead : 0;
}

// ftyp + moov (mvhd, trak with an empty sample table and the sample entry rebuilt from the
// model's fourcc and codec_private, an offset edit list when decode_lead > 0, mvex/trex and
// mehd). Smooth has no init segment: kInvalidArgument. Codecs: avc1/avc3 (avcC), hvc1/hev1
// (hvcC), mp4a (esds built around the AudioSpecificConfig), ac-3 (dac3), ec-3 (dec3); others are
// kUnsupported. With `protection`, the init segment of the protected track (fmp4/protection.h):
// encv/enca with sinf, and its pssh boxes.
Status write_init_segment(const model::Track& track, Variant variant, ByteWriter& out,
                          const Protection* protection = nullptr);

// The payload of one fragment's samples, in decode order: either one span per sample, or one
// span holding them all back to back. A size-only writer needs none (leave it empty).
struct FragmentPayload {
  std::vector<ByteSpan> samples;
};

// [styp] moof mdat of fragment `fragment_index` of `track`. With ByteWriter::size_only() the
// payload is not looked at and out.size() grows by the exact fragment size. Otherwise every
// sample's payload must have the size the sample table gives (kInvalidArgument if not).
Status write_fragment(const model::Track& track, size_t fragment_index, Variant variant,
                      const FragmentPayload& payload, ByteWriter& out);

// What write_fragment writes before the payload: [styp] moof and the mdat header. The payload
// that follows is the fragment's samples in decode order, back to back and unchanged, so a caller
// can send the samples' own memory after it instead of copying it (fragment_size - this size is
// the payload's).
Status write_fragment_header(const model::Track& track, size_t fragment_index, Variant variant,
                             ByteWriter& out);

// write_fragment for a protected track: the traf gains senc, saiz and saio, and the samples'
// protected ranges are encrypted into `out` (one copy: the ciphertext). The subsample maps of
// video depend on its NAL units, so even a size-only writer needs the payload of video.
Status write_protected_fragment(const model::Track& track, size_t fragment_index, Variant variant,
                                const Protection& protection, const FragmentPayload& payload,
                                ByteWriter& out);

// The size of write_fragment's output, from the index alone (Content-Length, HEAD).
Result<uint64_t> fragment_size(const model::Track& track, size_t fragment_index, Variant variant);

// Reads the payload of a fragment from the track's file with one pread per run of samples that
// are contiguous in the file. Returns the buffer and fills `sample_spans` with one span per
// sample pointing into it (a vector's heap buffer survives moves, so the spans stay valid while
// the returned Bytes, or whatever it is moved into, lives).
Result<Bytes> read_fragment_payload(const model::Track& track, size_t fragment_index,
                                    const model::MediaFile& file,
                                    std::vector<ByteSpan>& sample_spans);

// Text tracks served as TTML (text/ttml.h), in DASH and Smooth (docs/subtitles.md). Their media
// timescale is the manifest's 10 MHz, so a fragment's decode time is its $Time$ in the MPD.
//
// The init segment of text track `track` (a side-car): ftyp (CMAF: with the IMSC1 text brand
// im1t) + moov, handler 'subt', media header sthd, sample entry 'stpp' with the TTML namespace.
Status write_ttml_init_segment(const model::Track& track, Variant variant, ByteWriter& out);

// One text fragment: [styp] moof (tfdt, or tfxd for Smooth) mdat, one sync sample of
// `duration_10mhz` holding `document` (a whole TTML document), decoded at `start_10mhz`.
// `sequence_number` is mfhd's (1 for the first fragment).
Status write_ttml_fragment(uint32_t sequence_number, int64_t start_10mhz, int64_t duration_10mhz,
                           std::string_view document, Variant variant, ByteWriter& out);

}  // namespace ams::fmp4
