// `restore` (DESIGN §6) end to end: the real binary restores into a real PostgreSQL 15 cluster.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

#include "agent/core/timeutil.h"
#include "tests/support/s3_server.h"
#include "tests/support/target.h"

using namespace pgtest;
using namespace std::chrono_literals;

namespace {

long long rows_in(const TestTarget& t, const std::string& table, const std::string& db = "") {
  return std::stoll(
      PgCluster::shared().query_value("SELECT count(*) FROM " + table, db.empty() ? t.db : db));
}

// Takes one backup of `t` and returns its dump.
fs::path backup_of(const TestTarget& t) {
  const AgentRun run = t.agent({"backup"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  return t.dumps().back();
}

long long manifest_rows(const nlohmann::json& manifest, const std::string& table) {
  for (const auto& t : manifest["tables"]) {
    if (t["name"] == table) return t["rows"].get<long long>();
  }
  FAIL("no table " << table << " in the manifest");
  return -1;
}

std::string restore_target_yaml(const fs::path& root) {
  return "    restore:\n      stop_command: [touch, " + (root / "stopped").string() +
         "]\n      start_command: [touch, " + (root / "started").string() + "]\n";
}

// `pgbackup-agent restore` as a child of the test, so a signal can reach it mid-restore, as a
// Ctrl-C from the operator would. Its stdin is a pipe the test keeps open (an operator at the
// prompt); stdout and stderr go to a log file.
class AgentProcess {
 public:
  AgentProcess(const TestTarget& t, std::vector<std::string> args) : log_(t.root / "agent.log") {
    args.insert(args.begin(), {PGBACKUP_AGENT_BINARY, "--config", t.config.string()});
    int in[2];
    REQUIRE(::pipe(in) == 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setenv(TestTarget::kPasswordEnv, PgCluster::kPassword, 1);
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(in[0], 0);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(in[1]);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    stdin_ = in[1];
  }
  ~AgentProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(stdin_);
  }
  void signal(int sig) const { ::kill(pid_, sig); }
  // The exit status, or -1 when it is still running after `timeout`.
  int wait_exit(std::chrono::seconds timeout) { return wait_for_exit(pid_, timeout); }
  std::string log() const { return read_text_file(log_); }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  int stdin_ = -1;
};

// Waits up to 60 s for a process whose command line holds every needle; its pid or 0.
int wait_for_process(const std::vector<std::string>& needles) {
  for (auto end = std::chrono::steady_clock::now() + 60s; std::chrono::steady_clock::now() < end;
       std::this_thread::sleep_for(100ms)) {
    if (const int pid = find_process(needles)) return pid;
  }
  return 0;
}

}  // namespace

TEST_CASE(
    "a confirmed restore brings deleted rows back, runs stop and start, keeps a safety "
    "backup and audits every step",
    "[restore]") {
  TestTarget t("prod", 40);
  t.write_config(t.default_database_yaml(), restore_target_yaml(t.root));
  const fs::path dump = backup_of(t);
  PgCluster::shared().exec("DELETE FROM network_stats; DELETE FROM node_metrics", t.db);

  const AgentRun run = t.agent({"restore", dump.string()}, {}, "YES\n");
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out,
             Catch::Contains("postgres@127.0.0.1:" + std::to_string(PgCluster::shared().port()) +
                             "/" + t.db) &&
                 Catch::Contains(dump.string()) && Catch::Contains("tier monthly") &&
                 Catch::Contains("public.network_stats") && Catch::Contains("safety backup  yes"));
  const auto manifest = t.manifest_of(dump);
  for (const auto& table : manifest["tables"]) {
    const std::string name =
        table["schema"].get<std::string>() + "." + table["name"].get<std::string>();
    CHECK(rows_in(t, "ONLY " + name) == table["rows"].get<long long>());
  }
  CHECK(rows_in(t, "network_stats") > 0);
  CHECK(fs::exists(t.root / "stopped"));
  CHECK(fs::exists(t.root / "started"));

  // The safety backup holds the data as it was just before the restore: no network_stats.
  REQUIRE(t.dumps().size() == 2);
  const auto safety = t.manifest_of(t.dumps().back());
  CHECK(manifest_rows(safety, "network_stats") == 0);
  CHECK_THAT(run.out, Catch::Contains("safety backup: " + t.dumps().back().string()));
  CHECK(restore_steps(t) == std::vector<std::string>{"verify:success", "plan:shown",
                                                     "confirmation:given", "safety_backup:success",
                                                     "stop_command:success", "pg_restore:success",
                                                     "row_counts:success", "start_command:success",
                                                     "restore:success"});
}

TEST_CASE("a restore that is not confirmed with YES changes nothing", "[restore]") {
  TestTarget t("unconfirmed", 20);
  t.write_config(t.default_database_yaml(), restore_target_yaml(t.root));
  const fs::path dump = backup_of(t);
  PgCluster::shared().exec("DELETE FROM network_stats", t.db);

  for (const std::string input : {"no\n", "", "yes\n"}) {
    const AgentRun run = t.agent({"restore", "--latest"}, {}, input);
    INFO("stdin: '" << input << "'\n" << run.out << run.err);
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Contains("restore cancelled, nothing was changed"));
    CHECK(rows_in(t, "network_stats") == 0);
    CHECK(t.dumps().size() == 1);  // no safety backup either
    CHECK_FALSE(fs::exists(t.root / "stopped"));
  }
  CHECK(restore_steps(t).back() == "restore:cancelled");

