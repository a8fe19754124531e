#include "server.h"

#include <gio/gio.h>
#include <sys/stat.h>

#include <cstdio>

#include "admission.h"
#include "base/json.h"
#include "base/path.h"
#include "catalog.h"
#include "download.h"
#include "http.h"
#include "model/builder.h"
#include "player_page.h"
#include "respond.h"
#include "routes.h"

namespace ams::server {
namespace {

constexpr char kAllowedMethods[] = "GET, HEAD, OPTIONS";
constexpr char kStartQuark[] = "ams-request-start";
// Connections the kernel may hold before the main loop accepts them (capped by somaxconn).
constexpr gint kListenBacklog = 1024;

Result<std::string> read_file(const std::string& path) {
  gchar* text = nullptr;
  gsize size = 0;
  GError* error = nullptr;
  if (!g_file_get_contents(path.c_str(), &text, &size, &error)) {
    std::string message = error->message;
    g_error_free(error);
    return io_error(path + ": " + message);
  }
  std::string out(text, size);
  g_free(text);
  return out;
}

std::string header(SoupServerMessage* msg, const char* name) {
  const char* value =
      soup_message_headers_get_list(soup_server_message_get_request_headers(msg), name);
  return value != nullptr ? value : "";
}

struct RequestStart {
  gint64 monotonic_us;
  std::string remote;
};

bool is_head(SoupServerMessage* msg) {
  return soup_server_message_get_method(msg) == SOUP_METHOD_HEAD;
}

// libsoup 3.2 (Debian 12) leaks a keep-alive connection that the client closes while idle: the
// socket stays in CLOSE_WAIT and its descriptor is never freed (fixed upstream in 3.3, commit
// d20c6601). Until then, each idle connection is watched between requests and closed when the
// peer has gone. Closing the GSocket object (not its descriptor number) keeps libsoup safe: it
// sees a closed socket, never a reused descriptor.
gboolean on_idle_socket(GSocket* s, GIOCondition condition, gpointer) {
  if (g_socket_is_closed(s)) return G_SOURCE_REMOVE;
  char byte = 0;
  GInputVector vector = {&byte, 1};
  gint flags = G_SOCKET_MSG_PEEK;
  gssize n = (condition & (G_IO_HUP | G_IO_ERR))
                 ? 0
                 : g_socket_receive_message(s, nullptr, &vector, 1, nullptr, nullptr, &flags,
                                            nullptr, nullptr);
  if (n == 0) g_socket_close(s, nullptr);  // the peer closed: free the descriptor
  // Data is the next request (libsoup reads it); an error is libsoup's to handle.
  return G_SOURCE_REMOVE;
}

void watch_idle_connection(SoupServerMessage* msg) {
  GSocket* socket = soup_server_message_get_socket(msg);
  if (socket == nullptr || g_socket_is_closed(socket)) return;
  GSource* source = g_socket_create_source(
      socket, static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR), nullptr);
  // The source holds the socket; the callback needs nothing else.
  g_source_set_callback(source, G_SOURCE_FUNC(on_idle_socket), nullptr, nullptr);
  g_source_attach(source, nullptr);
  g_source_unref(source);
}

}  // namespace

struct Server::Impl {
  Config config;
  std::string service_id = new_guid();
  Catalog catalog;
  AnswerCache answers;
  Admission admission;
  SoupServer* soup = nullptr;
  std::string cross_domain = kDefaultCrossDomainXml;
  std::string client_access_policy = kDefaultClientAccessPolicyXml;
  FILE* access_log = nullptr;
  bool own_log = false;

  Impl(const Config& c, std::unique_ptr<store::Store> store)
      : config(c),
        catalog(std::move(store)),
        answers(c.answer_cache_entries, c.answer_cache_bytes),
        admission(c, service_id,
                  g_main_context_get_thread_default() ? g_main_context_get_thread_default()
                                                      : g_main_context_default(),
                  &answers) {}

  ~Impl() {
    if (soup != nullptr) {
      soup_server_disconnect(soup);
      g_object_unref(soup);
    }
    if (own_log && access_log != nullptr) std::fclose(access_log);
  }

  void handle(SoupServerMessage* msg, const char* path);
  void handle_options(SoupServerMessage* msg);
  void handle_status(SoupServerMessage* msg);
  void handle_download(SoupServerMessage* msg, const url::Request& r, const Published& p);
  bool answer_from_cache(SoupServerMessage* msg, const PipelineRequest& request);
  void error(SoupServerMessage* msg, const HttpError& e) { respond_error(msg, e, service_id); }
  void log(SoupServerMessage* msg);
};

