/**
 * SECTION:element-amscmafmux
 * @title: amscmafmux
 *
 * Writes one track coming from `amsdemux` as fragmented MP4: CMAF (the fragments of HLS-CMAF
 * and DASH-CMAF, `format=cmaf`), DASH CSF (`format=dash`) or Smooth Streaming PIFF 1.1
 * (`format=smooth`), byte for byte what the streaming endpoint serves for that track
 * (docs/fragments.md).
 *
 * It takes every time, size and flag from the presentation model that `amsdemux` sends in its
 * `ams-presentation` event, and only the payload from the buffers; the fragment boundaries are
 * `amsdemux`'s `ams-fragment` events (docs/element-contract.md). So it needs `amsdemux` directly
 * upstream (parsers or queues in between are fine as long as they keep buffers and events as
 * they are); linked to anything else it fails with "amscmafmux needs amsdemux upstream".
 *
 * Output, as GStreamer's fragmented muxers do it: for `cmaf` and `dash` the init segment first
 * (`ftyp` + `moov`), as one buffer flagged `HEADER | DISCONT`, also set as `streamheader` in the
 * source caps; then one buffer list per fragment (`styp moof mdat`; Smooth: `moof mdat`) whose
 * first buffer (the boxes up to the mdat header) has the fragment's start in `pts`, its
 * `duration`, and the fragment index in `offset`; the buffers after it are the samples' own
 * memory, not copied (one buffer per run of samples that amsdemux read in one piece). After a
 * flushing seek the init segment is sent again before the next fragment.
 *
 * With `init-segment=false` no init segment is written or sent (the streaming endpoint asks for
 * fragments alone). With `init-only=true` the element sends the init segment and nothing else, and
 * tells `amsdemux` (through the `ams-payload` query) that it needs no sample bytes, so only the
 * index of the file is read: that is a `Fragments(video=i,format=...)` init-segment request.
 *
 * Common encryption: with `encryption=cenc` (AES-CTR) or `encryption=cbcs` (AES-CBC, 1:9 pattern)
 * and a `key-id` and `key` (32 hex digits each; the key id also as a GUID), the init segment
 * carries `encv`/`enca` with `sinf`/`tenc` and the W3C common `pssh`, and each fragment `senc`,
 * `saiz` and `saio`, its samples encrypted (one copy: the ciphertext). The streaming endpoint hands
 * its key through amsdemux's plan instead (docs/protection.md). Not for `format=smooth`.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=asset/testsrc.ism ! amsdemux tracks=video@1378000 ! \
 *     amscmafmux format=cmaf ! filesink location=track.cmfv
 * ]| Writes one CMAF track file: the init segment and every fragment, back to back (a file any
 * MP4 player or ffprobe reads).
 * |[
 * gst-launch-1.0 filesrc location=asset/testsrc.ism ! amsdemux tracks=video@1378000 ! \
 *     amscmafmux format=dash ! multifilesink location=seg-%05d.m4s next-file=buffer
 * ]| Cuts one file per fragment: `seg-00000.m4s` is the init segment, `seg-00001.m4s` the first
 * fragment, and so on (multifilesink writes each buffer list to one file).
 * |[
 * gst-launch-1.0 filesrc location=asset/testsrc.ism ! amsdemux tracks=video@1378000 \
 *     fragment-time=20000000 ! amscmafmux format=smooth ! filesink location=fragment.ismv
 * ]| The Smooth fragment that `QualityLevels(1378000)/Fragments(video=20000000)` serves.
 * |[
 * gst-launch-1.0 filesrc location=asset/testsrc.ism ! amsdemux tracks=video@1378000 ! \
 *     amscmafmux format=cmaf encryption=cenc key-id=3f0c1122-3344-4566-8788-99aabbccddee \
 *     key=000102030405060708090a0b0c0d0e0f ! filesink location=track-cenc.cmfv
 * ]| The same CMAF track encrypted with CENC (`ffmpeg -decryption_key 0001...0f -i
 * track-cenc.cmfv` reads it back).
 */
