#include "metrics.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace ams::server {
namespace {

constexpr ResourceKind kAllKinds[] = {
    ResourceKind::kManifest, ResourceKind::kPlaylist, ResourceKind::kInit,
    ResourceKind::kFragment, ResourceKind::kDownload, ResourceKind::kKey,
    ResourceKind::kApi,      ResourceKind::kPlayer,   ResourceKind::kOther};

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// The process's resident memory and CPU time (Linux /proc), the names Prometheus's client
// libraries give them, so that dashboards made for any process work.
struct ProcessStats {
  uint64_t rss_bytes = 0;
  double cpu_seconds = 0;
  double start_seconds = 0;
};

ProcessStats process_stats() {
  ProcessStats p;
  const long page = sysconf(_SC_PAGESIZE);
  const long ticks = sysconf(_SC_CLK_TCK);
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  if (statm >> size >> resident) p.rss_bytes = resident * static_cast<uint64_t>(page);
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(text.substr(close + 2));
    std::string f;
    uint64_t utime = 0, stime = 0, start = 0;
    for (int i = 3; fields >> f; ++i) {  // field 3 is the state
      if (i == 14) utime = std::stoull(f);
      if (i == 15) stime = std::stoull(f);
      if (i == 22) {
        start = std::stoull(f);
        break;
      }
    }
    p.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(ticks);
    std::ifstream btime_stat("/proc/stat");
    std::string key;
    uint64_t btime = 0;
    while (btime_stat >> key) {
      if (key == "btime") {
        btime_stat >> btime;
        break;
      }
    }
    p.start_seconds =
        static_cast<double>(btime) + static_cast<double>(start) / static_cast<double>(ticks);
  }
  return p;
}

void family(std::ostringstream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

}  // namespace

const char* resource_kind_name(ResourceKind kind) {
  switch (kind) {
    case ResourceKind::kManifest:
      return "manifest";
    case ResourceKind::kPlaylist:
      return "playlist";
    case ResourceKind::kInit:
      return "init";
    case ResourceKind::kFragment:
      return "fragment";
    case ResourceKind::kDownload:
      return "download";
    case ResourceKind::kKey:
      return "key";
    case ResourceKind::kApi:
      return "api";
    case ResourceKind::kPlayer:
      return "player";
    case ResourceKind::kOther:
      return "other";
  }
  return "other";
}

// By the AMS grammar (docs/server.md): {locator}/{name}.ism/manifest(...) is a manifest,
// QualityLevels(...)/Manifest(...) a media playlist, Fragments(track=i,...) an init segment,
// Fragments(...) and KeyFrames(...) media, any other file under a locator a download.
ResourceKind resource_kind_of(std::string_view path) {
  if (path.substr(0, 5) == "/api/" || path == "/metrics" || path == "/healthz") {
    return ResourceKind::kApi;
  }
  if (path == "/" || path.substr(0, 8) == "/player/") return ResourceKind::kPlayer;
  if (path.substr(0, 13) == "/keydelivery/") return ResourceKind::kKey;
  if (contains(path, "/Fragments(") || contains(path, "/KeyFrames(")) {
    return contains(path, "=i,") || contains(path, "=i)") ? ResourceKind::kInit
                                                          : ResourceKind::kFragment;
  }
  if (contains(path, "/Manifest(")) return ResourceKind::kPlaylist;
  if (contains(path, ".ism/manifest") || contains(path, ".ism/Manifest")) {
    return ResourceKind::kManifest;
  }
  // /{locator}/{file}: a GUID of 36 characters, then a file.
  if (path.size() > 38 && path[37] == '/' && !contains(path.substr(38), "/")) {
    return ResourceKind::kDownload;
  }
  return ResourceKind::kOther;
}

void Metrics::observe(ResourceKind kind, unsigned status, uint64_t bytes, int64_t microseconds) {
  PerKind& k = kinds_[static_cast<int>(kind)];
  const unsigned cls = status >= 100 && status < 600 ? status / 100 - 1 : 4;
  k.by_class[cls].fetch_add(1, std::memory_order_relaxed);
  k.bytes.fetch_add(bytes, std::memory_order_relaxed);
  const double seconds = static_cast<double>(microseconds < 0 ? 0 : microseconds) / 1e6;
  int b = 0;
  while (b < kBucketCount && seconds > kBuckets[b]) ++b;
  k.buckets[b].fetch_add(1, std::memory_order_relaxed);
  k.count.fetch_add(1, std::memory_order_relaxed);
  k.sum_us.fetch_add(static_cast<uint64_t>(microseconds < 0 ? 0 : microseconds),
                     std::memory_order_relaxed);
}