// A CORS preflight: any origin may GET/HEAD anything, with the headers players send.
// What the endpoint is doing now, for operators and the load test: requests running (planning
// included) and waiting for a slot, pipelines answered and still being stopped (they hold their
// slot too), and the pipelines that exist, which never exceed `max`.
void Server::Impl::handle_status(SoupServerMessage* msg) {
  Admission::Stats stats = admission.stats();
  JsonWriter json;
  json.begin_object().key("pipelines").begin_object();
  json.key("running").value(stats.running);
  json.key("stopping").value(stats.stopping);
  json.key("live").value(stats.live);
  json.key("queued").value(static_cast<uint64_t>(stats.queued));
  json.key("max").value(config.max_concurrent);
  json.end_object().end_object();
  set_common_headers(msg);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
                               "no-store");
  respond_body(msg, 200, "application/json", json.str() + "\n");
}

void Server::Impl::handle_options(SoupServerMessage* msg) {
  set_common_headers(msg);
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(h, "Access-Control-Allow-Methods", kAllowedMethods);
  std::string asked = header(msg, "Access-Control-Request-Headers");
  soup_message_headers_replace(
      h, "Access-Control-Allow-Headers",
      asked.empty() ? "Range, If-None-Match, If-Modified-Since, Accept, Accept-Encoding, Origin"
                    : asked.c_str());
  soup_message_headers_replace(h, "Access-Control-Max-Age", "86400");
  soup_message_headers_replace(h, "Allow", kAllowedMethods);
  respond_body(msg, 204, "", "");
}

void Server::Impl::handle(SoupServerMessage* msg, const char* path) {
  const char* method = soup_server_message_get_method(msg);
  if (method == SOUP_METHOD_OPTIONS) return handle_options(msg);
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow",
                                 kAllowedMethods);
    return error(msg, http_error(405, hresult::kMethodNotAllowed));
  }
  std::string_view p = path != nullptr ? path : "";
  if (p.size() > url::kMaxPathLength) return error(msg, http_error(414, hresult::kBadRequest));
  if (p == "/api/status") return handle_status(msg);
  if (is_player_path(p)) {
    PlayerAnswer a = answer_player_path(p, config.player_dir, catalog.store());
    set_common_headers(msg);
    return respond_body(msg, a.status, a.content_type, std::move(a.body));
  }
  Result<url::Request> parsed = url::parse(p);
  if (!parsed) return error(msg, from_status(parsed.status()));
  const url::Request& r = *parsed;
  const Route& route = route_for(r.kind);
  if (route.handler == Handler::kStaticFile) {
    set_common_headers(msg);
    set_cache_headers(msg, config.max_age_seconds, "");
    bool cross = r.kind == url::Kind::kCrossDomain;
    return respond_body(msg, 200, "text/xml", cross ? cross_domain : client_access_policy);
  }
  HttpError failure;
  auto published = catalog.lookup(r.locator_id, store::now_iso8601(), &failure);
  if (!published) return error(msg, failure);
  const store::Policy& policy = (*published)->policy;
  std::optional<manifest::Format> format;
  if (r.kind != url::Kind::kDownload) {
    format = manifest::format_from_name(r.format);
    if (!format) return error(msg, http_error(400, hresult::kBadRequest, "format=" + r.format));
  }
  Protocol protocol = protocol_of(r, format);
  if (!policy_enables(policy.protocols, protocol)) {
    return error(msg, http_error(403, hresult::kProtocolNotEnabled,
                                 std::string(protocol_name(protocol)) + " not in " + policy.name));
  }
  if (route.handler == Handler::kDownload) return handle_download(msg, r, **published);
  // Encrypted delivery and dynamic filters are parsed but not served yet: say so plainly.
  bool encrypted_policy = policy.encryption != store::Encryption::kNone;
  if (encrypted_policy && r.encryption.empty()) {
    return error(msg, http_error(403, hresult::kEncryptionRequired));
  }
  if (!encrypted_policy && !r.encryption.empty()) {
    return error(msg, http_error(403, hresult::kEncryptionNotInPolicy));
  }
  if (encrypted_policy) return error(msg, http_error(501, hresult::kEncryptionNotSupported));
  if (!r.filters.empty()) return error(msg, http_error(501, hresult::kFilterNotSupported));

  PipelineRequest request;
  request.request = r;
  request.format = *format;
  request.published = *published;
  request.gzip =
      route_of(product_of(r, *format)).compressible && accepts_gzip(header(msg, "Accept-Encoding"));
  request.cache_key = answer_key(r, **published);
  if (answer_from_cache(msg, request)) return;
  admission.submit(msg, std::move(request));
}

