#include "server.h"

#include <gio/gio.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "admission.h"
#include "base/json.h"
#include "base/path.h"
#include "catalog.h"
#include "clearkey.h"
#include "connections.h"
#include "download.h"
#include "fmp4/protection.h"
#include "http.h"
#include "key_policy.h"
#include "metrics.h"
#include "model/builder.h"
#include "model/index_cache.h"
#include "model/media_file.h"
#include "operator_auth.h"
#include "player_page.h"
#include "respond.h"
#include "routes.h"

namespace ams::server {
namespace {

constexpr char kAllowedMethods[] = "GET, HEAD, OPTIONS";  // and POST of a ClearKey licence
constexpr char kStartQuark[] = "ams-request-start";
// Connections the kernel may hold before a loop accepts them (capped by somaxconn).
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

// The server's TLS certificate from its PEM files (Config::tls_certificate_file, the key in
// tls_key_file or, without one, in the same file), and the PEM text it was made from, which
// tells a SIGHUP whether a file read again changed.
struct Certificate {
  GTlsCertificate* certificate = nullptr;  // owned by whoever takes it
  std::string pem;
};

// "" when `pem` holds a private key that is the one of its first certificate; "no key" when it
// holds none; else what OpenSSL says.
std::string key_problem(const std::string& pem) {
  BIO* certificates = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  BIO* keys = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  // Each reader skips the PEM blocks of other kinds. No passphrase: OpenSSL's default would ask
  // the terminal for one.
  pem_password_cb* no_passphrase = [](char*, int, int, void*) { return 0; };
  X509* certificate = PEM_read_bio_X509(certificates, nullptr, no_passphrase, nullptr);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(keys, nullptr, no_passphrase, nullptr);
  std::string problem;
  if (key == nullptr) {
    problem = "no key";
  } else if (certificate == nullptr || X509_check_private_key(certificate, key) != 1) {
    problem = "key values mismatch";
  }
  EVP_PKEY_free(key);
  X509_free(certificate);
  BIO_free(keys);
  BIO_free(certificates);
  ERR_clear_error();  // what the readers left on this thread's queue
  return problem;
}

Result<Certificate> load_certificate(const Config& c) {
  if (c.tls_certificate_file.empty()) {
    return invalid_argument("--tls-listen needs --tls-certificate (a PEM file)");
  }
  if (!g_tls_backend_supports_tls(g_tls_backend_get_default())) {
    return unsupported("HTTPS needs GLib's TLS backend (Debian: glib-networking)");
  }
  Certificate out;
  AMS_ASSIGN_OR_RETURN(out.pem, read_file(c.tls_certificate_file));
  if (!c.tls_key_file.empty()) {
    AMS_ASSIGN_OR_RETURN(std::string key, read_file(c.tls_key_file));
    out.pem += "\n" + key;
  }
  GError* error = nullptr;
  out.certificate = g_tls_certificate_new_from_pem(out.pem.c_str(), -1, &error);
  if (out.certificate == nullptr) {
    std::string message = error->message;
    g_error_free(error);
    return invalid_argument("the TLS certificate " + c.tls_certificate_file + ": " + message);
  }
  // GLib takes a certificate without its key, or with another certificate's, and every
  // handshake would then fail: OpenSSL checks that the key is the certificate's, as nginx does.
  std::string problem = key_problem(out.pem);
  if (!problem.empty()) {
    g_object_unref(out.certificate);
    const std::string& key_file = c.tls_key_file.empty() ? c.tls_certificate_file : c.tls_key_file;
    if (problem == "no key") {
      return invalid_argument("no private key in " + key_file +
                              (c.tls_key_file.empty() ? " (--tls-key names its file)" : ""));
    }
    return invalid_argument("the private key in " + key_file +
                            " is not the one of the certificate " + c.tls_certificate_file + " (" +
                            problem + ")");
  }
  return out;
}

// What `encryption=` a request may ask under its policy, and what is served (docs/protection.md):
// a clear policy takes none; an encrypted one needs one of its schemes (AMS's 403s); of those,
// AES-128 (`encryption=cbc`) on HLS v3, v4 and CMAF under an envelope policy and CENC
// (`encryption=cenc`) on DASH CSF and CMAF under a common encryption policy, and CBCS
// (`encryption=cbcs`) on DASH CMAF and HLS CMAF under a policy with a CBCS key, are served; the
// rest (DASH SEA, Smooth, cbcs-aapl, PIFF) answers 501 until it is.
std::optional<HttpError> encryption_refusal(const store::Policy& policy, const url::Request& r,
                                            manifest::Format format) {
  const bool encrypted_policy = policy.encryption != store::Encryption::kNone;
  if (encrypted_policy && r.encryption.empty()) {
    return http_error(403, hresult::kEncryptionRequired);
  }
  if (!encrypted_policy) {
    if (r.encryption.empty()) return std::nullopt;
    return http_error(403, hresult::kEncryptionNotInPolicy);
  }
  const bool envelope = policy.encryption == store::Encryption::kEnvelope;
  // The key type each scheme needs; a scheme whose key the policy does not give is not in it.
  const std::string& e = r.encryption;
  const char* needs = e == "cbc"                        ? store::kEnvelopeEncryption
                      : e == "cenc" || e == "piff"      ? store::kCommonEncryptionCenc
                      : e == "cbcs" || e == "cbcs-aapl" ? store::kCommonEncryptionCbcs
                                                        : nullptr;
  const std::vector<std::string> types = store::content_key_types(policy);
  if (needs == nullptr || std::find(types.begin(), types.end(), needs) == types.end()) {
    return http_error(403, hresult::kEncryptionNotInPolicy,
                      "encryption=" + r.encryption + " is not a scheme of " + policy.name);
  }
  if (envelope && manifest::is_hls(format)) {
    return std::nullopt;
  }
  if (policy.encryption == store::Encryption::kCommonCenc && r.encryption == "cenc" &&
      manifest::is_dash(format)) {
    return std::nullopt;
  }
  // cbcs: one set of CMAF segments for DASH CMAF and HLS CMAF, with the policy's CBCS key.
  if (r.encryption == "cbcs" &&
      (format == manifest::Format::kDashCmaf || format == manifest::Format::kHlsCmaf)) {
    return std::nullopt;
  }
  return http_error(501, hresult::kEncryptionNotSupported,
                    "encryption=" + r.encryption + " in this format is not served yet");
}

// A query parameter, any case, WWW-form decoded (AMS's players sent token=Bearer+eyJ... as well
// as Bearer%20); "" when absent.
std::string query_parameter(SoupServerMessage* msg, const char* name) {
  GUri* uri = soup_server_message_get_uri(msg);
  const char* query = uri != nullptr ? g_uri_get_query(uri) : nullptr;
  if (query == nullptr) return "";
  GHashTable* params = g_uri_parse_params(
      query, -1, "&", GUriParamsFlags(G_URI_PARAMS_CASE_INSENSITIVE | G_URI_PARAMS_WWW_FORM),
      nullptr);
  if (params == nullptr) return "";
  const char* value = static_cast<const char*>(g_hash_table_lookup(params, name));
  std::string out = value != nullptr ? value : "";
  g_hash_table_unref(params);
  return out;
}

std::string header(SoupServerMessage* msg, const char* name) {
  const char* value =
      soup_message_headers_get_list(soup_server_message_get_request_headers(msg), name);
  return value != nullptr ? value : "";
}

// "http://host:port" as the client asked: the scheme it connected with and its Host header
// (RFC 9110 7.2), or the address it reached when it sent none. Characters a URL host cannot hold
// are refused (the result goes into an MPD): "" then, and the MPD's URLs stay host-relative.
std::string request_origin(SoupServerMessage* msg) {
  GUri* uri = soup_server_message_get_uri(msg);
  const char* scheme = uri != nullptr ? g_uri_get_scheme(uri) : nullptr;
  std::string host = header(msg, "Host");
  if (host.empty() && uri != nullptr && g_uri_get_host(uri) != nullptr) {
    host = g_uri_get_host(uri);
    if (g_uri_get_port(uri) > 0) host += ":" + std::to_string(g_uri_get_port(uri));
  }
  if (host.empty() || host.size() > 255) return "";
  for (char c : host) {
    if (!g_ascii_isalnum(c) && std::string_view("-._:[]").find(c) == std::string_view::npos) {
      return "";
    }
  }
  return std::string(scheme != nullptr ? scheme : "http") + "://" + host;
}

// 64 random bits as 16 hex digits (GLib's generator, seeded from the system's entropy).
std::string random_hex64() {
  char text[17];
  std::snprintf(text, sizeof text, "%08x%08x", g_random_int(), g_random_int());
  return text;
}

// An X-Request-Id a proxy in front may send, kept when it is a plain token (1 to 64 of
// [A-Za-z0-9._:-]) so that its logs and ours name a request alike; anything else is replaced.
bool usable_request_id(const char* id) {
  if (id == nullptr) return false;
  size_t n = 0;
  for (const char* p = id; *p != '\0'; ++p, ++n) {
    const char c = *p;
    if (n == 64 || !(g_ascii_isalnum(c) || c == '.' || c == '_' || c == ':' || c == '-')) {
      return false;
    }
  }
  return n > 0;
}

// What the access log needs of a request, recorded as it happens: libsoup sets the status of a
// message whose write failed (the client hung up mid-body) to 500 before "request-finished", so
// the status logged is the one that went out with the headers, and a body cut short is a 499.
struct RequestStart {
  gint64 monotonic_us;
  std::string remote;
  guint wire_status = 0;    // the status line sent ("wrote-headers"); 0: none yet
  uint64_t body_bytes = 0;  // body bytes written ("wrote-body-data")
  bool body_done = false;   // "wrote-body"
};

void on_wrote_headers(SoupServerMessage* msg, RequestStart* start) {
  start->wire_status = soup_server_message_get_status(msg);
}

void on_wrote_body_data(SoupServerMessage*, guint n, RequestStart* start) {
  start->body_bytes += n;
}

void on_wrote_body(SoupServerMessage*, RequestStart* start) {
  start->body_done = true;
}

// When and from where: read now, as a client that hangs up takes its address with it.
void on_request_started(SoupServer*, SoupServerMessage* msg) {
  const char* remote = soup_server_message_get_remote_host(msg);
  auto* start = new RequestStart{g_get_monotonic_time(), remote ? remote : ""};
  g_object_set_data_full(G_OBJECT(msg), kStartQuark, start,
                         [](gpointer p) { delete static_cast<RequestStart*>(p); });
  g_signal_connect(msg, "wrote-headers", G_CALLBACK(on_wrote_headers), start);
  g_signal_connect(msg, "wrote-body-data", G_CALLBACK(on_wrote_body_data), start);
  g_signal_connect(msg, "wrote-body", G_CALLBACK(on_wrote_body), start);
}

bool is_head(SoupServerMessage* msg) {
  return soup_server_message_get_method(msg) == SOUP_METHOD_HEAD;
}

// RFC 9110 8.6: Content-Length = 1*DIGIT. libsoup 3.2 reads the value with g_ascii_strtoull, which
// takes a sign ("-5" is 2^64 - 5) and saturates on overflow, and hands its body reader the result
// as a negative length: GObject refuses it with a warning on stderr, and "+5" waits for a body the
// client never sends. Digits only, at most 18 of them (no overflow), pass; so does no header.
constexpr guint64 kMaxRequestBody = 64 * 1024;

bool valid_content_length(const char* value) {
  if (value == nullptr) return true;
  size_t digits = 0;
  for (const char* p = value; *p != '\0'; ++p) {
    if (!g_ascii_isdigit(*p) || ++digits > 18) return false;
  }
  return digits > 0;
}

// The request line as it came, or as near as libsoup lets us see it: method, target (path and
// query, as sent), version. libsoup keeps the raw line only until it has parsed it.
size_t request_line_bytes(SoupServerMessage* msg) {
  GUri* uri = soup_server_message_get_uri(msg);
  size_t target = 0;
  if (uri != nullptr) {
    target = std::strlen(g_uri_get_path(uri));
    if (const char* q = g_uri_get_query(uri)) target += 1 + std::strlen(q);
  }
  return std::strlen(soup_server_message_get_method(msg)) + 1 + target + sizeof(" HTTP/1.1") - 1;
}

// The header block's size on the wire: "Name: value\r\n" per field.
size_t header_bytes(SoupServerMessage* msg) {
  size_t bytes = 0;
  soup_message_headers_foreach(
      soup_server_message_get_request_headers(msg),
      [](const char* name, const char* value, gpointer total) {
        *static_cast<size_t*>(total) += std::strlen(name) + 2 + std::strlen(value) + 2;
      },
      &bytes);
  return bytes;
}

// An error written on the connection itself, which is taken from libsoup first: once the
// headers are parsed libsoup goes on to read the body with the length it took, and nothing tells
// it not to. Called from "got-headers", before that read starts; the connection is closed after.
void refuse_before_body(SoupServerMessage* msg, const HttpError& e, const std::string& service_id) {
  const std::string body = error_body(e, service_id);
  // libsoup 3.2 knows no phrase for 431 ("Unknown Error").
  const char* phrase =
      e.status == 431 ? "Request Header Fields Too Large" : soup_status_get_phrase(e.status);
  std::string answer = "HTTP/1.1 " + std::to_string(e.status) + " " + phrase +
                       "\r\nServer: gst-ams/" AMS_VERSION
                       "\r\nContent-Type: application/xml\r\nCache-Control: no-store\r\n"
                       "Access-Control-Allow-Origin: *\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n";
  const std::string id = request_id(msg);
  if (!id.empty()) answer += "X-Request-Id: " + id + "\r\n";
  if (e.status == 503) answer += "Retry-After: 1\r\n";
  answer += "Connection: close\r\n\r\n";
  if (soup_server_message_get_method(msg) != SOUP_METHOD_HEAD) answer += body;
  // What the access log reads of the message.
  soup_server_message_set_status(msg, e.status, nullptr);
  soup_message_body_append(soup_server_message_get_response_body(msg), SOUP_MEMORY_COPY,
                           body.data(), body.size());
  GIOStream* stream = soup_server_message_steal_connection(msg);
  if (stream == nullptr) return;
  g_output_stream_write_all(g_io_stream_get_output_stream(stream), answer.data(), answer.size(),
                            nullptr, nullptr, nullptr);
  g_io_stream_close(stream, nullptr, nullptr);
  g_object_unref(stream);
}

// The media type of a file offered for download, by its extension.
const char* download_type(const std::string& file) {
  if (iends_with(file, ".m4a") || iends_with(file, ".isma") || iends_with(file, ".mp4a")) {
    return "audio/mp4";
  }
  if (iends_with(file, ".vtt")) return "text/vtt";
  if (iends_with(file, ".ttml") || iends_with(file, ".dfxp")) return "application/ttml+xml";
  if (iends_with(file, ".xml")) return "application/xml";
  return "video/mp4";  // .mp4, .ismv, .m4v
}

// "now" as the Store writes times, formatted once a second rather than once a request.
std::string now_iso(int64_t& second, std::string& text) {
  const int64_t s = g_get_real_time() / G_USEC_PER_SEC;
  if (s != second || text.empty()) {
    second = s;
    text = store::now_iso8601();
  }
  return text;
}

class Loop;

ConnectionLimits limits_of(const Config& c) {
  ConnectionLimits l;
  l.idle_timeout_ms = c.idle_timeout_ms;
  l.header_timeout_ms = c.header_timeout_ms;
  l.send_timeout_ms = c.send_timeout_ms;
  l.max_connections = c.max_connections;
  l.max_per_client = c.max_connections_per_client;
  return l;
}

// What every loop shares: the configuration, the answer cache (thread-safe), the policy files,
// the access log.
struct Shared {
  explicit Shared(const Config& c)
      : config(c), answers(c.answer_cache_entries, c.answer_cache_bytes) {}
  Config config;
  std::string service_id = new_guid();
  AnswerCache answers;
  std::string cross_domain = kDefaultCrossDomainXml;
  std::string client_access_policy = kDefaultClientAccessPolicyXml;
  std::mutex log_lock;
  FILE* access_log = nullptr;
  bool own_log = false;
  std::vector<Loop*> loops;           // set before any request
  std::atomic<bool> draining{false};  // Server::drain(): new requests are answered 503
  ConnectionCounts connections;
  Metrics metrics;
  // With an HTTPS listener: the certificate every loop serves, and its PEM text.
  GTlsCertificate* tls_certificate = nullptr;
  std::string tls_pem;

