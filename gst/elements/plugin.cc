// The gstams plugin: registers the elements, nothing else.
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstamscmafmux.h"
#include "gstamsdemux.h"
#include "gstamsmanifestsink.h"
#include "gstamstsmux.h"

static gboolean plugin_init(GstPlugin* plugin) {
  gboolean ret = FALSE;
  ret |= GST_ELEMENT_REGISTER(amsdemux, plugin);
  ret |= GST_ELEMENT_REGISTER(amscmafmux, plugin);
  ret |= GST_ELEMENT_REGISTER(amstsmux, plugin);
  ret |= GST_ELEMENT_REGISTER(amsmanifestsink, plugin);
  return ret;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, ams,
                  "Azure Media Services style dynamic packaging: asset demuxer, CMAF/DASH/Smooth "
                  "and HLS TS muxers, manifest sink",
                  plugin_init, PACKAGE_VERSION, "LGPL", PACKAGE_NAME, PACKAGE_ORIGIN)
