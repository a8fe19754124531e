/**
 * SECTION:element-amstsmux
 * @title: amstsmux
 *
 * Writes the MPEG-2 TS segments of HLS v3 (one video and one audio track muxed, two sink pads)
 * and HLS v4 (one track per segment, one sink pad), with the layout of gst/core/ts: PAT, PMT
 * (PID 0x1000), video on PID 0x100, audio on PID 0x101, timestamps offset by 10 s.
 *
 * amstsmux needs `amsdemux` upstream: the track comes from the `ams-presentation` event and the
 * segment boundaries from the `ams-fragment` events (docs/element-contract.md). Segment n holds
 * the fragments [n*k, n*k+k) with k = #GstAmsTsMux:fragments-per-segment, or the asset's
 * `fragmentsPerHLSSegment` (3 by default). The output is one buffer list per segment: its first
 * buffer carries the segment's start in pts, its duration, and offset = n. The continuity
 * counters are computed from the index, so a segment made alone (`amsdemux fragment-time=T
 * fragment-count=k`, as the server does) chains with the one before it exactly as if the whole
 * track had been muxed in one run.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=asset/testsrc.ism ! amsdemux tracks=video@3000000 ! \
 *     amstsmux ! multifilesink location=seg%05d.ts next-file=buffer
 * ]| Writes the HLS v4 video segments of one bitrate, one file per segment.
 * |[
 * gst-launch-1.0 filesrc location=asset/testsrc.ism ! \
 *     amsdemux name=d tracks=video@3000000,aac_und_2_128000_2_1 \
 *     d.video_0 ! amstsmux name=m ! multifilesink location=seg%05d.ts next-file=buffer \
 *     d.audio_0 ! m.
 * ]| Writes HLS v3 segments: the video with the audio track muxed in.
 * |[
 * gst-launch-1.0 filesrc location=asset/testsrc.ism ! \
 *     amsdemux tracks=video@3000000 key-units-only=true fragment-time=20000000 ! \
 *     amstsmux fragments-per-segment=1 ! filesink location=iframe.ts
 * ]| The I-frame segment of the fragment at 2 s (`KeyFrames(video=20000000)`).
 */
#include "gstamstsmux.h"

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "gstamspresentation.h"
#include "gstptr.h"
#include "ts/segment_writer.h"

GST_DEBUG_CATEGORY_STATIC(gst_ams_ts_mux_debug);
#define GST_CAT_DEFAULT gst_ams_ts_mux_debug

namespace {

using ams::gst::GstPtr;
namespace ts = ams::ts;

enum { PROP_0, PROP_FRAGMENTS_PER_SEGMENT };

struct Settings {
  guint fragments_per_segment = 0;  // 0: the presentation's fragmentsPerHLSSegment
};

// One sample's payload, mapped for as long as the segment waits to be written.
struct Payload {
  GstPtr<GstBuffer> buffer;
  GstMapInfo map{};
  explicit Payload(GstBuffer* b) : buffer(b) { gst_buffer_map(b, &map, GST_MAP_READ); }
  ~Payload() { gst_buffer_unmap(buffer.get(), &map); }
  Payload(const Payload&) = delete;
  Payload& operator=(const Payload&) = delete;
  ams::ByteSpan bytes() const { return {map.data, map.size}; }
};

// What one pad gathered of one TS segment.
struct PendingSegment {
  uint64_t index = 0;
  guint64 start = 0;  // 10 MHz, first fragment received
  guint64 end = 0;    // 10 MHz, end of the last fragment received
  std::vector<ams::model::Sample> samples;
  std::vector<std::unique_ptr<Payload>> payloads;
};

struct SinkPad {
  GstPad* pad = nullptr;
  ams::gst::PresentationPtr presentation;  // keeps `track` alive
  ams::gst::PlanPtr plan;                  // what amsdemux emits: segments, continuity counters
  size_t track_index = 0;
  const ams::model::Track* track = nullptr;
  // ts::continuity_table of the track, worked out once when the plan does not give a counter.
  std::optional<std::vector<uint8_t>> continuity;
  std::optional<ts::Stream> stream;
  std::deque<PendingSegment> segments;  // back() is the one being filled
  bool eos = false;
  // The continuity counter the next segment starts at, once this run wrote one.
  std::optional<uint64_t> chained_segment;
  uint8_t chained_continuity = 0;

