// A media file opened for positioned reads (pread): no shared file position, so one open file
// can serve concurrent fragment requests.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <string>

#include "base/bytes.h"
#include "base/status.h"

namespace ams::model {

// What a file's bytes are taken to depend on, as stat(2) says: an input whose state is unchanged
// is not read again (index cache, presentation cache, entity tags). Size and mtime alone miss a
// file rewritten in place with its mtime set back (`touch -r`); the change time cannot be set
// back without privileges (it moves on every write, utimensat and chmod), and the inode tells a
// file replaced by rename from the one it replaced.
struct FileState {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  bool operator==(const FileState&) const = default;
};

FileState file_state_of(const struct stat& st);
// "size:mtime:ctime:inode" (times in ns): a file's part of a presentation's identity.
std::string identity_of(const FileState& state);

class MediaFile {
 public:
  static Result<std::unique_ptr<MediaFile>> open(const std::string& path);
  ~MediaFile();
  MediaFile(const MediaFile&) = delete;
  MediaFile& operator=(const MediaFile&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return state_.size; }
  int64_t mtime_ns() const { return state_.mtime_ns; }
  // As fstat(2) said when the file was opened.
  const FileState& state() const { return state_; }

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
  MediaFile(std::string path, int fd, const FileState& state)
      : path_(std::move(path)), fd_(fd), state_(state) {}

  std::string path_;
  int fd_ = -1;
  FileState state_;
};

}  // namespace ams::model
