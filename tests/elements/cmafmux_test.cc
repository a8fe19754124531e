// amscmafmux in real pipelines on an asset made by `ams encode`: what it writes is read back by
// demuxers nobody here wrote (qtdemux, qtdemux in Smooth mode, ffprobe) and compared, sample by
// sample, with what qtdemux reads from the source MP4.
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/time.h"
#include "fmp4/writer.h"
#include "gstptr.h"
#include "model/builder.h"

namespace {

using ams::Bytes;
using ams::gst::GstPtr;
using ams::model::Track;
namespace fs = std::filesystem;

// One thing amscmafmux pushed: a buffer (the init segment) or a buffer list (a fragment).
struct Chunk {
  bool list = false;
  size_t buffers = 0;  // in the list
  Bytes bytes;         // a list's buffers back to back
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  guint64 offset = GST_BUFFER_OFFSET_NONE;
  GstBufferFlags flags = GstBufferFlags(0);
};

struct MuxRun {
  std::vector<Chunk> chunks;
  GstPtr<GstCaps> caps;
  std::string error;  // the first error message posted, if any
};

// A sample read back by qtdemux.
struct Frame {
  Bytes bytes;
  GstClockTime dts = GST_CLOCK_TIME_NONE;
  GstClockTime pts_running = GST_CLOCK_TIME_NONE;  // pts as running time (edit lists applied)
};

void append(Bytes& out, GstBuffer* buffer) {
  GstMapInfo map;
  ASSERT_TRUE(gst_buffer_map(buffer, &map, GST_MAP_READ));
  out.insert(out.end(), map.data, map.data + map.size);
  gst_buffer_unmap(buffer, &map);
}

Chunk chunk_of(GstSample* sample) {
  Chunk c;
  GstBuffer* first = gst_sample_get_buffer(sample);
  if (GstBufferList* list = gst_sample_get_buffer_list(sample)) {
    c.list = true;
    c.buffers = gst_buffer_list_length(list);
    for (guint i = 0; i < gst_buffer_list_length(list); ++i) {
      append(c.bytes, gst_buffer_list_get(list, i));
    }
    first = gst_buffer_list_length(list) ? gst_buffer_list_get(list, 0) : nullptr;
  } else if (first) {
    append(c.bytes, first);
  }
  if (first) {
    c.pts = GST_BUFFER_PTS(first);
    c.duration = GST_BUFFER_DURATION(first);
    c.offset = GST_BUFFER_OFFSET(first);
    c.flags = GstBufferFlags(GST_BUFFER_FLAGS(first));
  }
  return c;
}

std::string bus_error(GstElement* pipeline) {
  GstPtr<GstBus> bus(gst_element_get_bus(pipeline));
  GstPtr<GstMessage> msg(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
  if (!msg) return "";
  GError* err = nullptr;
  gst_message_parse_error(msg.get(), &err, nullptr);
  GstPtr<GError> owned(err);
  return err ? err->message : "error";
}

// Runs `launch` (which has an `appsink name=out`) to EOS or error and calls `on_sample` for
// every sample the sink gets.
template <typename F>
std::string run_to_end(const std::string& launch, F on_sample) {
  GError* err = nullptr;
  GstPtr<GstElement> pipeline(gst_parse_launch(launch.c_str(), &err));
  if (err) {
    std::string text = err->message;
    g_error_free(err);
    return "parse: " + text;
  }
  GstPtr<GstElement> sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
  g_object_set(sink.get(), "sync", FALSE, "buffer-list", TRUE, nullptr);
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  // Pull until EOS; an error ends the run too (no EOS follows it), and so does a stall.
  std::string error;
  for (int idle = 0; idle < 300 && error.empty();) {
    GstPtr<GstSample> sample(
        gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 100 * GST_MSECOND));
    if (sample) {
      on_sample(sample.get());
      idle = 0;
      continue;
    }
    if (gst_app_sink_is_eos(GST_APP_SINK(sink.get()))) break;
    error = bus_error(pipeline.get());
    ++idle;
  }
  if (error.empty()) error = bus_error(pipeline.get());
  if (error.empty() && !gst_app_sink_is_eos(GST_APP_SINK(sink.get()))) error = "no EOS";
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return error;
}

// Runs a pipeline without an appsink to EOS; returns the error message, if any.
std::string run_sinks(const std::string& launch) {
  GError* err = nullptr;
  GstPtr<GstElement> pipeline(gst_parse_launch(launch.c_str(), &err));
  if (err) {
    std::string text = err->message;
    g_error_free(err);
    return "parse: " + text;
  }
  GstPtr<GstBus> bus(gst_element_get_bus(pipeline.get()));
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  GstPtr<GstMessage> msg(gst_bus_timed_pop_filtered(
      bus.get(), 30 * GST_SECOND, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  if (!msg) return "timeout";
  if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_EOS) return "";
  GError* error = nullptr;
  gst_message_parse_error(msg.get(), &error, nullptr);
  GstPtr<GError> owned(error);
  return error->message;
}

MuxRun collect(const std::string& launch) {
  MuxRun run;
  run.error = run_to_end(launch, [&](GstSample* s) {
    run.chunks.push_back(chunk_of(s));
    if (!run.caps && gst_sample_get_caps(s)) run.caps.reset(gst_caps_ref(gst_sample_get_caps(s)));
  });
  return run;
}

std::vector<Frame> demux(const std::string& launch, std::string* error = nullptr) {
  std::vector<Frame> frames;
  std::string e = run_to_end(launch, [&](GstSample* s) {
    GstBuffer* b = gst_sample_get_buffer(s);
    Frame f;
    append(f.bytes, b);
    f.dts = GST_BUFFER_DTS(b);
    f.pts_running =
        gst_segment_to_running_time(gst_sample_get_segment(s), GST_FORMAT_TIME, GST_BUFFER_PTS(b));
    frames.push_back(std::move(f));
  });
  if (error) *error = e;
  EXPECT_EQ(e, "") << launch;
  return frames;
}

void write_file(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string box_type_at(const Bytes& b, size_t pos) {
  return b.size() >= pos + 8 ? std::string(b.begin() + pos + 4, b.begin() + pos + 8) : "";
}
std::string major_brand(const Bytes& b) {
  return b.size() >= 12 ? std::string(b.begin() + 8, b.begin() + 12) : "";
}

GstClockTime ns(int64_t ticks, uint32_t timescale) {
  return ticks < 0 ? 0 : static_cast<GstClockTime>(ams::rescale(ticks, timescale, GST_SECOND));
}

bool have(const char* program) {
  return std::system(("command -v " + std::string(program) + " >/dev/null 2>&1").c_str()) == 0;
}

// --- The asset, made once for the whole suite --------------------------------------------------

class CmafMuxTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gst_init(nullptr, nullptr);
    const char* root = std::getenv("AMS_BUILD_ROOT");
    if (!root) return;
    char tmpl[] = "/tmp/ams-cmafmux-XXXXXX";
    dir_ = new std::string(mkdtemp(tmpl));
    std::string cmd = std::string(root) + "/tools/ams encode --test-source 6 --ladder 360,180 " +
                      *dir_ + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) return;
    auto built = ams::model::build_presentation(*dir_ + "/testsrc.ism");
    if (!built) return;
    presentation_ = new std::shared_ptr<const ams::model::Presentation>(*built);
  }
  static void TearDownTestSuite() {
    if (dir_) fs::remove_all(*dir_);
    delete dir_;
    delete presentation_;
    dir_ = nullptr;
    presentation_ = nullptr;
  }
  void SetUp() override {
    if (!presentation_) GTEST_FAIL() << "no asset: AMS_BUILD_ROOT/tools/ams encode failed";
  }

