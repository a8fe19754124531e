#include "connections.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <vector>

namespace ams::server {

// How long a connection over a limit may take to send its request before it is closed without
// an answer: long enough for a client that sends at once (every player) to read its 503.
constexpr unsigned kRefuseGraceMs = 1000;

bool ConnectionCounts::open(const std::string& client, const ConnectionLimits& limits) {
  std::lock_guard<std::mutex> guard(mutex_);
  const unsigned mine = ++per_client_[client];
  ++total_;
  return total_ <= limits.max_connections && mine <= limits.max_per_client;
}

void ConnectionCounts::close(const std::string& client) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = per_client_.find(client);
  if (it == per_client_.end()) return;
  if (--it->second == 0) per_client_.erase(it);
  --total_;
}

unsigned ConnectionCounts::total() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return total_;
}

// What a connection is doing, and so which deadline it has.
enum class ConnectionWatch::State {
  kRequest,    // waiting for a request's headers (and body): the header timeout
  kIdle,       // between requests: the idle timeout
  kAnswering,  // the handler has the request: the send timeout, when the client stops reading
  kRefused,    // over a limit: answered 503 at its headers, closed if they do not come
  kClosing,    // shut down; closed at the next tick if libsoup has not closed it
};

struct ConnectionWatch::Conn {
  GSocket* socket = nullptr;  // a reference: the object outlives libsoup's close
  std::string client;
  State state = State::kRequest;
  gint64 deadline_us = 0;  // 0: none
  // kAnswering: the client's last progress (bytes acknowledged, or nothing left to send).
  gint64 progress_us = 0;
  gint64 handled_us = 0;  // when the handler took the current request
  uint64_t acked = 0;
  GSource* idle_source = nullptr;
  uint64_t serial = 0;
};

// What a message's "disconnected" needs: libsoup has dropped the socket by then.
struct ConnectionWatch::Disconnect {
  ConnectionWatch* self;
  GSocket* socket;  // not a reference: compared, never used, unless still in conns_
  uint64_t serial;
};

namespace {

unsigned tick_ms(const ConnectionLimits& l) {
  unsigned shortest = kRefuseGraceMs;
  for (unsigned t : {l.idle_timeout_ms, l.header_timeout_ms, l.send_timeout_ms}) {
    if (t > 0) shortest = std::min(shortest, t);
  }
  return std::clamp(shortest / 4, 50u, 1000u);
}

}  // namespace

ConnectionWatch::ConnectionWatch(const ConnectionLimits& limits, ConnectionCounts& counts,
                                 GMainContext* context)
    : limits_(limits), counts_(counts), context_(context) {
  start_timer();
}

void ConnectionWatch::start_timer() {
  timer_ = g_timeout_source_new(tick_ms(limits_));
  g_source_set_callback(
      timer_, [](gpointer self) { return static_cast<ConnectionWatch*>(self)->tick(); }, this,
      nullptr);
  g_source_attach(timer_, context_);
}

void ConnectionWatch::set_limits(const ConnectionLimits& limits) {
  const unsigned before = tick_ms(limits_);
  limits_ = limits;
  if (tick_ms(limits_) == before) return;
  g_source_destroy(timer_);
  g_source_unref(timer_);
  start_timer();
}

ConnectionWatch::~ConnectionWatch() {
  clear();
  g_source_destroy(timer_);
  g_source_unref(timer_);
}

void ConnectionWatch::clear() {
  while (!conns_.empty()) release(conns_.begin()->first);
}

ConnectionWatch::Conn* ConnectionWatch::find(SoupServerMessage* msg) {
  GSocket* socket = soup_server_message_get_socket(msg);
  auto it = socket != nullptr ? conns_.find(socket) : conns_.end();
  return it != conns_.end() ? it->second : nullptr;
}

void ConnectionWatch::set_state(Conn& c, State state, unsigned timeout_ms) {
  if (c.state == State::kAnswering) answering_.fetch_sub(1, std::memory_order_relaxed);
  if (state == State::kAnswering) answering_.fetch_add(1, std::memory_order_relaxed);
  c.state = state;
  c.deadline_us = timeout_ms > 0 ? g_get_monotonic_time() + gint64{timeout_ms} * 1000 : 0;
}

