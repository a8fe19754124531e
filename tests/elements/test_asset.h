// Shared by the manifest sink and package tests: a 6 s test asset made once by `ams encode`
// (reused while it is newer than the ams binary), pipelines run to EOS with their bus messages,
// and small file helpers.
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace ams::test {

// $AMS_BUILD_ROOT, or "" when the test runs outside meson.
std::string build_root();
// The .ism of the shared test asset; "" (and `why` filled) when it cannot be made.
std::string test_asset(std::string& why);

// What a pipeline did until EOS, an error, or the timeout.
struct PipelineRun {
  bool eos = false;
  std::string error;                   // the first error message's text, with its debug string
  std::vector<std::string> manifests;  // "text" of each ams-manifest message, in order
  std::vector<std::string> content_types;
  std::chrono::milliseconds elapsed{0};
};
PipelineRun run_pipeline(GstElement* pipeline, GstClockTime timeout = 30 * GST_SECOND);
PipelineRun run_launch(const std::string& description, GstClockTime timeout = 30 * GST_SECOND);

std::string read_file(const std::string& path);
bool file_exists(const std::string& path);
// A fresh directory under /tmp, removed (recursively) by remove_tree.
std::string make_temp_dir();
void remove_tree(const std::string& path);
// Runs argv with a timeout; returns the exit status (-1 when it could not run or timed out).
int run_command(const std::vector<std::string>& argv, std::string* output, int timeout_seconds);

}  // namespace ams::test