  static const ams::model::Presentation& p() { return **presentation_; }
  static std::string ism() { return *dir_ + "/testsrc.ism"; }
  static std::string path(const std::string& name) { return *dir_ + "/" + name; }
  // The index of the smallest video rung, or of the audio track.
  static size_t track_index(ams::model::TrackType type) {
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < p().tracks.size(); ++i) {
      if (p().tracks[i].type != type) continue;
      if (best == SIZE_MAX || p().tracks[i].bitrate < p().tracks[best].bitrate) best = i;
    }
    return best;
  }
  static std::string mux(size_t track, const std::string& args) {
    return "filesrc location=" + ism() + " ! amsdemux tracks=#" + std::to_string(track) +
           " ! amscmafmux name=mux " + args;
  }
  // qtdemux's view of the source MP4's track.
  static std::vector<Frame> source_frames(const Track& t) {
    const char* pad = t.type == ams::model::TrackType::kVideo ? "video_0" : "audio_0";
    return demux("filesrc location=" + path(t.file) + " ! qtdemux name=d d." + pad +
                 " ! appsink name=out");
  }

  static std::string* dir_;
  static std::shared_ptr<const ams::model::Presentation>* presentation_;
};

std::string* CmafMuxTest::dir_ = nullptr;
std::shared_ptr<const ams::model::Presentation>* CmafMuxTest::presentation_ = nullptr;

