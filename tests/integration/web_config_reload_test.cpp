// `--web.config.file` end to end, beyond the exporter-toolkit's cases: a changed file applies to
// the next connection (a broken one keeps the old), and openssl s_client sees the versions,
// ciphers, curves and client CAs the file asks for.
#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

#include "tests/support/bcrypt_hash.h"
#include "tests/support/web_tls.h"

using namespace pgtest;
using namespace pgtest::webtls;
using namespace std::chrono_literals;

TEST_CASE("a changed web config applies to the next connection and a broken one keeps the old",
          "[webconfig]") {
  TestTarget t("webcfg_reload", 0);
  const Pki pki(t.root / "pki");
  write_web_configs(pki);
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
  write_web_configs(pki);
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
