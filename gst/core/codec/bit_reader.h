// Reads MSB-first bit fields (AudioSpecificConfig, dac3/dec3), bounds-checked like ByteReader.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.h"

namespace ams::codec {

class BitReader {
 public:
  explicit BitReader(ByteSpan data) : data_(data) {}

  size_t bits_left() const { return data_.size() * 8 - pos_; }

  // Reads `n` (at most 32) bits; false, position unchanged, when fewer remain.
  bool read(unsigned n, uint32_t& v) {
    if (n > 32 || n > bits_left()) return false;
    uint32_t x = 0;
    for (unsigned i = 0; i < n; ++i) {
      const uint8_t byte = data_[(pos_ + i) / 8];
      x = (x << 1) | ((byte >> (7 - (pos_ + i) % 8)) & 1u);
    }
    pos_ += n;
    v = x;
    return true;
  }
  bool skip(size_t n) {
    if (n > bits_left()) return false;
    pos_ += n;
    return true;
  }

 private:
  ByteSpan data_;
  size_t pos_ = 0;
};

// Writes MSB-first bit fields into a byte vector, the last byte zero-padded.
class BitWriter {
 public:
  void put(unsigned n, uint32_t v) {
    for (unsigned i = n; i-- > 0;) {
      if (bits_ % 8 == 0) out_.push_back(0);
      if ((v >> i) & 1u) out_.back() |= static_cast<uint8_t>(0x80u >> (bits_ % 8));
      ++bits_;
    }
  }
  Bytes take() { return std::move(out_); }

 private:
  Bytes out_;
  size_t bits_ = 0;
};

}  // namespace ams::codec
