#include "broken_corpus.h"

#include <glib.h>
#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <optional>

#include "harness.h"

namespace ams_it {
namespace {

// --- MP4 boxes, just enough to find the fields the patches change -----------------------------

struct Box {
  size_t at = 0;      // offset of the header
  size_t header = 8;  // 8, or 16 with a 64-bit size
  uint64_t size = 0;  // header included
  std::string type;
  size_t payload() const { return at + header; }
};

uint32_t get32(const std::string& d, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(d.at(at + i));
  return v;
}

void put32(std::string& d, size_t at, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) d.at(at + i) = static_cast<char>(v >> (24 - 8 * i));
}

std::vector<Box> children(const std::string& d, size_t begin, size_t end) {
  std::vector<Box> out;
  for (size_t at = begin; at + 8 <= end;) {
    Box b;
    b.at = at;
    b.size = get32(d, at);
    b.type = d.substr(at + 4, 4);
    if (b.size == 1) {
      b.header = 16;
      b.size = static_cast<uint64_t>(get32(d, at + 8)) << 32 | get32(d, at + 12);
    } else if (b.size == 0) {
      b.size = end - at;
    }
    if (b.size < b.header || b.size > end - at) break;
    out.push_back(b);
    at += b.size;
  }
  return out;
}

// The box at `path` ("moov/trak#1/mdia/mdhd": "#k" is the k-th box of that type, from 0).
std::optional<Box> find(const std::string& d, const std::string& path) {
  size_t begin = 0;
  size_t end = d.size();
  std::optional<Box> found;
  for (size_t from = 0; from <= path.size();) {
    size_t slash = std::min(path.find('/', from), path.size());
    std::string name = path.substr(from, slash - from);
    from = slash + 1;
    size_t hash = name.find('#');
    int index = hash == std::string::npos ? 0 : std::stoi(name.substr(hash + 1));
    name = name.substr(0, hash);
    found.reset();
    for (const Box& b : children(d, begin, end)) {
      if (b.type == name && index-- == 0) {
        found = b;
        break;
      }
    }
    if (!found) return std::nullopt;
    begin = found->payload();
    end = found->at + found->size;
  }
  return found;
}

// "moov/trak#K" of the track whose handler is `handler` (vide, soun, sbtl, text).
std::string trak_of(const std::string& d, const std::string& handler) {
  for (int k = 0; k < 8; ++k) {
    std::string trak = "moov/trak#" + std::to_string(k);
    std::optional<Box> hdlr = find(d, trak + "/mdia/hdlr");
    if (hdlr && d.substr(hdlr->payload() + 8, 4) == handler) return trak;
  }
  return "";
}

// Patches one MP4's bytes; the first patch that cannot find its box records why.
class Patch {
 public:
  explicit Patch(std::string data) : d_(std::move(data)) {}
  const std::string& bytes() const { return d_; }
  const std::string& error() const { return error_; }

