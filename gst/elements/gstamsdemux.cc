/**
 * SECTION:element-amsdemux
 * @title: amsdemux
 *
 * Opens an Azure Media Services style asset (an `.ism` server manifest and the MP4 files it names,
 * a single MP4, or a folder of MP4s) and exposes one source pad per track: `video_%u`, `audio_%u`,
 * `text_%u`. Only the index (`moov`, or the `moof` headers of fragmented files) is parsed, and it
 * is cached per file for the whole process; a sample's bytes are read when it is pushed, with one
 * read per contiguous run of a fragment.
 *
 * Downstream learns what the presentation is and where fragments start from the `ams-presentation`
 * sticky event and the `ams-fragment` events (docs/element-contract.md). Properties select a track,
 * a time range or single fragments, so that a server can build one small pipeline per request.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=asset/big.ism ! amsdemux name=d \
 *     d.video_0 ! queue ! decodebin ! videoconvert ! autovideosink \
 *     d.audio_0 ! queue ! decodebin ! audioconvert ! autoaudiosink
 * ]| Plays the highest video bitrate and the first audio track of an asset.
 * |[
 * gst-launch-1.0 filesrc location=asset/big.ism ! \
 *     amsdemux tracks=video@1250000 fragment-time=20000000 ! fakesink
 * ]| Emits only the fragment that starts at 2 s of the 1.25 Mbit/s video track.
 */
#include "gstamsdemux.h"

#include <gst/base/gstflowcombiner.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/path.h"
#include "caps.h"
#include "gstamspresentation.h"
#include "gstptr.h"
#include "model/builder.h"
#include "model/media_file.h"
#include "model/read_plan.h"
#include "track_selection.h"

GST_DEBUG_CATEGORY_STATIC(gst_ams_demux_debug);
#define GST_CAT_DEFAULT gst_ams_demux_debug

namespace {

using ams::gst::GstPtr;
using ams::model::Track;

enum {
  PROP_0,
  PROP_TRACKS,
  PROP_FRAGMENT_TIME,
  PROP_FRAGMENT_COUNT,
  PROP_START_TIME,
  PROP_STOP_TIME,
  PROP_KEY_UNITS_ONLY,
  PROP_LOCATION,
  PROP_PLAN,
};

struct Settings {
  std::string tracks;
  gint64 fragment_time = -1;
  guint fragment_count = 0;
  guint64 start_time = GST_CLOCK_TIME_NONE;
  guint64 stop_time = GST_CLOCK_TIME_NONE;
  bool key_units_only = false;
  std::string location;    // a file path or file:// URI; empty: ask upstream (filesrc)
  ams::gst::PlanPtr plan;  // set: the presentation and the selection, nothing else is read
};

// One source pad and where it is in its track.
struct Stream {
  GstPad* pad = nullptr;  // owned by the element once added
  size_t track_index = 0;
  const Track* track = nullptr;
  std::shared_ptr<ams::model::MediaFile> file;
  GstClockTime shift = 0;  // the edit-list shift, as segment.start offset
  size_t fragment = 0;     // the fragment being pushed
  size_t end_fragment = 0;
  uint32_t sample = 0;  // absolute index of the next sample
  // Payload of the current fragment: one buffer per read (model/read_plan.h), holding its
  // samples back to back, and where each sample of the fragment lies in them.
  std::vector<GstPtr<GstBuffer>> runs;
  struct Place {
    uint32_t run = 0;
    uint32_t size = 0;
    uint64_t at = 0;
  };
  std::vector<Place> places;  // by sample index - the fragment's first sample
  bool discont = true;
  bool done = false;
  bool text_pushed = false;
};

struct Impl {
  std::mutex lock;  // guards settings
  Settings settings;

  // Streaming-thread state.
  std::string path;
  ams::gst::PresentationPtr presentation;
  ams::gst::PlanPtr plan;  // what the pads emit (the property's, or made from the properties)
  std::vector<Stream> streams;
  GstFlowCombiner* combiner = gst_flow_combiner_new();
  bool configured = false;
  bool payload_checked = false;
  GstClockTime segment_start = 0;  // presentation time the pads' segments start at
  GstClockTime segment_stop = GST_CLOCK_TIME_NONE;
  bool need_segment = true;
  bool key_units_only = false;
  guint32 seqnum = gst_util_seqnum_next();
  guint group_id = gst_util_group_id_next();

  ~Impl() { gst_flow_combiner_free(combiner); }
};

}  // namespace

struct _GstAmsDemux {
  GstElement parent;
  GstPad* sinkpad;
  Impl* impl;
};

