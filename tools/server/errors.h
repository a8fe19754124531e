// HTTP errors as AMS answers them: a status and an XML body naming an MPE_* hresult. The AMS names
// we know from public captures are used where they fit (MPE_ENC_ENCRYPTION_REQUIRED); the others
// are ours, in the same style, and docs/server.md lists them all.
#pragma once

#include <string>

#include "base/status.h"

namespace ams::server {

struct HttpError {
  unsigned status = 500;
  const char* hresult = "MPE_INTERNAL_ERROR";
  std::string detail;  // for the log only: the body never carries internal detail
};

// The hresults the server uses (one place, so the docs and tests can list them).
namespace hresult {
inline constexpr const char* kBadRequest = "MPE_BAD_REQUEST";
inline constexpr const char* kNotFound = "MPE_RESOURCE_NOT_FOUND";
inline constexpr const char* kLocatorNotFound = "MPE_STREAMING_LOCATOR_NOT_FOUND";
inline constexpr const char* kLocatorNotActive = "MPE_STREAMING_LOCATOR_NOT_ACTIVE";
inline constexpr const char* kAssetNotFound = "MPE_ASSET_NOT_FOUND";
inline constexpr const char* kTrackNotFound = "MPE_TRACK_NOT_FOUND";
inline constexpr const char* kFragmentNotFound = "MPE_FRAGMENT_NOT_FOUND";
inline constexpr const char* kAssetInvalid = "MPE_ASSET_INVALID";
inline constexpr const char* kCodecNotSupported = "MPE_CODEC_NOT_SUPPORTED";
inline constexpr const char* kProtocolNotEnabled = "MPE_STREAMING_PROTOCOL_NOT_ENABLED";
inline constexpr const char* kEncryptionRequired = "MPE_ENC_ENCRYPTION_REQUIRED";
inline constexpr const char* kEncryptionNotInPolicy =
    "MPE_ENC_ENCRYPTION_NOT_SET_IN_DELIVERY_POLICY";
inline constexpr const char* kEncryptionNotSupported = "MPE_ENC_ENCRYPTION_NOT_SUPPORTED";
// Dynamic filters, AMS's own codes (the streaming endpoint's error codes reference).
inline constexpr const char* kFilterNotFound = "MPE_EGRESS_FILTER_NOT_FOUND";
inline constexpr const char* kFilterRemovedAllStreams = "MPE_FILTER_REMOVED_ALL_STREAMS";
inline constexpr const char* kFilterRangeInvalid = "MPE_FILTER_RANGE_ATTRIBUTE_INVALID";
inline constexpr const char* kFilterMultipleFirstQuality =
    "MPE_FILTER_COMPOSITION_MULTIPLE_FIRST_QUALITY_OPERATOR_NOT_ALLOWED";
// Key delivery under a content key policy (key_policy.h): 401 for a token that is missing or
// fails a check, one code per check; 403 when no option of the policy delivers the key.
inline constexpr const char* kKeyNotAllowedByPolicy = "MPE_KEY_DELIVERY_NOT_ALLOWED_BY_POLICY";
inline constexpr const char* kKeyTokenMissing = "MPE_KEY_DELIVERY_TOKEN_MISSING";
inline constexpr const char* kKeyTokenMalformed = "MPE_KEY_DELIVERY_TOKEN_MALFORMED";
inline constexpr const char* kKeyTokenAlgorithm = "MPE_KEY_DELIVERY_TOKEN_ALGORITHM_NOT_ALLOWED";
inline constexpr const char* kKeyTokenSignature = "MPE_KEY_DELIVERY_TOKEN_SIGNATURE_INVALID";
inline constexpr const char* kKeyTokenExpiryMissing = "MPE_KEY_DELIVERY_TOKEN_EXPIRY_MISSING";
inline constexpr const char* kKeyTokenExpired = "MPE_KEY_DELIVERY_TOKEN_EXPIRED";
inline constexpr const char* kKeyTokenNotYetValid = "MPE_KEY_DELIVERY_TOKEN_NOT_YET_VALID";
inline constexpr const char* kKeyTokenIssuer = "MPE_KEY_DELIVERY_TOKEN_ISSUER_INVALID";
inline constexpr const char* kKeyTokenAudience = "MPE_KEY_DELIVERY_TOKEN_AUDIENCE_INVALID";
inline constexpr const char* kKeyTokenClaim = "MPE_KEY_DELIVERY_TOKEN_CLAIM_MISSING";
inline constexpr const char* kKeyTokenKeyId = "MPE_KEY_DELIVERY_TOKEN_KEY_ID_MISMATCH";
inline constexpr const char* kMethodNotAllowed = "MPE_METHOD_NOT_ALLOWED";
inline constexpr const char* kRangeNotSatisfiable = "MPE_RANGE_NOT_SATISFIABLE";
inline constexpr const char* kServerBusy = "MPE_SERVER_BUSY";
inline constexpr const char* kHeadersTooLarge = "MPE_REQUEST_HEADERS_TOO_LARGE";
inline constexpr const char* kPipelineError = "MPE_PACKAGER_ERROR";
inline constexpr const char* kTimeout = "MPE_PACKAGER_TIMEOUT";
inline constexpr const char* kInternal = "MPE_INTERNAL_ERROR";
}  // namespace hresult

inline HttpError http_error(unsigned status, const char* code, std::string detail = {}) {
  return HttpError{status, code, std::move(detail)};
}

// Stores `e` in `*out` and returns the matching core Status, for functions that fill an
// HttpError beside their Result.
Status fail(HttpError* out, HttpError e);

// The one table from a core Status to an HTTP error: kNotFound -> 404 with `not_found_code`,
// kInvalidArgument -> 400, kUnsupported -> 501, anything else (bad media, I/O) -> 500.
HttpError from_status(const Status& status, const char* not_found_code = hresult::kNotFound);

// An asset that cannot be read: a file it names is missing -> 404 MPE_ASSET_NOT_FOUND; its
// contents name a codec or feature we do not serve -> 501 MPE_CODEC_NOT_SUPPORTED; anything
// else it says (a malformed .ism or MP4, a path out of its folder, a limit) -> 500
// MPE_ASSET_INVALID. The request was fine: never a 400.
HttpError asset_error(const Status& status);

// <serverError><status>..</status><subStatus>0</subStatus><hresult>..</hresult>
// <activityId>GUID</activityId><serviceId>GUID</serviceId></serverError>, as the captured AMS
// body (reference/examples/ams_error_403_encryption_required.xml). activityId is fresh per
// request; serviceId names this server process.
std::string error_body(const HttpError& error, const std::string& service_id);

// An upper-case random GUID, as AMS writes activity ids.
std::string new_guid();

}  // namespace ams::server