  ~Shared() {
    if (own_log && access_log != nullptr) std::fclose(access_log);
    if (tls_certificate != nullptr) g_object_unref(tls_certificate);
  }
};

// One HTTP loop: a main context (the caller's for the first loop, a thread's for the others), a
// SoupServer on a SO_REUSEPORT socket of its own (the kernel spreads connections over the loops),
// and a catalog (its own database connection) and an admission of its own.
class Loop {
 public:
  Loop(Shared& shared, std::unique_ptr<store::Store> store, GMainContext* context,
       const Config& admission_config)
      : shared_(shared),
        context_(context),
        catalog_(std::move(store)),
        admission_(admission_config, shared.service_id, context, &shared.answers),
        connections_(limits_of(shared.config), shared.connections, context),
        config_(shared.config),
        cross_domain_(shared.cross_domain),
        client_access_policy_(shared.client_access_policy),
        request_id_prefix_(random_hex64()) {}

  ~Loop() {
    if (soup_ != nullptr) {
      soup_server_disconnect(soup_);
      g_object_unref(soup_);
    }
  }

  // A socket to listen on, and whether it serves HTTPS.
  struct Listener {
    GSocket* socket = nullptr;
    bool https = false;
  };
  // On the loop's thread, with its context the thread default: serve on every listener.
  Status listen(const std::vector<Listener>& listeners);
  // The base URL of each listener, in the order they were given.
  std::vector<std::string> urls() const;
  // On the loop's thread: new HTTPS connections get `certificate`; those open keep theirs.
  void set_certificate(GTlsCertificate* certificate) {
    if (soup_ != nullptr) soup_server_set_tls_certificate(soup_, certificate);
  }
  void shutdown() {
    admission_.cancel_all();
    if (soup_ != nullptr) soup_server_disconnect(soup_);
    connections_.clear();
  }
  Admission::Stats stats() const { return admission_.stats(); }
  GMainContext* context() const { return context_; }
  // On the loop's thread: what Server::reconfigure applies (the rest of `c` is as before).
  void apply(const Config& c, const std::string& cross_domain,
             const std::string& client_access_policy) {
    config_ = c;
    cross_domain_ = cross_domain;
    client_access_policy_ = client_access_policy;
    connections_.set_limits(limits_of(c));
    admission_.set_live(c.max_age_seconds, c.pipeline_timeout_seconds);
  }
  unsigned answering() const { return connections_.answering(); }

