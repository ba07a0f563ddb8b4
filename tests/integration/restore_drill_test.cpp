// `pgbackup-agent restore-test` end to end: the real binary restores real dumps into a scratch
// database of a real PostgreSQL 15 and reports what it found.
#include <catch2/catch.hpp>

#include <fstream>

#include "tests/support/daemon.h"
#include "tests/support/target.h"

using namespace pgtest;

namespace {

// A target whose restore test uses the database <db>_rt of the same cluster, with `checks`
// (YAML flow list) as its check queries.
struct RestoreTestTarget : TestTarget {
  std::string test_db;

  RestoreTestTarget(const std::string& name, const std::string& checks)
      : TestTarget(name, 40), test_db(db + "_rt") {
    write_config(default_database_yaml(), restore_test_yaml(test_db, checks));
  }

  std::string restore_test_yaml(const std::string& dbname, const std::string& checks) const {
    return "    restore_test:\n      pick: latest\n      jobs: 2\n      rto_target: 10m\n"
           "      database: " +
           database_yaml(dbname) + "\n      checks: " + checks + "\n";
  }

  fs::path backup() const {
    const AgentRun run = agent({"backup"});
    INFO(run.out << run.err);
    REQUIRE(run.exit_code == 0);
    return dumps().back();
  }

  // The restore-tests.jsonl lines, oldest first.
  std::vector<nlohmann::json> reports() const {
    std::vector<nlohmann::json> out;
    std::ifstream in(dir / ".pgbackup" / "restore-tests.jsonl");
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }

  bool test_database_exists() const {
    return PgCluster::shared().query_value("SELECT count(*) FROM pg_database WHERE datname = '" +
                                           test_db + "'") != "0";
  }
};

const char* kPassingChecks =
    "[{name: nodes_present, sql: \"SELECT count(*) > 0 FROM nodes\"},"
    " {name: stats_present, sql: \"SELECT count(*) > 0 FROM network_stats\"}]";

// Runs restore-test and asserts it failed (exit 1, FAILED in the summary) with `reason` in both
// the summary and the report line, and the manifest marked as failed.
nlohmann::json expect_failure(const RestoreTestTarget& t, const fs::path& dump,
                              const std::string& reason) {
  const AgentRun run = t.agent({"restore-test"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.out, Catch::Contains("FAILED") && Catch::Contains(reason));
  REQUIRE(t.reports().size() == 1);
  const nlohmann::json report = t.reports().back();
  CHECK(report["success"] == false);
  CHECK(report["backup"] == dump.filename().string());
  CHECK_THAT(report.dump(), Catch::Contains(reason));
  CHECK(t.manifest_of(dump)["restore_test"]["success"] == false);
  CHECK_FALSE(t.test_database_exists());
  return report;
}

}  // namespace

TEST_CASE("a good backup passes its restore test, which is recorded everywhere", "[restore_test]") {
  RestoreTestTarget t("rt-good", kPassingChecks);
  const fs::path dump = t.backup();
  PgCluster::shared().create_database(t.test_db);  // a leftover from an earlier test: replaced
  PgCluster::shared().exec("CREATE TABLE leftover (x int)", t.test_db);

  const AgentRun run = t.agent({"restore-test"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains("PASSED") && Catch::Contains(dump.filename().string()) &&
                          Catch::Contains("RTO target 600s, met"));

  REQUIRE(t.reports().size() == 1);
  const nlohmann::json report = t.reports().front();
  CHECK(report["target"] == "rt-good");
  CHECK(report["backup"] == dump.filename().string());
  CHECK(report["success"] == true);
  CHECK(report["mismatched_tables"].empty());
  CHECK(report["failed_checks"].empty());
  CHECK(report["error"] == "");
  CHECK(report["rto_target_seconds"] == 600);
  CHECK(report["duration_seconds"].get<double>() > 0);
  CHECK(report["duration_seconds"].get<double>() < 120);

  const auto mark = t.manifest_of(dump)["restore_test"];
  CHECK(mark["success"] == true);
  CHECK(mark["tested_at"] == report["finished_at"]);
  const auto state =
      nlohmann::json::parse(read_text_file(t.dir / ".pgbackup" / "state.json"))["restore_test"];
  CHECK(state["success"] == true);
  CHECK(state["file"] == dump.filename().string());
  CHECK_THAT(read_text_file(t.dir / ".pgbackup" / "audit.jsonl"),
             Catch::Contains("\"operation\":\"restore_test\"") &&
                 Catch::Contains("\"outcome\":\"success\""));
  CHECK_FALSE(t.test_database_exists());
  CHECK_THAT(t.agent({"list"}).out, Catch::Contains("restore tested"));

  SECTION("a FILE names the backup to test") {
    const fs::path second = t.backup();
    const AgentRun named = t.agent({"restore-test", dump.string()});
    CHECK(named.exit_code == 0);
    CHECK(t.reports().back()["backup"] == dump.filename().string());
    CHECK_FALSE(t.manifest_of(second).contains("restore_test"));
    CHECK(t.agent({"restore-test", (t.dir / "nope.dump").string()}).exit_code == 1);
  }
}

TEST_CASE("a truncated dump fails its restore test", "[restore_test]") {
  RestoreTestTarget t("rt-truncated", kPassingChecks);
  const fs::path dump = t.backup();
  fs::resize_file(dump, fs::file_size(dump) / 2);
  const auto report = expect_failure(t, dump, "failed verification: size");
  CHECK_THAT(report["error"].get<std::string>(), Catch::Contains("manifest says"));
}

TEST_CASE("a dump with a flipped byte fails its restore test on the checksum", "[restore_test]") {
  RestoreTestTarget t("rt-flipped", kPassingChecks);
  const fs::path dump = t.backup();
  flip_middle_byte(dump);
  expect_failure(t, dump, "sha256");
}

TEST_CASE("row counts that disagree with the manifest fail the restore test, naming the table",
          "[restore_test]") {
  RestoreTestTarget t("rt-counts", kPassingChecks);
  const fs::path dump = t.backup();
  // The checksum covers the dump, not the manifest: the counts can be edited undetected.
  nlohmann::json m = t.manifest_of(dump);
  for (auto& table : m["tables"]) {
    if (table["name"] == "nodes") table["rows"] = 51;
  }
  write_text(dump.string() + ".json", m.dump(2));

  const auto report = expect_failure(t, dump, "public.nodes: 51 rows in the backup, 50 restored");
  CHECK(report["mismatched_tables"].size() == 1);
  CHECK(report["error"] == "");
}

TEST_CASE("a check query that does not return true fails the restore test", "[restore_test]") {
  RestoreTestTarget t("rt-checks",
                      "[{name: nodes_present, sql: \"SELECT count(*) > 0 FROM nodes\"},"
                      " {name: too_many, sql: \"SELECT count(*) > 1000 FROM nodes\"},"
                      " {name: broken, sql: \"SELECT no_such_column FROM nodes\"}]");
  const fs::path dump = t.backup();
  const auto report = expect_failure(t, dump, "too_many: returned false");
  REQUIRE(report["failed_checks"].size() == 2);
  CHECK_THAT(report["failed_checks"][1].get<std::string>(),
             Catch::StartsWith("broken: ") && Catch::Contains("no_such_column"));
  CHECK(report["mismatched_tables"].empty());
}

TEST_CASE("a restore-test database equal to production is refused", "[restore_test]") {
  RestoreTestTarget t("rt-prod", kPassingChecks);
  t.write_config(t.default_database_yaml(), t.restore_test_yaml(t.db, kPassingChecks));
  const AgentRun run = t.agent({"restore-test"});
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.err, Catch::Contains("is the production database") &&
                          Catch::Contains("must differ in host, port or dbname"));
  CHECK(PgCluster::shared().table_counts(t.db).at("public.nodes") == 50);
}

TEST_CASE("production under another name for the same server is refused, and survives",
          "[restore_test]") {
  RestoreTestTarget t("rt-prod-alias", kPassingChecks);
  t.backup();
  const PgCluster& pg = PgCluster::shared();
  auto restore_test_at = [&](const std::string& host) {
    return "    restore_test:\n      pick: latest\n      database: {host: \"" + host +
           "\", port: " + std::to_string(pg.port()) + ", user: postgres, dbname: " + t.db +
           ", password_env: " + TestTarget::kPasswordEnv + "}\n";
  };
  SECTION("the socket directory vs 127.0.0.1: the config check refuses it") {
    t.write_config(t.default_database_yaml(), restore_test_at(pg.dir().string()));
    const AgentRun run = t.agent({"restore-test"});
    INFO(run.out << run.err);
    CHECK(run.exit_code == 2);
    CHECK_THAT(run.err, Catch::Contains("is the production database"));
  }
  SECTION("a name the config check cannot see through: the cluster identifier refuses it") {
    // 2130706433 is 127.0.0.1 written as one number: the same cluster under a different name,
    // as a DNS alias would be.
    t.write_config(t.default_database_yaml(), restore_test_at("2130706433"));
    const AgentRun run = t.agent({"restore-test"});
    INFO(run.out << run.err);
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.out, Catch::Contains("refusing to run") &&
                            Catch::Contains("production database of target rt-prod-alias"));
    REQUIRE(t.reports().size() == 1);
    CHECK_THAT(t.reports().back()["error"].get<std::string>(), Catch::Contains("same cluster"));
  }
  CHECK(PgCluster::shared().table_counts(t.db).at("public.nodes") == 50);
}

