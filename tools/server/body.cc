#include "body.h"

#include <algorithm>
#include <cstring>

namespace ams::server {
namespace {

struct MappedBuffer {
  GstBuffer* buffer;
  GstMapInfo map;
};

void unmap_buffer(gpointer data) {
  auto* m = static_cast<MappedBuffer*>(data);
  gst_buffer_unmap(m->buffer, &m->map);
  gst_buffer_unref(m->buffer);
  delete m;
}

}  // namespace

Body::~Body() {
  for (GBytes* b : pieces_) g_bytes_unref(b);
}

Body::Body(Body&& other) noexcept : pieces_(std::move(other.pieces_)), size_(other.size_) {
  other.pieces_.clear();
  other.size_ = 0;
}

Body& Body::operator=(Body&& other) noexcept {
  if (this != &other) {
    for (GBytes* b : pieces_) g_bytes_unref(b);
    pieces_ = std::move(other.pieces_);
    size_ = other.size_;
    other.pieces_.clear();
    other.size_ = 0;
  }
  return *this;
}

Body::Body(const Body& other) : size_(other.size_) {
  for (GBytes* b : other.pieces_) pieces_.push_back(g_bytes_ref(b));
}

Body Body::of(std::string text) {
  Body body;
  if (text.empty()) return body;
  auto* owned = new std::string(std::move(text));
  GBytes* bytes = g_bytes_new_with_free_func(
      owned->data(), owned->size(), [](gpointer p) { delete static_cast<std::string*>(p); }, owned);
  body.pieces_.push_back(bytes);
  body.size_ = owned->size();
  return body;
}

Body Body::of(GBytes* bytes) {
  Body body;
  body.append(bytes);
  return body;
}

void Body::append(GBytes* bytes) {
  if (bytes == nullptr || g_bytes_get_size(bytes) == 0) return;
  pieces_.push_back(g_bytes_ref(bytes));
  size_ += g_bytes_get_size(bytes);
}

bool Body::append(GstBuffer* buffer) {
  auto* m = new MappedBuffer{gst_buffer_ref(buffer), {}};
  if (!gst_buffer_map(buffer, &m->map, GST_MAP_READ)) {
    gst_buffer_unref(buffer);
    delete m;
    return false;
  }
  if (m->map.size == 0) {
    unmap_buffer(m);
    return true;
  }
  const gsize size = m->map.size;
  pieces_.push_back(g_bytes_new_with_free_func(m->map.data, size, unmap_buffer, m));
  size_ += size;
  return true;
}

Body Body::slice(uint64_t first, uint64_t length) const {
  Body out;
  uint64_t at = 0;
  for (GBytes* b : pieces_) {
    const uint64_t n = g_bytes_get_size(b);
    if (length == 0) break;
    if (first < at + n) {
      const uint64_t from = first > at ? first - at : 0;
      const uint64_t take = std::min(n - from, length);
      GBytes* part = g_bytes_new_from_bytes(b, from, take);
      out.pieces_.push_back(part);
      out.size_ += take;
      length -= take;
      first += take;
    }
    at += n;
  }
  return out;
}

GBytes* Body::flatten() const {
  if (pieces_.size() == 1) return g_bytes_ref(pieces_[0]);
  auto* data = static_cast<guint8*>(g_malloc(std::max<uint64_t>(size_, 1)));
  uint64_t at = 0;
  for (GBytes* b : pieces_) {
    gsize n = 0;
    const void* p = g_bytes_get_data(b, &n);
    std::memcpy(data + at, p, n);
    at += n;
  }
  return g_bytes_new_take(data, size_);
}

void Body::send_to(SoupServerMessage* msg) const {
  SoupMessageBody* out = soup_server_message_get_response_body(msg);
  // libsoup would otherwise apply a Range header itself to a complete 200 body (after the server
  // chose to send it whole: If-Range of another version, several ranges), keeping our
  // Content-Length: ranges are answered in respond.cc, nowhere else.
  soup_message_body_set_accumulate(out, FALSE);
  soup_message_body_truncate(out);
  for (GBytes* b : pieces_) soup_message_body_append_bytes(out, b);
  soup_message_body_complete(out);
}

}  // namespace ams::server
