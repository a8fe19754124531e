#include "download.h"

#include <gio/gio.h>

#include <algorithm>

namespace ams::server {
namespace {

constexpr gsize kChunkBytes = 256 * 1024;

// Lives until the last byte is queued or the client is gone; each async step holds the one ref.
struct FileStream {
  SoupServerMessage* msg = nullptr;
  GFileInputStream* stream = nullptr;
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

void on_opened(GObject* source, GAsyncResult* result, gpointer data) {
  auto* fs = static_cast<FileStream*>(data);
  GError* error = nullptr;
  fs->stream = g_file_read_finish(G_FILE(source), result, &error);
  fs->reading = false;
  if (!fs->done && fs->stream != nullptr &&
      !g_seekable_seek(G_SEEKABLE(fs->stream), static_cast<goffset>(fs->first), G_SEEK_SET, nullptr,
                       &error)) {
    g_clear_object(&fs->stream);
  }
  if (!fs->done && fs->stream == nullptr) {
    g_warning("download: %s", error != nullptr ? error->message : "cannot open");
    soup_server_message_set_status(fs->msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, nullptr);
    soup_message_headers_set_content_length(soup_server_message_get_response_headers(fs->msg), 0);
    soup_message_body_complete(soup_server_message_get_response_body(fs->msg));
    soup_server_message_unpause(fs->msg);
    finish(fs);
  }
  g_clear_error(&error);
  if (!fs->done) read_next(fs);
  unref(fs);
}

}  // namespace

void stream_file_range(SoupServerMessage* msg, const std::string& path, uint64_t first,
                       uint64_t length) {
  auto* fs = new FileStream;
  fs->msg = SOUP_SERVER_MESSAGE(g_object_ref(msg));
  fs->cancellable = g_cancellable_new();
  fs->first = first;
  fs->remaining = length;
  soup_message_body_set_accumulate(soup_server_message_get_response_body(msg), FALSE);
  // libsoup pauses a message whose body has no data yet; the next read starts when the last
  // chunk has gone to the socket, so a slow client holds one chunk.
  fs->wrote_chunk_handler = g_signal_connect_swapped(
      msg, "wrote-chunk", G_CALLBACK(+[](FileStream* s) { read_next(s); }), fs);
  fs->finished_handler =
      g_signal_connect_swapped(msg, "finished", G_CALLBACK(+[](FileStream* s) { finish(s); }), fs);
  soup_server_message_pause(msg);
  if (length == 0) {
    soup_message_body_complete(soup_server_message_get_response_body(msg));
    soup_server_message_unpause(msg);
    finish(fs);
    return;
  }
  GFile* file = g_file_new_for_path(path.c_str());
  fs->reading = true;
  ++fs->refs;
  g_file_read_async(file, G_PRIORITY_DEFAULT, fs->cancellable, on_opened, fs);
  g_object_unref(file);
}

}  // namespace ams::server