  bool is_video() const { return stream && stream->is_video(); }
  // True when nothing more can arrive for segment `n`.
  bool passed(uint64_t n) const { return eos || (!segments.empty() && segments.back().index > n); }
};

struct Impl {
  std::mutex settings_lock;
  Settings settings;

  // Streaming state. One lock for everything the sink pads share, held while pushing: segments
  // leave in index order whichever upstream thread completes them.
  std::mutex lock;
  std::vector<std::unique_ptr<SinkPad>> pads;
  guint next_pad_id = 0;
  bool started = false;  // stream-start, caps and segment went out
  std::optional<uint64_t> last_index;
  GstFlowReturn flow = GST_FLOW_OK;
};

}  // namespace

struct _GstAmsTsMux {
  GstElement parent;
  GstPad* srcpad;
  Impl* impl;
};

G_DEFINE_TYPE(GstAmsTsMux, gst_ams_ts_mux, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE(amstsmux, "amstsmux", GST_RANK_NONE, GST_TYPE_AMS_TS_MUX);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink_%u", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS("video/x-h264, stream-format=(string){ avc, avc3 }, alignment=(string)au; "
                    "video/x-h265, stream-format=(string){ hvc1, hev1 }, alignment=(string)au; "
                    "audio/mpeg, mpegversion=(int)4, stream-format=(string)raw; audio/x-ac3; "
                    "audio/x-eac3"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("video/mpegts, systemstream=(boolean)true, packetsize=(int)188"));

static GstClockTime time_10mhz(guint64 t) {
  return gst_util_uint64_scale(t, GST_SECOND, ams::kManifestTimescale);
}

// Fragments per segment: the property, else one for I-frame segments (one key frame per
// fragment), else the asset's fragmentsPerHLSSegment (model/segments.h).
static guint fragments_per_segment(GstAmsTsMux* self, const SinkPad& p) {
  guint k = 0;
  {
    std::lock_guard<std::mutex> lock(self->impl->settings_lock);
    k = self->impl->settings.fragments_per_segment;
  }
  if (k == 0 && p.plan && p.plan->selection.key_units_only) k = 1;
  if (k == 0 && p.presentation) k = p.presentation->fragments_per_hls_segment;
  return k ? k : 1;
}

// --- Writing a segment -------------------------------------------------------------------------

// The continuity counter of the pad's first packet in segment `n`: chained from the segment this
// run wrote before, else what the plan says for its first segment, else worked out from the index
// as if every earlier segment had been written (ts::continuity_table).
static uint8_t continuity_for(GstAmsTsMux* self, SinkPad& p, uint64_t n, bool pcr) {
  if (p.chained_segment == n) return p.chained_continuity;
  const guint k = fragments_per_segment(self, p);
  if (p.plan) {
    const ams::model::Selection& sel = p.plan->selection;
    for (size_t i = 0; i < sel.tracks.size() && i < sel.continuity.size(); ++i) {
      if (sel.tracks[i] == p.track_index && sel.first_segment == n && sel.per_segment == k) {
        return sel.continuity[i];
      }
    }
  }
  if (!p.continuity) {
    const bool keys = p.plan && p.plan->selection.key_units_only;
    auto table = ts::continuity_table(*p.stream, *p.track, k, keys, pcr);
    if (!table) {
      // Only H.264/H.265 with NAL lengths other than 4 bytes need the earlier payloads.
      GST_WARNING_OBJECT(self, "continuity counters unknown (%s): 0",
                         table.status().to_string().c_str());
    }
    p.continuity = table ? std::move(table).value() : std::vector<uint8_t>();
  }
  return n < p.continuity->size() ? (*p.continuity)[n] : 0;
}

