#include "download.h"

#include <fcntl.h>
#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "base/path.h"
#include "model/index_cache.h"
#include "mp4/boxes.h"
#include "store/store.h"

namespace ams::server {
namespace {

constexpr gsize kChunkBytes = 256 * 1024;

bool is_side_car_text(const std::string& name) {
  return iends_with(name, ".vtt") || iends_with(name, ".ttml") || iends_with(name, ".dfxp");
}

// What the descriptor names now (Linux /proc): "" when it cannot be told.
std::string path_of_fd(int fd) {
  char link[PATH_MAX + 1];
  const std::string proc = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = ::readlink(proc.c_str(), link, sizeof link - 1);
  return n > 0 ? std::string(link, static_cast<size_t>(n)) : std::string();
}

// Media: the index of this very file (same state as the open descriptor) has a video or audio
// track.
Status check_media(const std::string& path, const model::FileState& state) {
  auto index = model::IndexCache::shared().get(path);
  if (!index) return not_found(path + ": not a media file (" + index.status().to_string() + ")");
  if ((*index)->state != state) return not_found(path + ": changed while it was opened");
  for (const model::FileTrack& t : (*index)->tracks) {
    if (t.handler == mp4::fourcc("vide") || t.handler == mp4::fourcc("soun")) return Status::ok();
  }
  return not_found(path + ": no audio or video track");
}

// Lives until the last byte is queued or the client is gone; each async step holds the one ref.
struct FileStream {
  SoupServerMessage* msg = nullptr;
  GInputStream* stream = nullptr;
  GCancellable* cancellable = nullptr;
  uint64_t first = 0;
  uint64_t remaining = 0;
  gulong wrote_chunk_handler = 0;
  gulong finished_handler = 0;
  bool reading = false;
  bool done = false;  // the client is gone or every byte was appended
  int refs = 1;       // the message's handlers; +1 while a read is pending

  ~FileStream() {
    if (stream != nullptr) g_object_unref(stream);
    g_object_unref(cancellable);
    g_object_unref(msg);
  }
};

// Not inlined: GCC 12 at -O3 cannot see that a caller holding a second reference never reaches
// the delete, and reports a use after free (-Wuse-after-free) where there is none.
[[gnu::noinline]] void unref(FileStream* fs) {
  if (--fs->refs == 0) delete fs;
}

void finish(FileStream* fs) {
  if (fs->done) return;
  fs->done = true;
  g_cancellable_cancel(fs->cancellable);
  g_signal_handler_disconnect(fs->msg, fs->wrote_chunk_handler);
  g_signal_handler_disconnect(fs->msg, fs->finished_handler);
  unref(fs);  // the handlers' reference
}

void read_next(FileStream* fs);

void on_read(GObject* source, GAsyncResult* result, gpointer data) {
  auto* fs = static_cast<FileStream*>(data);
  fs->reading = false;
  GError* error = nullptr;
  GBytes* bytes = g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, &error);
  if (fs->done) {
    if (bytes != nullptr) g_bytes_unref(bytes);
    g_clear_error(&error);
    unref(fs);
    return;
  }
  gsize size = bytes != nullptr ? g_bytes_get_size(bytes) : 0;
  SoupMessageBody* body = soup_server_message_get_response_body(fs->msg);
  if (size == 0) {
    // The file shrank or failed under us: the announced length cannot be met, drop the connection.
    g_warning("download: %s", error != nullptr ? error->message : "file ended early");
    g_clear_error(&error);
    if (bytes != nullptr) g_bytes_unref(bytes);
    GIOStream* connection = soup_server_message_steal_connection(fs->msg);
    if (connection != nullptr) {
      g_io_stream_close(connection, nullptr, nullptr);
      g_object_unref(connection);
    }
    finish(fs);
    unref(fs);
    return;
  }
  size = std::min<uint64_t>(size, fs->remaining);
  GBytes* chunk = g_bytes_new_from_bytes(bytes, 0, size);
  g_bytes_unref(bytes);
  soup_message_body_append_bytes(body, chunk);
  g_bytes_unref(chunk);
  fs->remaining -= size;
  if (fs->remaining == 0) soup_message_body_complete(body);
  soup_server_message_unpause(fs->msg);
  if (fs->remaining == 0) finish(fs);
  unref(fs);
}

void read_next(FileStream* fs) {
  if (fs->done || fs->reading || fs->remaining == 0) return;
  fs->reading = true;
  ++fs->refs;
  g_input_stream_read_bytes_async(G_INPUT_STREAM(fs->stream),
                                  std::min<uint64_t>(kChunkBytes, fs->remaining),
                                  G_PRIORITY_DEFAULT, fs->cancellable, on_read, fs);
}

}  // namespace

DownloadFile::~DownloadFile() {
  if (fd_ >= 0) ::close(fd_);
}

int DownloadFile::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

Result<std::shared_ptr<DownloadFile>> open_download(const std::string& folder,
                                                    const std::string& name) {
  if (!store::is_downloadable(name)) return not_found(name + " is not downloadable");
  AMS_ASSIGN_OR_RETURN(std::string path, resolve_inside(folder, name));
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return not_found(path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return not_found(path + ": not a regular file");
  }
  auto file = std::make_shared<DownloadFile>(fd, path, model::file_state_of(st));
  // A folder on the way swapped for a symlink between resolve_inside and open(): the descriptor
  // names another file than the one checked.
  if (path_of_fd(fd) != path) return not_found(path + ": moved while it was opened");
  if (!is_side_car_text(name)) AMS_RETURN_IF_ERROR(check_media(path, file->state()));
  return file;
}

void stream_file_range(SoupServerMessage* msg, int fd, uint64_t first, uint64_t length) {
  auto* fs = new FileStream;
  fs->msg = SOUP_SERVER_MESSAGE(g_object_ref(msg));
  fs->cancellable = g_cancellable_new();
  fs->first = first;
  fs->remaining = length;
  // Reads go on from the descriptor's offset (GUnixInputStream does not seek); a regular file is
  // not pollable, so GIO reads it on its thread pool.
  fs->stream = g_unix_input_stream_new(fd, TRUE);
  soup_message_body_set_accumulate(soup_server_message_get_response_body(msg), FALSE);
  // libsoup pauses a message whose body has no data yet; the next read starts when the last
  // chunk has gone to the socket, so a slow client holds one chunk.
  fs->wrote_chunk_handler = g_signal_connect_swapped(
      msg, "wrote-chunk", G_CALLBACK(+[](FileStream* s) { read_next(s); }), fs);
  fs->finished_handler =
      g_signal_connect_swapped(msg, "finished", G_CALLBACK(+[](FileStream* s) { finish(s); }), fs);
  soup_server_message_pause(msg);
  if (length > 0 && ::lseek(fd, static_cast<off_t>(first), SEEK_SET) < 0) {
    g_warning("download: seek: %s", g_strerror(errno));
    soup_server_message_set_status(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, nullptr);
    soup_message_headers_set_content_length(soup_server_message_get_response_headers(msg), 0);
    length = 0;
  }
  if (length == 0) {
    soup_message_body_complete(soup_server_message_get_response_body(msg));
    soup_server_message_unpause(msg);
    finish(fs);
    return;
  }
  read_next(fs);
}

}  // namespace ams::server