  const AgentRun yes = t.agent({"restore", "--latest", "--yes", "--no-safety-backup"});
  INFO(yes.out << yes.err);
  CHECK(yes.exit_code == 0);
  CHECK(rows_in(t, "network_stats") > 0);
  CHECK(t.dumps().size() == 1);
  CHECK_THAT(yes.out, Catch::Contains("safety backup  NO: --no-safety-backup"));
}

TEST_CASE("a partial restore restores only its table; other tables keep their changes",
          "[restore]") {
  TestTarget t("partial", 20);
  const fs::path dump = backup_of(t);
  PgCluster& pg = PgCluster::shared();
  pg.exec("DELETE FROM network_stats; UPDATE nodes SET version = 'changed-after-backup'", t.db);

  const AgentRun unknown = t.agent({"restore", "--latest", "--yes", "--table", "no_such_table"});
  INFO(unknown.out << unknown.err);
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("no_such_table") && Catch::Contains("public.nodes"));
  CHECK(t.dumps().size() == 1);

  const AgentRun run =
      t.agent({"restore", dump.string(), "--yes", "--table", "network_stats"}, {}, "");
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains("only (partial restore): public.network_stats"));
  CHECK(rows_in(t, "network_stats") == manifest_rows(t.manifest_of(dump), "network_stats"));
  CHECK(pg.query_value("SELECT count(*) FROM nodes WHERE version <> 'changed-after-backup'",
                       t.db) == "0");
  // pg_restore --table alone would have re-created the table without its primary key.
  CHECK(pg.query_value("SELECT count(*) FROM pg_constraint WHERE conname = 'network_stats_pkey'",
                       t.db) == "1");
}

