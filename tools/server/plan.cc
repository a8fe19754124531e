#include "plan.h"

#include <dirent.h>
#include <glib.h>

#include <deque>
#include <map>
#include <mutex>
#include <set>

#include "base/language.h"
#include "base/path.h"
#include "fmp4/protection.h"
#include "fmp4/writer.h"
#include "http.h"
#include "manifest/timeline.h"
#include "model/builder.h"
#include "model/media_file.h"
#include "model/segments.h"
#include "mp4/boxes.h"
#include "text/ttml.h"
#include "text/webvtt.h"
#include "ts/segment_writer.h"
#include "ts/stream.h"

namespace ams::server {
namespace {

using manifest::Format;
using model::Presentation;
using model::Track;
using model::TrackType;
using url::Kind;

constexpr ProductRoute kProducts[] = {
    {Product::kManifest, false, true, true},
    {Product::kMediaPlaylist, false, true, true},
    {Product::kInitSegment, false, true, false},
    {Product::kFragment, true, false, false},
    {Product::kTsSegment, true, false, false},
    {Product::kKeyFrame, true, false, false},
    // Not gzipped: the coding is chosen from the URL before the plan knows the product is text.
    {Product::kTextSegment, false, true, false},
};

bool is_ts(Format f) {
  return f == Format::kHlsV3 || f == Format::kHlsV4;
}

HttpError track_missing(const url::Request& r) {
  return http_error(404, hresult::kTrackNotFound,
                    "no track " + r.track + "@" + std::to_string(r.bitrate.value_or(0)));
}

// The continuity counters of every segment of a track, worked out once per presentation (one pass
// over its index) and kept: every later segment request of that track takes its counter from here.
class ContinuityTables {
 public:
  std::shared_ptr<const std::vector<uint8_t>> get(const Presentation& p, size_t track, size_t per,
                                                  bool keys, bool pcr) {
    const std::string key = std::to_string(p.id) + "/" + std::to_string(track) + "/" +
                            std::to_string(per) + (keys ? "k" : "") + (pcr ? "p" : "");
    {
      std::lock_guard<std::mutex> lock(lock_);
      if (auto it = tables_.find(key); it != tables_.end()) return it->second;
    }
    auto stream = ts::Stream::create(ts::StreamConfig::from_track(p.tracks[track]));
    if (!stream) return nullptr;
    auto table = ts::continuity_table(*stream, p.tracks[track], per, keys, pcr);
    if (!table) return nullptr;  // NAL lengths other than 4: the muxer works them out
    auto shared = std::make_shared<const std::vector<uint8_t>>(std::move(table).value());
    std::lock_guard<std::mutex> lock(lock_);
    if (tables_.size() >= kMaxTables) tables_.clear();
    tables_[key] = shared;
    return shared;
  }

 private:
  static constexpr size_t kMaxTables = 1024;
  std::mutex lock_;
  std::map<std::string, std::shared_ptr<const std::vector<uint8_t>>> tables_;
};

// The presentations filters made, kept so that every request through the same filters shares one
// (its id keys the continuity tables) and pays filter::apply once. Keyed by the presentation
// built from the files and the filters' definitions; a rebuilt presentation has a new id, so an
// entry of an old one is never found again and goes with the oldest.
class FilteredPresentations {
 public:
  Result<std::shared_ptr<const Presentation>> get(const std::shared_ptr<const Presentation>& source,
                                                  const RequestFilters& filters,
                                                  filter::ApplyOptions options, HttpError* error) {
    const std::string key = std::to_string(source->id) + "\n" + filters.key +
                            (options.audio_lead_in ? "\nlead-in" : "");
    {
      std::lock_guard<std::mutex> lock(lock_);
      if (auto it = entries_.find(key); it != entries_.end()) return it->second;
    }
    filter::Refusal why = filter::Refusal::kRemovedAllStreams;
    Result<std::shared_ptr<const Presentation>> made =
        filter::apply(*source, filters.filters, &why, options);
    if (!made) {
      const char* code = why == filter::Refusal::kRangeInvalid ? hresult::kFilterRangeInvalid
                         : why == filter::Refusal::kMultipleFirstQuality
                             ? hresult::kFilterMultipleFirstQuality
                             : hresult::kFilterRemovedAllStreams;
      // AMS answers these with 415 (its error codes reference).
      return fail(error, http_error(415, code, made.status().message()));
    }
    std::lock_guard<std::mutex> lock(lock_);
    if (entries_.size() >= kMaxEntries) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
    if (entries_.emplace(key, *made).second) order_.push_back(key);
    return made;
  }