struct TrackInput {
  SinkPad* pad = nullptr;
  std::optional<PendingSegment> segment;
  std::vector<ams::ByteSpan> payloads;
};

static ts::TrackSegment track_segment(GstAmsTsMux* self, TrackInput& t, uint64_t n, bool pcr) {
  ts::TrackSegment out;
  if (!t.pad) return out;
  out.stream = &*t.pad->stream;
  if (t.segment) {
    out.samples = t.segment->samples;
    for (const auto& p : t.segment->payloads) t.payloads.push_back(p->bytes());
    out.payloads = t.payloads;
  }
  out.continuity = continuity_for(self, *t.pad, n, pcr);
  return out;
}

static void chain_continuity(TrackInput& t, const ts::TrackSegment& written, uint64_t n, bool pcr) {
  if (!t.pad) return;
  auto count = ts::count_packets(*written.stream, written.samples, written.payloads, pcr);
  t.pad->chained_segment = n + 1;
  t.pad->chained_continuity =
      static_cast<uint8_t>((written.continuity + (count ? *count : 0)) & 0xf);
}

static void push_sticky_events(GstAmsTsMux* self, GstClockTime start) {
  // gst_pad_create_stream_id refuses elements with several sink pads: a random id, as core's.
  GstPtr<gchar> id(g_strdup_printf("%08x%08x/ts", g_random_int(), g_random_int()));
  gst_pad_push_event(self->srcpad, gst_event_new_stream_start(id.get()));
  GstPtr<GstCaps> caps(gst_pad_get_pad_template_caps(self->srcpad));
  gst_pad_push_event(self->srcpad, gst_event_new_caps(caps.get()));
  // Running time 0 at the first segment, so a synchronized sink does not wait for it.
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  segment.start = segment.time = segment.position = start;
  gst_pad_push_event(self->srcpad, gst_event_new_segment(&segment));
}

static GstBuffer* wrap_bytes(ams::Bytes bytes) {
  auto* owned = new ams::Bytes(std::move(bytes));
  return gst_buffer_new_wrapped_full(GST_MEMORY_FLAG_READONLY, owned->data(), owned->size(), 0,
                                     owned->size(), owned,
                                     [](gpointer p) { delete static_cast<ams::Bytes*>(p); });
}

// Writes segment `n` from what the pads gathered and pushes it as one buffer list.
static GstFlowReturn write_segment(GstAmsTsMux* self, uint64_t n) {
  Impl* impl = self->impl;
  TrackInput video, audio;
  for (auto& p : impl->pads) {
    if (!p->stream) continue;
    TrackInput& t = p->is_video() ? video : audio;
    t.pad = p.get();
    if (!p->segments.empty() && p->segments.front().index == n) {
      t.segment = std::move(p->segments.front());
      p->segments.pop_front();
    }
  }
  const bool audio_pcr = !video.pad;
  ts::SegmentInput in;
  in.index = n;
  in.video = track_segment(self, video, n, true);
  in.audio = track_segment(self, audio, n, audio_pcr);
  ams::ByteWriter out;
  if (ams::Status st = ts::write_segment(in, out); !st.is_ok()) {
    GST_ELEMENT_ERROR(self, STREAM, MUX, ("Could not write TS segment %" G_GUINT64_FORMAT, n),
                      ("%s", st.to_string().c_str()));
    return GST_FLOW_ERROR;
  }
  chain_continuity(video, in.video, n, true);
  chain_continuity(audio, in.audio, n, audio_pcr);

  const PendingSegment* timing = video.segment   ? &*video.segment
                                 : audio.segment ? &*audio.segment
                                                 : nullptr;
  GstBuffer* buf = wrap_bytes(out.take());
  if (timing) {
    GST_BUFFER_PTS(buf) = time_10mhz(timing->start);
    GST_BUFFER_DURATION(buf) = time_10mhz(timing->end) - time_10mhz(timing->start);
  }
  GST_BUFFER_OFFSET(buf) = n;
  if (!impl->last_index || *impl->last_index + 1 != n) {
    GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
  }
  impl->last_index = n;
  if (!impl->started) {
    impl->started = true;
    push_sticky_events(self, GST_BUFFER_PTS_IS_VALID(buf) ? GST_BUFFER_PTS(buf) : 0);
  }
  GstBufferList* list = gst_buffer_list_new_sized(1);
  gst_buffer_list_add(list, buf);
  GST_DEBUG_OBJECT(self, "segment %" G_GUINT64_FORMAT ": %" G_GSIZE_FORMAT " bytes", n,
                   gst_buffer_get_size(buf));
  return gst_pad_push_list(self->srcpad, list);
}

