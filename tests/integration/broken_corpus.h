// A corpus of broken assets made at test time from two good ones (an `ams encode --test-source`
// asset and a small ffmpeg file with B-frames, AAC priming and a mov_text track) by patching
// bytes of their MP4s and writing bad .ism files. Issue 11, item 3: nothing a file can say may
// crash or hang the server.
#pragma once

#include <string>
#include <vector>

namespace ams_it {

// What a 200 answer from a broken asset must be, since the damage may not touch every resource.
enum class Rule {
  kWellFormed,     // any 200 has a body of its kind (the damage may change what is served)
  kMediaAsParent,  // a 200 for an init/fragment/segment is byte-identical to the parent's
  kNo200,          // nothing of the asset can be served
};

struct BrokenAsset {
  std::string name;         // also the asset's name in the store
  std::string description;  // what is broken
  std::string parent;       // "ams" or "ffmpeg": whose URLs are asked for
  Rule rule = Rule::kWellFormed;
  std::string folder;
  std::string manifest;  // "{name}" of the .ism the URLs use
};

struct Corpus {
  std::string ams_folder;  // the good assets
  std::string ffmpeg_folder;
  std::vector<BrokenAsset> broken;
};

// Encodes the two good assets under `dir` and writes every broken one beside them. Returns ""
// or what failed (an encoder, a box that was not where the patch expects it).
std::string make_corpus(const std::string& dir, Corpus* out);

}  // namespace ams_it
