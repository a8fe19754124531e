// MPEG-2 transport stream packets (ISO/IEC 13818-1): the PAT and PMT, PES headers, and the
// packetizer that spreads one PES over a number of 188-byte packets fixed in advance.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace ams::ts {

inline constexpr size_t kPacketSize = 188;
inline constexpr size_t kPacketPayloadSize = 184;

// PIDs and ids, the values ffmpeg's muxer uses, so our segments look like what players most often
// see: PMT 0x1000, elementary streams from 0x100.
inline constexpr uint16_t kPatPid = 0x0000;
inline constexpr uint16_t kPmtPid = 0x1000;
inline constexpr uint16_t kVideoPid = 0x0100;
inline constexpr uint16_t kAudioPid = 0x0101;
inline constexpr uint16_t kTransportStreamId = 1;
inline constexpr uint16_t kProgramNumber = 1;

// CRC-32/MPEG-2 (polynomial 0x04C11DB7, initial 0xFFFFFFFF, no reflection) of a PSI section.
uint32_t crc32_mpeg2(ByteSpan data);

struct PmtEntry {
  uint8_t stream_type = 0;
  uint16_t pid = 0;
  ByteSpan descriptors;  // ES_info descriptors, written as given
};

// One whole packet each (the sections are far below 183 bytes).
void write_pat(uint8_t continuity, ByteWriter& out);
void write_pmt(uint16_t pcr_pid, std::span<const PmtEntry> streams, uint8_t continuity,
               ByteWriter& out);

// The PES header: 14 bytes with a PTS, 19 with PTS and DTS.
inline constexpr size_t pes_header_size(bool has_dts) {
  return has_dts ? 19 : 14;
}
// `es_size` fills PES_packet_length; 0 (unbounded, video only) when it does not fit 16 bits.
void write_pes_header(uint8_t stream_id, int64_t pts, std::optional<int64_t> dts, size_t es_size,
                      bool data_alignment, ByteWriter& out);

// How the first packet of a PES is marked. Times in 90 kHz; PCR written as base only.
struct PesMarks {
  uint16_t pid = 0;
  bool random_access = false;
  std::optional<int64_t> pcr;
};

// Bytes of adaptation field the marks put in the first packet: 0, 2 (flags) or 8 (flags + PCR).
size_t first_packet_adaptation_size(const PesMarks& marks);

// Packets a PES of `pes_size` bytes (header included) needs: the count is a function of the size
// and the marks alone.
uint64_t pes_packet_count(size_t pes_size, const PesMarks& marks);

// A PES's elementary stream as the pieces it is made of, in order, so that the packets copy each
// byte once, straight from where it is: spans that stay valid until the packets are written (a
// sample's NAL units or audio frame, a stream's parameter sets, a start code), and small bytes
// made for it and kept here (ADTS headers).
class EsPieces {
 public:
  void borrow(ByteSpan s) {
    if (!s.empty()) pieces_.push_back({s.data(), 0, s.size()});
    size_ += s.size();
  }
  // Bytes written to kept() from here on become a piece of their own at keep_since(mark).
  size_t mark() const { return kept_.size(); }
  ByteWriter& kept() { return kept_; }
  void keep_since(size_t mark) {
    const size_t n = kept_.size() - mark;
    if (n > 0) pieces_.push_back({nullptr, mark, n});
    size_ += n;
  }
  size_t size() const { return size_; }
  void clear() {
    pieces_.clear();
    kept_ = ByteWriter();
    size_ = 0;
  }
  // Calls f(ByteSpan) for each piece, in order.
  template <typename F>
  void for_each(F&& f) const {
    const Bytes& kept = kept_.bytes();
    for (const Piece& p : pieces_) {
      f(p.data != nullptr ? ByteSpan(p.data, p.size) : ByteSpan(kept).subspan(p.offset, p.size));
    }
  }

 private:
  struct Piece {
    const uint8_t* data;  // null: bytes of kept_ from offset
    size_t offset;
    size_t size;
  };
  std::vector<Piece> pieces_;
  ByteWriter kept_;
  size_t size_ = 0;
};

// Writes the PES `header` followed by `es` in exactly `packet_count` packets, as the
// one-buffer overload below does with header and es back to back.
Status write_pes_packets(ByteSpan header, const EsPieces& es, uint64_t packet_count,
                         const PesMarks& marks, uint8_t& continuity, ByteWriter& out);

// Writes `pes` in exactly `packet_count` packets (at least pes_packet_count(pes.size())), each
// carrying at least one payload byte, with adaptation-field stuffing where the bytes run short:
// that lets the caller fix the count from an upper bound of the size. `continuity` is the
// counter of the first packet and is advanced past the last.
Status write_pes_packets(ByteSpan pes, uint64_t packet_count, const PesMarks& marks,
                         uint8_t& continuity, ByteWriter& out);

}  // namespace ams::ts