 private:
  void handle(SoupServerMessage* msg, const char* path);
  void handle_options(SoupServerMessage* msg);
  void handle_status(SoupServerMessage* msg);
  void handle_key_delivery(SoupServerMessage* msg);
  void handle_clearkey(SoupServerMessage* msg);
  std::optional<KeyDecision> key_refusal_of(SoupServerMessage* msg, const store::ContentKey& key,
                                            const std::string& token_parameter);
  void refuse_key(SoupServerMessage* msg, const KeyDecision& decision);
  bool operator_authorized(SoupServerMessage* msg) const;
  void handle_metrics(SoupServerMessage* msg);
  void count(SoupServerMessage* msg, bool aborted);
  void refuse_operator_path(SoupServerMessage* msg);
  void handle_download(SoupServerMessage* msg, const url::Request& r, const Published& p);
  void answer_download(SoupServerMessage* msg, const Result<std::shared_ptr<DownloadFile>>& opened,
                       const std::string& locator_id, const std::string& name);
  bool answer_from_cache(SoupServerMessage* msg, const PipelineRequest& request);
  void error(SoupServerMessage* msg, const HttpError& e) {
    respond_error(msg, e, shared_.service_id);
  }
  void log(SoupServerMessage* msg);
  std::optional<HttpError> refusal(SoupServerMessage* msg);
  void set_request_id(SoupServerMessage* msg);

  Shared& shared_;
  GMainContext* context_;
  Catalog catalog_;
  Admission admission_;
  ConnectionWatch connections_;
  // The loop's copy of the configuration and policy files: Server::reconfigure replaces them on
  // the loop's thread, so that a request reads them without a lock.
  Config config_;
  std::string cross_domain_;
  std::string client_access_policy_;
  const std::string request_id_prefix_;  // 16 hex digits, random per loop and start
  uint64_t requests_ = 0;
  SoupServer* soup_ = nullptr;
  int64_t now_second_ = 0;
  std::string now_text_;
};

// What "got-headers" refuses, the first that applies: a request line or header block over its
// limit (414, 431: libsoup itself only drops a connection past 64 KiB of both), a connection
// over a limit (503), a Content-Length libsoup would misread (400).
std::optional<HttpError> Loop::refusal(SoupServerMessage* msg) {
  const Config& c = config_;
  if (request_line_bytes(msg) > c.max_request_line) {
    return http_error(414, hresult::kBadRequest, "request line over --max-request-line");
  }
  if (header_bytes(msg) > c.max_header_bytes) {
    return http_error(431, hresult::kHeadersTooLarge, "headers over --max-header-bytes");
  }
  if (connections_.refused(msg)) {
    return http_error(503, hresult::kServerBusy, "over --max-connections(-per-client)");
  }
  if (shared_.draining.load(std::memory_order_relaxed)) {
    return http_error(503, hresult::kServerBusy, "the server is shutting down");
  }
  SoupMessageHeaders* h = soup_server_message_get_request_headers(msg);
  const char* length = soup_message_headers_get_list(h, "Content-Length");
  if (!valid_content_length(length)) return http_error(400, hresult::kBadRequest);
  // Request bodies: only a ClearKey licence request has one, a few hundred bytes. libsoup reads a
  // body whole before the handler runs, so its size is bounded here, and a chunked one (no size
  // known before it is read) is refused.
  if (length != nullptr && g_ascii_strtoull(length, nullptr, 10) > kMaxRequestBody) {
    return http_error(413, hresult::kBadRequest, "request body over 64 KiB");
  }
  if (soup_message_headers_get_encoding(h) == SOUP_ENCODING_CHUNKED) {
    return http_error(411, hresult::kBadRequest, "a request body needs a Content-Length");
  }
  return std::nullopt;
}

// What the endpoint is doing now, for operators and the load test, summed over the loops:
// requests running (planning included) and waiting for a slot, pipelines answered and still being
// stopped (they hold their slot too), and the pipelines that exist, which never exceed `max`.
// Without the operator's token it is a health check that says nothing but that the server answers.
void Loop::handle_status(SoupServerMessage* msg) {
  set_common_headers(msg);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
                               "no-store");
  if (!operator_authorized(msg)) {
    return respond_body(msg, 200, "application/json", "{\"status\": \"ok\"}\n");
  }
  Admission::Stats total;
  for (const Loop* loop : shared_.loops) {
    Admission::Stats s = loop->stats();
    total.running += s.running;
    total.queued += s.queued;
    total.stopping += s.stopping;
    total.live += s.live;
    total.rendering += s.rendering;
  }
  AnswerCache::Stats cache = shared_.answers.stats();
  JsonWriter json;
  json.begin_object().key("status").value("ok").key("pipelines").begin_object();
  json.key("running").value(total.running);
  json.key("stopping").value(total.stopping);
  json.key("live").value(total.live);
  json.key("queued").value(static_cast<uint64_t>(total.queued));
  json.key("max").value(config_.max_concurrent);
  json.end_object();
  json.key("rendering").value(total.rendering);
  json.key("loops").value(static_cast<uint64_t>(shared_.loops.size()));
  json.key("answerCache").begin_object();
  json.key("entries").value(cache.entries);
  json.key("bytes").value(cache.bytes);
  json.key("hits").value(cache.hits);
  json.key("misses").value(cache.misses);
  json.end_object().end_object();
  respond_body(msg, 200, "application/json", json.str() + "\n");
}

// A request's end in the metrics: its kind by its path, its status (an answer cut short is the
// access log's 499), the body bytes handed to libsoup and the time since its handler started.
void Loop::count(SoupServerMessage* msg, bool aborted) {
  const gint64 handled = connections_.handled_at(msg);
  if (handled == 0) return;  // never handled (refused at its headers, or not followed)
  GUri* uri = soup_server_message_get_uri(msg);
  const char* path = uri != nullptr ? g_uri_get_path(uri) : nullptr;
  unsigned status = soup_server_message_get_status(msg);
  if (aborted) status = 499;
  SoupMessageBody* body = soup_server_message_get_response_body(msg);
  const uint64_t bytes =
      body != nullptr && body->length > 0 ? static_cast<uint64_t>(body->length) : 0;
  shared_.metrics.observe(resource_kind_of(path != nullptr ? path : ""), status, bytes,
                          g_get_monotonic_time() - handled);
}

void Loop::handle_metrics(SoupServerMessage* msg) {
  Metrics::Gauges g;
  for (const Loop* loop : shared_.loops) {
    Admission::Stats s = loop->stats();
    g.pipelines_running += s.running;
    g.pipelines_queued += static_cast<unsigned>(s.queued);
    g.pipelines_stopping += s.stopping;
    g.pipelines_live += s.live;
    g.rendering += s.rendering;
  }
  AnswerCache::Stats answers = shared_.answers.stats();
  g.answer_cache_entries = answers.entries;
  g.answer_cache_bytes = answers.bytes;
  g.answer_cache_hits = answers.hits;
  g.answer_cache_misses = answers.misses;
  model::IndexCache::Stats index = model::IndexCache::shared().stats();
  g.index_cache_entries = index.entries;
  g.index_cache_bytes = index.bytes;
  g.index_cache_hits = index.hits;
  g.index_cache_misses = index.misses;
  g.connections_open = shared_.connections.total();
  g.loops = static_cast<unsigned>(shared_.loops.size());
  set_common_headers(msg);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
                               "no-store");
  respond_body(msg, 200, "text/plain; version=0.0.4; charset=utf-8", shared_.metrics.render(g));
}

