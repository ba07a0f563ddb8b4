// `--web.config.file` end to end: the real daemon with the exporter-toolkit's test cases, each
// with a web config file of our own made to match (tests/support/web_tls.h), against curl.
#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

#include "tests/support/web_tls.h"

using namespace pgtest;
using namespace pgtest::webtls;
using namespace std::chrono_literals;

namespace {

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
  write_web_configs(pki);

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
  write_web_configs(pki);
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
  write_web_configs(pki);
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
