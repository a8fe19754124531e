// One request plan (DESIGN.md, "The server"): the URL, its route, the locator and its policy, the
// presentation and exactly what to produce — which track, which segments of which fragments, the
// continuity counters — decided once, on a worker, from the cached model, and handed as a value
// to whatever makes the bytes: the manifest writers, the init segment writer, or the gstams
// elements (amsdemux's `plan` property). Nothing downstream works any of it out again.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "catalog.h"
#include "encryption.h"
#include "errors.h"
#include "gstamspresentation.h"
#include "manifest/manifest.h"
#include "model/presentation.h"
#include "url/request.h"

namespace ams::server {

// What a request makes. Known from the URL alone (product_of), so the server can answer a cached
// product before any planning.
enum class Product {
  kManifest,       // the master: Smooth client manifest, HLS master playlist, MPD
  kMediaPlaylist,  // an HLS media (or I-frame) playlist
  kInitSegment,    // Fragments(track=i): ftyp + moov
  kFragment,       // one fMP4 fragment (Smooth, DASH, HLS CMAF)
  kTsSegment,      // one HLS v3/v4 MPEG-TS segment
  kKeyFrame,       // one HLS I-frame segment (KeyFrames(...))
  // One text segment of a side-car's cues: WebVTT in HLS (text/webvtt.h), a TTML fragment in
  // DASH and Smooth (text/ttml.h). Its URL reads like a media segment's; the plan knows it from
  // the track.
  kTextSegment,
};

// How each product is answered: rendered from the model (a pure function of the plan, kept in the
// answer cache) or packaged by a pipeline of the gstams elements.
struct ProductRoute {
  Product product;
  bool pipeline;      // the bytes come from amsdemux ! amscmafmux|amstsmux
  bool cached;        // the answer goes to the answer cache
  bool compressible;  // text: gzip when the client accepts it
};
const ProductRoute& route_of(Product product);
Product product_of(const url::Request& request, manifest::Format format);

struct RequestPlan {
  url::Request request;
  manifest::Format format = manifest::Format::kSmooth;
  Product product = Product::kManifest;
  std::shared_ptr<const Published> published;
  std::string asset_path;  // what the presentation is built from (an .ism, a folder or an MP4)
  std::shared_ptr<const model::Presentation> presentation;
  size_t track = 0;           // the URL's track (playlists, init segments, media)
  manifest::Options options;  // manifests and playlists
  // Media: what amsdemux emits and the muxer that writes it.
  std::shared_ptr<const gst::Plan> media;
  enum class Muxer { kNone, kCmaf, kDash, kSmooth, kTs } muxer = Muxer::kNone;
  // `encryption=cbc` on HLS v3/v4 (AES-128): the key the media bytes are encrypted with once
  // the pipeline made them; the playlists announce it (options.aes128_*).
  std::optional<SegmentKey> encryption;
  // `encryption=cenc` on DASH, `encryption=cbcs` on DASH CMAF and HLS CMAF (common encryption,
  // docs/protection.md): the locator's CommonEncryptionCenc or CommonEncryptionCbcs key, and the
  // protection of the URL's track that the init segment and the fragments are written with (also in
  // media->protection); the MPD announces it (options.common_encryption).
  std::optional<SegmentKey> common_key;
  fmp4::Scheme common_scheme = fmp4::Scheme::kCenc;  // cbcs: DASH CMAF and HLS CMAF
  std::shared_ptr<const fmp4::Protection> protection;
  // A WebVTT segment: the cues overlapping [text_from_ms, text_to_ms), moved onto the media's
  // timestamps by text_offset_ms (text::write_segment).
  int64_t text_from_ms = 0;
  int64_t text_to_ms = 0;
  int64_t text_offset_ms = 0;
  // DASH and Smooth (muxer kDash, kCmaf or kSmooth): the TTML fragment's time, duration and mfhd
  // sequence number.
  int64_t text_start_10mhz = 0;
  int64_t text_duration_10mhz = 0;
  uint32_t text_sequence = 1;
  std::string content_type;
  std::string etag;  // strong, of the identity coding
  int64_t last_modified_ns = 0;
};

// Where the endpoint delivers envelope keys: `/keydelivery/?kid={key id}` (AMS's key delivery
// service answered `https://{account}.keydelivery.{region}.media.azure.net/?kid=...`).
inline constexpr char kKeyDeliveryPath[] = "/keydelivery/";
// Where the endpoint answers W3C ClearKey licence requests for common encryption keys (the
// DASH MPD's dashif:Laurl): POST {"kids": [...], "type": "temporary"}.
inline constexpr char kClearKeyPath[] = "/keydelivery/clearkey/";

// The key of the answer cache for a request of a locator: everything the answer depends on
// except the presentation (which the entry records and checks).
std::string answer_key(const url::Request& request, const Published& published);

// `origin` ("http://host:port", or "") prefixes the ClearKey licence URL a protected MPD names.
// Worker thread: resolves the asset, builds (or takes from the cache) its presentation, checks
// that the track, bitrate and fragment exist, and decides the product. On failure fills `error`
// (404 for what does not exist, 400 for what cannot be asked).
// `filters` (none: nullptr) make the presentation the plan uses (filter::apply, cached per
// presentation and filter definitions): a track or fragment they leave out is a 404, a
// combination AMS refuses a 415 with its MPE_FILTER_* code.
Result<RequestPlan> make_plan(const url::Request& request, manifest::Format format,
                              std::shared_ptr<const Published> published,
                              std::shared_ptr<const RequestFilters> filters, HttpError* error,
                              const std::string& origin = "");

// Worker thread: the bytes of a product that needs no pipeline (manifests, playlists, init
// segments): pure functions of the plan, written by the core.
Result<std::string> render(const RequestPlan& plan);

// The exact size of a pipeline product, from the index alone (HEAD needs no pipeline).
Result<uint64_t> media_size(const RequestPlan& plan);

// The asset a request names: /{locator}/{name}.ism is {folder}/{name}.ism; a folder without any
// .ism also answers to its own name (every MP4 in it), and to the name of one of its MP4s (that
// file alone). Resolved inside the folder (never outside it). No index is read.
Result<std::string> asset_path_of(const std::string& folder, const std::string& manifest_name);

}  // namespace ams::server