#include "gstamscmafmux.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "caps.h"
#include "fmp4/protection.h"
#include "fmp4/writer.h"
#include "gstamspresentation.h"
#include "gstptr.h"

GST_DEBUG_CATEGORY_STATIC(gst_ams_cmaf_mux_debug);
#define GST_CAT_DEFAULT gst_ams_cmaf_mux_debug

namespace {

using ams::fmp4::Variant;
using ams::gst::GstPtr;

enum {
  PROP_0,
  PROP_FORMAT,
  PROP_INIT_ONLY,
  PROP_INIT_SEGMENT,
  PROP_ENCRYPTION,
  PROP_KEY_ID,
  PROP_KEY,
};

// The values of the `format` property, in the order of ams::fmp4::Variant.
enum Format { kFormatCmaf = 0, kFormatDash = 1, kFormatSmooth = 2 };

Variant variant_of(gint format) {
  switch (format) {
    case kFormatDash:
      return Variant::kDash;
    case kFormatSmooth:
      return Variant::kSmooth;
    default:
      return Variant::kCmaf;
  }
}

struct Settings {
  gint format = kFormatCmaf;
  bool init_only = false;
  bool init_segment = true;  // write and push the init segment (cmaf, dash)
  std::string encryption;    // "", "cenc" or "cbcs"
  std::string key_id;        // 32 hex digits or a GUID
  std::string key;           // 32 hex digits; never logged
};

// 16 bytes from 32 hex digits (hyphens of a GUID skipped).
bool parse_block(const std::string& text, ams::fmp4::Block& out) {
  std::string hex;
  for (char c : text) {
    if (c != '-') hex += c;
  }
  if (hex.size() != 32) return false;
  for (size_t i = 0; i < 16; ++i) {
    int hi = g_ascii_xdigit_value(hex[2 * i]);
    int lo = g_ascii_xdigit_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

// Streaming-thread state: the track being written and the fragment being collected.
struct State {
  Settings settings;  // latched when the presentation arrives
  ams::gst::PresentationPtr presentation;
  const ams::model::Track* track = nullptr;
  std::shared_ptr<const ams::fmp4::Protection> protection;  // none: clear
  GstPtr<GstCaps> media_caps;                               // upstream's caps: Smooth's media-caps
  GstPtr<GstBuffer> header;                                 // the init segment (CMAF, DASH)
  GstSegment segment;                                       // upstream's
  guint32 segment_seqnum = GST_SEQNUM_INVALID;
  bool need_segment = true;
  bool need_header = true;
  bool discont = true;
  bool in_fragment = false;
  size_t fragment = 0;
  std::vector<GstPtr<GstBuffer>> samples;
  // What downstream said to the last push made from an event handler, for the next chain call.
  GstFlowReturn last_flow = GST_FLOW_OK;
};

struct Impl {
  std::mutex lock;  // guards settings
  Settings settings;
  State state;
};

// A buffer that owns the bytes the core wrote, without copying them.
GstBuffer* wrap_bytes(ams::Bytes&& bytes) {
  auto* owned = new ams::Bytes(std::move(bytes));
  return gst_buffer_new_wrapped_full(GST_MEMORY_FLAG_READONLY, owned->data(), owned->size(), 0,
                                     owned->size(), owned,
                                     [](gpointer p) { delete static_cast<ams::Bytes*>(p); });
}

GstClockTime ticks_to_time(int64_t ticks, uint32_t timescale) {
  if (ticks < 0) return 0;
  return static_cast<GstClockTime>(ams::rescale(ticks, timescale, GST_SECOND));
}

}  // namespace

struct _GstAmsCmafMux {
  GstElement parent;
  GstPad* sinkpad;
  GstPad* srcpad;
  Impl* impl;
};

G_DEFINE_TYPE(GstAmsCmafMux, gst_ams_cmaf_mux, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE(amscmafmux, "amscmafmux", GST_RANK_NONE, GST_TYPE_AMS_CMAF_MUX);

GType gst_ams_cmaf_mux_format_get_type(void) {
  static gsize type = 0;
  static const GEnumValue values[] = {
      {kFormatCmaf, "CMAF: HLS-CMAF and DASH-CMAF (format=m3u8-cmaf, mpd-time-cmaf)", "cmaf"},
      {kFormatDash, "DASH CSF (format=mpd-time-csf)", "dash"},
      {kFormatSmooth, "Smooth Streaming PIFF 1.1, 10 MHz times, no init segment", "smooth"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    g_once_init_leave(&type, g_enum_register_static("GstAmsCmafMuxFormat", values));
  }
  return static_cast<GType>(type);
}

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("video/x-h264, stream-format=(string){ avc, avc3 }, alignment=(string)au; "
                    "video/x-h265, stream-format=(string){ hvc1, hev1 }, alignment=(string)au; "
                    "audio/mpeg, mpegversion=(int)4, stream-format=(string)raw; "
                    "audio/x-ac3; audio/x-eac3"));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS,
                            GST_STATIC_CAPS("video/quicktime, variant=(string)iso-fragmented; "
                                            "video/quicktime, variant=(string)mss-fragmented"));

static void post_no_demuxer_error(GstAmsCmafMux* self) {
  GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("amscmafmux needs amsdemux upstream"),
                    ("no ams-presentation event arrived: the sample times and fragment "
                     "boundaries come from amsdemux (docs/element-contract.md)"));
}

// --- Caps, segment and init segment --------------------------------------------------------

// CMAF/DASH: the init segment as streamheader. Smooth: what qtdemux needs to read fragments
// without an init segment, as mssdemux gives it (timescale and the media caps).
static GstCaps* src_caps(const State& st) {
  if (st.settings.format == kFormatSmooth) {
    GstPtr<GstCaps> media(st.media_caps ? gst_caps_ref(st.media_caps.get())
                                        : ams::gst::caps_for_track(*st.track));
    return gst_caps_new_simple("video/quicktime", "variant", G_TYPE_STRING, "mss-fragmented",
                               "timescale", G_TYPE_UINT64,
                               static_cast<guint64>(ams::kManifestTimescale), "media-caps",
                               GST_TYPE_CAPS, media.get(), nullptr);
  }
  GstCaps* caps =
      gst_caps_new_simple("video/quicktime", "variant", G_TYPE_STRING, "iso-fragmented", nullptr);
  if (!st.header) return caps;
  GValue array = G_VALUE_INIT;
  GValue value = G_VALUE_INIT;
  g_value_init(&array, GST_TYPE_ARRAY);
  g_value_init(&value, GST_TYPE_BUFFER);
  gst_value_set_buffer(&value, st.header.get());
  gst_value_array_append_and_take_value(&array, &value);
  gst_structure_take_value(gst_caps_get_structure(caps, 0), "streamheader", &array);
  return caps;
}

// Output times are presentation times from 0 (amsdemux's buffers carry the edit-list shift,
// which its segment takes away again), so the output segment starts at upstream's `time`.
static void push_segment(GstAmsCmafMux* self) {
  State& st = self->impl->state;
  st.need_segment = false;
  const GstSegment& in = st.segment;
  GstSegment out;
  gst_segment_init(&out, GST_FORMAT_TIME);
  if (in.format == GST_FORMAT_TIME) {
    out.rate = in.rate;
    out.start = out.time = out.position = in.time;
    if (GST_CLOCK_TIME_IS_VALID(in.stop) && in.stop >= in.start) {
      out.stop = in.stop - in.start + in.time;
    }
    out.duration = in.duration;
  }
  GstEvent* event = gst_event_new_segment(&out);
  if (st.segment_seqnum != GST_SEQNUM_INVALID) gst_event_set_seqnum(event, st.segment_seqnum);
  gst_pad_push_event(self->srcpad, event);
}

// Sends what must precede a fragment: the segment and (again after a flush) the init segment.
static GstFlowReturn push_pending_headers(GstAmsCmafMux* self) {
  State& st = self->impl->state;
  if (st.need_segment) push_segment(self);
  if (!st.need_header || !st.header) return GST_FLOW_OK;
  st.need_header = false;
  st.discont = false;
  return gst_pad_push(self->srcpad, gst_buffer_ref(st.header.get()));
}

static bool handle_presentation(GstAmsCmafMux* self, GstEvent* event) {
  Impl* impl = self->impl;
  State& st = impl->state;
  guint track_index = 0;
  ams::gst::PlanPtr plan;
  if (!ams::gst::presentation_event_parse(event, st.presentation, track_index, &plan)) {
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(impl->lock);
    st.settings = impl->settings;
  }
  st.track = &st.presentation->tracks[track_index];
  const Variant variant = variant_of(st.settings.format);
  st.protection.reset();
  if (plan && plan->protection) {
    st.protection = plan->protection;
  } else if (!st.settings.encryption.empty()) {
    const std::string& scheme = st.settings.encryption;
    ams::fmp4::Block key_id{}, key{};
    if (scheme != "cenc" && scheme != "cbcs") {
      GST_ELEMENT_ERROR(self, LIBRARY, SETTINGS, ("encryption=%s", scheme.c_str()),
                        ("the schemes are cenc and cbcs"));
      return false;
    }
    if (!parse_block(st.settings.key_id, key_id) || !parse_block(st.settings.key, key)) {
      GST_ELEMENT_ERROR(
          self, LIBRARY, SETTINGS,
          ("encryption=%s needs key-id and key of 32 hex digits each", scheme.c_str()), (nullptr));
      return false;
    }
    st.protection = std::make_shared<const ams::fmp4::Protection>(ams::fmp4::make_protection(
        scheme == "cenc" ? ams::fmp4::Scheme::kCenc : ams::fmp4::Scheme::kCbcs, key_id, key,
        *st.presentation, *st.track));
  }
  if (st.protection && variant == Variant::kSmooth) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("format=smooth is not encrypted by amscmafmux"),
                      ("PIFF sample encryption is not written yet: use cmaf or dash"));
    return false;
  }
  if (st.track->type == ams::model::TrackType::kText) {
    GST_ELEMENT_ERROR(
        self, STREAM, WRONG_TYPE,
        ("amscmafmux writes audio and video; \"%s\" is a text track", st.track->name.c_str()),
        (nullptr));
    return false;
  }
  if (st.settings.init_only && variant == Variant::kSmooth) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("format=smooth has no init segment"),
                      ("Smooth clients build it from the client manifest; init-only needs "
                       "format=cmaf or format=dash"));
    return false;
  }
  if (st.settings.init_only && !st.settings.init_segment) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("init-only=true needs init-segment=true"), (nullptr));
    return false;
  }
  st.header.reset();
  if (variant != Variant::kSmooth && st.settings.init_segment) {
    ams::ByteWriter w;
    ams::Status status = ams::fmp4::write_init_segment(*st.track, variant, w, st.protection.get());
    if (!status.is_ok()) {
      GST_ELEMENT_ERROR(self, STREAM, MUX,
                        ("Cannot write an init segment for track \"%s\"", st.track->name.c_str()),
                        ("%s", status.to_string().c_str()));
      return false;
    }
    st.header.reset(wrap_bytes(w.take()));
    GST_BUFFER_FLAG_SET(st.header.get(), GST_BUFFER_FLAG_HEADER | GST_BUFFER_FLAG_DISCONT);
  }
  GstPtr<GstCaps> caps(src_caps(st));
  gst_pad_set_caps(self->srcpad, caps.get());
  if (st.need_segment) push_segment(self);
  // Downstream (a manifest sink, the server) may want to know the track too.
  gst_pad_push_event(self->srcpad, gst_event_ref(event));
  st.need_header = true;
  st.last_flow = push_pending_headers(self);
  return true;
}

