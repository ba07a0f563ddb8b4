#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/web/server_settings.h"
#include "agent/web/web_config.h"

namespace pgbackup {

// One HTTP request as a handler sees it (the body is never read: handlers serve GET and HEAD).
struct HttpRequest {
  std::string method;       // "GET" or "HEAD"
  std::string path;         // URL-decoded and normalised, without the query string
  std::string query;        // after '?', not decoded; empty when absent
  std::string user;         // the basic-auth user, empty when authentication is off
  std::string remote_addr;  // client IP address
  std::vector<std::pair<std::string, std::string>> headers;

  // The first header called `name` (case-insensitive), or "" when there is none.
  std::string_view header(std::string_view name) const;
};

// What a handler answers; Content-Length is added by the server, and HEAD drops the body.
struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, e.g. Location
};

using HttpHandlerFn = std::function<HttpResponse(const HttpRequest&)>;

// The agent's HTTP(S) endpoint on CivetWeb: exact-path GET/HEAD handlers behind what an
// exporter-toolkit web config asks for: TLS, basic auth, extra headers and a rate limit.
class HttpServer {
 public:
  // Connections one client address may hold at once (see ConnectionLimit); more are closed at
  // once.
  static constexpr int kConnectionsPerAddress = 8;
  // Milliseconds a connection has for its TLS handshake and then for its request's headers.
  static constexpr int kRequestTimeoutMs = 5000;

  // Listens at once on `listen_addresses` (":10115" is every IPv4 interface, "127.0.0.1:0" a
  // free port); requests get 503 until start(). Throws std::invalid_argument for a malformed
  // address and std::runtime_error naming the address when it cannot listen or TLS fails.
  // `threads` bounds the connections served at once (each kept-alive connection holds one);
  // one client address may hold kConnectionsPerAddress of them, and a connection has
  // kRequestTimeoutMs for its TLS handshake and then as long for its request's headers.
  // `web` is asked for the settings on every request and TLS handshake (it re-reads its file
  // when that changed); TLS is on or off for the server's life as it was at construction.
  HttpServer(std::vector<std::string> listen_addresses, std::shared_ptr<WebConfigFile> web,
             int threads = 64);
  // With settings that never change.
  HttpServer(std::vector<std::string> listen_addresses, const WebConfig& web, int threads = 64);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Serves `path` (exact match) with `fn`; only before start(). Other methods get 405.
  void handle(const std::string& path, HttpHandlerFn fn);

  // Starts answering with the registered handlers; unknown paths get 404.
  void start();

  // Stops listening and waits for requests in progress; safe to call twice.
  void stop();

  // The bound TCP ports in the order of `listen_addresses` (the real ones for port 0).
  std::vector<int> ports() const;

  // Connections closed unserved because their address held as many as it may.
  unsigned long long connections_refused() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pgbackup
