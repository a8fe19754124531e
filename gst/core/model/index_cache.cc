#include "model/index_cache.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace ams::model {
namespace {

uint64_t table_bytes(const FileIndex& index) {
  uint64_t bytes = sizeof(FileIndex);
  for (const FileTrack& t : index.tracks) {
    if (t.table) bytes += t.table->samples.capacity() * sizeof(Sample);
  }
  return bytes;
}

}  // namespace

void IndexCache::evict(const std::string& path) {
  auto it = entries_.find(path);
  if (it == entries_.end()) return;
  bytes_ -= it->second.bytes;
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

Result<std::shared_ptr<const FileIndex>> IndexCache::get(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return not_found(path + ": no such file");
    return io_error(path + ": " + std::strerror(errno));
  }
  const FileState now = file_state_of(st);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(path);
    if (it != entries_.end() && it->second.index->state == now) {
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
  evict(path);
  const uint64_t bytes = table_bytes(*index);
  lru_.push_front(path);
  entries_[path] = Entry{index, lru_.begin(), bytes};
  bytes_ += bytes;
  // Never evict the entry just added: its caller holds it anyway.
  while (entries_.size() > 1 && (entries_.size() > capacity_ || bytes_ > max_bytes_)) {
    evict(lru_.back());
  }
  return std::shared_ptr<const FileIndex>(index);
}

IndexCache::Stats IndexCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Stats s = stats_;
  s.entries = entries_.size();
  s.bytes = bytes_;
  return s;
}

void IndexCache::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
  lru_.clear();
  bytes_ = 0;
}

IndexCache& IndexCache::shared() {
  static IndexCache* cache = new IndexCache();  // never destroyed: used until the process exits
  return *cache;
}

}  // namespace ams::model