// --- Fragments --------------------------------------------------------------------------------

// The output list of one fragment: its header ([styp] moof, mdat header), then the samples' own
// memory, one buffer per run of samples that lie back to back in one memory (amsdemux reads each
// run of a fragment with one read), so the payload is not copied.
static GstBufferList* fragment_list(GstBuffer* header,
                                    const std::vector<GstPtr<GstBuffer>>& samples) {
  GstBufferList* list = gst_buffer_list_new_sized(2);
  gst_buffer_list_add(list, header);
  GstMemory* run = nullptr;
  auto flush = [&] {
    if (run == nullptr) return;
    GstBuffer* b = gst_buffer_new();
    gst_buffer_append_memory(b, run);
    gst_buffer_list_add(list, b);
    run = nullptr;
  };
  for (const GstPtr<GstBuffer>& sample : samples) {
    for (guint i = 0; i < gst_buffer_n_memory(sample.get()); ++i) {
      GstMemory* mem = gst_buffer_peek_memory(sample.get(), i);
      gsize offset = 0;
      if (run != nullptr && gst_memory_is_span(run, mem, &offset)) {
        GstMemory* joined = gst_memory_share(run->parent, static_cast<gssize>(offset),
                                             static_cast<gssize>(run->size + mem->size));
        gst_memory_unref(run);
        run = joined;
        continue;
      }
      flush();
      run = gst_memory_ref(mem);
    }
  }
  flush();
  return list;
}