void ConnectionWatch::request_started(SoupServerMessage* msg) {
  GSocket* socket = soup_server_message_get_socket(msg);
  if (socket == nullptr || g_socket_is_closed(socket)) return;
  if (conns_.find(socket) == conns_.end()) {
    auto* c = new Conn;
    c->socket = G_SOCKET(g_object_ref(socket));
    const char* host = soup_server_message_get_remote_host(msg);
    c->client = host != nullptr ? host : "";
    // The first request's headers are due within the header timeout of the accept: a client
    // that connects and sends nothing is a slowloris with no bytes.
    if (counts_.open(c->client, limits_)) {
      set_state(*c, State::kRequest, limits_.header_timeout_ms);
    } else {
      set_state(*c, State::kRefused, kRefuseGraceMs);
    }
    c->serial = ++serial_;
    conns_.emplace(socket, c);
  }
}

void ConnectionWatch::on_disconnected(SoupServerMessage*, Disconnect* d) {
  auto it = d->self->conns_.find(d->socket);
  if (it != d->self->conns_.end() && it->second->serial == d->serial) d->self->release(d->socket);
}

void ConnectionWatch::closed(GSocket* socket) {
  auto it = conns_.find(socket);
  if (it != conns_.end() && g_socket_is_closed(socket)) release(socket);
}

bool ConnectionWatch::refused(SoupServerMessage* msg) const {
  GSocket* socket = soup_server_message_get_socket(msg);
  auto it = socket != nullptr ? conns_.find(socket) : conns_.end();
  return it != conns_.end() && it->second->state == State::kRefused;
}

// The server's own work takes the time it takes (a pipeline has its --timeout); what is timed
// is the client: from here on, bytes it leaves unread (tick()).
void ConnectionWatch::handling(SoupServerMessage* msg) {
  Conn* c = find(msg);
  if (c != nullptr && (c->state == State::kRequest || c->state == State::kIdle)) {
    set_state(*c, State::kAnswering, 0);
    c->progress_us = g_get_monotonic_time();
    c->handled_us = c->progress_us;
    c->acked = 0;
  }
}

namespace {

// Whether libsoup closes the connection after this answer (RFC 9112 9.3, as libsoup reads it).
bool closes_after(SoupServerMessage* msg) {
  SoupMessageHeaders* request = soup_server_message_get_request_headers(msg);
  SoupMessageHeaders* response = soup_server_message_get_response_headers(msg);
  if (soup_message_headers_header_contains(request, "Connection", "close") ||
      soup_message_headers_header_contains(response, "Connection", "close")) {
    return true;
  }
  return soup_server_message_get_http_version(msg) == SOUP_HTTP_1_0 &&
         !soup_message_headers_header_contains(request, "Connection", "Keep-Alive");
}

}  // namespace

gint64 ConnectionWatch::handled_at(SoupServerMessage* msg) {
  Conn* c = find(msg);
  return c != nullptr ? c->handled_us : 0;
}

void ConnectionWatch::request_finished(SoupServerMessage* msg) {
  Conn* c = find(msg);
  if (c == nullptr || g_socket_is_closed(c->socket)) return;
  if (c->state == State::kClosing || c->state == State::kRefused) return;
  set_state(*c, State::kIdle, limits_.idle_timeout_ms);
  if (closes_after(msg)) {
    // libsoup closes it once this returns: counted out then, not at the next tick, so that a
    // client that opens a connection per request does not find its earlier ones still counted.
    g_signal_connect_data(
        msg, "disconnected", G_CALLBACK(on_disconnected),
        new Disconnect{this, c->socket, c->serial},
        [](gpointer d, GClosure*) { delete static_cast<Disconnect*>(d); },
        static_cast<GConnectFlags>(0));
    return;
  }
  if (c->idle_source != nullptr) return;
  c->idle_source = g_socket_create_source(
      c->socket, static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR), nullptr);
  g_source_set_callback(c->idle_source, G_SOURCE_FUNC(on_idle_socket), this, nullptr);
  g_source_attach(c->idle_source, context_);
}