G_DEFINE_TYPE(GstAmsDemux, gst_ams_demux, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE(amsdemux, "amsdemux", GST_RANK_NONE, GST_TYPE_AMS_DEMUX);

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate video_template = GST_STATIC_PAD_TEMPLATE(
    "video_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
    GST_STATIC_CAPS("video/x-h264, stream-format=(string){ avc, avc3 }, alignment=(string)au; "
                    "video/x-h265, stream-format=(string){ hvc1, hev1 }, alignment=(string)au"));
static GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE(
    "audio_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
    GST_STATIC_CAPS("audio/mpeg, mpegversion=(int)4, stream-format=(string)raw; audio/x-ac3; "
                    "audio/x-eac3"));
static GstStaticPadTemplate text_template = GST_STATIC_PAD_TEMPLATE(
    "text_%u", GST_PAD_SRC, GST_PAD_SOMETIMES, GST_STATIC_CAPS("application/x-subtitle-vtt"));

static GstClockTime ticks_to_time(int64_t ticks, uint32_t timescale) {
  if (ticks < 0) return 0;
  return static_cast<GstClockTime>(ams::rescale(ticks, timescale, GST_SECOND));
}

// --- Opening the asset ----------------------------------------------------------------------

static bool query_location(GstAmsDemux* self, std::string& path) {
  GstPtr<GstQuery> query(gst_query_new_uri());
  if (!gst_pad_peer_query(self->sinkpad, query.get())) return false;
  gchar* uri = nullptr;
  gst_query_parse_uri(query.get(), &uri);
  if (!uri) return false;
  GstPtr<gchar> owned_uri(uri);
  GstPtr<gchar> filename(g_filename_from_uri(uri, nullptr, nullptr));
  if (!filename) return false;
  path = filename.get();
  return true;
}

// The first track of the selection that has fragments: the one fragment-time is in, whose
// fragment starts set the segment.
static const Track* reference_track(const ams::model::Presentation& p,
                                    const ams::model::Selection& selection) {
  for (size_t index : selection.tracks) {
    if (!p.tracks[index].fragments.empty()) return &p.tracks[index];
  }
  return nullptr;
}

// What the properties select: every fragment, the fragment that starts at fragment-time (and the
// following fragment-count - 1), or the fragments overlapping start-time..stop-time.
static bool selection_from_settings(GstAmsDemux* self, const Settings& settings,
                                    ams::model::Selection& selection, GstClockTime& start) {
  Impl* impl = self->impl;
  start = 0;
  selection.per_segment = 1;
  selection.first_segment = 0;
  selection.segment_count = SIZE_MAX;
  selection.key_units_only = settings.key_units_only;
  selection.continuity.clear();
  const Track* ref = reference_track(*impl->presentation, selection);
  impl->segment_stop = GST_CLOCK_TIME_NONE;
  if (ref && settings.fragment_time >= 0) {
    std::optional<size_t> idx = ref->fragment_at(settings.fragment_time);
    if (!idx) {
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND,
                        ("No fragment of track \"%s\" starts at %" G_GINT64_FORMAT,
                         ref->name.c_str(), settings.fragment_time),
                        ("fragment-time is in 10 MHz units, as in Fragments(name=T) URLs"));
      return false;
    }
    selection.first_segment = *idx;
    selection.segment_count = settings.fragment_count ? settings.fragment_count : 1;
    start = ticks_to_time(ref->fragments[*idx].start, ref->timescale);
  } else if (ref && (GST_CLOCK_TIME_IS_VALID(settings.start_time) ||
                     GST_CLOCK_TIME_IS_VALID(settings.stop_time))) {
    GstClockTime start = GST_CLOCK_TIME_IS_VALID(settings.start_time) ? settings.start_time : 0;
    size_t first = 0;
    while (first + 1 < ref->fragments.size() &&
           ticks_to_time(ref->fragments[first + 1].start, ref->timescale) <= start) {
      ++first;
    }
    size_t last = first;
    while (GST_CLOCK_TIME_IS_VALID(settings.stop_time) && last + 1 < ref->fragments.size() &&
           ticks_to_time(ref->fragments[last + 1].start, ref->timescale) < settings.stop_time) {
      ++last;
    }
    if (!GST_CLOCK_TIME_IS_VALID(settings.stop_time)) last = ref->fragments.size() - 1;
    selection.first_segment = first;
    selection.segment_count = last - first + 1;
    impl->segment_stop = settings.stop_time;
    start = settings.start_time;
  } else if (settings.fragment_count) {
    selection.segment_count = settings.fragment_count;
  }
  return true;
}

// Points every stream at the fragments the selection names; the pads' segments start at `start`.
static void apply_selection(GstAmsDemux* self, const ams::model::Selection& selection,
                            GstClockTime start) {
  Impl* impl = self->impl;
  const size_t first = selection.first_fragment();
  impl->segment_start = start;
  for (Stream& s : impl->streams) {
    size_t n = s.track->fragments.size();
    s.fragment = std::min(first, n);
    s.end_fragment = std::max(s.fragment, selection.end_fragment(*s.track));
    s.sample = s.fragment < n ? s.track->fragments[s.fragment].first_sample : 0;
    s.runs.clear();
    s.places.clear();
    s.done = s.fragment >= s.end_fragment && s.track->type != ams::model::TrackType::kText;
    s.discont = true;
  }
}