// Writes every segment no pad can add to any more, in index order. Called with impl->lock held.
static GstFlowReturn write_ready_segments(GstAmsTsMux* self) {
  Impl* impl = self->impl;
  while (impl->flow == GST_FLOW_OK) {
    std::optional<uint64_t> next;
    for (const auto& p : impl->pads) {
      if (!p->segments.empty() && (!next || p->segments.front().index < *next)) {
        next = p->segments.front().index;
      }
    }
    if (!next) break;
    for (const auto& p : impl->pads) {
      if (!p->passed(*next)) return impl->flow;
    }
    impl->flow = write_segment(self, *next);
  }
  return impl->flow;
}

// --- Sink pads ---------------------------------------------------------------------------------

static bool take_presentation(GstAmsTsMux* self, SinkPad& p, GstEvent* event) {
  ams::gst::PresentationPtr presentation;
  ams::gst::PlanPtr plan;
  guint index = 0;
  if (!ams::gst::presentation_event_parse(event, presentation, index, &plan)) return false;
  if (!presentation || index >= presentation->tracks.size()) return true;
  const ams::model::Track& track = presentation->tracks[index];
  auto stream = ts::Stream::create(ts::StreamConfig::from_track(track));
  if (!stream) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                      ("Track \"%s\" cannot be muxed into MPEG-TS", track.name.c_str()),
                      ("%s", stream.status().to_string().c_str()));
    return true;
  }
  for (const auto& other : self->impl->pads) {
    if (other.get() != &p && other->stream && other->is_video() == stream->is_video()) {
      GST_ELEMENT_ERROR(self, STREAM, MUX, ("amstsmux muxes at most one video and one audio track"),
                        ("pad %s carries a second %s track (\"%s\")", GST_PAD_NAME(p.pad),
                         stream->is_video() ? "video" : "audio", track.name.c_str()));
      return true;
    }
  }
  p.presentation = std::move(presentation);
  p.plan = std::move(plan);
  p.track_index = index;
  p.track = &track;
  p.stream = std::move(stream).value();
  p.continuity.reset();
  return true;
}

static bool take_fragment(GstAmsTsMux* self, SinkPad& p, GstEvent* event) {
  ams::gst::FragmentInfo info;
  if (!ams::gst::fragment_event_parse(event, info)) return false;
  const uint64_t n = info.fragment_index / fragments_per_segment(self, p);
  if (p.segments.empty() || p.segments.back().index != n) {
    PendingSegment s;
    s.index = n;
    s.start = info.start;
    p.segments.push_back(std::move(s));
  }
  p.segments.back().end = info.start + info.duration;
  return true;
}

static void reset_streaming(Impl* impl) {
  for (auto& p : impl->pads) {
    p->segments.clear();
    p->eos = false;
    p->chained_segment.reset();
  }
  impl->last_index.reset();
  impl->flow = GST_FLOW_OK;
}

