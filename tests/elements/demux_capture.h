// Runs `filesrc ! <demuxer>` with a fakesink on every source pad and records, per pad and in the
// order they pass, the events and buffers the demuxer pushed. Shared by the amsdemux tests: the
// cross-check against qtdemux and the element tests.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "gstptr.h"

namespace ams::test {

struct CapturedBuffer {
  Bytes data;
  // Running times (gst_segment_to_running_time_full): sign (+1, -1, 0 = none) and value.
  int pts_sign = 0;
  guint64 pts_rt = 0;
  int dts_sign = 0;
  guint64 dts_rt = 0;
  GstClockTime pts = GST_CLOCK_TIME_NONE;  // raw, as pushed
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  bool delta = false;
  bool discont = false;
  guint64 offset = GST_BUFFER_OFFSET_NONE;
};

// A custom downstream event, and how many buffers had passed before it.
struct CapturedEvent {
  std::string name;
  size_t before_buffer = 0;
  gst::GstPtr<GstStructure> fields;
};

struct PadCapture {
  std::string stream_id;
  gst::GstPtr<GstCaps> caps;
  gst::GstPtr<GstTagList> tags;
  std::vector<CapturedEvent> events;
  std::vector<CapturedBuffer> buffers;
  size_t flushes = 0;  // flush-stop events seen (buffers before the last one are dropped)
  bool eos = false;
};

struct DemuxRun {
  std::map<std::string, PadCapture> pads;  // by source pad name
  bool eos = false;
  GQuark error_domain = 0;
  int error_code = 0;
  std::string error;  // message (debug), empty when none
};

// `demuxer` is a gst-launch fragment ("qtdemux", "amsdemux tracks=video"). The sinks do not
// preroll (one streaming thread feeds every pad, and no queue is needed). With `on_first_buffer`,
// it runs on the calling thread once the first buffer arrived (a seek, for instance) and returns
// the seqnum of the EOS to wait for (0: any); what came before a flush is dropped from the
// capture.
DemuxRun run_demux(const std::string& location, const std::string& demuxer,
                   const std::function<guint32(GstElement* pipeline)>& on_first_buffer = nullptr,
                   GstClockTime timeout = 60 * GST_SECOND);

// Test media, made once per process under one temp folder (remove_asset_dir at exit). Each
// returns the path, or "" with `why` filled when the tools to make it are missing or fail.
std::string asset_dir();
void remove_asset_dir();
bool have_ffmpeg();
// `ams encode --test-source 4` at 320x180 with two rungs: the .ism.
std::string ams_encode_asset(std::string& why);
// ffmpeg -v error -y ARGS DIR/NAME (made once per name).
std::string ffmpeg_asset(const std::string& name, const std::vector<std::string>& args,
                         std::string& why);
// Writes `text` to DIR/NAME and returns the path.
std::string write_asset_file(const std::string& name, const std::string& text);

// A caps field as text ("" when absent), and a buffer-typed field's bytes.
std::string caps_field(const GstCaps* caps, const char* field);
std::optional<Bytes> caps_buffer(const GstCaps* caps, const char* field);

}  // namespace ams::test
