// The per-format writers behind manifest.h (internal to gst/core/manifest).
#pragma once

#include <string>

#include "base/status.h"
#include "manifest/manifest.h"
#include "model/presentation.h"

namespace ams::manifest {

Result<std::string> render_smooth(const model::Presentation& presentation, bool v20,
                                  const Options& options);
Result<std::string> render_hls_master(const model::Presentation& presentation, Format format,
                                      const Options& options);
Result<std::string> render_hls_media(const model::Presentation& presentation, Format format,
                                     const model::Track& track, const Options& options,
                                     bool iframes_only);
Result<std::string> render_dash(const model::Presentation& presentation, bool cmaf,
                                const Options& options);

}  // namespace ams::manifest
