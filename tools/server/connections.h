// Timeouts and limits of the client connections (issue 19): how long a connection may wait for
// a request, take to send its headers, or leave a response unread, and how many connections the
// server holds at once, in total and per client address. libsoup 3.2 has none of these: it waits
// forever for a request's headers, and accepts every connection the kernel hands it.
//
// libsoup accepts the connections; each loop's ConnectionWatch learns of one at its first
// "request-started" (emitted as soon as libsoup has accepted it), keeps its GSocket, follows its
// requests (started, handled, finished), and closes it when the deadline of its state passes.
// One timer per loop checks every deadline (a few times per shortest timeout) rather than a
// timer per connection, and reads from the kernel whether a client takes its answer, rather than
// a signal handler per write. The counts are shared by every loop, so that the limits hold for
// the server.
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ams::server {

struct ConnectionLimits {
  unsigned idle_timeout_ms = 60000;    // between requests on a keep-alive connection
  unsigned header_timeout_ms = 30000;  // from a request's first byte to its complete headers
  unsigned send_timeout_ms = 60000;    // a response the client does not read for that long
  unsigned max_connections = 10000;    // in total, all loops together
  unsigned max_per_client = 256;       // from one client address
};

// The connections of the whole server, per client address. Thread-safe: loops open and close
// connections concurrently (a lock taken once per connection, not per request).
class ConnectionCounts {
 public:
  // Counts a new connection of `client`; false when it goes over `limits` (it stays counted
  // until close(), as its descriptor is held until then).
  bool open(const std::string& client, const ConnectionLimits& limits);
  void close(const std::string& client);
  unsigned total() const;

 private:
  mutable std::mutex mutex_;
  unsigned total_ = 0;
  std::unordered_map<std::string, unsigned> per_client_;
};

// One loop's connections. Every call is on the loop's thread.
class ConnectionWatch {
 public:
  ConnectionWatch(const ConnectionLimits& limits, ConnectionCounts& counts, GMainContext* context);
  ~ConnectionWatch();
  ConnectionWatch(const ConnectionWatch&) = delete;
  ConnectionWatch& operator=(const ConnectionWatch&) = delete;

  // "request-started": a connection seen for the first time is counted, and refused when it
  // is over a limit; the message's signals move its connection from state to state.
  void request_started(SoupServerMessage* msg);
  // The request is read and its handler runs: the server's own work has no deadline here (a
  // pipeline has its --timeout). Called by the handler rather than from "got-body", one signal
  // handler less per request.
  void handling(SoupServerMessage* msg);
  // "request-finished" and "request-aborted": the connection waits for the next request (the
  // idle timeout), unless libsoup closes it. Also
  // frees the descriptor of a connection the client closed while idle, which libsoup 3.2 never
  // does (fixed upstream in 3.3, commit d20c6601).
  void request_finished(SoupServerMessage* msg);
  // When the handler took the message's request (g_get_monotonic_time), for its latency; 0 when
  // its connection is not followed. Call before request_finished().
  gint64 handled_at(SoupServerMessage* msg);
  // Whether the message's connection is over a limit: its request is then answered 503 and the
  // connection closed (server.cc, at "got-headers").
  bool refused(SoupServerMessage* msg) const;
  // The server closed `socket` itself (a refusal written on the stolen connection): forget it
  // now rather than at the next tick, so that its client may connect again at once.
  void closed(GSocket* socket);
  // SIGHUP (Server::reconfigure): the limits from now on. A connection's deadline already set
  // keeps its length; its next state takes the new one.
  void set_limits(const ConnectionLimits& limits);
  // Forgets every connection (the server stops; libsoup closes them).
  void clear();
  // Connections whose request the handler has and whose answer is not finished: what a drain
  // waits for. Any thread.
  unsigned answering() const { return answering_.load(std::memory_order_relaxed); }

  struct Conn;

 private:
  enum class State;
  Conn* find(SoupServerMessage* msg);
  void set_state(Conn& c, State state, unsigned timeout_ms);
  void begin_close(Conn& c, bool reset);
  void release(GSocket* socket);
  gboolean tick();
  void start_timer();
  static gboolean on_idle_socket(GSocket* s, GIOCondition condition, gpointer self);
  struct Disconnect;
  static void on_disconnected(SoupServerMessage* msg, Disconnect* d);

  ConnectionLimits limits_;
  ConnectionCounts& counts_;
  GMainContext* context_;
  GSource* timer_ = nullptr;
  std::unordered_map<GSocket*, Conn*> conns_;
  uint64_t serial_ = 0;
  std::atomic<unsigned> answering_{
      0};  // tells a connection from an earlier one at the same address
};

}  // namespace ams::server