// A manifest, playlist or init segment made before, from a presentation that is still what the
// files say: answered at once, on the main loop, from memory.
bool Server::Impl::answer_from_cache(SoupServerMessage* msg, const PipelineRequest& request) {
  const ProductRoute& route = route_of(product_of(request.request, request.format));
  if (!route.cached) return false;
  std::shared_ptr<const Answer> a = answers.find(request.cache_key);
  if (!a) return false;
  std::shared_ptr<const model::Presentation> p = model::cached_presentation(a->asset_path);
  if (!p || p->id != a->presentation_id) {
    answers.erase(request.cache_key);
    return false;
  }
  const bool gzipped = request.gzip && a->gzipped != nullptr;
  Entity e;
  e.content_type = a->content_type;
  e.etag = etag_for_coding(a->etag, gzipped);
  e.last_modified_ns = a->last_modified_ns;
  e.gzipped = gzipped;
  e.vary_encoding = route.compressible;
  e.max_age_seconds = config.max_age_seconds;
  answer_entity(msg, e, Body::of(gzipped ? a->gzipped : a->body), service_id);
  return true;
}

namespace {

bool ends_with_ci(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         g_ascii_strcasecmp(s.c_str() + s.size() - suffix.size(), std::string(suffix).c_str()) == 0;
}

// The media type of a file offered for download, by its extension.
const char* download_type(const std::string& file) {
  if (ends_with_ci(file, ".m4a") || ends_with_ci(file, ".isma") || ends_with_ci(file, ".mp4a")) {
    return "audio/mp4";
  }
  if (ends_with_ci(file, ".vtt")) return "text/vtt";
  if (ends_with_ci(file, ".ttml") || ends_with_ci(file, ".dfxp")) return "application/ttml+xml";
  if (ends_with_ci(file, ".xml")) return "application/xml";
  return "video/mp4";  // .mp4, .ismv, .m4v
}

}  // namespace