std::string Metrics::render(const Gauges& g) const {
  std::ostringstream out;
  out.precision(10);
  family(out, "ams_requests_total", "counter",
         "Requests answered, by resource kind and status class.");
  for (ResourceKind kind : kAllKinds) {
    const PerKind& k = kinds_[static_cast<int>(kind)];
    for (int c = 0; c < 5; ++c) {
      out << "ams_requests_total{kind=\"" << resource_kind_name(kind) << "\",code=\"" << c + 1
          << "xx\"} " << k.by_class[c].load(std::memory_order_relaxed) << "\n";
    }
  }
  family(out, "ams_response_bytes_total", "counter",
         "Body bytes sent (or, for an answer cut short, handed to the connection), by kind.");
  for (ResourceKind kind : kAllKinds) {
    out << "ams_response_bytes_total{kind=\"" << resource_kind_name(kind) << "\"} "
        << kinds_[static_cast<int>(kind)].bytes.load(std::memory_order_relaxed) << "\n";
  }
  family(out, "ams_request_duration_seconds", "histogram",
         "From the handler's start to the end of the answer, by kind.");
  for (ResourceKind kind : kAllKinds) {
    const PerKind& k = kinds_[static_cast<int>(kind)];
    const char* name = resource_kind_name(kind);
    uint64_t cumulative = 0;
    for (int b = 0; b <= kBucketCount; ++b) {
      cumulative += k.buckets[b].load(std::memory_order_relaxed);
      out << "ams_request_duration_seconds_bucket{kind=\"" << name << "\",le=\"";
      if (b < kBucketCount) {
        out << kBuckets[b];
      } else {
        out << "+Inf";
      }
      out << "\"} " << cumulative << "\n";
    }
    out << "ams_request_duration_seconds_sum{kind=\"" << name << "\"} "
        << static_cast<double>(k.sum_us.load(std::memory_order_relaxed)) / 1e6 << "\n";
    out << "ams_request_duration_seconds_count{kind=\"" << name << "\"} " << cumulative << "\n";
  }
  family(out, "ams_pipelines", "gauge",
         "Packaging pipelines: running (planned, not answered), queued for a slot, stopping "
         "(answered, being stopped), live (that exist; at most --max-concurrent).");
  out << "ams_pipelines{state=\"running\"} " << g.pipelines_running << "\n";
  out << "ams_pipelines{state=\"queued\"} " << g.pipelines_queued << "\n";
  out << "ams_pipelines{state=\"stopping\"} " << g.pipelines_stopping << "\n";
  out << "ams_pipelines{state=\"live\"} " << g.pipelines_live << "\n";
  family(out, "ams_rendering", "gauge", "Products being made from the model on a worker.");
  out << "ams_rendering " << g.rendering << "\n";
  family(out, "ams_cache_entries", "gauge", "Entries held, per cache.");
  out << "ams_cache_entries{cache=\"answer\"} " << g.answer_cache_entries << "\n";
  out << "ams_cache_entries{cache=\"index\"} " << g.index_cache_entries << "\n";
  family(out, "ams_cache_bytes", "gauge",
         "Bytes held, per cache (answers: bodies; index: sample tables).");
  out << "ams_cache_bytes{cache=\"answer\"} " << g.answer_cache_bytes << "\n";
  out << "ams_cache_bytes{cache=\"index\"} " << g.index_cache_bytes << "\n";
  family(out, "ams_cache_hits_total", "counter", "Lookups answered from the cache.");
  out << "ams_cache_hits_total{cache=\"answer\"} " << g.answer_cache_hits << "\n";
  out << "ams_cache_hits_total{cache=\"index\"} " << g.index_cache_hits << "\n";
  family(out, "ams_cache_misses_total", "counter", "Lookups the cache could not answer.");
  out << "ams_cache_misses_total{cache=\"answer\"} " << g.answer_cache_misses << "\n";
  out << "ams_cache_misses_total{cache=\"index\"} " << g.index_cache_misses << "\n";
  family(out, "ams_connections_open", "gauge", "Client connections held, all loops.");
  out << "ams_connections_open " << g.connections_open << "\n";
  family(out, "ams_loops", "gauge", "HTTP loops (threads with a listening socket each).");
  out << "ams_loops " << g.loops << "\n";
  const ProcessStats p = process_stats();
  family(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  out << "process_resident_memory_bytes " << p.rss_bytes << "\n";
  family(out, "process_cpu_seconds_total", "counter", "User and system CPU time, seconds.");
  out << "process_cpu_seconds_total " << p.cpu_seconds << "\n";
  family(out, "process_start_time_seconds", "gauge", "Start time since the epoch, seconds.");
  out << "process_start_time_seconds " << p.start_seconds << "\n";
  return out.str();
}

}  // namespace ams::server
