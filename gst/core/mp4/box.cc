#include "mp4/box.h"

#include <limits>

namespace ams::mp4 {

std::string fourcc_to_string(FourCC f) {
  std::string s(4, ' ');
  for (int i = 0; i < 4; ++i) {
    char c = static_cast<char>((f >> (24 - 8 * i)) & 0xff);
    s[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return s;
}

FourCC fourcc_from_string(std::string_view s) {
  FourCC f = 0;
  for (size_t i = 0; i < 4; ++i) f = (f << 8) | (i < s.size() ? static_cast<uint8_t>(s[i]) : ' ');
  return f;
}

Status read_box_header(ByteReader& r, uint64_t available, BoxHeader& h) {
  size_t start = r.position();
  uint32_t size32 = 0;
  if (!r.read_u32(size32) || !r.read_u32(h.type)) {
    r.seek(start);
    return truncated("box header cut short");
  }
  h.header_size = 8;
  h.to_end = false;
  if (size32 == 1) {
    if (!r.read_u64(h.size)) {
      r.seek(start);
      return truncated(fourcc_to_string(h.type) + ": 64-bit size cut short");
    }
    h.header_size = 16;
  } else if (size32 == 0) {
    h.size = available;
    h.to_end = true;
  } else {
    h.size = size32;
  }
  if (h.type == fourcc("uuid")) {
    ByteSpan u;
    if (!r.read_span(16, u)) {
      r.seek(start);
      return truncated("uuid box: user type cut short");
    }
    std::copy(u.begin(), u.end(), h.usertype);
    h.header_size += 16;
  }
  if (h.size < h.header_size) {
    r.seek(start);
    return invalid_data(fourcc_to_string(h.type) + ": size " + std::to_string(h.size) +
                        " smaller than its header");
  }
  if (h.size > available) {
    r.seek(start);
    return truncated(fourcc_to_string(h.type) + ": size " + std::to_string(h.size) +
                     " exceeds the " + std::to_string(available) + " bytes that remain");
  }
  return Status::ok();
}

Result<std::vector<RawBox>> split_children(ByteSpan payload) {
  std::vector<RawBox> out;
  ByteReader r(payload);
  while (!r.at_end()) {
    // Some writers pad containers with a 32-bit zero terminator (QuickTime udta).
    if (r.remaining() < 8) {
      if (r.remaining() == 4) break;
      return truncated("trailing " + std::to_string(r.remaining()) + " bytes in a container");
    }
    size_t start = r.position();
    BoxHeader h;
    AMS_RETURN_IF_ERROR(read_box_header(r, r.remaining(), h));
    const ByteSpan usertype =
        h.type == fourcc("uuid") ? payload.subspan(r.position() - 16, 16) : ByteSpan();
    out.push_back(RawBox{h.type, payload.subspan(r.position(), h.size - h.header_size), usertype});
    r.seek(start + h.size);
  }
  return out;
}

bool BoxBuffer::scan_children() {
  if (scanned_) return true;
  auto children = split_children(reader_->rest());
  if (!children) return false;
  children_ = std::move(children).value();
  scanned_ = true;
  return true;
}

bool BoxBuffer::rw_versioned(uint64_t& v, uint8_t version) {
  if (version == 1) return rw(v);
  uint32_t v32 = static_cast<uint32_t>(v);
  if (!rw(v32)) return false;
  v = v32;
  return true;
}

bool BoxBuffer::rw_versioned(int64_t& v, uint8_t version) {
  if (version == 1) return rw(v);
  int32_t v32 = static_cast<int32_t>(v);
  if (!rw(v32)) return false;
  v = v32;
  return true;
}

bool BoxBuffer::rw_full_header(uint8_t& version, uint32_t& flags) {
  return rw(version) && rw_u24(flags);
}

bool BoxBuffer::rw_bytes(Bytes& v, size_t n) {
  if (reading()) return reader_->read_bytes(n, v);
  writer_->bytes(v);
  return true;
}

bool BoxBuffer::rw_rest(Bytes& v) {
  if (reading()) return reader_->read_bytes(reader_->remaining(), v);
  writer_->bytes(v);
  return true;
}

bool BoxBuffer::ignore(size_t n) {
  if (reading()) return reader_->skip(n);
  writer_->zeros(n);
  return true;
}

}  // namespace ams::mp4