static void stamp_fragment(GstAmsCmafMux* self, GstBuffer* header) {
  State& st = self->impl->state;
  const ams::model::Track& t = *st.track;
  const ams::model::Fragment& f = t.fragments[st.fragment];
  const GstClockTime start = ticks_to_time(f.start, t.timescale);
  GST_BUFFER_PTS(header) = start;
  GST_BUFFER_DURATION(header) = ticks_to_time(f.start + f.duration, t.timescale) - start;
  GST_BUFFER_OFFSET(header) = st.fragment;
  GST_BUFFER_OFFSET_END(header) = st.fragment + 1;
  if (st.discont) GST_BUFFER_FLAG_SET(header, GST_BUFFER_FLAG_DISCONT);
  st.discont = false;
}

// A protected fragment: written whole by the core, its samples encrypted into the one buffer.
static GstFlowReturn write_and_push_protected(GstAmsCmafMux* self,
                                              const std::vector<GstPtr<GstBuffer>>& samples) {
  State& st = self->impl->state;
  const ams::model::Track& t = *st.track;
  std::vector<GstMapInfo> maps(samples.size());
  ams::fmp4::FragmentPayload payload;
  size_t mapped = 0;
  bool ok = true;
  for (; mapped < samples.size(); ++mapped) {
    if (!gst_buffer_map(samples[mapped].get(), &maps[mapped], GST_MAP_READ)) {
      ok = false;
      break;
    }
    payload.samples.emplace_back(maps[mapped].data, maps[mapped].size);
  }
  ams::ByteWriter w;
  ams::Status status =
      ok ? ams::fmp4::write_protected_fragment(t, st.fragment, variant_of(st.settings.format),
                                               *st.protection, payload, w)
         : ams::io_error("cannot map a sample");
  for (size_t k = 0; k < mapped; ++k) gst_buffer_unmap(samples[k].get(), &maps[k]);
  if (!status.is_ok()) {
    GST_ELEMENT_ERROR(self, STREAM, MUX,
                      ("Cannot encrypt fragment %zu of track \"%s\"", st.fragment, t.name.c_str()),
                      ("%s", status.to_string().c_str()));
    return GST_FLOW_ERROR;
  }
  GstBuffer* buffer = wrap_bytes(w.take());
  stamp_fragment(self, buffer);
  GstBufferList* list = gst_buffer_list_new_sized(1);
  gst_buffer_list_add(list, buffer);
  return gst_pad_push_list(self->srcpad, list);
}

