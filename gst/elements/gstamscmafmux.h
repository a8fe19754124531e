#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_AMS_CMAF_MUX (gst_ams_cmaf_mux_get_type())
G_DECLARE_FINAL_TYPE(GstAmsCmafMux, gst_ams_cmaf_mux, GST, AMS_CMAF_MUX, GstElement)

// The `format` property's enum type (nicks "cmaf", "dash", "smooth").
#define GST_TYPE_AMS_CMAF_MUX_FORMAT (gst_ams_cmaf_mux_format_get_type())
GType gst_ams_cmaf_mux_format_get_type(void);

GST_ELEMENT_REGISTER_DECLARE(amscmafmux);

G_END_DECLS
