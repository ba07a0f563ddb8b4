#include "agent/web/http_server.h"

#include <CivetServer.h>
#include <civetweb.h>
#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <strings.h>
#include <sys/socket.h>

#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "agent/core/text.h"
#include "agent/web/basic_auth.h"
#include "agent/web/civetweb_connection.h"
#include "agent/web/connection_limit.h"
#include "agent/web/rate_limit.h"
#include "agent/web/tls_context.h"

// From agent/web/compat/civetweb_openssl3.cpp, a library of its own.
extern "C" int pgbackup_civetweb_openssl3_compat();

namespace pgbackup {
namespace {

// mg_check_feature() bits, from civetweb.h.
constexpr unsigned kFeatureSsl = 2;
constexpr unsigned kFeatureIpv6 = 8;

// Turns a Prometheus-style listen address into a CivetWeb listening_ports entry.
std::string to_civetweb_port(const std::string& address, bool tls) {
  const std::string hint = "invalid listen address \"" + address +
                           "\": expected HOST:PORT or :PORT (e.g. :10115, 127.0.0.1:10115)";
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument(hint);
  const std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5) throw std::invalid_argument(hint);
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) throw std::invalid_argument(hint);
  }
  if (std::stoi(port) > 65535) throw std::invalid_argument(hint);
  const bool ipv6_build = mg_check_feature(kFeatureIpv6) != 0;
  std::string entry;
  if (host.empty()) {
    entry = ipv6_build ? "+" + port : port;  // "+" binds IPv4 and IPv6 together
  } else if (host.front() == '[') {
    if (host.back() != ']') throw std::invalid_argument(hint);
    if (!ipv6_build) {
      throw std::invalid_argument(
          "listen address \"" + address +
          "\": this CivetWeb library was built without IPv6 support; hint: listen on an IPv4 "
          "address (e.g. 127.0.0.1:" +
          port + ") or on :" + port);
    }
    entry = host + ":" + port;
  } else {
    entry = host + ":" + port;
  }
  return tls ? entry + "s" : entry;
}

// "\"a\", \"b\"": the addresses, quoted, for messages.
std::string quoted_list(std::vector<std::string> items) {
  for (std::string& item : items) item = "\"" + item + "\"";
  return join(items, ", ");
}

// CivetWeb finds OpenSSL with dlopen("libssl.so") and calls functions by their OpenSSL 1.1
// names; without SSL_get_peer_certificate it would crash on the first TLS connection. Throws
// instead when the compat library did not take the place of libssl.so.
void check_civetweb_can_load_openssl() {
  if (pgbackup_civetweb_openssl3_compat() != 1) throw std::logic_error("compat library broken");
  void* ssl = dlopen("libssl.so", RTLD_NOW);
  if (ssl == nullptr) {
    const char* error = dlerror();
    throw std::runtime_error(std::string("tls: civetweb cannot load libssl.so: ") +
                             (error ? error : "unknown error") +
                             "; hint: install the agent with its civetweb-compat/libssl.so");
  }
  const bool usable = dlsym(ssl, "SSL_get_peer_certificate") != nullptr;
  dlclose(ssl);
  if (!usable) {
    throw std::runtime_error(
        "tls: the libssl.so that civetweb loads lacks SSL_get_peer_certificate (OpenSSL 3) and "
        "civetweb would crash on the first connection; hint: the agent must find its "
        "civetweb-compat/libssl.so through its RPATH");
  }
}

}  // namespace

std::string_view HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), key.size()) == 0) {
      return value;
    }
  }
  return {};
}

struct HttpServer::Impl {
  // Sends every request, whatever its method or path, to Impl::serve.
  class Dispatcher : public CivetHandler {
   public:
    explicit Dispatcher(Impl& impl) : impl_(impl) {}
    using CivetHandler::handleDelete;
    using CivetHandler::handleGet;
    using CivetHandler::handleHead;
    using CivetHandler::handleOptions;
    using CivetHandler::handlePatch;
    using CivetHandler::handlePost;
    using CivetHandler::handlePut;
    bool handleGet(CivetServer*, mg_connection* conn, int* status) override {
      return serve(conn, status);
    }
    bool handleHead(CivetServer*, mg_connection* conn, int* status) override {
      return serve(conn, status);
    }
    bool handlePost(CivetServer*, mg_connection* conn, int* status) override {
      return serve(conn, status);
    }
    bool handlePut(CivetServer*, mg_connection* conn, int* status) override {
      return serve(conn, status);
    }
    bool handleDelete(CivetServer*, mg_connection* conn, int* status) override {
      return serve(conn, status);
    }
    bool handleOptions(CivetServer*, mg_connection* conn, int* status) override {
      return serve(conn, status);
    }
    bool handlePatch(CivetServer*, mg_connection* conn, int* status) override {
      return serve(conn, status);
    }

