// Checks a playlist against the rules of RFC 8216 that a player would trip on. The manifest tests
// run it on every playlist they render; it is not a full validator.
#pragma once

#include <string_view>

#include "base/status.h"

namespace ams::manifest {

// Master playlists: EXTM3U first; EXT-X-STREAM-INF with BANDWIDTH and a URI line;
// EXT-X-I-FRAME-STREAM-INF with BANDWIDTH and URI; EXT-X-MEDIA with TYPE, GROUP-ID, NAME, at most
// one DEFAULT=YES per group; every AUDIO= and SUBTITLES= group defined, SUBTITLES renditions
// with a URI, FORCED on those only.
// Media playlists: EXT-X-TARGETDURATION present and >= every EXTINF rounded to the nearest
// integer; EXT-X-MEDIA-SEQUENCE before the first segment; every EXTINF followed by a URI; ENDLIST
// for VOD. Both: no repeated single-use tag, no mix of master and media tags, EXT-X-VERSION at
// least what the tags used require (fractional EXTINF 3, BYTERANGE / I-FRAMES-ONLY 4, EXT-X-MAP 6
// or 5 with I-FRAMES-ONLY) and no EXT-X-ALLOW-CACHE from version 7.
Status check_hls_playlist(std::string_view text);

}  // namespace ams::manifest
