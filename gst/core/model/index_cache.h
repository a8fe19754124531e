// A process-wide cache of parsed file indexes, keyed by path and checked against the file's state
// (size, mtime, ctime, inode: model::FileState): a file replaced or rewritten on disk is parsed
// again; an unchanged one costs a stat().
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "model/file_index.h"

namespace ams::model {

class IndexCache {
 public:
  // At most `capacity` files and `max_bytes` of sample tables (a 2-hour 30 fps file with its audio
  // costs about 17 MiB): whichever is reached first evicts the least recently used.
  explicit IndexCache(size_t capacity = 512, uint64_t max_bytes = 1ull << 30)
      : capacity_(capacity), max_bytes_(max_bytes) {}

  // The index of the file at `path`, parsed now or taken from the cache. Thread-safe.
  Result<std::shared_ptr<const FileIndex>> get(const std::string& path);

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    size_t entries = 0;
    uint64_t bytes = 0;  // sample tables held
  };
  Stats stats() const;
  void clear();

  // The cache every amsdemux instance of the process shares.
  static IndexCache& shared();

 private:
  struct Entry {
    std::shared_ptr<const FileIndex> index;
    std::list<std::string>::iterator lru;
    uint64_t bytes = 0;
  };
  void evict(const std::string& path);

  size_t capacity_;
  uint64_t max_bytes_;
  uint64_t bytes_ = 0;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // most recent first
  Stats stats_;
};

}  // namespace ams::model
