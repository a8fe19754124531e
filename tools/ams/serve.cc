// ams serve: the streaming endpoint. Serves every asset published under a streaming locator in
// the database, packaged per request, until SIGINT or SIGTERM, which drain it first; SIGHUP
// reopens the access log and reads the configuration again.

#include <glib-unix.h>
#include <gst/gst.h>
#include <malloc.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "commands.h"
#include "glib_ptr.h"
#include "operator_auth.h"
#include "serve_config.h"
#include "server.h"
#include "store/store.h"

namespace ams::tools {
namespace {

// The allocator's settings for a server (docs/performance.md, "The allocator"). glibc's defaults
// give a buffer above 128 KiB (a fragment's samples, a TS segment) pages of its own, mapped for
// the request and unmapped after it, and trim freed memory back to the kernel: every request
// then pays a page fault per 4 KiB it touches, which on this kind of VM costs more than the
// packaging (a 760 KB fragment: 2.0 ms of CPU instead of 1.1-1.2). Buffers up to 32 MiB come from
// the arenas and stay there (64 MiB of free memory kept per arena), and there are as many arenas
// as HTTP loops (at least 2), which bounds what is kept. An operator's GLIBC_TUNABLES win.
void tune_allocator(unsigned loops) {
  if (std::getenv("GLIBC_TUNABLES") != nullptr) return;
  mallopt(M_ARENA_MAX, static_cast<int>(std::max(2u, loops)));
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

struct Options {
  gchar* db = nullptr;
  gchar* listen = nullptr;
  gchar* tls_listen = nullptr;
  gchar* tls_certificate = nullptr;
  gchar* tls_key = nullptr;
  gint max_age = 259200;
  gint max_concurrent = 16;
  gint max_queue = 256;
  gint timeout = 60;
  gint drain_timeout = 30;
  gint threads = 0;
  gint idle_timeout = 60;
  gint header_timeout = 30;
  gint send_timeout = 60;
  gint max_connections = 10000;
  gint max_connections_per_client = 256;
  gint max_request_line = 8192;
  gint max_header_bytes = 32768;
  gchar* cross_domain = nullptr;
  gchar* client_access_policy = nullptr;
  gchar* access_log = nullptr;
  gchar* player_dir = nullptr;
  gchar* operator_token_file = nullptr;
  gchar* config = nullptr;

  Options() = default;
  Options(const Options&) = delete;
  Options& operator=(const Options&) = delete;
  ~Options() {
    for (gchar* s : {db, listen, tls_listen, tls_certificate, tls_key, cross_domain,
                     client_access_policy, access_log, player_dir, operator_token_file, config})
      g_free(s);
  }
};

int fail(const std::string& message) {
  std::fprintf(stderr, "ams serve: %s\n", message.c_str());
  return 1;
}

// SIGTERM and SIGINT drain: new requests are answered 503 while the answers under way finish,
// for at most --drain-timeout seconds; then the server stops. A second signal stops it at once.
struct Drain {
  GMainLoop* loop = nullptr;
  server::Server* server = nullptr;
  unsigned timeout_seconds = 30;
  gint64 started_us = 0;
  guint check = 0;
};

gboolean drained(gpointer data) {
  auto* d = static_cast<Drain*>(data);
  const unsigned left = d->server->answering();
  const bool late = g_get_monotonic_time() - d->started_us >= gint64{d->timeout_seconds} * 1000000;
  if (left > 0 && !late) return G_SOURCE_CONTINUE;
  if (left > 0) {
    std::fprintf(stderr, "ams serve: %u answers still under way after %u s: stopping them\n", left,
                 d->timeout_seconds);
  }
  d->check = 0;
  g_main_loop_quit(d->loop);
  return G_SOURCE_REMOVE;
}

gboolean quit(gpointer data) {
  auto* d = static_cast<Drain*>(data);
  if (d->started_us != 0 || d->timeout_seconds == 0) {  // the second signal, or no drain
    g_main_loop_quit(d->loop);
    return G_SOURCE_CONTINUE;  // removed by serve_main, after the loop
  }
  d->started_us = g_get_monotonic_time();
  d->server->drain();
  std::fprintf(stderr,
               "ams serve: draining: %u answers under way, new requests answered 503 (at most "
               "%u s; a second signal stops at once)\n",
               d->server->answering(), d->timeout_seconds);
  d->check = g_timeout_add(50, drained, d);
  return G_SOURCE_CONTINUE;
}

std::vector<GOptionEntry> option_entries(Options& o) {
  return {
      {"config", 0, 0, G_OPTION_ARG_FILENAME, &o.config,
       "Read options from the [serve] group of this key file, the long option names as keys; "
       "the command line overrides it (default: /etc/gst-ams/ams.conf when installed and there)",
       "FILE"},
      {"db", 0, 0, G_OPTION_ARG_FILENAME, &o.db, "Database (default: $AMS_DB or ~/.local/share)",
       "FILE"},
      {"listen", 0, 0, G_OPTION_ARG_STRING, &o.listen,
       "Address and port to listen on for HTTP (default 127.0.0.1:8080; port 0: any free port; "
       "none: no HTTP, with --tls-listen)",
       "ADDR:PORT"},
      {"tls-listen", 0, 0, G_OPTION_ARG_STRING, &o.tls_listen,
       "Address and port to listen on for HTTPS as well (default: none)", "ADDR:PORT"},
      {"tls-certificate", 0, 0, G_OPTION_ARG_FILENAME, &o.tls_certificate,
       "HTTPS: the server's certificate and then its chain, PEM (SIGHUP reads it again)", "FILE"},
      {"tls-key", 0, 0, G_OPTION_ARG_FILENAME, &o.tls_key,
       "HTTPS: the certificate's private key, PEM, unencrypted (default: in --tls-certificate)",
       "FILE"},
      {"max-age", 0, 0, G_OPTION_ARG_INT, &o.max_age,
       "Cache-Control max-age of manifests and fragments (default 259200 = 3 days, as AMS)",
       "SECONDS"},
      {"max-concurrent", 0, 0, G_OPTION_ARG_INT, &o.max_concurrent,
       "Packaging pipelines running at once (default 16)", "N"},
      {"max-queue", 0, 0, G_OPTION_ARG_INT, &o.max_queue,
       "Requests waiting for a pipeline before the server answers 503 (default 256)", "N"},
      {"threads", 0, 0, G_OPTION_ARG_INT, &o.threads,
       "HTTP loops, one thread each, sharing the port (default: one per core)", "N"},
      {"timeout", 0, 0, G_OPTION_ARG_INT, &o.timeout,
       "Seconds a pipeline may take before the request fails with 500 (default 60)", "SECONDS"},
      {"idle-timeout", 0, 0, G_OPTION_ARG_INT, &o.idle_timeout,
       "Seconds a keep-alive connection may wait for its next request (default 60; 0: no limit)",
       "SECONDS"},
      {"header-timeout", 0, 0, G_OPTION_ARG_INT, &o.header_timeout,
       "Seconds a request's headers may take to arrive, from the accept for the first request "
       "(default 30; 0: no limit)",
       "SECONDS"},
      {"send-timeout", 0, 0, G_OPTION_ARG_INT, &o.send_timeout,
       "Seconds an answer may wait for the client to read before the connection is reset "
       "(default 60; 0: no limit)",
       "SECONDS"},
      {"max-connections", 0, 0, G_OPTION_ARG_INT, &o.max_connections,
       "Connections the server holds at once; beyond, 503 and close (default 10000)", "N"},
      {"max-connections-per-client", 0, 0, G_OPTION_ARG_INT, &o.max_connections_per_client,
       "Connections from one client address; beyond, 503 and close (default 256)", "N"},
      {"max-request-line", 0, 0, G_OPTION_ARG_INT, &o.max_request_line,
       "Bytes of a request line; beyond, 414 (default 8192)", "BYTES"},
      {"max-header-bytes", 0, 0, G_OPTION_ARG_INT, &o.max_header_bytes,
       "Bytes of a request's header fields; beyond, 431 (default 32768)", "BYTES"},
      {"drain-timeout", 0, 0, G_OPTION_ARG_INT, &o.drain_timeout,
       "On SIGTERM or SIGINT, seconds the answers under way may take to finish while new "
       "requests are answered 503 (default 30; 0: stop at once)",
       "SECONDS"},
      {"cross-domain", 0, 0, G_OPTION_ARG_FILENAME, &o.cross_domain,
       "File served as /crossdomain.xml (default: allow any domain, as AMS)", "FILE"},
      {"client-access-policy", 0, 0, G_OPTION_ARG_FILENAME, &o.client_access_policy,
       "File served as /clientaccesspolicy.xml (default: AMS's example policy)", "FILE"},
      {"player-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.player_dir,
       "Folder of the player page served at / (default: the installed one, or the source "
       "tree's tools/player when run from the build tree)",
       "DIR"},
      {"operator-token-file", 0, 0, G_OPTION_ARG_FILENAME, &o.operator_token_file,
       "The operator's token (first line of FILE, 16 characters or more) that /api/locators and "
       "the details of /api/status need (default: a new one, printed at start)",
       "FILE"},
      {"access-log", 0, 0, G_OPTION_ARG_FILENAME, &o.access_log,
       "Append one line per request to FILE, or to standard output with '-'", "FILE|-"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
}

// Fills `o` from the configuration file's [serve] group (when `config_file` is not empty) and
// then from `cli` (the command line after the program's name), so that the command line wins.
// The first time, GStreamer's options are parsed too; when SIGHUP reads the options again, the
// command line (checked at start) may hold GStreamer's options, which are left alone.
Status parse_options(Options& o, const std::string& config_file,
                     const std::vector<std::string>& cli, bool first) {
  std::vector<GOptionEntry> entries = option_entries(o);
  GLibPtr<GOptionContext> context(g_option_context_new(""));
  g_option_context_set_summary(context.get(),
                               "Serve the published assets as AMS does: Smooth, HLS (v3, v4, "
                               "CMAF) and DASH (CSF, CMAF), packaged per request.");
  g_option_context_add_main_entries(context.get(), entries.data(), nullptr);
  if (first) {
    g_option_context_add_group(context.get(), gst_init_get_option_group());
  } else {
    g_option_context_set_ignore_unknown_options(context.get(), TRUE);
  }
  std::vector<std::string> merged = {"ams-serve"};
  if (!config_file.empty()) {
    AMS_ASSIGN_OR_RETURN(std::vector<std::string> from_file,
                         config_arguments(config_file, entries.data()));
    merged.insert(merged.end(), from_file.begin(), from_file.end());
  }
  merged.insert(merged.end(), cli.begin(), cli.end());
  std::vector<char*> argv;
  for (std::string& a : merged) argv.push_back(a.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(merged.size());
  char** args = argv.data();
  GError* error = nullptr;
  if (!g_option_context_parse(context.get(), &argc, &args, &error)) {
    Status st = invalid_argument(error->message);
    g_error_free(error);
    return st;
  }
  if (first && argc > 1) return invalid_argument(std::string("unexpected argument ") + args[1]);
  if (o.max_age < 0 || o.max_concurrent < 1 || o.max_queue < 0 || o.timeout < 1 || o.threads < 0 ||
      o.drain_timeout < 0 || o.drain_timeout > 86400) {
    return invalid_argument(
        "--max-age >= 0, --max-concurrent >= 1, --timeout >= 1, --threads >= 0, 0 <= "
        "--drain-timeout <= 86400");
  }
  // libsoup drops, without an answer, a connection whose request line and headers pass 64 KiB
  // together: the limits that answer 414 and 431 must be reached first.
  constexpr gint kSoupHeaderLimit = 64 * 1024;
  constexpr gint kDay = 86400;
  if (o.idle_timeout < 0 || o.header_timeout < 0 || o.send_timeout < 0 || o.idle_timeout > kDay ||
      o.header_timeout > kDay || o.send_timeout > kDay || o.max_connections < 1 ||
      o.max_connections_per_client < 1 || o.max_request_line < 64 || o.max_header_bytes < 1024 ||
      o.max_request_line + o.max_header_bytes > kSoupHeaderLimit - 1024) {
    return invalid_argument(
        "--idle-timeout, --header-timeout, --send-timeout 0 to 86400, "
        "--max-connections(-per-client) >= 1, --max-request-line >= 64, "
        "--max-header-bytes >= 1024, and their sum at most 63 KiB");
  }
  return Status::ok();
}

// The server's configuration from the options (the operator token apart).
server::Config config_of(const Options& o) {
  server::Config config;
  if (o.listen != nullptr) config.listen = std::string_view(o.listen) == "none" ? "" : o.listen;
  if (o.tls_listen != nullptr) config.tls_listen = o.tls_listen;
  if (o.tls_certificate != nullptr) config.tls_certificate_file = o.tls_certificate;
  if (o.tls_key != nullptr) config.tls_key_file = o.tls_key;
  config.max_age_seconds = static_cast<unsigned>(o.max_age);
  config.max_concurrent = static_cast<unsigned>(o.max_concurrent);
  config.max_queue = static_cast<unsigned>(o.max_queue);
  config.pipeline_timeout_seconds = static_cast<unsigned>(o.timeout);
  config.threads = o.threads > 0 ? static_cast<unsigned>(o.threads) : g_get_num_processors();
  config.database = o.db != nullptr ? o.db : store::default_database_path();
  config.idle_timeout_ms = static_cast<unsigned>(o.idle_timeout) * 1000;
  config.header_timeout_ms = static_cast<unsigned>(o.header_timeout) * 1000;
  config.send_timeout_ms = static_cast<unsigned>(o.send_timeout) * 1000;
  config.max_connections = static_cast<unsigned>(o.max_connections);
  config.max_connections_per_client = static_cast<unsigned>(o.max_connections_per_client);
  config.max_request_line = static_cast<unsigned>(o.max_request_line);
  config.max_header_bytes = static_cast<unsigned>(o.max_header_bytes);
  if (o.cross_domain != nullptr) config.cross_domain_file = o.cross_domain;
  if (o.client_access_policy != nullptr) config.client_access_policy_file = o.client_access_policy;
  if (o.access_log != nullptr) config.access_log = o.access_log;
  if (o.player_dir != nullptr) config.player_dir = o.player_dir;
  return config;
}

// SIGHUP, what logrotate and daemon managers send (its default action would end the process
// with status 129): the access log is opened again at its path, then the configuration file and
// the command line are read again, and what may change while serving changes. Each option that
// differs is one line on stderr, applied or needing a restart; a file that cannot be read, or a
// value out of range, changes nothing.
struct Reload {
  server::Server* server = nullptr;
  Drain* drain = nullptr;
  std::string config_file;
  std::vector<std::string> cli;
  std::string token;  // the operator's token in use
};

gboolean reload(gpointer data) {
  auto* r = static_cast<Reload*>(data);
  Status st = r->server->reopen_access_log();
  if (!st) std::fprintf(stderr, "ams serve: SIGHUP: %s\n", st.to_string().c_str());
  const std::string source = r->config_file.empty() ? "the command line" : r->config_file;
  auto refused = [&](const Status& why) {
    std::fprintf(stderr, "ams serve: SIGHUP: %s; the configuration stays as it was\n",
                 why.message().c_str());
    return G_SOURCE_CONTINUE;
  };
  Options o;
  st = parse_options(o, r->config_file, r->cli, false);
  if (!st) return refused(st);
  server::Config config = config_of(o);
  // Without a token file the token made at start stays.
  config.operator_token = r->token;
  if (o.operator_token_file != nullptr) {
    auto token = server::read_token_file(o.operator_token_file);
    if (!token) return refused(token.status());
    config.operator_token = *token;
  }
  auto changes = r->server->reconfigure(config);
  if (!changes) return refused(changes.status());
  r->token = config.operator_token;
  const unsigned drain = static_cast<unsigned>(o.drain_timeout);
  if (drain != r->drain->timeout_seconds) {
    changes->push_back({"drain-timeout", std::to_string(r->drain->timeout_seconds) + " s",
                        std::to_string(drain) + " s", true});
    r->drain->timeout_seconds = drain;
  }
  std::fprintf(stderr, "ams serve: SIGHUP: read %s again: %zu options changed\n", source.c_str(),
               changes->size());
  for (const server::ConfigChange& c : *changes) {
    std::fprintf(stderr, "ams serve: SIGHUP: %s: %s -> %s: %s\n", c.option.c_str(),
                 c.before.empty() ? "(none)" : c.before.c_str(),
                 c.after.empty() ? "(none)" : c.after.c_str(),
                 c.applied ? "applied" : "needs a restart, unchanged until then");
  }
  return G_SOURCE_CONTINUE;
}

}  // namespace

int serve_main(int argc, char** argv) {
  Options o;
  // The configuration file's options go first, so that the command line's win.
  std::string config_file = default_config_path();
  std::vector<std::string> cli;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--config" && i + 1 < argc) config_file = argv[i + 1];
    if (a.substr(0, 9) == "--config=") config_file = std::string(a.substr(9));
    cli.emplace_back(a);
  }
  if (Status st = parse_options(o, config_file, cli, true); !st) {
    std::fprintf(stderr, "ams serve: %s\n", st.message().c_str());
    return 2;
  }
  tune_allocator(o.threads > 0 ? static_cast<unsigned>(o.threads) : g_get_num_processors());
  // GStreamer's streaming threads come from GLib's shared thread pool, which keeps 2 idle
  // threads by default and ends the others: every media request started (clone, a fresh stack,
  // its page faults) and ended threads. Keep enough for every pipeline that may run, for a minute.
  g_thread_pool_set_max_unused_threads(2 * o.max_concurrent + 8);
  g_thread_pool_set_max_idle_time(60 * 1000);
  gst_init(nullptr, nullptr);
  // Every answer but a download needs the gstams elements: say so now, not with 500s later.
  for (const char* name : {"amsdemux", "amscmafmux", "amstsmux", "amsmanifestsink", "appsink"}) {
    GstPtr<GstElementFactory> factory(gst_element_factory_find(name));
    if (!factory)
      return fail(std::string("no GStreamer element ") + name + " (set GST_PLUGIN_PATH)");
  }

  server::Config config = config_of(o);
  const std::string& db = config.database;
  auto store = store::Store::open(db);
  if (!store) return fail(db + ": " + store.status().to_string());

  // The locator list is the operator's: without a token of theirs, one made now, told only here.
  const bool own_token = o.operator_token_file == nullptr;
  auto token = own_token ? server::new_token() : server::read_token_file(o.operator_token_file);
  if (!token) return fail(token.status().to_string());
  config.operator_token = *token;

  // The server's GSources attach to the default context, which this loop runs.
  GLibPtr<GMainLoop> loop(g_main_loop_new(nullptr, FALSE));
  auto server = server::Server::create(config, std::move(*store));
  if (!server) return fail(server.status().to_string());
  Result<std::vector<std::string>> urls = (*server)->listen();
  if (!urls) return fail(urls.status().to_string());
  const std::string* url = &urls->front();
  // Before the URL is printed: whoever reads it may signal at once.
  Drain drain;
  drain.loop = loop.get();
  drain.server = server->get();
  drain.timeout_seconds = static_cast<unsigned>(o.drain_timeout);
  guint sigint = g_unix_signal_add(SIGINT, quit, &drain);
  guint sigterm = g_unix_signal_add(SIGTERM, quit, &drain);
  Reload reloading;
  reloading.server = server->get();
  reloading.drain = &drain;
  reloading.config_file = config_file;
  reloading.cli = std::move(cli);
  reloading.token = *token;
  guint sighup = g_unix_signal_add(SIGHUP, reload, &reloading);
  // One line per listener, HTTP's first: "Serving DB on http://127.0.0.1:8080/".
  for (const std::string& u : *urls) std::printf("Serving %s on %s\n", db.c_str(), u.c_str());
  if (own_token) {
    std::printf(
        "Operator token (for /api/locators and /api/status; --operator-token-file sets "
        "one): %s\nPlayer page: %s#token=%s\n",
        token->c_str(), url->c_str(), token->c_str());
  }
  std::fflush(stdout);
  g_main_loop_run(loop.get());
  g_source_remove(sigint);
  g_source_remove(sigterm);
  if (drain.check != 0) g_source_remove(drain.check);
  g_source_remove(sighup);
  std::fprintf(stderr, "ams serve: shutting down\n");
  (*server)->shutdown();
  server->reset();  // stops every pipeline and waits for the worker threads
  return 0;
}

}  // namespace ams::tools