static GstFlowReturn write_and_push_fragment(GstAmsCmafMux* self,
                                             std::vector<GstPtr<GstBuffer>> samples) {
  State& st = self->impl->state;
  const ams::model::Track& t = *st.track;
  const ams::model::Fragment& f = t.fragments[st.fragment];
  const Variant variant = variant_of(st.settings.format);
  if (samples.size() != f.sample_count) {
    GST_ELEMENT_ERROR(self, STREAM, MUX, (nullptr),
                      ("fragment %zu of \"%s\": %zu samples arrived, the index has %u", st.fragment,
                       t.name.c_str(), samples.size(), f.sample_count));
    return GST_FLOW_ERROR;
  }
  for (size_t k = 0; k < samples.size(); ++k) {
    const ams::model::Sample& want = t.samples()[f.first_sample + k];
    if (gst_buffer_get_size(samples[k].get()) != want.size) {
      GST_ELEMENT_ERROR(
          self, STREAM, MUX, (nullptr),
          ("fragment %zu of \"%s\": sample %zu has %zu bytes, the index says %u", st.fragment,
           t.name.c_str(), k, gst_buffer_get_size(samples[k].get()), want.size));
      return GST_FLOW_ERROR;
    }
  }
  if (st.protection) return write_and_push_protected(self, samples);
  ams::ByteWriter w;
  ams::Status status = ams::fmp4::write_fragment_header(t, st.fragment, variant, w);
  if (!status.is_ok()) {
    GST_ELEMENT_ERROR(self, STREAM, MUX,
                      ("Cannot write fragment %zu of track \"%s\"", st.fragment, t.name.c_str()),
                      ("%s", status.to_string().c_str()));
    return GST_FLOW_ERROR;
  }
  GstBuffer* header = wrap_bytes(w.take());
  stamp_fragment(self, header);
  GstBufferList* list = fragment_list(header, samples);
  GST_LOG_OBJECT(self, "fragment %zu: %zu samples in %u buffers", st.fragment, samples.size(),
                 gst_buffer_list_length(list));
  return gst_pad_push_list(self->srcpad, list);
}

