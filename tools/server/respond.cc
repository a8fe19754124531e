#include "respond.h"

#include "http.h"

namespace ams::server {

void set_common_headers(SoupServerMessage* msg) {
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(h, "Access-Control-Allow-Origin", "*");
  soup_message_headers_replace(h, "Access-Control-Expose-Headers",
                               "Content-Length, Content-Range, Content-Encoding, ETag, Date, "
                               "Accept-Ranges, Cache-Control, X-Request-Id");
}

void set_cache_headers(SoupServerMessage* msg, unsigned max_age_seconds, const std::string& etag) {
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  std::string cache = "public, max-age=" + std::to_string(max_age_seconds);
  soup_message_headers_replace(h, "Cache-Control", cache.c_str());
  if (!etag.empty()) soup_message_headers_replace(h, "ETag", etag.c_str());
}

std::string request_id(SoupServerMessage* msg) {
  const char* id =
      soup_message_headers_get_one(soup_server_message_get_response_headers(msg), "X-Request-Id");
  return id != nullptr ? id : "";
}

void respond_error(SoupServerMessage* msg, const HttpError& error, const std::string& service_id) {
  if (error.status >= 500 && !error.detail.empty()) {
    g_warning("request %s: %u %s: %s", request_id(msg).c_str(), error.status, error.hresult,
              error.detail.c_str());
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
  soup_message_body_set_accumulate(out, FALSE);  // no Range applied by libsoup (see body.cc)
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

namespace {

std::string request_header(SoupServerMessage* msg, const char* name) {
  const char* v = soup_message_headers_get_list(soup_server_message_get_request_headers(msg), name);
  return v != nullptr ? v : "";
}

// Seconds since the epoch of an HTTP-date, or -1.
int64_t parse_http_date(const std::string& text) {
  if (text.empty()) return -1;
  GDateTime* t = soup_date_time_new_from_http_string(text.c_str());
  if (t == nullptr) return -1;
  const int64_t s = g_date_time_to_unix(t);
  g_date_time_unref(t);
  return s;
}

bool is_head(SoupServerMessage* msg) {
  return soup_server_message_get_method(msg) == SOUP_METHOD_HEAD;
}

void set_validators(SoupServerMessage* msg, const Entity& e) {
  set_common_headers(msg);
  set_cache_headers(msg, e.max_age_seconds, e.etag);
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  if (!e.last_modified.empty()) {
    soup_message_headers_replace(h, "Last-Modified", e.last_modified.c_str());
  } else if (e.last_modified_ns > 0) {
    soup_message_headers_replace(h, "Last-Modified", http_date(e.last_modified_ns).c_str());
  }
  if (e.vary_encoding) soup_message_headers_replace(h, "Vary", "Accept-Encoding");
}

}  // namespace

std::string http_date(int64_t unix_ns) {
  GDateTime* t = g_date_time_new_from_unix_utc(unix_ns / 1000000000);
  if (t == nullptr) return "";
  char* text = soup_date_time_to_string(t, SOUP_DATE_HTTP);
  g_date_time_unref(t);
  std::string out = text != nullptr ? text : "";
  g_free(text);
  return out;
}

bool answer_not_modified(SoupServerMessage* msg, const Entity& e) {
  const std::string inm = request_header(msg, "If-None-Match");
  bool current = false;
  if (!inm.empty()) {
    current = !e.etag.empty() && etag_matches(inm, e.etag);
  } else if (e.last_modified_ns > 0) {
    const int64_t since = parse_http_date(request_header(msg, "If-Modified-Since"));
    current = since >= 0 && e.last_modified_ns / 1000000000 <= since;
  }
  if (!current) return false;
  set_validators(msg, e);
  soup_server_message_set_status(msg, 304, nullptr);
  soup_message_headers_set_encoding(soup_server_message_get_response_headers(msg),
                                    SOUP_ENCODING_NONE);
  return true;
}

RangeAnswer decide_range(SoupServerMessage* msg, const Entity& e, uint64_t size) {
  RangeAnswer whole{200, 0, size};
  const std::string header = request_header(msg, "Range");
  if (header.empty()) return whole;
  // If-Range (RFC 9110 13.1.5): a strong entity tag or the exact Last-Modified date; anything
  // else means the client's part is of another version: send it all.
  const std::string if_range = request_header(msg, "If-Range");
  if (!if_range.empty()) {
    const bool tag = if_range.front() == '"' || if_range.starts_with("W/");
    const bool same = tag ? !if_range.starts_with("W/") && if_range == e.etag
                          : e.last_modified_ns > 0 &&
                                parse_http_date(if_range) == e.last_modified_ns / 1000000000;
    if (!same) return whole;
  }
  RangeRequest r = parse_range(header, size);
  if (r.kind == RangeKind::kUnsatisfiable) return {416, 0, 0};
  if (r.kind != RangeKind::kSingle) return whole;
  return {206, r.range.first, r.range.length()};
}

void set_entity_headers(SoupServerMessage* msg, const Entity& e, const RangeAnswer& range,
                        uint64_t size) {
  set_validators(msg, e);
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(h, "Accept-Ranges", "bytes");
  if (e.gzipped) soup_message_headers_replace(h, "Content-Encoding", "gzip");
  if (range.status == 416) {
    const std::string unsatisfied = "bytes */" + std::to_string(size);
    soup_message_headers_replace(h, "Content-Range", unsatisfied.c_str());
    return;
  }
  if (!e.content_type.empty()) {
    soup_message_headers_set_content_type(h, e.content_type.c_str(), nullptr);
  }
  if (range.status == 206) {
    soup_message_headers_set_content_range(h, static_cast<goffset>(range.first),
                                           static_cast<goffset>(range.first + range.length - 1),
                                           static_cast<goffset>(size));
  }
  soup_server_message_set_status(msg, range.status, nullptr);
  soup_message_headers_set_content_length(h, static_cast<goffset>(range.length));
}

namespace {

void answer(SoupServerMessage* msg, const Entity& e, uint64_t size, const Body* body,
            const std::string& service_id) {
  if (answer_not_modified(msg, e)) return;
  const RangeAnswer range = decide_range(msg, e, size);
  set_entity_headers(msg, e, range, size);
  if (range.status == 416) {
    return respond_error(msg, http_error(416, hresult::kRangeNotSatisfiable), service_id);
  }
  if (body == nullptr || is_head(msg)) return;
  if (range.status == 206) {
    body->slice(range.first, range.length).send_to(msg);
  } else {
    body->send_to(msg);
  }
}

}  // namespace

void answer_entity(SoupServerMessage* msg, const Entity& e, const Body& body,
                   const std::string& service_id) {
  answer(msg, e, body.size(), &body, service_id);
}

void answer_entity_head(SoupServerMessage* msg, const Entity& e, uint64_t size,
                        const std::string& service_id) {
  answer(msg, e, size, nullptr, service_id);
}

}  // namespace ams::server