// Every sample qtdemux reads from our file is the source's: same bytes, same decode time, and
// the same presentation time once each file's edit list (ours: none) is applied.
void expect_same_frames(const std::vector<Frame>& got, const std::vector<Frame>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 0; k < got.size(); ++k) {
    SCOPED_TRACE("sample " + std::to_string(k));
    EXPECT_EQ(got[k].bytes, want[k].bytes);
    EXPECT_EQ(got[k].dts, want[k].dts);
    // Each side rounds its own tick count to ns once: at most 1 ns apart.
    EXPECT_LE(std::max(got[k].pts_running, want[k].pts_running) -
                  std::min(got[k].pts_running, want[k].pts_running),
              1u);
  }
}

// The chunks of a whole-track run: the init segment, then one list per fragment in order, each
// stamped with its fragment's index, start and duration.
void expect_fragment_chunks(const MuxRun& run, const Track& t, bool with_header) {
  ASSERT_EQ(run.error, "");
  const size_t first = with_header ? 1 : 0;
  ASSERT_EQ(run.chunks.size(), first + t.fragments.size());
  if (with_header) {
    EXPECT_FALSE(run.chunks[0].list);
    EXPECT_TRUE(run.chunks[0].flags & GST_BUFFER_FLAG_HEADER);
    EXPECT_TRUE(run.chunks[0].flags & GST_BUFFER_FLAG_DISCONT);
  }
  for (size_t i = 0; i < t.fragments.size(); ++i) {
    SCOPED_TRACE("fragment " + std::to_string(i));
    const Chunk& c = run.chunks[first + i];
    const ams::model::Fragment& f = t.fragments[i];
    EXPECT_TRUE(c.list);
    EXPECT_FALSE(c.flags & GST_BUFFER_FLAG_HEADER);
    EXPECT_EQ(c.offset, i);
    EXPECT_EQ(c.pts, ns(f.start, t.timescale));
    EXPECT_EQ(c.duration, ns(f.start + f.duration, t.timescale) - ns(f.start, t.timescale));
  }
}

Bytes concatenated(const MuxRun& run) {
  Bytes all;
  for (const Chunk& c : run.chunks) all.insert(all.end(), c.bytes.begin(), c.bytes.end());
  return all;
}

size_t sample_count(const Track& t) {
  size_t n = 0;
  for (const auto& f : t.fragments) n += f.sample_count;
  return n;
}

// --- CMAF and DASH ---------------------------------------------------------------------------

struct Case {
  const char* format;
  const char* ftyp_brand;
  const char* styp_brand;
};

class CmafMuxFormatTest : public CmafMuxTest, public ::testing::WithParamInterface<Case> {};

