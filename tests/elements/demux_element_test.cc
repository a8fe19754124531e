// amsdemux as an element: what it tells downstream (caps, tags, the ams-presentation and
// ams-fragment events), what its properties select, seeking, and errors on bad input.
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <string>

#include "demux_capture.h"
#include "model/builder.h"
#include "test_asset.h"

namespace ams::test {
namespace {

struct Asset {
  std::string ism;
  std::shared_ptr<const model::Presentation> presentation;
};

// The ams encode asset and its model, or a failure.
Asset encoded_asset() {
  Asset a;
  std::string why;
  a.ism = ams_encode_asset(why);
  EXPECT_FALSE(a.ism.empty()) << why;
  if (a.ism.empty()) return a;
  auto p = model::build_presentation(a.ism);
  EXPECT_TRUE(p) << p.status().to_string();
  if (p) a.presentation = *p;
  return a;
}

guint uint_field(const GstStructure* s, const char* name) {
  guint v = G_MAXUINT;
  gst_structure_get_uint(s, name, &v);
  return v;
}

guint64 uint64_field(const GstStructure* s, const char* name) {
  guint64 v = G_MAXUINT64;
  gst_structure_get_uint64(s, name, &v);
  return v;
}

std::vector<const CapturedEvent*> fragment_events(const PadCapture& pad) {
  std::vector<const CapturedEvent*> out;
  for (const CapturedEvent& e : pad.events) {
    if (e.name == "ams-fragment") out.push_back(&e);
  }
  return out;
}

// Every fragment event announces the fragment of the model that the buffers after it carry.
void expect_fragments(const PadCapture& pad, const model::Track& t, size_t first, size_t count) {
  auto events = fragment_events(pad);
  ASSERT_EQ(events.size(), count);
  size_t buffers = 0;
  for (size_t k = 0; k < count; ++k) {
    const model::Fragment& f = t.fragments[first + k];
    const GstStructure* s = events[k]->fields.get();
    EXPECT_EQ(uint_field(s, "fragment-index"), first + k);
    EXPECT_EQ(uint64_field(s, "start"), static_cast<guint64>(t.fragment_start_10mhz(first + k)));
    EXPECT_EQ(events[k]->before_buffer, buffers);
    ASSERT_LT(buffers, pad.buffers.size());
    EXPECT_EQ(pad.buffers[buffers].offset, f.first_sample);
    EXPECT_FALSE(pad.buffers[buffers].delta) << "fragment " << first + k << " starts on a delta";
    buffers += f.sample_count;
  }
  EXPECT_EQ(pad.buffers.size(), buffers);
}

TEST(DemuxElement, CapsTagsAndEventsMatchTheModel) {
  Asset a = encoded_asset();
  ASSERT_TRUE(a.presentation);
  DemuxRun run = run_demux(a.ism, "amsdemux");
  ASSERT_TRUE(run.eos) << run.error;
  ASSERT_EQ(run.pads.size(), 3u);
  std::map<model::TrackType, int> counts;
  for (size_t i = 0; i < a.presentation->tracks.size(); ++i) {
    const model::Track& t = a.presentation->tracks[i];
    const std::string name =
        std::string(model::track_type_name(t.type)) + "_" + std::to_string(counts[t.type]++);
    SCOPED_TRACE(name);
    const PadCapture& pad = run.pads[name];
    ASSERT_TRUE(pad.caps);
    EXPECT_EQ(caps_buffer(pad.caps.get(), "codec_data"), t.codec_private);
    if (t.type == model::TrackType::kVideo) {
      EXPECT_EQ(caps_field(pad.caps.get(), "stream-format"), "avc");
      EXPECT_EQ(caps_field(pad.caps.get(), "height"), std::to_string(t.height));
    } else {
      EXPECT_EQ(caps_field(pad.caps.get(), "stream-format"), "raw");
      EXPECT_EQ(caps_field(pad.caps.get(), "rate"), "48000");
      EXPECT_EQ(caps_field(pad.caps.get(), "channels"), "2");
    }
    ASSERT_TRUE(pad.tags);
    gchar* title = nullptr;
    guint bitrate = 0;
    EXPECT_TRUE(gst_tag_list_get_string(pad.tags.get(), GST_TAG_TITLE, &title));
    EXPECT_EQ(std::string(title ? title : ""), t.name);
    g_free(title);
    EXPECT_TRUE(gst_tag_list_get_uint(pad.tags.get(), GST_TAG_BITRATE, &bitrate));
    EXPECT_EQ(bitrate, t.bitrate);
    ASSERT_FALSE(pad.events.empty());
    EXPECT_EQ(pad.events[0].name, "ams-presentation");
    EXPECT_EQ(pad.events[0].before_buffer, 0u);
    EXPECT_EQ(uint_field(pad.events[0].fields.get(), "track-index"), i);
    EXPECT_TRUE(pad.buffers[0].discont);
    expect_fragments(pad, t, 0, t.fragments.size());
  }
}

TEST(DemuxElement, TracksSelectsOneRung) {
  Asset a = encoded_asset();
  ASSERT_TRUE(a.presentation);
  const model::Track& low = *a.presentation->tracks_of(model::TrackType::kVideo).back();
  DemuxRun run = run_demux(a.ism, "amsdemux tracks=video@" + std::to_string(low.bitrate));
  ASSERT_TRUE(run.eos) << run.error;
  ASSERT_EQ(run.pads.size(), 1u);
  EXPECT_EQ(caps_field(run.pads["video_0"].caps.get(), "height"), std::to_string(low.height));

  run = run_demux(a.ism, "amsdemux tracks=nosuchtrack");
  EXPECT_EQ(run.error_domain, GST_RESOURCE_ERROR) << run.error;
  EXPECT_EQ(run.error_code, GST_RESOURCE_ERROR_NOT_FOUND);
}

TEST(DemuxElement, FragmentTimeEmitsExactlyThatFragment) {
  Asset a = encoded_asset();
  ASSERT_TRUE(a.presentation);
  const model::Track& video = a.presentation->tracks[0];
  ASSERT_GE(video.fragments.size(), 2u);
  const std::string t1 = std::to_string(video.fragment_start_10mhz(1));
  DemuxRun run = run_demux(
      a.ism, "amsdemux tracks=video@" + std::to_string(video.bitrate) + " fragment-time=" + t1);
  ASSERT_TRUE(run.eos) << run.error;
  expect_fragments(run.pads["video_0"], video, 1, 1);
  EXPECT_TRUE(run.pads["video_0"].buffers[0].discont);

  run = run_demux(a.ism, "amsdemux tracks=video@" + std::to_string(video.bitrate) +
                             " fragment-time=0 fragment-count=2");
  ASSERT_TRUE(run.eos) << run.error;
  expect_fragments(run.pads["video_0"], video, 0, 2);

  run = run_demux(a.ism, "amsdemux fragment-time=" + std::to_string(std::stoll(t1) + 1));
  EXPECT_EQ(run.error_domain, GST_RESOURCE_ERROR) << run.error;
  EXPECT_EQ(run.error_code, GST_RESOURCE_ERROR_NOT_FOUND);
}

TEST(DemuxElement, FlushingSeekLandsOnTheFragmentContainingThePosition) {
  Asset a = encoded_asset();
  ASSERT_TRUE(a.presentation);
  const model::Track& video = a.presentation->tracks[0];
  ASSERT_GE(video.fragments.size(), 2u);
  const model::Fragment& f = video.fragments[1];
  const GstClockTime target =
      static_cast<GstClockTime>(rescale(f.start + f.duration / 2, video.timescale, GST_SECOND));
  bool seeked = false;
  DemuxRun run = run_demux(
      a.ism, "amsdemux tracks=video@" + std::to_string(video.bitrate), [&](GstElement* p) {
        GstEvent* seek =
            gst_event_new_seek(1.0, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH, GST_SEEK_TYPE_SET,
                               static_cast<gint64>(target), GST_SEEK_TYPE_NONE, -1);
        const guint32 seqnum = gst_event_get_seqnum(seek);
        seeked = gst_element_send_event(p, seek);
        return seqnum;
      });
  ASSERT_TRUE(run.eos) << run.error;
  ASSERT_TRUE(seeked);
  const PadCapture& pad = run.pads["video_0"];
  EXPECT_GE(pad.flushes, 1u);
  expect_fragments(pad, video, 1, video.fragments.size() - 1);
}

void expect_error(const std::string& location, GQuark domain, int code = -1) {
  SCOPED_TRACE(location);
  DemuxRun run = run_demux(location, "amsdemux", nullptr, 20 * GST_SECOND);
  EXPECT_FALSE(run.eos);
  EXPECT_EQ(run.error_domain, domain) << run.error;
  if (code >= 0) {
    EXPECT_EQ(run.error_code, code) << run.error;
  }
  EXPECT_TRUE(run.pads.empty() || run.pads.begin()->second.buffers.empty());
}

TEST(DemuxElement, BadInputGivesAnErrorNotACrash) {
  Asset a = encoded_asset();
  ASSERT_TRUE(a.presentation);
  const std::string mp4 =
      read_file(a.ism.substr(0, a.ism.rfind('/')) + "/" + a.presentation->tracks[0].file);
  ASSERT_GT(mp4.size(), 1000u);
  // moov comes first in the encoder's files: cutting at 600 bytes breaks the index.
  expect_error(write_asset_file("truncated_moov.mp4", mp4.substr(0, 600)), GST_STREAM_ERROR,
               GST_STREAM_ERROR_DEMUX);
  std::string noise(4096, '\0');
  for (size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<char>((i * 2654435761u) >> 13);
  expect_error(write_asset_file("noise.mp4", noise), GST_STREAM_ERROR, GST_STREAM_ERROR_DEMUX);
  const std::string ism_head =
      "<?xml version=\"1.0\"?><smil xmlns=\"http://www.w3.org/2001/SMIL20/Language\"><body>"
      "<switch><video src=\"";
  const std::string ism_tail = "\" systemBitrate=\"1\"/></switch></body></smil>";
  expect_error(write_asset_file("escape.ism", ism_head + "../x.mp4" + ism_tail), GST_STREAM_ERROR);
  expect_error(write_asset_file("missing.ism", ism_head + "missing.mp4" + ism_tail),
               GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND);
  expect_error(write_asset_file("notxml.ism", "this is { not xml"), GST_STREAM_ERROR,
               GST_STREAM_ERROR_DEMUX);
}

}  // namespace
}  // namespace ams::test