  std::optional<Box> box(const std::string& handler, const std::string& rest) {
    std::string trak = handler.empty() ? "" : trak_of(d_, handler);
    std::string path = handler.empty() ? rest : trak + "/" + rest;
    std::optional<Box> b = trak.empty() && !handler.empty() ? std::nullopt : find(d_, path);
    if (!b && error_.empty()) error_ = "no box " + handler + ":" + rest;
    return b;
  }
  // The timescale of an mdhd or mvhd (version 0 or 1).
  void timescale(const std::string& handler, const std::string& rest, uint32_t value) {
    if (auto b = box(handler, rest)) {
      bool v1 = d_[b->payload()] == 1;
      put32(d_, b->payload() + 4 + (v1 ? 16 : 8), value);
    }
  }
  // A 32-bit field at `offset` bytes into the payload of a full box.
  void field(const std::string& handler, const std::string& rest, size_t offset, uint32_t value) {
    if (auto b = box(handler, rest)) {
      if (b->header + offset + 4 > b->size) {
        error_ = rest + " is too short";
        return;
      }
      put32(d_, b->payload() + offset, value);
    }
  }
  // Every (count, value) entry of a table box: entry k's 32-bit word `word` set to `value`.
  void each_entry(const std::string& handler, const std::string& rest, size_t entry_words,
                  size_t word, uint32_t value) {
    if (auto b = box(handler, rest)) {
      uint32_t n = get32(d_, b->payload() + 4);
      for (uint32_t k = 0; k < n; ++k) {
        put32(d_, b->payload() + 8 + (k * entry_words + word) * 4, value);
      }
    }
  }
  // The box's 32-bit size becomes 1 and the next 8 bytes a 64-bit size of 2^64-1.
  void size_max(const std::string& path) {
    if (auto b = box("", path)) {
      put32(d_, b->at, 1);
      for (size_t i = 0; i < 8; ++i) d_[b->at + 8 + i] = static_cast<char>(0xff);
    }
  }
  void truncate_in(const std::string& path) {
    if (auto b = box("", path)) d_.resize(b->at + b->size / 2);
  }
  // No samples: the counts of every table of the track are 0.
  void no_samples(const std::string& handler) {
    field(handler, "mdia/minf/stbl/stts", 4, 0);
    field(handler, "mdia/minf/stbl/stsc", 4, 0);
    field(handler, "mdia/minf/stbl/stsz", 8, 0);
    field(handler, "mdia/minf/stbl/stco", 4, 0);
    if (find(d_, trak_of(d_, handler) + "/mdia/minf/stbl/stss")) {
      field(handler, "mdia/minf/stbl/stss", 4, 0);
    }
    if (find(d_, trak_of(d_, handler) + "/mdia/minf/stbl/ctts")) {
      field(handler, "mdia/minf/stbl/ctts", 4, 0);
    }
  }