   private:
    bool serve(mg_connection* conn, int* status) {
      *status = impl_.serve(conn);
      return true;
    }
    Impl& impl_;
  };

  std::vector<std::string> addresses;
  std::shared_ptr<WebConfigFile> web;
  TlsMaterialSource tls_source;  // for the ClientHello callback: the current TLS material
  std::map<std::string, HttpHandlerFn> handlers;  // written before start(), read after
  std::atomic<bool> started{false};
  std::mutex limit_mutex;
  std::optional<TokenBucket> limiter;  // follows the current rate_limit
  std::mutex log_mutex;
  std::string last_civetweb_error;
  std::vector<int> ports;
  ConnectionLimit connections{kConnectionsPerAddress};
  Dispatcher dispatcher{*this};
  std::unique_ptr<CivetServer> server;  // declared last: stopped before the rest goes away

  // Answers one request; never throws. Returns the status sent.
  int serve(mg_connection* conn) noexcept {
    const mg_request_info* info = mg_get_request_info(conn);
    const bool head = info != nullptr && std::string_view(info->request_method) == "HEAD";
    try {
      HttpRequest request;
      request.method = info->request_method;
      request.path = info->local_uri != nullptr ? info->local_uri : "";
      request.query = info->query_string != nullptr ? info->query_string : "";
      request.remote_addr = info->remote_addr;
      for (int i = 0; i < info->num_headers; ++i) {
        request.headers.emplace_back(info->http_headers[i].name, info->http_headers[i].value);
      }
      const std::shared_ptr<const ServerSettings> settings = web->current();
      HttpResponse response = respond(request, *settings);
      if (response.status != 429) {
        for (const auto& header : settings->config.http.headers) response.headers.push_back(header);
      }
      send(conn, response, head);
      return response.status;
    } catch (const std::exception& e) {
      spdlog::error("http: answering {} failed: {}", info->local_uri ? info->local_uri : "?",
                    e.what());
    } catch (...) {
      spdlog::error("http: answering {} failed with an unknown exception",
                    info->local_uri ? info->local_uri : "?");
    }
    try {
      send(conn, {500, "text/plain; charset=utf-8", "internal server error\n", {}}, head);
    } catch (...) {
    }
    return 500;
  }

  // False when rate_limit refuses a request now.
  bool within_rate_limit(const RateLimitConfig& config) {
    std::lock_guard lock(limit_mutex);
    const auto now = TokenBucket::Clock::now();
    if (!limiter || !(limiter->config().interval == config.interval &&
                      limiter->config().burst == config.burst)) {
      limiter.emplace(config, now);
    }
    return limiter->allow(now);
  }

  HttpResponse respond(HttpRequest& request, const ServerSettings& settings) {
    if (!started.load(std::memory_order_acquire)) {
      return {503, "text/plain; charset=utf-8", "pgbackup-agent is starting\n", {}};
    }
    if (!within_rate_limit(settings.config.rate_limit)) {
      return {429, "text/plain; charset=utf-8", "too many requests\n", {}};
    }
    if (settings.basic_auth) {
      std::optional<std::string> user =
          settings.basic_auth->authenticate(request.header("Authorization"));
      if (!user) {
        return {401,
                "text/plain; charset=utf-8",
                "unauthorized\n",
                {{"WWW-Authenticate", "Basic realm=\"pgbackup-agent\""}}};
      }
      request.user = std::move(*user);
    }
    const auto handler = handlers.find(request.path);
    if (handler == handlers.end()) return {404, "text/plain; charset=utf-8", "not found\n", {}};
    if (request.method != "GET" && request.method != "HEAD") {
      return {405, "text/plain; charset=utf-8", "method not allowed\n", {{"Allow", "GET, HEAD"}}};
    }
    try {
      return handler->second(request);
    } catch (const std::exception& e) {
      spdlog::error("http: handler for {} failed: {}", request.path, e.what());
    } catch (...) {
      spdlog::error("http: handler for {} failed with an unknown exception", request.path);
    }
    return {500, "text/plain; charset=utf-8", "internal server error\n", {}};
  }

