#include "respond.h"

namespace ams::server {

void set_common_headers(SoupServerMessage* msg) {
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(h, "Access-Control-Allow-Origin", "*");
  soup_message_headers_replace(h, "Access-Control-Expose-Headers",
                               "Content-Length, Content-Range, Content-Encoding, ETag, Date, "
                               "Accept-Ranges, Cache-Control");
}

void set_cache_headers(SoupServerMessage* msg, unsigned max_age_seconds, const std::string& etag) {
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  std::string cache = "public, max-age=" + std::to_string(max_age_seconds);
  soup_message_headers_replace(h, "Cache-Control", cache.c_str());
  if (!etag.empty()) soup_message_headers_replace(h, "ETag", etag.c_str());
}

void respond_error(SoupServerMessage* msg, const HttpError& error, const std::string& service_id) {
  if (error.status >= 500 && !error.detail.empty()) {
    g_warning("%u %s: %s", error.status, error.hresult, error.detail.c_str());
  }
  set_common_headers(msg);
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(h, "Cache-Control", "no-store");
  respond_body(msg, error.status, "application/xml", error_body(error, service_id));
}

void respond_body(SoupServerMessage* msg, unsigned status, const std::string& content_type,
                  std::string body) {
  soup_server_message_set_status(msg, status, nullptr);
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  if (!content_type.empty())
    soup_message_headers_set_content_type(h, content_type.c_str(), nullptr);
  soup_message_headers_set_content_length(h, static_cast<goffset>(body.size()));
  SoupMessageBody* out = soup_server_message_get_response_body(msg);
  soup_message_body_truncate(out);
  if (body.empty()) return soup_message_body_complete(out);
  auto* owned = new std::string(std::move(body));
  GBytes* bytes = g_bytes_new_with_free_func(
      owned->data(), owned->size(), [](gpointer p) { delete static_cast<std::string*>(p); }, owned);
  soup_message_body_append_bytes(out, bytes);
  soup_message_body_complete(out);
  g_bytes_unref(bytes);
}

std::string etag_for_coding(const std::string& etag, bool gzipped) {
  if (!gzipped || etag.size() < 2) return etag;
  return etag.substr(0, etag.size() - 1) + "-gzip\"";
}

}  // namespace ams::server
