// The `tracks` property of amsdemux: "NAME", "NAME@BITRATE" or "#INDEX", comma-separated.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "model/presentation.h"

namespace ams::gst {

// Indices into presentation.tracks, in the order the selectors name them; every track when
// `selectors` is empty.
Result<std::vector<size_t>> select_tracks(const model::Presentation& presentation,
                                          const std::string& selectors);

}  // namespace ams::gst
