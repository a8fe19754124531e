#include "model/index_cache.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace ams::model {

Result<std::shared_ptr<const FileIndex>> IndexCache::get(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return not_found(path + ": no such file");
    return io_error(path + ": " + std::strerror(errno));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(path);
    if (it != entries_.end() && it->second.index->size == size &&
        it->second.index->mtime_ns == mtime) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      ++stats_.hits;
      return it->second.index;
    }
  }
  // Parse outside the lock: other requests go on meanwhile.
  AMS_ASSIGN_OR_RETURN(std::unique_ptr<MediaFile> file, MediaFile::open(path));
  AMS_ASSIGN_OR_RETURN(FileIndex parsed, read_file_index(*file));
  auto index = std::make_shared<const FileIndex>(std::move(parsed));

  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.misses;
  auto it = entries_.find(path);
  if (it != entries_.end()) {
    lru_.erase(it->second.lru);
    entries_.erase(it);
  }
  lru_.push_front(path);
  entries_[path] = Entry{index, lru_.begin()};
  while (entries_.size() > capacity_) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
  return std::shared_ptr<const FileIndex>(index);
}

IndexCache::Stats IndexCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Stats s = stats_;
  s.entries = entries_.size();
  return s;
}

void IndexCache::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
  lru_.clear();
}

IndexCache& IndexCache::shared() {
  static IndexCache* cache = new IndexCache();  // never destroyed: used until the process exits
  return *cache;
}

}  // namespace ams::model
