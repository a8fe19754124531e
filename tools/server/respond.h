// Writing answers into a SoupServerMessage: the headers every answer carries (CORS, Server), the
// AMS error body, and bodies handed over without a copy.
#pragma once

#include <libsoup/soup.h>

#include <cstdint>
#include <string>

#include "body.h"
#include "errors.h"

namespace ams::server {

// Headers every response carries: CORS for browsers' players (AMS endpoints answer any origin).
void set_common_headers(SoupServerMessage* msg);

// Cache-Control with max-age, and the entity tag when there is one.
void set_cache_headers(SoupServerMessage* msg, unsigned max_age_seconds, const std::string& etag);

// The X-Request-Id the answer carries ("" before the server named the request).
std::string request_id(SoupServerMessage* msg);

// The AMS error body (application/xml), never cached; 5xx details go to the server log, with
// the request's id.
void respond_error(SoupServerMessage* msg, const HttpError& error, const std::string& service_id);

// Status, Content-Type and body (moved, not copied). HEAD: libsoup sends the headers only.
void respond_body(SoupServerMessage* msg, unsigned status, const std::string& content_type,
                  std::string body);

// "The ETag of the gzip variant": a strong tag must differ per content coding (RFC 9110 8.8.3).
std::string etag_for_coding(const std::string& etag, bool gzipped);

// What the server says of one representation it answers with (RFC 9110).
struct Entity {
  std::string content_type;
  std::string etag;              // strong, of this representation (its coding included)
  int64_t last_modified_ns = 0;  // 0: no Last-Modified
  std::string last_modified;     // its HTTP-date when already formatted (else made from the ns)
  bool gzipped = false;          // Content-Encoding: gzip
  bool vary_encoding = false;    // the resource has a gzip variant: Vary: Accept-Encoding
  unsigned max_age_seconds = 0;
};

// RFC 9110 13.2.2: If-None-Match when present, else If-Modified-Since. When the client's copy is
// current, answers 304 with the validators and returns true.
bool answer_not_modified(SoupServerMessage* msg, const Entity& entity);

// How a GET/HEAD of an entity of `size` bytes is answered: the whole entity (200), a range of it
// (206; If-Range honoured: a changed entity is sent whole), or 416.
struct RangeAnswer {
  unsigned status = 200;
  uint64_t first = 0;
  uint64_t length = 0;
};
RangeAnswer decide_range(SoupServerMessage* msg, const Entity& entity, uint64_t size);

// Sets the entity headers (Content-Type, ETag, Last-Modified, Cache-Control, Accept-Ranges,
// Content-Encoding, Vary, CORS) and the status, Content-Length and Content-Range of `range`.
void set_entity_headers(SoupServerMessage* msg, const Entity& entity, const RangeAnswer& range,
                        uint64_t size);

// The whole answer from a body in memory: 304 / 206 / 416 / 200 as above; HEAD gets the headers.
void answer_entity(SoupServerMessage* msg, const Entity& entity, const Body& body,
                   const std::string& service_id);
// The same for a HEAD whose entity is not in memory: only its size is known.
void answer_entity_head(SoupServerMessage* msg, const Entity& entity, uint64_t size,
                        const std::string& service_id);

// An HTTP-date (IMF-fixdate) of a time in nanoseconds since the epoch.
std::string http_date(int64_t unix_ns);

}  // namespace ams::server