  static void send(mg_connection* conn, const HttpResponse& response, bool head) {
    const std::string length = std::to_string(response.body.size());
    mg_response_header_start(conn, response.status);
    mg_response_header_add(conn, "Content-Type", response.content_type.c_str(), -1);
    mg_response_header_add(conn, "Content-Length", length.c_str(), -1);
    for (const auto& [name, value] : response.headers) {
      mg_response_header_add(conn, name.c_str(), value.c_str(), -1);
    }
    mg_response_header_send(conn);
    if (!head && !response.body.empty()) {
      mg_write(conn, response.body.data(), response.body.size());
    }
  }

  // CivetWeb's user data is the CivetServer; ours hangs off it as its user context.
  static Impl* from_server(const void* civet_server) {
    if (civet_server == nullptr) return nullptr;
    return static_cast<Impl*>(
        const_cast<void*>(static_cast<const CivetServer*>(civet_server)->getUserContext()));
  }

  static int on_init_ssl(void* ssl_ctx, void* user_data) {
    Impl* impl = from_server(user_data);
    if (impl == nullptr) return -1;
    install_tls_source(static_cast<SSL_CTX*>(ssl_ctx), &impl->tls_source);
    SSL_CTX_set_info_callback(static_cast<SSL_CTX*>(ssl_ctx), &Impl::on_tls_info);
    return 1;
  }

  // The user connection data of a connection that ConnectionLimit counted, or refused.
  static void* counted() {
    static char tag;
    return &tag;
  }
  static void* refused() {
    static char tag;
    return &tag;
  }

  static Impl* from_connection(const mg_connection* conn) {
    const mg_context* ctx = conn != nullptr ? mg_get_context(conn) : nullptr;
    return ctx != nullptr ? from_server(mg_get_user_data(ctx)) : nullptr;
  }

  // Counts a new connection of `info`'s address; false when it must be refused.
  bool admit(const mg_request_info& info) {
    const ConnectionLimit::Admission admission = connections.admit(info.remote_addr);
    if (admission == ConnectionLimit::Admission::kFirstRefused) {
      spdlog::warn(
          "http: {} holds {} connections, the most one address may; closing its new ones until "
          "one ends (hint: a client that opens connections and sends no request; Prometheus "
          "needs one per target)",
          info.remote_addr, connections.per_address());
    }
    return admission == ConnectionLimit::Admission::kAdmitted;
  }

  // A plain connection, before CivetWeb reads its request (TLS ones are counted when their
  // handshake starts, see on_tls_info, and come here once it is done).
  static int on_init_connection(const mg_connection* conn, void** conn_data) {
    Impl* impl = from_connection(conn);
    const mg_request_info* info = connection_info(conn);
    if (impl == nullptr || info == nullptr) return 0;
    if (info->is_ssl || impl->admit(*info)) {
      *conn_data = counted();
    } else {
      // CivetWeb would wait request_timeout_ms for the headers: ended now, it reads the end.
      shut_down_client_socket(info->remote_addr, info->remote_port, info->server_port);
    }
    return 0;
  }

  // Before a TLS connection's first byte is read.
  static void on_tls_info(const SSL* ssl, int where, int /*ret*/) {
    if ((where & SSL_CB_HANDSHAKE_START) == 0) return;
    const auto* conn = static_cast<const mg_connection*>(SSL_get_app_data(ssl));
    Impl* impl = from_connection(conn);
    const mg_request_info* info = connection_info(conn);
    if (impl == nullptr || info == nullptr || mg_get_user_connection_data(conn) == counted()) {
      return;
    }
    if (impl->admit(*info)) {
      mg_set_user_connection_data(conn, counted());
    } else {
      mg_set_user_connection_data(conn, refused());  // logged once in admit(), not per failure
      ::shutdown(SSL_get_fd(ssl), SHUT_RDWR);        // the handshake fails at once
    }
  }

  static void on_connection_close(const mg_connection* conn) {
    Impl* impl = from_connection(conn);
    const mg_request_info* info = connection_info(conn);
    if (impl != nullptr && info != nullptr && mg_get_user_connection_data(conn) == counted()) {
      impl->connections.release(info->remote_addr);
    }
  }

  static int on_log_message(const mg_connection* conn, const char* message) {
    if (conn != nullptr && mg_get_user_connection_data(conn) == refused()) return 1;
    spdlog::warn("http: civetweb: {}", message);
    if (Impl* impl = from_connection(conn)) {
      std::lock_guard lock(impl->log_mutex);
      impl->last_civetweb_error = message;
    }
    return 1;  // logged here; CivetWeb need not print it too
  }
};