 private:
  std::string d_;
  std::string error_;
};

std::string mp4_in(const std::string& folder) {
  std::string name;
  GDir* dir = g_dir_open(folder.c_str(), 0, nullptr);
  if (dir == nullptr) return "";
  while (const char* entry = g_dir_read_name(dir)) {
    if (g_str_has_suffix(entry, ".mp4")) name = entry;
  }
  g_dir_close(dir);
  return name;
}

constexpr char kIsmHead[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<smil xmlns=\"http://www.w3.org/2001/SMIL20/Language\">\n"
    "  <head>\n    <meta name=\"formats\" content=\"mp4-v3\" />\n  </head>\n"
    "  <body>\n    <switch>\n";
constexpr char kIsmTail[] = "    </switch>\n  </body>\n</smil>\n";

std::string ism_track(const std::string& element, const std::string& src, int bitrate,
                      const std::string& language, int track_id, const std::string& name) {
  std::string out = "      <" + element + " src=\"" + src + "\"";
  if (bitrate > 0) out += " systemBitrate=\"" + std::to_string(bitrate) + "\"";
  if (!language.empty()) out += " systemLanguage=\"" + language + "\"";
  out += ">\n";
  if (track_id > 0) {
    out += "        <param name=\"trackID\" value=\"" + std::to_string(track_id) +
           "\" valuetype=\"data\" />\n";
  }
  out += "        <param name=\"trackName\" value=\"" + name + "\" valuetype=\"data\" />\n";
  return out + "      </" + element + ">\n";
}

// The ffmpeg asset's .ism: video and audio of ff.mp4, plus `extra` tracks.
std::string ffmpeg_ism(const std::string& extra) {
  return kIsmHead + ism_track("video", "ff.mp4", 300000, "", 1, "video") +
         ism_track("audio", "ff.mp4", 64000, "eng", 2, "aac_eng_2_64000_2_1") + extra + kIsmTail;
}

constexpr char kVtt[] =
    "WEBVTT\n\n00:00:00.500 --> 00:00:02.000\nHello\n\n00:00:03.000 --> 00:00:05.000\nWorld\n";

}  // namespace

std::string make_corpus(const std::string& dir, Corpus* out) {
  const std::string log = dir + "/corpus.log";
  out->ams_folder = dir + "/good";
  if (std::string e = run_ams({"encode", "--test-source", "6", "--ladder", "180", "--width", "320",
                               "--height", "180", out->ams_folder},
                              log);
      !e.empty()) {
    return e;
  }
  const std::string ams_mp4 = mp4_in(out->ams_folder);
  const std::string ams_bytes = read_file(out->ams_folder + "/" + ams_mp4);
  const std::string ams_ism = read_file(out->ams_folder + "/testsrc.ism");
  if (ams_mp4.empty() || ams_bytes.empty() || ams_ism.empty()) return "ams encode wrote no asset";

  // ffmpeg as a user runs it: libx264 with B-frames, AAC (priming edit list), a mov_text track,
  // the index first (+faststart) so that truncating the media data leaves the index whole.
  out->ffmpeg_folder = dir + "/ffmpeg";
  g_mkdir_with_parents(out->ffmpeg_folder.c_str(), 0755);
  write_file(dir + "/subs.srt",
             "1\n00:00:00,500 --> 00:00:02,000\nHello\n\n2\n00:00:03,000 --> 00:00:05,000\n"
             "World\n");
  if (std::string e = run({"ffmpeg",
                           "-v",
                           "error",
                           "-y",
                           "-f",
                           "lavfi",
                           "-i",
                           "testsrc2=size=160x90:rate=25",
                           "-f",
                           "lavfi",
                           "-i",
                           "sine=frequency=440:sample_rate=48000",
                           "-i",
                           dir + "/subs.srt",
                           "-t",
                           "6",
                           "-map",
                           "0:v",
                           "-map",
                           "1:a",
                           "-map",
                           "2:s",
                           "-c:v",
                           "libx264",
                           "-g",
                           "50",
                           "-keyint_min",
                           "50",
                           "-sc_threshold",
                           "0",
                           "-bf",
                           "2",
                           "-pix_fmt",
                           "yuv420p",
                           "-c:a",
                           "aac",
                           "-b:a",
                           "64k",
                           "-c:s",
                           "mov_text",
                           "-metadata:s:s:0",
                           "language=eng",
                           "-movflags",
                           "+faststart",
                           out->ffmpeg_folder + "/ff.mp4"},
                          log);
      !e.empty()) {
    return e;
  }
  const std::string ff_bytes = read_file(out->ffmpeg_folder + "/ff.mp4");
  write_file(out->ffmpeg_folder + "/ff.ism", ffmpeg_ism(""));

  std::string error;
  // An asset from the ams one: the .ism as is, the MP4 patched.
  auto ams_patched = [&](const std::string& name, const std::string& what, Rule rule,
                         const std::function<void(Patch&)>& patch) {
    Patch p(ams_bytes);
    patch(p);
    if (!p.error().empty() && error.empty()) error = name + ": " + p.error();
    std::string folder = dir + "/" + name;
    g_mkdir_with_parents(folder.c_str(), 0755);
    write_file(folder + "/" + ams_mp4, p.bytes());
    write_file(folder + "/testsrc.ism", ams_ism);
    out->broken.push_back({name, what, "ams", rule, folder, "testsrc"});
  };
  // An asset from the ams one with its own .ism (and files).
  auto ams_ism_asset = [&](const std::string& name, const std::string& what, Rule rule,
                           const std::string& ism, bool with_mp4,
                           const std::vector<std::pair<std::string, std::string>>& files) {
    std::string folder = dir + "/" + name;
    g_mkdir_with_parents(folder.c_str(), 0755);
    if (with_mp4) write_file(folder + "/" + ams_mp4, ams_bytes);
    write_file(folder + "/testsrc.ism", ism);
    for (const auto& [file, data] : files) write_file(folder + "/" + file, data);
    out->broken.push_back({name, what, "ams", rule, folder, "testsrc"});
  };
  auto ffmpeg_asset = [&](const std::string& name, const std::string& what, Rule rule,
                          const std::string& ism, const std::function<void(Patch&)>& patch) {
    Patch p(ff_bytes);
    patch(p);
    if (!p.error().empty() && error.empty()) error = name + ": " + p.error();
    std::string folder = dir + "/" + name;
    g_mkdir_with_parents(folder.c_str(), 0755);
    write_file(folder + "/ff.mp4", p.bytes());
    write_file(folder + "/ff.ism", ism);
    out->broken.push_back({name, what, "ffmpeg", rule, folder, "ff"});
  };
  auto with_text = [&](const std::string& text) {
    std::string ism = ams_ism;
    ism.insert(ism.find("    </switch>"), text);
    return ism;
  };
  const std::string stbl = "mdia/minf/stbl/";

  ams_patched("mdhd-timescale-0", "video mdhd timescale 0", Rule::kWellFormed,
              [](Patch& p) { p.timescale("vide", "mdia/mdhd", 0); });
  ams_patched("mdhd-timescale-0-audio", "audio mdhd timescale 0", Rule::kWellFormed,
              [](Patch& p) { p.timescale("soun", "mdia/mdhd", 0); });
  ams_patched("mvhd-timescale-0", "mvhd timescale 0 (the edit lists use it)", Rule::kWellFormed,
              [](Patch& p) { p.timescale("", "moov/mvhd", 0); });
  ams_patched("stsz-entry-past-end", "video sample 70's stsz size 0xFFFFFF00", Rule::kMediaAsParent,
              [&](Patch& p) { p.field("vide", stbl + "stsz", 12 + 70 * 4, 0xFFFFFF00u); });
  ams_patched("stco-entry-past-end", "video chunk 10's stco offset 0xFFFFFF00",
              Rule::kMediaAsParent,
              [&](Patch& p) { p.field("vide", stbl + "stco", 8 + 10 * 4, 0xFFFFFF00u); });
  ams_patched("stsz-count-max", "video stsz sample_count 2^32-1", Rule::kWellFormed,
              [&](Patch& p) { p.field("vide", stbl + "stsz", 8, 0xFFFFFFFFu); });
  ams_patched("stco-count-max", "video stco entry_count 2^32-1", Rule::kWellFormed,
              [&](Patch& p) { p.field("vide", stbl + "stco", 4, 0xFFFFFFFFu); });
  ams_patched("stts-count-max", "video stts entry_count 2^32-1", Rule::kWellFormed,
              [&](Patch& p) { p.field("vide", stbl + "stts", 4, 0xFFFFFFFFu); });
  ams_patched("stsc-count-max", "audio stsc entry_count 2^32-1", Rule::kWellFormed,
              [&](Patch& p) { p.field("soun", stbl + "stsc", 4, 0xFFFFFFFFu); });
  ams_patched("stts-delta-0", "every video sample lasts 0 ticks", Rule::kWellFormed,
              [&](Patch& p) { p.each_entry("vide", stbl + "stts", 2, 1, 0); });
  ams_patched("stsc-0-samples-per-chunk", "video stsc samples_per_chunk 0", Rule::kWellFormed,
              [&](Patch& p) { p.each_entry("vide", stbl + "stsc", 3, 1, 0); });
  ams_patched("zero-sample-track", "the video track has no samples", Rule::kWellFormed,
              [](Patch& p) { p.no_samples("vide"); });
  ams_patched("box-size-max-moov", "moov size 2^64-1 (64-bit size)", Rule::kNo200,
              [](Patch& p) { p.size_max("moov"); });
  ams_patched("box-size-max-trak", "the video trak's size 2^64-1", Rule::kWellFormed,
              [](Patch& p) { p.size_max("moov/trak#0"); });
  ams_patched("avcc-garbage", "the avcC record is 0xFF bytes", Rule::kWellFormed, [](Patch& p) {
    if (auto b = p.box("vide", "mdia/minf/stbl/stsd")) {
      std::string d = p.bytes();
      size_t at = d.find("avcC", b->at);
      if (at != std::string::npos) {
        uint32_t size = get32(d, at - 4);
        for (size_t i = at + 4; i < at - 4 + size; ++i) d[i] = static_cast<char>(0xff);
        p = Patch(d);
      }
    }
  });
  ams_patched("moov-truncated", "the file ends in the middle of moov", Rule::kNo200,
              [](Patch& p) { p.truncate_in("moov"); });
  ams_patched("mdat-truncated", "the file ends in the middle of mdat (offsets past the end)",
              Rule::kMediaAsParent, [](Patch& p) { p.truncate_in("mdat"); });
  ams_patched("mp4-empty", "a 0-byte MP4", Rule::kNo200, [](Patch& p) { p = Patch(""); });
  ams_patched("ftyp-only", "an MP4 of one ftyp box", Rule::kNo200,
              [&](Patch& p) { p = Patch(ams_bytes.substr(0, get32(ams_bytes, 0))); });

  ams_ism_asset("textstream-vtt", "a <textstream> naming a .vtt that exists", Rule::kMediaAsParent,
                with_text(ism_track("textstream", "subs.vtt", 0, "eng", 0, "subs_eng")), true,
                {{"subs.vtt", kVtt}});
  ams_ism_asset("textstream-missing-vtt", "a <textstream> naming a .vtt that does not exist",
                Rule::kMediaAsParent,
                with_text(ism_track("textstream", "missing.vtt", 0, "eng", 0, "subs_eng")), true,
                {});
  ams_ism_asset("ism-missing-file", ".ism naming an MP4 that does not exist", Rule::kNo200, ams_ism,
                false, {});
  ams_ism_asset("ism-not-xml", "an .ism that is not XML", Rule::kNo200,
                std::string("not xml at all \x01\xff\xfe <smil", 21), true, {});
  ams_ism_asset("ism-empty", "a 0-byte .ism", Rule::kNo200, "", true, {});
  {
    std::string tracks;
    for (int i = 0; i < 10000; ++i) {
      tracks += ism_track("video", ams_mp4, 100000 + i, "", 1, "video");
    }
    ams_ism_asset("ism-10000-tracks", "an .ism with 10,000 video tracks", Rule::kWellFormed,
                  kIsmHead + tracks + kIsmTail, true, {});
  }
  {
    std::string deep;
    for (int i = 0; i < 100000; ++i) deep += "<a>";
    for (int i = 0; i < 100000; ++i) deep += "</a>";
    std::string ism = ams_ism;
    ism.insert(ism.find("  </head>"), deep);
    ams_ism_asset("ism-deep-nesting", "an element nested 100,000 deep in <head>", Rule::kWellFormed,
                  ism, true, {});
  }
  {
    std::string ism = ams_ism;
    for (size_t at = 0; (at = ism.find("src=\"", at)) != std::string::npos; at += 5) {
      ism.insert(at + 5, "../good/");
    }
    ams_ism_asset("ism-outside-folder", ".ism naming ../good/*.mp4 (outside its folder)",
                  Rule::kNo200, ism, false, {});
  }
  {
    std::string ism = ams_ism;
    size_t at = ism.find("name=\"trackID\" value=\"1\"");
    if (at != std::string::npos) ism.replace(at, 24, "name=\"trackID\" value=\"9\"");
    ams_ism_asset("ism-unknown-track-id", "the video names trackID 9 (the MP4 has 1 and 2)",
                  Rule::kWellFormed, ism, true, {});
  }

  const std::string text3 = ism_track("textstream", "ff.mp4", 0, "eng", 3, "text_eng");
  ffmpeg_asset("ffmpeg-mov-text", "ffmpeg MP4 with a mov_text track named by a <textstream>",
               Rule::kMediaAsParent, ffmpeg_ism(text3), [](Patch&) {});
  ffmpeg_asset("ffmpeg-text-no-samples", "the mov_text track has no samples", Rule::kMediaAsParent,
               ffmpeg_ism(text3), [](Patch& p) { p.no_samples("sbtl"); });
  ffmpeg_asset("ffmpeg-mdat-truncated", "ffmpeg MP4 ending in the middle of mdat",
               Rule::kMediaAsParent, ffmpeg_ism(""), [](Patch& p) { p.truncate_in("mdat"); });
  ffmpeg_asset("ffmpeg-mdhd-timescale-0", "ffmpeg MP4, video mdhd timescale 0 (with B-frames)",
               Rule::kWellFormed, ffmpeg_ism(""),
               [](Patch& p) { p.timescale("vide", "mdia/mdhd", 0); });
  return error;
}

}  // namespace ams_it
