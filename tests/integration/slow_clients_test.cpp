// Scrapes survive clients that hold connections and send half a request or half a TLS
// handshake: the real daemon, 300 half-open plain connections and 100 stalled TLS handshakes
// from 127.0.0.2, and a scrape from 127.0.0.1 that must be answered within a second.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/core/subprocess.h"
#include "tests/support/daemon.h"
#include "tests/support/target.h"

using namespace pgtest;
using namespace std::chrono_literals;

namespace {

// A plain request cut before the blank line that ends its headers.
const std::string kHalfRequest = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n";
// A TLS record header announcing a 512-byte ClientHello, and none of it.
const std::string kHalfClientHello = std::string("\x16\x03\x01\x02\x00", 5);

// Connections from `from` to 127.0.0.1:`port`, each sent `bytes` and then left open; closed
// when this goes away.
class HeldConnections {
 public:
  HeldConnections(const char* from, int port, int count, const std::string& bytes) {
    for (int i = 0; i < count; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      REQUIRE(fd >= 0);
      fds_.push_back(fd);
      sockaddr_in local{};
      local.sin_family = AF_INET;
      ::inet_pton(AF_INET, from, &local.sin_addr);
      REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof(local)) == 0);
      sockaddr_in server{};
      server.sin_family = AF_INET;
      server.sin_port = htons(static_cast<std::uint16_t>(port));
      ::inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
      if (::connect(fd, reinterpret_cast<const sockaddr*>(&server), sizeof(server)) != 0) {
        REQUIRE(errno == EINPROGRESS);
        pollfd p{fd, POLLOUT, 0};
        REQUIRE(::poll(&p, 1, 2000) == 1);  // bounded: a listener that never accepts fails
      }
      if (!bytes.empty()) {
        REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
                static_cast<ssize_t>(bytes.size()));
      }
    }
  }
  ~HeldConnections() {
    for (int fd : fds_) ::close(fd);
  }
  HeldConnections(const HeldConnections&) = delete;
  HeldConnections& operator=(const HeldConnections&) = delete;

  // True when the server closed `fd`: what it sent (an error page, perhaps) is read, then the
  // end. Reads nothing that is not there.
  static bool ended(int fd) {
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (n == 0) return true;
      if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
    }
  }

  // How many the server has closed, waiting up to `wait` for all of them.
  int closed_by_server(std::chrono::milliseconds wait) const {
    const auto end = std::chrono::steady_clock::now() + wait;
    int closed = 0;
    do {
      closed = 0;
      for (int fd : fds_) closed += ended(fd) ? 1 : 0;
      if (closed == static_cast<int>(fds_.size())) break;
      std::this_thread::sleep_for(100ms);
    } while (std::chrono::steady_clock::now() < end);
    return closed;
  }

 private:
  std::vector<int> fds_;
};

pgbackup::ProcessResult run(std::vector<std::string> argv) {
  pgbackup::ProcessSpec spec;
  spec.argv = std::move(argv);
  spec.timeout = 20s;
  return pgbackup::run_process(spec);
}

struct Timed {
  HttpReply reply;
  std::chrono::milliseconds took{};
};

Timed timed_get(const std::string& url) {
  const auto start = std::chrono::steady_clock::now();
  Timed t;
  t.reply = http_get(url);
  t.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
  return t;
}

// The daemon on a free port, once /metrics answers.
std::unique_ptr<Daemon> start_daemon(const TestTarget& t, int port, const std::string& web_file) {
  auto daemon =
      std::make_unique<Daemon>(t.config, port, web_file, web_file.empty() ? "http" : "https");
  for (int i = 0; i < 200 && http_get(daemon->url("/metrics")).status != 200; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  INFO(daemon->log());
  REQUIRE(http_get(daemon->url("/metrics")).status == 200);
  return daemon;
}

}  // namespace

TEST_CASE("a scrape is answered within 1 s while another address holds 400 stalled connections",
          "[slowclients]") {
  TestTarget t("slow_clients", 0);
  std::string web_file;
  SECTION("plain HTTP") {}
  SECTION("TLS with --web.config.file") {
    const auto r = run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                        "/CN=localhost", "-days", "1", "-keyout", (t.root / "key.pem").string(),
                        "-out", (t.root / "cert.pem").string()});
    INFO(r.err);
    REQUIRE(r.ok());
    web_file = (t.root / "web.yml").string();
    write_text(web_file, "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n");
  }
  INFO("web config: " << (web_file.empty() ? "none" : web_file));
  const int port = free_port();
  const std::unique_ptr<Daemon> daemon = start_daemon(t, port, web_file);

  const HeldConnections half_requests("127.0.0.2", port, 300, kHalfRequest);
  const HeldConnections half_handshakes("127.0.0.2", port, 100, kHalfClientHello);
  const Timed scrape = timed_get(daemon->url("/metrics"));
  INFO(daemon->log());
  CHECK(scrape.reply.status == 200);
  CHECK_THAT(scrape.reply.body, Catch::Contains("pgbackup_build_info"));
  CHECK(scrape.took < 1000ms);
  CHECK_THAT(daemon->log(), Catch::Contains("http: 127.0.0.2 holds 8 connections"));
  daemon->wait_for_metric("pgbackup_http_connections_refused_total [1-9]", 5s);
  // All but the 8 the address may hold were closed at once; those 8 get 5 s for their
  // headers or handshake, then are closed too.
  CHECK(half_requests.closed_by_server(0ms) + half_handshakes.closed_by_server(2000ms) >= 392);
  CHECK(half_requests.closed_by_server(10000ms) + half_handshakes.closed_by_server(10000ms) == 400);
  // Said once for the episode, not once per refused connection. (With TLS, plain bytes on the
  // port fail their handshakes at once and free their places: an episode may begin again.)
  if (web_file.empty()) {
    const std::string log = daemon->log();
    CHECK(log.find("holds 8 connections") == log.rfind("holds 8 connections"));
  }
  // The address's places are free again: it is served like any other.
  const auto from_2 = run({"curl", "-sSk", "--interface", "127.0.0.2", "--max-time", "2", "-o",
                           "/dev/null", "-w", "%{http_code}", daemon->url("/metrics")});
  CHECK(from_2.out == "200");
}