HttpServer::HttpServer(std::vector<std::string> listen_addresses, const WebConfig& web, int threads)
    : HttpServer(std::move(listen_addresses), std::make_shared<WebConfigFile>(web), threads) {}

HttpServer::HttpServer(std::vector<std::string> listen_addresses,
                       std::shared_ptr<WebConfigFile> web_file, int threads)
    : impl_(std::make_unique<Impl>()) {
  if (!web_file) throw std::logic_error("HttpServer needs a web config");
  const std::shared_ptr<const ServerSettings> settings = web_file->current();
  const WebConfig& web = settings->config;
  if (listen_addresses.empty()) {
    throw std::invalid_argument("no listen address; hint: pass --web.listen-address :10115");
  }
  if (threads < 1) throw std::invalid_argument("the http server needs at least one thread");
  if (web.tls && mg_check_feature(kFeatureSsl) == 0) {
    throw std::runtime_error(
        "tls_server_config is set but this CivetWeb library was built without TLS support; "
        "hint: remove tls_server_config from the web config or terminate TLS in a proxy");
  }
  if (web.tls) check_civetweb_can_load_openssl();
  impl_->addresses = std::move(listen_addresses);
  impl_->web = std::move(web_file);
  impl_->tls_source = [web = impl_->web] { return web->current()->tls; };

  std::string ports;
  for (const std::string& address : impl_->addresses) {
    ports += (ports.empty() ? "" : ",") + to_civetweb_port(address, web.tls.has_value());
  }
  const std::vector<std::string> options = {
      "listening_ports",
      ports,  //
      "num_threads",
      std::to_string(threads),
      "enable_directory_listing",
      "no",  // no document_root either: nothing but our handlers
      // The time a connection has for its TLS handshake, then for its request's headers: a
      // client that sends nothing, or half, holds a worker thread that long.
      "request_timeout_ms",
      std::to_string(kRequestTimeoutMs),
      "listen_backlog",
      "1024",
      // CivetWeb gives each connection a thread for its lifetime: with keep-alive, scrapers
      // reuse their connection (no TCP handshake per scrape), enough threads keep one busy
      // client from queueing the others, and ConnectionLimit keeps one address from taking
      // them all. Without TCP_NODELAY the body, written after the headers, waits for the
      // delayed ACK of the first segment (~40 ms).
      "enable_keep_alive",
      "yes",
      "keep_alive_timeout_ms",
      "2000",
      "tcp_nodelay",
      "1",
  };
  CivetCallbacks callbacks;
  callbacks.log_message = &Impl::on_log_message;
  callbacks.init_connection = &Impl::on_init_connection;
  callbacks.connection_close = &Impl::on_connection_close;
  if (web.tls) callbacks.init_ssl = &Impl::on_init_ssl;
  try {
    impl_->server = std::make_unique<CivetServer>(options, &callbacks, impl_.get());
  } catch (const CivetException& e) {
    std::lock_guard lock(impl_->log_mutex);
    std::string detail = impl_->last_civetweb_error.empty() ? e.what() : impl_->last_civetweb_error;
    std::string hint = "hint: another process uses the port? (ss -ltnp)";
    if (detail.find("libssl") != std::string::npos ||
        detail.find("libcrypto") != std::string::npos) {
      hint = "hint: CivetWeb loads libssl.so and libcrypto.so at run time; install libssl-dev";
    }
    throw std::runtime_error("cannot listen on " + quoted_list(impl_->addresses) + ": " + detail +
                             "; " + hint);
  }
  if (!learn_connection_layout()) {
    spdlog::warn(
        "http: cannot learn where civetweb keeps a connection's address; one client address may "
        "hold every worker thread (no limit of {} connections per address)",
        kConnectionsPerAddress);
  }
  impl_->server->addHandler("", impl_->dispatcher);
  impl_->ports = impl_->server->getListeningPorts();
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::handle(const std::string& path, HttpHandlerFn fn) {
  if (impl_->started.load()) {
    throw std::logic_error("HttpServer::handle(\"" + path + "\") called after start()");
  }
  impl_->handlers[path] = std::move(fn);
}

void HttpServer::start() { impl_->started.store(true, std::memory_order_release); }

void HttpServer::stop() {
  if (!impl_->server) return;
  impl_->server->close();  // joins CivetWeb's threads: no handler runs after this
  impl_->server.reset();
  impl_->started.store(false);
}

std::vector<int> HttpServer::ports() const { return impl_->ports; }

unsigned long long HttpServer::connections_refused() const { return impl_->connections.refused(); }

}  // namespace pgbackup
