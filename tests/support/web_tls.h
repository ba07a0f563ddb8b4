#pragma once

// What the `--web.config.file` integration tests share: a PKI made with openssl (a CA, a server
// certificate, client certificates), the web config files modelled on the exporter-toolkit's
// test files, curl as the client, and the daemon started with a web config file.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "agent/core/subprocess.h"
#include "tests/support/daemon.h"
#include "tests/support/target.h"

namespace pgtest::webtls {

// Runs `argv` to its end (in `cwd` when given), at most `timeout`.
pgbackup::ProcessResult run(std::vector<std::string> argv, const fs::path& cwd = {},
                            std::chrono::seconds timeout = std::chrono::seconds(20));

// A CA, a server certificate it signs (localhost, 127.0.0.1), client certificates, and
// self-signed client certificates like the toolkit's client_selfsigned and client2_selfsigned.
struct Pki {
  fs::path dir;

  explicit Pki(const fs::path& d) : dir(d) {
    fs::create_directories(dir);
    self_signed("ca", "/CN=test-ca", "");
    signed_by_ca("server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1");
    signed_by_ca("client", "/CN=client", "subjectAltName=DNS:client.example");
    self_signed("client_selfsigned", "/CN=client-selfsigned", "");
    self_signed("client2_selfsigned", "/CN=client2",
                "subjectAltName=DNS:test1,DNS:test2,DNS:test3,IP:127.0.0.2");
  }
  void self_signed(const std::string& name, const std::string& subject, const std::string& ext) {
    std::vector<std::string> argv = {"openssl", "req",         "-x509", "-newkey",    "rsa:2048",
                                     "-nodes",  "-subj",       subject, "-days",      "2",
                                     "-keyout", name + ".key", "-out",  name + ".pem"};
    if (!ext.empty()) argv.insert(argv.end(), {"-addext", ext});
    const auto r = run(argv, dir);
    INFO(r.err);
    REQUIRE(r.ok());
  }
  void signed_by_ca(const std::string& name, const std::string& subject, const std::string& ext) {
    const auto r = run(
        {"openssl", "req",         "-x509",   "-newkey",    "rsa:2048", "-nodes",
         "-subj",   subject,       "-addext", ext,          "-addext",  "basicConstraints=CA:FALSE",
         "-CA",     "ca.pem",      "-CAkey",  "ca.key",     "-days",    "2",
         "-keyout", name + ".key", "-out",    name + ".pem"},
        dir);
    INFO(r.err);
    REQUIRE(r.ok());
  }
  std::string pem(const std::string& file) const { return read_text_file(dir / file); }
};

// Writes the web config files into pki.dir: the toolkit's test files (its names) rewritten for
// our certificates.
void write_web_configs(const Pki& pki);

// What a client saw: the HTTP status (0: no HTTP answer), its headers and curl's TLS report.
struct Seen {
  long status = 0;
  std::string headers;
  std::string tls;  // e.g. "SSL connection using TLSv1.2 / ECDHE-RSA-AES128-GCM-SHA256"
  std::string err;
};

struct Client {
  bool https = true;
  std::vector<std::string> args;  // extra curl arguments
};

Seen fetch(const Pki& pki, int port, const Client& client);

// The daemon with `web_file`, once it listens; nullptr (and `exit_code`, its log) when it
// exits first.
struct Running {
  std::unique_ptr<Daemon> daemon;
  int port = 0;
  int exit_code = -1;
  std::string log;
};

Running start(const TestTarget& t, const fs::path& web_file);

// Scrapes /metrics over https until `text` shows (the exposition is cached for a second).
std::string scrape_until(int port, const std::string& userinfo, const std::string& text);

}  // namespace pgtest::webtls