 private:
  static constexpr size_t kMaxEntries = 256;
  std::mutex lock_;
  std::map<std::string, std::shared_ptr<const Presentation>> entries_;
  std::deque<std::string> order_;
};

Result<std::shared_ptr<const Presentation>> filtered(
    const std::shared_ptr<const Presentation>& source, const RequestFilters& filters, Format format,
    HttpError* error) {
  static auto* cache = new FilteredPresentations();
  // The audio lead-in for HLS only (filter::ApplyOptions): an HLS URL and a DASH URL of the first
  // audio fragment then name it by different times, each its own format's.
  filter::ApplyOptions options;
  options.audio_lead_in = manifest::is_hls(format);
  return cache->get(source, filters, options, error);
}

ContinuityTables& continuity_tables() {
  static auto* tables = new ContinuityTables();
  return *tables;
}

uint8_t counter(const std::shared_ptr<const std::vector<uint8_t>>& table, size_t segment) {
  return table && segment < table->size() ? (*table)[segment] : 0;
}

// The audio track of that AMS name, or the first audio track when `name` is empty.
std::optional<size_t> audio_track(const Presentation& p, const std::string& name) {
  for (size_t i = 0; i < p.tracks.size(); ++i) {
    const Track& t = p.tracks[i];
    if (t.type == TrackType::kAudio && (name.empty() || t.name == name)) return i;
  }
  return std::nullopt;
}

// audiotrack= must name an audio track of the presentation, whatever the product and format: an
// unknown one is a 404, as an unknown track is, never silently ignored.
Status check_audio_track(const url::Request& r, const Presentation& p, HttpError* error) {
  if (r.audio_track.empty() || audio_track(p, r.audio_track)) return Status::ok();
  return fail(error, http_error(404, hresult::kTrackNotFound, "no audio track " + r.audio_track));
}

// `text`: whether the product may be of a text track (an HLS subtitle playlist or segment, of a
// WebVTT side-car); elsewhere a text track is as missing as an unknown one.
Result<size_t> find_track(const url::Request& r, const Presentation& p, HttpError* error,
                          bool text = false) {
  for (size_t i = 0; i < p.tracks.size(); ++i) {
    const Track& t = p.tracks[i];
    if (t.name == r.track && (!r.bitrate || t.bitrate == *r.bitrate)) {
      if (t.type == TrackType::kText && (!text || !t.webvtt)) break;
      return i;
    }
  }
  return fail(error, track_missing(r));
}

// Malformed cues of a side-car are skipped when the presentation is built (model/builder.cc);
// the first segment served of it says so, in one line, once per presentation built.
void report_skipped_cues(const Presentation& p, const Track& t) {
  if (!t.webvtt || t.webvtt->problem_count == 0) return;
  static std::mutex lock;
  static auto* said = new std::set<std::string>();
  const std::string key = std::to_string(p.source_id) + "\n" + t.file;
  {
    std::lock_guard<std::mutex> guard(lock);
    if (said->size() >= 4096) said->clear();
    if (!said->insert(key).second) return;
  }
  g_printerr("ams serve: %s: %zu WebVTT block(s) skipped, the first: %s\n", p.path_of(t).c_str(),
             t.webvtt->problem_count, t.webvtt->problems.front().c_str());
}

// A text segment of a side-car: in HLS a WebVTT file, the cues of the reference track's segment
// that starts at the URL's time (the last one open-ended, so that a cue past the media's end is
// not lost); in DASH and Smooth a TTML fragment (fmp4::write_ttml_fragment) over the reference
// track's fragment that starts there, on the same timeline as the MPD's or client manifest's.
Status plan_text(RequestPlan& plan, HttpError* error) {
  const Presentation& p = *plan.presentation;
  const Track* ref = manifest::text_timeline(p);  // as the manifests list them
  const bool hls = manifest::is_hls(plan.format);
  const size_t per = hls ? manifest::fragments_per_segment(p, plan.format) : 1;
  std::optional<model::Segment> segment;
  if (ref != nullptr) segment = model::segment_at(*ref, per, plan.request.time.value_or(-1));
  if (!segment) {
    return fail(error, http_error(404, hresult::kFragmentNotFound,
                                  "no segment of " + plan.request.track + " starts at " +
                                      std::to_string(plan.request.time.value_or(-1))));
  }
  plan.product = Product::kTextSegment;
  plan.text_from_ms = segment->start_10mhz / 10000;
  const bool last = segment->first_fragment + segment->fragment_count >= ref->fragments.size();
  if (!hls) {
    plan.content_type = "application/mp4";
    plan.muxer = plan.format == Format::kDashCsf    ? RequestPlan::Muxer::kDash
                 : manifest::is_smooth(plan.format) ? RequestPlan::Muxer::kSmooth
                                                    : RequestPlan::Muxer::kCmaf;
    plan.text_start_10mhz = segment->start_10mhz;
    plan.text_duration_10mhz = segment->duration_10mhz;
    plan.text_sequence = static_cast<uint32_t>(segment->first_fragment + 1);
    plan.text_to_ms = (segment->start_10mhz + segment->duration_10mhz) / 10000;
    return Status::ok();
  }
  plan.content_type = "text/vtt";
  plan.text_to_ms = last ? INT64_MAX / 4 : (segment->start_10mhz + segment->duration_10mhz) / 10000;
  // Presentation time 0 is 10 s in MPEG-TS (ts/stream.h), 0 in CMAF.
  plan.text_offset_ms = is_ts(plan.format) ? ts::kTimestampOffset90k / 90 : 0;
  return Status::ok();
}

// `encryption=` (the server let through only what it serves: AES-128 on HLS v3/v4 under an
// envelope policy): the locator's envelope key, the URLs and the playlists' EXT-X-KEY.
Status plan_encryption(RequestPlan& plan, const std::string& origin, HttpError* error) {
  const bool cenc = plan.request.encryption == "cenc";
  const bool cbcs = plan.request.encryption == "cbcs";
  const char* type = cenc   ? store::kCommonEncryptionCenc
                     : cbcs ? store::kCommonEncryptionCbcs
                            : store::kEnvelopeEncryption;
  const store::ContentKey* key = nullptr;
  for (const store::ContentKey& k : plan.published->content_keys) {
    if (k.type == type && key == nullptr) key = &k;
  }
  if (key == nullptr) {
    return fail(error, http_error(500, hresult::kInternal,
                                  "locator " + plan.published->locator.id + " has no " + type +
                                      " content key"));
  }
  Result<SegmentKey> k = segment_key(key->id, key->value);
  if (!k) return fail(error, http_error(500, hresult::kInternal, k.status().to_string()));
  plan.options.encryption = plan.request.encryption;
  if (cenc || cbcs) {
    // The key id's bytes are the GUID's in order (segment_key's iv).
    manifest::Options::CommonEncryption ce;
    ce.scheme = plan.request.encryption;
    plan.common_scheme = cenc ? fmp4::Scheme::kCenc : fmp4::Scheme::kCbcs;
    ce.default_kid = k->id;
    ByteWriter pssh;
    mp4::write_box(pssh, fmp4::common_pssh(k->iv));
    gchar* b64 = g_base64_encode(pssh.bytes().data(), pssh.bytes().size());
    ce.pssh_base64 = b64;
    g_free(b64);
    ce.clearkey_laurl = origin + kClearKeyPath;
    plan.options.common_encryption = std::move(ce);
    plan.common_key = std::move(*k);
    return Status::ok();
  }
  plan.options.aes128_key_uri = std::string(kKeyDeliveryPath) + "?kid=" + k->id;
  plan.options.aes128_iv_hex = hex_of(k->iv);
  plan.encryption = std::move(*k);
  return Status::ok();
}

Status plan_manifest(RequestPlan& plan, HttpError* error) {
  const url::Request& r = plan.request;
  plan.options.audio_only = r.audio_only;
  plan.options.audio_track = r.audio_track;
  plan.content_type = std::string(manifest::content_type(plan.format));
  if (plan.product == Product::kManifest) return Status::ok();
  if (!manifest::is_hls(plan.format)) {
    return fail(error, http_error(400, hresult::kBadRequest, "media playlists are HLS only"));
  }
  AMS_ASSIGN_OR_RETURN(plan.track, find_track(r, *plan.presentation, error, !r.keyframes));
  const Track& t = plan.presentation->tracks[plan.track];
  if (r.keyframes && (plan.format != Format::kHlsV4 || t.type != TrackType::kVideo)) {
    return fail(error, http_error(400, hresult::kBadRequest,
                                  "type=keyframes: I-frame playlists are HLS v4 video only"));
  }
  return Status::ok();
}

// The protection of the plan's track under its common key (none without one).
void plan_protection(RequestPlan& plan) {
  if (!plan.common_key) return;
  const SegmentKey& k = *plan.common_key;
  plan.protection = std::make_shared<const fmp4::Protection>(
      fmp4::make_protection(plan.common_scheme, k.iv, k.value, *plan.presentation,
                            plan.presentation->tracks[plan.track]));
}

Status plan_init(RequestPlan& plan, HttpError* error) {
  if (!manifest::is_dash(plan.format) && plan.format != Format::kHlsCmaf) {
    return fail(error,
                http_error(404, hresult::kFragmentNotFound, "the format has no init segment"));
  }
  // A side-car's init segment: DASH only (HLS CMAF subtitles are WebVTT files, no init segment).
  AMS_ASSIGN_OR_RETURN(plan.track, find_track(plan.request, *plan.presentation, error,
                                              manifest::is_dash(plan.format)));
  const Track& t = plan.presentation->tracks[plan.track];
  plan.content_type = t.type == TrackType::kVideo   ? "video/mp4"
                      : t.type == TrackType::kAudio ? "audio/mp4"
                                                    : "application/mp4";
  plan.muxer =
      plan.format == Format::kDashCsf ? RequestPlan::Muxer::kDash : RequestPlan::Muxer::kCmaf;
  if (t.type != TrackType::kText) plan_protection(plan);  // text stays clear
  return Status::ok();
}

Status plan_media(RequestPlan& plan, HttpError* error) {
  const url::Request& r = plan.request;
  const Presentation& p = *plan.presentation;
  AMS_ASSIGN_OR_RETURN(plan.track, find_track(r, p, error, plan.product != Product::kKeyFrame));
  const Track& t = p.tracks[plan.track];
  if (t.type == TrackType::kText) return plan_text(plan, error);
  const bool keys = plan.product == Product::kKeyFrame;
  if (keys && (plan.format != Format::kHlsV4 || t.type != TrackType::kVideo)) {
    return fail(error,
                http_error(404, hresult::kFragmentNotFound, "key frames: HLS v4 TS video only"));
  }
  const size_t per = keys ? 1 : manifest::fragments_per_segment(p, plan.format);
  std::optional<model::Segment> segment = model::segment_at(t, per, r.time.value_or(-1));
  if (manifest::is_smooth(plan.format)) {
    // Smooth names fragment i of every bitrate by its StreamIndex's one timeline.
    const Track& timeline = manifest::smooth_reference(p, t);
    std::optional<size_t> index = timeline.fragment_at(r.time.value_or(-1));
    segment = index ? model::segment(t, 1, *index) : std::nullopt;
  } else if (manifest::is_dash(plan.format)) {
    // DASH names segment i of every bitrate by its AdaptationSet's one timeline, when it has one.
    const Track& timeline = manifest::dash_reference(p, t);
    std::optional<size_t> index = timeline.fragment_at(r.time.value_or(-1));
    segment = index ? model::segment(t, 1, *index) : std::nullopt;
  }
  if (!segment) {
    return fail(error, http_error(404, hresult::kFragmentNotFound,
                                  "no segment of " + t.name + " starts at " +
                                      std::to_string(r.time.value_or(-1))));
  }
  auto media = std::make_shared<gst::Plan>();
  media->presentation = plan.presentation;
  model::Selection& sel = media->selection;
  sel.tracks = {plan.track};
  sel.per_segment = per;
  sel.first_segment = segment->index;
  sel.segment_count = 1;
  sel.key_units_only = keys;
  if (is_ts(plan.format)) {
    plan.muxer = RequestPlan::Muxer::kTs;
    plan.content_type = "video/mp2t";
    // HLS v3 muxes the audio track into the video segments (audiotrack=, else the first).
    if (plan.format == Format::kHlsV3 && t.type == TrackType::kVideo) {
      if (std::optional<size_t> audio = audio_track(p, r.audio_track)) sel.tracks.push_back(*audio);
    }
    const bool video = t.type == TrackType::kVideo;
    for (size_t index : sel.tracks) {
      // The PCR rides on the video, or on the audio when it is alone.
      const bool pcr = p.tracks[index].type == TrackType::kVideo || !video;
      sel.continuity.push_back(
          counter(continuity_tables().get(p, index, per, keys, pcr), segment->index));
    }
  } else {
    plan.muxer = manifest::is_smooth(plan.format)  ? RequestPlan::Muxer::kSmooth
                 : plan.format == Format::kDashCsf ? RequestPlan::Muxer::kDash
                                                   : RequestPlan::Muxer::kCmaf;
    plan.content_type = t.type == TrackType::kVideo ? "video/mp4" : "audio/mp4";
    plan_protection(plan);
    media->protection = plan.protection;
  }
  plan.media = std::move(media);
  return Status::ok();
}

bool folder_has_ism(const std::string& folder) {
  DIR* d = ::opendir(folder.c_str());
  if (d == nullptr) return false;
  bool found = false;
  while (struct dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n.size() > 4 && n[0] != '.' && n.compare(n.size() - 4, 4, ".ism") == 0) found = true;
  }
  ::closedir(d);
  return found;
}

// A fragment's payload read from its file (HEAD of a protected video fragment).
struct FragmentPayloadRead {
  Bytes bytes;
  fmp4::FragmentPayload payload;
  Status load(const Presentation& p, const Track& t, size_t fragment) {
    AMS_ASSIGN_OR_RETURN(std::unique_ptr<model::MediaFile> file,
                         model::MediaFile::open(p.path_of(t)));
    AMS_ASSIGN_OR_RETURN(bytes, fmp4::read_fragment_payload(t, fragment, *file, payload.samples));
    return Status::ok();
  }
};

fmp4::Variant variant_of(RequestPlan::Muxer muxer) {
  switch (muxer) {
    case RequestPlan::Muxer::kDash:
      return fmp4::Variant::kDash;
    case RequestPlan::Muxer::kSmooth:
      return fmp4::Variant::kSmooth;
    default:
      return fmp4::Variant::kCmaf;
  }
}

}  // namespace