static GstPad* make_pad(const Track& t, guint n) {
  GstStaticPadTemplate* tmpl = t.type == ams::model::TrackType::kVideo   ? &video_template
                               : t.type == ams::model::TrackType::kAudio ? &audio_template
                                                                         : &text_template;
  const char* prefix = t.type == ams::model::TrackType::kVideo   ? "video"
                       : t.type == ams::model::TrackType::kAudio ? "audio"
                                                                 : "text";
  GstPtr<gchar> name(g_strdup_printf("%s_%u", prefix, n));
  GstPad* pad = gst_pad_new_from_static_template(tmpl, name.get());
  gst_pad_use_fixed_caps(pad);
  return pad;
}

static gboolean gst_ams_demux_src_event(GstPad* pad, GstObject* parent, GstEvent* event);
static gboolean gst_ams_demux_src_query(GstPad* pad, GstObject* parent, GstQuery* query);

static void push_segment(GstAmsDemux* self, Stream& s) {
  Impl* impl = self->impl;
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  segment.start = impl->segment_start + s.shift;
  segment.time = impl->segment_start;
  segment.position = segment.start;
  if (GST_CLOCK_TIME_IS_VALID(impl->segment_stop)) segment.stop = impl->segment_stop + s.shift;
  segment.duration = ticks_to_time(impl->presentation->duration_10mhz, ams::kManifestTimescale);
  GstEvent* ev = gst_event_new_segment(&segment);
  gst_event_set_seqnum(ev, impl->seqnum);
  gst_pad_push_event(s.pad, ev);
}

// The asset's file location: the `location` property (a path or a file:// URI), else upstream's.
static bool asset_location(GstAmsDemux* self, const Settings& settings, std::string& path) {
  if (settings.location.empty()) return query_location(self, path);
  if (!settings.location.starts_with("file:")) {
    path = settings.location;
    return true;
  }
  GstPtr<gchar> filename(g_filename_from_uri(settings.location.c_str(), nullptr, nullptr));
  if (!filename) return false;
  path = filename.get();
  return true;
}

static bool open_presentation(GstAmsDemux* self, const Settings& settings) {
  Impl* impl = self->impl;
  if (!asset_location(self, settings, impl->path)) {
    GST_ELEMENT_ERROR(
        self, RESOURCE, NOT_FOUND,
        ("amsdemux reads assets from local files, and was given no file location"),
        ("set location, or link amsdemux to filesrc (the URI query returned no file:// URI)"));
    return false;
  }
  auto built = ams::model::build_presentation(impl->path);
  if (!built) {
    bool missing = built.status().code() == ams::StatusCode::kNotFound;
    if (missing) {
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND,
                        ("Could not open the asset \"%s\"", impl->path.c_str()),
                        ("%s", built.status().to_string().c_str()));
    } else {
      GST_ELEMENT_ERROR(self, STREAM, DEMUX,
                        ("Could not read the asset \"%s\"", impl->path.c_str()),
                        ("%s", built.status().to_string().c_str()));
    }
    return false;
  }
  impl->presentation = *built;
  return true;
}

// The plan the pads follow: the `plan` property's, else the asset at the location with what the
// properties select.
static bool make_plan(GstAmsDemux* self, const Settings& settings, GstClockTime& start) {
  Impl* impl = self->impl;
  if (settings.plan) {
    const ams::gst::Plan& plan = *settings.plan;
    bool ok = plan.presentation && !plan.selection.tracks.empty();
    for (size_t index : plan.selection.tracks) ok = ok && index < plan.presentation->tracks.size();
    if (!ok) {
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("The plan names no track of its presentation"),
                        (nullptr));
      return false;
    }
    impl->presentation = plan.presentation;
    impl->path = plan.presentation->folder;
    impl->plan = settings.plan;
    const Track* ref = reference_track(*impl->presentation, plan.selection);
    const size_t first = plan.selection.first_fragment();
    start = ref && first < ref->fragments.size()
                ? ticks_to_time(ref->fragments[first].start, ref->timescale)
                : 0;
    impl->segment_stop = GST_CLOCK_TIME_NONE;
    return true;
  }
  if (!open_presentation(self, settings)) return false;
  auto selected = ams::gst::select_tracks(*impl->presentation, settings.tracks);
  if (!selected) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("%s", selected.status().message().c_str()),
                      ("tracks=\"%s\"", settings.tracks.c_str()));
    return false;
  }
  auto plan = std::make_shared<ams::gst::Plan>();
  plan->presentation = impl->presentation;
  plan->selection.tracks = *selected;
  if (!selection_from_settings(self, settings, plan->selection, start)) return false;
  impl->plan = std::move(plan);
  return true;
}

