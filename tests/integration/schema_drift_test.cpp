// Schema drift end to end: the real binary backs up a real PostgreSQL 15 whose schema changes
// between backups; `diff`, `list`, the metrics, the status page and the restore test see it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "tests/support/daemon.h"
#include "tests/support/target.h"

using namespace pgtest;

namespace {

fs::path take_backup(const TestTarget& t) {
  const AgentRun run = t.agent({"backup"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  return t.dumps().back();
}

nlohmann::json diff_json(const TestTarget& t, std::vector<std::string> files = {}) {
  std::vector<std::string> args = {"diff", "--output", "json"};
  args.insert(args.end(), files.begin(), files.end());
  const AgentRun run = t.agent(args);
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  return nlohmann::json::parse(run.out);
}

// "change kind name" of each schema change of a diff or manifest.
std::set<std::string> change_keys(const nlohmann::json& changes) {
  std::set<std::string> out;
  for (const auto& c : changes) {
    out.insert(c["change"].get<std::string>() + " " + c["kind"].get<std::string>() + " " +
               c["name"].get<std::string>());
  }
  return out;
}

const char* kSchedule = "\"0 2 * * *\"";

}  // namespace

TEST_CASE(
    "dropped columns, indexes and views, a new table and a changed type show in diff, list, "
    "the metrics and the status page",
    "[schema]") {
  TestTarget t("drift", 20);
  write_text(t.config, "targets:\n  - name: drift\n    database: " + t.default_database_yaml() +
                           "\n    backup: {dir: " + t.dir.string() + ", schedule: " + kSchedule +
                           "}\n");
  PgCluster& pg = PgCluster::shared();
  pg.exec(
      "CREATE INDEX nodes_version ON nodes (version);"
      "CREATE VIEW public_nodes AS SELECT id, pubkey FROM nodes WHERE is_public;",
      t.db);
  const fs::path first = take_backup(t);
  const auto m1 = t.manifest_of(first);
  REQUIRE(m1.contains("schema"));
  CHECK(m1["schema"]["compared_with"] == "");
  CHECK(m1["schema"]["changes"].empty());
  CHECK(m1["schema"]["fingerprint_seconds"].get<double>() >= 0);
  std::set<std::string> tables;
  for (const auto& tbl : m1["schema"]["fingerprint"]["tables"]) tables.insert(tbl["name"]);
  CHECK(tables.count("public.nodes") == 1);
  CHECK(tables.count("public.node_metrics") == 1);  // the partitioned parent, and its partitions
  const auto& views = m1["schema"]["fingerprint"]["views"];
  REQUIRE(views.size() == 1);
  CHECK(views[0]["name"] == "public.public_nodes");

  SECTION("one backup is not enough to compare") {
    const AgentRun run = t.agent({"diff"});
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Contains("diff needs two good backups"));
  }

  SECTION("no change gives an empty diff") {
    const fs::path second = take_backup(t);
    CHECK(t.manifest_of(second)["schema"]["compared_with"] == first.filename().string());
    CHECK(t.manifest_of(second)["schema"]["changes"].empty());
    const auto d = diff_json(t);
    CHECK(d["old"] == first.filename().string());
    CHECK(d["new"] == second.filename().string());
    CHECK(d["schema"]["compared"] == true);
    CHECK(d["schema"]["changes"].empty());
    CHECK(d["rows"]["changed"].empty());
    const AgentRun text = t.agent({"diff"});
    CHECK(text.exit_code == 0);
    CHECK_THAT(text.out, Catch::Contains("schema: no schema changes") &&
                             Catch::Contains("rows: 0 table(s) changed"));
    CHECK_THAT(t.agent({"list"}).out, !Catch::Contains("schema change"));
  }

  SECTION("each change is named, in the manifest, diff, list, the metrics and the status page") {
    take_backup(t);  // unchanged: the next diff is against this one
    pg.exec(
        "DROP VIEW public_nodes;"
        "ALTER TABLE nodes DROP COLUMN is_public;"
        "DROP INDEX nodes_version;"
        "ALTER TABLE network_stats ALTER COLUMN total_nodes TYPE bigint;"
        "CREATE TABLE audit (id bigserial PRIMARY KEY, note text);"
        "INSERT INTO audit (note) VALUES ('a'), ('b');",
        t.db);
    const fs::path third = take_backup(t);
    // The new table is one change (its primary key and index are part of it); its sequence
    // is an object of its own.
    const std::set<std::string> want = {
        "added table public.audit",
        "added sequence public.audit_id_seq",
        "dropped column public.nodes.is_public",
        "dropped index nodes_version on public.nodes",
        "dropped view public.public_nodes",
        "altered column public.network_stats.total_nodes",
    };
    const auto m3 = t.manifest_of(third);
    CHECK(change_keys(m3["schema"]["changes"]) == want);
    CHECK(m3["schema"]["dropped"] == 3);
    CHECK(m3["schema"]["added"] == 2);
    CHECK(m3["schema"]["altered"] == 1);

    const auto d = diff_json(t);
    CHECK(d["new"] == third.filename().string());
    CHECK(change_keys(d["schema"]["changes"]) == want);
    bool audit_rows = false;
    for (const auto& r : d["rows"]["changed"]) {
      if (r["table"] == "public.audit") {
        audit_rows = r["before"].is_null() && r["after"] == 2;
      }
    }
    CHECK(audit_rows);

    const AgentRun text = t.agent({"diff"});
    INFO(text.out << text.err);
    CHECK(text.exit_code == 0);
    CHECK_THAT(text.out,
               Catch::Contains("6 schema changes (2 added, 3 dropped, 1 altered)") &&
                   Catch::Contains("dropped column public.nodes.is_public: boolean NOT NULL") &&
                   Catch::Contains("dropped index nodes_version on public.nodes: CREATE INDEX "
                                   "nodes_version ON public.nodes USING btree (version)") &&
                   Catch::Contains("altered column public.network_stats.total_nodes: integer "
                                   "NOT NULL → bigint NOT NULL") &&
                   Catch::Contains("dropped view public.public_nodes") &&
                   Catch::Contains("added table public.audit: (id bigint NOT NULL, note text)") &&
                   Catch::Contains("public.audit: - → 2 (new table)"));

    // OLD and NEW by the names `list` shows: the first backup against the third sees the same.
    const auto named = diff_json(t, {first.filename().string(), third.filename().string()});
    CHECK(change_keys(named["schema"]["changes"]) == want);
    // OLD alone: against the newest.
    const auto against_newest = diff_json(t, {first.filename().string()});
    CHECK(against_newest["old"] == first.filename().string());
    CHECK(against_newest["new"] == third.filename().string());
    CHECK(change_keys(against_newest["schema"]["changes"]) == want);
    const AgentRun unknown = t.agent({"diff", "nope_20200101_000000.dump"});
    CHECK(unknown.exit_code == 1);
    CHECK_THAT(unknown.err, Catch::Contains("is not a backup"));
    CHECK(t.agent({"diff", "a", "b", "c"}).exit_code == 2);

    const AgentRun list = t.agent({"list"});
    CHECK_THAT(list.out, Catch::Contains("6 schema changes (2 added, 3 dropped, 1 altered)"));

    Daemon daemon(t.config, free_port());
    const std::string metrics =
        daemon.wait_for_metric(R"(pgbackup_backup_schema_changes\{target="drift"\} 6)");
    CHECK_THAT(metrics,
               Catch::Contains("pgbackup_backup_schema_dropped_objects{target=\"drift\"} 3"));
    const std::string page = http_get(daemon.url("/")).body;
    CHECK_THAT(page, Catch::Contains("Schema changes (newest backup)") &&
                         Catch::Contains("6 schema changes (2 added, 3 dropped, 1 altered)") &&
                         Catch::Contains("column public.nodes.is_public") &&
                         Catch::Contains("index nodes_version on public.nodes") &&
                         Catch::Contains("view public.public_nodes") &&
                         Catch::Contains("table public.audit") &&
                         Catch::Contains("integer NOT NULL → bigint NOT NULL"));
    CHECK(t.dumps().size() == 3);  // the daemon took no backup of its own meanwhile
  }
}

TEST_CASE(
    "a restore test fails, naming the difference, when the restored schema is not the "
    "backup's",
    "[schema]") {
  TestTarget t("drift-rt", 20);
  t.write_config(t.default_database_yaml(), TestTarget::restore_test_yaml(t.db + "_rt"));
  const fs::path dump = take_backup(t);

  SECTION("an unchanged schema passes") {
    const AgentRun run = t.agent({"restore-test"});
    INFO(run.out << run.err);
    CHECK(run.exit_code == 0);
    CHECK_THAT(run.out, Catch::Contains("PASSED"));
  }

  SECTION("an index the manifest has and the restored database lacks fails the test") {
    // The manifest is plain JSON (no checksum of its own): claim an index the dump lacks, as a
    // restore that lost it would look.
    nlohmann::json m = t.manifest_of(dump);
    bool edited = false;
    for (auto& tbl : m["schema"]["fingerprint"]["tables"]) {
      if (tbl["name"] != "public.nodes") continue;
      tbl["indexes"].push_back(
          {{"name", "nodes_lost"},
           {"definition", "CREATE INDEX nodes_lost ON public.nodes USING btree (version)"}});
      edited = true;
    }
    REQUIRE(edited);
    write_text(dump.string() + ".json", m.dump(2));
    const AgentRun run = t.agent({"restore-test"});
    INFO(run.out << run.err);
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.out, Catch::Contains("FAILED") &&
                            Catch::Contains("schema:   index nodes_lost on public.nodes is in "
                                            "the backup but was not restored"));
    const auto line =
        nlohmann::json::parse(read_text_file(t.dir / ".pgbackup" / "restore-tests.jsonl"));
    CHECK(line["success"] == false);
    REQUIRE(line["schema_differences"].size() == 1);
    CHECK_THAT(t.manifest_of(dump)["restore_test"]["error"].get<std::string>(),
               Catch::Contains("the restored schema differs from the backup's: index nodes_lost"));
  }
}
