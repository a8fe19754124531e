#include "model/media_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ams::model {

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
  int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return std::unique_ptr<MediaFile>(
      new MediaFile(path, fd, static_cast<uint64_t>(st.st_size), mtime));
}

MediaFile::~MediaFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status MediaFile::read_at(uint64_t offset, size_t n, Bytes& out) const {
  out.resize(n);
  return read_at(offset, n, out.data());
}

Status MediaFile::read_at(uint64_t offset, size_t n, uint8_t* out) const {
  if (offset > size_ || n > size_ - offset) {
    return truncated(path_ + ": read of " + std::to_string(n) + " bytes at " +
                     std::to_string(offset) + " past the end (" + std::to_string(size_) + ")");
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

}  // namespace ams::model
