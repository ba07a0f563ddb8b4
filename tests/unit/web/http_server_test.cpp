#include "agent/web/http_server.h"

#include <curl/curl.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include "agent/web/bcrypt.h"
#include "agent/web/web_config.h"
#include "tests/support/bcrypt_hash.h"

namespace fs = std::filesystem;
using pgbackup::HttpRequest;
using pgbackup::HttpResponse;
using pgbackup::HttpServer;
using pgbackup::WebConfig;

namespace {

// A temporary directory removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "pgbackup-http-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_file(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

std::string bcrypt(const std::string& password) { return pgtest::bcrypt_hash(password, 5); }

// Writes a self-signed certificate for localhost and its key into `dir`.
void make_self_signed_certificate(const fs::path& dir) {
  const std::string command =
      "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost "
      "-days 1 -keyout '" +
      (dir / "key.pem").string() + "' -out '" + (dir / "cert.pem").string() + "' 2>/dev/null";
  REQUIRE(std::system(command.c_str()) == 0);
}

struct Fetched {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::string headers;
};

size_t append(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

struct FetchOptions {
  std::string method = "GET";
  std::string user_password;  // "user:password" for basic auth
  std::string ca_file;        // trusted certificate for https
};

FetchOptions Method(std::string method) {
  FetchOptions options;
  options.method = std::move(method);
  return options;
}

FetchOptions Credentials(std::string user_password) {
  FetchOptions options;
  options.user_password = std::move(user_password);
  return options;
}

FetchOptions TrustedCa(std::string ca_file) {
  FetchOptions options;
  options.ca_file = std::move(ca_file);
  return options;
}

Fetched fetch(const std::string& url, const FetchOptions& options = {}) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  REQUIRE(curl != nullptr);
  Fetched out;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, append);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &out.headers);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  if (options.method == "HEAD") {
    curl_easy_setopt(curl.get(), CURLOPT_NOBODY, 1L);
  } else if (options.method == "POST") {
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, "x=1");
  } else if (options.method != "GET") {
    curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, options.method.c_str());
  }
  if (!options.user_password.empty()) {
    curl_easy_setopt(curl.get(), CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl.get(), CURLOPT_USERPWD, options.user_password.c_str());
  }
  if (!options.ca_file.empty()) {
    curl_easy_setopt(curl.get(), CURLOPT_CAINFO, options.ca_file.c_str());
  }
  out.code = curl_easy_perform(curl.get());
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &out.status);
  return out;
}

// cert.pem and key.pem in `dir` that are not a certificate and a key: parsing a web config only
// checks that the files it names exist.
void write_placeholder_cert_and_key(const TempDir& dir) {
  write_file(dir.path() / "cert.pem", "x");
  write_file(dir.path() / "key.pem", "x");
}

HttpResponse hello(const HttpRequest& request) {
  return {200, "text/plain; charset=utf-8", "hello " + request.query + "\n", {}};
}

}  // namespace

TEST_CASE("a web config with tls and users is read, with paths relative to its folder") {
  TempDir dir;
  write_placeholder_cert_and_key(dir);
  const std::string hash = bcrypt("secret");
  const WebConfig config = pgbackup::parse_web_config(
      "tls_server_config:\n"
      "  cert_file: cert.pem\n"
      "  key_file: " +
          (dir.path() / "key.pem").string() +
          "\n"
          "  client_auth_type: RequireAnyClientCert\n"
          "  min_version: TLS13\n"
          "basic_auth_users:\n"
          "  prometheus: " +
          hash + "\n",
      dir.path());
  REQUIRE(config.tls.has_value());
  CHECK(config.tls->cert_file == dir.path() / "cert.pem");
  CHECK(config.tls->key_file == dir.path() / "key.pem");
  CHECK(config.tls->client_auth == pgbackup::ClientAuth::kRequireAnyClientCert);
  CHECK(config.tls->min_version == pgbackup::TlsVersion::kTls13);
  CHECK(config.tls->client_ca_file.empty());
  CHECK(config.basic_auth_users.at("prometheus") == hash);
}

TEST_CASE("an empty web config means plain http without authentication") {
  const WebConfig config = pgbackup::parse_web_config("", "/");
  CHECK_FALSE(config.tls.has_value());
  CHECK(config.basic_auth_users.empty());
}

TEST_CASE("an unknown key in the web config is an error naming the key and its line") {
  TempDir dir;
  write_placeholder_cert_and_key(dir);
  CHECK_THROWS_WITH(pgbackup::parse_web_config("basic_auth_users: {}\n"
                                               "tls_server_config:\n"
                                               "  cert_file: cert.pem\n"
                                               "  key_file: key.pem\n"
                                               "  client_auth: RequireAnyClientCert\n",
                                               dir.path()),
                    Catch::Contains("line 5") &&
                        Catch::Contains("unknown key \"tls_server_config.client_auth\""));
  CHECK_THROWS_WITH(pgbackup::parse_web_config("\nbasic_auth_user: {}\n", dir.path()),
                    Catch::Contains("line 2") && Catch::Contains("\"basic_auth_user\""));
}

