// `--web.config.file` end to end: the real daemon with the exporter-toolkit's test cases, each
// with a web config file of our own made to match, against curl and openssl s_client. The
// certificates are made here with openssl.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/core/subprocess.h"
#include "tests/support/bcrypt_hash.h"
#include "tests/support/daemon.h"
#include "tests/support/target.h"

using namespace pgtest;
using namespace std::chrono_literals;

namespace {

pgbackup::ProcessResult run(std::vector<std::string> argv, const fs::path& cwd = {},
                            std::chrono::seconds timeout = 20s) {
  pgbackup::ProcessSpec spec;
  if (!cwd.empty()) argv.insert(argv.begin(), {"env", "-C", cwd.string()});
  spec.argv = std::move(argv);
  spec.timeout = timeout;
  return pgbackup::run_process(spec);
}

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

// A YAML block scalar of `text` indented by `indent` spaces.
std::string block(const std::string& text, int indent) {
  std::string out = "|\n";
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    out += std::string(indent, ' ') + text.substr(start, end - start) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

// The web config files, by name: the toolkit's test files rewritten for our certificates.
std::map<std::string, std::string> web_configs(const Pki& pki) {
  const std::string files = "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n";
  // The toolkit's own users, hashes and all: bob's hash has cost 18 with TLS (one login takes
  // about 20 s here) and 14 without. The passwords are the user names followed by 123.
  const std::string users =
      "basic_auth_users:\n"
      "  alice: $2y$12$1DpfPeqF9HzHJt.EWswy1exHluGfbhnn3yXhR7Xes6m3WJqFg0Wby\n"
      "  carol: $2y$10$qRTBuFoULoYNA7AQ/F3ck.trZBPyjV64.oA4ZsSBCIWvXuvQlQTuu\n"
      "  dave: $2y$10$2UXri9cIDdgeKjBo4Rlpx.U3ZLDV8X1IxKmsfOvhcM5oXQt/mLmXq\n";
  const std::string bob_tls =
      "  bob: $2y$18$4VeFDzXIoPHKnKTU3O3GH.N.vZu06CVqczYZ8WvfzrddFU6tGqjR.\n";
  const std::string bob_plain =
      "  bob: $2y$14$y7HJ017Lo/wKPDdzdHahNevjaqE.WRk3iKVLLt1yKO7RtIrNbvy6.\n";
  return {
      {"web_config_empty.yml", ""},
      {"web_config_junk.yml", "hWkNKCp3fvIx3jKnsaBI\nTuEjdwNS8A2vYdFbiKqr\n"},
      {"web_config_junk_key.yml", "tls_server_config:\n  cert_filse: \"server.pem\"\n"},
      {"web_config_noAuth_certPath_empty.bad.yml",
       "tls_server_config:\n  cert_file: \"\"\n  key_file: server.key\n"},
      {"web_config_noAuth_cert_empty.bad.yml",
       "tls_server_config:\n  cert: \"\"\n  key_file: server.key\n"},
      {"web_config_noAuth_keyPath_empty.bad.yml",
       "tls_server_config:\n  cert_file: server.pem\n  key_file: \"\"\n"},
      {"web_config_noAuth_key_empty.bad.yml",
       "tls_server_config:\n  cert_file: server.pem\n  key: \"\"\n"},
      {"web_config_noAuth_certPath_keyPath_empty.bad.yml",
       "tls_server_config:\n  cert_file: \"\"\n  key_file: \"\"\n  client_auth_type: \"x\"\n"},
      {"web_config_noAuth_certPath_invalid.bad.yml",
       "tls_server_config:\n  cert_file: somefile\n  key_file: server.key\n"},
      {"web_config_noAuth_keyPath_invalid.bad.yml",
       "tls_server_config:\n  cert_file: server.pem\n  key_file: somefile\n"},
      {"web_config_noAuth_certPath_keyPath_invalid.bad.yml",
       "tls_server_config:\n  cert_file: somefile\n  key_file: somefile\n"},
      {"web_config_noAuth.bad.yml", files + "  client_ca_file: /dev/null\n"},
      {"web_config_auth_clientCAs_invalid.bad.yml", files + "  client_ca_file: somefile\n"},
      {"web_config_auth_user_list_invalid.bad.yml", files + "basic_auth_users:\n  john: doe\n"},
      {"web_config_noAuth_inventedCiphers.bad.yml",
       files + "  client_auth_type: VerifyClientCertIfGiven\n  cipher_suites:\n"
               "  - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA2048\n"},
      {"web_config_noAuth_inventedCurves.bad.yml",
       files + "  client_auth_type: VerifyClientCertIfGiven\n  curve_preferences:\n"
               "    - CurveP257\n"},
      {"web_config_noAuth_wrongTLSVersion.bad.yml",
       files + "  client_auth_type: VerifyClientCertIfGiven\n  min_version: TLS111\n"},
      {"web_config_noAuth.good.yml", files + "  client_auth_type: VerifyClientCertIfGiven\n"},
      {"web_config_noAuth_tlsInline.good.yml",
       "tls_server_config:\n  cert: " + block(pki.pem("server.pem"), 4) +
           "  key: " + block(pki.pem("server.key"), 4)},
      {"web_config_noAuth_allCiphers.good.yml",
       files + "  client_auth_type: VerifyClientCertIfGiven\n  cipher_suites:\n"
               "  - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\n"
               "  - TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384\n"
               "  - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
               "  - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n"
               "  - TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256\n"
               "  - TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256\n"
               "  - TLS_AES_128_GCM_SHA256\n  - TLS_AES_256_GCM_SHA384\n"
               "  - TLS_CHACHA20_POLY1305_SHA256\n"
               "  - TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA\n"
               "  - TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA\n"
               "  - TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA\n"
               "  - TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA\n"},
      {"web_config_noAuth_someCiphers.good.yml",
       files + "  client_auth_type: VerifyClientCertIfGiven\n  cipher_suites:\n"
               "  - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
               "  - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n"
               "  min_version: TLS12\n  max_version: TLS12\n"},
      {"web_config_noAuth_someCiphers_noOrder.good.yml",
       files + "  client_auth_type: VerifyClientCertIfGiven\n  cipher_suites:\n"
               "  - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n"
               "  - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
               "  prefer_server_cipher_suites: false\n  min_version: TLS12\n"
               "  max_version: TLS12\n"},
      {"someCiphers_serverOrder.yml",  // ours: the server's order wins when it is preferred
       files + "  cipher_suites:\n  - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n"
               "  - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n  max_version: TLS12\n"},
      {"web_config_noAuth_allCurves.good.yml",
       files + "  client_auth_type: VerifyClientCertIfGiven\n  curve_preferences:\n"
               "    - CurveP256\n    - CurveP384\n    - CurveP521\n    - X25519\n"},
      {"web_config_noAuth_someCurves.good.yml",
       files + "  client_auth_type: VerifyClientCertIfGiven\n  min_version: TLS13\n"
               "  curve_preferences:\n  - CurveP521\n"},
      {"web_config_noAuth_noHTTP2.good.yml",
       files + "  client_auth_type: VerifyClientCertIfGiven\n  cipher_suites:\n"
               "    - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n  max_version: TLS12\n"
               "http_server_config:\n  http2: false\n"},
      {"web_config_noAuth_noHTTP2Cipher.bad.yml",
       files + "  client_auth_type: VerifyClientCertIfGiven\n  cipher_suites:\n"
               "    - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n  max_version: TLS12\n"},
      {"web_config_tls10.yml", files + "  min_version: TLS10\n"},  // ours
      {"web_config_headers.good.yml",
       "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
       "    Strict-Transport-Security: max-age=31536000; includeSubDomains\n"
       "    X-Content-Type-Options: nosniff\n    X-XSS-Protection: 1\n"
       "    Content-Security-Policy: \"default-src 'self' *.test.example.net\"\n"},
      {"web_config_headers_content_type_options.bad.yml",
       "http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n"},
      {"web_config_headers_frame_options.bad.yml",
       "http_server_config:\n  headers:\n    X-Frame-Options: foo\n"},
      {"web_config_headers_extra_header.bad.yml",
       "http_server_config:\n  headers:\n    Content-Type: foo\n"},
      {"tls_config_noAuth.requireanyclientcert.good.yml",
       files + "  client_auth_type: RequireAnyClientCert\n"},
      {"tls_config_noAuth.requireanyclientcertkeyinline.good.yml",
       "tls_server_config:\n  cert_file: server.pem\n  key: " + block(pki.pem("server.key"), 4) +
           "  client_auth_type: RequireAnyClientCert\n"},
      {"tls_config_noAuth.requireandverifyclientcert.good.yml",
       files + "  client_auth_type: RequireAndVerifyClientCert\n"
               "  client_ca_file: client_selfsigned.pem\n"},
      {"verify_with_ca.yml",  // ours: a real CA, clients it did not sign are refused
       files + "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n"},
      {"verify_if_given_with_inline_ca.yml",  // ours
       files + "  client_auth_type: VerifyClientCertIfGiven\n  client_ca: " +
           block(pki.pem("ca.pem"), 4)},
      {"web_config_auth_client_san.good.yaml",
       files + "  client_auth_type: RequireAndVerifyClientCert\n"
               "  client_ca_file: client2_selfsigned.pem\n"
               "  client_allowed_sans:\n    - \"one\"\n    - \"test3\"\n    - \"two\"\n"},
      {"web_config_auth_client_san.bad.yaml", files +
                                                  "  client_auth_type: RequireAndVerifyClientCert\n"
                                                  "  client_ca_file: client2_selfsigned.pem\n"
                                                  "  client_allowed_sans:\n    - \"bad\"\n"},
      {"san_ip.yaml",  // ours: an IP SAN as Go prints it
       files + "  client_auth_type: RequireAnyClientCert\n"
               "  client_allowed_sans: [\"127.0.0.2\"]\n"},
      {"web_config_rate_limiter_nonblocking.yaml", "rate_limit:\n  interval: 0\n  burst: 0\n"},
      {"web_config_rate_limiter_one_second.yaml", "rate_limit:\n  interval: \"1s\"\n  burst: 0\n"},
      {"web_config_users_noTLS.good.yml", users + bob_plain},
      {"web_config_users.good.yml", files + users + bob_tls},
      {"web_config_noAuth.good.blocking.yml",
       files + "  client_auth_type: RequireAndVerifyClientCert\n"},
  };
}

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

Seen fetch(const Pki& pki, int port, const Client& client) {
  const std::string p = std::to_string(port);
  std::vector<std::string> argv = {
      "curl", "-sS", "-v", "--max-time",           "5", "-o", "/dev/null",
      "-D",   "-",   "-w", "status=%{http_code}\n"};
  if (client.https) {
    argv.insert(argv.end(), {"--cacert", (pki.dir / "ca.pem").string(), "--resolve",
                             "localhost:" + p + ":127.0.0.1"});
  }
  argv.insert(argv.end(), client.args.begin(), client.args.end());
  argv.push_back((client.https ? "https://localhost:" : "http://127.0.0.1:") + p + "/metrics");
  const auto r = run(argv, pki.dir, 330s);  // curl's --max-time ends it first
  Seen seen;
  seen.headers = r.out;
  seen.err = r.err;
  if (const auto at = r.out.rfind("status="); at != std::string::npos) {
    seen.status = std::stol(r.out.substr(at + 7));
  }
  if (const auto at = r.err.find("SSL connection using"); at != std::string::npos) {
    seen.tls = r.err.substr(at, r.err.find('\n', at) - at);
  }
  return seen;
}

// The daemon with `web_file`, once it listens; nullptr (and `exit_code`, its log) when it
// exits first.
struct Running {
  std::unique_ptr<Daemon> daemon;
  int port = 0;
  int exit_code = -1;
  std::string log;
};

Running start(const TestTarget& t, const fs::path& web_file) {
  Running r;
  r.port = free_port();
  r.daemon = std::make_unique<Daemon>(t.config, r.port, web_file.string(), "https");
  for (int i = 0; i < 200; ++i) {
    r.log = r.daemon->log();
    // The port tells this daemon's line from a previous one's in the same log file.
    if (r.log.find("listening on 127.0.0.1:" + std::to_string(r.port)) != std::string::npos) {
      return r;
    }
    const int code = r.daemon->wait_exit(0s);
    if (code >= 0) {
      r.exit_code = code;
      r.log = r.daemon->log();
      r.daemon.reset();
      return r;
    }
    std::this_thread::sleep_for(50ms);
  }
  FAIL("the daemon neither listened nor exited; log:\n" << r.log);
  return r;
}

// Scrapes /metrics over https until `text` shows (the exposition is cached for a second).
std::string scrape_until(int port, const std::string& userinfo, const std::string& text) {
  std::string body;
  for (int i = 0; i < 50 && body.find(text) == std::string::npos; ++i) {
    if (i > 0) std::this_thread::sleep_for(100ms);
    body = http_get("https://" + userinfo + "127.0.0.1:" + std::to_string(port) + "/metrics").body;
  }
  return body;
}

// One case of the toolkit's tls_config_test.go: a file, a client and what must happen.
struct Row {
  std::string toolkit;  // the toolkit's test name
  std::string file;     // "" : no --web.config.file
  Client client;
  long status;              // 0: the client gets no HTTP answer
  std::string tls = "";     // a substring of curl's "SSL connection using ..." line
  std::string header = "";  // a response header line that must be there
  std::string log = "";     // a line the daemon logged at start
};

const std::vector<Row>& server_rows() {
  static const Client tls_client{true, {}};
  static const Client plain_client{false, {}};
  static const std::vector<Row> rows = {
      {"empty string YAMLConfigPath and default client", "", plain_client, 200},
      {"empty string YAMLConfigPath and TLS client", "", tls_client, 0},
      {"valid tls config yml and default client", "web_config_noAuth.good.yml", plain_client, 0},
      {"valid tls config yml and tls client", "web_config_noAuth.good.yml", tls_client, 200,
       "TLSv1.3"},
      {"valid tls config yml with TLS 1.1 client",
       "web_config_noAuth.good.yml",
       {true, {"--tlsv1.1", "--tls-max", "1.1", "--ciphers", "DEFAULT:@SECLEVEL=0"}},
       0},
      {"(ours) a TLS 1.2 client by default",
       "web_config_noAuth.good.yml",
       {true, {"--tls-max", "1.2"}},
       200,
       "TLSv1.2 / ECDHE-RSA-AES128-GCM-SHA256"},
      {"valid tls config yml (cert and key inline) and tls client",
       "web_config_noAuth_tlsInline.good.yml", tls_client, 200},
      {"valid tls config yml with all ciphers", "web_config_noAuth_allCiphers.good.yml", tls_client,
       200},
      {"valid tls config yml with some ciphers",
       "web_config_noAuth_someCiphers.good.yml",
       {true, {"--ciphers", "ECDHE-RSA-AES128-GCM-SHA256"}},
       200,
       "TLSv1.2 / ECDHE-RSA-AES128-GCM-SHA256"},
      {"valid tls config yml with no common cipher",
       "web_config_noAuth_someCiphers.good.yml",
       {true, {"--ciphers", "ECDHE-RSA-AES256-SHA"}},
       0},
      {"valid tls config yml with multiple client ciphers",
       "web_config_noAuth_someCiphers.good.yml",
       {true, {"--ciphers", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"}},
       200,
       "ECDHE-RSA-AES128-GCM-SHA256"},
      {"(ours) TLS 1.3 is refused when max_version is TLS12",
       "web_config_noAuth_someCiphers.good.yml",
       {true, {"--tlsv1.3"}},
       0},
      {"valid tls config yml with multiple client ciphers, client chooses cipher",
       "web_config_noAuth_someCiphers_noOrder.good.yml",
       {true, {"--ciphers", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"}},
       200,
       "ECDHE-RSA-AES128-GCM-SHA256"},
      {"(ours) with prefer_server_cipher_suites the server's order wins",
       "someCiphers_serverOrder.yml",
       {true, {"--ciphers", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"}},
       200,
       "ECDHE-RSA-AES256-GCM-SHA384"},
      {"valid tls config yml with all curves", "web_config_noAuth_allCurves.good.yml", tls_client,
       200},
      {"valid tls config yml with some curves",
       "web_config_noAuth_someCurves.good.yml",
       {true, {"--curves", "P-521"}},
       200,
       "TLSv1.3"},
      {"(ours) a HelloRetryRequest: the client's first key share is X25519",
       "web_config_noAuth_someCurves.good.yml",
       {true, {"--curves", "X25519:P-521"}},
       200,
       "TLSv1.3"},
      {"valid tls config yml with no common curves",
       "web_config_noAuth_someCurves.good.yml",
       {true, {"--curves", "P-384"}},
       0},
      {"(ours) a TLS 1.2 client is refused when min_version is TLS13",
       "web_config_noAuth_someCurves.good.yml",
       {true, {"--tls-max", "1.2"}},
       0},
      {"valid tls config yml with non-http2 ciphers", "web_config_noAuth_noHTTP2.good.yml",
       tls_client, 200, "TLSv1.2 / ECDHE-RSA-AES256-GCM-SHA384"},
      {"(ours) min_version TLS10 lets a TLS 1.0 client in",
       "web_config_tls10.yml",
       {true, {"--tlsv1.0", "--tls-max", "1.0", "--ciphers", "DEFAULT:@SECLEVEL=0"}},
       200,
       "TLSv1 / "},
      {"valid headers config", "web_config_headers.good.yml", plain_client, 200, "",
       "Content-Security-Policy: default-src 'self' *.test.example.net"},
      {"(ours) every configured header is sent", "web_config_headers.good.yml", plain_client, 200,
       "", "X-Frame-Options: deny"},
      {"(ours) every configured header is sent", "web_config_headers.good.yml", plain_client, 200,
       "", "Strict-Transport-Security: max-age=31536000; includeSubDomains"},
      {"(ours) every configured header is sent", "web_config_headers.good.yml", plain_client, 200,
       "", "X-Content-Type-Options: nosniff"},
      {"(ours) every configured header is sent", "web_config_headers.good.yml", plain_client, 200,
       "", "X-XSS-Protection: 1"},
      {"valid tls config yml and tls client with RequireAnyClientCert (present certificate)",
       "tls_config_noAuth.requireanyclientcert.good.yml",
       {true, {"--cert", "client_selfsigned.pem", "--key", "client_selfsigned.key"}},
       200},
      {"(ours) RequireAnyClientCert without a certificate",
       "tls_config_noAuth.requireanyclientcert.good.yml", tls_client, 0},
      {"valid tls config yml (cert from file, key inline) and tls client with "
       "RequireAnyClientCert (present certificate)",
       "tls_config_noAuth.requireanyclientcertkeyinline.good.yml",
       {true, {"--cert", "client_selfsigned.pem", "--key", "client_selfsigned.key"}},
       200},
      {"valid tls config yml and tls client with RequireAndVerifyClientCert (present "
       "certificate)",
       "tls_config_noAuth.requireandverifyclientcert.good.yml",
       {true, {"--cert", "client_selfsigned.pem", "--key", "client_selfsigned.key"}},
       200},
      {"(ours) RequireAndVerifyClientCert with a certificate the CA did not sign",
       "verify_with_ca.yml",
       {true, {"--cert", "client_selfsigned.pem", "--key", "client_selfsigned.key"}},
       0},
      {"(ours) RequireAndVerifyClientCert with a certificate the CA signed",
       "verify_with_ca.yml",
       {true, {"--cert", "client.pem", "--key", "client.key"}},
       200},
      {"(ours) RequireAndVerifyClientCert without a certificate", "verify_with_ca.yml", tls_client,
       0},
      {"(ours) VerifyClientCertIfGiven (inline CA) without a certificate",
       "verify_if_given_with_inline_ca.yml", tls_client, 200},
      {"(ours) VerifyClientCertIfGiven (inline CA) with a certificate the CA signed",
       "verify_if_given_with_inline_ca.yml",
       {true, {"--cert", "client.pem", "--key", "client.key"}},
       200},
      {"(ours) VerifyClientCertIfGiven (inline CA) with a certificate it did not sign",
       "verify_if_given_with_inline_ca.yml",
       {true, {"--cert", "client_selfsigned.pem", "--key", "client_selfsigned.key"}},
       0},
      {"valid tls config yml and tls client with VerifyPeerCertificate (present good SAN DNS "
       "entry)",
       "web_config_auth_client_san.good.yaml",
       {true, {"--cert", "client2_selfsigned.pem", "--key", "client2_selfsigned.key"}},
       200},
      {"valid tls config yml and tls client with VerifyPeerCertificate (present invalid SAN "
       "DNS entries)",
       "web_config_auth_client_san.bad.yaml",
       {true, {"--cert", "client2_selfsigned.pem", "--key", "client2_selfsigned.key"}},
       0},
      {"(ours) an allowed IP SAN",
       "san_ip.yaml",
       {true, {"--cert", "client2_selfsigned.pem", "--key", "client2_selfsigned.key"}},
       200},
      {"(ours) a certificate without the allowed SAN",
       "san_ip.yaml",
       {true, {"--cert", "client_selfsigned.pem", "--key", "client_selfsigned.key"}},
       0},
      {"without basic auth", "web_config_users_noTLS.good.yml", plain_client, 401, "",
       "WWW-Authenticate: Basic"},
      {"with correct basic auth",
       "web_config_users_noTLS.good.yml",
       {false, {"-u", "dave:dave123"}},
       200},
      {"(ours) bob (cost 14) without TLS",
       "web_config_users_noTLS.good.yml",
       {false, {"-u", "bob:bob123", "--max-time", "60"}},
       200},
      {"without basic auth and TLS", "web_config_users.good.yml", tls_client, 401},
      {"with correct basic auth and TLS",
       "web_config_users.good.yml",
       {true, {"-u", "dave:dave123"}},
       200},
      {"with another correct basic auth and TLS",
       "web_config_users.good.yml",
       {true, {"-u", "carol:carol123"}},
       200},
      {"(ours) the toolkit's users all log in: alice (cost 12)",
       "web_config_users.good.yml",
       {true, {"-u", "alice:alice123"}},
       200,
       "",
       "",
       "user \"bob\" has cost 18: one login takes about"},
      // Slow once, by design of the cost: the outcome is then remembered.
      {"(ours) bob (cost 18)",
       "web_config_users.good.yml",
       {true, {"-u", "bob:bob123", "--max-time", "300"}},
       200},
      {"(ours) bob again, answered from the remembered outcome without bcrypt (20 s)",
       "web_config_users.good.yml",
       {true, {"-u", "bob:bob123", "--max-time", "3"}},
       200},
      {"with bad password and TLS", "web_config_users.good.yml", {true, {"-u", "dave:bad"}}, 401},
      {"with bad username and TLS",
       "web_config_users.good.yml",
       {true, {"-u", "nonexistent:nonexistent"}},
       401},
  };
  return rows;
}

}  // namespace

TEST_CASE("each server case of the exporter-toolkit's tests behaves the same with our files",
          "[webconfig]") {
  TestTarget t("webcfg", 0);
  const Pki pki(t.root / "pki");
  for (const auto& [name, text] : web_configs(pki)) write_text(pki.dir / name, text);

  Running running;
  std::string file_running = "-";
  for (const Row& row : server_rows()) {
    INFO("toolkit case: " << row.toolkit << "\nfile: " << row.file);
    if (row.file != file_running) {
      running = {};
      if (row.file.empty()) {
        running.port = free_port();
        running.daemon = std::make_unique<Daemon>(t.config, running.port);
        for (int i = 0; i < 200 && running.daemon->log().find("listening on") == std::string::npos;
             ++i) {
          std::this_thread::sleep_for(50ms);
        }
      } else {
        running = start(t, pki.dir / row.file);
      }
      INFO(running.log);
      REQUIRE(running.daemon != nullptr);
      file_running = row.file;
    }
    const Seen seen = fetch(pki, running.port, row.client);
    INFO("curl: " << seen.err << "\nheaders: " << seen.headers);
    CHECK(seen.status == row.status);
    if (!row.tls.empty()) CHECK_THAT(seen.tls, Catch::Contains(row.tls));
    if (!row.header.empty()) CHECK_THAT(seen.headers, Catch::Contains(row.header));
    if (!row.log.empty()) CHECK_THAT(running.log, Catch::Contains(row.log));
  }
}

TEST_CASE("the exporter-toolkit's rejected files stop the daemon with exit 2 and the reason",
          "[webconfig]") {
  TestTarget t("webcfg_bad", 0);
  const Pki pki(t.root / "pki");
  for (const auto& [name, text] : web_configs(pki)) write_text(pki.dir / name, text);
  struct Bad {
    std::string toolkit;
    std::string file;
    std::string reason;
  };
  const std::vector<Bad> rows = {
      {"path to config yml invalid", "somefile", "cannot read web config file"},
      {"invalid config yml (invalid structure)", "web_config_junk.yml", "must be a mapping"},
      {"invalid config yml (invalid key)", "web_config_junk_key.yml",
       "unknown key \"tls_server_config.cert_filse\""},
      {"invalid config yml (cert path empty)", "web_config_noAuth_certPath_empty.bad.yml",
       "missing one of cert or cert_file"},
      {"invalid config yml (cert empty)", "web_config_noAuth_cert_empty.bad.yml",
       "missing one of cert or cert_file"},
      {"invalid config yml (key path empty)", "web_config_noAuth_keyPath_empty.bad.yml",
       "missing one of key or key_file"},
      {"invalid config yml (key empty)", "web_config_noAuth_key_empty.bad.yml",
       "missing one of key or key_file"},
      {"invalid config yml (cert path and key path empty)",
       "web_config_noAuth_certPath_keyPath_empty.bad.yml", "missing one of cert or cert_file"},
      {"invalid config yml (cert path invalid)", "web_config_noAuth_certPath_invalid.bad.yml",
       "cert_file: no such file"},
      {"invalid config yml (key path invalid)", "web_config_noAuth_keyPath_invalid.bad.yml",
       "key_file: no such file"},
      {"invalid config yml (cert path and key path invalid)",
       "web_config_noAuth_certPath_keyPath_invalid.bad.yml", "no such file"},
      {"invalid config yml (invalid ClientAuth)", "web_config_noAuth.bad.yml",
       "client CA's have been configured without a client auth policy"},
      {"invalid config yml (invalid ClientCAs filepath)",
       "web_config_auth_clientCAs_invalid.bad.yml", "client_ca_file: no such file"},
      {"invalid config yml (invalid user list)", "web_config_auth_user_list_invalid.bad.yml",
       "too short to be a bcrypted password"},
      {"invalid config yml (bad cipher)", "web_config_noAuth_inventedCiphers.bad.yml",
       "unknown cipher"},
      {"invalid config yml (bad curves)", "web_config_noAuth_inventedCurves.bad.yml",
       "unknown curve"},
      {"invalid config yml (bad TLS version)", "web_config_noAuth_wrongTLSVersion.bad.yml",
       "unknown TLS version"},
      {"valid tls config yml with non-http2 ciphers but http2 enabled",
       "web_config_noAuth_noHTTP2Cipher.bad.yml", "missing an HTTP/2-required"},
      {"invalid X-Content-Type-Options headers config",
       "web_config_headers_content_type_options.bad.yml",
       "invalid value for X-Content-Type-Options"},
      {"invalid X-Frame-Options headers config", "web_config_headers_frame_options.bad.yml",
       "invalid value for X-Frame-Options"},
      {"HTTP header that can not be overridden", "web_config_headers_extra_header.bad.yml",
       "HTTP header \"Content-Type\" can not be configured"},
  };
  for (const Bad& row : rows) {
    INFO("toolkit case: " << row.toolkit << "\nfile: " << row.file);
    const Running r = start(t, pki.dir / row.file);
    INFO(r.log);
    CHECK(r.daemon == nullptr);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.log, Catch::Contains(row.reason));
  }
  // Files of the toolkit's YAML table that are valid.
  for (const char* good : {"web_config_empty.yml", "web_config_noAuth.good.yml"}) {
    INFO(good);
    const Running r = start(t, pki.dir / good);
    INFO(r.log);
    CHECK(r.daemon != nullptr);
  }
}

TEST_CASE("the rate limit answers 429 as in the exporter-toolkit", "[webconfig]") {
  TestTarget t("webcfg_rate", 0);
  const Pki pki(t.root / "pki");
  for (const auto& [name, text] : web_configs(pki)) write_text(pki.dir / name, text);
  {
    INFO("valid rate limiter (no rate limiter set up) that doesn't block");
    const Running r = start(t, pki.dir / "web_config_rate_limiter_nonblocking.yaml");
    REQUIRE(r.daemon != nullptr);
    for (int i = 0; i <= 10; ++i) CHECK(fetch(pki, r.port, {false, {}}).status == 200);
  }
  {
    INFO("valid rate limiter with an interval of one second");
    const Running r = start(t, pki.dir / "web_config_rate_limiter_one_second.yaml");
    REQUIRE(r.daemon != nullptr);
    CHECK(fetch(pki, r.port, {false, {}}).status == 429);
  }
}

TEST_CASE("a changed web config applies to the next connection and a broken one keeps the old",
          "[webconfig]") {
  TestTarget t("webcfg_reload", 0);
  const Pki pki(t.root / "pki");
  for (const auto& [name, text] : web_configs(pki)) write_text(pki.dir / name, text);
  const fs::path web = pki.dir / "web.yml";
  // Replaces `path` at once, as an operator's `mv` or a certificate tool does.
  const auto replace = [](const fs::path& path, const std::string& text) {
    write_text(path.string() + ".new", text);
    fs::rename(path.string() + ".new", path);
  };
  const Client plain{true, {}};

  // The toolkit's TestConfigReloading: a file that refuses clients without a certificate,
  // then the good one in its place.
  write_text(web, pki.pem("web_config_noAuth.good.blocking.yml"));
  const Running r = start(t, web);
  REQUIRE(r.daemon != nullptr);
  CHECK(fetch(pki, r.port, plain).status == 0);
  replace(web, pki.pem("web_config_noAuth.good.yml"));
  CHECK(fetch(pki, r.port, plain).status == 200);

  SECTION("a new certificate and key in the same files are served without a restart") {
    CHECK_THAT(fetch(pki, r.port, plain).err, Catch::Contains("subject: CN=localhost"));
    Pki rotated(t.root / "pki-rotated");
    rotated.signed_by_ca("server", "/CN=localhost-rotated",
                         "subjectAltName=DNS:localhost,IP:127.0.0.1");
    // Signed by the new CA: curl is told to trust both.
    write_text(pki.dir / "ca.pem", pki.pem("ca.pem") + rotated.pem("ca.pem"));
    replace(pki.dir / "server.key", rotated.pem("server.key"));
    replace(pki.dir / "server.pem", rotated.pem("server.pem"));
    const Seen after = fetch(pki, r.port, plain);
    INFO(after.err);
    CHECK(after.status == 200);
    CHECK_THAT(after.err, Catch::Contains("subject: CN=localhost-rotated"));
    CHECK_THAT(r.daemon->log(), Catch::Contains("reloaded"));
  }
  SECTION("a broken new file keeps the settings in use and the log says why") {
    replace(web,
            "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n"
            "  client_auth_type: Sometimes\n");
    CHECK(fetch(pki, r.port, plain).status == 200);
    CHECK(fetch(pki, r.port, plain).status == 200);
    const std::string log = r.daemon->log();
    CHECK_THAT(log, Catch::Contains("changed but is not used, the previous one stays") &&
                        Catch::Contains("invalid client_auth_type \"Sometimes\""));
    // Logged once for the change, not for every request.
    CHECK(log.find("Sometimes") == log.rfind("Sometimes"));
    CHECK_THAT(scrape_until(r.port, "", "pgbackup_web_config_last_reload_successful 0"),
               Catch::Contains("pgbackup_web_config_last_reload_successful 0"));

    SECTION("and the next good file takes over") {
      const std::string hash = bcrypt_hash("s3cret", 5);
      replace(web, pki.pem("web_config_noAuth.good.yml") + "basic_auth_users:\n  ops: " + hash +
                       "\nhttp_server_config:\n  headers:\n    X-Frame-Options: sameorigin\n");
      CHECK(fetch(pki, r.port, plain).status == 401);
      const Seen ok = fetch(pki, r.port, {true, {"-u", "ops:s3cret"}});
      CHECK(ok.status == 200);
      CHECK_THAT(ok.headers, Catch::Contains("X-Frame-Options: sameorigin"));
      CHECK_THAT(
          scrape_until(r.port, "ops:s3cret@", "pgbackup_web_config_last_reload_successful 1"),
          Catch::Contains("pgbackup_web_config_last_reload_successful 1"));
    }
  }
  SECTION("a certificate that does not match its key keeps the old pair") {
    Pki other(t.root / "pki-other");
    replace(pki.dir / "server.key", other.pem("server.key"));
    CHECK(fetch(pki, r.port, plain).status == 200);
    CHECK_THAT(r.daemon->log(), Catch::Contains("does not match the certificate"));
  }
  SECTION("a session from before a change is not resumed after it") {
    const std::string session = (pki.dir / "session.pem").string();
    const auto connect = [&](const std::string& flag) {
      const auto out = run({"openssl", "s_client", "-connect",
                            "127.0.0.1:" + std::to_string(r.port), "-tls1_2", flag, session},
                           pki.dir);
      return out.out;
    };
    CHECK_THAT(connect("-sess_out"), Catch::Contains("New, TLSv1.2"));
    CHECK_THAT(connect("-sess_in"), Catch::Contains("Reused, TLSv1.2"));
    replace(web, pki.pem("web_config_noAuth.good.yml") +
                     "http_server_config: {headers: {X-Frame-Options: deny}}\n");
    CHECK_THAT(connect("-sess_in"), Catch::Contains("New, TLSv1.2"));
  }
  SECTION("turning TLS off needs a restart") {
    replace(web, "");
    CHECK(fetch(pki, r.port, plain).status == 200);
    CHECK_THAT(r.daemon->log(), Catch::Contains("cannot turn TLS off while the agent runs"));
  }
}

TEST_CASE("openssl s_client sees the versions, ciphers, curves and client CAs asked for",
          "[webconfig]") {
  TestTarget t("webcfg_sclient", 0);
  const Pki pki(t.root / "pki");
  for (const auto& [name, text] : web_configs(pki)) write_text(pki.dir / name, text);
  // s_client's full report (stdout and stderr) and whether the handshake succeeded.
  const auto s_client = [&pki](int port, std::vector<std::string> args) {
    std::vector<std::string> argv = {"openssl",
                                     "s_client",
                                     "-connect",
                                     "127.0.0.1:" + std::to_string(port),
                                     "-servername",
                                     "localhost",
                                     "-CAfile",
                                     "ca.pem",
                                     "-verify_return_error"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run(argv, pki.dir);
    return std::make_pair(r.ok(), r.out + r.err);
  };
  {
    const Running r = start(t, pki.dir / "verify_with_ca.yml");
    REQUIRE(r.daemon != nullptr);
    const auto [ok, report] =
        s_client(r.port, {"-cert", "client.pem", "-key", "client.key", "-tls1_2", "-cipher",
                          "ECDHE-RSA-AES256-GCM-SHA384"});
    INFO(report);
    CHECK(ok);
    CHECK_THAT(report, Catch::Contains("Acceptable client certificate CA names\nCN = test-ca"));
    CHECK_THAT(report, Catch::Contains("New, TLSv1.2, Cipher is ECDHE-RSA-AES256-GCM-SHA384"));
    CHECK_THAT(report, Catch::Contains("Verify return code: 0 (ok)"));
    // CivetWeb's OpenSSL 1.1 option bits turned this off under OpenSSL 3.
    CHECK_THAT(report, Catch::Contains("Extended master secret: yes"));
    const auto [tls11_ok, tls11] = s_client(r.port, {"-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"});
    INFO(tls11);
    CHECK_FALSE(tls11_ok);
    CHECK_THAT(tls11, Catch::Contains("protocol version"));
  }
  {
    const Running r = start(t, pki.dir / "web_config_noAuth_someCiphers.good.yml");
    REQUIRE(r.daemon != nullptr);
    const auto [ok, report] = s_client(r.port, {"-cipher", "ECDHE-RSA-AES256-SHA"});
    INFO(report);
    CHECK_FALSE(ok);
    CHECK_THAT(report, Catch::Contains("handshake failure"));
  }
  {
    const Running r = start(t, pki.dir / "web_config_noAuth_someCurves.good.yml");
    REQUIRE(r.daemon != nullptr);
    const auto [ok, report] = s_client(r.port, {"-groups", "P-521"});
    INFO(report);
    CHECK(ok);
    CHECK_THAT(report, Catch::Contains("Server Temp Key: ECDH, secp521r1"));
    CHECK_THAT(report, Catch::Contains("New, TLSv1.3"));
    const auto [p384_ok, p384] = s_client(r.port, {"-groups", "P-384"});
    INFO(p384);
    CHECK_FALSE(p384_ok);
  }
}