TEST_P(CmafMuxFormatTest, VideoTrackFileHoldsTheSourceSamplesAndDecodes) {
  const Case& c = GetParam();
  const size_t index = track_index(ams::model::TrackType::kVideo);
  const Track& t = p().tracks[index];
  MuxRun run = collect(mux(index, std::string("format=") + c.format + " ! appsink name=out"));
  expect_fragment_chunks(run, t, true);
  ASSERT_FALSE(run.chunks.empty());

  // The init segment is also the caps' streamheader, and has the format's brands.
  const Bytes& init = run.chunks[0].bytes;
  EXPECT_EQ(major_brand(init), c.ftyp_brand);
  ASSERT_TRUE(run.caps);
  const GstStructure* s = gst_caps_get_structure(run.caps.get(), 0);
  EXPECT_STREQ(gst_structure_get_string(s, "variant"), "iso-fragmented");
  const GValue* headers = gst_structure_get_value(s, "streamheader");
  ASSERT_TRUE(headers && gst_value_array_get_size(headers) == 1);
  Bytes header;
  append(header, gst_value_get_buffer(gst_value_array_get_value(headers, 0)));
  EXPECT_EQ(header, init);
  EXPECT_EQ(major_brand(run.chunks[1].bytes), c.styp_brand);
  EXPECT_EQ(box_type_at(run.chunks[1].bytes, 0), "styp");

  const std::string file = path(std::string("track-") + c.format + ".mp4");
  write_file(file, concatenated(run));
  expect_same_frames(demux("filesrc location=" + file + " ! qtdemux ! appsink name=out"),
                     source_frames(t));
  std::vector<Frame> decoded =
      demux("filesrc location=" + file + " ! qtdemux ! h264parse ! avdec_h264 ! appsink name=out");
  EXPECT_EQ(decoded.size(), sample_count(t));
}

TEST_P(CmafMuxFormatTest, AudioTrackFileHoldsTheSourceSamplesAndDecodes) {
  const Case& c = GetParam();
  const size_t index = track_index(ams::model::TrackType::kAudio);
  const Track& t = p().tracks[index];
  MuxRun run = collect(mux(index, std::string("format=") + c.format + " ! appsink name=out"));
  expect_fragment_chunks(run, t, true);
  const std::string file = path(std::string("audio-") + c.format + ".mp4");
  write_file(file, concatenated(run));
  expect_same_frames(demux("filesrc location=" + file + " ! qtdemux ! appsink name=out"),
                     source_frames(t));
  std::vector<Frame> decoded =
      demux("filesrc location=" + file + " ! qtdemux ! aacparse ! avdec_aac ! appsink name=out");
  EXPECT_EQ(decoded.size(), sample_count(t));
}

TEST_P(CmafMuxFormatTest, MultifilesinkCutsOneFilePerFragment) {
  const Case& c = GetParam();
  const size_t index = track_index(ams::model::TrackType::kVideo);
  const Track& t = p().tracks[index];
  MuxRun run = collect(mux(index, std::string("format=") + c.format + " ! appsink name=out"));
  ASSERT_EQ(run.error, "");
  const std::string dir = path(std::string("segs-") + c.format);
  fs::create_directory(dir);
  EXPECT_EQ(run_sinks(mux(index, std::string("format=") + c.format +
                                     " ! multifilesink next-file=buffer location=" + dir +
                                     "/seg-%05d.m4s")),
            "");
  ASSERT_EQ(run.chunks.size(), 1 + t.fragments.size());
  for (size_t i = 0; i < run.chunks.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "/seg-%05zu.m4s", i);
    EXPECT_EQ(read_file(dir + name), run.chunks[i].bytes) << name;
  }
  char past[32];
  std::snprintf(past, sizeof past, "/seg-%05zu.m4s", run.chunks.size());
  EXPECT_FALSE(fs::exists(dir + past));
}

INSTANTIATE_TEST_SUITE_P(Formats, CmafMuxFormatTest,
                         ::testing::Values(Case{"cmaf", "cmfc", "cmfs"},
                                           Case{"dash", "iso6", "msdh"}),
                         [](const auto& info) { return std::string(info.param.format); });

