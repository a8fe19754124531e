// What the index of a long asset costs: builds a synthetic 2-hour, two-rendition asset with the
// core box library (real moov sample tables; the mdat is a sparse hole, so the files take no disk)
// and prints the time to parse each file's index cold, to build the presentation of the .ism with
// an empty index cache, to build it again from the cache, and the memory the sample tables take.
//
//   build/bench/index_bench [HOURS]     (default 2)
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "model/builder.h"
#include "model/file_index.h"
#include "model/media_file.h"
#include "mp4/boxes.h"
#include "mp4/esds.h"
#include "smil/ism.h"

namespace {

using namespace ams;
using mp4::fourcc;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kVideoTimescale = 90000;
constexpr uint32_t kFrameTicks = 3000;  // 30 fps
constexpr uint32_t kGop = 60;           // 2 s
constexpr uint32_t kAudioRate = 48000;
constexpr uint32_t kAacFrame = 1024;
// avcC: High 3.1, one SPS, one PPS (a real record, so the builder accepts the track).
const Bytes kAvcc = {0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x0c, 0x67,
                     0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb,
                     0x01, 0x10, 0x01, 0x00, 0x04, 0x68, 0xeb, 0xe3, 0xcb};
const Bytes kAacLc48kStereo = {0x11, 0x90};

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

long rss_kib() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

mp4::Trak base_trak(uint32_t id, uint32_t timescale, mp4::FourCC handler, int64_t edit_media_time,
                    uint64_t duration_ticks) {
  mp4::Trak trak;
  trak.tkhd.track_id = id;
  trak.mdia.mdhd.timescale = timescale;
  trak.mdia.mdhd.duration = duration_ticks;
  trak.mdia.hdlr.handler_type = handler;
  trak.mdia.minf.dinf.emplace();
  trak.edts.emplace();
  trak.edts->elst.entries.push_back({duration_ticks * 1000 / timescale, edit_media_time, 1, 0});
  return trak;
}

// Video: I P B B ... in decode order, composition offsets of two B-frames, 2 s GOPs, chunks of
// one second. Sizes vary so stsz holds a real table.
mp4::Trak video_trak(uint32_t samples, uint32_t bitrate) {
  mp4::Trak trak =
      base_trak(1, kVideoTimescale, fourcc("vide"), kFrameTicks, uint64_t{samples} * kFrameTicks);
  trak.tkhd.width = 1280u << 16;
  trak.tkhd.height = 720u << 16;
  trak.mdia.minf.vmhd.emplace();
  mp4::Stbl& stbl = trak.mdia.minf.stbl;
  mp4::SampleEntry entry;
  entry.format = fourcc("avc1");
  entry.width = 1280;
  entry.height = 720;
  entry.children.push_back({fourcc("avcC"), kAvcc});
  stbl.stsd.entries.push_back(entry);
  stbl.stts.entries.push_back({samples, kFrameTicks});
  stbl.ctts.emplace();
  stbl.stss.emplace();
  stbl.stsz.emplace();
  const uint32_t mean = bitrate / 8 / 30;
  for (uint32_t i = 0; i < samples; ++i) {
    const uint32_t k = i % kGop;
    // I, then P B B (presented B B P), the GOP's last two frames as P in order.
    const int32_t offset = k == 0 || k >= kGop - 2 ? 1 : (k % 3 == 1 ? 3 : 0);
    stbl.ctts->entries.push_back({1, offset * static_cast<int32_t>(kFrameTicks)});
    if (k == 0) stbl.stss->sample_numbers.push_back(i + 1);
    stbl.stsz->sizes.push_back(k == 0 ? mean * 6 : mean / 2 + (i * 2654435761u) % mean);
  }
  stbl.stsz->sample_count = samples;
  stbl.stsc.entries.push_back({1, 30, 1});
  return trak;
}

mp4::Trak audio_trak(uint32_t samples) {
  mp4::Trak trak =
      base_trak(2, kAudioRate, fourcc("soun"), kAacFrame, uint64_t{samples} * kAacFrame);
  trak.tkhd.volume = 0x0100;
  trak.mdia.minf.smhd.emplace();
  mp4::Stbl& stbl = trak.mdia.minf.stbl;
  mp4::SampleEntry entry;
  entry.format = fourcc("mp4a");
  entry.channel_count = 2;
  entry.sample_rate = kAudioRate;
  mp4::EsDescriptor es;
  es.decoder_specific_info = kAacLc48kStereo;
  entry.children.push_back({fourcc("esds"), mp4::write_esds(es)});
  stbl.stsd.entries.push_back(entry);
  stbl.stts.entries.push_back({samples, kAacFrame});
  stbl.stsz.emplace();
  for (uint32_t i = 0; i < samples; ++i) stbl.stsz->sizes.push_back(300 + i % 83);
  stbl.stsz->sample_count = samples;
  stbl.stsc.entries.push_back({1, 47, 1});
  if (samples % 47) stbl.stsc.entries.push_back({samples / 47 + 1, samples % 47, 1});
  return trak;
}

// Chunk sizes of a track, in chunk order, from its stsz and stsc.
std::vector<uint64_t> chunk_sizes(const mp4::Stbl& stbl) {
  std::vector<uint64_t> chunks;
  const auto& sizes = stbl.stsz->sizes;
  size_t i = 0;
  for (size_t e = 0; e < stbl.stsc.entries.size(); ++e) {
    const uint32_t per = stbl.stsc.entries[e].samples_per_chunk;
    const bool last = e + 1 == stbl.stsc.entries.size();
    while (i < sizes.size() && (last || chunks.size() + 1 < stbl.stsc.entries[e + 1].first_chunk)) {
      uint64_t bytes = 0;
      for (uint32_t k = 0; k < per && i < sizes.size(); ++k) bytes += sizes[i++];
      chunks.push_back(bytes);
    }
  }
  return chunks;
}

// Writes ftyp + moov + an mdat header, then extends the file over the (interleaved) chunks
// without writing them.
size_t g_moov_bytes = 0;  // for the report

bool write_asset_file(const std::string& path, double hours, uint32_t bitrate) {
  const uint32_t video_samples = static_cast<uint32_t>(hours * 3600 * 30);
  const uint32_t audio_samples = static_cast<uint32_t>(hours * 3600 * kAudioRate / kAacFrame);
  mp4::Moov moov;
  moov.mvhd.timescale = 1000;
  moov.mvhd.duration = static_cast<uint64_t>(hours * 3600 * 1000);
  moov.mvhd.next_track_id = 3;
  moov.traks.push_back(video_trak(video_samples, bitrate));
  moov.traks.push_back(audio_trak(audio_samples));
  std::vector<uint64_t> sizes[2] = {chunk_sizes(moov.traks[0].mdia.minf.stbl),
                                    chunk_sizes(moov.traks[1].mdia.minf.stbl)};
  for (mp4::Trak& t : moov.traks) {
    t.mdia.minf.stbl.co64.emplace();
    t.mdia.minf.stbl.co64->offsets.assign(sizes[&t - moov.traks.data()].size(), 0);
  }
  mp4::Ftyp ftyp;
  ftyp.major_brand = fourcc("isom");
  ftyp.compatible_brands = {fourcc("isom"), fourcc("avc1"), fourcc("mp41")};
  // Offsets do not change the moov's size (co64 is fixed width): lay out the chunks after it.
  uint64_t pos = mp4::box_size(ftyp) + mp4::box_size(moov) + 16;
  const uint64_t mdat_start = pos - 16;
  size_t next[2] = {0, 0};
  while (next[0] < sizes[0].size() || next[1] < sizes[1].size()) {
    for (int t = 0; t < 2; ++t) {
      if (next[t] >= sizes[t].size()) continue;
      moov.traks[t].mdia.minf.stbl.co64->offsets[next[t]] = pos;
      pos += sizes[t][next[t]++];
    }
  }
  g_moov_bytes = mp4::box_size(moov);
  ByteWriter w;
  mp4::write_box(w, ftyp);
  mp4::write_box(w, moov);
  w.u32(1);
  w.u32(fourcc("mdat"));
  w.u64(pos - mdat_start);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return false;
  bool ok = ::write(fd, w.bytes().data(), w.size()) == static_cast<ssize_t>(w.size()) &&
            ::ftruncate(fd, static_cast<off_t>(pos)) == 0;
  ::close(fd);
  return ok;
}

std::string write_ism_copy(const std::string& dir, int n) {
  smil::Ism ism;
  const uint32_t rates[2] = {3000000, 1000000};
  for (int f = 0; f < 2; ++f) {
    smil::IsmTrack v;
    v.src = "asset_" + std::to_string(rates[f]) + ".mp4";
    v.system_bitrate = rates[f];
    v.track_id = 1;
    v.track_name = "video";
    ism.tracks.push_back(v);
  }
  smil::IsmTrack a;
  a.kind = smil::IsmTrackKind::kAudio;
  a.src = "asset_3000000.mp4";
  a.system_bitrate = 128000;
  a.system_language = "eng";
  a.track_id = 2;
  a.track_name = "aac_eng_2_128000_2_1";
  ism.tracks.push_back(a);
  // A new name per call: build_presentation caches presentations by path, and a cold build must
  // not find one.
  std::string path = dir + "/asset_" + std::to_string(n) + ".ism";
  std::ofstream(path) << smil::write_ism(ism);
  return path;
}

void drop_page_cache(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

struct Figures {
  std::vector<double> ms;
  void print(const char* what) {
    std::sort(ms.begin(), ms.end());
    std::printf("%-58s min %9.3f ms  median %9.3f ms  (%zu runs)\n", what, ms.front(),
                ms[ms.size() / 2], ms.size());
  }
};

}  // namespace

int main(int argc, char** argv) {
  const double hours = argc > 1 ? std::atof(argv[1]) : 2.0;
  if (hours <= 0 || hours > 48) {
    std::fprintf(stderr, "usage: %s [HOURS (0 < h <= 48, default 2)]\n", argv[0]);
    return 2;
  }
  char tmpl[] = "/tmp/ams-index-bench-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl) ? tmpl : "";
  if (dir.empty()) return 1;
  const std::string files[2] = {dir + "/asset_3000000.mp4", dir + "/asset_1000000.mp4"};
  if (!write_asset_file(files[0], hours, 3000000) || !write_asset_file(files[1], hours, 1000000)) {
    std::fprintf(stderr, "cannot write the asset in %s\n", dir.c_str());
    return 1;
  }
  {
    auto f = model::MediaFile::open(files[0]);
    auto idx = model::read_file_index(**f);
    if (!idx) {
      std::fprintf(stderr, "index: %s\n", idx.status().to_string().c_str());
      return 1;
    }
    std::printf(
        "asset: %.1f h, 2 files of %.2f GB (sparse), moov %.2f MB, %zu video + %zu "
        "audio samples each\n",
        hours, static_cast<double>((*f)->size()) / 1e9, static_cast<double>(g_moov_bytes) / 1e6,
        idx->tracks[0].table->samples.size(), idx->tracks[1].table->samples.size());
  }

  // Memory first, before the timing runs leave freed heap behind.
  malloc_trim(0);
  const long rss_before = rss_kib();
  size_t table_bytes = 0;
  size_t fragments = 0;
  {
    model::IndexCache cache;
    auto p = model::build_presentation(write_ism_copy(dir, 0), cache);
    if (!p) {
      std::fprintf(stderr, "build_presentation: %s\n", p.status().to_string().c_str());
      return 1;
    }
    for (const std::string& file : files) {
      for (const model::FileTrack& t : (*cache.get(file))->tracks)
        table_bytes += t.table->samples.capacity() * sizeof(model::Sample);
    }
    for (const model::Track& t : (*p)->tracks) fragments += t.fragments.size();
    const long rss_after = rss_kib();
    std::printf(
        "memory: RSS +%.1f MiB holding the presentation; sample tables %.1f MiB "
        "(%zu B/sample); %zu fragments\n",
        (rss_after - rss_before) / 1024.0, table_bytes / 1048576.0, sizeof(model::Sample),
        fragments);
  }

  Figures parse_cold, parse_warm, build_cold, build_indexed, build_cached;
  for (int run = 0; run < 5; ++run) {
    for (const std::string& file : files) {
      drop_page_cache(file);
      auto t0 = Clock::now();
      auto f = model::MediaFile::open(file);
      auto idx = model::read_file_index(**f);
      parse_cold.ms.push_back(ms_since(t0));
      t0 = Clock::now();
      idx = model::read_file_index(**f);
      parse_warm.ms.push_back(ms_since(t0));
    }
  }
  int n = 1;
  model::IndexCache shared_cache;
  for (int run = 0; run < 5; ++run) {
    model::IndexCache cache;
    const std::string ism = write_ism_copy(dir, n++);
    auto t0 = Clock::now();
    auto p = model::build_presentation(ism, cache);
    build_cold.ms.push_back(ms_since(t0));
    (void)model::build_presentation(write_ism_copy(dir, n++), shared_cache);
    const std::string ism2 = write_ism_copy(dir, n++);
    t0 = Clock::now();
    p = model::build_presentation(ism2, shared_cache);
    build_indexed.ms.push_back(ms_since(t0));
  }
  const std::string ism = write_ism_copy(dir, n++);
  (void)model::build_presentation(ism, shared_cache);
  for (int run = 0; run < 2000; ++run) {
    auto t0 = Clock::now();
    auto p = model::build_presentation(ism, shared_cache);
    build_cached.ms.push_back(ms_since(t0));
  }
  parse_cold.print("read_file_index, one file, page cache dropped");
  parse_warm.print("read_file_index, one file, page cache warm");
  build_cold.print("build_presentation(.ism), empty IndexCache");
  build_indexed.print("build_presentation(new .ism), indexes cached");
  build_cached.print("build_presentation(same .ism), cached");

  for (int i = 0; i < n; ++i) ::unlink((dir + "/asset_" + std::to_string(i) + ".ism").c_str());
  for (const std::string& file : files) ::unlink(file.c_str());
  ::rmdir(dir.c_str());
  return 0;
}
