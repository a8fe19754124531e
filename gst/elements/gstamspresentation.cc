#include "gstamspresentation.h"

struct _GstAmsPresentation {
  ams::gst::PresentationPtr presentation;
};

static GstAmsPresentation* gst_ams_presentation_copy(const GstAmsPresentation* p) {
  return new GstAmsPresentation{p->presentation};
}

static void gst_ams_presentation_free(GstAmsPresentation* p) {
  delete p;
}

G_DEFINE_BOXED_TYPE(GstAmsPresentation, gst_ams_presentation, gst_ams_presentation_copy,
                    gst_ams_presentation_free)

struct _GstAmsPlan {
  ams::gst::PlanPtr plan;
};

static GstAmsPlan* gst_ams_plan_copy(const GstAmsPlan* p) {
  return new GstAmsPlan{p->plan};
}

static void gst_ams_plan_free(GstAmsPlan* p) {
  delete p;
}

G_DEFINE_BOXED_TYPE(GstAmsPlan, gst_ams_plan, gst_ams_plan_copy, gst_ams_plan_free)

namespace ams::gst {

GstAmsPlan* plan_boxed_new(PlanPtr plan) {
  return new GstAmsPlan{std::move(plan)};
}

PlanPtr plan_from_boxed(const GstAmsPlan* boxed) {
  return boxed ? boxed->plan : nullptr;
}

GstEvent* presentation_event_new(const PlanPtr& plan, guint track_index) {
  GstAmsPresentation presentation{plan->presentation};
  GstAmsPlan boxed{plan};
  GstStructure* s = gst_structure_new(kPresentationEvent, "presentation", GST_TYPE_AMS_PRESENTATION,
                                      &presentation, "track-index", G_TYPE_UINT, track_index,
                                      "plan", GST_TYPE_AMS_PLAN, &boxed, nullptr);
  return gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM_STICKY, s);
}

bool presentation_event_parse(GstEvent* event, PresentationPtr& presentation, guint& track_index,
                              PlanPtr* plan) {
  if (GST_EVENT_TYPE(event) != GST_EVENT_CUSTOM_DOWNSTREAM_STICKY) return false;
  const GstStructure* s = gst_event_get_structure(event);
  if (!s || !gst_structure_has_name(s, kPresentationEvent)) return false;
  const GValue* v = gst_structure_get_value(s, "presentation");
  if (!v || !G_VALUE_HOLDS(v, GST_TYPE_AMS_PRESENTATION)) return false;
  auto* boxed = static_cast<GstAmsPresentation*>(g_value_get_boxed(v));
  if (!boxed || !gst_structure_get_uint(s, "track-index", &track_index)) return false;
  presentation = boxed->presentation;
  if (plan != nullptr) {
    const GValue* pv = gst_structure_get_value(s, "plan");
    *plan = pv && G_VALUE_HOLDS(pv, GST_TYPE_AMS_PLAN)
                ? plan_from_boxed(static_cast<GstAmsPlan*>(g_value_get_boxed(pv)))
                : nullptr;
  }
  return presentation && track_index < presentation->tracks.size();
}

GstEvent* fragment_event_new(const FragmentInfo& info) {
  GstStructure* s =
      gst_structure_new(kFragmentEvent, "track-index", G_TYPE_UINT, info.track_index,
                        "fragment-index", G_TYPE_UINT, info.fragment_index, "start", G_TYPE_UINT64,
                        info.start, "duration", G_TYPE_UINT64, info.duration, nullptr);
  return gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, s);
}

bool fragment_event_parse(GstEvent* event, FragmentInfo& info) {
  if (GST_EVENT_TYPE(event) != GST_EVENT_CUSTOM_DOWNSTREAM) return false;
  const GstStructure* s = gst_event_get_structure(event);
  return s && gst_structure_has_name(s, kFragmentEvent) &&
         gst_structure_get_uint(s, "track-index", &info.track_index) &&
         gst_structure_get_uint(s, "fragment-index", &info.fragment_index) &&
         gst_structure_get_uint64(s, "start", &info.start) &&
         gst_structure_get_uint64(s, "duration", &info.duration);
}

GstQuery* payload_query_new() {
  return gst_query_new_custom(GST_QUERY_CUSTOM, gst_structure_new_empty(kPayloadQuery));
}

bool payload_query_is(GstQuery* query) {
  if (GST_QUERY_TYPE(query) != GST_QUERY_CUSTOM) return false;
  const GstStructure* s = gst_query_get_structure(query);
  return s && gst_structure_has_name(s, kPayloadQuery);
}

void payload_query_set(GstQuery* query, bool needs_payload) {
  GstStructure* s = gst_query_writable_structure(query);
  gst_structure_set(s, "needs-payload", G_TYPE_BOOLEAN, needs_payload, nullptr);
}

bool payload_query_needs_payload(GstQuery* query) {
  const GstStructure* s = gst_query_get_structure(query);
  gboolean needs = TRUE;
  if (!s || !gst_structure_get_boolean(s, "needs-payload", &needs)) return true;
  return needs;
}

}  // namespace ams::gst
