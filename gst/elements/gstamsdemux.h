#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_AMS_DEMUX (gst_ams_demux_get_type())
G_DECLARE_FINAL_TYPE(GstAmsDemux, gst_ams_demux, GST, AMS_DEMUX, GstElement)

GST_ELEMENT_REGISTER_DECLARE(amsdemux);

G_END_DECLS
