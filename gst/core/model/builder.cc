#include "model/builder.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <mutex>

#include "base/language.h"
#include "base/path.h"
#include "codec/aac.h"
#include "codec/ac3.h"
#include "codec/avc.h"
#include "codec/hevc.h"
#include "model/align.h"
#include "mp4/esds.h"
#include "smil/ism.h"
#include "text/webvtt.h"

namespace ams::model {
namespace {

using mp4::fourcc;

struct Stat {
  FileState state;
  bool is_dir = false;
  bool operator==(const Stat&) const = default;
};

Result<Stat> stat_path(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return not_found(path + ": no such file or folder");
  return Stat{file_state_of(st), S_ISDIR(st.st_mode)};
}

uint32_t measured_bitrate(const Track& t) {
  if (t.duration <= 0 || t.timescale == 0) return 0;
  uint64_t bytes = 0;
  for (const Sample& s : t.samples()) bytes += s.size;
  return static_cast<uint32_t>(std::min<uint64_t>(
      UINT32_MAX,
      static_cast<uint64_t>(rescale(static_cast<int64_t>(bytes * 8), t.duration, t.timescale))));
}

// Fills codec, codec string, codec private data and audio/video properties from the sample entry.
Status describe_codec(const FileTrack& ft, Track& t) {
  const mp4::SampleEntry& e = ft.entry;
  t.fourcc = mp4::fourcc_to_string(e.format);
  t.width = e.width ? e.width : ft.width;
  t.height = e.height ? e.height : ft.height;
  t.sample_rate = e.sample_rate;
  t.channels = e.channel_count;
  t.bits_per_sample = e.sample_size ? e.sample_size : 16;
  auto config = [&](mp4::FourCC type) -> const Bytes* {
    const mp4::SampleEntry::Child* c = e.child(type);
    return c ? &c->payload : nullptr;
  };
  switch (e.format) {
    case fourcc("avc1"):
    case fourcc("avc3"): {
      const Bytes* avcc = config(fourcc("avcC"));
      if (!avcc) return invalid_data(t.fourcc + " sample entry without avcC");
      AMS_ASSIGN_OR_RETURN(codec::AvcConfig cfg, codec::parse_avcc(*avcc));
      t.codec = Codec::kH264;
      t.codec_private = *avcc;
      t.codec_string = codec::avc_codec_string(t.fourcc, cfg);
      return Status::ok();
    }
    case fourcc("hvc1"):
    case fourcc("hev1"): {
      const Bytes* hvcc = config(fourcc("hvcC"));
      if (!hvcc) return invalid_data(t.fourcc + " sample entry without hvcC");
      AMS_ASSIGN_OR_RETURN(codec::HevcConfig cfg, codec::parse_hvcc(*hvcc));
      t.codec = Codec::kH265;
      t.codec_private = *hvcc;
      t.codec_string = codec::hevc_codec_string(t.fourcc, cfg);
      return Status::ok();
    }
    case fourcc("mp4a"): {
      const Bytes* esds = config(fourcc("esds"));
      if (!esds) return invalid_data("mp4a sample entry without esds");
      AMS_ASSIGN_OR_RETURN(mp4::EsDescriptor es, mp4::parse_esds(*esds));
      if (es.object_type_indication != 0x40 && es.object_type_indication != 0x66 &&
          es.object_type_indication != 0x67 && es.object_type_indication != 0x68) {
        return unsupported("mp4a with object type 0x" + to_hex(Bytes{es.object_type_indication}) +
                           " (only AAC is supported)");
      }
      AMS_ASSIGN_OR_RETURN(codec::AacConfig cfg,
                           codec::parse_audio_specific_config(es.decoder_specific_info));
      t.codec = Codec::kAac;
      t.codec_private = es.decoder_specific_info;
      t.codec_string = codec::aac_codec_string(cfg);
      t.sample_rate = cfg.output_sample_rate ? cfg.output_sample_rate : cfg.sample_rate;
      if (cfg.channel_config > 0 && cfg.channel_config < 7) t.channels = cfg.channel_config;
      if (cfg.channel_config == 7) t.channels = 8;
      return Status::ok();
    }
    case fourcc("ac-3"):
    case fourcc("ec-3"): {
      bool enhanced = e.format == fourcc("ec-3");
      const Bytes* box = config(enhanced ? fourcc("dec3") : fourcc("dac3"));
      if (!box) return invalid_data(t.fourcc + " sample entry without its dac3/dec3 box");
      AMS_ASSIGN_OR_RETURN(codec::Ac3Config cfg,
                           enhanced ? codec::parse_dec3(*box) : codec::parse_dac3(*box));
      t.codec = enhanced ? Codec::kEac3 : Codec::kAc3;
      t.codec_private = *box;
      t.codec_string = codec::ac3_codec_string(cfg);
      if (cfg.sample_rate) t.sample_rate = cfg.sample_rate;
      if (cfg.channels) t.channels = cfg.channels;
      return Status::ok();
    }
    default:
      return unsupported("codec " + t.fourcc +
                         " (supported: avc1, avc3, hvc1, hev1, mp4a, ac-3, ec-3)");
  }
}

Result<Track> track_from_file(const FileIndex& index, const FileTrack& ft, TrackType type,
                              const std::string& file) {
  Track t;
  t.type = type;
  t.timescale = ft.timescale;
  t.language = ft.language.empty() ? "und" : ft.language;
  t.file = file;
  t.file_track_id = ft.track_id;
  t.table = ft.table;
  t.cea608_channels = ft.cea608_channels;
  Status s = describe_codec(ft, t);
  if (!s.is_ok()) return s.with_context(index.path + " track " + std::to_string(ft.track_id));
  return t;
}

TrackType type_of_handler(mp4::FourCC handler, bool& known) {
  known = true;
  if (handler == fourcc("vide")) return TrackType::kVideo;
  if (handler == fourcc("soun")) return TrackType::kAudio;
  known = false;
  return TrackType::kText;
}

std::string codec_prefix(Codec c) {
  switch (c) {
    case Codec::kAc3:
      return "ac3";
    case Codec::kEac3:
      return "ec3";
    default:
      return "aac";
  }
}

void order_tracks(Presentation& p) {
  std::stable_sort(p.tracks.begin(), p.tracks.end(), [](const Track& a, const Track& b) {
    if (a.type != b.type) return static_cast<int>(a.type) < static_cast<int>(b.type);
    if (a.type == TrackType::kVideo) return a.bitrate > b.bitrate;
    return false;
  });
}

Status finish(Presentation& p, const BuildOptions& options) {
  bool media = false;
  for (const Track& t : p.tracks) {
    if (t.type == TrackType::kText) continue;
    if (t.samples().empty()) {
      return invalid_data(p.name + ": " + track_type_name(t.type) + " track of " + t.file +
                          " has no samples");
    }
    const Sample& last = t.samples().back();
    if (t.samples().size() > 1 && last.dts + last.duration <= t.samples().front().dts) {
      return invalid_data(p.name + ": " + track_type_name(t.type) + " track of " + t.file +
                          " has samples without durations (stts)");
    }
    media = true;
  }
  if (!media) return invalid_data(p.name + ": the asset has no audio or video track");
  AMS_RETURN_IF_ERROR(align_tracks(p.tracks));
  for (Track& t : p.tracks) {
    uint32_t max_size = 0;
    for (const Sample& s : t.samples()) max_size = std::max(max_size, s.size);
    t.max_sample_size = max_size;
  }
  AMS_RETURN_IF_ERROR(build_fragment_timeline(p.tracks, options.timeline));
  for (Track& t : p.tracks) {
    if (t.type == TrackType::kText) continue;
    if (t.bitrate == 0) t.bitrate = measured_bitrate(t);
    if (t.type == TrackType::kAudio && t.name.empty())
      t.name = ams_audio_track_name(t, t.file_track_id);
    if (t.type == TrackType::kVideo && t.name.empty()) t.name = "video";
    p.duration_10mhz = std::max(p.duration_10mhz, t.duration_10mhz());
  }
  // Side-car text has no samples of its own: it spans the presentation, in the manifest
  // timescale, so that nothing divides by a zero timescale.
  for (Track& t : p.tracks) {
    if (t.type != TrackType::kText) continue;
    t.timescale = kManifestTimescale;
    t.duration = p.duration_10mhz;
  }
  order_tracks(p);
  return Status::ok();
}

// A presentation being built, and every file it was built from with the state it was read in.
struct Input {
  std::string path;
  Stat stat;
  bool operator==(const Input&) const = default;
};
struct Built {
  std::shared_ptr<Presentation> presentation;
  std::vector<Input> inputs;
};

void add_input(Built& built, const FileIndex& index) {
  built.inputs.push_back({index.path, Stat{index.state, false}});
}

Result<std::shared_ptr<const text::WebVtt>> read_webvtt(const std::string& path) {
  AMS_ASSIGN_OR_RETURN(std::unique_ptr<MediaFile> f, MediaFile::open(path));
  if (f->size() > text::kMaxWebVttBytes) return resource_limit(path + ": larger than 16 MiB");
  Bytes bytes;
  AMS_RETURN_IF_ERROR(f->read_at(0, static_cast<size_t>(f->size()), bytes));
  Result<text::WebVtt> vtt = text::parse_webvtt(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  if (!vtt) return Status(vtt.status()).with_context(path);
  return std::make_shared<const text::WebVtt>(std::move(vtt).value());
}

Result<Built> build_from_ism(const std::string& ism_path, IndexCache& cache,
                             const BuildOptions& options) {
  AMS_ASSIGN_OR_RETURN(std::unique_ptr<MediaFile> f, MediaFile::open(ism_path));
  if (f->size() > smil::kMaxIsmBytes) return resource_limit(ism_path + ": larger than 4 MiB");
  Bytes xml;
  AMS_RETURN_IF_ERROR(f->read_at(0, static_cast<size_t>(f->size()), xml));
  auto ism =
      smil::parse_ism(std::string_view(reinterpret_cast<const char*>(xml.data()), xml.size()));
  if (!ism) return Status(ism.status()).with_context(ism_path);

  Built built;
  built.inputs.push_back({ism_path, Stat{f->state(), false}});
  auto p = std::make_shared<Presentation>();
  p->name = stem_of(ism_path);
  p->folder = dirname_of(ism_path);
  p->client_manifest = ism->client_manifest_relative_path;
  p->formats = ism->formats;
  if (ism->fragments_per_hls_segment)
    p->fragments_per_hls_segment = *ism->fragments_per_hls_segment;
  const std::string dir = dirname_of(ism_path);
  std::map<std::string, std::shared_ptr<const FileIndex>> opened;
  for (const smil::IsmTrack& it : ism->tracks) {
    auto resolved = resolve_inside(dir, it.src);
    // A side-car text file that is missing leaves its track out, not the asset (the media still
    // plays); an MP4 that is missing is the asset's end.
    if (!resolved && it.kind == smil::IsmTrackKind::kText &&
        resolved.status().code() == StatusCode::kNotFound) {
      continue;
    }
    if (!resolved)
      return Status(resolved.status()).with_context(ism_path + ": src \"" + it.src + "\"");
    if (it.kind == smil::IsmTrackKind::kText) {
      // A WebVTT side-car is read and parsed now; one that is not WebVTT (or cannot be read) is
      // left out like a missing one, so that no player is sent to a rendition that fails. Its
      // malformed cues are skipped (Track::webvtt->problems says which).
      // Its state before it is read: a change while reading shows as a change next time.
      Result<Stat> st = stat_path(*resolved);
      if (!st) continue;
      Track t;
      t.type = TrackType::kText;
      t.codec = iends_with(it.src, ".vtt") ? Codec::kWebVtt : Codec::kUnknown;
      if (t.codec == Codec::kWebVtt) {
        Result<std::shared_ptr<const text::WebVtt>> read = read_webvtt(*resolved);
        if (!read) continue;
        t.webvtt = std::move(read).value();
      }
      t.name = it.track_name.empty() ? stem_of(it.src) : it.track_name;
      t.language = it.system_language.empty() ? "und" : it.system_language;
      t.bitrate = it.system_bitrate;
      t.file = it.src;
      t.role = it.role;
      t.accessibility = it.accessibility;
      p->tracks.push_back(std::move(t));
      // An input like the MP4s: an edited side-car makes a new presentation (and entity tags).
      built.inputs.push_back({*resolved, *st});
      continue;
    }
    std::shared_ptr<const FileIndex>& index = opened[*resolved];
    if (!index) {
      if (opened.size() > options.max_files) return resource_limit(ism_path + ": too many files");
      auto got = cache.get(*resolved);
      if (!got) return Status(got.status()).with_context(ism_path + ": " + it.src);
      index = *got;
      add_input(built, *index);
    }
    const TrackType want =
        it.kind == smil::IsmTrackKind::kVideo ? TrackType::kVideo : TrackType::kAudio;
    const FileTrack* ft = nullptr;
    for (const FileTrack& cand : index->tracks) {
      bool known = false;
      TrackType type = type_of_handler(cand.handler, known);
      if (it.track_id ? cand.track_id == *it.track_id : (known && type == want)) {
        ft = &cand;
        break;
      }
    }
    if (!ft) {
      return not_found(ism_path + ": " + it.src + " has no " + track_type_name(want) + " track" +
                       (it.track_id ? " with trackID " + std::to_string(*it.track_id) : ""));
    }
    AMS_ASSIGN_OR_RETURN(Track t, track_from_file(*index, *ft, want, it.src));
    t.name = it.track_name;
    if (!it.system_language.empty()) t.language = it.system_language;
    t.bitrate = it.system_bitrate;
    t.role = it.role;
    t.accessibility = it.accessibility;
    p->tracks.push_back(std::move(t));
  }
  AMS_RETURN_IF_ERROR(finish(*p, options));
  built.presentation = std::move(p);
  return built;
}

bool same_audio(const Track& a, const Track& b) {
  return a.codec == b.codec && a.language == b.language && a.codec_private == b.codec_private &&
         a.samples().size() == b.samples().size() && a.duration == b.duration;
}

// The language a side-car's file name gives: the last of its stem's words (split at '.', '_' and
// '-') that is an ISO 639-2 or ISO 639-1 code ("film.en.vtt", "subtitles_fra.vtt"); "und" when none
// is.
std::string language_of_name(const std::string& file) {
  const std::string stem = stem_of(file);
  std::vector<std::string> words;
  std::string word;
  for (char c : stem + ".") {
    if (c == '.' || c == '_' || c == '-') {
      if (!word.empty()) words.push_back(word);
      word.clear();
    } else {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  for (auto it = words.rbegin(); it != words.rend(); ++it) {
    if (it->size() == 3 && iso639_1_of(*it) != *it) return *it;
    if (it->size() == 2 && iso639_2_of(*it) != *it) return iso639_2_of(*it);
  }
  return "und";
}

// A folder without an .ism: each WebVTT file beside the MP4s is a text track, named by its stem
// (other characters than letters, digits and '-' as '_'), its language from its name; one that
// does not parse is left out, as from an .ism.
void add_folder_side_cars(Built& built, Presentation& p, const std::string& dir,
                          const std::vector<std::string>& vtts) {
  for (const std::string& file : vtts) {
    const std::string path = dir + "/" + file;
    Result<Stat> st = stat_path(path);
    if (!st) continue;
    Result<std::shared_ptr<const text::WebVtt>> read = read_webvtt(path);
    if (!read) continue;
    Track t;
    t.type = TrackType::kText;
    t.codec = Codec::kWebVtt;
    t.webvtt = std::move(read).value();
    // A track name goes into URLs (Fragments(name=...)): letters, digits, '_' and '-' only.
    t.name = stem_of(file);
    for (char& c : t.name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') c = '_';
    }
    t.language = language_of_name(file);
    t.file = file;
    p.tracks.push_back(std::move(t));
    built.inputs.push_back({path, *st});
  }
}

Result<Built> build_from_files(const std::string& name, const std::string& dir,
                               const std::vector<std::string>& files, IndexCache& cache,
                               const BuildOptions& options,
                               const std::vector<std::string>& vtts = {}) {
  Built built;
  auto p = std::make_shared<Presentation>();
  p->name = name;
  p->folder = dir;
  for (const std::string& file : files) {
    auto got = cache.get(dir.empty() ? file : dir + "/" + file);
    if (!got) return got.status();
    add_input(built, **got);
    for (const FileTrack& ft : (*got)->tracks) {
      bool known = false;
      TrackType type = type_of_handler(ft.handler, known);
      if (!known) continue;
      AMS_ASSIGN_OR_RETURN(Track t, track_from_file(**got, ft, type, file));
      // The AMS encoder muxes the same audio into every rung: list it once.
      bool duplicate = type == TrackType::kAudio &&
                       std::any_of(p->tracks.begin(), p->tracks.end(),
                                   [&](const Track& o) { return same_audio(o, t); });
      if (!duplicate) p->tracks.push_back(std::move(t));
    }
  }
  add_folder_side_cars(built, *p, dir, vtts);
  AMS_RETURN_IF_ERROR(finish(*p, options));
  built.presentation = std::move(p);
  return built;
}

Result<std::vector<std::string>> list_folder(const std::string& dir, size_t max_files,
                                             std::vector<std::string>& isms,
                                             std::vector<std::string>& vtts) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return not_found(dir + ": cannot open the folder");
  std::vector<std::string> mp4s;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.empty() || n[0] == '.') continue;
    if (iends_with(n, ".ism")) isms.push_back(n);
    if (iends_with(n, ".vtt") && vtts.size() < max_files) vtts.push_back(n);
    if (iends_with(n, ".mp4") || iends_with(n, ".ismv") || iends_with(n, ".isma"))
      mp4s.push_back(n);
    if (mp4s.size() > max_files) break;
  }
  ::closedir(d);
  if (mp4s.size() > max_files)
    return resource_limit(dir + ": more than " + std::to_string(max_files) + " MP4 files");
  std::sort(mp4s.begin(), mp4s.end());
  std::sort(isms.begin(), isms.end());
  std::sort(vtts.begin(), vtts.end());
  return mp4s;
}

struct CacheEntry {
  std::vector<Input> inputs;  // the asset path itself first
  std::shared_ptr<const Presentation> presentation;
};

std::mutex g_cache_mutex;
std::map<std::string, CacheEntry>& presentation_cache() {
  static auto* cache = new std::map<std::string, CacheEntry>();
  return *cache;
}

std::atomic<uint64_t> g_next_id{1};

Result<Built> build_uncached(const std::string& path, const Stat& st, IndexCache& cache,
                             const BuildOptions& options) {
  if (st.is_dir) {
    std::vector<std::string> isms, vtts;
    AMS_ASSIGN_OR_RETURN(std::vector<std::string> mp4s,
                         list_folder(path, options.max_files, isms, vtts));
    if (isms.size() == 1) return build_from_ism(path + "/" + isms[0], cache, options);
    if (mp4s.empty()) return not_found(path + ": no .ism and no .mp4 file in the folder");
    return build_from_files(basename_of(path), path, mp4s, cache, options, vtts);
  }
  if (iends_with(path, ".ism")) return build_from_ism(path, cache, options);
  return build_from_files(stem_of(path), "", {path}, cache, options);
}

// Still what the files say: the asset path and every input have the state they were read in.
bool fresh(const CacheEntry& e) {
  for (const Input& in : e.inputs) {
    auto now = stat_path(in.path);
    if (!now || now->state != in.stat.state) return false;
  }
  return true;
}

std::shared_ptr<const Presentation> cached(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_cache_mutex);
  auto it = presentation_cache().find(path);
  if (it == presentation_cache().end() || !fresh(it->second)) return nullptr;
  return it->second.presentation;
}

}  // namespace