bool Loop::operator_authorized(SoupServerMessage* msg) const {
  return bearer_matches(
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization"),
      config_.operator_token);
}

// 401 with the challenge RFC 6750 gives for a missing or wrong bearer token, and an ARM-style
// error body (these are management paths, not AMS streaming ones).
void Loop::refuse_operator_path(SoupServerMessage* msg) {
  set_common_headers(msg);
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(h, "Cache-Control", "no-store");
  soup_message_headers_replace(h, "WWW-Authenticate", "Bearer realm=\"gst-ams\"");
  respond_body(msg, 401, "application/json",
               "{\"error\": {\"code\": \"AuthenticationFailed\", \"message\": \"This path "
               "needs the operator's token: Authorization: Bearer TOKEN (ams serve "
               "--operator-token-file).\"}}\n");
}

// A CORS preflight: any origin may GET/HEAD anything, with the headers players send.
void Loop::handle_options(SoupServerMessage* msg) {
  set_common_headers(msg);
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  // The ClearKey licence URL takes the POST of EME's licence request from any page, too.
  GUri* uri = soup_server_message_get_uri(msg);
  const bool licence = uri != nullptr && std::string_view(g_uri_get_path(uri)) == kClearKeyPath;
  const char* methods = licence ? "POST, OPTIONS" : kAllowedMethods;
  soup_message_headers_replace(h, "Access-Control-Allow-Methods", methods);
  std::string asked = header(msg, "Access-Control-Request-Headers");
  soup_message_headers_replace(h, "Access-Control-Allow-Headers",
                               asked.empty()
                                   ? "Range, If-None-Match, If-Modified-Since, If-Range, Accept, "
                                     "Accept-Encoding, Origin"
                                   : asked.c_str());
  soup_message_headers_replace(h, "Access-Control-Max-Age", "86400");
  soup_message_headers_replace(h, "Allow", methods);
  respond_body(msg, 204, "", "");
}

void Loop::handle(SoupServerMessage* msg, const char* path) {
  const Config& config = config_;
  const char* method = soup_server_message_get_method(msg);
  if (method == SOUP_METHOD_OPTIONS) return handle_options(msg);
  if (method == SOUP_METHOD_POST && path != nullptr && std::string_view(path) == kClearKeyPath) {
    return handle_clearkey(msg);
  }
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow",
                                 kAllowedMethods);
    return error(msg, http_error(405, hresult::kMethodNotAllowed));
  }
  std::string_view p = path != nullptr ? path : "";
  if (p.size() > url::kMaxPathLength) return error(msg, http_error(414, hresult::kBadRequest));
  if (p == "/api/status") return handle_status(msg);
  // For load balancers: 200 while the server takes requests (the store opened and the elements
  // found at start; while draining, requests are refused before this).
  if (p == "/healthz") {
    set_common_headers(msg);
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
                                 "no-store");
    return respond_body(msg, 200, "text/plain; charset=utf-8", "ok\n");
  }
  if (p == kKeyDeliveryPath) return handle_key_delivery(msg);
  if (p == kClearKeyPath) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow",
                                 "POST, OPTIONS");
    return error(msg, http_error(405, hresult::kMethodNotAllowed,
                                 "a ClearKey licence is asked for with POST"));
  }
  if (p == "/metrics") {
    if (!operator_authorized(msg)) return refuse_operator_path(msg);
    return handle_metrics(msg);
  }
  if (is_player_path(p)) {
    if (needs_operator_token(p) && !operator_authorized(msg)) return refuse_operator_path(msg);
    PlayerAnswer a = answer_player_path(p, config.player_dir, catalog_.store());
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
    return respond_body(msg, 200, "text/xml", cross ? cross_domain_ : client_access_policy_);
  }
  HttpError failure;
  auto published = catalog_.lookup(r.locator_id, now_iso(now_second_, now_text_), &failure);
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
  if (std::optional<HttpError> refused = encryption_refusal(policy, r, *format)) {
    return error(msg, *refused);
  }
  auto filters = catalog_.filters(**published, r.filters, &failure);
  if (!filters) return error(msg, failure);

  PipelineRequest request;
  request.request = r;
  request.format = *format;
  request.published = *published;
  request.gzip =
      route_of(product_of(r, *format)).compressible && accepts_gzip(header(msg, "Accept-Encoding"));
  request.cache_key = answer_key(r, **published);
  if (*filters) request.cache_key += "\n" + (*filters)->key;
  // A protected MPD names the ClearKey licence URL absolutely (players resolve dashif:Laurl
  // against the page, not the MPD): the answer depends on the host asked.
  if ((r.encryption == "cenc" || r.encryption == "cbcs") && manifest::is_dash(*format)) {
    request.origin = request_origin(msg);
    request.cache_key += "\n" + request.origin;
  }
  request.filters = *filters;
  if (answer_from_cache(msg, request)) return;
  admission_.submit(msg, std::move(request));
}

// Key delivery (docs/protection.md): GET /keydelivery/?kid={key id} answers the 16 bytes of an
// envelope key of an active locator to whom the key's content key policy allows (key_policy.h:
// anyone without a policy, as AMS's open restriction; else a valid token in the Authorization
// header or the token= parameter). A key of any other type (CENC and CBCS keys go to DRM licence
// servers, never in the clear), an unknown id, an inactive locator: 404, the same answer, so that
// nobody learns which ids exist. A refused token: 401, logged with the check that failed.
void Loop::handle_key_delivery(SoupServerMessage* msg) {
  std::optional<std::string> id = url::normalize_guid(query_parameter(msg, "kid"));
  if (!id) return error(msg, http_error(400, hresult::kBadRequest, "kid= is not a GUID"));
  const HttpError unknown = http_error(404, hresult::kNotFound, "no envelope key " + *id);
  std::optional<store::ContentKey> key = catalog_.content_key(*id);
  if (!key || key->type != store::kEnvelopeEncryption || key->value.size() != 16) {
    return error(msg, unknown);
  }
  HttpError failure;
  auto published = catalog_.lookup(key->locator, now_iso(now_second_, now_text_), &failure);
  if (!published) return error(msg, unknown);
  if (auto refused = key_refusal_of(msg, *key, query_parameter(msg, "token"))) {
    return refuse_key(msg, *refused);
  }
  set_common_headers(msg);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
                               "private, no-store");
  respond_body(msg, 200, "application/octet-stream", key->value);
}

