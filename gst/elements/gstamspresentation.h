// What travels between the gst-ams elements (docs/element-contract.md): the presentation as a
// boxed type, the `ams-presentation` and `ams-fragment` events, and the `ams-payload` query.
#pragma once

#include <gst/gst.h>

#include <memory>

#include "fmp4/protection.h"
#include "model/presentation.h"
#include "model/segments.h"

G_BEGIN_DECLS

// A boxed, reference-counted, immutable ams::model::Presentation.
typedef struct _GstAmsPresentation GstAmsPresentation;
GType gst_ams_presentation_get_type(void);
#define GST_TYPE_AMS_PRESENTATION (gst_ams_presentation_get_type())

// A boxed, immutable plan for amsdemux: a presentation and what to emit of it (a
// model::Selection). The `plan` property of amsdemux takes one; the `ams-presentation` event
// carries one to the muxers.
typedef struct _GstAmsPlan GstAmsPlan;
GType gst_ams_plan_get_type(void);
#define GST_TYPE_AMS_PLAN (gst_ams_plan_get_type())

G_END_DECLS

namespace ams::gst {

inline constexpr const char* kPresentationEvent = "ams-presentation";
inline constexpr const char* kFragmentEvent = "ams-fragment";
inline constexpr const char* kPayloadQuery = "ams-payload";

using PresentationPtr = std::shared_ptr<const model::Presentation>;

struct Plan {
  PresentationPtr presentation;
  model::Selection selection;
  // Common encryption of the fMP4 the muxer writes (amscmafmux): none for clear media.
  std::shared_ptr<const fmp4::Protection> protection;
};
using PlanPtr = std::shared_ptr<const Plan>;

// A new GstAmsPlan holding `plan` (free it with g_boxed_free, or hand it to g_value_take_boxed),
// and the plan a GstAmsPlan holds.
GstAmsPlan* plan_boxed_new(PlanPtr plan);
PlanPtr plan_from_boxed(const GstAmsPlan* boxed);

// The sticky event amsdemux sends on each pad before its first buffer: the presentation, which of
// its tracks the pad carries, and the plan the demuxer follows (segments, continuity counters).
GstEvent* presentation_event_new(const PlanPtr& plan, guint track_index);
// True when `event` is an ams-presentation event; fills the outputs (`plan` when not null).
bool presentation_event_parse(GstEvent* event, PresentationPtr& presentation, guint& track_index,
                              PlanPtr* plan = nullptr);

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
