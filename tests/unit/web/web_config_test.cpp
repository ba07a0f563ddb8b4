// The exporter-toolkit web config format: parsing and the toolkit's rules, as table tests.
#include "agent/web/web_config.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "agent/web/bcrypt.h"
#include "agent/web/rate_limit.h"
#include "agent/web/tls_names.h"

using pgbackup::ClientAuth;
using pgbackup::TlsVersion;
using pgbackup::WebConfig;
using namespace std::chrono_literals;

namespace {

constexpr const char* kHash = "$2y$10$2UXri9cIDdgeKjBo4Rlpx.U3ZLDV8X1IxKmsfOvhcM5oXQt/mLmXq";

const std::string kFiles = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n";

struct Case {
  const char* name;
  std::string yaml;
  std::string error;  // "" : accepted
};

}  // namespace

TEST_CASE("web config files are accepted or rejected as the exporter-toolkit does") {
  const std::vector<Case> cases = {
      // The toolkit's own test files, rewritten (its names in the first column).
      {"web_config_empty", "", ""},
      {"web_config_junk", "hWkNKCp3fvIx3jKnsaBI\nTuEjdwNS8A2vYdFbiKqr\n", "must be a mapping"},
      {"web_config_junk_key", "tls_server_config:\n  cert_filse: server.crt\n",
       "unknown key \"tls_server_config.cert_filse\""},
      {"web_config_noAuth_certPath_empty",
       "tls_server_config:\n  cert_file: \"\"\n  key_file: server.key\n",
       "missing one of cert or cert_file"},
      {"web_config_noAuth_cert_empty", "tls_server_config:\n  cert: \"\"\n  key_file: server.key\n",
       "missing one of cert or cert_file"},
      {"web_config_noAuth_keyPath_empty",
       "tls_server_config:\n  cert_file: server.crt\n  key_file: \"\"\n",
       "missing one of key or key_file"},
      {"web_config_noAuth_key_empty", "tls_server_config:\n  cert_file: server.crt\n  key: \"\"\n",
       "missing one of key or key_file"},
      {"web_config_noAuth_certPath_keyPath_empty",
       "tls_server_config:\n  cert_file: \"\"\n  key_file: \"\"\n  client_auth_type: \"x\"\n",
       "missing one of cert or cert_file"},
      {"an unknown client_auth_type", kFiles + "  client_auth_type: x\n",
       "invalid client_auth_type \"x\""},
      {"web_config_noAuth.bad", kFiles + "  client_ca_file: /dev/null\n",
       "client CA's have been configured without a client auth policy"},
      {"web_config_auth_clientCAs_missing",
       kFiles + "  client_auth_type: RequireAndVerifyClientCert\n", ""},
      {"web_config_noAuth.good", kFiles + "  client_auth_type: VerifyClientCertIfGiven\n", ""},
      {"tls_config_noAuth.requireanyclientcert.good",
       kFiles + "  client_auth_type: RequireAnyClientCert\n", ""},
      {"tls_config_noAuth.requireandverifyclientcert.good",
       kFiles + "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n", ""},
      {"web_config_auth_user_list_invalid", kFiles + "basic_auth_users:\n  john: doe\n",
       "too short to be a bcrypted password"},
      {"web_config_users.good", kFiles + "basic_auth_users:\n  dave: " + kHash + "\n", ""},
      {"web_config_noAuth_inventedCiphers",
       kFiles + "  cipher_suites:\n  - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA2048\n",
       "unknown cipher \"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA2048\""},
      {"web_config_noAuth_inventedCurves", kFiles + "  curve_preferences:\n    - CurveP257\n",
       "unknown curve \"CurveP257\""},
      {"web_config_noAuth_wrongTLSVersion", kFiles + "  min_version: TLS111\n",
       "unknown TLS version \"TLS111\""},
      {"web_config_noAuth_noHTTP2Cipher",
       kFiles + "  cipher_suites:\n    - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n"
                "  max_version: TLS12\n",
       "missing an HTTP/2-required AES_128_GCM_SHA256 cipher"},
      {"web_config_noAuth_noHTTP2",
       kFiles + "  cipher_suites:\n    - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n"
                "  max_version: TLS12\nhttp_server_config:\n  http2: false\n",
       ""},
      {"web_config_headers.good",
       "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
       "    Strict-Transport-Security: max-age=31536000; includeSubDomains\n"
       "    X-Content-Type-Options: nosniff\n    X-XSS-Protection: 1\n"
       "    Content-Security-Policy: \"default-src 'self'\"\n",
       ""},
      {"web_config_headers_content_type_options",
       "http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n",
       "invalid value for X-Content-Type-Options"},
      {"web_config_headers_frame_options",
       "http_server_config:\n  headers:\n    X-Frame-Options: foo\n",
       "invalid value for X-Frame-Options"},
      {"web_config_headers_extra_header",
       "http_server_config:\n  headers:\n    Content-Type: foo\n",
       "HTTP header \"Content-Type\" can not be configured"},
      {"web_config_rate_limiter_nonblocking", "rate_limit:\n  interval: 0\n  burst: 0\n", ""},
      {"web_config_rate_limiter_one_second", "rate_limit:\n  interval: \"1s\"\n  burst: 0\n", ""},
      // Beyond the toolkit's files.
      {"RequireClientCert, the old spelling", kFiles + "  client_auth_type: RequireClientCert\n",
       ""},
      {"inline client CA without a policy", kFiles + "  client_ca: x\n",
       "client CA's have been configured without a client auth policy"},
      {"min above max", kFiles + "  min_version: TLS13\n  max_version: TLS12\n",
       "min_version is above max_version"},
      {"only settings that do not turn TLS on", "tls_server_config:\n  min_version: TLS13\n", ""},
      {"a bad hash cost",
       "basic_auth_users:\n  a: $2y$99$2UXri9cIDdgeKjBo4Rlpx.U3ZLDV8X1IxKmsfOvhcM5oXQt/mLmXq\n",
       "cost 99 is outside 4..31"},
      {"a key given twice", "basic_auth_users: {}\nbasic_auth_users: {}\n", "given twice"},
      {"prefer_server_cipher_suites not a boolean",
       kFiles + "  prefer_server_cipher_suites: maybe\n", "must be true or false"},
      {"a negative burst", "rate_limit:\n  interval: 1s\n  burst: -1\n", "0 or more"},
      {"a bad interval", "rate_limit:\n  interval: 1d\n", "invalid duration \"1d\""},
      {"http2 is not a boolean", "http_server_config:\n  http2: sometimes\n",
       "must be true or false"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    // What load_web_config checks without the files.
    const auto check = [&c] {
      pgbackup::check_client_ca_policy(pgbackup::parse_web_config(c.yaml, "/etc/pgbackup"));
    };
    if (c.error.empty()) {
      CHECK_NOTHROW(check());
    } else {
      CHECK_THROWS_WITH(check(), Catch::Contains(c.error));
    }
  }
}

TEST_CASE("every key of tls_server_config is read with the toolkit's defaults") {
  const WebConfig defaults = pgbackup::parse_web_config(kFiles, "/etc/pgbackup");
  REQUIRE(defaults.tls.has_value());
  CHECK(defaults.tls->cert_file == "/etc/pgbackup/server.crt");
  CHECK(defaults.tls->key_file == "/etc/pgbackup/server.key");
  CHECK(defaults.tls->client_auth == ClientAuth::kNoClientCert);
  CHECK(defaults.tls->min_version == TlsVersion::kTls12);
  CHECK(defaults.tls->max_version == TlsVersion::kTls13);
  CHECK(defaults.tls->prefer_server_cipher_suites);
  CHECK_FALSE(defaults.tls->client_allowed_sans.has_value());
  CHECK(defaults.http.http2);

  const WebConfig full = pgbackup::parse_web_config(
      "tls_server_config:\n"
      "  cert: \"-----BEGIN CERTIFICATE-----\\n\"\n"
      "  key: \"-----BEGIN PRIVATE KEY-----\\n\"\n"
      "  client_ca: \"-----BEGIN CERTIFICATE-----\\n\"\n"
      "  client_auth_type: VerifyClientCertIfGiven\n"
      "  client_allowed_sans: [one, 127.0.0.1]\n"
      "  min_version: TLS10\n"
      "  max_version: TLS12\n"
      "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "
      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n"
      "  curve_preferences: [CurveP521, X25519]\n"
      "  prefer_server_cipher_suites: false\n"
      "http_server_config:\n  http2: false\n  headers: {X-Frame-Options: sameorigin}\n"
      "rate_limit: {interval: 250ms, burst: 3}\n",
      "/etc/pgbackup");
  REQUIRE(full.tls.has_value());
  const auto& tls = *full.tls;
  CHECK(tls.cert_file.empty());
  CHECK(tls.cert == "-----BEGIN CERTIFICATE-----\n");
  CHECK(tls.key == "-----BEGIN PRIVATE KEY-----\n");
  CHECK(tls.client_ca == "-----BEGIN CERTIFICATE-----\n");
  CHECK(tls.client_auth == ClientAuth::kVerifyClientCertIfGiven);
  CHECK(tls.client_allowed_sans == std::vector<std::string>{"one", "127.0.0.1"});
  CHECK(tls.min_version == TlsVersion::kTls10);
  CHECK(tls.max_version == TlsVersion::kTls12);
  CHECK(tls.cipher_suites == std::vector<std::string>{"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                                                      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"});
  CHECK(tls.curve_preferences == std::vector<std::string>{"CurveP521", "X25519"});
  CHECK_FALSE(tls.prefer_server_cipher_suites);
  CHECK_FALSE(full.http.http2);
  CHECK(full.http.headers ==
        std::vector<std::pair<std::string, std::string>>{{"X-Frame-Options", "sameorigin"}});
  CHECK(full.rate_limit.interval == 250ms);
  CHECK(full.rate_limit.burst == 3);
}

TEST_CASE("a file wins over the same thing inline, as in the toolkit") {
  const WebConfig c = pgbackup::parse_web_config(
      "tls_server_config:\n  cert_file: a.crt\n  cert: inline\n  key_file: /k/a.key\n"
      "  key: inline\n  client_auth_type: RequireAndVerifyClientCert\n"
      "  client_ca_file: ca.pem\n  client_ca: inline\n",
      "/w");
  REQUIRE(c.tls.has_value());
  CHECK(c.tls->cert_file == "/w/a.crt");
  CHECK(c.tls->key_file == "/k/a.key");
  CHECK(c.tls->client_ca_file == "/w/ca.pem");
  CHECK(c.tls->cert.empty());
  CHECK(c.tls->key.empty());
  CHECK(c.tls->client_ca.empty());
}

TEST_CASE("a blank header is left unset and a user who can never log in is a warning") {
  const WebConfig c = pgbackup::parse_web_config(
      std::string("http_server_config:\n  headers:\n    X-XSS-Protection: \"\"\n"
                  "    Content-Security-Policy: \"a\\r\\nInjected: b\"\n"
                  "basic_auth_users:\n  \"a:b\": ") +
          kHash + "\n",
      "/");
  CHECK(c.http.headers == std::vector<std::pair<std::string, std::string>>{
                              {"Content-Security-Policy", "a  Injected: b"}});
  REQUIRE(c.warnings.size() == 1);
  CHECK_THAT(c.warnings[0], Catch::Contains("\"a:b\" can never log in"));
}

TEST_CASE("go cipher and curve names map to their openssl names") {
  struct Row {
    const char* go;
    const char* openssl;
    bool tls13;
  };
  const std::vector<Row> rows = {
      {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", false},
      {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", false},
      {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305", false},
      {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", false},
      {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", false},
      {"TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", true},
  };
  for (const Row& row : rows) {
    INFO(row.go);
    const auto suite = pgbackup::find_cipher_suite(row.go);
    REQUIRE(suite.has_value());
    CHECK(suite->openssl == row.openssl);
    CHECK(suite->tls13 == row.tls13);
  }
  CHECK_FALSE(pgbackup::find_cipher_suite("TLS_RSA_WITH_RC4_128_SHA").has_value());
  CHECK(pgbackup::find_curve("CurveP256") == "P-256");
  CHECK(pgbackup::find_curve("CurveP521") == "P-521");
  CHECK(pgbackup::find_curve("X25519") == "X25519");
  CHECK_FALSE(pgbackup::find_curve("X448").has_value());

  pgbackup::TlsServerConfig tls;
  CHECK_THAT(pgbackup::tls12_cipher_list(tls), Catch::StartsWith("ECDHE-ECDSA-AES128-GCM"));
  CHECK(pgbackup::groups_list(tls) == "X25519:P-256:P-384:P-521");
  tls.cipher_suites = {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256",
                       "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"};
  tls.curve_preferences = {"CurveP521", "CurveP256"};
  CHECK(pgbackup::tls12_cipher_list(tls) ==
        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256");
  CHECK(pgbackup::groups_list(tls) == "P-521:P-256");
  tls.min_version = TlsVersion::kTls10;
  CHECK(pgbackup::tls12_cipher_list(tls) ==
        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0");
  tls.cipher_suites = {"TLS_AES_128_GCM_SHA256"};
  CHECK(pgbackup::tls12_cipher_list(tls).empty());
}

TEST_CASE("bcrypt hashes are judged as go's bcrypt.Cost judges them") {
  const std::vector<std::pair<std::string, std::string>> rows = {
      {kHash, ""},
      {"$2a$04$" + std::string(53, 'a'), ""},
      {"$2$10$" + std::string(53, 'a'), ""},
      {"doe", "too short"},
      {"x2y$10$" + std::string(53, 'a'), "must start with '$'"},
      {"$3y$10$" + std::string(53, 'a'), "version '3'"},
      {"$2y$03$" + std::string(53, 'a'), "cost 3 is outside"},
      {"$2y$1x$" + std::string(53, 'a'), "no two-digit cost"},
  };
  for (const auto& [hash, problem] : rows) {
    INFO(hash);
    if (problem.empty()) {
      CHECK(pgbackup::bcrypt_hash_problem(hash).empty());
    } else {
      CHECK_THAT(pgbackup::bcrypt_hash_problem(hash), Catch::Contains(problem));
    }
  }
}

TEST_CASE("go durations parse as go parses them") {
  const std::vector<std::pair<std::string, std::chrono::nanoseconds>> rows = {
      {"0", 0ns},      {"1s", 1s},     {"250ms", 250ms}, {"1m30s", 90s},
      {"1.5h", 90min}, {"10us", 10us}, {"7", 7ns},       {"2h45m", 165min},
  };
  for (const auto& [text, expected] : rows) {
    INFO(text);
    CHECK(pgbackup::parse_go_duration(text) == expected);
  }
  for (const char* bad : {"", "s", "1d", "1x", "-1s", "1s2"}) {
    INFO(bad);
    CHECK_THROWS_WITH(pgbackup::parse_go_duration(bad), Catch::Contains("invalid duration"));
  }
}

TEST_CASE("the rate limit bucket starts full and refills one token per interval") {
  using Clock = pgbackup::TokenBucket::Clock;
  const Clock::time_point t0{};
  pgbackup::TokenBucket bucket({1s, 2}, t0);
  CHECK(bucket.allow(t0));
  CHECK(bucket.allow(t0));
  CHECK_FALSE(bucket.allow(t0));
  CHECK_FALSE(bucket.allow(t0 + 500ms));
  CHECK(bucket.allow(t0 + 1s));
  CHECK_FALSE(bucket.allow(t0 + 1s));
  CHECK(bucket.allow(t0 + 10s));  // never more than the burst
  CHECK(bucket.allow(t0 + 10s));
  CHECK_FALSE(bucket.allow(t0 + 10s));

  pgbackup::TokenBucket none({1s, 0}, t0);  // burst 0: everything refused
  CHECK_FALSE(none.allow(t0));
  CHECK_FALSE(none.allow(t0 + 1h));
  pgbackup::TokenBucket off({0s, 0}, t0);  // interval 0: no limit
  for (int i = 0; i < 100; ++i) CHECK(off.allow(t0));
}