// Whether the key's content key policy keeps it from this request (key_policy.h): the decision
// that refuses it, logged with its check and never the token; nullopt when it may go. A policy
// that cannot be read refuses (403).
std::optional<KeyDecision> Loop::key_refusal_of(SoupServerMessage* msg,
                                                const store::ContentKey& key,
                                                const std::string& token_parameter) {
  if (key.policy_name.empty()) return std::nullopt;  // no policy: AMS's open restriction
  std::shared_ptr<const store::ContentKeyPolicy> policy =
      catalog_.content_key_policy(key.policy_name);
  KeyDecision decision;
  if (!policy) {
    decision = KeyDecision{KeyCheck::kNoClearKeyOption,
                           "content key policy '" + key.policy_name + "' cannot be read"};
  } else {
    decision = evaluate_key_request(*policy, key.id,
                                    bearer_token(header(msg, "Authorization"), token_parameter),
                                    g_get_real_time() / G_USEC_PER_SEC);
  }
  if (decision.granted()) return std::nullopt;
  g_message("request %s: key %s refused by content key policy '%s': %s", request_id(msg).c_str(),
            key.id.c_str(), key.policy_name.c_str(), decision.detail.c_str());
  return decision;
}

void Loop::refuse_key(SoupServerMessage* msg, const KeyDecision& decision) {
  HttpError refused = key_refusal(decision);
  if (refused.status == 401) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "WWW-Authenticate",
                                 www_authenticate(decision).c_str());
  }
  error(msg, refused);
}

// ClearKey licences (docs/protection.md): POST /keydelivery/clearkey/ with EME's JSON request
// answers the keys asked for that are common encryption keys (CENC, CBCS) of active locators, as
// JSON Web Keys. An id that is unknown, inactive or of an envelope key is left out (the same for
// each, so nobody learns which ids exist); none left: 404. The keys' content key policies apply
// as at AES-128 key delivery (the token in Authorization or token=).
void Loop::handle_clearkey(SoupServerMessage* msg) {
  SoupMessageBody* body = soup_server_message_get_request_body(msg);
  GBytes* bytes = soup_message_body_flatten(body);
  gsize size = 0;
  const char* data = static_cast<const char*>(g_bytes_get_data(bytes, &size));
  Result<ClearKeyRequest> asked = parse_clearkey_request(std::string_view(data ? data : "", size));
  g_bytes_unref(bytes);
  if (!asked) return error(msg, http_error(400, hresult::kBadRequest, asked.status().message()));
  std::vector<ClearKeyLicenceKey> keys;
  // A key its content key policy refuses is left out too; with none left, the first refusal is
  // the answer (401 and its challenge), as for an AES-128 key.
  std::optional<KeyDecision> first_refusal;
  const std::string token_parameter = query_parameter(msg, "token");
  for (const KeyBytes& kid : asked->kids) {
    std::optional<store::ContentKey> key = catalog_.content_key(fmp4::key_id_uuid(kid));
    if (!key || key->type == store::kEnvelopeEncryption || key->value.size() != 16) continue;
    HttpError failure;
    if (!catalog_.lookup(key->locator, now_iso(now_second_, now_text_), &failure)) continue;
    if (auto refused = key_refusal_of(msg, *key, token_parameter)) {
      if (!first_refusal) first_refusal = std::move(refused);
      continue;
    }
    ClearKeyLicenceKey k;
    k.kid = kid;
    std::copy(key->value.begin(), key->value.end(), k.key.begin());
    keys.push_back(k);
  }
  if (keys.empty() && first_refusal) return refuse_key(msg, *first_refusal);
  if (keys.empty()) {
    return error(msg, http_error(404, hresult::kNotFound, "no common encryption key of those ids"));
  }
  set_common_headers(msg);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
                               "private, no-store");
  respond_body(msg, 200, "application/json", clearkey_licence(keys, asked->type));
}

// A manifest, playlist or init segment made before, from a presentation that is still what the
// files say: answered at once, on the loop, from memory.
bool Loop::answer_from_cache(SoupServerMessage* msg, const PipelineRequest& request) {
  const ProductRoute& route = route_of(product_of(request.request, request.format));
  // A media segment's URL may name a WebVTT segment, which the cache keeps (known once planned).
  if (!route.cached && request.request.kind != url::Kind::kFragment) return false;
  std::shared_ptr<const Answer> a = shared_.answers.find(request.cache_key);
  if (!a) return false;
  std::shared_ptr<const model::Presentation> p = model::cached_presentation(a->asset_path);
  if (!p || p->id != a->presentation_id) {
    shared_.answers.erase(request.cache_key);
    return false;
  }
  const bool gzipped = request.gzip && a->gzipped != nullptr;
  Entity e;
  e.content_type = a->content_type;
  e.etag = etag_for_coding(a->etag, gzipped);
  e.last_modified_ns = a->last_modified_ns;
  e.last_modified = a->last_modified;
  e.gzipped = gzipped;
  e.vary_encoding = route.compressible || a->gzipped != nullptr;
  e.max_age_seconds = config_.max_age_seconds;
  answer_entity(msg, e, Body::of(gzipped ? a->gzipped : a->body), shared_.service_id);
  return true;
}

// A download being opened on a worker: its message, paused meanwhile, and whether libsoup has
// finished with it (the server was shut down) before the answer is ready.
struct PendingDownload {
  explicit PendingDownload(SoupServerMessage* m) : msg(SOUP_SERVER_MESSAGE(g_object_ref(m))) {
    finished_handler = g_signal_connect_swapped(
        msg, "finished", G_CALLBACK(+[](PendingDownload* d) { d->finished = true; }), this);
  }
  ~PendingDownload() {
    g_signal_handler_disconnect(msg, finished_handler);
    g_object_unref(msg);
  }
  PendingDownload(const PendingDownload&) = delete;
  PendingDownload& operator=(const PendingDownload&) = delete;

  SoupServerMessage* msg;
  gulong finished_handler = 0;
  bool finished = false;
  std::optional<Result<std::shared_ptr<DownloadFile>>> opened;
};

// Opening a download checks where the file really is and may read its index (download.h): on a
// worker, the message paused meanwhile.
void Loop::handle_download(SoupServerMessage* msg, const url::Request& r,
                           const Published& published) {
  auto pending = std::make_shared<PendingDownload>(msg);
  soup_server_message_pause(msg);
  admission_.run_off_loop([pending, folder = published.asset.path,
                           file = r.file] { pending->opened.emplace(open_download(folder, file)); },
                          [this, pending, locator = published.locator.id, file = r.file] {
                            if (pending->finished) return;
                            soup_server_message_unpause(pending->msg);
                            answer_download(pending->msg, *pending->opened, locator, file);
                          });
}

void Loop::answer_download(SoupServerMessage* msg,
                           const Result<std::shared_ptr<DownloadFile>>& opened,
                           const std::string& locator_id, const std::string& name) {
  if (!opened) {
    return error(msg, http_error(404, hresult::kNotFound, opened.status().to_string()));
  }
  DownloadFile& file = **opened;
  const uint64_t size = file.state().size;
  Entity e;
  e.content_type = download_type(name);
  // The file's state as the presentation's identity takes it (size, mtime, ctime, inode).
  e.etag = make_etag(locator_id + "\n" + file.path() + "\n" + model::identity_of(file.state()));
  e.last_modified_ns = file.state().mtime_ns;
  e.max_age_seconds = config_.max_age_seconds;
  if (answer_not_modified(msg, e)) return;
  const RangeAnswer range = decide_range(msg, e, size);
  set_entity_headers(msg, e, range, size);
  if (range.status == 416) return error(msg, http_error(416, hresult::kRangeNotSatisfiable));
  if (is_head(msg)) return;
  stream_file_range(msg, file.release(), range.first, range.length);
}

// Every answer names its request (X-Request-Id), as the access log line and any error logged for
// it do: the proxy's id when it sent a usable one, else the loop's prefix and its count.
void Loop::set_request_id(SoupServerMessage* msg) {
  const char* given =
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "X-Request-Id");
  SoupMessageHeaders* out = soup_server_message_get_response_headers(msg);
  if (usable_request_id(given)) return soup_message_headers_replace(out, "X-Request-Id", given);
  char id[33];
  std::snprintf(id, sizeof id, "%s%016llx", request_id_prefix_.c_str(),
                static_cast<unsigned long long>(++requests_));
  soup_message_headers_replace(out, "X-Request-Id", id);
}