// Readable between requests: the next request's first bytes (its header deadline starts), or the
// client closed the connection, which libsoup 3.2 would leave open (CLOSE_WAIT, the descriptor
// never freed). Closing the GSocket object (not its descriptor number) keeps libsoup safe: it
// sees a closed socket, never a reused descriptor.
gboolean ConnectionWatch::on_idle_socket(GSocket* s, GIOCondition condition, gpointer data) {
  auto* self = static_cast<ConnectionWatch*>(data);
  auto it = self->conns_.find(s);
  if (it == self->conns_.end()) return G_SOURCE_REMOVE;
  Conn& c = *it->second;
  g_source_unref(c.idle_source);  // the context holds it until this returns
  c.idle_source = nullptr;
  if (g_socket_is_closed(s)) return G_SOURCE_REMOVE;
  char byte = 0;
  GInputVector vector = {&byte, 1};
  gint flags = G_SOCKET_MSG_PEEK;
  gssize n = (condition & (G_IO_HUP | G_IO_ERR))
                 ? 0
                 : g_socket_receive_message(s, nullptr, &vector, 1, nullptr, nullptr, &flags,
                                            nullptr, nullptr);
  if (n == 0) {
    g_socket_close(s, nullptr);  // the peer closed: free the descriptor
    self->release(s);
    return G_SOURCE_REMOVE;
  }
  // Data (libsoup reads it) or an error (libsoup's to handle).
  if (c.state == State::kIdle) self->set_state(c, State::kRequest, self->limits_.header_timeout_ms);
  return G_SOURCE_REMOVE;
}

// Wakes whatever waits on the socket (libsoup's read or write fails, and it drops the
// connection); the descriptor is closed at the next tick if libsoup has not closed it. A
// response cut short is reset, so that the kernel does not go on holding its unsent bytes.
void ConnectionWatch::begin_close(Conn& c, bool reset) {
  const int fd = g_socket_get_fd(c.socket);
  if (reset) {
    const linger abort = {1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  }
  ::shutdown(fd, SHUT_RDWR);
  set_state(c, State::kClosing, 1);
}

void ConnectionWatch::release(GSocket* socket) {
  auto it = conns_.find(socket);
  if (it == conns_.end()) return;
  Conn* c = it->second;
  conns_.erase(it);
  if (c->state == State::kAnswering) answering_.fetch_sub(1, std::memory_order_relaxed);
  if (c->idle_source != nullptr) {
    g_source_destroy(c->idle_source);
    g_source_unref(c->idle_source);
  }
  counts_.close(c->client);
  g_object_unref(c->socket);
  delete c;
}

gboolean ConnectionWatch::tick() {
  const gint64 now = g_get_monotonic_time();
  std::vector<GSocket*> closed;
  std::vector<Conn*> due;
  for (auto& [socket, c] : conns_) {
    if (g_socket_is_closed(socket)) {
      closed.push_back(socket);
    } else if ((c->deadline_us != 0 && now >= c->deadline_us) ||
               (c->state == State::kAnswering && limits_.send_timeout_ms > 0)) {
      due.push_back(c);
    }
  }
  for (GSocket* s : closed) release(s);
  for (Conn* c : due) {
    if (c->state == State::kAnswering) {
      // nginx's send_timeout: the client took none of the bytes waiting for it for that long.
      // Checked here rather than at each write, so that a request costs no signal handler: the
      // kernel says what the client acknowledged and what is still unsent.
      const int fd = g_socket_get_fd(c->socket);
      int unsent = 0;
      tcp_info info{};
      socklen_t length = sizeof info;
      if (::ioctl(fd, TIOCOUTQ, &unsent) != 0 ||
          ::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) {
        continue;
      }
      if (unsent == 0 || info.tcpi_bytes_acked != c->acked) {
        c->progress_us = now;
        c->acked = info.tcpi_bytes_acked;
      } else if (now - c->progress_us >= gint64{limits_.send_timeout_ms} * 1000) {
        begin_close(*c, true);
      }
    } else if (c->state == State::kClosing) {
      GSocket* s = c->socket;
      g_socket_close(s, nullptr);
      release(s);
    } else {
      begin_close(*c, false);
    }
  }
  return G_SOURCE_CONTINUE;
}

}  // namespace ams::server
