#include "answer_cache.h"

namespace ams::server {

Answer::~Answer() {
  if (body != nullptr) g_bytes_unref(body);
  if (gzipped != nullptr) g_bytes_unref(gzipped);
}

uint64_t Answer::bytes() const {
  return (body ? g_bytes_get_size(body) : 0) + (gzipped ? g_bytes_get_size(gzipped) : 0) +
         content_type.size() + etag.size() + asset_path.size() + sizeof(Answer);
}

std::shared_ptr<const Answer> AnswerCache::find(const std::string& key) {
  std::lock_guard<std::mutex> guard(lock_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    ++stats_.misses;
    return nullptr;
  }
  ++stats_.hits;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.answer;
}

void AnswerCache::evict_locked(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  bytes_ -= it->second.answer->bytes() + key.size();
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

void AnswerCache::insert(const std::string& key, std::shared_ptr<const Answer> answer) {
  const uint64_t size = answer->bytes() + key.size();
  std::lock_guard<std::mutex> guard(lock_);
  evict_locked(key);
  if (size > max_bytes_ || max_entries_ == 0) return;
  while (!lru_.empty() && (entries_.size() >= max_entries_ || bytes_ + size > max_bytes_)) {
    evict_locked(lru_.back());
  }
  lru_.push_front(key);
  entries_[key] = Entry{std::move(answer), lru_.begin()};
  bytes_ += size;
}

void AnswerCache::erase(const std::string& key) {
  std::lock_guard<std::mutex> guard(lock_);
  evict_locked(key);
}

AnswerCache::Stats AnswerCache::stats() const {
  std::lock_guard<std::mutex> guard(lock_);
  Stats s = stats_;
  s.entries = entries_.size();
  s.bytes = bytes_;
  return s;
}

}  // namespace ams::server
