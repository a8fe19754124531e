// Progressive download: streams a byte range of an asset file into a response, one chunk at a time
// with GIO's asynchronous reads, so neither a large file nor a slow disk holds the main loop and at
// most one chunk per client is in memory.
#pragma once

#include <libsoup/soup.h>

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "model/media_file.h"

namespace ams::server {

// A file of an asset folder, opened to be downloaded.
class DownloadFile {
 public:
  DownloadFile(int fd, std::string path, const model::FileState& state)
      : fd_(fd), path_(std::move(path)), state_(state) {}
  ~DownloadFile();
  DownloadFile(const DownloadFile&) = delete;
  DownloadFile& operator=(const DownloadFile&) = delete;

  const std::string& path() const { return path_; }  // its real path, inside the folder
  const model::FileState& state() const { return state_; }
  int release();  // the descriptor, now the caller's

 private:
  int fd_;
  std::string path_;
  model::FileState state_;
};

// Opens `name` (the URL's file, relative to the asset `folder` as registered) for download, or
// says why not (every refusal is a 404 to the client):
// - the name must be one listPaths offers (store::is_downloadable: MP4 and side-car text
//   extensions, no hidden file);
// - its real path (symlinks resolved) must lie inside the folder's real path, the file is opened
//   with O_NOFOLLOW, and the descriptor must still name that real path once open, so that a
//   symlink swapped in after the check is not followed either;
// - it must be a regular file, and either side-car text (.vtt, .ttml, .dfxp) or media: a file
//   whose index (model::IndexCache::shared(), of this very file state) has a video or audio
//   track. A file merely named .mp4 is not served.
// May read the file's index: call it off the main loop.
Result<std::shared_ptr<DownloadFile>> open_download(const std::string& folder,
                                                    const std::string& name);

// Starts streaming `length` bytes of the open file `fd` (owned from here on) from `first` into
// `msg`, whose status and headers (Content-Length included) are already set. Takes a reference
// to `msg`; pauses it until data arrives; stops reading when the client goes away.
void stream_file_range(SoupServerMessage* msg, int fd, uint64_t first, uint64_t length);

}  // namespace ams::server