static bool configure(GstAmsDemux* self) {
  Impl* impl = self->impl;
  Settings settings;
  {
    std::lock_guard<std::mutex> lock(impl->lock);
    settings = impl->settings;
  }
  GstClockTime start = 0;
  if (!make_plan(self, settings, start)) return false;
  impl->key_units_only = impl->plan->selection.key_units_only;
  guint counts[3] = {0, 0, 0};
  for (size_t index : impl->plan->selection.tracks) {
    const Track& t = impl->presentation->tracks[index];
    Stream s;
    s.track_index = index;
    s.track = &t;
    const std::string file = impl->presentation->path_of(t);
    if (t.type != ams::model::TrackType::kText || t.codec == ams::model::Codec::kWebVtt) {
      // Reuse the file another stream of this pipeline opened.
      for (const Stream& o : impl->streams) {
        if (o.track->file == t.file) s.file = o.file;
      }
      if (!s.file) {
        auto opened = ams::model::MediaFile::open(file);
        if (!opened) {
          GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("Could not open \"%s\"", file.c_str()),
                            ("%s", opened.status().to_string().c_str()));
          return false;
        }
        s.file = std::shared_ptr<ams::model::MediaFile>(std::move(opened).value());
      }
    }
    s.shift = t.table ? ticks_to_time(t.table->decode_lead, t.timescale) : 0;
    impl->streams.push_back(std::move(s));
  }
  apply_selection(self, impl->plan->selection, start);

  GstPtr<gchar> asset(g_strdup(impl->presentation->name.c_str()));
  // Pads exist only once the selection is known to be good: a failed configure leaves none.
  for (Stream& s : impl->streams) {
    s.pad = make_pad(*s.track, counts[static_cast<int>(s.track->type)]++);
    gst_pad_set_event_function(s.pad, gst_ams_demux_src_event);
    gst_pad_set_query_function(s.pad, gst_ams_demux_src_query);
    gst_pad_set_element_private(s.pad, &s);
    gst_pad_set_active(s.pad, TRUE);
    GstPtr<gchar> stream_id(
        g_strdup_printf("%s/%s@%u", asset.get(), s.track->name.c_str(), s.track->bitrate));
    GstEvent* start = gst_event_new_stream_start(stream_id.get());
    gst_event_set_group_id(start, impl->group_id);
    gst_pad_push_event(s.pad, start);
    GstPtr<GstCaps> caps(ams::gst::caps_for_track(*s.track));
    gst_pad_set_caps(s.pad, caps.get());
    // Added before the remaining sticky events, so that a peer linked in pad-added receives them
    // at once.
    gst_element_add_pad(GST_ELEMENT(self), s.pad);
    push_segment(self, s);
    gst_pad_push_event(s.pad, gst_event_new_tag(ams::gst::tags_for_track(*s.track)));
    gst_pad_push_event(
        s.pad, ams::gst::presentation_event_new(impl->plan, static_cast<guint>(s.track_index)));
    gst_flow_combiner_add_pad(impl->combiner, s.pad);
  }
  gst_element_no_more_pads(GST_ELEMENT(self));
  impl->need_segment = false;
  return true;
}

// True when some linked pad's peer needs sample bytes (see the ams-payload query).
static bool payload_needed(GstAmsDemux* self) {
  bool any_linked = false;
  for (Stream& s : self->impl->streams) {
    if (!gst_pad_is_linked(s.pad)) continue;
    any_linked = true;
    GstPtr<GstQuery> q(ams::gst::payload_query_new());
    if (!gst_pad_peer_query(s.pad, q.get()) || ams::gst::payload_query_needs_payload(q.get())) {
      return true;
    }
  }
  return !any_linked;
}

// --- Pushing samples --------------------------------------------------------------------------

// Reads the payload of the fragment's samples (only its first when `first_only`), in as few reads
// as their layout allows (model/read_plan.h: adjacent samples and small interleaved gaps share
// one).
static ams::Status read_fragment(Stream& s, bool first_only) {
  const Track& t = *s.track;
  const ams::model::Fragment& f = t.fragments[s.fragment];
  const auto& samples = t.samples();
  s.runs.clear();
  s.places.clear();
  const uint32_t end = first_only ? std::min(f.first_sample + 1, f.first_sample + f.sample_count)
                                  : f.first_sample + f.sample_count;
  std::vector<ams::model::MediaFile::Piece> pieces;
  for (const ams::model::ReadRange& r : ams::model::plan_reads(samples, f.first_sample, end)) {
    // Only the fragments that need a sample past the end of a damaged file fail.
    ams::Result<uint64_t> payload = ams::model::pieces_of(samples, r, *s.file, pieces);
    if (!payload) return payload.status();
    uint64_t at = 0;
    for (uint32_t k = r.first_sample; k < r.first_sample + r.sample_count; ++k) {
      s.places.push_back({static_cast<uint32_t>(s.runs.size()), samples[k].size, at});
      at += samples[k].size;
    }
    GstBuffer* buf = gst_buffer_new_allocate(nullptr, *payload, nullptr);
    GstMapInfo map;
    gst_buffer_map(buf, &map, GST_MAP_WRITE);
    ams::Status st = s.file->read_gathered(pieces.data(), pieces.size(), map.data);
    gst_buffer_unmap(buf, &map);
    s.runs.emplace_back(buf);
    if (!st.is_ok()) return st;
  }
  return ams::Status::ok();
}

// The sample `index` of the current fragment: a view of its read's memory, not a copy.
static GstBuffer* sample_buffer(const Stream& s, uint32_t index) {
  const uint32_t first = s.track->fragments[s.fragment].first_sample;
  if (index < first || index - first >= s.places.size()) return nullptr;
  const Stream::Place& p = s.places[index - first];
  return gst_buffer_copy_region(s.runs[p.run].get(), GST_BUFFER_COPY_MEMORY, p.at, p.size);
}