static gboolean gst_ams_ts_mux_sink_event(GstPad* pad, GstObject* parent, GstEvent* event) {
  GstAmsTsMux* self = GST_AMS_TS_MUX(parent);
  Impl* impl = self->impl;
  GstPtr<GstEvent> owned(event);
  // Flushing unblocks a push in progress, so it must not wait for the lock that push holds.
  if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_START) {
    return gst_pad_push_event(self->srcpad, owned.release());
  }
  std::lock_guard<std::mutex> lock(impl->lock);
  auto* p = static_cast<SinkPad*>(gst_pad_get_element_private(pad));
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CUSTOM_DOWNSTREAM:
    case GST_EVENT_CUSTOM_DOWNSTREAM_STICKY:
      if (!take_presentation(self, *p, event) && take_fragment(self, *p, event)) {
        write_ready_segments(self);
      }
      return TRUE;
    case GST_EVENT_EOS: {
      p->eos = true;
      write_ready_segments(self);
      for (const auto& other : impl->pads) {
        if (!other->eos) return TRUE;
      }
      return gst_pad_push_event(self->srcpad, owned.release());
    }
    case GST_EVENT_FLUSH_STOP:
      reset_streaming(impl);
      return gst_pad_push_event(self->srcpad, owned.release());
    default:
      // Caps, segments and tags describe the input; the output has its own (push_sticky_events).
      return TRUE;
  }
}

static GstFlowReturn gst_ams_ts_mux_chain(GstPad* pad, GstObject* parent, GstBuffer* buffer) {
  GstAmsTsMux* self = GST_AMS_TS_MUX(parent);
  GstPtr<GstBuffer> buf(buffer);
  std::lock_guard<std::mutex> lock(self->impl->lock);
  auto* p = static_cast<SinkPad*>(gst_pad_get_element_private(pad));
  if (!p->track) {
    GST_ELEMENT_ERROR(
        self, STREAM, FORMAT,
        ("amstsmux needs amsdemux upstream: it takes the track and the fragment "
         "boundaries from amsdemux's events"),
        ("no ams-presentation event before the first buffer on %s", GST_PAD_NAME(pad)));
    return GST_FLOW_ERROR;
  }
  const auto& samples = p->track->samples();
  const guint64 index = GST_BUFFER_OFFSET(buffer);
  if (p->segments.empty() || index >= samples.size() ||
      gst_buffer_get_size(buffer) != samples[index].size) {
    GST_ELEMENT_ERROR(
        self, STREAM, FORMAT,
        ("amstsmux needs amsdemux upstream: the buffers do not match the track"),
        ("%s: buffer offset %" G_GUINT64_FORMAT " of %" G_GSIZE_FORMAT " bytes, fragment event %s",
         GST_PAD_NAME(pad), index, gst_buffer_get_size(buffer),
         p->segments.empty() ? "missing" : "seen"));
    return GST_FLOW_ERROR;
  }
  PendingSegment& s = p->segments.back();
  s.samples.push_back(samples[index]);
  s.payloads.push_back(std::make_unique<Payload>(buf.release()));
  return self->impl->flow;
}

static gboolean gst_ams_ts_mux_sink_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  if (ams::gst::payload_query_is(query)) {
    ams::gst::payload_query_set(query, true);
    return TRUE;
  }
  return gst_pad_query_default(pad, parent, query);
}

static GstPad* gst_ams_ts_mux_request_new_pad(GstElement* element, GstPadTemplate* templ,
                                              const gchar* name, const GstCaps* caps) {
  (void)caps;
  GstAmsTsMux* self = GST_AMS_TS_MUX(element);
  Impl* impl = self->impl;
  std::lock_guard<std::mutex> lock(impl->lock);
  if (impl->pads.size() >= 2) {
    GST_ELEMENT_WARNING(self, CORE, PAD, ("amstsmux takes one video and one audio pad"),
                        ("refused a third sink pad"));
    return nullptr;
  }
  GstPtr<gchar> pad_name(name ? g_strdup(name) : g_strdup_printf("sink_%u", impl->next_pad_id));
  ++impl->next_pad_id;
  GstPad* pad = gst_pad_new_from_template(templ, pad_name.get());
  auto state = std::make_unique<SinkPad>();
  state->pad = pad;
  gst_pad_set_element_private(pad, state.get());
  gst_pad_set_chain_function(pad, gst_ams_ts_mux_chain);
  gst_pad_set_event_function(pad, gst_ams_ts_mux_sink_event);
  gst_pad_set_query_function(pad, gst_ams_ts_mux_sink_query);
  impl->pads.push_back(std::move(state));
  gst_element_add_pad(element, pad);
  return pad;
}