void Loop::log(SoupServerMessage* msg) {
  if (config_.access_log.empty()) return;
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
    // A key request's token= is a credential: never written down.
    if (const char* q = g_uri_get_query(uri)) e.path += "?" + redact_token(q);
  }
  e.http_version =
      soup_server_message_get_http_version(msg) == SOUP_HTTP_1_0 ? "HTTP/1.0" : "HTTP/1.1";
  e.status = soup_server_message_get_status(msg);
  bool body = !is_head(msg) && e.status != 304 && e.status != 204;
  e.bytes = body ? static_cast<uint64_t>(soup_server_message_get_response_body(msg)->length) : 0;
  if (start != nullptr && start->wire_status != 0) {
    // Headers went out: log what the client was sent (nginx's 499 for a body it did not take).
    e.status = start->wire_status;
    e.bytes = start->body_bytes;
    if (!start->body_done && body) e.status = 499;
  }
  e.referer = header(msg, "Referer");
  e.user_agent = header(msg, "User-Agent");
  e.request_id = request_id(msg);
  std::string line = access_log_line(e) + "\n";
  // Under the lock: reopen_access_log() swaps the file.
  std::lock_guard<std::mutex> guard(shared_.log_lock);
  std::fputs(line.c_str(), shared_.access_log);
  std::fflush(shared_.access_log);
}

Status Loop::listen(const std::vector<Listener>& listeners) {
  soup_ = soup_server_new("server-header", "gst-ams/" AMS_VERSION " ", "tls-certificate",
                          shared_.tls_certificate, nullptr);
  if (shared_.access_log != nullptr) {
    g_signal_connect(soup_, "request-started", G_CALLBACK(on_request_started), nullptr);
    auto log = G_CALLBACK(+[](SoupServer*, SoupServerMessage* msg, Loop* self) { self->log(msg); });
    g_signal_connect(soup_, "request-finished", log, this);
    g_signal_connect(soup_, "request-aborted", log, this);
  }
  // An aborted request (libsoup gave up on its answer, and may keep the connection: a damaged
  // file's fragment that fails after its headers went out) is over too: its connection no longer
  // counts as answering, or a drain would wait for it forever.
  g_signal_connect(soup_, "request-finished",
                   G_CALLBACK(+[](SoupServer*, SoupServerMessage* msg, Loop* self) {
                     self->count(msg, false);
                     self->connections_.request_finished(msg);
                   }),
                   this);
  g_signal_connect(soup_, "request-aborted",
                   G_CALLBACK(+[](SoupServer*, SoupServerMessage* msg, Loop* self) {
                     self->count(msg, true);
                     self->connections_.request_finished(msg);
                   }),
                   this);
  // Requests over a limit, and headers libsoup would act on wrongly, are refused before it
  // reads a body.
  g_signal_connect(
      soup_, "request-started", G_CALLBACK(+[](SoupServer*, SoupServerMessage* msg, Loop* self) {
        self->connections_.request_started(msg);
        g_signal_connect(msg, "got-headers", G_CALLBACK(+[](SoupServerMessage* m, Loop* loop) {
                           loop->set_request_id(m);
                           if (std::optional<HttpError> e = loop->refusal(m)) {
                             GSocket* socket = soup_server_message_get_socket(m);
                             refuse_before_body(m, *e, loop->shared_.service_id);
                             if (socket != nullptr) loop->connections_.closed(socket);
                             loop->log(m);  // libsoup, without the connection, finishes nothing
                           }
                         }),
                         self);
      }),
      this);
  soup_server_add_handler(
      soup_, nullptr,
      [](SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*, gpointer data) {
        auto* self = static_cast<Loop*>(data);
        self->connections_.handling(msg);
        self->handle(msg, path);
      },
      this, nullptr);
  for (const Listener& l : listeners) {
    GError* error = nullptr;
    const auto options =
        static_cast<SoupServerListenOptions>(l.https ? SOUP_SERVER_LISTEN_HTTPS : 0);
    if (!soup_server_listen_socket(soup_, l.socket, options, &error)) {
      std::string message = error->message;
      g_error_free(error);
      return io_error("cannot listen: " + message);
    }
  }
  return Status::ok();
}

std::vector<std::string> Loop::urls() const {
  GSList* uris = soup_server_get_uris(soup_);
  std::vector<std::string> urls;
  for (GSList* u = uris; u != nullptr; u = u->next) {
    gchar* text = g_uri_to_string(static_cast<GUri*>(u->data));
    urls.emplace_back(text);
    g_free(text);
  }
  g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
  return urls;
}

// A listening socket on `address` that other loops can bind to as well (SO_REUSEPORT), with a
// deep accept backlog: GSocket's default of 10 drops the SYNs of a burst of new connections (64
// at once under wrk: 169 listen overflows, each a 1 s retransmission).
// Whether `address` is free, checked before the loops bind it with SO_REUSEPORT. Another process of
// the same user that listens there with SO_REUSEPORT too (a second `ams serve` started by mistake,
// an old version left running) would otherwise share the port without a word, the kernel handing
// each new connection to one of the two. A socket without SO_REUSEPORT cannot bind a port that any
// socket listens on; SO_REUSEADDR lets it past connections of an earlier run in TIME_WAIT.
Status address_is_free(GSocketAddress* address) {
  const int fd = ::socket(g_socket_address_get_family(address), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return io_error(g_strerror(errno));
  const int on = 1;
  sockaddr_storage native{};
  const gssize length = g_socket_address_get_native_size(address);
  Status st = Status::ok();
  if (length <= 0 || !g_socket_address_to_native(address, &native, sizeof native, nullptr)) {
    st = invalid_argument("an address of an unknown kind");
  } else if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
             ::bind(fd, reinterpret_cast<sockaddr*>(&native), static_cast<socklen_t>(length)) !=
                 0) {
    st = io_error(errno == EADDRINUSE ? "the address is in use (is another server listening "
                                        "there?)"
                                      : g_strerror(errno));
  }
  ::close(fd);
  return st;
}

Result<GSocket*> reusable_listener(GSocketAddress* address) {
  GError* error = nullptr;
  GSocket* socket = g_socket_new(g_socket_address_get_family(address), G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, &error);
  bool ok = socket != nullptr;
  std::string why;
  if (ok) {
    g_socket_set_listen_backlog(socket, kListenBacklog);
    // bind(2) itself: g_socket_bind turns SO_REUSEPORT off for stream sockets.
    const int fd = g_socket_get_fd(socket);
    const int on = 1;
    sockaddr_storage native{};
    const gssize length = g_socket_address_get_native_size(address);
    ok = ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0 &&
         ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) == 0 && length > 0 &&
         g_socket_address_to_native(address, &native, sizeof native, &error) &&
         ::bind(fd, reinterpret_cast<sockaddr*>(&native), static_cast<socklen_t>(length)) == 0;
    if (!ok && error == nullptr) why = g_strerror(errno);
    ok = ok && g_socket_listen(socket, &error);
  }
  if (!ok) {
    std::string message = error != nullptr ? error->message
                          : !why.empty()   ? why
                                           : "cannot create a socket";
    g_clear_error(&error);
    if (socket != nullptr) g_object_unref(socket);
    return io_error(message);
  }
  return socket;
}

// Config of one loop's admission: its share of the pipeline and queue bounds, so that their sum
// is the server's.
Config share_of(const Config& config, unsigned loop, unsigned loops) {
  Config c = config;
  c.max_concurrent =
      std::max(1u, config.max_concurrent / loops + (loop < config.max_concurrent % loops ? 1 : 0));
  c.max_queue = config.max_queue / loops + (loop < config.max_queue % loops ? 1 : 0);
  return c;
}

}  // namespace

struct Server::Impl {
  explicit Impl(const Config& c) : shared(c) {}
  Shared shared;
  std::unique_ptr<store::Store> first_store;
  std::vector<std::unique_ptr<Loop>> loops;
  struct Thread {
    std::thread thread;
    GMainContext* context = nullptr;
    GMainLoop* main_loop = nullptr;
  };
  std::vector<Thread> threads;  // loops 1.. run here; loop 0 on the caller's context
  bool stopped = false;
};