void Server::Impl::handle_download(SoupServerMessage* msg, const url::Request& r,
                                   const Published& published) {
  // Only media files are offered (never the .ism/.ismc or hidden files), as listPaths says.
  Result<std::string> file = store::is_downloadable(r.file)
                                 ? resolve_inside(published.asset.path, r.file)
                                 : Result<std::string>(not_found(r.file + " is not downloadable"));
  struct stat st {};
  if (!file || ::stat(file->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return error(msg,
                 http_error(404, hresult::kNotFound, file ? *file : file.status().to_string()));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const int64_t mtime_ns =
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  Entity e;
  e.content_type = download_type(r.file);
  e.etag = make_etag(published.locator.id + "\n" + *file + "\n" + std::to_string(size) + ":" +
                     std::to_string(mtime_ns));
  e.last_modified_ns = mtime_ns;
  e.max_age_seconds = config.max_age_seconds;
  if (answer_not_modified(msg, e)) return;
  const RangeAnswer range = decide_range(msg, e, size);
  set_entity_headers(msg, e, range, size);
  if (range.status == 416) return error(msg, http_error(416, hresult::kRangeNotSatisfiable));
  if (is_head(msg)) return;
  stream_file_range(msg, *file, range.first, range.length);
}

void Server::Impl::log(SoupServerMessage* msg) {
  if (access_log == nullptr) return;
  auto* start = static_cast<RequestStart*>(g_object_get_data(G_OBJECT(msg), kStartQuark));
  LogEntry e;
  e.unix_time_us = g_get_real_time();
  if (start != nullptr) {
    e.duration_ms = static_cast<double>(g_get_monotonic_time() - start->monotonic_us) / 1000.0;
    e.remote = start->remote;
  }
  e.method = soup_server_message_get_method(msg);
  GUri* uri = soup_server_message_get_uri(msg);
  if (uri != nullptr) {
    e.path = g_uri_get_path(uri);
    if (const char* q = g_uri_get_query(uri)) e.path += std::string("?") + q;
  }
  e.http_version =
      soup_server_message_get_http_version(msg) == SOUP_HTTP_1_0 ? "HTTP/1.0" : "HTTP/1.1";
  e.status = soup_server_message_get_status(msg);
  bool body = !is_head(msg) && e.status != 304 && e.status != 204;
  e.bytes = body ? static_cast<uint64_t>(soup_server_message_get_response_body(msg)->length) : 0;
  e.referer = header(msg, "Referer");
  e.user_agent = header(msg, "User-Agent");
  std::string line = access_log_line(e) + "\n";
  std::fputs(line.c_str(), access_log);
  std::fflush(access_log);
}

Result<std::unique_ptr<Server>> Server::create(const Config& config,
                                               std::unique_ptr<store::Store> store) {
  auto impl = std::make_unique<Impl>(config, std::move(store));
  if (!config.cross_domain_file.empty()) {
    AMS_ASSIGN_OR_RETURN(impl->cross_domain, read_file(config.cross_domain_file));
  }
  if (!config.client_access_policy_file.empty()) {
    AMS_ASSIGN_OR_RETURN(impl->client_access_policy, read_file(config.client_access_policy_file));
  }
  if (config.access_log == "-") {
    impl->access_log = stdout;
  } else if (!config.access_log.empty()) {
    impl->access_log = std::fopen(config.access_log.c_str(), "a");
    if (impl->access_log == nullptr) return io_error("cannot open " + config.access_log);
    impl->own_log = true;
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  shutdown();
}

Result<std::string> Server::listen() {
  const std::string& listen = impl_->config.listen;
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return invalid_argument("--listen wants ADDR:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  guint64 port = 0;
  if (!g_ascii_string_to_unsigned(listen.c_str() + colon + 1, 10, 0, 65535, &port, nullptr)) {
    return invalid_argument("bad port in --listen " + listen);
  }
  GSocketAddress* address =
      g_inet_socket_address_new_from_string(host.c_str(), static_cast<guint>(port));
  if (address == nullptr) return invalid_argument("bad address in --listen " + listen);

  Impl* impl = impl_.get();
  impl->soup = soup_server_new("server-header", "gst-ams/" AMS_VERSION " ", nullptr);
  // When and from where: read now, as a client that hangs up takes its address with it.
  g_signal_connect(
      impl->soup, "request-started", G_CALLBACK(+[](SoupServer*, SoupServerMessage* msg) {
        const char* remote = soup_server_message_get_remote_host(msg);
        g_object_set_data_full(G_OBJECT(msg), kStartQuark,
                               new RequestStart{g_get_monotonic_time(), remote ? remote : ""},
                               [](gpointer p) { delete static_cast<RequestStart*>(p); });
      }),
      nullptr);
  auto log = G_CALLBACK(+[](SoupServer*, SoupServerMessage* msg, Impl* self) { self->log(msg); });
  g_signal_connect(impl->soup, "request-finished", log, impl);
  g_signal_connect(
      impl->soup, "request-finished",
      G_CALLBACK(+[](SoupServer*, SoupServerMessage* msg) { watch_idle_connection(msg); }),
      nullptr);
  g_signal_connect(impl->soup, "request-aborted", log, impl);
  soup_server_add_handler(
      impl->soup, nullptr,
      [](SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*, gpointer self) {
        static_cast<Impl*>(self)->handle(msg, path);
      },
      impl, nullptr);
  // Our own socket, for its accept backlog: GSocket's default of 10 drops the SYNs of a burst of
  // new connections (64 at once under wrk: 169 listen overflows, each a 1 s retransmission).
  GError* error = nullptr;
  GSocket* socket = g_socket_new(g_socket_address_get_family(address), G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, &error);
  gboolean ok = socket != nullptr;
  if (ok) {
    g_socket_set_listen_backlog(socket, kListenBacklog);
    ok = g_socket_bind(socket, address, TRUE, &error) && g_socket_listen(socket, &error) &&
         soup_server_listen_socket(impl->soup, socket, static_cast<SoupServerListenOptions>(0),
                                   &error);
    g_object_unref(socket);
  }
  g_object_unref(address);
  if (!ok) {
    std::string message = error->message;
    g_error_free(error);
    return io_error("cannot listen on " + listen + ": " + message);
  }
  GSList* uris = soup_server_get_uris(impl->soup);
  std::string url;
  if (uris != nullptr) {
    gchar* text = g_uri_to_string(static_cast<GUri*>(uris->data));
    url = text;
    g_free(text);
  }
  g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
  return url;
}

void Server::shutdown() {
  if (!impl_) return;
  impl_->admission.cancel_all();
  if (impl_->soup != nullptr) soup_server_disconnect(impl_->soup);
}

}  // namespace ams::server
