#include "tests/support/web_tls.h"

#include <map>
#include <thread>

namespace pgtest::webtls {

using namespace std::chrono_literals;

namespace {

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

}  // namespace

pgbackup::ProcessResult run(std::vector<std::string> argv, const fs::path& cwd,
                            std::chrono::seconds timeout) {
  pgbackup::ProcessSpec spec;
  if (!cwd.empty()) argv.insert(argv.begin(), {"env", "-C", cwd.string()});
  spec.argv = std::move(argv);
  spec.timeout = timeout;
  return pgbackup::run_process(spec);
}

void write_web_configs(const Pki& pki) {
  for (const auto& [name, text] : web_configs(pki)) write_text(pki.dir / name, text);
}

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

}  // namespace pgtest::webtls
