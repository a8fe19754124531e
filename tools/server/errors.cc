#include "errors.h"

#include <glib.h>

#include <algorithm>
#include <cctype>

namespace ams::server {

HttpError from_status(const Status& status, const char* not_found_code) {
  switch (status.code()) {
    case StatusCode::kNotFound:
      return http_error(404, not_found_code, status.to_string());
    case StatusCode::kInvalidArgument:
      return http_error(400, hresult::kBadRequest, status.to_string());
    case StatusCode::kUnsupported:
      return http_error(501, hresult::kPipelineError, status.to_string());
    default:
      return http_error(500, hresult::kInternal, status.to_string());
  }
}

HttpError asset_error(const Status& status) {
  switch (status.code()) {
    case StatusCode::kNotFound:
      return http_error(404, hresult::kAssetNotFound, status.to_string());
    case StatusCode::kUnsupported:
      return http_error(501, hresult::kCodecNotSupported, status.to_string());
    default:
      return http_error(500, hresult::kAssetInvalid, status.to_string());
  }
}

Status fail(HttpError* out, HttpError e) {
  StatusCode code = e.status == 404   ? StatusCode::kNotFound
                    : e.status == 400 ? StatusCode::kInvalidArgument
                    : e.status == 501 ? StatusCode::kUnsupported
                                      : StatusCode::kIo;
  Status status(code, e.detail);
  *out = std::move(e);
  return status;
}

std::string new_guid() {
  gchar* uuid = g_uuid_string_random();
  std::string text = uuid;
  g_free(uuid);
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

std::string error_body(const HttpError& error, const std::string& service_id) {
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<serverError>\n";
  body += "<status>" + std::to_string(error.status) + "</status>\n";
  body += "<subStatus>0</subStatus>\n";
  body += std::string("<hresult>") + error.hresult + "</hresult>\n";
  body += "<activityId>" + new_guid() + "</activityId>\n";
  body += "<serviceId>" + service_id + "</serviceId>\n";
  body += "</serverError>\n";
  return body;
}

}  // namespace ams::server