// Writes the fragment collected so far, if any (an ams-fragment event or EOS ends it).
static GstFlowReturn finish_fragment(GstAmsCmafMux* self) {
  State& st = self->impl->state;
  if (!st.in_fragment) return GST_FLOW_OK;
  st.in_fragment = false;
  std::vector<GstPtr<GstBuffer>> samples = std::move(st.samples);
  st.samples.clear();
  GstFlowReturn ret = push_pending_headers(self);
  if (ret != GST_FLOW_OK) return ret;
  return write_and_push_fragment(self, std::move(samples));
}

static void handle_fragment_start(GstAmsCmafMux* self, const ams::gst::FragmentInfo& info) {
  State& st = self->impl->state;
  GstFlowReturn ret = finish_fragment(self);
  if (st.last_flow == GST_FLOW_OK) st.last_flow = ret;
  if (!st.presentation || st.settings.init_only) return;
  if (info.fragment_index >= st.track->fragments.size()) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, (nullptr),
                      ("ams-fragment names fragment %u; track \"%s\" has %zu", info.fragment_index,
                       st.track->name.c_str(), st.track->fragments.size()));
    st.last_flow = GST_FLOW_ERROR;
    return;
  }
  st.fragment = info.fragment_index;
  st.in_fragment = true;
  st.samples.reserve(st.track->fragments[st.fragment].sample_count);
}

// --- Pads ---------------------------------------------------------------------------------------

static GstFlowReturn gst_ams_cmaf_mux_chain(GstPad* pad, GstObject* parent, GstBuffer* buffer) {
  (void)pad;
  GstAmsCmafMux* self = GST_AMS_CMAF_MUX(parent);
  State& st = self->impl->state;
  GstPtr<GstBuffer> owned(buffer);
  if (!st.presentation) {
    post_no_demuxer_error(self);
    return GST_FLOW_ERROR;
  }
  if (st.last_flow != GST_FLOW_OK) return st.last_flow;
  if (st.settings.init_only) return GST_FLOW_OK;
  if (!st.in_fragment || st.samples.size() >= st.track->fragments[st.fragment].sample_count) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, (nullptr),
                      ("a sample arrived outside the samples of an ams-fragment"));
    return GST_FLOW_ERROR;
  }
  st.samples.push_back(std::move(owned));
  return GST_FLOW_OK;
}

static void reset_state(State& st) {
  st = State();
  gst_segment_init(&st.segment, GST_FORMAT_TIME);
}