Result<std::unique_ptr<Server>> Server::create(const Config& config,
                                               std::unique_ptr<store::Store> store) {
  auto impl = std::make_unique<Impl>(config);
  Shared& shared = impl->shared;
  if (shared.config.player_dir.empty()) shared.config.player_dir = default_player_dir();
  if (!config.cross_domain_file.empty()) {
    AMS_ASSIGN_OR_RETURN(shared.cross_domain, read_file(config.cross_domain_file));
  }
  if (!config.client_access_policy_file.empty()) {
    AMS_ASSIGN_OR_RETURN(shared.client_access_policy, read_file(config.client_access_policy_file));
  }
  if (config.access_log == "-") {
    shared.access_log = stdout;
  } else if (!config.access_log.empty()) {
    shared.access_log = std::fopen(config.access_log.c_str(), "a");
    if (shared.access_log == nullptr) return io_error("cannot open " + config.access_log);
    shared.own_log = true;
  }
  if (config.threads > 1 && config.database.empty()) {
    return invalid_argument("more than one loop needs the database path (Config::database)");
  }
  if (config.listen.empty() && config.tls_listen.empty()) {
    return invalid_argument("nothing to listen on: give --listen, --tls-listen or both");
  }
  if (!config.tls_listen.empty()) {
    AMS_ASSIGN_OR_RETURN(Certificate tls, load_certificate(config));
    shared.tls_certificate = tls.certificate;
    shared.tls_pem = std::move(tls.pem);
  } else if (!config.tls_certificate_file.empty() || !config.tls_key_file.empty()) {
    return invalid_argument("--tls-certificate and --tls-key need --tls-listen");
  }
  impl->first_store = std::move(store);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  shutdown();
}

namespace {

// `listen` ("ADDR:PORT", "[V6]:PORT") as a socket address; `option` names it in errors.
Result<GSocketAddress*> parse_address(const std::string& listen, const char* option) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return invalid_argument(std::string(option) + " wants ADDR:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  guint64 port = 0;
  if (!g_ascii_string_to_unsigned(listen.c_str() + colon + 1, 10, 0, 65535, &port, nullptr)) {
    return invalid_argument(std::string("bad port in ") + option + " " + listen);
  }
  GSocketAddress* address =
      g_inet_socket_address_new_from_string(host.c_str(), static_cast<guint>(port));
  if (address == nullptr)
    return invalid_argument(std::string("bad address in ") + option + " " + listen);
  return address;
}

}  // namespace

Result<std::vector<std::string>> Server::listen() {
  Impl* impl = impl_.get();
  Shared& shared = impl->shared;
  // Each endpoint: the address every loop binds (the first loop's, once bound: port 0 is then
  // the port it got) and whether it is HTTPS.
  struct Endpoint {
    std::string text;
    GSocketAddress* bound = nullptr;
    bool https = false;
  };
  std::vector<Endpoint> endpoints;
  if (!shared.config.listen.empty()) endpoints.push_back({"--listen " + shared.config.listen});
  if (!shared.config.tls_listen.empty()) {
    endpoints.push_back({"--tls-listen " + shared.config.tls_listen, nullptr, true});
  }
  auto release = [&] {
    for (Endpoint& e : endpoints) g_clear_object(&e.bound);
  };
  const unsigned loops = std::max(1u, shared.config.threads);

  // Loop 0, on the caller's context. Its sockets fix the ports the others bind to.
  std::vector<Loop::Listener> first;
  auto close_first = [&] {
    for (Loop::Listener& l : first) g_object_unref(l.socket);
    first.clear();
  };
  Status st = Status::ok();
  for (Endpoint& e : endpoints) {
    const std::string& value = e.https ? shared.config.tls_listen : shared.config.listen;
    Result<GSocketAddress*> address = parse_address(value, e.https ? "--tls-listen" : "--listen");
    if (!address) {
      st = address.status();
      break;
    }
    const bool any_port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(*address)) == 0;
    if (!any_port) st = address_is_free(*address);
    Result<GSocket*> socket = st ? reusable_listener(*address) : Result<GSocket*>(st);
    g_object_unref(*address);
    if (!socket) {
      st = Status(socket.status()).with_context("cannot listen on " + value);
      break;
    }
    e.bound = g_socket_get_local_address(*socket, nullptr);
    first.push_back({*socket, e.https});
  }
  if (!st) {
    close_first();
    release();
    return st;
  }
  GMainContext* main = g_main_context_get_thread_default() ? g_main_context_get_thread_default()
                                                           : g_main_context_default();
  impl->loops.push_back(std::make_unique<Loop>(shared, std::move(impl->first_store), main,
                                               share_of(shared.config, 0, loops)));
  shared.loops.push_back(impl->loops.back().get());
  st = impl->loops[0]->listen(first);
  close_first();
  for (unsigned i = 1; i < loops && st; ++i) {
    auto store = store::Store::open(shared.config.database);
    if (!store) {
      st = store.status();
      break;
    }
    std::vector<Loop::Listener> sockets;
    for (const Endpoint& e : endpoints) {
      Result<GSocket*> socket = reusable_listener(e.bound);
      if (!socket) {
        st = Status(socket.status()).with_context("cannot listen on " + e.text);
        break;
      }
      sockets.push_back({*socket, e.https});
    }
    if (!st) {
      for (Loop::Listener& l : sockets) g_object_unref(l.socket);
      break;
    }
    Impl::Thread t;
    t.context = g_main_context_new();
    t.main_loop = g_main_loop_new(t.context, FALSE);
    impl->loops.push_back(std::make_unique<Loop>(shared, std::move(*store), t.context,
                                                 share_of(shared.config, i, loops)));
    Loop* loop = impl->loops.back().get();
    shared.loops.push_back(loop);
    std::promise<Status> ready;
    std::future<Status> started = ready.get_future();
    t.thread = std::thread([loop, sockets, context = t.context, main_loop = t.main_loop, &ready] {
      g_main_context_push_thread_default(context);
      Status listening = loop->listen(sockets);
      for (const Loop::Listener& l : sockets) g_object_unref(l.socket);
      const bool ok = listening.is_ok();
      ready.set_value(std::move(listening));
      if (ok) g_main_loop_run(main_loop);
      g_main_context_pop_thread_default(context);
    });
    st = started.get();
    impl->threads.push_back(std::move(t));
  }
  release();
  if (!st) return st;
  return impl->loops[0]->urls();
}

Status Server::reopen_access_log() {
  Shared& shared = impl_->shared;
  if (!shared.own_log) return Status::ok();
  FILE* reopened = std::fopen(shared.config.access_log.c_str(), "a");
  if (reopened == nullptr) {
    return io_error("cannot reopen " + shared.config.access_log + ": " + g_strerror(errno));
  }
  std::lock_guard<std::mutex> guard(shared.log_lock);
  std::fclose(shared.access_log);
  shared.access_log = reopened;
  return Status::ok();
}