TEST_F(CmafMuxTest, FfprobeCountsEveryFrameOfTheCmafTrackFile) {
  if (!have("ffprobe")) GTEST_FAIL() << "no ffprobe";
  const size_t index = track_index(ams::model::TrackType::kVideo);
  const Track& t = p().tracks[index];
  const std::string file = path("track.cmfv");
  MuxRun run = collect(mux(index, "format=cmaf ! appsink name=out"));
  ASSERT_EQ(run.error, "");
  write_file(file, concatenated(run));
  std::string cmd =
      "ffprobe -v error -count_frames -select_streams v:0 -show_entries "
      "stream=codec_name,nb_read_frames -of csv=p=0 " +
      file;
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_TRUE(pipe);
  char line[256] = {};
  ASSERT_TRUE(std::fgets(line, sizeof line, pipe));
  pclose(pipe);
  EXPECT_EQ(std::string(line), "h264," + std::to_string(sample_count(t)) + "\n");
}

TEST_F(CmafMuxTest, OneFragmentAsTheServerAsksForIt) {
  const size_t index = track_index(ams::model::TrackType::kVideo);
  const Track& t = p().tracks[index];
  ASSERT_GE(t.fragments.size(), 2u);
  MuxRun whole = collect(mux(index, "format=dash ! appsink name=out"));
  ASSERT_EQ(whole.error, "");
  MuxRun one =
      collect("filesrc location=" + ism() + " ! amsdemux tracks=#" + std::to_string(index) +
              " fragment-time=" + std::to_string(t.fragment_start_10mhz(1)) +
              " ! amscmafmux format=dash ! appsink name=out");
  ASSERT_EQ(one.error, "");
  ASSERT_EQ(one.chunks.size(), 2u);  // the init segment, then fragment 1
  EXPECT_EQ(one.chunks[0].bytes, whole.chunks[0].bytes);
  EXPECT_EQ(one.chunks[1].offset, 1u);
  EXPECT_EQ(one.chunks[1].bytes, whole.chunks[2].bytes);
}

// What the streaming endpoint asks for: one fragment and no init segment. The fragment's list
// is its header and then the samples' own memory, in fewer buffers than samples (one per run
// amsdemux read), and its bytes are those of the whole-track run.
TEST_F(CmafMuxTest, WithoutTheInitSegmentOnlyTheFragmentIsWritten) {
  const size_t index = track_index(ams::model::TrackType::kVideo);
  const Track& t = p().tracks[index];
  ASSERT_GE(t.fragments.size(), 2u);
  MuxRun whole = collect(mux(index, "format=cmaf ! appsink name=out"));
  ASSERT_EQ(whole.error, "");
  MuxRun one =
      collect("filesrc location=" + ism() + " ! amsdemux tracks=#" + std::to_string(index) +
              " fragment-time=" + std::to_string(t.fragment_start_10mhz(1)) +
              " ! amscmafmux format=cmaf init-segment=false ! appsink name=out");
  ASSERT_EQ(one.error, "");
  ASSERT_EQ(one.chunks.size(), 1u);  // no init segment: fragment 1 alone
  EXPECT_TRUE(one.chunks[0].list);
  EXPECT_FALSE(one.chunks[0].flags & GST_BUFFER_FLAG_HEADER);
  EXPECT_EQ(one.chunks[0].offset, 1u);
  EXPECT_EQ(one.chunks[0].bytes, whole.chunks[2].bytes);
  EXPECT_GE(one.chunks[0].buffers, 2u);  // the header, then the payload as it was read
  EXPECT_LT(one.chunks[0].buffers, 1u + t.fragments[1].sample_count);
  auto streamheader =
      one.caps ? gst_structure_get_value(gst_caps_get_structure(one.caps.get(), 0), "streamheader")
               : nullptr;
  EXPECT_EQ(streamheader, nullptr);
}

// --- Init segment only -----------------------------------------------------------------------

