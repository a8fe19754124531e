// The one GStreamer pipeline of `ams encode`: decode (or generate) once, scale and encode every
// rung, encode the audio once and mux it into every rung's MP4.
//
//   filesrc ! decodebin ─┬ videoconvert ! videorate ! tee ┬ queue ! videoscale ! x264enc ! mp4mux
//   (or videotestsrc)    │                                └ … one branch per rung     ↑    !
//   filesink (or audiotestsrc)    └ audioconvert ! audioresample ! avenc_aac ! taginject ! tee ┘
//   (every mux) audiotestsrc ! avenc_aac ! mp4mux ! filesink           (one per additional
//   language)
//
// Key frames: a pad probe before the video tee sends a force-key-unit event every gop_frames
// frames, so that every rung starts a closed GOP (IDR) on the same source frame; x264enc also gets
// key-int-max=gop_frames and scenecut=0, so that it never adds a key frame of its own.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "encode_plan.h"

namespace ams::tools {

struct EncodeJob {
  std::string input_path;  // empty: a moving test pattern and a sine tone
  bool input_has_audio = true;
  int test_width = 1280;  // test pattern size
  int test_height = 720;
  int fps_n = 30;  // constant output frame rate
  int fps_d = 1;
  GstClockTime duration = GST_CLOCK_TIME_NONE;  // test length or input duration
  uint32_t gop_frames = 60;
  std::string speed_preset = "veryfast";  // x264enc speed-preset

  struct Video {
    Rung rung;
    std::string path;
  };
  std::vector<Video> videos;  // highest first

  struct ExtraAudio {
    std::string language;
    std::string path;
    double frequency = 660;  // Hz of the placeholder tone
  };
  // Muxed audio: present when the plan has audio.
  bool audio = false;
  uint32_t audio_kbps = 128;
  std::string audio_language = "und";
  std::vector<ExtraAudio> extra_audio;
};

// Builds the pipeline, runs it on a GLib main loop until EOS, error or Ctrl-C, and prints the
// progress on stderr (a percentage updated every second on a terminal, else a line every 5 s).
// Errors carry the GStreamer error text.
Status run_encode_pipeline(const EncodeJob& job);

}  // namespace ams::tools