TEST_CASE(
    "--dbname restores into another database of the same server, created like the backup's own "
    "when it does not exist",
    "[restore]") {
  TestTarget t("elsewhere", 20);
  const fs::path dump = backup_of(t);
  PgCluster& pg = PgCluster::shared();

  const AgentRun missing = t.agent({"restore", "--latest", "--yes", "--dbname", "no_such_db"});
  INFO(missing.out << missing.err);
  REQUIRE(missing.exit_code == 0);
  CHECK_THAT(missing.out, Catch::Contains("no_such_db (does not exist: it is CREATED)") &&
                              Catch::Contains("created database no_such_db (owner postgres)"));
  CHECK(pg.table_counts("no_such_db") == pg.table_counts(t.db));
  pg.exec("DROP DATABASE no_such_db");

  pg.create_database("elsewhere_copy");
  const AgentRun run = t.agent({"restore", "--latest", "--yes", "--dbname", "elsewhere_copy"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(pg.table_counts("elsewhere_copy") == pg.table_counts(t.db));
  CHECK(rows_in(t, "nodes", "elsewhere_copy") == 50);
  // A backup of another database must not join the target's backups.
  CHECK_THAT(run.out, Catch::Contains("safety backup  NO: --dbname elsewhere_copy"));
  CHECK(t.dumps() == std::vector<fs::path>{dump});
}

TEST_CASE("a failing stop command restores nothing and start is not run", "[restore]") {
  TestTarget t("stopfails", 20);
  t.write_config(t.default_database_yaml(),
                 "    restore:\n      stop_command: [false]\n      start_command: [touch, " +
                     (t.root / "started").string() + "]\n");
  backup_of(t);
  PgCluster::shared().exec("DELETE FROM network_stats", t.db);

  const AgentRun run = t.agent({"restore", "--latest", "--yes"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.err, Catch::Contains("stop_command failed") &&
                          Catch::Contains("was not changed") &&
                          Catch::Contains("start_command was NOT run") &&
                          Catch::Contains(t.dumps().back().string()));
  CHECK(rows_in(t, "network_stats") == 0);
  CHECK_FALSE(fs::exists(t.root / "started"));
  CHECK(restore_steps(t).back() == "restore:failure");
}

TEST_CASE("a failing pg_restore leaves start not run and says how to go back", "[restore]") {
  TestTarget t("restorefails", 20);
  t.write_config(t.default_database_yaml(), restore_target_yaml(t.root));
  const fs::path dump = backup_of(t);
  PgCluster& pg = PgCluster::shared();
  pg.exec("UPDATE nodes SET version = 'changed-after-backup'", t.db);

  // node_metrics references nodes, so pg_restore --clean cannot drop and re-create nodes alone;
  // the partial restore runs in one transaction, rolled back as a whole.
  const AgentRun run = t.agent({"restore", dump.string(), "--yes", "--table", "nodes"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  const fs::path safety = t.dumps().back();
  CHECK(safety != dump);
  CHECK_THAT(
      run.err,
      Catch::Contains("restore FAILED at pg_restore") &&
          Catch::Contains("other objects depend on it") && Catch::Contains("rolled back") &&
          Catch::Contains("pgbackup-agent restore --target restorefails " + safety.string()) &&
          Catch::Contains("--table nodes " + dump.string()));
  CHECK(pg.query_value("SELECT count(DISTINCT version) FROM nodes", t.db) == "1");
  CHECK(fs::exists(t.root / "stopped"));
  CHECK_FALSE(fs::exists(t.root / "started"));
  CHECK_FALSE(fs::exists(t.dir / ".pgbackup/restore.list"));
}

TEST_CASE("a backup whose checksum or manifest is wrong is refused before anything changes",
          "[restore]") {
  TestTarget t("corrupt", 20);
  const fs::path dump = backup_of(t);
  PgCluster::shared().exec("DELETE FROM network_stats", t.db);
  flip_middle_byte(dump);  // XOR: a plain write could store the same byte
  const AgentRun bad_sum = t.agent({"restore", dump.string(), "--yes"});
  INFO(bad_sum.out << bad_sum.err);
  CHECK(bad_sum.exit_code == 1);
  CHECK_THAT(bad_sum.err, Catch::Contains("sha256") && Catch::Contains("nothing was changed"));

  fs::remove(dump.string() + ".json");
  const AgentRun no_manifest = t.agent({"restore", dump.string(), "--yes"});
  INFO(no_manifest.out << no_manifest.err);
  CHECK(no_manifest.exit_code == 1);
  CHECK_THAT(no_manifest.err, Catch::Contains("no manifest"));
  CHECK(rows_in(t, "network_stats") == 0);
  CHECK(t.dumps().empty());
}

TEST_CASE("the safety backup does not let retention delete an old backup being restored",
          "[restore]") {
  TestTarget t("oldbackup", 20, "    retention: {daily: 30d, min_keep: 1}\n");
  const fs::path taken = backup_of(t);
  // Move the backup 40 days back: a daily past its window, kept only as the newest one.
  const fs::path old =
      t.dir / ("oldbackup_" +
               pgbackup::format_file_stamp(std::chrono::system_clock::now() - 40 * 24h) + ".dump");
  // Its manifest names its own files: the dump and the companion file, under their new names.
  nlohmann::json m = t.manifest_of(taken);
  m["file"] = old.filename().string();
  REQUIRE(m.contains("globals"));
  m["globals"]["file"] = old.filename().string() + ".globals";
  write_text(old.string() + ".json", m.dump(2));
  fs::remove(taken.string() + ".json");
  fs::rename(taken.string() + ".globals", old.string() + ".globals");
  fs::rename(taken, old);

  const AgentRun run = t.agent({"restore", old.string(), "--yes"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(t.dumps().size() == 2);
  CHECK(fs::exists(old));
}

TEST_CASE(
    "SIGTERM during restore stops the running child, says what state the database is in "
    "and audits the failure",
    "[restore]") {
  TestTarget t("interrupted", 20);
  // A stop command that takes long: the signal arrives while it runs.
  t.write_config(
      t.default_database_yaml(),
      "    restore:\n      stop_command: [sleep, \"41.5\"]\n      start_command: [touch, " +
          (t.root / "started").string() + "]\n");
  backup_of(t);
  PgCluster& pg = PgCluster::shared();
  pg.exec("DELETE FROM network_stats", t.db);

  SECTION("during stop_command") {
    AgentProcess agent(t, {"restore", "--latest", "--yes"});
    REQUIRE(wait_for_process({"sleep 41.5"}) != 0);
    agent.signal(SIGTERM);
    const int code = agent.wait_exit(10s);
    const std::string log = agent.log();
    INFO(log);
    CHECK(code == 1);
    CHECK(find_process({"sleep 41.5"}) == 0);  // not left behind as an orphan
    CHECK_THAT(log, Catch::Contains("stopping: SIGTERM") &&
                        Catch::Contains("restore FAILED at stop_command") &&
                        Catch::Contains("was not changed") &&
                        Catch::Contains("start_command was NOT run") &&
                        Catch::Contains("the safety backup of the data before the restore is"));
    CHECK(rows_in(t, "network_stats") == 0);
    CHECK_FALSE(fs::exists(t.root / "started"));
    CHECK(restore_steps(t).back() == "restore:failure");
  }

  SECTION("during pg_restore") {
    t.write_config(t.default_database_yaml());
    // pg_restore --clean waits to drop the locked table: the restore is under way.
    TableLock lock(t.db, "nodes");
    AgentProcess agent(t, {"restore", "--latest", "--yes", "--no-safety-backup"});
    REQUIRE(wait_for_process({"pg_restore", t.db}) != 0);
    agent.signal(SIGINT);
    const int code = agent.wait_exit(10s);
    const std::string log = agent.log();
    INFO(log);
    CHECK(code == 1);
    CHECK(find_process({"pg_restore", t.db}) == 0);
    CHECK_THAT(log, Catch::Contains("stopping: SIGINT") &&
                        Catch::Contains("restore FAILED at pg_restore") &&
                        Catch::Contains("PARTIALLY RESTORED"));
    CHECK(restore_steps(t).back() == "restore:failure");
  }

  SECTION("at the confirmation prompt") {
    AgentProcess agent(t, {"restore", "--latest"});
    for (auto end = std::chrono::steady_clock::now() + 30s;
         std::chrono::steady_clock::now() < end &&
         agent.log().find("Type YES") == std::string::npos;) {
      std::this_thread::sleep_for(100ms);
    }
    agent.signal(SIGINT);
    const int code = agent.wait_exit(10s);
    const std::string log = agent.log();
    INFO(log);
    CHECK(code == 1);
    CHECK_THAT(log, Catch::Contains("restore cancelled, nothing was changed"));
    CHECK(t.dumps().size() == 1);  // no safety backup
    CHECK(restore_steps(t).back() == "restore:cancelled");
  }
}

TEST_CASE("an audit log that cannot be written does not fail a good restore", "[restore]") {
  TestTarget t("auditfull", 20);
  const fs::path dump = backup_of(t);
  PgCluster::shared().exec("DELETE FROM network_stats", t.db);
  // A directory where the audit log should be: every append fails, as on a full disk.
  const fs::path audit = t.root / "audit-is-a-directory";
  fs::create_directories(audit);
  write_text(t.config, "audit_log: " + audit.string() + "\n" + read_text_file(t.config));

  const AgentRun run = t.agent({"restore", dump.string(), "--yes", "--no-safety-backup"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains("restored " + dump.filename().string()));
  CHECK_THAT(run.err, Catch::Contains("audit log entry") && !Catch::Contains("FAILED"));
  CHECK(rows_in(t, "network_stats") > 0);
}

TEST_CASE("a failed restore from s3:// names the URL to retry, not the removed download",
          "[restore]") {
  S3Server s3;
  TestTarget t("s3retry", 20);
  t.write_config(t.default_database_yaml(),
                 "    restore:\n      stop_command: [\"false\"]\n" +
                     s3.offsite_yaml("s3retry/", "        tiers: [monthly]\n"));
  const fs::path dump = backup_of(t);
  REQUIRE(t.agent({"upload"}, s3.key_env()).exit_code == 0);
  const std::string url = "s3://pgtest-bucket/s3retry/" + dump.filename().string();

  const AgentRun run = t.agent({"restore", url, "--yes", "--no-safety-backup"}, s3.key_env());
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.err, Catch::Contains("restore FAILED at stop_command") &&
                          Catch::Contains("to retry this restore once the cause is fixed: "
                                          "pgbackup-agent restore --target s3retry " +
                                          url + "\n"));
}
