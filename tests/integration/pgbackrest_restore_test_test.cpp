// Restore tests of a pgBackRest target through the real binary (issue 23, DESIGN §11): a
// scratch cluster restored to a random time of the recovery window, started, promoted and
// proven; a WAL segment missing from the repository; an agent killed mid-test. Real pgBackRest
// 2.45 and PostgreSQL 15 (tests/support/pgbackrest_cluster.h).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "agent/engines/pgbackrest/scratch_cluster.h"
#include "tests/support/daemon.h"
#include "tests/support/pgbackrest_cluster.h"
#include "tests/support/process.h"
#include "tests/support/timescaledb.h"

using namespace pgtest;
using namespace std::chrono_literals;

namespace {

struct DrillTarget {
  fs::path root = make_temp_dir("pgbr-drill");
  fs::path dir = root / "state";
  fs::path scratch = root / "scratch";
  fs::path config = root / "agent.yml";

  explicit DrillTarget(const std::string& checks =
                           "[{name: rows_present, sql: \"SELECT count(*) "
                           "> 0 FROM drill_rows\"}]",
                       PgBackRestCluster& c = PgBackRestCluster::shared(),
                       const std::string& dbname = "postgres",
                       const std::string& restore_test_keys = "") {
    fs::create_directories(scratch);
    // The scratch cluster runs as the scratch directory's owner (PostgreSQL refuses root).
    if (::geteuid() == 0) REQUIRE(::chown(scratch.c_str(), owner_uid(), owner_gid()) == 0);
    std::string command;
    for (const std::string& a : PgBackRestCluster::command_prefix()) {
      command += (command.empty() ? "" : ", ") + a;
    }
    write_text(config,
               "targets:\n  - name: drill\n    engine: pgbackrest\n"
               "    database: {host: 127.0.0.1, port: " +
                   std::to_string(c.pg().port()) + ", user: postgres, dbname: " + dbname +
                   ", password_env: DRILL_PGPASSWORD}\n"
                   "    pgbackrest:\n      stanza: " +
                   c.stanza() + "\n      config: " + c.config().string() + "\n      command: [" +
                   command + "]\n    backup:\n      dir: " + dir.string() +
                   "\n      schedule: {full: \"0 2 * * 0\"}\n" +
                   "      timeout: 5m\n    retention: {min_keep: 1}\n"
                   "    restore_test:\n      target: random_time\n      scratch_dir: " +
                   scratch.string() +
                   "\n      rto_target: 10m\n      settings: {shared_buffers: 32MB}\n"
                   "      checks: " +
                   checks + "\n" + restore_test_keys);
  }

  static uid_t owner_uid() {
    struct stat st {};
    ::stat(PgBackRestCluster::shared().pg().data_dir().c_str(), &st);
    return st.st_uid;
  }
  static gid_t owner_gid() {
    struct stat st {};
    ::stat(PgBackRestCluster::shared().pg().data_dir().c_str(), &st);
    return st.st_gid;
  }

  AgentRun agent(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--config", config.string()});
    // The production server's password: the test reads its shared_preload_libraries and max_*.
    return run_agent(args, {{"DRILL_PGPASSWORD", PgCluster::kPassword}});
  }

  // The newest line of restore-tests.jsonl.
  nlohmann::json last_report() const {
    std::ifstream in(dir / ".pgbackup" / "restore-tests.jsonl");
    std::string line, last;
    while (std::getline(in, line)) {
      if (!line.empty()) last = line;
    }
    REQUIRE_FALSE(last.empty());
    return nlohmann::json::parse(last);
  }

  std::size_t scratch_entries() const {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(scratch)) ++n;
    return n;
  }
};

void insert_rows(int n) {
  PgBackRestCluster::shared().exec(
      "CREATE TABLE IF NOT EXISTS drill_rows (i int, at timestamptz DEFAULT now()); "
      "CREATE TABLE IF NOT EXISTS other_schema_t (i int); "
      "INSERT INTO drill_rows (i) SELECT g FROM generate_series(1, " +
      std::to_string(n) + ") g");
}

