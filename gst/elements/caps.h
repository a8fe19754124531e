// Caps and tags for a track of the presentation, as downstream parsers and decoders expect them.
#pragma once

#include <gst/gst.h>

#include "model/presentation.h"

namespace ams::gst {

GstCaps* caps_for_track(const model::Track& track);
GstTagList* tags_for_track(const model::Track& track);

}  // namespace ams::gst
