#include "model/media_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

namespace ams::model {

FileState file_state_of(const struct stat& st) {
  FileState s;
  s.size = static_cast<uint64_t>(st.st_size);
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  s.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  s.inode = static_cast<uint64_t>(st.st_ino);
  return s;
}

std::string identity_of(const FileState& state) {
  return std::to_string(state.size) + ":" + std::to_string(state.mtime_ns) + ":" +
         std::to_string(state.ctime_ns) + ":" + std::to_string(state.inode);
}

Result<std::unique_ptr<MediaFile>> MediaFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return not_found(path + ": no such file");
    return io_error(path + ": " + std::strerror(err));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return invalid_argument(path + ": not a regular file");
  }
  return std::unique_ptr<MediaFile>(new MediaFile(path, fd, file_state_of(st)));
}

MediaFile::~MediaFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status MediaFile::read_at(uint64_t offset, size_t n, Bytes& out) const {
  out.resize(n);
  return read_at(offset, n, out.data());
}

Status MediaFile::read_at(uint64_t offset, size_t n, uint8_t* out) const {
  if (offset > state_.size || n > state_.size - offset) {
    return truncated(path_ + ": read of " + std::to_string(n) + " bytes at " +
                     std::to_string(offset) + " past the end (" + std::to_string(state_.size) +
                     ")");
  }
  size_t done = 0;
  while (done < n) {
    ssize_t got = ::pread(fd_, out + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return io_error(path_ + ": " + std::strerror(errno));
    if (got == 0) return truncated(path_ + ": file shrank while reading");
    done += static_cast<size_t>(got);
  }
  return Status::ok();
}

Status MediaFile::read_gathered(const Piece* pieces, size_t count, uint8_t* out,
                                uint64_t max_gap) const {
  // Check the whole plan first: in order, inside the file.
  uint64_t end = 0;
  for (size_t i = 0; i < count; ++i) {
    const Piece& p = pieces[i];
    if (p.offset > state_.size || p.length > state_.size - p.offset) {
      return truncated(path_ + ": read of " + std::to_string(p.length) + " bytes at " +
                       std::to_string(p.offset) + " past the end (" + std::to_string(state_.size) +
                       ")");
    }
    if (i > 0 && p.offset < end) {
      return invalid_argument(path_ + ": gathered read out of file order");
    }
    end = p.offset + p.length;
  }
  // One scratch buffer for every gap of a call: its bytes are never looked at.
  std::vector<uint8_t> scratch;
  std::vector<iovec> iov;
  size_t i = 0;
  while (i < count) {
    // One call: pieces i..j-1, with their gaps, at most IOV_MAX vectors.
    iov.clear();
    const uint64_t start = pieces[i].offset;
    uint64_t at = start;
    uint8_t* dest = out;
    size_t j = i;
    while (j < count && iov.size() + 2 <= IOV_MAX) {
      const Piece& p = pieces[j];
      const uint64_t gap = p.offset - at;
      if (gap > 0) {
        if (gap > max_gap) break;
        if (scratch.size() < gap) scratch.resize(static_cast<size_t>(max_gap));
        iov.push_back({scratch.data(), static_cast<size_t>(gap)});
      }
      if (p.length > 0) iov.push_back({dest, static_cast<size_t>(p.length)});
      dest += p.length;
      at = p.offset + p.length;
      ++j;
    }
    // Read [start, at) into the vectors, resuming after a short read.
    size_t v = 0;
    uint64_t done = 0;
    const uint64_t want = at - start;
    while (done < want) {
      ssize_t got = ::preadv(fd_, iov.data() + v, static_cast<int>(iov.size() - v),
                             static_cast<off_t>(start + done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return io_error(path_ + ": " + std::strerror(errno));
      if (got == 0) return truncated(path_ + ": file shrank while reading");
      done += static_cast<uint64_t>(got);
      size_t n = static_cast<size_t>(got);
      while (v < iov.size() && n >= iov[v].iov_len) n -= iov[v++].iov_len;
      if (n > 0) {
        iov[v].iov_base = static_cast<uint8_t*>(iov[v].iov_base) + n;
        iov[v].iov_len -= n;
      }
    }
    out = dest;
    i = j;
  }
  return Status::ok();
}

}  // namespace ams::model