static GstFlowReturn push_text(GstAmsDemux* self, Stream& s) {
  s.text_pushed = true;
  s.done = true;
  if (!s.file || s.file->size() > (16u << 20)) return GST_FLOW_OK;
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, s.file->size(), nullptr);
  GstMapInfo map;
  gst_buffer_map(buf, &map, GST_MAP_WRITE);
  ams::Status st = s.file->read_at(0, s.file->size(), map.data);
  gst_buffer_unmap(buf, &map);
  if (!st.is_ok()) {
    gst_buffer_unref(buf);
    GST_ELEMENT_ERROR(self, RESOURCE, READ, (nullptr), ("%s", st.to_string().c_str()));
    return GST_FLOW_ERROR;
  }
  GST_BUFFER_PTS(buf) = 0;
  GST_BUFFER_DURATION(buf) =
      ticks_to_time(self->impl->presentation->duration_10mhz, ams::kManifestTimescale);
  return gst_pad_push(s.pad, buf);
}

// Decode time of the stream's next sample, for interleaving the pads by time.
static GstClockTime next_dts(const Stream& s) {
  if (s.done) return GST_CLOCK_TIME_NONE;
  if (s.track->type == ams::model::TrackType::kText) return 0;
  return ticks_to_time(s.track->samples()[s.sample].dts, s.track->timescale);
}

static GstFlowReturn push_next_sample(GstAmsDemux* self, Stream& s) {
  const Track& t = *s.track;
  if (t.type == ams::model::TrackType::kText) return push_text(self, s);
  const ams::model::Fragment& f = t.fragments[s.fragment];
  if (s.sample == f.first_sample) {
    ams::Status st = read_fragment(s, self->impl->key_units_only);
    if (!st.is_ok()) {
      GST_ELEMENT_ERROR(self, RESOURCE, READ,
                        ("Could not read a fragment of \"%s\"", t.file.c_str()),
                        ("%s", st.to_string().c_str()));
      return GST_FLOW_ERROR;
    }
    ams::gst::FragmentInfo info;
    info.track_index = static_cast<guint>(s.track_index);
    info.fragment_index = static_cast<guint>(s.fragment);
    info.start = static_cast<guint64>(t.fragment_start_10mhz(s.fragment));
    info.duration = static_cast<guint64>(
                        ams::rescale(f.start + f.duration, t.timescale, ams::kManifestTimescale)) -
                    info.start;
    gst_pad_push_event(s.pad, ams::gst::fragment_event_new(info));
  }
  const ams::model::Sample& smp = t.samples()[s.sample];
  GstBuffer* buf = sample_buffer(s, s.sample);
  if (!buf) {
    GST_ELEMENT_ERROR(self, STREAM, DEMUX, (nullptr),
                      ("sample %u not in its fragment's runs", s.sample));
    return GST_FLOW_ERROR;
  }
  GST_BUFFER_DTS(buf) = ticks_to_time(smp.dts, t.timescale);
  GST_BUFFER_PTS(buf) =
      ticks_to_time(smp.pts() + (t.table ? t.table->decode_lead : 0), t.timescale);
  GST_BUFFER_DURATION(buf) = ticks_to_time(smp.duration, t.timescale);
  GST_BUFFER_OFFSET(buf) = s.sample;
  if (!smp.sync) GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
  if (s.discont) {
    GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
    s.discont = false;
  }
  ++s.sample;
  // I-frame segments want only the key frame that starts each fragment.
  if (self->impl->key_units_only) s.sample = f.first_sample + f.sample_count;
  if (s.sample >= f.first_sample + f.sample_count) {
    s.runs.clear();
    s.places.clear();
    ++s.fragment;
    if (s.fragment >= s.end_fragment) {
      s.done = true;
    } else {
      s.sample = t.fragments[s.fragment].first_sample;
    }
  }
  return gst_pad_push(s.pad, buf);
}

static void push_eos_everywhere(GstAmsDemux* self) {
  for (Stream& s : self->impl->streams) {
    GstEvent* eos = gst_event_new_eos();
    gst_event_set_seqnum(eos, self->impl->seqnum);
    gst_pad_push_event(s.pad, eos);
  }
}

