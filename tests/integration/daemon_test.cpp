// `pgbackup-agent run` end to end: the real daemon, a real PostgreSQL, real scrapes.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <regex>
#include <thread>

#include <crypt.h>

#include "agent/subprocess.h"
#include "tests/support/target.h"

using namespace pgtest;
using namespace std::chrono_literals;

namespace {

// The daemon as a child process of the test, so signals can be sent to it.
class Daemon {
 public:
  Daemon(const fs::path& config, int port, const std::string& web_config = "",
         const std::string& scheme = "http")
      : port_(port), scheme_(scheme) {
    const std::string binary = PGBACKUP_AGENT_BINARY;
    const std::string cfg = config.string();
    const std::string listen = "127.0.0.1:" + std::to_string(port);
    log_ = config.parent_path() / "daemon.log";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setenv("PGTEST_PASSWORD", PgCluster::kPassword, 1);
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      if (web_config.empty()) {
        ::execl(binary.c_str(), binary.c_str(), "--config", cfg.c_str(), "run",
                "--web.listen-address", listen.c_str(), static_cast<char*>(nullptr));
      } else {
        ::execl(binary.c_str(), binary.c_str(), "--config", cfg.c_str(), "run",
                "--web.listen-address", listen.c_str(), "--web.config.file", web_config.c_str(),
                static_cast<char*>(nullptr));
      }
      ::_exit(127);
    }
  }
  ~Daemon() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  std::string url(const std::string& path, const std::string& userinfo = "") const {
    return scheme_ + "://" + (userinfo.empty() ? "" : userinfo + "@") +
           "127.0.0.1:" + std::to_string(port_) + path;
  }
  // Polls /metrics until `pattern` matches (or fails the test after `timeout`).
  std::string wait_for_metric(const std::string& pattern,
                              std::chrono::seconds timeout = 60s) const {
    const std::regex re(pattern);
    std::string body;
    for (auto end = std::chrono::steady_clock::now() + timeout;
         std::chrono::steady_clock::now() < end;) {
      body = http_get(url("/metrics")).body;
      if (std::regex_search(body, re)) return body;
      std::this_thread::sleep_for(200ms);
    }
    FAIL("metric " << pattern << " never appeared; last scrape:\n" << body << "\nlog:\n" << log());
    return body;
  }
  void signal(int sig) const { ::kill(pid_, sig); }
  // Waits for the exit; returns the exit status, or -1 after `timeout`.
  int wait_exit(std::chrono::seconds timeout) {
    for (auto end = std::chrono::steady_clock::now() + timeout;
         std::chrono::steady_clock::now() < end;) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(50ms);
    }
    return -1;
  }
  std::string log() const { return read_text_file(log_); }

 private:
  int port_;
  std::string scheme_;
  pid_t pid_ = -1;
  fs::path log_;
};

std::string target_yaml(const TestTarget& t, const std::string& database_yaml) {
  return "  - name: " + t.name + "\n    database: " + database_yaml +
         "\n    backup: {dir: " + t.dir.string() + ", schedule: \"0 2 * * *\"}\n";
}

}  // namespace