std::string ams_audio_track_name(const Track& t, uint32_t file_track_id) {
  return codec_prefix(t.codec) + "_" + (t.language.empty() ? "und" : t.language) + "_" +
         std::to_string(t.channels) + "_" + std::to_string(t.bitrate) + "_" +
         std::to_string(file_track_id) + "_1";
}

std::shared_ptr<const Presentation> cached_presentation(const std::string& path) {
  return cached(path);
}

Result<std::shared_ptr<const Presentation>> build_presentation(const std::string& path,
                                                               IndexCache& cache,
                                                               const BuildOptions& options) {
  if (auto p = cached(path)) return p;
  AMS_ASSIGN_OR_RETURN(Stat st, stat_path(path));
  AMS_ASSIGN_OR_RETURN(Built built, build_uncached(path, st, cache, options));
  Presentation& p = *built.presentation;
  p.id = g_next_id++;
  p.source_id = p.id;
  // The folder itself is an input too: a file added to it or removed changes its mtime.
  if (st.is_dir) built.inputs.insert(built.inputs.begin(), Input{path, st});
  for (const Input& in : built.inputs) {
    p.identity += in.path + ":" + identity_of(in.stat.state) + "\n";
    p.newest_mtime_ns = std::max(p.newest_mtime_ns, in.stat.state.mtime_ns);
  }
  std::shared_ptr<const Presentation> out = std::move(built.presentation);
  std::lock_guard<std::mutex> lock(g_cache_mutex);
  if (presentation_cache().size() > 256) presentation_cache().clear();
  // A folder's stat differs from its files': keep the folder's own entry first for fresh().
  presentation_cache()[path] = CacheEntry{std::move(built.inputs), out};
  return out;
}

}  // namespace ams::model