static void gst_ams_demux_loop(GstAmsDemux* self) {
  Impl* impl = self->impl;
  if (!impl->configured) {
    impl->configured = true;
    if (!configure(self)) {
      gst_pad_pause_task(self->sinkpad);
      return;
    }
  }
  if (impl->need_segment) {
    for (Stream& s : impl->streams) push_segment(self, s);
    impl->need_segment = false;
  }
  if (!impl->payload_checked) {
    impl->payload_checked = true;
    if (!payload_needed(self)) {
      GST_INFO_OBJECT(self, "no linked pad needs sample payload: index only");
      for (Stream& s : impl->streams) {
        s.done = true;
        // EOS would overtake the sticky events still pending on a pad linked late (sticky events
        // are ordered by type, and ours come after EOS): a gap sends them first.
        gst_pad_push_event(s.pad, gst_event_new_gap(impl->segment_start + s.shift, 0));
      }
    }
  }
  Stream* next = nullptr;
  for (Stream& s : impl->streams) {
    if (!s.done && (!next || next_dts(s) < next_dts(*next))) next = &s;
  }
  if (!next) {
    push_eos_everywhere(self);
    gst_pad_pause_task(self->sinkpad);
    return;
  }
  GstFlowReturn ret = push_next_sample(self, *next);
  if (next->done && ret == GST_FLOW_OK) {
    GstEvent* eos = gst_event_new_eos();
    gst_event_set_seqnum(eos, impl->seqnum);
    gst_pad_push_event(next->pad, eos);
  }
  if (ret == GST_FLOW_EOS || ret == GST_FLOW_NOT_LINKED) next->done = true;
  ret = gst_flow_combiner_update_pad_flow(impl->combiner, next->pad, ret);
  if (ret == GST_FLOW_OK) return;
  GST_DEBUG_OBJECT(self, "pausing: %s", gst_flow_get_name(ret));
  gst_pad_pause_task(self->sinkpad);
  if (ret == GST_FLOW_EOS) {
    push_eos_everywhere(self);
  } else if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS) {
    GST_ELEMENT_FLOW_ERROR(self, ret);
    push_eos_everywhere(self);
  }
}

// --- Seeking and queries ----------------------------------------------------------------------

static bool do_seek(GstAmsDemux* self, GstEvent* event) {
  Impl* impl = self->impl;
  gdouble rate = 1.0;
  GstFormat format;
  GstSeekFlags flags;
  GstSeekType start_type, stop_type;
  gint64 start = 0, stop = -1;
  gst_event_parse_seek(event, &rate, &format, &flags, &start_type, &start, &stop_type, &stop);
  if (format != GST_FORMAT_TIME || rate <= 0.0 || !impl->presentation) return false;
  const guint32 seqnum = gst_event_get_seqnum(event);
  const bool flush = flags & GST_SEEK_FLAG_FLUSH;
  if (flush) {
    for (Stream& s : impl->streams) {
      GstEvent* e = gst_event_new_flush_start();
      gst_event_set_seqnum(e, seqnum);
      gst_pad_push_event(s.pad, e);
    }
  } else {
    gst_pad_pause_task(self->sinkpad);
  }
  GST_PAD_STREAM_LOCK(self->sinkpad);
  if (flush) {
    for (Stream& s : impl->streams) {
      GstEvent* e = gst_event_new_flush_stop(TRUE);
      gst_event_set_seqnum(e, seqnum);
      gst_pad_push_event(s.pad, e);
    }
  }
  Settings settings;
  {
    std::lock_guard<std::mutex> lock(impl->lock);
    settings = impl->settings;
  }
  settings.fragment_time = -1;
  settings.fragment_count = 0;
  settings.start_time =
      start_type == GST_SEEK_TYPE_SET && start >= 0 ? static_cast<guint64>(start) : 0;
  settings.stop_time = stop_type == GST_SEEK_TYPE_SET && stop >= 0 ? static_cast<guint64>(stop)
                                                                   : GST_CLOCK_TIME_NONE;
  ams::model::Selection selection;
  selection.tracks = impl->plan ? impl->plan->selection.tracks : std::vector<size_t>{};
  GstClockTime segment_start = 0;
  bool ok = selection_from_settings(self, settings, selection, segment_start);
  if (ok) apply_selection(self, selection, segment_start);
  // A keyframe seek starts where the fragment does, so nothing before it is clipped away.
  if (ok && (flags & (GST_SEEK_FLAG_KEY_UNIT | GST_SEEK_FLAG_SNAP_BEFORE)) &&
      !impl->streams.empty()) {
    for (const Stream& s : impl->streams) {
      if (s.fragment < s.track->fragments.size()) {
        impl->segment_start =
            ticks_to_time(s.track->fragments[s.fragment].start, s.track->timescale);
        break;
      }
    }
  }
  impl->seqnum = seqnum;
  impl->need_segment = true;
  impl->payload_checked = true;
  gst_flow_combiner_reset(impl->combiner);
  gst_pad_start_task(self->sinkpad, reinterpret_cast<GstTaskFunction>(gst_ams_demux_loop), self,
                     nullptr);
  GST_PAD_STREAM_UNLOCK(self->sinkpad);
  return ok;
}

static gboolean gst_ams_demux_src_event(GstPad* pad, GstObject* parent, GstEvent* event) {
  GstAmsDemux* self = GST_AMS_DEMUX(parent);
  if (GST_EVENT_TYPE(event) == GST_EVENT_SEEK) {
    bool ok = do_seek(self, event);
    gst_event_unref(event);
    return ok;
  }
  return gst_pad_event_default(pad, parent, event);
}

