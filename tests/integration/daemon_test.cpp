// `pgbackup-agent run` end to end: the real daemon, a real PostgreSQL, real scrapes.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <thread>

#include <crypt.h>

#include "agent/core/subprocess.h"
#include "tests/support/daemon.h"
#include "tests/support/fake_backup.h"
#include "tests/support/target.h"

using namespace pgtest;
using namespace std::chrono_literals;

namespace {

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
  // An empty web config (plain HTTP, no auth), so that the scrape has every metric the
  // dashboard queries, the web config reload state included.
  const fs::path web_config = healthy.root / "web.yml";
  write_text(web_config, "# plain HTTP, no authentication\n");
  Daemon daemon(config, port, web_config.string());

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
  // DESIGN §11 for a pg_dump target: its engine and recovery window, backups by type; no WAL
  // archive, so the archive's families carry no sample of it.
  CHECK_THAT(metrics,
             Catch::Contains("pgbackup_target_info{engine=\"pg_dump\",target=\"healthy\"} 1"));
  CHECK_THAT(metrics, Catch::Contains("pgbackup_backup_type_last_success_timestamp_seconds{"
                                      "target=\"healthy\",type=\"incr\"} 0"));
  CHECK_THAT(metrics, Catch::Contains("# TYPE pgbackup_rpo_exposure_seconds gauge") &&
                          !Catch::Contains("pgbackup_rpo_exposure_seconds{"));
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
    CHECK_THAT(page.body, Catch::Contains("<h2>healthy <span class='badge") &&
                              Catch::Contains("<tr id='health-down' data-level='critical'>") &&
                              Catch::Contains("failed") &&
                              Catch::Contains("<th>engine</th><td>pg_dump</td>"));
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

TEST_CASE("a reload that removes a target with a running backup still answers SIGTERM",
          "[daemon]") {
  TestTarget removed("removed", 20);
  TestTarget added("added", 20);
  TableLock lock(removed.db);  // the removed target's backup waits until the end
  Daemon daemon(removed.config, free_port());
  daemon.wait_for_metric(R"(pgbackup_backup_in_progress\{target="removed"\} 1)");
  // The same config file now names only the other target.
  fs::copy_file(added.config, removed.config, fs::copy_options::overwrite_existing);
  daemon.signal(SIGHUP);
  daemon.wait_for_metric(R"(pgbackup_backups\{target="added",tier="monthly"\} 1)", 60s);
  const auto start = std::chrono::steady_clock::now();
  daemon.signal(SIGTERM);
  CHECK(daemon.wait_exit(10s) == 0);
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  for (const auto& e : fs::directory_iterator(removed.dir)) {
    CHECK(e.path().extension() != ".partial");
  }
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

TEST_CASE("the daemon runs a due restore test after the backup and exports its result",
          "[restore_test]") {
  TestTarget t("rt-daemon", 30);
  t.write_config(t.default_database_yaml(),
                 "    restore_test:\n      schedule: \"0 4 * * 0\"\n      rto_target: 5m\n"
                 "      database: " +
                     TestTarget::database_yaml(t.db + "_rt") +
                     "\n"
                     "      checks: [{name: nodes_present, sql: \"SELECT count(*) > 0 FROM "
                     "nodes\"}]\n");
  Daemon daemon(t.config, free_port());

  // Never tested: due at once (catch-up), right after the first backup.
  const std::string metrics =
      daemon.wait_for_metric(R"(pgbackup_restore_test_last_run_success\{target="rt-daemon"\} 1)");
  INFO(metrics);
  CHECK_THAT(
      metrics,
      Catch::Contains("pgbackup_restore_tests_total{target=\"rt-daemon\"} 1") &&
          Catch::Contains("pgbackup_restore_test_failures_total{target=\"rt-daemon\"} 0") &&
          Catch::Contains("pgbackup_restore_test_rto_target_seconds{target=\"rt-daemon\"} 300") &&
          Catch::Contains("pgbackup_restore_test_last_mismatched_tables{target=\"rt-daemon\"} 0"));
  CHECK_THAT(metrics,
             !Catch::Contains(
                 "pgbackup_restore_test_last_success_timestamp_seconds{target=\"rt-daemon\"} 0\n"));
  const auto status = nlohmann::json::parse(http_get(daemon.url("/api/v1/status")).body);
  const auto& target = status["targets"][0];
  REQUIRE(target["restore_tests"].size() == 1);
  CHECK(target["restore_tests"][0]["backup"] == t.dumps().front().filename().string());
  CHECK(target["next_restore_test"].get<std::string>() > status["time"].get<std::string>());
  CHECK_THAT(http_get(daemon.url("/")).body,
             Catch::Contains("Restore tests") && Catch::Contains("passed"));

  SECTION("a restart does not test again, and the last result comes back from disk") {
    daemon.signal(SIGTERM);
    REQUIRE(daemon.wait_exit(10s) == 0);
    Daemon again(t.config, free_port());
    const std::string after =
        again.wait_for_metric(R"(pgbackup_restore_test_last_run_success\{target="rt-daemon"\} 1)");
    CHECK_THAT(after, Catch::Contains("pgbackup_restore_tests_total{target=\"rt-daemon\"} 0"));
    std::this_thread::sleep_for(2s);
    std::ifstream log(t.dir / ".pgbackup" / "restore-tests.jsonl");
    int lines = 0;
    for (std::string line; std::getline(log, line);) ++lines;
    CHECK(lines == 1);
  }
}

TEST_CASE("retention the clock guard refuses after a daemon's backup shows in its metrics",
          "[daemon]") {
  TestTarget t("clock-metric", 5,
               "    anomaly: {min_ratio: 0, max_ratio: 1000000000}\n"
               "    retention: {min_keep: 1}\n");
  // The newest backup is 40 days old, so the daemon backs up at once; retention would then
  // expire all ten dailies.
  const std::vector<fs::path> dailies = write_dailies_before_clock_jump(t.dir, t.name);
  Daemon daemon(t.config, free_port());
  const std::string metrics =
      daemon.wait_for_metric(R"(pgbackup_retention_refusals_total\{target="clock-metric"\} 1\n)");
  INFO(metrics);
  CHECK_THAT(metrics,
             Catch::Contains("pgbackup_backup_last_run_success{target=\"clock-metric\"} 1") &&
                 Catch::Contains("pgbackup_retention_deleted_total{target=\"clock-metric\"} 0"));
  for (const fs::path& p : dailies) CHECK(fs::exists(p));
}

TEST_CASE(
    "a daemon whose newest backup is stamped days ahead (a clock that was wrong) backs up at once "
    "rather than waiting for the clock to pass it",
    "[daemon]") {
  TestTarget t("clock-ahead", 5, "    anomaly: {min_ratio: 0, max_ratio: 1000000000}\n");
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  // Its only backup: with the stamp counted, the next backup would wait for the slot after it.
  const fs::path ahead =
      write_fake_backup(t.dir, t.name, now + std::chrono::hours(72), pgbackup::Tier::daily);
  Daemon daemon(t.config, free_port());
  // state.json's attempt: written when the daemon's own backup has finished.
  const std::string metrics = daemon.wait_for_metric(
      R"(pgbackup_backup_last_attempt_timestamp_seconds\{target="clock-ahead"\} [1-9])");
  INFO(metrics);
  CHECK_THAT(metrics,
             Catch::Contains("pgbackup_backups_total{target=\"clock-ahead\"} 1") &&
                 Catch::Contains("pgbackup_backup_last_run_success{target=\"clock-ahead\"} 1"));
  CHECK(t.dumps().size() == 2);
  CHECK(fs::exists(ahead));
}
