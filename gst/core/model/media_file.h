// A media file opened for positioned reads (pread): no shared file position, so one open file
// can serve concurrent fragment requests.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/bytes.h"
#include "base/status.h"

namespace ams::model {

class MediaFile {
 public:
  static Result<std::unique_ptr<MediaFile>> open(const std::string& path);
  ~MediaFile();
  MediaFile(const MediaFile&) = delete;
  MediaFile& operator=(const MediaFile&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  int64_t mtime_ns() const { return mtime_ns_; }

  // Reads exactly n bytes at offset; a range past the end of the file is an error, never a
  // short read.
  Status read_at(uint64_t offset, size_t n, Bytes& out) const;
  Status read_at(uint64_t offset, size_t n, uint8_t* out) const;

  // Reads `count` pieces that lie in the file in this order, each starting at or after the end of
  // the one before, into `out` back to back (the sum of their lengths), in one preadv(2) per
  // IOV_MAX pieces: the bytes between them go to a scratch buffer and are dropped, so the pieces
  // come out contiguous in memory without a copy. Gaps are bounded by `max_gap` (a larger one is
  // read as a separate call, never buffered).
  struct Piece {
    uint64_t offset = 0;
    uint64_t length = 0;
  };
  Status read_gathered(const Piece* pieces, size_t count, uint8_t* out,
                       uint64_t max_gap = 64 * 1024) const;

 private:
  MediaFile(std::string path, int fd, uint64_t size, int64_t mtime_ns)
      : path_(std::move(path)), fd_(fd), size_(size), mtime_ns_(mtime_ns) {}

  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  int64_t mtime_ns_ = 0;
};

}  // namespace ams::model