static gboolean gst_ams_demux_src_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  GstAmsDemux* self = GST_AMS_DEMUX(parent);
  Impl* impl = self->impl;
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_DURATION: {
      GstFormat format;
      gst_query_parse_duration(query, &format, nullptr);
      if (format != GST_FORMAT_TIME || !impl->presentation) return FALSE;
      gst_query_set_duration(
          query, GST_FORMAT_TIME,
          ticks_to_time(impl->presentation->duration_10mhz, ams::kManifestTimescale));
      return TRUE;
    }
    case GST_QUERY_SEEKING: {
      GstFormat format;
      gst_query_parse_seeking(query, &format, nullptr, nullptr, nullptr);
      if (format != GST_FORMAT_TIME || !impl->presentation) return FALSE;
      gst_query_set_seeking(
          query, GST_FORMAT_TIME, TRUE, 0,
          ticks_to_time(impl->presentation->duration_10mhz, ams::kManifestTimescale));
      return TRUE;
    }
    default:
      return gst_pad_query_default(pad, parent, query);
  }
}

// --- Sink pad: we only need upstream's file location, then we drive our own task ---------------

static gboolean gst_ams_demux_sink_activate(GstPad* sinkpad, GstObject* parent) {
  (void)parent;
  GstPtr<GstQuery> query(gst_query_new_scheduling());
  bool pull = gst_pad_peer_query(sinkpad, query.get()) &&
              gst_query_has_scheduling_mode_with_flags(query.get(), GST_PAD_MODE_PULL,
                                                       GST_SCHEDULING_FLAG_SEEKABLE);
  return gst_pad_activate_mode(sinkpad, pull ? GST_PAD_MODE_PULL : GST_PAD_MODE_PUSH, TRUE);
}

static gboolean gst_ams_demux_sink_activate_mode(GstPad* sinkpad, GstObject* parent,
                                                 GstPadMode mode, gboolean active) {
  GstAmsDemux* self = GST_AMS_DEMUX(parent);
  (void)mode;
  if (active) {
    return gst_pad_start_task(sinkpad, reinterpret_cast<GstTaskFunction>(gst_ams_demux_loop), self,
                              nullptr);
  }
  return gst_pad_stop_task(sinkpad);
}

// In push mode upstream's bytes are not needed: the files are read directly.
static GstFlowReturn gst_ams_demux_chain(GstPad* pad, GstObject* parent, GstBuffer* buffer) {
  (void)pad;
  (void)parent;
  gst_buffer_unref(buffer);
  return GST_FLOW_EOS;
}

static gboolean gst_ams_demux_sink_event(GstPad* pad, GstObject* parent, GstEvent* event) {
  (void)pad;
  (void)parent;
  // Upstream's stream (the .ism bytes) ends long before ours: keep its events to ourselves.
  gst_event_unref(event);
  return TRUE;
}

// --- GObject ----------------------------------------------------------------------------------

static void gst_ams_demux_reset(GstAmsDemux* self) {
  Impl* impl = self->impl;
  for (Stream& s : impl->streams) {
    if (!s.pad) continue;
    gst_flow_combiner_remove_pad(impl->combiner, s.pad);
    gst_element_remove_pad(GST_ELEMENT(self), s.pad);
  }
  impl->streams.clear();
  impl->presentation.reset();
  impl->plan.reset();
  impl->configured = false;
  impl->payload_checked = false;
  impl->need_segment = true;
}

static GstStateChangeReturn gst_ams_demux_change_state(GstElement* element,
                                                       GstStateChange transition) {
  GstAmsDemux* self = GST_AMS_DEMUX(element);
  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(gst_ams_demux_parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) gst_ams_demux_reset(self);
  return ret;
}

