// Big-endian byte reading and writing, the way ISO BMFF, MPEG-TS and codec configs store numbers.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ams {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

// Reads from a span it does not own. Every read is bounds-checked: a read past the end returns
// false, leaves the position unchanged, and the reader stays usable.
class ByteReader {
 public:
  ByteReader() = default;
  explicit ByteReader(ByteSpan data) : data_(data) {}

  size_t position() const { return pos_; }
  size_t size() const { return data_.size(); }
  size_t remaining() const { return data_.size() - pos_; }
  bool at_end() const { return pos_ == data_.size(); }
  ByteSpan data() const { return data_; }
  ByteSpan rest() const { return data_.subspan(pos_); }

  bool skip(size_t n) {
    if (n > remaining()) return false;
    pos_ += n;
    return true;
  }
  bool seek(size_t pos) {
    if (pos > data_.size()) return false;
    pos_ = pos;
    return true;
  }

  bool read_u8(uint8_t& v) { return read_be(v, 1); }
  bool read_u16(uint16_t& v) { return read_be(v, 2); }
  bool read_u24(uint32_t& v) { return read_be(v, 3); }
  bool read_u32(uint32_t& v) { return read_be(v, 4); }
  bool read_u64(uint64_t& v) { return read_be(v, 8); }
  bool read_i16(int16_t& v) { return read_signed(v); }
  bool read_i32(int32_t& v) { return read_signed(v); }
  bool read_i64(int64_t& v) { return read_signed(v); }
  bool read_span(size_t n, ByteSpan& out) {
    if (n > remaining()) return false;
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool read_bytes(size_t n, Bytes& out) {
    ByteSpan s;
    if (!read_span(n, s)) return false;
    out.assign(s.begin(), s.end());
    return true;
  }
  // A sub-reader over the next n bytes; this reader moves past them.
  bool sub_reader(size_t n, ByteReader& out) {
    ByteSpan s;
    if (!read_span(n, s)) return false;
    out = ByteReader(s);
    return true;
  }

 private:
  template <typename T>
  bool read_be(T& v, size_t n) {
    if (n > remaining()) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; ++i) x = (x << 8) | data_[pos_ + i];
    v = static_cast<T>(x);
    pos_ += n;
    return true;
  }
  template <typename T>
  bool read_signed(T& v) {
    std::make_unsigned_t<T> u;
    if (!read_be(u, sizeof(T))) return false;
    v = static_cast<T>(u);
    return true;
  }

  ByteSpan data_;
  size_t pos_ = 0;
};

// Appends big-endian values to a vector, or, in size-only mode, only counts them: the same
// writing code then gives Content-Length without producing the bytes.
class ByteWriter {
 public:
  ByteWriter() = default;
  static ByteWriter size_only() {
    ByteWriter w;
    w.counting_ = true;
    return w;
  }

  bool counting() const { return counting_; }
  size_t size() const { return counting_ ? count_ : out_.size(); }
  const Bytes& bytes() const { return out_; }
  Bytes take() { return std::move(out_); }
  void reserve(size_t n) {
    if (!counting_) out_.reserve(n);
  }

  void u8(uint8_t v) { put_be(v, 1); }
  void u16(uint16_t v) { put_be(v, 2); }
  void u24(uint32_t v) { put_be(v, 3); }
  void u32(uint32_t v) { put_be(v, 4); }
  void u64(uint64_t v) { put_be(v, 8); }
  void i16(int16_t v) { put_be(static_cast<uint16_t>(v), 2); }
  void i32(int32_t v) { put_be(static_cast<uint32_t>(v), 4); }
  void i64(int64_t v) { put_be(static_cast<uint64_t>(v), 8); }
  void bytes(ByteSpan s) {
    if (counting_) {
      count_ += s.size();
      return;
    }
    out_.insert(out_.end(), s.begin(), s.end());
  }
  void fourcc(std::string_view s) {
    for (size_t i = 0; i < 4; ++i) u8(i < s.size() ? static_cast<uint8_t>(s[i]) : ' ');
  }
  void zeros(size_t n) {
    if (counting_) {
      count_ += n;
      return;
    }
    out_.insert(out_.end(), n, 0);
  }
  // Appends `n` bytes (zero until the caller writes them) and returns where they start, for a
  // writer that fills a block it has sized (TS packets); null when counting.
  uint8_t* append_space(size_t n) {
    if (counting_) {
      count_ += n;
      return nullptr;
    }
    const size_t at = out_.size();
    out_.resize(at + n);
    return out_.data() + at;
  }
  // Overwrites a 32-bit value written earlier (box sizes). No-op when counting.
  void patch_u32(size_t pos, uint32_t v) {
    if (counting_) return;
    for (int i = 0; i < 4; ++i) out_[pos + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
  }
  // Overwrites bytes written earlier (a header written once its body's size is known). No-op
  // when counting.
  void patch(size_t pos, ByteSpan s) {
    if (counting_) return;
    std::copy(s.begin(), s.end(), out_.begin() + static_cast<std::ptrdiff_t>(pos));
  }

 private:
  template <typename T>
  void put_be(T v, size_t n) {
    if (counting_) {
      count_ += n;
      return;
    }
    uint64_t x = static_cast<uint64_t>(v);
    for (size_t i = 0; i < n; ++i) out_.push_back(static_cast<uint8_t>(x >> (8 * (n - 1 - i))));
  }

  Bytes out_;
  size_t count_ = 0;
  bool counting_ = false;
};

std::string to_hex(ByteSpan data, bool upper = false);

}  // namespace ams
