// The backup engine end to end: the real binary against a real PostgreSQL 15.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <thread>

#include "agent/core/subprocess.h"
#include "tests/support/fake_backup.h"
#include "tests/support/target.h"

using namespace pgtest;

namespace {

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 0777;
}

// pg_restore of `dump` into a fresh database `db`.
void restore_into(const fs::path& dump, const std::string& db) {
  PgCluster& pg = PgCluster::shared();
  pg.create_database(db);
  pgbackup::ProcessSpec spec;
  spec.argv = {"pg_restore",          "--host=127.0.0.1", "--port=" + std::to_string(pg.port()),
               "--username=postgres", "--dbname=" + db,   "--no-owner",
               dump.string()};
  spec.env = {{"PGPASSWORD", PgCluster::kPassword}};
  const auto r = pgbackup::run_process(spec);
  INFO(r.err);
  REQUIRE(r.ok());
}

std::map<std::string, long long> manifest_counts(const nlohmann::json& m) {
  std::map<std::string, long long> out;
  for (const auto& t : m["tables"]) {
    out[t["schema"].get<std::string>() + "." + t["name"].get<std::string>()] = t["rows"];
  }
  return out;
}

}  // namespace

TEST_CASE("a backup restores into a new database with exactly the manifest's row counts",
          "[backup]") {
  TestTarget t("roundtrip", 300);
  // Made by hand with a permissive mode: the agent closes it (0700) like one it creates.
  fs::create_directories(t.dir);
  fs::permissions(t.dir, fs::perms(0755));
  const AgentRun run = t.agent({"backup"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  REQUIRE(t.dumps().size() == 1);
  const fs::path dump = t.dumps().front();

  CHECK(mode_of(t.dir) == 0700);
  CHECK_THAT(run.err, Catch::Contains("was mode 755; changed it to 700"));
  CHECK(mode_of(dump) == 0600);
  CHECK(mode_of(dump.string() + ".json") == 0600);
  CHECK(dump.filename().string().rfind("roundtrip_", 0) == 0);

  const auto m = t.manifest_of(dump);
  CHECK(m["format"] == "pgbackup-manifest/1");
  CHECK(m["target"] == "roundtrip");
  CHECK(m["tier"] == "monthly");  // the first good backup of its month
  CHECK(m["size_bytes"] == fs::file_size(dump));
  CHECK(m["sha256"].get<std::string>().size() == 64);
  CHECK(m["pg_dump"]["compression"] == 9);
  CHECK(m["database"]["server_version"].get<std::string>().rfind("15", 0) == 0);
  CHECK(m["toc_entries"].get<int>() > 10);

  const auto counts = manifest_counts(m);
  CHECK(counts.at("public.nodes") == 50);
  CHECK(counts.at("public.network_stats") == 50);
  long long metrics = 0;
  for (const auto& [name, rows] : counts) {
    if (name.rfind("public.node_metrics_", 0) == 0) metrics += rows;
  }
  CHECK(metrics == 50 * 300);

  restore_into(dump, "roundtrip_restored");
  CHECK(PgCluster::shared().table_counts("roundtrip_restored") == counts);
  CHECK(PgCluster::shared().table_counts(t.db) == counts);

  SECTION("list, verify and check see it") {
    const AgentRun list = t.agent({"list"});
    CHECK(list.exit_code == 0);
    CHECK_THAT(list.out, Catch::Contains(dump.filename().string()) && Catch::Contains("monthly"));
    const AgentRun json = t.agent({"list", "--output", "json"});
    REQUIRE(json.exit_code == 0);
    const auto parsed = nlohmann::json::parse(json.out);
    REQUIRE(parsed.size() == 1);
    CHECK(parsed[0]["good"] == true);
    CHECK(parsed[0]["manifest"]["sha256"] == m["sha256"]);

    CHECK(t.agent({"verify", "--latest"}).exit_code == 0);
    CHECK(t.agent({"verify", dump.string()}).exit_code == 0);
    CHECK(t.agent({"check"}).exit_code == 0);
    const AgentRun stale = t.agent({"check", "--max-age", "0s"});
    CHECK(stale.exit_code == 1);
    CHECK_THAT(stale.out, Catch::Contains("CRITICAL"));
  }

  SECTION("a flipped byte fails verification with the reason") {
    flip_middle_byte(dump);
    const AgentRun v = t.agent({"verify", "--latest"});
    CHECK(v.exit_code == 1);
    CHECK_THAT(v.out, Catch::Contains("sha256") && Catch::Contains("FAIL"));
  }

  SECTION("a truncated dump fails verification") {
    fs::resize_file(dump, fs::file_size(dump) / 3);
    const AgentRun v = t.agent({"verify", "--latest"});
    CHECK(v.exit_code == 1);
    CHECK_THAT(v.out, Catch::Contains("size") && Catch::Contains("FAIL"));
  }

  SECTION("every operation is in the audit log, and the password is nowhere") {
    t.agent({"verify", "--latest"});
    const std::string audit = read_text_file(t.dir / ".pgbackup/audit.jsonl");
    CHECK_THAT(audit, Catch::Contains("\"operation\":\"backup\"") &&
                          Catch::Contains("\"operation\":\"verify\""));
    for (const auto& e : fs::recursive_directory_iterator(t.dir)) {
      if (e.path().extension() == ".dump") continue;
      INFO(e.path());
      CHECK_THAT(read_text_file(e.path()), !Catch::Contains(PgCluster::kPassword));
    }
    CHECK_THAT(run.out + run.err, !Catch::Contains(PgCluster::kPassword));
    const auto state = nlohmann::json::parse(read_text_file(t.dir / ".pgbackup/state.json"));
    CHECK(state["backup"]["success"] == true);
  }
}

TEST_CASE("rows committed during the dump appear in neither the counts nor the dump", "[backup]") {
  TestTarget t("snapshot", 2000);
  PgCluster& pg = PgCluster::shared();
  std::atomic<bool> done{false};
  std::atomic<int> inserted{0};
  std::thread writer([&] {
    pqxx::connection conn("host=127.0.0.1 port=" + std::to_string(pg.port()) +
                          " user=postgres password=" + PgCluster::kPassword + " dbname=" + t.db);
    while (!done) {
      pqxx::work tx(conn);
      tx.exec(
          "INSERT INTO network_stats SELECT max(time) + interval '1 second', 1, 1, 1, 1 "
          "FROM network_stats");
      tx.exec(
          "INSERT INTO nodes (pubkey, address, version) VALUES (md5(random()::text), "
          "'10.9.9.9', 'x')");
      tx.commit();
      ++inserted;
    }
  });
  while (inserted < 20) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const AgentRun run = t.agent({"backup"});
  const int before_stop = inserted;
  done = true;
  writer.join();
  INFO(run.err);
  REQUIRE(run.exit_code == 0);

  const auto counts = manifest_counts(t.manifest_of(t.dumps().front()));
  restore_into(t.dumps().front(), "snapshot_restored");
  CHECK(pg.table_counts("snapshot_restored") == counts);
  // Rows kept arriving during the backup: the live table has more than the snapshot saw.
  CHECK(std::stoll(pg.query_value("SELECT count(*) FROM nodes", t.db)) > counts.at("public.nodes"));
  CHECK(counts.at("public.nodes") > 50);
  CHECK(before_stop > 20);
}

TEST_CASE("row_counts: off skips the counts but still proves the dump", "[backup]") {
  TestTarget t("nocounts", 50);
  write_text(t.config, "targets:\n  - name: nocounts\n    database: " + t.default_database_yaml() +
                           "\n    backup: {dir: " + t.dir.string() + ", row_counts: \"off\"}\n");
  const AgentRun run = t.agent({"backup"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const auto m = t.manifest_of(t.dumps().front());
  CHECK(m["row_counts"] == "off");
  CHECK(m["tables"].empty());
  CHECK(t.agent({"verify", "--latest"}).exit_code == 0);
}

TEST_CASE("a backup after mass deletion flags the shrunk tables and a size anomaly", "[backup]") {
  TestTarget t("shrink", 400);
  REQUIRE(t.agent({"backup"}).exit_code == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // file names have 1 s resolution
  PgCluster::shared().exec("DELETE FROM node_metrics WHERE node_id > 2", t.db);
  const AgentRun run = t.agent({"backup"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.err, Catch::Contains("shrank") && Catch::Contains("size anomaly"));
  REQUIRE(t.dumps().size() == 2);
  const auto m = t.manifest_of(t.dumps().back());
  CHECK(m["tier"] == "daily");
  CHECK(m["checks"]["size_anomaly"] == true);
  CHECK(m["checks"]["size_baseline_bytes"].get<double>() > m["size_bytes"].get<double>());
  REQUIRE(m["checks"]["shrunk_tables"].size() >= 1);
  CHECK(m["checks"]["shrunk_tables"][0]["name"].get<std::string>().rfind("node_metrics_", 0) == 0);
  CHECK_THAT(run.err, Catch::Contains("retention skipped"));
  const AgentRun prune = t.agent({"prune"});
  CHECK(prune.exit_code == 1);
  CHECK_THAT(prune.out, Catch::Contains("size anomaly"));
}

TEST_CASE("a retention error after a good backup leaves the backup a success", "[backup]") {
  // Ratios that never flag a size anomaly (which would skip retention): the old backup below is
  // synthetic.
  TestTarget t("bk-prune-error", 5,
               "    anomaly: {min_ratio: 0, max_ratio: 1000000000}\n"
               "    retention: {min_keep: 1}\n");
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  const fs::path expired =
      write_fake_backup(t.dir, t.name, now - std::chrono::hours(400 * 24), pgbackup::Tier::daily);
  // A recent one, so the free-space check sizes the next backup by an ordinary file.
  write_fake_backup(t.dir, t.name, now - std::chrono::hours(24), pgbackup::Tier::daily);
  // A backup retention must not delete: its companion file is a symbolic link to a file outside
  // the backup directory (the agent never deletes through a link, nor the link itself).
  const fs::path outside = t.root / "outside.globals";
  write_text(outside, "not the agent's");
  const fs::path companion = expired.string() + ".globals";
  fs::create_symlink(outside, companion);
  nlohmann::json m = t.manifest_of(expired);
  m["globals"] = {{"file", companion.filename().string()}, {"size_bytes", 15}, {"sha256", "x"}};
  write_text(expired.string() + ".json", m.dump(2));

  const AgentRun run = t.agent({"backup"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);
  CHECK_THAT(run.err, Catch::Contains("retention"));
  const auto state = nlohmann::json::parse(read_text_file(t.dir / ".pgbackup" / "state.json"));
  CHECK(state["backup"]["success"] == true);
  CHECK(state["backup"]["error"] == "");
  const std::string audit = read_text_file(t.dir / ".pgbackup" / "audit.jsonl");
  // (the audit line's keys are sorted, so operation and outcome are neighbours)
  CHECK_THAT(audit, Catch::Contains("\"operation\":\"prune\",\"outcome\":\"failure\""));
  CHECK_THAT(audit, !Catch::Contains("\"operation\":\"backup\",\"outcome\":\"failure\""));
  CHECK_THAT(audit, Catch::Contains("refusing to delete " + companion.string()));
  // Nothing of it went: the expired backup is whole, the link and what it points to are there.
  CHECK(t.dumps().size() == 3);
  CHECK(fs::exists(expired.string() + ".json"));
  CHECK(fs::is_symlink(companion));
  CHECK(read_text_file(outside) == "not the agent's");
}

TEST_CASE("each backup carries the roles and database settings its database needs", "[backup]") {
  TestTarget t("globals", 5);
  PgCluster& pg = PgCluster::shared();
  pg.exec(
      "DROP ROLE IF EXISTS gl_owner; DROP ROLE IF EXISTS gl_readonly; DROP ROLE IF EXISTS "
      "gl_viewer;"
      "CREATE ROLE gl_owner LOGIN PASSWORD 'owner-secret-pw';"
      "CREATE ROLE gl_readonly NOLOGIN; CREATE ROLE gl_viewer LOGIN;"
      "GRANT gl_readonly TO gl_viewer;"
      "ALTER ROLE gl_owner SET statement_timeout = '30s';"
      "ALTER DATABASE " +
      t.db +
      " OWNER TO gl_owner;"
      "ALTER DATABASE " +
      t.db +
      " SET timezone = 'UTC';"
      "GRANT CONNECT ON DATABASE " +
      t.db + " TO gl_readonly;");
  pg.exec("ALTER TABLE nodes OWNER TO gl_owner; GRANT SELECT ON nodes TO gl_readonly;", t.db);

  const AgentRun run = t.agent({"backup"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  const fs::path dump = t.dumps().back();
  const auto manifest = t.manifest_of(dump);
  REQUIRE(manifest.contains("globals"));
  const auto& listed = manifest["globals"];
  const fs::path companion = dump.string() + ".globals";
  CHECK(listed["file"] == companion.filename().string());
  const std::vector<std::string> roles = listed["roles"];
  CHECK(roles == std::vector<std::string>{"gl_owner", "gl_readonly", "gl_viewer", "postgres"});
  CHECK(listed["passwords_included"] == true);
  // The manifest never holds a verifier; the 0600 companion file does.
  CHECK(manifest.dump().find("SCRAM-SHA-256") == std::string::npos);
  struct stat st {};
  REQUIRE(::stat(companion.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  const auto globals = nlohmann::json::parse(read_text_file(companion));
  CHECK(globals["format"] == "pgbackup-globals/1");
  CHECK(globals["database"]["owner"] == "gl_owner");
  CHECK(globals["database"]["settings"] == nlohmann::json::array({"TimeZone=UTC"}));
  CHECK(globals["memberships"] ==
        nlohmann::json::parse(
            R"([{"role":"gl_readonly","member":"gl_viewer","admin_option":false}])"));
  for (const auto& r : globals["roles"]) {
    if (r["name"] == "gl_owner") {
      CHECK(r["login"] == true);
      CHECK(r["password"].get<std::string>().rfind("SCRAM-SHA-256$", 0) == 0);
      CHECK(r["settings"] == nlohmann::json::array({"statement_timeout=30s"}));
    }
    if (r["name"] == "gl_readonly") CHECK(r["login"] == false);
  }
  // Neither the password nor its verifier reaches the output or the audit log.
  CHECK(run.out.find("owner-secret-pw") == std::string::npos);
  CHECK(read_text_file(t.dir / ".pgbackup/audit.jsonl").find("SCRAM") == std::string::npos);

  // verify proves the companion file like the dump.
  CHECK(t.agent({"verify", dump.string()}).exit_code == 0);
  std::ofstream(companion, std::ios::app) << " ";
  const AgentRun bad = t.agent({"verify", dump.string()});
  CHECK(bad.exit_code != 0);
  CHECK_THAT(bad.out + bad.err, Catch::Contains("companion file"));

  pg.exec("REASSIGN OWNED BY gl_owner TO postgres; DROP OWNED BY gl_owner, gl_readonly;", t.db);
  pg.exec("DROP ROLE gl_owner; DROP ROLE gl_readonly; DROP ROLE gl_viewer;");
}

TEST_CASE(
    "after the clock jumps forward the backup is good but retention deletes nothing until prune "
    "by hand",
    "[backup]") {
  TestTarget t("bk-clock-jump", 5,
               "    anomaly: {min_ratio: 0, max_ratio: 1000000000}\n"
               "    retention: {min_keep: 1}\n");
  const std::vector<fs::path> dailies = write_dailies_before_clock_jump(t.dir, t.name);

  const AgentRun run = t.agent({"backup"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.err, Catch::Contains("retention of bk-clock-jump refused: 10 of 11 backups would "
                                      "expire at once") &&
                          Catch::Contains("the clock may have jumped forward"));
  for (const fs::path& p : dailies) CHECK(fs::exists(p));
  CHECK_THAT(read_text_file(t.dir / ".pgbackup" / "audit.jsonl"),
             Catch::Contains("\"operation\":\"prune\",\"outcome\":\"refused\""));

  // The operator checked the clock: prune by hand applies retention.
  const AgentRun prune = t.agent({"prune"});
  INFO(prune.out << prune.err);
  CHECK(prune.exit_code == 0);
  CHECK_THAT(prune.out, Catch::Contains("1 kept, 10 deleted"));
  for (const fs::path& p : dailies) CHECK_FALSE(fs::exists(p));
}