// Commits and archived segments keep coming while a test runs, as on a live server: a random
// target then always has a commit after it in the archive.
class Traffic {
 public:
  explicit Traffic(PgBackRestCluster& c = PgBackRestCluster::shared(), std::string db = "postgres")
      : thread_([this, &c, db] {
          while (!stop_) {
            try {
              c.exec(
                  "CREATE TABLE IF NOT EXISTS drill_rows (i int, at timestamptz DEFAULT now());"
                  "INSERT INTO drill_rows (i) VALUES (0); SELECT pg_switch_wal()",
                  db);
            } catch (const std::exception&) {
            }
            std::this_thread::sleep_for(300ms);
          }
        }) {}
  ~Traffic() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

bool scratch_postmaster_running(const fs::path& scratch) {
  return find_process({"postgres", "-D", scratch.string()}) != 0;
}

}  // namespace

TEST_CASE(
    "a restore test of a pgbackrest target to a random time passes and records its target, "
    "RTO split and table counts",
    "[pgbackrest_restore_test]") {
  const DrillTarget t;
  insert_rows(500);
  REQUIRE(t.agent({"backup", "--type", "full"}).exit_code == 0);
  const Traffic traffic;
  insert_rows(500);
  PgBackRestCluster::shared().switch_wal();
  std::this_thread::sleep_for(1500ms);

  const AgentRun run = t.agent({"restore-test"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains("PASSED") && Catch::Contains("target:   time ") &&
                          Catch::Contains("rto:      restore "));
  const nlohmann::json r = t.last_report();
  INFO(r.dump(2));
  CHECK(r["success"] == true);
  CHECK(r["recovery_target"].get<std::string>().rfind("time 20", 0) == 0);
  for (const char* k : {"restore_seconds", "replay_seconds", "checks_seconds"}) {
    CHECK(r[k].get<double>() > 0);
  }
  CHECK(r["table_counts"]["public.drill_rows"].get<long long>() >= 500);
  CHECK(r["table_counts"].contains("public.other_schema_t"));
  // The postmaster's log is kept next to the report; the scratch cluster is gone.
  const fs::path log = r["postmaster_log"].get<std::string>();
  CHECK(log.parent_path() == t.dir / ".pgbackup" / "restore-tests");
  const std::string text = read_text_file(log);
  CHECK_THAT(text, Catch::Contains("recovery stopping "));
  // Promotion is watched in postmaster.pid, not by connecting ten times a second: at most the
  // once-a-second connection is turned away while the cluster recovers.
  std::size_t turned_away = 0;
  for (std::size_t at = text.find("FATAL:"); at != std::string::npos;
       at = text.find("FATAL:", at + 1)) {
    ++turned_away;
  }
  CHECK(turned_away <= 1 + static_cast<std::size_t>(r["replay_seconds"].get<double>()));
  CHECK(t.scratch_entries() == 0);
  CHECK_FALSE(scratch_postmaster_running(t.scratch));
}

TEST_CASE("a running PostgreSQL 15's postmaster.pid says it is ready",
          "[pgbackrest_restore_test]") {
  PgCluster& pg = PgCluster::shared();
  CHECK(pgbackup::pgbackrest::postmaster_status(read_text_file(pg.data_dir() / "postmaster.pid")) ==
        "ready");
}

TEST_CASE("a restore test fails naming a WAL segment missing from the repository",
          "[pgbackrest_restore_test]") {
  const DrillTarget t;
  insert_rows(100);
  REQUIRE(t.agent({"backup", "--type", "full"}).exit_code == 0);
  insert_rows(100);
  const std::string missing = PgBackRestCluster::shared().switch_wal();
  insert_rows(100);
  PgBackRestCluster::shared().switch_wal();
  const SetAside gone(PgBackRestCluster::shared().archived_segment_file(missing));

  const AgentRun run = t.agent({"restore-test"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.out, Catch::Contains("FAILED") && Catch::Contains(missing));
  const nlohmann::json r = t.last_report();
  CHECK(r["success"] == false);
  CHECK_THAT(r["error"].get<std::string>(), Catch::Contains(missing));
  CHECK(t.scratch_entries() == 0);
}

namespace {

// The label of the oldest good full backup `list` shows (with the file's earlier test cases run,
// an older set than the newest).
std::string oldest_good_full(const DrillTarget& t) {
  const AgentRun list = t.agent({"list", "--output", "json"});
  REQUIRE(list.exit_code == 0);
  std::string label, started;
  for (const nlohmann::json& b : nlohmann::json::parse(list.out)) {
    if (!b.value("good", false) || b.value("type", "") != "full") continue;
    if (label.empty() || b.value("started_at", "") < started) {
      label = fs::path(b.value("file", "")).filename().string();
      started = b.value("started_at", "");
    }
  }
  REQUIRE_FALSE(label.empty());
  return label;
}

}  // namespace

TEST_CASE(
    "an agent killed mid-test: the daemon's next start-up stops the scratch postmaster and removes "
    "its directory; restore-test LABEL then tests that set",
    "[pgbackrest_restore_test]") {
  const DrillTarget t("[{name: slow, sql: \"SELECT pg_sleep(2) IS NOT NULL\"}]");
  insert_rows(100);
  REQUIRE(t.agent({"backup", "--type", "full"}).exit_code == 0);
  const Traffic traffic;
  std::this_thread::sleep_for(1500ms);

  std::thread agent([&] { t.agent({"restore-test"}); });
  bool running = false;
  for (auto end = std::chrono::steady_clock::now() + 60s;
       !running && std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(20ms)) {
    running = scratch_postmaster_running(t.scratch);
  }
  REQUIRE(running);
  const int agent_pid = find_process({"pgbackup-agent", t.config.string(), "restore-test"});
  REQUIRE(agent_pid != 0);
  ::kill(agent_pid, SIGKILL);
  agent.join();
  REQUIRE(scratch_postmaster_running(t.scratch));
  REQUIRE(t.scratch_entries() == 1);
  const fs::path leftover = fs::directory_iterator(t.scratch)->path();

  {
    // The daemon's start-up cleans it (it may then start a scheduled restore test of its own:
    // this state directory has none yet; SIGTERM stops that one, which cleans up after itself).
    Daemon daemon(t.config, free_port(), "", "http", {{"DRILL_PGPASSWORD", PgCluster::kPassword}});
    std::string log;
    for (auto end = std::chrono::steady_clock::now() + 30s;
         log.find("found and removed") == std::string::npos &&
         std::chrono::steady_clock::now() < end;
         std::this_thread::sleep_for(100ms)) {
      log = daemon.log();
    }
    INFO(log);
    CHECK_THAT(log, Catch::Contains("stopping the postmaster") &&
                        Catch::Contains("found and removed " + leftover.string()));
    CHECK_FALSE(scratch_postmaster_running(leftover));
    CHECK_FALSE(fs::exists(leftover));
    daemon.signal(SIGTERM);
    CHECK(daemon.wait_exit(60s) == 0);
  }
  CHECK_FALSE(scratch_postmaster_running(t.scratch));
  CHECK(t.scratch_entries() == 0);

  // restore-test's own clean-up of a leftover (an empty one here), then the named, older set.
  const std::string label = oldest_good_full(t);
  fs::create_directories(t.scratch / "pgbackup-drill-20261207T000000Z");
  const AgentRun next = t.agent({"restore-test", label});
  INFO(next.out << next.err);
  CHECK_THAT(next.err, Catch::Contains("left by a restore test that was killed"));
  CHECK(next.exit_code == 0);
  const nlohmann::json r = t.last_report();
  CHECK(r["backup"] == label);
  CHECK(r["success"] == true);
  CHECK_THAT(next.out, Catch::Contains(label));
  CHECK_FALSE(scratch_postmaster_running(t.scratch));
  CHECK(t.scratch_entries() == 0);
}

TEST_CASE(
    "a point-in-time restore test of a TimescaleDB database with compressed chunks reads every "
    "hypertable in full, and no TimescaleDB job runs on the scratch cluster",
    "[pgbackrest_restore_test]") {
  if (!timescaledb_available()) return;
  PgBackRestCluster c(PgBackRestClusterOptions{nullptr, true, ""});
  c.pg().create_database("tsdb");
  for (const char* sql : {
           "CREATE EXTENSION IF NOT EXISTS timescaledb",
           "CREATE TABLE readings (time timestamptz NOT NULL, device int NOT NULL, "
           "value double precision NOT NULL)",
           "SELECT create_hypertable('readings', 'time', chunk_time_interval => "
           "INTERVAL '1 day')",
           "INSERT INTO readings SELECT now() - g * INTERVAL '1 minute', g % 20, "
           "sin(g) * 100 FROM generate_series(1, 10 * 1440) g",
           "ALTER TABLE readings SET (timescaledb.compress, "
           "timescaledb.compress_segmentby = 'device')",
           "SELECT count(compress_chunk(c)) FROM show_chunks('readings', older_than => "
           "INTERVAL '3 days') c",
       }) {
    c.exec(sql, "tsdb");
  }
  CHECK(std::stoi(c.query_value("SELECT count(*) FROM timescaledb_information.chunks WHERE "
                                "is_compressed",
                                "tsdb")) >= 5);
  const DrillTarget t(
      "[{name: no_timescaledb_job, sql: \"SELECT count(*) = 0 FROM pg_stat_activity WHERE "
      "backend_type LIKE 'TimescaleDB%' AND backend_type NOT LIKE '%Launcher%'\"}]",
      c, "tsdb");
  REQUIRE(t.agent({"backup", "--type", "full"}).exit_code == 0);
  const Traffic traffic(c, "tsdb");
  std::this_thread::sleep_for(1500ms);

  const AgentRun run = t.agent({"restore-test"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  const nlohmann::json r = t.last_report();
  INFO(r.dump(2));
  CHECK(r["success"] == true);
  // Every row of the hypertable, compressed chunks decompressed, at any point after the backup.
  CHECK(r["table_counts"]["public.readings"].get<long long>() == 10 * 1440);
  CHECK(t.scratch_entries() == 0);
}

TEST_CASE(
    "with restore_test.heartbeat the daemon writes heartbeats, a restore test to a time finds one "
    "within a cadence of it, and one to latest long after the writer stopped fails naming both "
    "times",
    "[pgbackrest_restore_test]") {
  PgBackRestCluster& c = PgBackRestCluster::shared();
  DrillTarget t("[]", c, "postgres", "      heartbeat: 1s\n");
  insert_rows(10);
  REQUIRE(t.agent({"backup", "--type", "full"}).exit_code == 0);
  const Traffic traffic;
  {
    Daemon daemon(t.config, free_port(), "", "http", {{"DRILL_PGPASSWORD", PgCluster::kPassword}});
    // Never tested, the daemon tests the target at once; whether a heartbeat reached the archive
    // before that test's target is a race, so its result is only waited for (the directory lock).
    const fs::path history = t.dir / ".pgbackup" / "restore-tests.jsonl";
    for (auto end = std::chrono::steady_clock::now() + 90s;
         !fs::exists(history) && std::chrono::steady_clock::now() < end;) {
      std::this_thread::sleep_for(200ms);
    }
    INFO(daemon.log());
    REQUIRE(fs::exists(history));
    std::this_thread::sleep_for(500ms);  // the report is written just before the lock is let go
    CHECK(c.query_value("SELECT count(*) FROM pgbackup.heartbeat") == "1");
    CHECK(c.query_value("SELECT now() - at < interval '3 seconds' FROM pgbackup.heartbeat") == "t");

    // A set taken while heartbeats are written: a random time after it has one within 1s + slack.
    REQUIRE(t.agent({"backup", "--type", "full"}).exit_code == 0);
    const std::string label = c.info().backups.back().label;
    std::this_thread::sleep_for(1000ms);
    const AgentRun run = t.agent({"restore-test", label});
    INFO(run.out << run.err);
    CHECK(run.exit_code == 0);
    CHECK_THAT(run.out, Catch::Contains("heartbeat: 20"));
    const nlohmann::json r = t.last_report();
    INFO(r.dump(2));
    CHECK(r["success"] == true);
    CHECK(r["heartbeat"].get<std::string>().rfind("20", 0) == 0);
    CHECK(r["table_counts"]["pgbackup.heartbeat"].get<long long>() == 1);
    daemon.signal(SIGTERM);
    CHECK(daemon.wait_exit(30s) == 0);
  }
  // The writer stopped; the archive goes on well past one cadence and the slack.
  std::this_thread::sleep_for(9s);
  std::string config = read_text_file(t.config);
  config.replace(config.find("target: random_time"), 19, "target: latest");
  write_text(t.config, config);
  const AgentRun late = t.agent({"restore-test"});
  INFO(late.out << late.err);
  CHECK(late.exit_code == 1);
  const nlohmann::json r = t.last_report();
  INFO(r.dump(2));
  CHECK(r["success"] == false);
  REQUIRE(r["failed_checks"].size() == 1);
  CHECK_THAT(r["failed_checks"][0].get<std::string>(),
             Catch::StartsWith("heartbeat: the newest heartbeat restored (" +
                               r["heartbeat"].get<std::string>() + ") is ") &&
                 Catch::Contains("before the archive's end 20") &&
                 Catch::Contains("more than one cadence (1s, plus 5s slack)"));
  CHECK(t.scratch_entries() == 0);
}