static gboolean gst_ams_cmaf_mux_sink_event(GstPad* pad, GstObject* parent, GstEvent* event) {
  GstAmsCmafMux* self = GST_AMS_CMAF_MUX(parent);
  State& st = self->impl->state;
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS: {
      // Ours are set when the presentation says what to write.
      GstCaps* caps = nullptr;
      gst_event_parse_caps(event, &caps);
      st.media_caps.reset(gst_caps_ref(caps));
      gst_event_unref(event);
      return TRUE;
    }
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment(event, &st.segment);
      st.segment_seqnum = gst_event_get_seqnum(event);
      st.need_segment = true;
      gst_event_unref(event);
      return TRUE;
    case GST_EVENT_CUSTOM_DOWNSTREAM_STICKY: {
      ams::gst::PresentationPtr presentation;
      guint index = 0;
      if (!ams::gst::presentation_event_parse(event, presentation, index)) break;
      bool ok = handle_presentation(self, event);
      gst_event_unref(event);
      return ok;
    }
    case GST_EVENT_CUSTOM_DOWNSTREAM: {
      ams::gst::FragmentInfo info;
      if (!ams::gst::fragment_event_parse(event, info)) break;
      // Consumed: each buffer list says which fragment it is (offset, pts).
      handle_fragment_start(self, info);
      gst_event_unref(event);
      return TRUE;
    }
    case GST_EVENT_EOS: {
      if (!st.presentation) {
        post_no_demuxer_error(self);
      } else {
        GstFlowReturn ret = finish_fragment(self);
        if (st.last_flow == GST_FLOW_OK) st.last_flow = ret;
      }
      break;
    }
    case GST_EVENT_FLUSH_STOP:
      st.samples.clear();
      st.in_fragment = false;
      st.need_header = true;
      st.discont = true;
      st.last_flow = GST_FLOW_OK;
      break;
    default:
      break;
  }
  return gst_pad_event_default(pad, parent, event);
}

static gboolean gst_ams_cmaf_mux_sink_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  GstAmsCmafMux* self = GST_AMS_CMAF_MUX(parent);
  if (ams::gst::payload_query_is(query)) {
    // Asked before the presentation arrives: the answer depends on the property alone.
    std::lock_guard<std::mutex> lock(self->impl->lock);
    ams::gst::payload_query_set(query, !self->impl->settings.init_only);
    return TRUE;
  }
  return gst_pad_query_default(pad, parent, query);
}

// --- GObject ----------------------------------------------------------------------------------

static GstStateChangeReturn gst_ams_cmaf_mux_change_state(GstElement* element,
                                                          GstStateChange transition) {
  GstAmsCmafMux* self = GST_AMS_CMAF_MUX(element);
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) reset_state(self->impl->state);
  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(gst_ams_cmaf_mux_parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) reset_state(self->impl->state);
  return ret;
}

