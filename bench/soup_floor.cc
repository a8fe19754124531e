// The floor of a libsoup 3 server on this machine: N threads, each a main context and a
// SoupServer on a SO_REUSEPORT socket of its own (as `ams serve --threads N` is built), answering
// every GET with the same bytes from one shared GBytes and nothing else: no routing, no logging,
// no cache lookup. Whatever this serves per second is the most any libsoup server can, so it
// tells how much of the gap between `ams serve` and nginx is libsoup's (bench/serve_vs_nginx.sh
// runs it beside both). A benchmark program, not a test.
//
//   soup_floor PORT THREADS FILE     serve FILE's bytes at http://127.0.0.1:PORT/anything
#include <arpa/inet.h>
#include <gio/gio.h>
#include <libsoup/soup.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

GBytes* g_body = nullptr;

void answer(SoupServer*, SoupServerMessage* msg, const char*, GHashTable*, gpointer) {
  soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Content-Type",
                               "application/octet-stream");
  soup_message_body_append_bytes(soup_server_message_get_response_body(msg), g_body);
}

int listener(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int on = 1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, 1024) != 0) {
    std::fprintf(stderr, "soup_floor: cannot listen on %d: %s\n", port, std::strerror(errno));
    std::exit(1);
  }
  return fd;
}

void serve(int port) {
  GMainContext* context = g_main_context_new();
  g_main_context_push_thread_default(context);
  SoupServer* server = soup_server_new("server-header", "soup-floor", nullptr);
  soup_server_add_handler(server, nullptr, answer, nullptr, nullptr);
  GError* error = nullptr;
  GSocket* socket = g_socket_new_from_fd(listener(port), &error);
  if (socket == nullptr ||
      !soup_server_listen_socket(server, socket, static_cast<SoupServerListenOptions>(0), &error)) {
    std::fprintf(stderr, "soup_floor: %s\n", error->message);
    std::exit(1);
  }
  GMainLoop* loop = g_main_loop_new(context, FALSE);
  g_main_loop_run(loop);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: soup_floor PORT THREADS FILE\n");
    return 2;
  }
  gchar* contents = nullptr;
  gsize length = 0;
  GError* error = nullptr;
  if (!g_file_get_contents(argv[3], &contents, &length, &error)) {
    std::fprintf(stderr, "soup_floor: %s\n", error->message);
    return 1;
  }
  g_body = g_bytes_new_take(contents, length);
  const int port = std::atoi(argv[1]);
  const int threads = std::max(1, std::atoi(argv[2]));
  std::vector<std::thread> loops;
  for (int i = 0; i < threads; ++i) loops.emplace_back(serve, port);
  for (auto& t : loops) t.join();
  return 0;
}
