#pragma once

#include <gst/base/gstbasesink.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_AMS_MANIFEST_SINK (gst_ams_manifest_sink_get_type())
G_DECLARE_FINAL_TYPE(GstAmsManifestSink, gst_ams_manifest_sink, GST, AMS_MANIFEST_SINK, GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE(amsmanifestsink);

G_END_DECLS