TEST_CASE("stopping the daemon during a restore test records no failure and marks nothing",
          "[restore_test]") {
  // A check that sleeps keeps the test running while the daemon is told to stop, then fails,
  // as a restore cut short by the stop would.
  RestoreTestTarget t("rt-stopped", "[{name: slow, sql: \"SELECT pg_sleep(3) IS NULL\"}]");
  const fs::path dump = t.backup();
  Daemon daemon(t.config, free_port());
  PgCluster& pg = PgCluster::shared();
  bool sleeping = false;
  for (auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
       !sleeping && std::chrono::steady_clock::now() < end;) {
    sleeping = pg.query_value(
                   "SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
                   "'%pg_sleep(3)%' AND pid <> pg_backend_pid()") != "0";
    if (!sleeping) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO(daemon.log());
  REQUIRE(sleeping);
  daemon.signal(SIGTERM);
  CHECK(daemon.wait_exit(std::chrono::seconds(30)) == 0);

  // The backup is still good and untested; the test is still due.
  CHECK(t.reports().empty());
  CHECK_FALSE(t.manifest_of(dump).contains("restore_test"));
  const auto state = nlohmann::json::parse(read_text_file(t.dir / ".pgbackup" / "state.json"));
  CHECK_FALSE(state.contains("restore_test"));
  CHECK_THAT(read_text_file(t.dir / ".pgbackup" / "audit.jsonl"),
             Catch::Contains("\"outcome\":\"interrupted\""));
  CHECK_FALSE(t.test_database_exists());
}

TEST_CASE("restore-test without a restore_test section says how to configure one",
          "[restore_test]") {
  TestTarget t("rt-unconfigured", 0);
  const AgentRun run = t.agent({"restore-test"});
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.err, Catch::Contains("no restore_test section") && Catch::Contains("hint:"));
  CHECK(t.agent({"restore-test", "a.dump", "b.dump"}).exit_code == 2);
  CHECK(t.agent({"restore-test", "--latest"}).exit_code == 2);
}

TEST_CASE("restore-test with no backup young enough fails and records why", "[restore_test]") {
  RestoreTestTarget t("rt-empty", kPassingChecks);
  const AgentRun run = t.agent({"restore-test"});
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.out, Catch::Contains("no good backup younger than 30d"));
  REQUIRE(t.reports().size() == 1);
  CHECK(t.reports().front()["backup"] == "");
}
