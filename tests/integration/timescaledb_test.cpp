// TimescaleDB end to end: the real binary backs up, proves and restores a pNode Pulse-like
// database (scripts/sql/pnode_pulse_timescaledb.sql) on the real TimescaleDB extension, loaded
// by the shared cluster (shared_preload_libraries). No stand-in: where the real extension is
// not installed these tests say so loudly and pass, unless PGBACKUP_REQUIRE_TIMESCALEDB=1 (as
// under .ci/run) makes its absence a failure.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "tests/support/target.h"
#include "tests/support/timescaledb.h"

using namespace pgtest;

namespace {

std::string query(const std::string& db, const std::string& sql) {
  return PgCluster::shared().query_value(sql, db);
}

long long number(const std::string& db, const std::string& sql) {
  return std::stoll(query(db, sql));
}

// What the database itself says about a hypertable: logical rows, chunks, compressed chunks.
struct HypertableFacts {
  long long rows, chunks, compressed;
  bool operator==(const HypertableFacts&) const = default;
};

HypertableFacts facts_of(const std::string& db, const std::string& hypertable) {
  const std::string where =
      " FROM timescaledb_information.chunks WHERE hypertable_name = '" + hypertable + "'";
  return {number(db, "SELECT count(*) FROM " + hypertable), number(db, "SELECT count(*)" + where),
          number(db, "SELECT count(*)" + where + " AND is_compressed")};
}

HypertableFacts facts_in(const nlohmann::json& manifest, const std::string& name) {
  for (const auto& t : manifest["tables"]) {
    if (t["name"] == name) {
      CHECK(t.value("kind", "table") == "hypertable");
      return {t["rows"].get<long long>(), t.value("chunks", -1LL),
              t.value("compressed_chunks", -1LL)};
    }
  }
  FAIL("no table " << name << " in the manifest");
  return {};
}

// A target whose database holds the TimescaleDB schema, with a restore test into <db>_rt.
struct TimescaleTarget : TestTarget {
  std::string test_db;

  explicit TimescaleTarget(const std::string& name, int scale = 200)
      : TestTarget(name, 0), test_db(db + "_rt") {
    PgCluster::shared().load_timescaledb_data(db, scale);
    write_config(default_database_yaml(),
                 "    restore_test:\n      pick: latest\n      jobs: 2\n      rto_target: 10m\n"
                 "      database: " +
                     database_yaml(test_db) +
                     "\n      checks: [{name: recent_metrics, sql: \"SELECT count(*) > 0 FROM "
                     "node_metrics WHERE time > now() - interval '1 day'\"}]\n");
  }

  fs::path backup() const {
    const AgentRun run = agent({"backup"});
    INFO(run.out << run.err);
    REQUIRE(run.exit_code == 0);
    return dumps().back();
  }

  void edit_manifest(const fs::path& dump, const std::function<void(nlohmann::json&)>& edit) const {
    nlohmann::json m = manifest_of(dump);
    edit(m);
    write_text(dump.string() + ".json", m.dump(2));
  }
};

}  // namespace