TEST_F(CmafMuxTest, InitOnlyWritesTheInitSegmentAndReadsNoSample) {
  const size_t index = track_index(ams::model::TrackType::kVideo);
  GError* err = nullptr;
  std::string launch = mux(index, "format=cmaf init-only=true ! appsink name=out");
  GstPtr<GstElement> pipeline(gst_parse_launch(launch.c_str(), &err));
  ASSERT_EQ(err, nullptr);
  GstPtr<GstElement> muxer(gst_bin_get_by_name(GST_BIN(pipeline.get()), "mux"));
  GstPtr<GstPad> sinkpad(gst_element_get_static_pad(muxer.get(), "sink"));
  guint samples_in = 0;
  gst_pad_add_probe(
      sinkpad.get(), GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo*, gpointer n) {
        ++*static_cast<guint*>(n);
        return GST_PAD_PROBE_OK;
      },
      &samples_in, nullptr);
  GstPtr<GstElement> sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  std::vector<Chunk> chunks;
  while (GstSample* s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 20 * GST_SECOND)) {
    GstPtr<GstSample> sample(s);
    chunks.push_back(chunk_of(s));
  }
  EXPECT_TRUE(gst_app_sink_is_eos(GST_APP_SINK(sink.get())));
  EXPECT_EQ(bus_error(pipeline.get()), "");
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);

  EXPECT_EQ(samples_in, 0u);  // amsdemux was told no payload is needed
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_TRUE(chunks[0].flags & GST_BUFFER_FLAG_HEADER);
  ams::ByteWriter w;
  ASSERT_TRUE(
      ams::fmp4::write_init_segment(p().tracks[index], ams::fmp4::Variant::kCmaf, w).is_ok());
  EXPECT_EQ(chunks[0].bytes, w.bytes());
}

TEST_F(CmafMuxTest, InitOnlyRefusesSmooth) {
  MuxRun run = collect(mux(track_index(ams::model::TrackType::kVideo),
                           "format=smooth init-only=true ! appsink name=out"));
  EXPECT_EQ(run.error, "format=smooth has no init segment");
  EXPECT_TRUE(run.chunks.empty());
}

// --- Common encryption -------------------------------------------------------------------------

constexpr char kKeyId[] = "3f0c1122-3344-4566-8788-99aabbccddee";
constexpr char kKey[] = "000102030405060708090a0b0c0d0e0f";

// What ffmpeg reads of every packet: "size md5" lines (stream copy: the sample bytes).
std::string packet_md5s(const std::string& args, const std::string& file) {
  std::string cmd =
      "ffmpeg -v error " + args + " -i " + file + " -map 0 -c copy -f framemd5 - 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return "popen failed";
  std::string out;
  char line[512];
  while (std::fgets(line, sizeof line, pipe)) {
    std::string l = line;
    if (l.empty() || l[0] == '#') continue;
    // stream, dts, pts, duration, size, hash[, side data]
    std::vector<std::string> fields;
    size_t at = 0;
    while (at != std::string::npos && fields.size() < 6) {
      size_t comma = l.find(',', at);
      std::string f = l.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      f.erase(0, f.find_first_not_of(" \t"));
      f.erase(f.find_last_not_of(" \t\n") + 1);
      fields.push_back(f);
      at = comma == std::string::npos ? comma : comma + 1;
    }
    out += fields.size() == 6 ? fields[4] + " " + fields[5] + "\n" : "?" + l;
  }
  pclose(pipe);
  return out;
}

std::string shaka_packager() {
  const char* root = g_getenv("AMS_SOURCE_ROOT");
  return std::string(root != nullptr ? root : ".") +
         "/tests/e2e/node_modules/shaka-packager/bin/packager-linux-x64";
}