static void gst_ams_demux_set_property(GObject* object, guint prop_id, const GValue* value,
                                       GParamSpec* pspec) {
  GstAmsDemux* self = GST_AMS_DEMUX(object);
  std::lock_guard<std::mutex> lock(self->impl->lock);
  Settings& s = self->impl->settings;
  switch (prop_id) {
    case PROP_TRACKS:
      s.tracks = g_value_get_string(value) ? g_value_get_string(value) : "";
      break;
    case PROP_FRAGMENT_TIME:
      s.fragment_time = g_value_get_int64(value);
      break;
    case PROP_FRAGMENT_COUNT:
      s.fragment_count = g_value_get_uint(value);
      break;
    case PROP_START_TIME:
      s.start_time = g_value_get_uint64(value);
      break;
    case PROP_STOP_TIME:
      s.stop_time = g_value_get_uint64(value);
      break;
    case PROP_KEY_UNITS_ONLY:
      s.key_units_only = g_value_get_boolean(value);
      break;
    case PROP_LOCATION:
      s.location = g_value_get_string(value) ? g_value_get_string(value) : "";
      break;
    case PROP_PLAN:
      s.plan = ams::gst::plan_from_boxed(static_cast<const GstAmsPlan*>(g_value_get_boxed(value)));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void gst_ams_demux_get_property(GObject* object, guint prop_id, GValue* value,
                                       GParamSpec* pspec) {
  GstAmsDemux* self = GST_AMS_DEMUX(object);
  std::lock_guard<std::mutex> lock(self->impl->lock);
  const Settings& s = self->impl->settings;
  switch (prop_id) {
    case PROP_TRACKS:
      g_value_set_string(value, s.tracks.c_str());
      break;
    case PROP_FRAGMENT_TIME:
      g_value_set_int64(value, s.fragment_time);
      break;
    case PROP_FRAGMENT_COUNT:
      g_value_set_uint(value, s.fragment_count);
      break;
    case PROP_START_TIME:
      g_value_set_uint64(value, s.start_time);
      break;
    case PROP_STOP_TIME:
      g_value_set_uint64(value, s.stop_time);
      break;
    case PROP_KEY_UNITS_ONLY:
      g_value_set_boolean(value, s.key_units_only);
      break;
    case PROP_LOCATION:
      g_value_set_string(value, s.location.c_str());
      break;
    case PROP_PLAN:
      g_value_take_boxed(value, s.plan ? ams::gst::plan_boxed_new(s.plan) : nullptr);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void gst_ams_demux_finalize(GObject* object) {
  GstAmsDemux* self = GST_AMS_DEMUX(object);
  delete self->impl;
  G_OBJECT_CLASS(gst_ams_demux_parent_class)->finalize(object);
}

static void gst_ams_demux_init(GstAmsDemux* self) {
  self->impl = new Impl();
  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_activate_function(self->sinkpad, gst_ams_demux_sink_activate);
  gst_pad_set_activatemode_function(self->sinkpad, gst_ams_demux_sink_activate_mode);
  gst_pad_set_chain_function(self->sinkpad, gst_ams_demux_chain);
  gst_pad_set_event_function(self->sinkpad, gst_ams_demux_sink_event);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);
}

static void gst_ams_demux_class_init(GstAmsDemuxClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  gobject_class->set_property = gst_ams_demux_set_property;
  gobject_class->get_property = gst_ams_demux_get_property;
  gobject_class->finalize = gst_ams_demux_finalize;
  element_class->change_state = gst_ams_demux_change_state;

  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                              GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(
      gobject_class, PROP_TRACKS,
      g_param_spec_string("tracks", "Tracks",
                          "Comma-separated tracks to expose: NAME, NAME@BITRATE or #INDEX "
                          "(e.g. \"video@3579827,aac_eng_2_128041_2_1\"); empty = every track",
                          "", flags));
  g_object_class_install_property(
      gobject_class, PROP_FRAGMENT_TIME,
      g_param_spec_int64(
          "fragment-time", "Fragment time",
          "Start (10 MHz units, as in Fragments(name=T) URLs) of the first fragment "
          "to emit, in the first selected track; the other tracks emit the fragments "
          "with the same index. -1 = from the start",
          -1, G_MAXINT64, -1, flags));
  g_object_class_install_property(
      gobject_class, PROP_FRAGMENT_COUNT,
      g_param_spec_uint("fragment-count", "Fragment count",
                        "How many fragments to emit (0 = all; 1 when fragment-time is set)", 0,
                        G_MAXUINT, 0, flags));
  g_object_class_install_property(
      gobject_class, PROP_START_TIME,
      g_param_spec_uint64("start-time", "Start time",
                          "Emit from the fragment containing this presentation time (ns)", 0,
                          G_MAXUINT64, GST_CLOCK_TIME_NONE, flags));
  g_object_class_install_property(
      gobject_class, PROP_STOP_TIME,
      g_param_spec_uint64("stop-time", "Stop time",
                          "Emit up to the fragment containing this presentation time (ns)", 0,
                          G_MAXUINT64, GST_CLOCK_TIME_NONE, flags));
  g_object_class_install_property(
      gobject_class, PROP_KEY_UNITS_ONLY,
      g_param_spec_boolean("key-units-only", "Key units only",
                           "Emit only the first (key) frame of each fragment, for HLS I-frame "
                           "(KeyFrames) segments",
                           FALSE, flags));

  g_object_class_install_property(
      gobject_class, PROP_LOCATION,
      g_param_spec_string("location", "Location",
                          "The asset to open (an .ism, one MP4 or a folder; a path or a file:// "
                          "URI); empty: the location of the upstream element (filesrc)",
                          "", flags));
  g_object_class_install_property(
      gobject_class, PROP_PLAN,
      g_param_spec_boxed("plan", "Plan",
                         "For applications (the streaming endpoint): a GstAmsPlan, the "
                         "presentation and the selection to emit. When set, nothing is read but "
                         "the samples it selects, and the other selection properties are ignored",
                         GST_TYPE_AMS_PLAN, flags));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &video_template);
  gst_element_class_add_static_pad_template(element_class, &audio_template);
  gst_element_class_add_static_pad_template(element_class, &text_template);
  gst_element_class_set_static_metadata(
      element_class, "AMS asset demuxer", "Codec/Demuxer",
      "Opens an AMS asset (.ism and its MP4 files, one MP4, or a folder) and exposes its tracks, "
      "fragment by fragment, reading only the index and the samples it pushes. Example: "
      "gst-launch-1.0 filesrc location=asset/name.ism ! amsdemux name=d d.video_0 ! queue ! "
      "decodebin ! videoconvert ! autovideosink d.audio_0 ! queue ! decodebin ! audioconvert ! "
      "autoaudiosink",
      "gst-ams developers");
  GST_DEBUG_CATEGORY_INIT(gst_ams_demux_debug, "amsdemux", 0, "AMS asset demuxer");
}
