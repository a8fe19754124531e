#include "test_asset.h"

#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "gstptr.h"

namespace ams::test {

using gst::GstPtr;

std::string build_root() {
  const char* root = std::getenv("AMS_BUILD_ROOT");
  return root ? root : "";
}

static int64_t mtime_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_mtime);
}

std::string test_asset(std::string& why) {
  const std::string root = build_root();
  if (root.empty()) {
    why = "AMS_BUILD_ROOT is not set (run through meson test)";
    return "";
  }
  const std::string ams = root + "/tools/ams";
  const std::string dir = root + "/tests/assets/testsrc6";
  const std::string ism = dir + "/testsrc.ism";
  // Several test programs (manifestsink_tests, tsmux_tests) ask for the asset at once under meson:
  // without a lock two of them removed and encoded it into the same folder together, and one
  // played a package of the half-written files (hlsdemux2: "Couldn't download fragments", twice
  // in full CI runs). The lock makes the others wait for the one that encodes.
  g_mkdir_with_parents((root + "/tests/assets").c_str(), 0755);
  const int lock =
      ::open((root + "/tests/assets/.testsrc6.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
    why = "cannot lock " + root + "/tests/assets/.testsrc6.lock";
    if (lock >= 0) ::close(lock);
    return "";
  }
  std::string out = ism;
  if (mtime_of(ism) < 0 || mtime_of(ism) < mtime_of(ams)) {
    remove_tree(dir);
    std::string output;
    if (run_command({ams, "encode", "--test-source", "6", dir}, &output, 600) != 0) {
      why = "ams encode failed: " + output;
      out.clear();
    }
  }
  ::flock(lock, LOCK_UN);
  ::close(lock);
  return out;
}

static void collect(PipelineRun& run, GstMessage* message) {
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_EOS:
      run.eos = true;
      break;
    case GST_MESSAGE_ERROR: {
      GError* error = nullptr;
      gchar* debug = nullptr;
      gst_message_parse_error(message, &error, &debug);
      if (run.error.empty()) {
        run.error = std::string(error->message) + " (" + (debug ? debug : "") + ")";
      }
      g_error_free(error);
      g_free(debug);
      break;
    }
    case GST_MESSAGE_ELEMENT: {
      const GstStructure* s = gst_message_get_structure(message);
      if (s && gst_structure_has_name(s, "ams-manifest")) {
        const char* text = gst_structure_get_string(s, "text");
        const char* type = gst_structure_get_string(s, "content-type");
        run.manifests.push_back(text ? text : "");
        run.content_types.push_back(type ? type : "");
      }
      break;
    }
    default:
      break;
  }
}

PipelineRun run_pipeline(GstElement* pipeline, GstClockTime timeout) {
  PipelineRun run;
  const auto start = std::chrono::steady_clock::now();
  GstPtr<GstBus> bus(gst_element_get_bus(pipeline));
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  const gint64 deadline = g_get_monotonic_time() + static_cast<gint64>(timeout / GST_USECOND);
  while (!run.eos && run.error.empty()) {
    const gint64 left = deadline - g_get_monotonic_time();
    if (left <= 0) {
      run.error = "timeout";
      break;
    }
    GstPtr<GstMessage> message(gst_bus_timed_pop_filtered(
        bus.get(), static_cast<GstClockTime>(left) * GST_USECOND,
        static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT)));
    if (message) collect(run, message.get());
  }
  run.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  return run;
}

PipelineRun run_launch(const std::string& description, GstClockTime timeout) {
  GError* error = nullptr;
  GstPtr<GstElement> pipeline = GstPtr<GstElement>::sink(
      gst_parse_launch_full(description.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &error));
  if (!pipeline) {
    PipelineRun run;
    run.error = std::string("parse: ") + (error ? error->message : "?");
    g_clear_error(&error);
    return run;
  }
  return run_pipeline(pipeline.get(), timeout);
}

std::string read_file(const std::string& path) {
  gchar* data = nullptr;
  gsize size = 0;
  if (!g_file_get_contents(path.c_str(), &data, &size, nullptr)) return "";
  std::string text(data, size);
  g_free(data);
  return text;
}

bool file_exists(const std::string& path) {
  return g_file_test(path.c_str(), G_FILE_TEST_IS_REGULAR);
}

std::string make_temp_dir() {
  gchar* dir = g_dir_make_tmp("ams-test-XXXXXX", nullptr);
  std::string path = dir ? dir : "";
  g_free(dir);
  return path;
}

void remove_tree(const std::string& path) {
  if (path.empty() || path == "/") return;
  run_command({"rm", "-rf", "--", path}, nullptr, 60);
}

int run_command(const std::vector<std::string>& argv, std::string* output, int timeout_seconds) {
  std::vector<gchar*> args;
  std::string limit = std::to_string(timeout_seconds);
  args.push_back(const_cast<gchar*>("timeout"));
  args.push_back(limit.data());
  for (const std::string& a : argv) args.push_back(const_cast<gchar*>(a.c_str()));
  args.push_back(nullptr);
  gchar* out = nullptr;
  gint status = 0;
  const bool ran = g_spawn_sync(nullptr, args.data(), nullptr, G_SPAWN_SEARCH_PATH, nullptr,
                                nullptr, &out, nullptr, &status, nullptr);
  if (output && out) *output = out;
  g_free(out);
  if (!ran || !g_spawn_check_wait_status(status, nullptr)) {
    return ran && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  return 0;
}

}  // namespace ams::test
