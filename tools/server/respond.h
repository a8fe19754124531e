// Writing answers into a SoupServerMessage: the headers every answer carries (CORS, Server), the
// AMS error body, and bodies handed over without a copy.
#pragma once

#include <libsoup/soup.h>

#include <string>

#include "errors.h"

namespace ams::server {

// Headers every response carries: CORS for browsers' players (AMS endpoints answer any origin).
void set_common_headers(SoupServerMessage* msg);

// Cache-Control with max-age, and the entity tag when there is one.
void set_cache_headers(SoupServerMessage* msg, unsigned max_age_seconds, const std::string& etag);

// The AMS error body (application/xml), never cached; 5xx details go to the server log.
void respond_error(SoupServerMessage* msg, const HttpError& error, const std::string& service_id);

// Status, Content-Type and body (moved, not copied). HEAD: libsoup sends the headers only.
void respond_body(SoupServerMessage* msg, unsigned status, const std::string& content_type,
                  std::string body);

// "The ETag of the gzip variant": a strong tag must differ per content coding (RFC 9110 8.8.3).
std::string etag_for_coding(const std::string& etag, bool gzipped);

}  // namespace ams::server