// gst-launch's way to CENC: the properties. Shaka Packager decrypts the whole track file back
// to exactly the samples of the clear one.
TEST_F(CmafMuxTest, EncryptionPropertiesWriteCencThatShakaPackagerDecrypts) {
  ASSERT_TRUE(g_file_test(shaka_packager().c_str(), G_FILE_TEST_IS_EXECUTABLE))
      << "Shaka Packager is missing: " << shaka_packager();
  for (auto type : {ams::model::TrackType::kVideo, ams::model::TrackType::kAudio}) {
    const size_t index = track_index(type);
    const bool video = type == ams::model::TrackType::kVideo;
    MuxRun clear = collect(mux(index, "format=cmaf ! appsink name=out"));
    ASSERT_EQ(clear.error, "");
    MuxRun enc = collect(mux(index, std::string("format=cmaf encryption=cenc key-id=") + kKeyId +
                                        " key=" + kKey + " ! appsink name=out"));
    ASSERT_EQ(enc.error, "");
    ASSERT_EQ(enc.chunks.size(), clear.chunks.size());
    const Bytes enc_bytes = concatenated(enc);
    const std::string enc_text(enc_bytes.begin(), enc_bytes.end());
    EXPECT_NE(enc_text.find(video ? "encv" : "enca"), std::string::npos);
    EXPECT_NE(enc_text.find("senc"), std::string::npos);
    write_file(path("clear.mp4"), concatenated(clear));
    write_file(path("cenc.mp4"), enc_bytes);
    const std::string want = packet_md5s("", path("clear.mp4"));
    ASSERT_FALSE(want.empty());
    const std::string dec = path("decrypted.mp4");
    ::unlink(dec.c_str());
    std::string kid = kKeyId;
    kid.erase(std::remove(kid.begin(), kid.end(), '-'), kid.end());
    const std::string run = shaka_packager() + " in=" + path("cenc.mp4") +
                            ",stream=" + (video ? "video" : "audio") + ",output=" + dec +
                            " --enable_raw_key_decryption --keys key_id=" + kid + ":key=" + kKey +
                            " >" + path("packager.log") + " 2>&1";
    ASSERT_EQ(std::system(run.c_str()), 0) << "Shaka Packager failed: " << path("packager.log");
    EXPECT_TRUE(packet_md5s("", dec) == want) << (video ? "video" : "audio");
    EXPECT_NE(packet_md5s("", path("cenc.mp4")), want);
  }
}

TEST_F(CmafMuxTest, EncryptionWithoutAKeyOrOfSmoothIsAnError) {
  const size_t index = track_index(ams::model::TrackType::kVideo);
  MuxRun no_key = collect(mux(index, "format=cmaf encryption=cenc ! appsink name=out"));
  EXPECT_EQ(no_key.error, "encryption=cenc needs key-id and key of 32 hex digits each");
  MuxRun bad =
      collect(mux(index, "format=cmaf encryption=aes key-id=00 key=00 ! appsink name=out"));
  EXPECT_EQ(bad.error, "encryption=aes");
  MuxRun smooth = collect(mux(index, std::string("format=smooth encryption=cenc key-id=") + kKeyId +
                                         " key=" + kKey + " ! appsink name=out"));
  EXPECT_EQ(smooth.error, "format=smooth is not encrypted by amscmafmux");
}

// --- Smooth ------------------------------------------------------------------------------------

// tfxd (PIFF): uuid 6d1d9b05-42d5-44e6-80e2-141daff757b2, version 1: time and duration, 64 bits.
struct Tfxd {
  uint64_t time = 0;
  uint64_t duration = 0;
};
std::optional<Tfxd> find_tfxd(const Bytes& b) {
  static const uint8_t kUuid[16] = {0x6d, 0x1d, 0x9b, 0x05, 0x42, 0xd5, 0x44, 0xe6,
                                    0x80, 0xe2, 0x14, 0x1d, 0xaf, 0xf7, 0x57, 0xb2};
  auto it = std::search(b.begin(), b.end(), std::begin(kUuid), std::end(kUuid));
  if (it == b.end() || b.end() - it < 16 + 4 + 16 || it[16] != 1) return std::nullopt;
  ams::ByteReader r(ams::ByteSpan(&*it + 20, 16));
  Tfxd t;
  r.read_u64(t.time);
  r.read_u64(t.duration);
  return t;
}