static void gst_ams_cmaf_mux_set_property(GObject* object, guint prop_id, const GValue* value,
                                          GParamSpec* pspec) {
  GstAmsCmafMux* self = GST_AMS_CMAF_MUX(object);
  std::lock_guard<std::mutex> lock(self->impl->lock);
  Settings& s = self->impl->settings;
  switch (prop_id) {
    case PROP_FORMAT:
      s.format = g_value_get_enum(value);
      break;
    case PROP_INIT_ONLY:
      s.init_only = g_value_get_boolean(value);
      break;
    case PROP_INIT_SEGMENT:
      s.init_segment = g_value_get_boolean(value);
      break;
    case PROP_ENCRYPTION:
      s.encryption = g_value_get_string(value) ? g_value_get_string(value) : "";
      break;
    case PROP_KEY_ID:
      s.key_id = g_value_get_string(value) ? g_value_get_string(value) : "";
      break;
    case PROP_KEY:
      s.key = g_value_get_string(value) ? g_value_get_string(value) : "";
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void gst_ams_cmaf_mux_get_property(GObject* object, guint prop_id, GValue* value,
                                          GParamSpec* pspec) {
  GstAmsCmafMux* self = GST_AMS_CMAF_MUX(object);
  std::lock_guard<std::mutex> lock(self->impl->lock);
  const Settings& s = self->impl->settings;
  switch (prop_id) {
    case PROP_FORMAT:
      g_value_set_enum(value, s.format);
      break;
    case PROP_INIT_ONLY:
      g_value_set_boolean(value, s.init_only);
      break;
    case PROP_INIT_SEGMENT:
      g_value_set_boolean(value, s.init_segment);
      break;
    case PROP_ENCRYPTION:
      g_value_set_string(value, s.encryption.c_str());
      break;
    case PROP_KEY_ID:
      g_value_set_string(value, s.key_id.c_str());
      break;
    case PROP_KEY:
      // Write-only in effect: a key read back is a key printed.
      g_value_set_string(value, s.key.empty() ? "" : "(set)");
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void gst_ams_cmaf_mux_finalize(GObject* object) {
  GstAmsCmafMux* self = GST_AMS_CMAF_MUX(object);
  delete self->impl;
  G_OBJECT_CLASS(gst_ams_cmaf_mux_parent_class)->finalize(object);
}

static void gst_ams_cmaf_mux_init(GstAmsCmafMux* self) {
  self->impl = new Impl();
  reset_state(self->impl->state);
  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad, gst_ams_cmaf_mux_chain);
  gst_pad_set_event_function(self->sinkpad, gst_ams_cmaf_mux_sink_event);
  gst_pad_set_query_function(self->sinkpad, gst_ams_cmaf_mux_sink_query);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);
  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  gst_pad_use_fixed_caps(self->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
}

static void gst_ams_cmaf_mux_class_init(GstAmsCmafMuxClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  gobject_class->set_property = gst_ams_cmaf_mux_set_property;
  gobject_class->get_property = gst_ams_cmaf_mux_get_property;
  gobject_class->finalize = gst_ams_cmaf_mux_finalize;
  element_class->change_state = gst_ams_cmaf_mux_change_state;

  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                              GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(
      gobject_class, PROP_FORMAT,
      g_param_spec_enum("format", "Format",
                        "What to write: cmaf (HLS-CMAF, DASH-CMAF), dash (DASH CSF) or smooth "
                        "(Smooth Streaming PIFF fragments, no init segment)",
                        GST_TYPE_AMS_CMAF_MUX_FORMAT, kFormatCmaf, flags));
  g_object_class_install_property(
      gobject_class, PROP_INIT_ONLY,
      g_param_spec_boolean("init-only", "Init segment only",
                           "Write only the init segment (ftyp + moov) and tell amsdemux to read "
                           "no sample bytes; not for format=smooth",
                           FALSE, flags));
  g_object_class_install_property(
      gobject_class, PROP_INIT_SEGMENT,
      g_param_spec_boolean("init-segment", "Init segment",
                           "Write the init segment before the fragments (cmaf, dash). An "
                           "application that asks for fragments alone (the streaming endpoint, "
                           "whose clients fetch the init segment once) turns it off: none is "
                           "written and the source caps carry no streamheader",
                           TRUE, flags));
  g_object_class_install_property(
      gobject_class, PROP_ENCRYPTION,
      g_param_spec_string("encryption", "Encryption",
                          "Common encryption of the output: \"\" (clear), cenc (AES-CTR) or cbcs "
                          "(AES-CBC, 1:9 pattern); needs key-id and key",
                          "", flags));
  g_object_class_install_property(
      gobject_class, PROP_KEY_ID,
      g_param_spec_string("key-id", "Key ID",
                          "The content key's id: 32 hex digits or a GUID (tenc, pssh)", "", flags));
  g_object_class_install_property(
      gobject_class, PROP_KEY,
      g_param_spec_string("key", "Key", "The content key: 32 hex digits (reads back as \"(set)\")",
                          "", flags));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "AMS fragmented MP4 muxer", "Codec/Muxer",
      "Writes a track from amsdemux as CMAF, DASH CSF or Smooth Streaming fragments: an init "
      "segment, then one buffer list per fragment",
      "gst-ams developers");
  gst_type_mark_as_plugin_api(GST_TYPE_AMS_CMAF_MUX_FORMAT, static_cast<GstPluginAPIFlags>(0));
  GST_DEBUG_CATEGORY_INIT(gst_ams_cmaf_mux_debug, "amscmafmux", 0, "AMS fragmented MP4 muxer");
}
