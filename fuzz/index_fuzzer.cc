// libFuzzer target over the path every request of the server takes through an asset's index: the
// input becomes a file, model::build_presentation reads it, and if that succeeds everything the
// server derives from the index alone is computed: the master manifest of every format (with and
// without audiotrack= / audio-only=false), every HLS media and I-frame playlist, every init
// segment, the size of every fragment of every fMP4 variant and of every TS segment (HLS v4 alone,
// HLS v3 with the audio muxed) with its continuity counters. Nothing may crash, overrun, divide by
// zero or allocate out of proportion to the input (issue 11, item 3). What is derived is shared
// with presentation_fuzzer.cc (presentation_driver.h), which writes the bytes as well.
//
// An input is one MP4 file; an input that starts with '<' is, after that byte, an .ism up to its
// first NUL byte, then the MP4 it may name as "a.mp4" (a WebVTT "a.vtt" is there too), so that
// the .ism-driven parts of the builder (text streams, track selection) are reached as well. GLib
// criticals abort: each is a precondition the input broke (the server only logs them).
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "model/builder.h"
#include "model/index_cache.h"
#include "presentation_driver.h"

namespace {

using ams::fuzz::write_file;
namespace model = ams::model;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_log_set_default_handler(ams::fuzz::abort_on_critical, nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The same names for every input, stamped with the input's number (see write_file).
  static uint64_t stamp = 1;
  ++stamp;
  const std::string dir = ams::fuzz::work_dir("index_fuzzer") + "/a";
  std::string path;
  if (size > 0 && data[0] == '<') {
    const uint8_t* nul = static_cast<const uint8_t*>(memchr(data, 0, size));
    size_t ism_end = nul != nullptr ? static_cast<size_t>(nul - data) : size;
    size_t mp4_at = nul != nullptr ? ism_end + 1 : size;
    mkdir(dir.c_str(), 0700);
    path = dir + "/a.ism";
    write_file(path, data + 1, ism_end - 1, stamp);
    write_file(dir + "/a.mp4", data + mp4_at, size - mp4_at, stamp);
    static const char vtt[] = "WEBVTT\n\n00:00.000 --> 00:01.000\nx\n";
    write_file(dir + "/a.vtt", reinterpret_cast<const uint8_t*>(vtt), sizeof(vtt) - 1, stamp);
  } else {
    path = dir + ".mp4";
    write_file(path, data, size, stamp);
  }
  {
    model::IndexCache cache;
    auto presentation = model::build_presentation(path, cache);
    if (presentation.is_ok()) ams::fuzz::derive_everything(**presentation);
  }
  return 0;
}
