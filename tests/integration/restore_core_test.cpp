// The shared restore core (agent/pg_restore.h) against a real PostgreSQL 15 and real dumps.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>

#include "agent/config/config.h"
#include "agent/core/errors.h"
#include "agent/engines/pg_dump/pg_restore.h"
#include "tests/support/target.h"

using namespace pgtest;

namespace {

// An endpoint for the shared cluster as its superuser, password from the environment.
pgbackup::DatabaseEndpoint superuser_endpoint(const std::string& dbname) {
  ::setenv(TestTarget::kPasswordEnv, PgCluster::kPassword, 1);
  pgbackup::DatabaseConfig c;
  c.host = PgCluster::shared().host();
  c.port = PgCluster::shared().port();
  c.user = PgCluster::kSuperuser;
  c.dbname = dbname;
  c.password_env = TestTarget::kPasswordEnv;
  return pgbackup::DatabaseEndpoint(c);
}

std::vector<pgbackup::TableRows> manifest_tables(const nlohmann::json& m) {
  std::vector<pgbackup::TableRows> out;
  for (const auto& t : m["tables"]) out.push_back({t["schema"], t["name"], t["rows"]});
  return out;
}

// A target with one good backup, made by the real binary.
struct BackedUp {
  TestTarget target;
  fs::path dump;
  std::vector<pgbackup::TableRows> tables;
  explicit BackedUp(const std::string& name) : target(name, 40) {
    const AgentRun run = target.agent({"backup"});
    INFO(run.out << run.err);
    REQUIRE(run.exit_code == 0);
    dump = target.dumps().front();
    tables = manifest_tables(target.manifest_of(dump));
  }
};

}  // namespace

TEST_CASE("run_pg_restore restores a backup whose row counts then match the manifest",
          "[restore_core]") {
  BackedUp b("core-full");
  PgCluster& pg = PgCluster::shared();
  pg.create_database("core_full_copy");
  const auto endpoint = superuser_endpoint("core_full_copy");
  pgbackup::RestoreOptions options;
  options.jobs = 2;
  options.no_owner = true;
  pgbackup::run_pg_restore(endpoint, "core_full_copy", b.dump, options);

  auto conn = endpoint.connect();
  CHECK(pgbackup::compare_row_counts(*conn, b.tables).empty());

  SECTION("deleted rows and a dropped table are reported as mismatches") {
    pg.exec(
        "DELETE FROM network_stats WHERE time IN (SELECT time FROM network_stats LIMIT 3);"
        "ALTER TABLE nodes RENAME TO nodes_gone;",
        "core_full_copy");
    const auto mismatches = pgbackup::compare_row_counts(*conn, b.tables);
    REQUIRE(mismatches.size() == 2);
    const auto stats = std::find_if(b.tables.begin(), b.tables.end(),
                                    [](const auto& t) { return t.name == "network_stats"; });
    REQUIRE(stats->rows > 3);
    CHECK(pgbackup::describe(mismatches[0]) ==
          "public.network_stats: " + std::to_string(stats->rows) + " rows in the backup, " +
              std::to_string(stats->rows - 3) + " restored");
    CHECK(pgbackup::describe(mismatches[1]) ==
          "public.nodes: 50 rows in the backup, missing after the restore");
  }

  SECTION("restoring again over the objects needs clean") {
    CHECK_THROWS_WITH(pgbackup::run_pg_restore(endpoint, "core_full_copy", b.dump, options),
                      Catch::Contains("already exists") && Catch::Contains("hint:"));
    options.clean = true;
    pgbackup::run_pg_restore(endpoint, "core_full_copy", b.dump, options);
    CHECK(pgbackup::compare_row_counts(*conn, b.tables).empty());
  }
}

TEST_CASE("a partial restore restores only the named tables", "[restore_core]") {
  BackedUp b("core-partial");
  PgCluster& pg = PgCluster::shared();
  pg.create_database("core_partial_copy");
  const auto endpoint = superuser_endpoint("core_partial_copy");
  pgbackup::RestoreOptions options;
  options.tables = {"public.nodes"};
  pgbackup::run_pg_restore(endpoint, "core_partial_copy", b.dump, options);
  const auto counts = pg.table_counts("core_partial_copy");
  CHECK(counts == std::map<std::string, long long>{{"public.nodes", 50}});

  options.tables = {"public.nodes", "other.nodes"};
  CHECK_THROWS_AS(pgbackup::run_pg_restore(endpoint, "core_partial_copy", b.dump, options),
                  pgbackup::ConfigError);
}

TEST_CASE("run_pg_restore of a truncated dump fails with pg_restore's error and a hint",
          "[restore_core]") {
  BackedUp b("core-truncated");
  fs::resize_file(b.dump, fs::file_size(b.dump) / 2);
  PgCluster::shared().create_database("core_truncated_copy");
  const auto endpoint = superuser_endpoint("core_truncated_copy");
  CHECK_THROWS_WITH(pgbackup::run_pg_restore(endpoint, "core_truncated_copy", b.dump, {}),
                    Catch::Contains("pg_restore exited with status 1") &&
                        Catch::Contains("truncated or corrupt") &&
                        !Catch::Contains(PgCluster::kPassword));
}

TEST_CASE(
    "pg_restore gets -j, clean, no-owner and one schema for qualified tables, never the "
    "password",
    "[restore_core]") {
  const auto endpoint = superuser_endpoint("x");
  pgbackup::RestoreOptions options;
  options.jobs = 3;
  options.clean = true;
  options.no_owner = true;
  options.tables = {"audit.events", "logins"};
  const auto argv = pgbackup::pg_restore_argv(endpoint, "db", "/b/x.dump", options, "15.4");
  const std::vector<std::string> tail(argv.begin() + 1, argv.end());
  CHECK(tail == std::vector<std::string>{"--dbname=db", "--jobs=3", "--host=127.0.0.1",
                                         "--port=" + std::to_string(PgCluster::shared().port()),
                                         "--username=postgres", "--no-password", "--clean",
                                         "--if-exists", "--no-owner", "--no-acl", "--schema=audit",
                                         "--table=events", "--table=logins", "/b/x.dump"});
  for (const std::string& arg : argv) CHECK(arg.find(PgCluster::kPassword) == std::string::npos);
}
