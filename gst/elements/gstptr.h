// GstPtr<T>: unique ownership of a GStreamer reference, with the unref that fits the type.
// Mini objects (buffers, events, queries, messages, caps) use their own unref; GstObjects use
// gst_object_unref; a floating reference is sunk when adopted with GstPtr<T>::sink.
#pragma once

#include <gst/gst.h>

#include <memory>
#include <type_traits>

namespace ams::gst {

template <typename T>
struct GstUnref {
  void operator()(T* p) const {
    if constexpr (std::is_same_v<T, GstBuffer>) {
      gst_buffer_unref(p);
    } else if constexpr (std::is_same_v<T, GstBufferList>) {
      gst_buffer_list_unref(p);
    } else if constexpr (std::is_same_v<T, GstEvent>) {
      gst_event_unref(p);
    } else if constexpr (std::is_same_v<T, GstQuery>) {
      gst_query_unref(p);
    } else if constexpr (std::is_same_v<T, GstMessage>) {
      gst_message_unref(p);
    } else if constexpr (std::is_same_v<T, GstCaps>) {
      gst_caps_unref(p);
    } else if constexpr (std::is_same_v<T, GstTagList>) {
      gst_tag_list_unref(p);
    } else if constexpr (std::is_same_v<T, GstSample>) {
      gst_sample_unref(p);
    } else if constexpr (std::is_same_v<T, GstStructure>) {
      gst_structure_free(p);
    } else if constexpr (std::is_same_v<T, GError>) {
      g_error_free(p);
    } else if constexpr (std::is_same_v<T, gchar>) {
      g_free(p);
    } else {
      gst_object_unref(p);
    }
  }
};

template <typename T>
class GstPtr : public std::unique_ptr<T, GstUnref<T>> {
 public:
  using std::unique_ptr<T, GstUnref<T>>::unique_ptr;
  // Takes a new GstObject reference that may be floating (gst_element_factory_make).
  static GstPtr sink(T* p) {
    if (p) gst_object_ref_sink(p);
    return GstPtr(p);
  }
  // Adds a reference to an object the caller does not own.
  static GstPtr ref(T* p) {
    if constexpr (std::is_base_of_v<GstMiniObject, T> || std::is_same_v<T, GstBuffer> ||
                  std::is_same_v<T, GstEvent> || std::is_same_v<T, GstCaps>) {
      if (p) gst_mini_object_ref(GST_MINI_OBJECT_CAST(p));
    } else {
      if (p) gst_object_ref(p);
    }
    return GstPtr(p);
  }
};

}  // namespace ams::gst
