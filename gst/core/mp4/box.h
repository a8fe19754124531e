// The ISO BMFF box framework: box headers, and BoxBuffer, which lets one routine per box both read
// and write it (the Shaka Packager way). Writing into a size-only ByteWriter gives a box's size.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace ams::mp4 {

using FourCC = uint32_t;

constexpr FourCC fourcc(const char (&s)[5]) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(s[0])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(s[3]));
}
std::string fourcc_to_string(FourCC f);
FourCC fourcc_from_string(std::string_view s);  // first four characters, space padded

struct BoxHeader {
  FourCC type = 0;
  uint64_t size = 0;         // whole box, header included
  uint32_t header_size = 0;  // 8, 16 (64-bit size) or + 16 for uuid
  bool to_end = false;       // size 0: the box runs to the end of its container
  uint8_t usertype[16] = {};
};

// Reads a box header at the reader's position. `available` is how many bytes the container still
// holds from that position (the box may not be longer); the reader moves past the header.
Status read_box_header(ByteReader& r, uint64_t available, BoxHeader& h);

// A box as found inside a container: its type and payload (header excluded).
struct RawBox {
  FourCC type = 0;
  ByteSpan payload;
  ByteSpan usertype;  // a uuid box's 16-byte extended type (in its header, before the payload)
};
// Splits a payload into its child boxes; fails on a child that overruns its parent.
Result<std::vector<RawBox>> split_children(ByteSpan payload);

class BoxBuffer;

template <typename B>
concept Box = requires(B b, BoxBuffer& buf) {
  { B::kType } -> std::convertible_to<FourCC>;
  { b.read_write(buf) } -> std::same_as<bool>;
};

// Reads or writes the fields of a box payload. Every rw_* returns false when reading runs out of
// bytes or meets an impossible value; writing always succeeds.
class BoxBuffer {
 public:
  explicit BoxBuffer(ByteReader& r) : reader_(&r) {}
  explicit BoxBuffer(ByteWriter& w) : writer_(&w) {}

  bool reading() const { return reader_ != nullptr; }
  ByteReader& reader() { return *reader_; }
  ByteWriter& writer() { return *writer_; }
  size_t remaining() const { return reader_ ? reader_->remaining() : 0; }

  bool rw(uint8_t& v) { return reading() ? reader_->read_u8(v) : (writer_->u8(v), true); }
  bool rw(uint16_t& v) { return reading() ? reader_->read_u16(v) : (writer_->u16(v), true); }
  bool rw(uint32_t& v) { return reading() ? reader_->read_u32(v) : (writer_->u32(v), true); }
  bool rw(uint64_t& v) { return reading() ? reader_->read_u64(v) : (writer_->u64(v), true); }
  bool rw(int16_t& v) { return reading() ? reader_->read_i16(v) : (writer_->i16(v), true); }
  bool rw(int32_t& v) { return reading() ? reader_->read_i32(v) : (writer_->i32(v), true); }
  bool rw(int64_t& v) { return reading() ? reader_->read_i64(v) : (writer_->i64(v), true); }
  bool rw_u24(uint32_t& v) { return reading() ? reader_->read_u24(v) : (writer_->u24(v), true); }
  // A 32-bit field in version 0 boxes, 64-bit in version 1.
  bool rw_versioned(uint64_t& v, uint8_t version);
  bool rw_versioned(int64_t& v, uint8_t version);
  bool rw_full_header(uint8_t& version, uint32_t& flags);
  // Reading: exactly n bytes. Writing: all of v (n is ignored).
  bool rw_bytes(Bytes& v, size_t n);
  // Reading: everything left in the box. Writing: all of v.
  bool rw_rest(Bytes& v);
  // Reading: skips n bytes. Writing: n zero bytes.
  bool ignore(size_t n);
  // Checks an element count read from the input against the bytes left, before anything is
  // allocated for it: `count` elements of at least `min_size` bytes must fit. Writing: true.
  bool fits(uint64_t count, uint64_t min_size) const {
    return !reading() || (min_size == 0 ? count <= (1u << 24) : count <= remaining() / min_size);
  }

  // Child boxes of a container. Reading: finds the (first) child of the box's type among the
  // remaining bytes; a missing required child fails. Writing: writes the child in place.
  template <Box B>
  bool rw_child(B& child);
  template <Box B>
  bool rw_optional_child(std::optional<B>& child);
  template <Box B>
  bool rw_children(std::vector<B>& children);

 private:
  bool scan_children();

  ByteReader* reader_ = nullptr;
  ByteWriter* writer_ = nullptr;
  bool scanned_ = false;
  std::vector<RawBox> children_;
};

// Parses a box payload (header excluded) into B.
template <Box B>
Status read_box_payload(ByteSpan payload, B& box) {
  ByteReader r(payload);
  BoxBuffer buf(r);
  if (!box.read_write(buf)) {
    return invalid_data(fourcc_to_string(B::kType) + ": malformed or truncated box");
  }
  return Status::ok();
}

// Writes a whole box (header and payload). Writing does not modify the box; read_write is shared
// with reading, hence the const_cast.
template <Box B>
void write_box(ByteWriter& w, const B& box) {
  size_t start = w.size();
  w.u32(0);
  w.u32(B::kType);
  BoxBuffer buf(w);
  (void)const_cast<B&>(box).read_write(buf);
  w.patch_u32(start, static_cast<uint32_t>(w.size() - start));
}

template <Box B>
size_t box_size(const B& box) {
  ByteWriter w = ByteWriter::size_only();
  write_box(w, box);
  return w.size();
}

// Parses a whole box from bytes that start with its header (tests and one-off readers).
template <Box B>
Status read_box(ByteSpan bytes, B& box) {
  ByteReader r(bytes);
  BoxHeader h;
  AMS_RETURN_IF_ERROR(read_box_header(r, bytes.size(), h));
  if (h.type != B::kType) {
    return invalid_data("expected " + fourcc_to_string(B::kType) + ", found " +
                        fourcc_to_string(h.type));
  }
  return read_box_payload(bytes.subspan(h.header_size, h.size - h.header_size), box);
}

template <Box B>
bool BoxBuffer::rw_child(B& child) {
  if (!reading()) {
    write_box(*writer_, child);
    return true;
  }
  if (!scan_children()) return false;
  for (const RawBox& c : children_) {
    if (c.type == B::kType) return read_box_payload(c.payload, child).is_ok();
  }
  return false;
}

template <Box B>
bool BoxBuffer::rw_optional_child(std::optional<B>& child) {
  if (!reading()) {
    if (child) write_box(*writer_, *child);
    return true;
  }
  if (!scan_children()) return false;
  for (const RawBox& c : children_) {
    if (c.type == B::kType) {
      child.emplace();
      return read_box_payload(c.payload, *child).is_ok();
    }
  }
  child.reset();
  return true;
}

template <Box B>
bool BoxBuffer::rw_children(std::vector<B>& children) {
  if (!reading()) {
    for (const B& c : children) write_box(*writer_, c);
    return true;
  }
  if (!scan_children()) return false;
  children.clear();
  for (const RawBox& c : children_) {
    if (c.type != B::kType) continue;
    children.emplace_back();
    if (!read_box_payload(c.payload, children.back()).is_ok()) return false;
  }
  return true;
}

}  // namespace ams::mp4
