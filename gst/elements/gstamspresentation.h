// What travels between the gst-ams elements (docs/element-contract.md): the presentation as a
// boxed type, the `ams-presentation` and `ams-fragment` events, and the `ams-payload` query.
#pragma once

#include <gst/gst.h>

#include <memory>

#include "model/presentation.h"

G_BEGIN_DECLS

// A boxed, reference-counted, immutable ams::model::Presentation.
typedef struct _GstAmsPresentation GstAmsPresentation;
GType gst_ams_presentation_get_type(void);
#define GST_TYPE_AMS_PRESENTATION (gst_ams_presentation_get_type())

G_END_DECLS

namespace ams::gst {

inline constexpr const char* kPresentationEvent = "ams-presentation";
inline constexpr const char* kFragmentEvent = "ams-fragment";
inline constexpr const char* kPayloadQuery = "ams-payload";

using PresentationPtr = std::shared_ptr<const model::Presentation>;

GstEvent* presentation_event_new(const PresentationPtr& presentation, guint track_index);
// True when `event` is an ams-presentation event; fills the outputs.
bool presentation_event_parse(GstEvent* event, PresentationPtr& presentation, guint& track_index);

struct FragmentInfo {
  guint track_index = 0;
  guint fragment_index = 0;
  guint64 start = 0;     // 10 MHz
  guint64 duration = 0;  // 10 MHz
};
GstEvent* fragment_event_new(const FragmentInfo& info);
bool fragment_event_parse(GstEvent* event, FragmentInfo& info);

GstQuery* payload_query_new();
// For an element that answers the query: says whether it needs sample payload.
void payload_query_set(GstQuery* query, bool needs_payload);
bool payload_query_is(GstQuery* query);
// After a peer answered: what it said (an unanswered query means "needs payload").
bool payload_query_needs_payload(GstQuery* query);

}  // namespace ams::gst