TEST_CASE(
    "a backup of a TimescaleDB database with compressed chunks counts each hypertable's "
    "logical rows, chunks and compressed chunks, and its continuous aggregates",
    "[timescaledb]") {
  if (!timescaledb_available()) return;
  TimescaleTarget t("ts-backup");
  REQUIRE(facts_of(t.db, "node_metrics").compressed > 0);
  const fs::path dump = t.backup();
  const nlohmann::json m = t.manifest_of(dump);
  INFO(m.dump(2));

  CHECK(facts_in(m, "node_metrics") == facts_of(t.db, "node_metrics"));
  CHECK(facts_in(m, "network_stats") == facts_of(t.db, "network_stats"));
  // TimescaleDB's internal relations (chunks, compressed chunks, the compressed and the
  // materialization hypertables) are counted through what they belong to, never on their own.
  for (const auto& table : m["tables"]) CHECK(table["schema"] == "public");
  CHECK(m["tables"].size() == 3);
  REQUIRE(m["continuous_aggregates"].size() == 1);
  CHECK(m["continuous_aggregates"][0]["name"] == "node_metrics_hourly");
  CHECK(m["continuous_aggregates"][0]["hypertable"] == "public.node_metrics");
  CHECK(m["continuous_aggregates"][0]["rows"].get<long long>() ==
        number(t.db, "SELECT count(*) FROM node_metrics_hourly"));
  CHECK(m["continuous_aggregates"][0]["rows"].get<long long>() > 0);
  bool timescaledb_recorded = false;
  for (const auto& e : m["database"]["extensions"]) {
    timescaledb_recorded |=
        e["name"] == "timescaledb" && e["version"] == PgCluster::timescaledb_version();
  }
  CHECK(timescaledb_recorded);

  // The schema fingerprint: hypertables with their dimensions, the continuous aggregate's
  // view, and nothing of TimescaleDB's own (chunks, catalog, its functions in public).
  const nlohmann::json& fingerprint = m["schema"]["fingerprint"];
  std::map<std::string, std::string> hypertables;
  for (const auto& h : fingerprint["hypertables"]) hypertables[h["name"]] = h["dimensions"];
  CHECK(hypertables == std::map<std::string, std::string>{
                           {"public.network_stats", "time (timestamp with time zone, 7 days)"},
                           {"public.node_metrics", "time (timestamp with time zone, 2 days)"}});
  std::set<std::string> fingerprinted;
  for (const auto& tbl : fingerprint["tables"]) fingerprinted.insert(tbl["name"]);
  for (const auto& v : fingerprint["views"]) fingerprinted.insert(v["name"]);
  for (const auto& f : fingerprint["functions"]) fingerprinted.insert(f);
  CHECK(fingerprinted.count("public.node_metrics_hourly") == 1);
  for (const std::string& name : fingerprinted) {
    INFO(name);
    CHECK(name.rfind("public.", 0) == 0);
    CHECK(name.find("time_bucket") == std::string::npos);
  }

  const AgentRun verify = t.agent({"verify", "--latest"});
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 0);
  CHECK_THAT(verify.out, Catch::Contains("hypertables") &&
                             Catch::Contains("public.node_metrics " +
                                             std::to_string(facts_of(t.db, "node_metrics").rows) +
                                             " rows in") &&
                             Catch::Contains("continuous aggregate public.node_metrics_hourly"));
  const AgentRun list = t.agent({"list"});
  INFO(list.out << list.err);
  CHECK_THAT(list.out, Catch::Contains("2 hypertables ("));
}

TEST_CASE(
    "a restore test with jobs: 2 restores TimescaleDB's catalog in order and checks every "
    "hypertable's rows and chunks and the continuous aggregate against the manifest",
    "[timescaledb]") {
  if (!timescaledb_available()) return;
  TimescaleTarget t("ts-drill");
  const fs::path dump = t.backup();

  const AgentRun passed = t.agent({"restore-test"});
  INFO(passed.out << passed.err);
  CHECK(passed.exit_code == 0);
  CHECK_THAT(passed.out, Catch::Contains("PASSED"));

  // The chunk counts are compared, not only the rows: a manifest that promises one more
  // compressed chunk than the backup holds fails the test, naming the hypertable.
  const HypertableFacts real = facts_in(t.manifest_of(dump), "node_metrics");
  t.edit_manifest(dump, [](nlohmann::json& m) {
    for (auto& table : m["tables"]) {
      if (table["name"] == "node_metrics") {
        table["compressed_chunks"] = table["compressed_chunks"].get<long long>() + 1;
      }
    }
    m["continuous_aggregates"][0]["rows"] =
        m["continuous_aggregates"][0]["rows"].get<long long>() + 1;
  });
  const AgentRun failed = t.agent({"restore-test"});
  INFO(failed.out << failed.err);
  CHECK(failed.exit_code == 1);
  CHECK_THAT(failed.out,
             Catch::Contains("hypertable public.node_metrics: " + std::to_string(real.rows) +
                             " rows in " + std::to_string(real.chunks) + " chunks (" +
                             std::to_string(real.compressed + 1) + " compressed) in the backup") &&
                 Catch::Contains(std::to_string(real.compressed) + " compressed) restored") &&
                 Catch::Contains("continuous aggregate public.node_metrics_hourly"));
}

