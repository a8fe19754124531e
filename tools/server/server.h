// The streaming endpoint: libsoup 3 on GLib main loops, one per core it is given (the first on the
// caller's thread-default context; the kernel spreads connections over their SO_REUSEPORT
// sockets). One handler takes every request, parses its path with ams::url::parse, and answers
// from the route table (routes.h): static policy files, progressive downloads, or a product of a
// presentation, from the answer cache when it was made before, else planned once (plan.h) and
// rendered or packaged by a pipeline through the admission queue (admission.h). A loop never
// waits for media: pipelines run on GStreamer's threads and hand their bytes back to it.
#pragma once

#include <libsoup/soup.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace ams::server {

struct Config {
  std::string listen = "127.0.0.1:8080";  // ADDR:PORT; port 0 picks a free one; "": no plain HTTP
  // HTTPS (docs/server.md, "HTTPS"): ADDR:PORT, "" for none; the certificate (PEM, the server's
  // first, then its chain) and its private key (PEM; "": in the certificate's file). TLS comes
  // from GLib's TLS backend (glib-networking, GnuTLS).
  std::string tls_listen;
  std::string tls_certificate_file;
  std::string tls_key_file;
  // HTTP loops, each a thread with its own listening socket (SO_REUSEPORT) and its share of the
  // pipeline and queue bounds; 0 or 1: one, on the caller's main context. More than one needs
  // `database`, which each loop opens for itself.
  unsigned threads = 1;
  std::string database;
  unsigned max_age_seconds = 259200;  // Cache-Control max-age: AMS's 3 days
  unsigned max_concurrent = 16;       // pipelines running at once
  unsigned max_queue = 256;           // requests waiting for a pipeline slot; then 503
  unsigned pipeline_timeout_seconds = 60;
  // The answer cache (manifests, playlists, init segments): at most this many, and bytes.
  size_t answer_cache_entries = 4096;
  uint64_t answer_cache_bytes = 64ull << 20;
  std::string cross_domain_file;          // empty: AMS's default policy
  std::string client_access_policy_file;  // empty: AMS's default policy
  std::string access_log;                 // "" none, "-" stdout, else a file appended to
  std::string player_dir;  // the player page served at /; empty: default_player_dir()
  // The operator's token (operator_auth.h): /api/locators and the details of /api/status answer
  // only a request with "Authorization: Bearer TOKEN". Empty: they answer nobody.
  std::string operator_token;
  // Client connections (connections.h, docs/server.md "Timeouts and limits"). A timeout of 0
  // turns that timeout off.
  unsigned idle_timeout_ms = 60000;           // a keep-alive connection with no request
  unsigned header_timeout_ms = 30000;         // a request's headers (the first: from the accept)
  unsigned send_timeout_ms = 60000;           // an answer the client does not read
  unsigned max_connections = 10000;           // the whole server; beyond it 503 and close
  unsigned max_connections_per_client = 256;  // one client address
  // The request line (method, target, version) and the header block (the fields after it), in
  // bytes: 414 and 431 beyond them. libsoup drops a connection whose request line and headers
  // together pass 64 KiB before any handler sees it, so their sum must stay below that.
  unsigned max_request_line = 8192;
  unsigned max_header_bytes = 32768;
};

// One option that Server::reconfigure found different (its long option's name, as in the
// configuration file), before and after.
struct ConfigChange {
  std::string option;
  std::string before;
  std::string after;
  bool applied = false;  // false: it needs a restart; until then the server goes on with `before`
};

class Server {
 public:
  // Reads the policy files and opens the access log; kNotFound/kIo when they cannot be read.
  static Result<std::unique_ptr<Server>> create(const Config& config,
                                                std::unique_ptr<store::Store> store);
  ~Server();

  // Starts listening; returns the base URLs, HTTP's first ("http://127.0.0.1:8080/",
  // "https://127.0.0.1:8443/").
  Result<std::vector<std::string>> listen();

  // Stops accepting and drops open connections; running pipelines are stopped.
  void shutdown();

  // The first step of a graceful stop: every request whose headers arrive from now on is
  // answered 503 (Retry-After: 1, Connection: close), while the answers under way go on. Any
  // thread.
  void drain();
  // Requests being answered now, over every loop: what a drain waits for. Any thread.
  unsigned answering() const;

  // Opens the access log file again at its path (after logrotate moved it away: SIGHUP), and
  // goes on writing there; the old file is closed. Nothing to do for no log or standard output.
  // Any thread. On failure the server keeps writing to the file it had.
  Status reopen_access_log();

  // SIGHUP's second half: takes from `next` what can change while serving (timeouts, limits,
  // max-age, the pipeline timeout, the policy files and the TLS certificate, read again, the
  // operator token, the player folder, the access log's path) and reports the options that differ,
  // each applied or needing a restart (listen, tls-listen, threads, database, pipelines and queue,
  // the answer cache, access log on or off). A file that cannot be read changes nothing and is the
  // error. A connection's deadline already set keeps its old length; the next one takes the new.
  // Call on the main loop's thread.
  Result<std::vector<ConfigChange>> reconfigure(const Config& next);

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ams::server