TEST_CASE("a web config key that is a list or mapping is an error, not a YAML exception") {
  // fuzz: "? prometheus: ..." made a mapping the key of the top level; as<std::string>() threw
  // YAML::TypedBadConversion, which no caller expects.
  CHECK_THROWS_WITH(pgbackup::parse_web_config(
                        "basic_auth_users:\n? prometheus: $2y$10$XaBhOVXCbI0eHNBbYe1ZGq\n", "/"),
                    Catch::Contains("line 2") && Catch::Contains("a key of the web config") &&
                        Catch::Contains("plain name"));
  CHECK_THROWS_AS(pgbackup::parse_web_config("tls_server_config:\n  [a, b]: x\n", "/"),
                  std::invalid_argument);
}

TEST_CASE("a web config naming a missing certificate file is an error naming the file") {
  TempDir dir;
  write_file(dir.path() / "key.pem", "x");
  write_file(dir.path() / "web.yml",
             "tls_server_config:\n"
             "  cert_file: missing.pem\n"
             "  key_file: key.pem\n");
  CHECK_THROWS_WITH(pgbackup::load_web_config(dir.path() / "web.yml"),
                    Catch::Contains("cert_file: no such file") &&
                        Catch::Contains((dir.path() / "missing.pem").string()));
}

TEST_CASE("a web config user whose password is not a bcrypt hash is rejected") {
  CHECK_THROWS_WITH(pgbackup::parse_web_config("basic_auth_users:\n  alice: hunter2\n", "/"),
                    Catch::Contains("line 2") && Catch::Contains("not a bcrypt hash"));
}

TEST_CASE("a web config file is read relative to its own folder") {
  TempDir dir;
  write_placeholder_cert_and_key(dir);
  write_file(dir.path() / "web.yml",
             "tls_server_config: {cert_file: cert.pem, key_file: key.pem}\n");
  const WebConfig config = pgbackup::load_web_config(dir.path() / "web.yml");
  REQUIRE(config.tls.has_value());
  CHECK(config.tls->cert_file == dir.path() / "cert.pem");
  CHECK_THROWS_WITH(pgbackup::load_web_config(dir.path() / "nope.yml"),
                    Catch::Contains("cannot read web config file"));
}

TEST_CASE("a password matches only its own bcrypt hash") {
  const std::string hash = bcrypt("correct horse");
  CHECK(pgbackup::verify_password("correct horse", hash));
  CHECK_FALSE(pgbackup::verify_password("correct horse ", hash));
  CHECK_FALSE(pgbackup::verify_password("", hash));
  CHECK_FALSE(pgbackup::verify_password(std::string("correct horse\0x", 15), hash));
  CHECK_FALSE(pgbackup::verify_password("correct horse", "not a hash"));
  // htpasswd writes $2y$, which is the same algorithm.
  CHECK(pgbackup::verify_password("correct horse", "$2y$" + hash.substr(4)));
}

TEST_CASE("the http server serves exact paths with GET and HEAD, 404 elsewhere, 405 otherwise") {
  HttpServer server({"127.0.0.1:0"}, WebConfig{}, 2);
  server.handle("/hello", hello);
  REQUIRE(server.ports().size() == 1);
  const std::string base = "http://127.0.0.1:" + std::to_string(server.ports()[0]);

  CHECK(fetch(base + "/hello").status == 503);  // not started yet
  server.start();

  const Fetched ok = fetch(base + "/hello?name=x");
  CHECK(ok.status == 200);
  CHECK(ok.body == "hello name=x\n");
  CHECK_THAT(ok.headers, Catch::Contains("Content-Type: text/plain; charset=utf-8"));

  const Fetched head = fetch(base + "/hello", Method("HEAD"));
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK_THAT(head.headers, Catch::Contains("Content-Length: 7"));

  CHECK(fetch(base + "/").status == 404);
  CHECK(fetch(base + "/hello/more").status == 404);
  CHECK(fetch(base + "/index.html").status == 404);

  const Fetched post = fetch(base + "/hello", Method("POST"));
  CHECK(post.status == 405);
  CHECK_THAT(post.headers, Catch::Contains("Allow: GET, HEAD"));
  CHECK(fetch(base + "/hello", Method("DELETE")).status == 405);
  CHECK(fetch(base + "/hello", Method("PUT")).status == 405);

  server.stop();
  CHECK(fetch(base + "/hello").code == CURLE_COULDNT_CONNECT);
}