Result<std::string> render(const RequestPlan& plan) {
  const Presentation& p = *plan.presentation;
  switch (plan.product) {
    case Product::kManifest:
      return manifest::render_master(p, plan.format, plan.options);
    case Product::kMediaPlaylist:
      return manifest::render_media_playlist(p, plan.format, p.tracks[plan.track], plan.options,
                                             plan.request.keyframes);
    case Product::kInitSegment: {
      ByteWriter w;
      const Track& t = p.tracks[plan.track];
      // A side-car's cues are served as TTML (stpp) in DASH; they are never encrypted.
      if (t.type == TrackType::kText) {
        AMS_RETURN_IF_ERROR(fmp4::write_ttml_init_segment(t, variant_of(plan.muxer), w));
      } else {
        AMS_RETURN_IF_ERROR(
            fmp4::write_init_segment(t, variant_of(plan.muxer), w, plan.protection.get()));
      }
      Bytes bytes = w.take();
      // (HLS CMAF under AES-128 too: its playlists name the init segment before the key, so it
      // is clear, manifest/hls.cc.)
      return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    case Product::kTextSegment: {
      const Track& t = p.tracks[plan.track];
      if (!t.webvtt) return invalid_argument("the text track has no WebVTT cues");
      report_skipped_cues(p, t);
      if (plan.muxer == RequestPlan::Muxer::kNone) {
        return text::write_segment(*t.webvtt, plan.text_from_ms, plan.text_to_ms,
                                   plan.text_offset_ms);
      }
      ByteWriter w;
      AMS_RETURN_IF_ERROR(fmp4::write_ttml_fragment(
          plan.text_sequence, plan.text_start_10mhz, plan.text_duration_10mhz,
          text::write_ttml(
              *t.webvtt, plan.text_from_ms, plan.text_to_ms,
              t.language.empty() || t.language == "und" ? std::string() : iso639_1_of(t.language)),
          variant_of(plan.muxer), w));
      Bytes bytes = w.take();
      return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    default:
      return invalid_argument("a pipeline makes this product");
  }
}

Result<uint64_t> media_size(const RequestPlan& plan) {
  if (!plan.media) return invalid_argument("not a media product");
  if (plan.encryption) {
    RequestPlan clear = plan;
    clear.encryption.reset();
    AMS_ASSIGN_OR_RETURN(uint64_t plain, media_size(clear));
    return aes128_cbc_size(plain);
  }
  const Presentation& p = *plan.presentation;
  const model::Selection& sel = plan.media->selection;
  const Track& main = p.tracks[sel.tracks[0]];
  const size_t first = sel.first_fragment();
  if (plan.muxer != RequestPlan::Muxer::kTs && plan.protection) {
    // A protected video fragment's subsample maps come from its NAL units: read the payload.
    FragmentPayloadRead read;
    if (main.type == TrackType::kVideo) AMS_RETURN_IF_ERROR(read.load(p, main, first));
    ByteWriter w = ByteWriter::size_only();
    AMS_RETURN_IF_ERROR(fmp4::write_protected_fragment(main, first, variant_of(plan.muxer),
                                                       *plan.protection, read.payload, w));
    return static_cast<uint64_t>(w.size());
  }
  if (plan.muxer != RequestPlan::Muxer::kTs) {
    return fmp4::fragment_size(main, first, variant_of(plan.muxer));
  }
  // TS: the samples of the segment's fragments (key frames: each fragment's first sample).
  std::vector<ts::Stream> streams;
  std::vector<std::vector<model::Sample>> samples;
  ts::SegmentInput in;
  in.index = sel.first_segment;
  for (size_t i = 0; i < sel.tracks.size(); ++i) {
    const Track& t = p.tracks[sel.tracks[i]];
    AMS_ASSIGN_OR_RETURN(ts::Stream stream, ts::Stream::create(ts::StreamConfig::from_track(t)));
    streams.push_back(std::move(stream));
    std::vector<model::Sample> picked;
    for (size_t f = first; f < sel.end_fragment(t); ++f) {
      const model::Fragment& frag = t.fragments[f];
      const uint32_t n =
          sel.key_units_only ? std::min<uint32_t>(1, frag.sample_count) : frag.sample_count;
      for (uint32_t k = 0; k < n; ++k) picked.push_back(t.samples()[frag.first_sample + k]);
    }
    samples.push_back(std::move(picked));
  }
  for (size_t i = 0; i < streams.size(); ++i) {
    if (streams[i].size_needs_payload()) return unsupported("the size needs the payload");
    ts::TrackSegment& seg = streams[i].is_video() ? in.video : in.audio;
    seg.stream = &streams[i];
    seg.samples = samples[i];
    seg.continuity = i < sel.continuity.size() ? sel.continuity[i] : 0;
  }
  return ts::segment_size(in);
}

const ProductRoute& route_of(Product product) {
  for (const ProductRoute& r : kProducts) {
    if (r.product == product) return r;
  }
  return kProducts[0];  // unreachable: every Product has a row
}

Product product_of(const url::Request& r, Format format) {
  switch (r.kind) {
    case Kind::kMediaPlaylist:
      return Product::kMediaPlaylist;
    case Kind::kKeyFrame:
      return Product::kKeyFrame;
    case Kind::kFragment:
      if (r.init) return Product::kInitSegment;
      return is_ts(format) ? Product::kTsSegment : Product::kFragment;
    default:
      return Product::kManifest;
  }
}

std::string answer_key(const url::Request& request, const Published& published) {
  return published.locator.id + "\n" + published.asset.path + "\n" + published.policy.name + "\n" +
         url::print(request);
}

Result<std::string> asset_path_of(const std::string& folder, const std::string& name) {
  Result<std::string> ism = resolve_inside(folder, name + ".ism");
  if (ism || ism.status().code() != StatusCode::kNotFound) return ism;
  if (folder_has_ism(folder)) return ism;
  Result<std::string> base = resolve_inside(folder, ".");
  if (base && basename_of(*base) == name) return base;
  return resolve_inside(folder, name + ".mp4");
}

Result<RequestPlan> make_plan(const url::Request& r, Format format,
                              std::shared_ptr<const Published> published,
                              std::shared_ptr<const RequestFilters> filters, HttpError* error,
                              const std::string& origin) {
  RequestPlan plan;
  plan.request = r;
  plan.format = format;
  plan.product = product_of(r, format);
  plan.published = std::move(published);
  Result<std::string> path = asset_path_of(plan.published->asset.path, r.manifest);
  if (!path) {
    *error = http_error(404, hresult::kAssetNotFound, path.status().to_string());
    return path.status();
  }
  plan.asset_path = *path;
  auto presentation = model::build_presentation(plan.asset_path);
  if (!presentation) {
    *error = asset_error(presentation.status());
    return presentation.status();
  }
  plan.presentation = *presentation;
  if (filters) {
    AMS_ASSIGN_OR_RETURN(plan.presentation, filtered(*presentation, *filters, format, error));
    plan.options.filter = filters->url_value;
  }
  AMS_RETURN_IF_ERROR(check_audio_track(r, *plan.presentation, error));
  if (!r.encryption.empty()) AMS_RETURN_IF_ERROR(plan_encryption(plan, origin, error));
  switch (plan.product) {
    case Product::kManifest:
    case Product::kMediaPlaylist:
      AMS_RETURN_IF_ERROR(plan_manifest(plan, error));
      break;
    case Product::kInitSegment:
      AMS_RETURN_IF_ERROR(plan_init(plan, error));
      break;
    default:
      AMS_RETURN_IF_ERROR(plan_media(plan, error));
      break;
  }
  plan.etag = make_etag(plan.published->locator.id + "\n" + url::print(r) + "\n" +
                        (filters ? filters->key : "") + plan.presentation->identity);
  plan.last_modified_ns = plan.presentation->newest_mtime_ns;
  return plan;
}

}  // namespace ams::server