namespace {

std::string seconds_of_ms(unsigned ms) {
  return std::to_string(ms / 1000) + " s";
}

// Every option of Config, named as on the command line: its value as the report shows it, and,
// for one a running server can take, how it is taken (nullptr: only at a restart).
struct Option {
  const char* name;
  std::string (*text)(const Config&);
  void (*take)(Config& into, const Config& from);
};

#define AMS_TAKE(field) [](Config& into, const Config& from) { into.field = from.field; }

const Option kOptions[] = {
    {"listen", [](const Config& c) { return c.listen; }, nullptr},
    {"tls-listen", [](const Config& c) { return c.tls_listen; }, nullptr},
    // Taken while HTTPS is served (read again by reconfigure); without it, at a restart.
    {"tls-certificate", [](const Config& c) { return c.tls_certificate_file; },
     [](Config& into, const Config& from) {
       if (!into.tls_listen.empty()) into.tls_certificate_file = from.tls_certificate_file;
     }},
    {"tls-key", [](const Config& c) { return c.tls_key_file; },
     [](Config& into, const Config& from) {
       if (!into.tls_listen.empty()) into.tls_key_file = from.tls_key_file;
     }},
    {"threads", [](const Config& c) { return std::to_string(c.threads); }, nullptr},
    {"db", [](const Config& c) { return c.database; }, nullptr},
    {"max-concurrent", [](const Config& c) { return std::to_string(c.max_concurrent); }, nullptr},
    {"max-queue", [](const Config& c) { return std::to_string(c.max_queue); }, nullptr},
    {"max-age", [](const Config& c) { return std::to_string(c.max_age_seconds) + " s"; },
     AMS_TAKE(max_age_seconds)},
    {"timeout", [](const Config& c) { return std::to_string(c.pipeline_timeout_seconds) + " s"; },
     AMS_TAKE(pipeline_timeout_seconds)},
    {"idle-timeout", [](const Config& c) { return seconds_of_ms(c.idle_timeout_ms); },
     AMS_TAKE(idle_timeout_ms)},
    {"header-timeout", [](const Config& c) { return seconds_of_ms(c.header_timeout_ms); },
     AMS_TAKE(header_timeout_ms)},
    {"send-timeout", [](const Config& c) { return seconds_of_ms(c.send_timeout_ms); },
     AMS_TAKE(send_timeout_ms)},
    {"max-connections", [](const Config& c) { return std::to_string(c.max_connections); },
     AMS_TAKE(max_connections)},
    {"max-connections-per-client",
     [](const Config& c) { return std::to_string(c.max_connections_per_client); },
     AMS_TAKE(max_connections_per_client)},
    {"max-request-line", [](const Config& c) { return std::to_string(c.max_request_line); },
     AMS_TAKE(max_request_line)},
    {"max-header-bytes", [](const Config& c) { return std::to_string(c.max_header_bytes); },
     AMS_TAKE(max_header_bytes)},
    {"cross-domain", [](const Config& c) { return c.cross_domain_file; },
     AMS_TAKE(cross_domain_file)},
    {"client-access-policy", [](const Config& c) { return c.client_access_policy_file; },
     AMS_TAKE(client_access_policy_file)},
    {"player-dir", [](const Config& c) { return c.player_dir; }, AMS_TAKE(player_dir)},
    // The token itself never goes to a log.
    {"operator-token-file",
     [](const Config& c) { return std::string(c.operator_token.empty() ? "(none)" : "(set)"); },
     AMS_TAKE(operator_token)},
    // The log's path may change; turning it on or off changes the signals each loop connected.
    {"access-log", [](const Config& c) { return c.access_log; },
     [](Config& into, const Config& from) {
       if (into.access_log.empty() == from.access_log.empty()) into.access_log = from.access_log;
     }},
};

#undef AMS_TAKE

// The values of `next` that a running server takes, over `now`.
Config live_part(const Config& now, const Config& next) {
  Config c = now;
  for (const Option& o : kOptions) {
    if (o.take != nullptr) o.take(c, next);
  }
  return c;
}

// Runs `task` on `context` (at once when this thread owns it), without waiting for it.
void run_on(GMainContext* context, std::function<void()> task) {
  auto* owned = new std::function<void()>(std::move(task));
  g_main_context_invoke_full(
      context, G_PRIORITY_DEFAULT,
      [](gpointer data) -> gboolean {
        (*static_cast<std::function<void()>*>(data))();
        return G_SOURCE_REMOVE;
      },
      owned, [](gpointer data) { delete static_cast<std::function<void()>*>(data); });
}

}  // namespace

Result<std::vector<ConfigChange>> Server::reconfigure(const Config& asked) {
  Shared& shared = impl_->shared;
  Config next = asked;
  if (next.player_dir.empty()) next.player_dir = default_player_dir();
  const Config applied = live_part(shared.config, next);
  // Everything that can fail first: then nothing changes when something cannot be read.
  std::string cross = kDefaultCrossDomainXml;
  std::string client = kDefaultClientAccessPolicyXml;
  if (!applied.cross_domain_file.empty()) {
    AMS_ASSIGN_OR_RETURN(cross, read_file(applied.cross_domain_file));
  }
  if (!applied.client_access_policy_file.empty()) {
    AMS_ASSIGN_OR_RETURN(client, read_file(applied.client_access_policy_file));
  }
  std::optional<Certificate> tls;
  if (!applied.tls_listen.empty()) {
    AMS_ASSIGN_OR_RETURN(tls, load_certificate(applied));
  }
  FILE* new_log = nullptr;
  if (applied.access_log != shared.config.access_log && applied.access_log != "-") {
    new_log = std::fopen(applied.access_log.c_str(), "a");
    if (new_log == nullptr) {
      if (tls) g_object_unref(tls->certificate);
      return io_error("cannot open " + applied.access_log + ": " + g_strerror(errno));
    }
  }
  std::vector<ConfigChange> changes;
  for (const Option& o : kOptions) {
    ConfigChange c{o.name, o.text(shared.config), o.text(next), false};
    if (c.before != c.after) {
      c.applied = o.take != nullptr && o.text(applied) == c.after;
      changes.push_back(std::move(c));
    }
  }
  // A policy file read again from the same path may say something new.
  if (applied.cross_domain_file == shared.config.cross_domain_file &&
      !applied.cross_domain_file.empty() && cross != shared.cross_domain) {
    changes.push_back({"cross-domain", applied.cross_domain_file,
                       applied.cross_domain_file + " (its content changed)", true});
  }
  if (applied.client_access_policy_file == shared.config.client_access_policy_file &&
      !applied.client_access_policy_file.empty() && client != shared.client_access_policy) {
    changes.push_back({"client-access-policy", applied.client_access_policy_file,
                       applied.client_access_policy_file + " (its content changed)", true});
  }
  // A certificate renewed in place (certbot, a secret store) is a new one under the same path.
  const bool new_certificate = tls && tls->pem != shared.tls_pem;
  if (new_certificate && applied.tls_certificate_file == shared.config.tls_certificate_file &&
      applied.tls_key_file == shared.config.tls_key_file) {
    changes.push_back({"tls-certificate", applied.tls_certificate_file,
                       applied.tls_certificate_file + " (its content changed)", true});
  }
  if (new_certificate) {
    g_object_unref(shared.tls_certificate);
    shared.tls_certificate = tls->certificate;
    shared.tls_pem = std::move(tls->pem);
    for (Loop* loop : shared.loops) {
      GTlsCertificate* certificate = G_TLS_CERTIFICATE(g_object_ref(shared.tls_certificate));
      run_on(loop->context(), [loop, certificate] {
        loop->set_certificate(certificate);
        g_object_unref(certificate);
      });
    }
  } else if (tls) {
    g_object_unref(tls->certificate);
  }
  if (applied.access_log != shared.config.access_log) {
    std::lock_guard<std::mutex> guard(shared.log_lock);
    if (shared.own_log) std::fclose(shared.access_log);
    shared.own_log = new_log != nullptr;
    shared.access_log = new_log != nullptr ? new_log : stdout;
  }
  shared.config = applied;
  shared.cross_domain = cross;
  shared.client_access_policy = client;
  for (Loop* loop : shared.loops) {
    run_on(loop->context(),
           [loop, applied, cross, client] { loop->apply(applied, cross, client); });
  }
  return changes;
}

void Server::drain() {
  if (impl_) impl_->shared.draining = true;
}

unsigned Server::answering() const {
  unsigned n = 0;
  if (impl_) {
    for (const Loop* loop : impl_->shared.loops) n += loop->answering();
  }
  return n;
}

void Server::shutdown() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  // Each loop is stopped, and then destroyed, on its own thread: libsoup and the admission's
  // sources belong to its context.
  for (size_t i = 0; i < impl_->threads.size(); ++i) {
    Impl::Thread& t = impl_->threads[i];
    Loop* loop = impl_->loops[i + 1].get();
    std::promise<void> done;
    run_on(t.context, [&] {
      loop->shutdown();
      done.set_value();
    });
    done.get_future().wait();
  }
  if (!impl_->loops.empty()) impl_->loops[0]->shutdown();
  for (size_t i = 0; i < impl_->threads.size(); ++i) {
    Impl::Thread& t = impl_->threads[i];
    // Destroyed while its context is the thread default of no one but idle.
    std::promise<void> done;
    run_on(t.context, [&, i] {
      impl_->loops[i + 1].reset();
      g_main_loop_quit(t.main_loop);
      done.set_value();
    });
    done.get_future().wait();
    t.thread.join();
    g_main_loop_unref(t.main_loop);
    g_main_context_unref(t.context);
  }
  impl_->threads.clear();
}

}  // namespace ams::server