TEST_CASE("a scraper's connection is kept alive between requests") {
  HttpServer server({"127.0.0.1:0"}, WebConfig{});
  server.handle("/hello", hello);
  server.start();
  const std::string url = "http://127.0.0.1:" + std::to_string(server.ports()[0]) + "/hello";
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  std::string body;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 10L);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(curl_easy_perform(curl.get()) == CURLE_OK);
    long new_connections = -1;
    curl_easy_getinfo(curl.get(), CURLINFO_NUM_CONNECTS, &new_connections);
    CHECK(new_connections == (i == 0 ? 1 : 0));
  }
  CHECK(body == "hello \nhello \nhello \n");
}

TEST_CASE("a handler that throws gives 500 and the server keeps serving") {
  HttpServer server({"127.0.0.1:0"}, WebConfig{}, 2);
  server.handle("/boom",
                [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("kaboom"); });
  server.handle("/hello", hello);
  server.start();
  const std::string base = "http://127.0.0.1:" + std::to_string(server.ports()[0]);
  const Fetched boom = fetch(base + "/boom");
  CHECK(boom.status == 500);
  CHECK(boom.body == "internal server error\n");
  CHECK(fetch(base + "/hello").status == 200);
}

TEST_CASE("with basic auth users every path needs the right password") {
  WebConfig web;
  web.basic_auth_users["prometheus"] = bcrypt("s3cret");
  HttpServer server({"127.0.0.1:0"}, web, 2);
  server.handle("/hello", [](const HttpRequest& request) {
    return HttpResponse{200, "text/plain; charset=utf-8", "hello " + request.user, {}};
  });
  server.start();
  const std::string base = "http://127.0.0.1:" + std::to_string(server.ports()[0]);

  const Fetched anonymous = fetch(base + "/hello");
  CHECK(anonymous.status == 401);
  CHECK_THAT(anonymous.headers,
             Catch::Contains("WWW-Authenticate: Basic realm=\"pgbackup-agent\""));
  CHECK(fetch(base + "/unknown").status == 401);
  CHECK(fetch(base + "/hello", Credentials("prometheus:wrong")).status == 401);
  CHECK(fetch(base + "/hello", Credentials("nobody:s3cret")).status == 401);
  CHECK(fetch(base + "/hello", Credentials("prometheus:")).status == 401);

  const Fetched good = fetch(base + "/hello", Credentials("prometheus:s3cret"));
  CHECK(good.status == 200);
  CHECK(good.body == "hello prometheus");
  CHECK(fetch(base + "/unknown", Credentials("prometheus:s3cret")).status == 404);
  // Served from the cache of verified credentials this time; a wrong one is still checked.
  CHECK(fetch(base + "/hello", Credentials("prometheus:s3cret")).status == 200);
  CHECK(fetch(base + "/hello", Credentials("prometheus:s3cret!")).status == 401);
}

TEST_CASE("with tls_server_config the server speaks https only") {
  TempDir dir;
  make_self_signed_certificate(dir.path());
  const WebConfig web = pgbackup::parse_web_config(
      "tls_server_config: {cert_file: cert.pem, key_file: key.pem}\n", dir.path());
  HttpServer server({"127.0.0.1:0"}, web, 2);
  server.handle("/hello", hello);
  server.start();
  const std::string port = std::to_string(server.ports()[0]);

  const Fetched secure =
      fetch("https://localhost:" + port + "/hello", TrustedCa((dir.path() / "cert.pem").string()));
  CHECK(secure.code == CURLE_OK);
  CHECK(secure.status == 200);
  CHECK(secure.body == "hello \n");

  const Fetched plain = fetch("http://127.0.0.1:" + port + "/hello");
  CHECK(plain.status != 200);
  CHECK(plain.body.find("hello") == std::string::npos);
}

TEST_CASE("a certificate that does not match its key is an error at startup") {
  TempDir a;
  TempDir b;
  make_self_signed_certificate(a.path());
  make_self_signed_certificate(b.path());
  WebConfig web;
  web.tls.emplace();
  web.tls->cert_file = a.path() / "cert.pem";
  web.tls->key_file = b.path() / "key.pem";
  CHECK_THROWS_WITH(HttpServer({"127.0.0.1:0"}, web),
                    Catch::Contains("key_file") && Catch::Contains("mismatch"));
}

TEST_CASE("a port already in use is an error naming the address") {
  HttpServer first({"127.0.0.1:0"}, WebConfig{});
  const std::string address = "127.0.0.1:" + std::to_string(first.ports()[0]);
  CHECK_THROWS_WITH(HttpServer({address}, WebConfig{}),
                    Catch::Contains("cannot listen on \"" + address + "\"") &&
                        Catch::Contains("hint: another process uses the port?"));
}

