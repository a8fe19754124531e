#include "caps.h"

#include <gst/pbutils/pbutils.h>
#include <gst/tag/tag.h>

#include <numeric>

namespace ams::gst {
namespace {

GstBuffer* bytes_buffer(const Bytes& bytes) {
  return gst_buffer_new_memdup(bytes.data(), bytes.size());
}

// The frame rate as a fraction, from the first sample duration (constant frame rate content, as
// AMS requires); 0/1 (variable) when the samples disagree.
void frame_rate(const model::Track& t, gint& num, gint& den) {
  num = 0;
  den = 1;
  const auto& s = t.samples();
  if (s.size() < 2 || s[0].duration == 0) return;
  for (size_t i = 1; i < std::min<size_t>(s.size() - 1, 64); ++i) {
    if (s[i].duration != s[0].duration) return;
  }
  uint64_t g = std::gcd<uint64_t, uint64_t>(t.timescale, s[0].duration);
  num = static_cast<gint>(t.timescale / g);
  den = static_cast<gint>(s[0].duration / g);
}

}  // namespace

GstCaps* caps_for_track(const model::Track& t) {
  GstCaps* caps = nullptr;
  switch (t.codec) {
    case model::Codec::kH264:
    case model::Codec::kH265: {
      bool avc = t.codec == model::Codec::kH264;
      gint num = 0;
      gint den = 1;
      frame_rate(t, num, den);
      GstBuffer* cd = bytes_buffer(t.codec_private);
      // GStreamer names the H.264 sample entry avc1 "avc"; the others keep their fourcc.
      const char* format = t.fourcc == "avc1" ? "avc" : t.fourcc.c_str();
      caps = gst_caps_new_simple(avc ? "video/x-h264" : "video/x-h265", "stream-format",
                                 G_TYPE_STRING, format, "alignment", G_TYPE_STRING, "au",
                                 "codec_data", GST_TYPE_BUFFER, cd, "width", G_TYPE_INT,
                                 static_cast<gint>(t.width), "height", G_TYPE_INT,
                                 static_cast<gint>(t.height), "framerate", GST_TYPE_FRACTION, num,
                                 den, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr);
      gst_buffer_unref(cd);
      if (avc && t.codec_private.size() >= 4) {
        gst_codec_utils_h264_caps_set_level_and_profile(caps, t.codec_private.data() + 1, 3);
      }
      break;
    }
    case model::Codec::kAac: {
      GstBuffer* cd = bytes_buffer(t.codec_private);
      caps = gst_caps_new_simple("audio/mpeg", "mpegversion", G_TYPE_INT, 4, "stream-format",
                                 G_TYPE_STRING, "raw", "framed", G_TYPE_BOOLEAN, TRUE, "codec_data",
                                 GST_TYPE_BUFFER, cd, "rate", G_TYPE_INT,
                                 static_cast<gint>(t.sample_rate), "channels", G_TYPE_INT,
                                 static_cast<gint>(t.channels), nullptr);
      gst_buffer_unref(cd);
      if (!t.codec_private.empty()) {
        gst_codec_utils_aac_caps_set_level_and_profile(caps, t.codec_private.data(),
                                                       static_cast<guint>(t.codec_private.size()));
      }
      break;
    }
    case model::Codec::kAc3:
    case model::Codec::kEac3:
      caps = gst_caps_new_simple(t.codec == model::Codec::kAc3 ? "audio/x-ac3" : "audio/x-eac3",
                                 "framed", G_TYPE_BOOLEAN, TRUE, "alignment", G_TYPE_STRING,
                                 "frame", "rate", G_TYPE_INT, static_cast<gint>(t.sample_rate),
                                 "channels", G_TYPE_INT, static_cast<gint>(t.channels), nullptr);
      break;
    case model::Codec::kWebVtt:
      caps = gst_caps_new_empty_simple("application/x-subtitle-vtt");
      break;
    case model::Codec::kUnknown:
      caps = gst_caps_new_empty_simple("application/x-unknown");
      break;
  }
  return caps;
}

GstTagList* tags_for_track(const model::Track& t) {
  GstTagList* tags = gst_tag_list_new(GST_TAG_TITLE, t.name.c_str(), GST_TAG_CONTAINER_FORMAT,
                                      "ISO MP4/M4A", nullptr);
  if (!t.language.empty() && t.language != "und") {
    const gchar* code = gst_tag_get_language_code_iso_639_1(t.language.c_str());
    gst_tag_list_add(tags, GST_TAG_MERGE_REPLACE, GST_TAG_LANGUAGE_CODE,
                     code ? code : t.language.c_str(), nullptr);
  }
  if (t.bitrate) {
    gst_tag_list_add(tags, GST_TAG_MERGE_REPLACE, GST_TAG_BITRATE, static_cast<guint>(t.bitrate),
                     nullptr);
  }
  gst_tag_list_set_scope(tags, GST_TAG_SCOPE_STREAM);
  return tags;
}

}  // namespace ams::gst
