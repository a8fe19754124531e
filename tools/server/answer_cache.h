// The answer cache: manifests, playlists and init segments are pure functions of the plan (the
// presentation's identity, the locator and the URL), so each is made once and kept, with its
// entity tag computed once, in a bounded LRU (entries and bytes). An entry names the presentation
// it came from; a request takes it only while that presentation is still what the files say
// (model::cached_presentation, a stat() per input), so a changed input is seen by the next request.
// Thread-safe.
#pragma once

#include <glib.h>

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ams::server {

struct Answer {
  GBytes* body = nullptr;     // the identity coding
  GBytes* gzipped = nullptr;  // the gzip coding, when the product is compressible
  std::string content_type;
  std::string etag;  // of the identity coding
  int64_t last_modified_ns = 0;
  std::string last_modified;  // as an HTTP-date, formatted once
  std::string asset_path;     // the presentation's path (model::cached_presentation)
  uint64_t presentation_id = 0;
  ~Answer();
  uint64_t bytes() const;
};

class AnswerCache {
 public:
  AnswerCache(size_t max_entries, uint64_t max_bytes)
      : max_entries_(max_entries), max_bytes_(max_bytes) {}

  // The entry of `key` (most recently used from now), or nullptr.
  std::shared_ptr<const Answer> find(const std::string& key);
  // Takes the place of any entry of `key`; the least recently used go past the bounds.
  void insert(const std::string& key, std::shared_ptr<const Answer> answer);
  // Forgets `key` (its presentation changed).
  void erase(const std::string& key);

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t entries = 0;
    uint64_t bytes = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    std::shared_ptr<const Answer> answer;
    std::list<std::string>::iterator lru;
  };
  void evict_locked(const std::string& key);

  const size_t max_entries_;
  const uint64_t max_bytes_;
  mutable std::mutex lock_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // most recent first
  uint64_t bytes_ = 0;
  Stats stats_;
};

}  // namespace ams::server
