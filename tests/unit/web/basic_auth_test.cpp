// Basic auth as the exporter-toolkit does it: outcomes remembered per (user, hash, password),
// one bcrypt comparison at a time, unknown users compared against a fixed hash; and the
// warning for bcrypt costs that make each login slow.
#include "agent/web/basic_auth.h"

#include <openssl/evp.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/web/server_settings.h"
#include "tests/support/bcrypt_hash.h"

using pgbackup::BasicAuth;

namespace {

std::string bcrypt(const std::string& password) { return pgtest::bcrypt_hash(password); }

// "Basic base64(user:password)".
std::string header(const std::string& user_password) {
  std::string out(4 * ((user_password.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(user_password.data()),
                                static_cast<int>(user_password.size()));
  out.resize(static_cast<std::size_t>(n));
  return "Basic " + out;
}

}  // namespace

TEST_CASE("each user, hash and password is compared by bcrypt once, right or wrong") {
  BasicAuth auth({{"dave", bcrypt("dave123")}, {"carol", bcrypt("carol123")}},
                 std::make_shared<std::mutex>());
  CHECK(auth.authenticate(header("dave:dave123")) == "dave");
  CHECK(auth.comparisons() == 1);
  CHECK(auth.authenticate(header("dave:dave123")) == "dave");
  CHECK(auth.comparisons() == 1);
  CHECK_FALSE(auth.authenticate(header("dave:wrong")));
  CHECK_FALSE(auth.authenticate(header("dave:wrong")));
  CHECK(auth.comparisons() == 2);
  // An unknown user costs a comparison (against the fixed hash), then is remembered too.
  CHECK_FALSE(auth.authenticate(header("mallory:dave123")));
  CHECK_FALSE(auth.authenticate(header("mallory:dave123")));
  CHECK(auth.comparisons() == 3);
  // The right password of one user is no password of another.
  CHECK_FALSE(auth.authenticate(header("carol:dave123")));
  CHECK(auth.authenticate(header("carol:carol123")) == "carol");
  CHECK(auth.comparisons() == 5);
  // Not basic auth, or not base64: no comparison at all.
  CHECK_FALSE(auth.authenticate("Bearer x"));
  CHECK_FALSE(auth.authenticate("Basic !!!!"));
  CHECK(auth.comparisons() == 5);
}

TEST_CASE("an unknown user whose password is the fixed hash's is still refused") {
  // The toolkit's fixed hash is of "fakepassword"; ours may be any: no password opens it.
  BasicAuth auth({{"dave", bcrypt("dave123")}}, std::make_shared<std::mutex>());
  for (const char* password : {"fakepassword", "", "dave123"}) {
    CHECK_FALSE(auth.authenticate(header(std::string("nobody:") + password)));
  }
}

TEST_CASE("the remembered outcomes stay bounded and right past the bound") {
  const std::string hash = bcrypt("right");
  BasicAuth auth({{"u", hash}}, std::make_shared<std::mutex>());
  const std::size_t tries = BasicAuth::kMaxOutcomes + 300;
  for (std::size_t i = 0; i < tries; ++i) {
    CHECK_FALSE(auth.authenticate(header("u:wrong" + std::to_string(i))));
  }
  CHECK(auth.comparisons() == tries);
  CHECK(auth.authenticate(header("u:right")) == "u");
  // The newest outcomes were kept: asking again runs no bcrypt.
  const std::size_t before = auth.comparisons();
  CHECK(auth.authenticate(header("u:right")) == "u");
  CHECK_FALSE(auth.authenticate(header("u:wrong" + std::to_string(tries - 1))));
  CHECK(auth.comparisons() == before);
}

TEST_CASE("logins that wait for one comparison do not each run bcrypt again") {
  auto gate = std::make_shared<std::mutex>();
  BasicAuth auth({{"dave", bcrypt("dave123")}}, gate);
  std::vector<std::thread> logins;
  std::vector<int> ok(8, 0);
  {
    // Held here: the eight logins queue at the gate as they would behind a slow comparison.
    std::lock_guard hold(*gate);
    for (std::size_t i = 0; i < ok.size(); ++i) {
      logins.emplace_back(
          [&auth, &ok, i] { ok[i] = auth.authenticate(header("dave:dave123")) ? 1 : 0; });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(auth.comparisons() == 0);
  }
  for (std::thread& t : logins) t.join();
  CHECK(ok == std::vector<int>(8, 1));
  CHECK(auth.comparisons() == 1);
}

TEST_CASE("a bcrypt cost above 12 gets a warning naming the user and the time one login takes") {
  const std::map<std::string, std::string> users = {
      {"alice", "$2y$12$1DpfPeqF9HzHJt.EWswy1exHluGfbhnn3yXhR7Xes6m3WJqFg0Wby"},
      {"bob", "$2y$18$4VeFDzXIoPHKnKTU3O3GH.N.vZu06CVqczYZ8WvfzrddFU6tGqjR."},
      {"eve", "$2b$31$K8VLisHdVUzVWekazDC/Me2GX6/Vlnw8D9VdixH/Dy21/XKsmoQN6"},
  };
  // 4 ms at cost 6: 2^12 times that at 18, 2^25 at 31.
  const std::vector<std::string> warnings = pgbackup::slow_login_warnings(users, 0.004, 6);
  REQUIRE(warnings.size() == 2);
  CHECK_THAT(warnings[0],
             Catch::Contains("user \"bob\" has cost 18") && Catch::Contains("about 16 s") &&
                 Catch::Contains("measured at cost 6") && Catch::Contains("htpasswd -nbBC 10"));
  CHECK_THAT(warnings[1],
             Catch::Contains("user \"eve\" has cost 31") && Catch::Contains("about 1d13h16m"));
  CHECK(pgbackup::slow_login_warnings(users, 0.5, 12).size() == 2);
  CHECK_THAT(pgbackup::slow_login_warnings({{"bob", users.at("bob")}}, 0.0004, 6)[0],
             Catch::Contains("about 1.6 s"));
}

TEST_CASE("loading a cost 31 hash warns from a cheap measurement and never hashes at 31") {
  pgbackup::WebConfig config;
  config.basic_auth_users["eve"] = "$2b$31$K8VLisHdVUzVWekazDC/Me2GX6/Vlnw8D9VdixH/Dy21/XKsmoQN6";
  // Hashing at cost 31 would take days (and this test would time out).
  const auto settings = pgbackup::build_server_settings(config, std::make_shared<std::mutex>());
  REQUIRE(settings->config.warnings.size() == 1);
  CHECK_THAT(settings->config.warnings[0], Catch::Contains("user \"eve\" has cost 31"));
  CHECK(settings->basic_auth != nullptr);
  CHECK(pgbackup::measure_bcrypt_seconds(6) > 0);
}

TEST_CASE("hashes of cost 12 or less load without a warning, a slower one beside them warns") {
  pgbackup::WebConfig config;
  config.basic_auth_users["alice"] = "$2y$12$1DpfPeqF9HzHJt.EWswy1exHluGfbhnn3yXhR7Xes6m3WJqFg0Wby";
  config.basic_auth_users["dave"] = bcrypt("dave123");
  CHECK(pgbackup::build_server_settings(config, std::make_shared<std::mutex>())
            ->config.warnings.empty());
  config.basic_auth_users["bob"] = "$2y$18$4VeFDzXIoPHKnKTU3O3GH.N.vZu06CVqczYZ8WvfzrddFU6tGqjR.";
  const auto settings = pgbackup::build_server_settings(config, std::make_shared<std::mutex>());
  REQUIRE(settings->config.warnings.size() == 1);
  CHECK_THAT(settings->config.warnings[0], Catch::Contains("user \"bob\" has cost 18"));
}
