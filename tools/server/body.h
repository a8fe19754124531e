// A response body as pieces of memory sent one after another and never concatenated: a cached
// manifest is one GBytes; a fragment is its header and the samples' own memory (GstBuffers of
// amsdemux, wrapped without a copy). A byte range is a slice of the pieces, also without a copy.
#pragma once

#include <glib.h>
#include <gst/gst.h>
#include <libsoup/soup.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ams::server {

class Body {
 public:
  Body() = default;
  ~Body();
  Body(Body&& other) noexcept;
  Body& operator=(Body&& other) noexcept;
  Body(const Body& other);
  Body& operator=(const Body& other) = delete;

  static Body of(std::string text);
  // Takes a reference to `bytes`.
  static Body of(GBytes* bytes);

  // Adds a reference to `bytes` and appends it.
  void append(GBytes* bytes);
  // Appends the memory of `buffer` (mapped for reading until the body lets go of it).
  bool append(GstBuffer* buffer);

  uint64_t size() const { return size_; }
  size_t pieces() const { return pieces_.size(); }
  // Bytes [first, first + length): sub-ranges of the same memory.
  Body slice(uint64_t first, uint64_t length) const;
  // One GBytes holding everything (a copy unless the body is one piece): for the cache and gzip.
  GBytes* flatten() const;
  // Calls `f(data, size)` for each piece, in order.
  template <typename F>
  void for_each(F f) const {
    for (GBytes* b : pieces_) {
      gsize n = 0;
      const void* p = g_bytes_get_data(b, &n);
      f(static_cast<const uint8_t*>(p), static_cast<size_t>(n));
    }
  }

  // Appends every piece to the message's response body and completes it.
  void send_to(SoupServerMessage* msg) const;

 private:
  std::vector<GBytes*> pieces_;
  uint64_t size_ = 0;
};

}  // namespace ams::server