TEST_CASE("a malformed listen address is rejected with the accepted forms") {
  for (const char* bad : {"10115", "localhost:", ":http", ":99999", ""}) {
    INFO(bad);
    CHECK_THROWS_WITH(HttpServer({bad}, WebConfig{}), Catch::Contains("expected HOST:PORT"));
  }
}

TEST_CASE("a web config file is read again when it changes, and a broken one is not used") {
  TempDir dir;
  const fs::path web = dir.path() / "web.yml";
  const auto replace = [&web](const std::string& text) {
    write_file(web.string() + ".new", text);
    fs::rename(web.string() + ".new", web);
  };
  const std::string hash = bcrypt("pw");
  replace("basic_auth_users:\n  alice: " + hash + "\n");
  pgbackup::WebConfigFile file(web);
  const auto first = file.current();
  CHECK(first->config.basic_auth_users.contains("alice"));
  CHECK(file.current() == first);  // unchanged: the same settings, not read again

  replace("basic_auth_users:\n  bob: " + hash + "\n");
  const auto second = file.current();
  CHECK(second != first);
  CHECK(second->config.basic_auth_users.contains("bob"));
  CHECK_FALSE(second->config.basic_auth_users.contains("alice"));
  CHECK(file.last_error().empty());

  replace("basic_auth_users:\n  carol: not-a-hash\n");
  CHECK(file.current() == second);
  CHECK_THAT(file.last_error(), Catch::Contains("not a bcrypt hash"));

  replace("tls_server_config: {cert_file: cert.pem, key_file: key.pem}\n");
  CHECK(file.current() == second);
  CHECK_THAT(file.last_error(), Catch::Contains("no such file"));
  // The missing files are watched too: writing them is a change.
  make_self_signed_certificate(dir.path());
  CHECK(file.current() == second);
  CHECK_THAT(file.last_error(), Catch::Contains("cannot turn TLS on"));
}

TEST_CASE("configured headers go with every answer and the rate limit answers 429") {
  WebConfig web;
  web.http.headers = {{"X-Frame-Options", "deny"},
                      {"Content-Security-Policy", "default-src 'self'"}};
  web.rate_limit = {std::chrono::hours(1), 2};
  HttpServer server({"127.0.0.1:0"}, web, 2);
  server.handle("/hello", hello);
  server.start();
  const std::string base = "http://127.0.0.1:" + std::to_string(server.ports()[0]);
  const Fetched found = fetch(base + "/hello");
  CHECK(found.status == 200);
  CHECK_THAT(found.headers, Catch::Contains("X-Frame-Options: deny") &&
                                Catch::Contains("Content-Security-Policy: default-src 'self'"));
  const Fetched missing = fetch(base + "/nothing");
  CHECK(missing.status == 404);
  CHECK_THAT(missing.headers, Catch::Contains("X-Frame-Options: deny"));
  CHECK(fetch(base + "/hello").status == 429);  // the third request within the hour
}

TEST_CASE("a missing client CA file is reported before the missing client auth policy") {
  TempDir dir;
  write_placeholder_cert_and_key(dir);
  write_file(dir.path() / "web.yml",
             "tls_server_config: {cert_file: cert.pem, key_file: key.pem, client_ca_file: nope}\n");
  CHECK_THROWS_WITH(pgbackup::load_web_config(dir.path() / "web.yml"),
                    Catch::Contains("client_ca_file: no such file"));
  write_file(dir.path() / "nope", "");
  CHECK_THROWS_WITH(pgbackup::load_web_config(dir.path() / "web.yml"),
                    Catch::Contains("without a client auth policy"));
}

TEST_CASE("every bcrypt cost Go's bcrypt accepts is accepted, as in the exporter-toolkit") {
  // Cost 31 is 2^31 rounds of bcrypt's key setup: days per login, but the toolkit loads it
  // (the agent warns at load, see basic_auth_test.cpp).
  for (const char* cost : {"04", "10", "18", "31"}) {
    INFO(cost);
    const std::string hash =
        std::string("$2b$") + cost + "$K8VLisHdVUzVWekazDC/Me2GX6/Vlnw8D9VdixH/Dy21/XKsmoQN6";
    CHECK(
        pgbackup::parse_web_config("basic_auth_users: {prometheus: " + hash + "}\n", "/nonexistent")
            .basic_auth_users.at("prometheus") == hash);
  }
  for (const char* cost : {"03", "32"}) {
    INFO(cost);
    CHECK_THROWS_WITH(
        pgbackup::parse_web_config(std::string("basic_auth_users: {prometheus: $2b$") + cost +
                                       "$K8VLisHdVUzVWekazDC/Me2GX6/Vlnw8D9VdixH/Dy21/XKsmoQN6}\n",
                                   "/nonexistent"),
        Catch::Contains("is outside 4..31"));
  }
}