TEST_CASE(
    "a production restore with --jobs 2 brings a TimescaleDB database back; afterwards "
    "restoring is off, the policies are scheduled and new rows get new chunks",
    "[timescaledb]") {
  if (!timescaledb_available()) return;
  TimescaleTarget t("ts-restore");
  const fs::path dump = t.backup();
  const HypertableFacts metrics = facts_of(t.db, "node_metrics");
  const HypertableFacts stats = facts_of(t.db, "network_stats");
  const long long hourly = number(t.db, "SELECT count(*) FROM node_metrics_hourly");
  const std::string jobs_sql =
      "SELECT count(*) FROM timescaledb_information.jobs WHERE scheduled AND job_id >= 1000";
  const long long policies = number(t.db, jobs_sql);
  REQUIRE(policies == 3);  // compression, retention, continuous aggregate refresh
  // The accident: old metrics dropped with their chunks, the network stats deleted.
  PgCluster::shared().exec(
      "SELECT drop_chunks('node_metrics', older_than => now() - INTERVAL '20 days'); "
      "DELETE FROM network_stats",
      t.db);
  REQUIRE(facts_of(t.db, "node_metrics").chunks < metrics.chunks);

  const AgentRun run = t.agent({"restore", dump.string(), "--yes", "--jobs", "2"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains("public.node_metrics (hypertable, " +
                                      std::to_string(metrics.chunks) + " chunks") &&
                          Catch::Contains("TimescaleDB's catalog with --jobs=1") &&
                          Catch::Contains("continuous aggregates  public.node_metrics_hourly"));
  CHECK(facts_of(t.db, "node_metrics") == metrics);
  CHECK(facts_of(t.db, "network_stats") == stats);
  CHECK(number(t.db, "SELECT count(*) FROM node_metrics_hourly") == hourly);
  const auto steps = restore_steps(t);
  const auto at = [&](const std::string& step) {
    return std::find(steps.begin(), steps.end(), step) - steps.begin();
  };
  CHECK(at("timescaledb_pre_restore:success") < at("pg_restore:success"));
  CHECK(at("pg_restore:success") < at("timescaledb_post_restore:success"));
  CHECK(at("timescaledb_post_restore:success") < at("row_counts:success"));
  CHECK(steps.back() == "restore:success");

  // A new session sees TimescaleDB out of restoring mode, its policies scheduled again.
  CHECK(query(t.db, "SHOW timescaledb.restoring") == "off");
  CHECK(number(t.db, jobs_sql) == policies);
  // A row in a future time range gets a new chunk: the catalog restored is a working one.
  PgCluster::shared().exec(
      "INSERT INTO node_metrics VALUES (1, now() + INTERVAL '60 days', 1, 1, 1, 1, 1, 1)", t.db);
  CHECK(facts_of(t.db, "node_metrics").chunks == metrics.chunks + 1);
  CHECK(facts_of(t.db, "node_metrics").rows == metrics.rows + 1);
}

TEST_CASE(
    "a partial restore of a hypertable is refused before anything changes, with the "
    "scratch-database alternative",
    "[timescaledb]") {
  if (!timescaledb_available()) return;
  TimescaleTarget t("ts-partial");
  const fs::path dump = t.backup();
  PgCluster::shared().exec("DELETE FROM network_stats", t.db);

  const AgentRun run = t.agent({"restore", dump.string(), "--yes", "--table", "node_metrics"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.err, Catch::Contains("public.node_metrics is a TimescaleDB hypertable") &&
                          Catch::Contains("nothing was changed") &&
                          Catch::Contains("--dbname " + t.db + "_scratch") &&
                          Catch::Contains("\\copy"));
  CHECK(t.dumps().size() == 1);  // no safety backup either
  CHECK(number(t.db, "SELECT count(*) FROM network_stats") == 0);
  // The refusal is in the audit log, as the last step.
  const auto steps = restore_steps(t);
  REQUIRE_FALSE(steps.empty());
  CHECK(steps.back() == "verify:refused");
}

TEST_CASE("TimescaleDB: a failing pg_restore still calls timescaledb_post_restore() and says so",
          "[timescaledb]") {
  if (!timescaledb_available()) return;
  TimescaleTarget t("ts-fails");
  const fs::path dump = t.backup();
  // node_metrics references nodes, so a partial restore of nodes cannot drop it: rolled back.
  const AgentRun run = t.agent({"restore", dump.string(), "--yes", "--table", "nodes"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.err, Catch::Contains("restore FAILED at pg_restore") &&
                          Catch::Contains("timescaledb_post_restore() was called after the "
                                          "failure"));
  const auto steps = restore_steps(t);
  CHECK(std::find(steps.begin(), steps.end(), "timescaledb_post_restore:success") != steps.end());
  CHECK(query(t.db, "SHOW timescaledb.restoring") == "off");
  CHECK(number(t.db,
               "SELECT count(*) FROM timescaledb_information.jobs WHERE scheduled AND "
               "job_id >= 1000") == 3);
}

TEST_CASE(
    "a backup taken with another TimescaleDB version is refused before anything changes, "
    "saying what to install",
    "[timescaledb]") {
  if (!timescaledb_available()) return;
  TimescaleTarget t("ts-version");
  const fs::path dump = t.backup();
  // ALTER EXTENSION cannot install a second TimescaleDB version, so the backup claims one: as
  // if taken on a server with 2.27.0.
  t.edit_manifest(dump, [](nlohmann::json& m) {
    for (auto& e : m["database"]["extensions"]) {
      if (e["name"] == "timescaledb") e["version"] = "2.27.0";
    }
  });
  PgCluster::shared().exec("DELETE FROM network_stats", t.db);

  const AgentRun installed = t.agent({"restore", dump.string(), "--yes"});
  INFO(installed.out << installed.err);
  CHECK(installed.exit_code == 1);
  CHECK_THAT(installed.err,
             Catch::Contains("taken with timescaledb 2.27.0") &&
                 Catch::Contains("has timescaledb " + PgCluster::timescaledb_version()) &&
                 Catch::Contains("nothing was changed") &&
                 Catch::Contains("install timescaledb 2.27.0"));
  CHECK(t.dumps().size() == 1);
  CHECK(number(t.db, "SELECT count(*) FROM network_stats") == 0);

  // Into a database without the extension, on a server that has only another version.
  PgCluster::shared().create_database("ts_version_empty");
  const AgentRun missing =
      t.agent({"restore", dump.string(), "--yes", "--dbname", "ts_version_empty"});
  INFO(missing.out << missing.err);
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("needs timescaledb 2.27.0") &&
                              Catch::Contains("nothing was changed") &&
                              Catch::Contains("install timescaledb 2.27.0"));
  CHECK(query("ts_version_empty",
              "SELECT count(*) FROM pg_extension WHERE extname = "
              "'timescaledb'") == "0");
}

TEST_CASE(
    "TimescaleDB: a row count that fails names the relation and the cause, and keeps every good "
    "backup",
    "[timescaledb]") {
  if (!timescaledb_available()) return;
  TimescaleTarget t("ts-countfail");
  const fs::path good = t.backup();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // a new file name
  // A damaged catalog: one chunk of node_metrics loses its dimension constraint, so every query
  // that plans node_metrics fails with the error the issue's user saw ("... has no dimension
  // slices"). pg_dump copies chunks one by one and is not affected.
  PgCluster::shared().exec(
      "DELETE FROM _timescaledb_catalog.chunk_constraint WHERE dimension_slice_id IS NOT NULL "
      "AND chunk_id = (SELECT min(c.id) FROM _timescaledb_catalog.chunk c "
      "JOIN _timescaledb_catalog.hypertable h ON h.id = c.hypertable_id "
      "WHERE h.table_name = 'node_metrics')",
      t.db);

  const AgentRun run = t.agent({"backup"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.err, Catch::Contains("cannot count the rows of hypertable public.node_metrics") &&
                          Catch::Contains("dimension") && Catch::Contains("row_counts: off"));
  CHECK_THAT(run.err, !Catch::Contains("invalid snapshot"));
  CHECK(t.dumps() == std::vector<fs::path>{good});
  for (const auto& e : fs::directory_iterator(t.dir)) CHECK(e.path().extension() != ".partial");
}
