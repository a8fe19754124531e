#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_AMS_TS_MUX (gst_ams_ts_mux_get_type())
G_DECLARE_FINAL_TYPE(GstAmsTsMux, gst_ams_ts_mux, GST, AMS_TS_MUX, GstElement)

GST_ELEMENT_REGISTER_DECLARE(amstsmux);

G_END_DECLS
