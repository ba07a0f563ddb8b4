#include "agent/web/http_server.h"

#include <CivetServer.h>
#include <civetweb.h>
#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <strings.h>

#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "agent/core/text.h"
#include "agent/web/basic_auth.h"
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
    return 1;
  }

  static int on_log_message(const mg_connection* conn, const char* message) {
    spdlog::warn("http: civetweb: {}", message);
    const mg_context* ctx = conn != nullptr ? mg_get_context(conn) : nullptr;
    if (Impl* impl = ctx != nullptr ? from_server(mg_get_user_data(ctx)) : nullptr) {
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
      "request_timeout_ms",
      "10000",
      // CivetWeb gives each connection a thread for its lifetime: with keep-alive, scrapers
      // reuse their connection (no TCP handshake per scrape), and enough threads keep one busy
      // client from queueing the others. Without TCP_NODELAY the body, written after the
      // headers, waits for the delayed ACK of the first segment (~40 ms).
      "enable_keep_alive",
      "yes",
      "keep_alive_timeout_ms",
      "2000",
      "tcp_nodelay",
      "1",
  };
  CivetCallbacks callbacks;
  callbacks.log_message = &Impl::on_log_message;
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

}  // namespace pgbackup