TEST_F(CmafMuxTest, SmoothFragmentsCarryTheManifestTimesAndDecodeInQtdemuxSmoothMode) {
  const size_t index = track_index(ams::model::TrackType::kVideo);
  const Track& t = p().tracks[index];
  MuxRun run = collect(mux(index, "format=smooth ! appsink name=out"));
  expect_fragment_chunks(run, t, false);
  ASSERT_TRUE(run.caps);
  const GstStructure* s = gst_caps_get_structure(run.caps.get(), 0);
  EXPECT_STREQ(gst_structure_get_string(s, "variant"), "mss-fragmented");
  EXPECT_FALSE(gst_structure_has_field(s, "streamheader"));
  for (size_t i = 0; i < run.chunks.size(); ++i) {
    SCOPED_TRACE("fragment " + std::to_string(i));
    EXPECT_EQ(box_type_at(run.chunks[i].bytes, 0), "moof");
    std::optional<Tfxd> tfxd = find_tfxd(run.chunks[i].bytes);
    ASSERT_TRUE(tfxd);
    const int64_t start = std::max<int64_t>(0, t.fragment_start_10mhz(i));
    const int64_t end = ams::rescale(t.fragments[i].start + t.fragments[i].duration, t.timescale,
                                     ams::kManifestTimescale);
    EXPECT_EQ(tfxd->time, static_cast<uint64_t>(start));
    EXPECT_EQ(tfxd->duration, static_cast<uint64_t>(end - start));
  }

  // What mssdemux does: hand the fragments to qtdemux with caps naming the media.
  std::vector<Frame> frames = demux(mux(index, "format=smooth ! qtdemux ! appsink name=out"));
  std::vector<Frame> source = source_frames(t);
  ASSERT_EQ(frames.size(), source.size());
  // In Smooth mode qtdemux cannot move the segment, so it presents the whole track later by the
  // largest negative composition offset (it shifts pts so that none precedes its dts; in the
  // CMAF test it moves the segment start by the same amount). Times relative to the first
  // sample are the source's, to the 100 ns of the 10 MHz timescale.
  ASSERT_FALSE(frames.empty());
  for (size_t k = 0; k < frames.size(); ++k) {
    EXPECT_EQ(frames[k].bytes, source[k].bytes) << "sample " << k;
    int64_t got = static_cast<int64_t>(frames[k].pts_running - frames[0].pts_running);
    int64_t want = static_cast<int64_t>(source[k].pts_running - source[0].pts_running);
    EXPECT_LT(std::abs(got - want), 100) << "sample " << k;
  }
  EXPECT_EQ(demux(mux(index, "format=smooth ! qtdemux ! h264parse ! avdec_h264 ! appsink name=out"))
                .size(),
            sample_count(t));
}

TEST_F(CmafMuxTest, SmoothFragmentsDecodeAfterAClientBuiltInitSegment) {
  const size_t index = track_index(ams::model::TrackType::kVideo);
  Track client = p().tracks[index];
  // A Smooth client builds the moov from the client manifest: TimeScale 10 MHz.
  client.duration = client.duration_10mhz();
  client.timescale = ams::kManifestTimescale;
  ams::ByteWriter w;
  ASSERT_TRUE(ams::fmp4::write_init_segment(client, ams::fmp4::Variant::kDash, w).is_ok());
  MuxRun run = collect(mux(index, "format=smooth ! appsink name=out"));
  ASSERT_EQ(run.error, "");
  Bytes file = w.take();
  Bytes fragments = concatenated(run);
  file.insert(file.end(), fragments.begin(), fragments.end());
  write_file(path("smooth.mp4"), file);
  std::vector<Frame> frames =
      demux("filesrc location=" + path("smooth.mp4") + " ! qtdemux ! appsink name=out");
  std::vector<Frame> source = source_frames(p().tracks[index]);
  ASSERT_EQ(frames.size(), source.size());
  for (size_t k = 0; k < frames.size(); ++k) EXPECT_EQ(frames[k].bytes, source[k].bytes);
  EXPECT_EQ(demux("filesrc location=" + path("smooth.mp4") +
                  " ! qtdemux ! h264parse ! avdec_h264 ! appsink name=out")
                .size(),
            source.size());
}

// --- Without amsdemux ----------------------------------------------------------------------------

TEST(CmafMuxAlone, SaysItNeedsAmsdemuxUpstream) {
  gst_init(nullptr, nullptr);
  MuxRun run = collect(
      "fakesrc num-buffers=3 sizetype=fixed sizemax=64 ! "
      "capsfilter caps=video/x-h264,stream-format=avc,alignment=au ! amscmafmux ! "
      "appsink name=out");
  EXPECT_EQ(run.error, "amscmafmux needs amsdemux upstream");
  EXPECT_TRUE(run.chunks.empty());
}

}  // namespace
