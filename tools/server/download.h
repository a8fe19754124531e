// Progressive download: streams a byte range of an asset file into a response, one chunk at a time
// with GIO's asynchronous reads, so neither a large file nor a slow disk holds the main loop and at
// most one chunk per client is in memory.
#pragma once

#include <libsoup/soup.h>

#include <cstdint>
#include <string>

namespace ams::server {

// Starts streaming `length` bytes of `path` from `first` into `msg`, whose status and headers
// (Content-Length included) are already set. Takes a reference to `msg`; pauses it until data
// arrives; stops reading when the client goes away.
void stream_file_range(SoupServerMessage* msg, const std::string& path, uint64_t first,
                       uint64_t length);

}  // namespace ams::server
