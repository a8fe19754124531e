// Structure-aware libFuzzer target over the model builder and every writer (issue 19, item 7).
// index_fuzzer mutates the raw bytes of one MP4, which rarely gives a valid but unusual file: the
// builder's deep logic (edit lists, composition offsets, several tracks and files, odd timescales,
// fragmented inputs, text tracks, the .ism's track selection) is barely reached. Here the input is
// a description of an asset (asset_generator.h): up to 4 MP4 files of up to 3 tracks, written as a
// third-party packager would, maybe with an .ism and a WebVTT side-car. The presentation built
// from it then goes through everything index_fuzzer derives from the index, and through the
// writers as the server calls them: every init segment, the first and last fragment of every
// fMP4 variant and the first and last TS segment of HLS v4 and v3, from the file's own bytes,
// each of exactly the size the index alone gives (presentation_driver.h).
#include <fuzzer/FuzzedDataProvider.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "asset_generator.h"
#include "model/builder.h"
#include "model/index_cache.h"
#include "presentation_driver.h"

namespace {

namespace fuzz = ams::fuzz;
namespace model = ams::model;

const char kVtt[] = "WEBVTT\n\n00:00.000 --> 00:01.000\nx\n";

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_log_set_default_handler(fuzz::abort_on_critical, nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  fuzz::GenAsset asset = fuzz::gen_asset(in);

  // The same folder for every input, its files stamped with the input's number (see write_file).
  static uint64_t stamp = 1;
  ++stamp;
  // AMS_FUZZ_VERBOSE=1 says what became of each input and keeps its files, a folder per input
  // (to check that inputs get through, and to look at them).
  static const bool verbose = std::getenv("AMS_FUZZ_VERBOSE") != nullptr;
  const std::string dir =
      fuzz::work_dir("presentation_fuzzer") + "/" + (verbose ? std::to_string(stamp) : "a");
  mkdir(dir.c_str(), 0700);
  std::vector<std::string> written;
  for (fuzz::GenFile& f : asset.files) {
    std::vector<uint8_t> bytes = fuzz::write_mp4(f);
    written.push_back(dir + "/" + f.name);
    fuzz::write_file(written.back(), bytes.data(), bytes.size(), stamp);
  }
  std::string path = dir + "/" + asset.files[0].name;
  if (!asset.ism.empty()) {
    written.push_back(dir + "/a.ism");
    fuzz::write_file(written.back(), reinterpret_cast<const uint8_t*>(asset.ism.data()),
                     asset.ism.size(), stamp);
    path = written.back();
  }
  if (asset.vtt) {
    written.push_back(dir + "/subs.vtt");
    fuzz::write_file(written.back(), reinterpret_cast<const uint8_t*>(kVtt), sizeof(kVtt) - 1,
                     stamp);
  }
  if (asset.mode == fuzz::GenAsset::Mode::kFolder ||
      asset.mode == fuzz::GenAsset::Mode::kFolderWithIsm) {
    path = dir;
  }
  // The files of the last input that this one does not have go: a folder asset is what is in it.
  static std::set<std::string> last;
  for (const std::string& f : last) {
    if (std::find(written.begin(), written.end(), f) == written.end()) unlink(f.c_str());
  }
  last = std::set<std::string>(written.begin(), written.end());
  if (verbose) last.clear();
  fuzz::set_mtime(dir, stamp);  // a folder asset's own input
  {
    model::IndexCache cache;
    auto presentation = model::build_presentation(path, cache);
    if (verbose) {
      std::fprintf(stderr, "%s: %s\n", path.c_str(),
                   presentation.is_ok() ? "built" : presentation.status().to_string().c_str());
    }
    if (presentation.is_ok()) {
      fuzz::derive_everything(**presentation);
      fuzz::write_media(**presentation);
    }
  }

  return 0;
}
