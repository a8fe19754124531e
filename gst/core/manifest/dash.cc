// The static MPD, laid out as AMS's DASH CSF example: audio AdaptationSets (one per audio track
// name) before the video one, a SegmentTemplate with $Bandwidth$ and $Time$ over a 10 MHz
// SegmentTimeline, and AMS's attribute order. CMAF differs by its profiles and its URL format.
#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "base/language.h"
#include "manifest/timeline.h"
#include "manifest/url_template.h"
#include "manifest/writers.h"
#include "manifest/xml_writer.h"
#include "text/ttml.h"

namespace ams::manifest {
namespace {

using model::Track;
using model::TrackType;

constexpr std::string_view kRoleScheme = "urn:mpeg:dash:role:2011";
constexpr std::string_view kChannelScheme =
    "urn:mpeg:dash:23003:3:audio_channel_configuration:2011";
constexpr uint32_t kVideoGroup = 1;  // AMS's group numbers
constexpr uint32_t kAudioGroup = 5;
constexpr uint32_t kTextGroup = 3;

// xs:duration, rounded up to the millisecond so the timeline fits: "PT1M10.315S".
std::string iso_duration(int64_t duration_10mhz) {
  int64_t ms = (duration_10mhz + 9999) / 10000;
  int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, frac = ms % 1000;
  std::string out = "PT";
  if (h > 0) out += std::to_string(h) + "H";
  if (h > 0 || m > 0) out += std::to_string(m) + "M";
  out += std::to_string(s);
  if (frac > 0) {
    char buf[8];
    std::snprintf(buf, sizeof buf, ".%03" PRId64, frac);
    std::string f = buf;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + "S";
}

constexpr std::string_view kCencNamespace = "urn:mpeg:cenc:2013";
constexpr std::string_view kDashIfNamespace = "https://dashif.org/CPS";
constexpr std::string_view kClearKeySystem = "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e";
constexpr std::string_view kCommonSystem = "urn:uuid:1077efec-c0b2-4d02-ace3-3c1e52e2fb4b";

struct SetContext {
  std::string_view format;
  const Options::CommonEncryption* protection = nullptr;
  bool cmaf = false;
  uint32_t id = 0;
  bool first_of_type = false;
  std::string args;         // Options::url_args()
  int64_t start_10mhz = 0;  // Presentation::start_10mhz
};

void write_segment_template(XmlWriter& xml, const std::string& name, const SetContext& ctx,
                            const std::vector<TimelineEntry>& timeline,
                            const std::string& quality = "") {
  xml.open("SegmentTemplate").attr("timescale", kManifestTimescale);
  // A filter's trimmed start: the segments keep their media times, the Period starts at the
  // first one (ISO/IEC 23009-1 5.3.9.2).
  if (ctx.start_10mhz > 0) xml.attr("presentationTimeOffset", ctx.start_10mhz);
  xml.attr("media", url::dash_media_template(name, ctx.format, ctx.args, quality))
      .attr("initialization", url::dash_init_template(name, ctx.format, ctx.args, quality));
  xml.children();
  xml.open("SegmentTimeline").children();
  bool first = true;
  for (const Run& run : compress(timeline)) {
    xml.open("S");
    // The first S starts at 0 unless it says otherwise (ISO/IEC 23009-1 5.3.9.6), as AMS relies on.
    if (run.after_gap && !(first && run.start == 0)) xml.attr("t", run.start);
    xml.attr("d", run.duration);
    if (run.count > 1) xml.attr("r", run.count - 1);  // DASH r counts the repeats
    xml.empty();
    first = false;
  }
  xml.close();
  xml.close();
}

void write_adaptation_set(XmlWriter& xml, const model::Presentation& p, const TrackGroup& group,
                          TrackType type, const SetContext& ctx) {
  const bool audio = type == TrackType::kAudio;
  const Track& top = *group.tracks.front();
  xml.open("AdaptationSet").attr("id", ctx.id).attr("group", audio ? kAudioGroup : kVideoGroup);
  if (!ctx.cmaf) xml.attr("profiles", "ccff");
  xml.attr("bitstreamSwitching", "false")
      .attr("segmentAlignment", "true")
      .attr("contentType", audio ? "audio" : "video")
      .attr("mimeType", audio ? "audio/mp4" : "video/mp4")
      .attr("codecs", top.codec_string);
  if (audio && !top.language.empty()) xml.attr("lang", iso639_1_of(top.language));
  if (!audio) {
    uint32_t max_w = 0, max_h = 0;
    for (const Track* t : group.tracks) {
      max_w = std::max(max_w, t->width);
      max_h = std::max(max_h, t->height);
    }
    xml.attr("maxWidth", max_w).attr("maxHeight", max_h).attr("startWithSAP", 1);
  }
  xml.children();
  // Common encryption (ISO/IEC 23009-1 5.8.5.2, ISO/IEC 23001-7 11; DASH-IF IOP 7): the scheme
  // with the key id, the ClearKey system with its licence URL, the W3C common system's pssh.
  if (const Options::CommonEncryption* cp = ctx.protection) {
    xml.open("ContentProtection")
        .attr("schemeIdUri", "urn:mpeg:dash:mp4protection:2011")
        .attr("value", cp->scheme)
        .attr("cenc:default_KID", cp->default_kid)
        .empty();
    xml.open("ContentProtection").attr("schemeIdUri", kClearKeySystem).attr("value", "ClearKey1.0");
    if (cp->clearkey_laurl.empty()) {
      xml.empty();
    } else {
      xml.children();
      xml.open("dashif:Laurl").text(cp->clearkey_laurl);
      xml.close();
    }
    xml.open("ContentProtection").attr("schemeIdUri", kCommonSystem).children();
    xml.open("cenc:pssh").text(cp->pssh_base64);
    xml.close();
  }
  // CEA-608 captions in the video's SEI (SCTE 214-1, DASH-IF IOP: the channels and their
  // language, "CC1=eng;CC3=fra"; the video's language, else und).
  if (!audio) {
    uint8_t channels = 0;
    for (const Track* t : group.tracks) channels |= t->cea608_channels;
    std::string value;
    const std::string lang = top.language.empty() ? "und" : top.language;
    for (int c = 0; c < 4; ++c) {
      if (channels & (1 << c))
        value += (value.empty() ? "CC" : ";CC") + std::to_string(c + 1) + "=" + lang;
    }
    if (!value.empty()) {
      xml.open("Accessibility")
          .attr("schemeIdUri", "urn:scte:dash:cc:cea-608:2015")
          .attr("value", value)
          .empty();
    }
  }
  if (audio) {
    xml.open("Label").text(group.name);
    const bool described = top.accessibility == "description";
    if (described) {
      xml.open("Accessibility").attr("schemeIdUri", kRoleScheme).attr("value", "description");
      xml.empty();
    }
    std::string role = top.role;
    if (role.empty()) role = ctx.first_of_type && !described ? "main" : "alternate";
    xml.open("Role").attr("schemeIdUri", kRoleScheme).attr("value", role).empty();
  }
  // One timeline for the set, the top bitrate's, whenever every bitrate has as many fragments
  // (aligned key frames, as AMS requires): fragment i of each bitrate is named by it, as Smooth
  // does (dash_reference). Where open GOPs make a bitrate's fragment start a frame
  // away from the top's, the segments still switch 1:1; separate timelines that differ by a frame
  // made GStreamer's dashdemux2 fetch a segment twice on a switch (194 frames too many on
  // x264-opengop-avc3-50fps). Only an unaligned encode gets one timeline per bitrate.
  const std::vector<TimelineEntry> timeline = timeline_10mhz(top);
  const bool shared = bitrates_aligned(group);
  if (shared) write_segment_template(xml, group.name, ctx, timeline);
  const std::vector<const Track*> order = listing_order(group, p);
  for (size_t i = 0; i < order.size(); ++i) {
    const Track& t = *order[i];
    xml.open("Representation")
        .attr("id", std::to_string(audio ? kAudioGroup : kVideoGroup) + (audio ? "_A_" : "_V_") +
                        group.name + "_" + std::to_string(i + 1))
        .attr("bandwidth", t.bitrate);
    if (t.codec_string != top.codec_string) xml.attr("codecs", t.codec_string);
    if (audio) {
      xml.attr("audioSamplingRate", t.sample_rate);
    } else {
      xml.attr("width", t.width).attr("height", t.height);
    }
    if (!audio && shared) {
      xml.empty();
      continue;
    }
    xml.children();
    if (audio) {
      xml.open("AudioChannelConfiguration")
          .attr("schemeIdUri", kChannelScheme)
          .attr("value", t.channels)
          .empty();
    }
    if (!shared) write_segment_template(xml, group.name, ctx, timeline_10mhz(t));
    xml.close();
  }
  xml.close();
}

// A WebVTT side-car as a text AdaptationSet of TTML fragments (IMSC1 Text in fMP4, `stpp`, in both
// profiles: docs/subtitles.md), one per fragment of the text timeline (the video's), so that its
// segments start where the video's do. Role subtitle, or caption for the .ism's
// accessibility=caption (the deaf and hard of hearing).
void write_text_set(XmlWriter& xml, const model::Presentation& p, const Track& t,
                    const SetContext& ctx) {
  const Track* ref = text_timeline(p);
  if (ref == nullptr || !t.webvtt) return;
  xml.open("AdaptationSet").attr("id", ctx.id).attr("group", kTextGroup);
  if (!ctx.cmaf) xml.attr("profiles", "ccff");
  xml.attr("segmentAlignment", "true")
      .attr("contentType", "text")
      .attr("mimeType", "application/mp4")
      .attr("codecs", text::kImsc1TextCodecs);
  if (!t.language.empty() && t.language != "und") xml.attr("lang", iso639_1_of(t.language));
  xml.children();
  xml.open("Label").text(t.name);
  xml.open("Role")
      .attr("schemeIdUri", kRoleScheme)
      .attr("value", t.accessibility == "caption" ? "caption" : "subtitle")
      .empty();
  // The bitrate in the URLs as it is: a side-car's is 0, for which shaka-player leaves
  // $Bandwidth$ in the URL unresolved.
  write_segment_template(xml, t.name, ctx, timeline_10mhz(*ref), std::to_string(t.bitrate));
  xml.open("Representation")
      .attr("id", std::to_string(kTextGroup) + "_T_" + t.name)
      .attr("bandwidth", t.bitrate)
      .empty();
  xml.close();
}

}  // namespace

Result<std::string> render_dash(const model::Presentation& p, bool cmaf, const Options& options) {
  const std::string_view format = format_name(cmaf ? Format::kDashCmaf : Format::kDashCsf);
  int64_t longest_fragment = 0;
  for (const Track& t : p.tracks) {
    if (t.type == TrackType::kText) continue;
    for (const TimelineEntry& e : timeline_10mhz(t)) {
      longest_fragment = std::max(longest_fragment, e.duration);
    }
  }
  XmlWriter xml;
  xml.declaration();
  xml.open("MPD").attr("xmlns", "urn:mpeg:dash:schema:mpd:2011");
  if (options.common_encryption) {
    xml.attr("xmlns:cenc", kCencNamespace).attr("xmlns:dashif", kDashIfNamespace);
  }
  xml.attr("profiles", cmaf ? "urn:mpeg:dash:profile:isoff-live:2011,"
                              "urn:mpeg:dash:profile:cmaf:2019"
                            : "urn:mpeg:dash:profile:isoff-live:2011")
      .attr("type", "static")
      .attr("mediaPresentationDuration", iso_duration(presentation_duration_10mhz(p)))
      // AMS: PT7S for 6.016 s fragments, i.e. the longest fragment rounded up to a second.
      .attr("minBufferTime",
            "PT" +
                std::to_string(std::max<int64_t>(
                    1, (longest_fragment + kManifestTimescale - 1) / kManifestTimescale)) +
                "S");
  xml.children();
  xml.open("Period").children();
  uint32_t id = 0;
  for (TrackType type : {TrackType::kAudio, TrackType::kVideo}) {
    bool first = true;
    for (const TrackGroup& group : group_tracks(p, type)) {
      write_adaptation_set(
          xml, p, group, type,
          {format, options.common_encryption ? &*options.common_encryption : nullptr, cmaf, ++id,
           first, options.url_args(), p.start_10mhz});
      first = false;
    }
  }
  if (id == 0) return invalid_argument("dash: the presentation has neither video nor audio");
  for (const Track* t : tracks_of_type(p, TrackType::kText)) {
    if (t->codec != model::Codec::kWebVtt || !t->webvtt) continue;
    write_text_set(xml, p, *t,
                   {format, nullptr, cmaf, ++id, false, options.url_args(), p.start_10mhz});
  }
  xml.close();
  xml.close();
  return xml.take();
}

}  // namespace ams::manifest