TEST_CASE(
    "the daemon backs up a healthy target at once while a target whose database is down "
    "fails on its own",
    "[daemon]") {
  TestTarget healthy("healthy", 50);
  TestTarget down("down", 0);
  const std::string down_db = "{host: 127.0.0.1, port: " + std::to_string(free_port()) +
                              ", user: postgres, dbname: x, password_env: PGTEST_PASSWORD, "
                              "connect_timeout: 2s}";
  const fs::path config = healthy.root / "two.yml";
  write_text(config, "targets:\n" + target_yaml(healthy, healthy.default_database_yaml()) +
                         target_yaml(down, down_db));
  const int port = free_port();
  Daemon daemon(config, port);

  daemon.wait_for_metric(R"(pgbackup_backup_failures_total\{target="down"\} [1-9])");
  const std::string metrics =
      daemon.wait_for_metric(R"(pgbackup_backup_last_run_success\{target="healthy"\} 1)");
  INFO(metrics);
  CHECK_THAT(metrics, Catch::Contains("pgbackup_backup_last_run_success{target=\"down\"} 0"));
  CHECK_THAT(metrics, Catch::Contains("pgbackup_backups{target=\"healthy\",tier=\"monthly\"} 1"));
  CHECK_THAT(metrics, Catch::Contains(
                          "pgbackup_backup_schedule_interval_seconds{target=\"healthy\"} 86400"));
  CHECK_THAT(metrics, Catch::Contains("pgbackup_backup_rows{target=\"healthy\"} 2558"));
  CHECK_THAT(metrics, Catch::Contains("pgbackup_build_info{"));
  CHECK(healthy.dumps().size() == 1);
  daemon.wait_for_metric(R"(pgbackup_database_up\{target="healthy"\} 1)");
  daemon.wait_for_metric(R"(pgbackup_database_up\{target="down"\} 0)");

  SECTION("a scrape passes promtool check metrics") {
    pgbackup::ProcessSpec lint;
    lint.argv = {"promtool", "check", "metrics"};
    lint.stdin_data = http_get(daemon.url("/metrics")).body;
    const auto r = pgbackup::run_process(lint);
    INFO(r.out << r.err);
    CHECK(r.ok());
  }
  SECTION("every metric the dashboard and the alert rules query is in a real scrape") {
    const fs::path scrape = healthy.root / "scrape.prom";
    write_text(scrape, http_get(daemon.url("/metrics")).body);
    pgbackup::ProcessSpec lint;
    const std::string src = PGBACKUP_SOURCE_DIR;
    lint.argv = {"python3",
                 src + "/tests/monitoring/lint_dashboard.py",
                 src + "/grafana/pgbackup-overview.json",
                 "--rules",
                 src + "/alerts/pgbackup.rules.yml",
                 "--metrics",
                 scrape.string()};
    const auto r = pgbackup::run_process(lint);
    INFO(r.out << r.err);
    CHECK(r.ok());
  }
  SECTION("a backup run by hand shows up in the metrics within seconds") {
    std::this_thread::sleep_for(1100ms);
    // While it runs (held up by a lock), the daemon reports it in progress; then the new
    // backup appears.
    TableLock lock(healthy.db);
    AgentRun manual;
    std::thread agent([&] { manual = healthy.agent({"backup"}); });
    REQUIRE(!wait_for_partial(healthy.dir).empty());
    daemon.wait_for_metric(R"(pgbackup_backup_in_progress\{target="healthy"\} 1)", 10s);
    lock.release();
    agent.join();
    REQUIRE(manual.exit_code == 0);
    daemon.wait_for_metric(R"(pgbackup_backups\{target="healthy",tier="daily"\} 1)", 10s);
    daemon.wait_for_metric(R"(pgbackup_backup_in_progress\{target="healthy"\} 0)", 10s);
  }
  SECTION("the endpoints answer") {
    CHECK(http_get(daemon.url("/-/healthy")).status == 200);
    CHECK(http_get(daemon.url("/-/ready")).status == 200);
    const HttpReply page = http_get(daemon.url("/"));
    CHECK(page.status == 200);
    CHECK_THAT(page.body, Catch::Contains("<h2>healthy</h2>") && Catch::Contains("<h2>down</h2>") &&
                              Catch::Contains("failed"));
    const auto status = nlohmann::json::parse(http_get(daemon.url("/api/v1/status")).body);
    CHECK(status["targets"].size() == 2);
    CHECK(http_get(daemon.url("/nothing")).status == 404);
  }
  SECTION("SIGHUP with a broken config keeps the running one") {
    write_text(config, "targets: [");
    daemon.signal(SIGHUP);
    std::this_thread::sleep_for(1s);
    CHECK(http_get(daemon.url("/-/healthy")).status == 200);
    CHECK_THAT(daemon.log(), Catch::Contains("config reload failed, keeping the running config"));
  }
  daemon.signal(SIGTERM);
  CHECK(daemon.wait_exit(10s) == 0);
}

TEST_CASE("SIGTERM during a backup stops it within 10 s and leaves no partial file", "[daemon]") {
  TestTarget t("sigterm", 50);
  // A lock held elsewhere keeps pg_dump waiting: the backup is in progress until we stop it.
  TableLock lock(t.db);
  Daemon daemon(t.config, free_port());
  daemon.wait_for_metric(R"(pgbackup_backup_in_progress\{target="sigterm"\} 1)");
  REQUIRE(!wait_for_partial(t.dir).empty());
  const auto start = std::chrono::steady_clock::now();
  daemon.signal(SIGTERM);
  CHECK(daemon.wait_exit(10s) == 0);
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  for (const auto& e : fs::directory_iterator(t.dir)) {
    CHECK(e.path().extension() != ".partial");
    CHECK(e.path().extension() != ".dump");
  }
  lock.release();
  CHECK(find_process({"pg_dump", t.db}) == 0);
}

TEST_CASE("with a web config the daemon serves TLS and refuses a wrong password", "[daemon]") {
  TestTarget t("webauth", 20);
  REQUIRE(t.agent({"backup"}).exit_code == 0);
  std::unique_ptr<char, decltype(&free)> salt(crypt_gensalt_ra("$2b$", 5, nullptr, 0), &free);
  crypt_data data{};
  const std::string hash = crypt_r("scrape-pass", salt.get(), &data);
  pgbackup::ProcessSpec cert;
  cert.argv = {"openssl",  "req",
               "-x509",    "-newkey",
               "rsa:2048", "-nodes",
               "-subj",    "/CN=localhost",
               "-days",    "1",
               "-keyout",  (t.root / "key.pem").string(),
               "-out",     (t.root / "cert.pem").string()};
  REQUIRE(pgbackup::run_process(cert).ok());
  write_text(t.root / "web.yml",
             "tls_server_config: {cert_file: cert.pem, key_file: key.pem}\n"
             "basic_auth_users:\n  prometheus: " +
                 hash + "\n");
  Daemon daemon(t.config, free_port(), (t.root / "web.yml").string(), "https");
  HttpReply ok;
  for (int i = 0; i < 100 && ok.status != 200; ++i) {
    std::this_thread::sleep_for(100ms);
    ok = http_get(daemon.url("/metrics", "prometheus:scrape-pass"));
  }
  INFO(daemon.log());
  CHECK(ok.status == 200);
  CHECK_THAT(ok.body, Catch::Contains("pgbackup_backup_last_run_success{target=\"webauth\"} 1"));
  CHECK(http_get(daemon.url("/metrics", "prometheus:wrong")).status == 401);
  CHECK(http_get(daemon.url("/metrics")).status == 401);
  CHECK(http_get(daemon.url("/", "nobody:scrape-pass")).status == 401);
  CHECK(http_get("http://" + daemon.url("/metrics").substr(8)).status != 200);  // no plain HTTP
  daemon.signal(SIGTERM);
  CHECK(daemon.wait_exit(10s) == 0);
}
