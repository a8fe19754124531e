// Ownership helpers for the tool: ams::gst::GstPtr (gst/elements/gstptr.h) for GStreamer
// references, GLibPtr for the GLib values GstPtr does not know (main loops, option contexts, and
// GObjects that are not GstObjects, such as GstDiscoverer and its results).
#pragma once

#include <glib-object.h>
#include <glib.h>

#include <memory>

#include "gstptr.h"

namespace ams::tools {

using gst::GstPtr;

struct GLibUnref {
  void operator()(GMainLoop* p) const { g_main_loop_unref(p); }
  void operator()(GOptionContext* p) const { g_option_context_free(p); }
  template <typename T>
  void operator()(T* p) const {
    g_object_unref(p);  // any other type: a plain GObject
  }
};

template <typename T>
using GLibPtr = std::unique_ptr<T, GLibUnref>;

}  // namespace ams::tools