static void gst_ams_ts_mux_release_pad(GstElement* element, GstPad* pad) {
  GstAmsTsMux* self = GST_AMS_TS_MUX(element);
  {
    std::lock_guard<std::mutex> lock(self->impl->lock);
    std::erase_if(self->impl->pads, [pad](const auto& p) { return p->pad == pad; });
  }
  gst_element_remove_pad(element, pad);
}

// --- GObject -----------------------------------------------------------------------------------

static GstStateChangeReturn gst_ams_ts_mux_change_state(GstElement* element,
                                                        GstStateChange transition) {
  GstAmsTsMux* self = GST_AMS_TS_MUX(element);
  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(gst_ams_ts_mux_parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    std::lock_guard<std::mutex> lock(self->impl->lock);
    reset_streaming(self->impl);
    for (auto& p : self->impl->pads) {
      p->stream.reset();
      p->track = nullptr;
      p->presentation.reset();
    }
    self->impl->started = false;
  }
  return ret;
}

static void gst_ams_ts_mux_set_property(GObject* object, guint prop_id, const GValue* value,
                                        GParamSpec* pspec) {
  GstAmsTsMux* self = GST_AMS_TS_MUX(object);
  std::lock_guard<std::mutex> lock(self->impl->settings_lock);
  if (prop_id == PROP_FRAGMENTS_PER_SEGMENT) {
    self->impl->settings.fragments_per_segment = g_value_get_uint(value);
  } else {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void gst_ams_ts_mux_get_property(GObject* object, guint prop_id, GValue* value,
                                        GParamSpec* pspec) {
  GstAmsTsMux* self = GST_AMS_TS_MUX(object);
  std::lock_guard<std::mutex> lock(self->impl->settings_lock);
  if (prop_id == PROP_FRAGMENTS_PER_SEGMENT) {
    g_value_set_uint(value, self->impl->settings.fragments_per_segment);
  } else {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void gst_ams_ts_mux_finalize(GObject* object) {
  GstAmsTsMux* self = GST_AMS_TS_MUX(object);
  delete self->impl;
  G_OBJECT_CLASS(gst_ams_ts_mux_parent_class)->finalize(object);
}

static void gst_ams_ts_mux_init(GstAmsTsMux* self) {
  self->impl = new Impl();
  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  gst_pad_use_fixed_caps(self->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
}

static void gst_ams_ts_mux_class_init(GstAmsTsMuxClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  gobject_class->set_property = gst_ams_ts_mux_set_property;
  gobject_class->get_property = gst_ams_ts_mux_get_property;
  gobject_class->finalize = gst_ams_ts_mux_finalize;
  element_class->change_state = gst_ams_ts_mux_change_state;
  element_class->request_new_pad = gst_ams_ts_mux_request_new_pad;
  element_class->release_pad = gst_ams_ts_mux_release_pad;

  g_object_class_install_property(
      gobject_class, PROP_FRAGMENTS_PER_SEGMENT,
      g_param_spec_uint("fragments-per-segment", "Fragments per segment",
                        "How many fragments one TS segment holds: segment n covers fragments "
                        "[n*k, n*k+k). 0 = the asset's fragmentsPerHLSSegment (3 when the .ism "
                        "does not say). 1 for HLS I-frame (KeyFrames) segments",
                        0, G_MAXUINT, 0,
                        static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                 GST_PARAM_MUTABLE_READY)));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "AMS HLS MPEG-TS muxer", "Codec/Muxer",
      "Writes HLS v3/v4 MPEG-TS segments from amsdemux tracks, one buffer list per segment, "
      "each one chaining with the previous even when made alone",
      "gst-ams developers");
  GST_DEBUG_CATEGORY_INIT(gst_ams_ts_mux_debug, "amstsmux", 0, "AMS HLS MPEG-TS muxer");
}
