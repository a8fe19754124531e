// GET /metrics: what the endpoint has done and holds, in the Prometheus text exposition format
// (version 0.0.4), for the operator (it needs the operator's token, as /api/locators does).
// Counters are updated once per request, at its end, from the loops' threads (relaxed atomics:
// a scrape sees each counter whole, not all of them at one instant).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace ams::server {

// What a request asked for, by its path: the resource kinds an operator watches.
enum class ResourceKind {
  kManifest,
  kPlaylist,
  kInit,
  kFragment,
  kDownload,
  kKey,  // key delivery (/keydelivery/)
  kApi,
  kPlayer,
  kOther
};
inline constexpr int kResourceKinds = 9;
const char* resource_kind_name(ResourceKind kind);
ResourceKind resource_kind_of(std::string_view path);

class Metrics {
 public:
  // One finished (or aborted) request: its kind, status, the body bytes it sent and the time from
  // its handler's start to its end.
  void observe(ResourceKind kind, unsigned status, uint64_t bytes, int64_t microseconds);

  // The gauges a scrape adds, read by the caller when it renders.
  struct Gauges {
    unsigned pipelines_running = 0, pipelines_queued = 0, pipelines_stopping = 0,
             pipelines_live = 0, rendering = 0;
    uint64_t answer_cache_entries = 0, answer_cache_bytes = 0, answer_cache_hits = 0,
             answer_cache_misses = 0;
    uint64_t index_cache_entries = 0, index_cache_bytes = 0, index_cache_hits = 0,
             index_cache_misses = 0;
    unsigned connections_open = 0;
    unsigned loops = 0;
  };
  std::string render(const Gauges& gauges) const;

  // Latency buckets, seconds (upper bounds; +Inf after them).
  static constexpr double kBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                        0.1,    0.25,  0.5,    1,     2.5,  10};
  static constexpr int kBucketCount = sizeof(kBuckets) / sizeof(kBuckets[0]);

 private:
  struct PerKind {
    std::atomic<uint64_t> by_class[5] = {};  // 1xx..5xx
    std::atomic<uint64_t> bytes{0};
    std::atomic<uint64_t> buckets[kBucketCount + 1] = {};  // not cumulative; last is +Inf
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> sum_us{0};
  };
  PerKind kinds_[kResourceKinds];
};

}  // namespace ams::server
