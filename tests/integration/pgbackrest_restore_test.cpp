// `restore` of a pgBackRest target (issue 23) through the real binary: point-in-time restores
// into a new directory (--pg-path), targets outside the recovery window refused, and the
// production restore with its stop and start commands. Real pgBackRest 2.45 and a PostgreSQL 15
// cluster archiving into a stanza of its own (tests/support/pgbackrest_cluster.h); one cluster
// for the file, the production restore last (it moves the cluster to a new timeline).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <sstream>
#include <thread>

#include "agent/core/subprocess.h"
#include "tests/support/pgbackrest_cluster.h"
#include "tests/support/process.h"

using namespace pgtest;
using namespace std::chrono_literals;

namespace {

constexpr const char* kPgCtl = "/usr/lib/postgresql/15/bin/pg_ctl";

std::string yaml_list(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) out += (out.empty() ? "\"" : ", \"") + a + "\"";
  return "[" + out + "]";
}

// pg_ctl as the cluster's owner, with the options PgCluster::start() uses.
std::vector<std::string> pg_ctl(PgCluster& pg, const std::string& verb) {
  std::vector<std::string> argv;
  if (::geteuid() == 0) argv = {"runuser", "-u", "postgres", "--"};
  argv.insert(argv.end(), {kPgCtl, "-D", pg.data_dir().string(), "-w"});
  if (verb == "stop") {
    argv.insert(argv.end(), {"-m", "fast", "stop"});
  } else {
    argv.insert(argv.end(), {"-l", (pg.dir() / "log").string(), "-o",
                             "-c listen_addresses=127.0.0.1 -p " + std::to_string(pg.port()) +
                                 " -k " + pg.dir().string() + " -c fsync=off",
                             "start"});
  }
  return argv;
}

// A config whose one target is the cluster's stanza, with pg_ctl as stop and start commands.
struct PitrTarget {
  fs::path root = make_temp_dir("pgbr-pitr");
  fs::path dir = root / "state";
  fs::path config = root / "agent.yml";

  // `start_command` (default: pg_ctl start) and `timeout` (backup.timeout, which also bounds the
  // wait for promotion) for the case of a start that never promotes.
  explicit PitrTarget(PgBackRestCluster& c = PgBackRestCluster::shared(),
                      std::vector<std::string> start_command = {},
                      const std::string& timeout = "5m") {
    if (start_command.empty()) start_command = pg_ctl(c.pg(), "start");
    write_text(config,
               "targets:\n  - name: physical\n    engine: pgbackrest\n"
               "    database: {host: 127.0.0.1, port: " +
                   std::to_string(c.pg().port()) +
                   ", user: postgres, dbname: postgres, password_env: PGBR_PASSWORD}\n"
                   "    pgbackrest:\n      stanza: " +
                   c.stanza() + "\n      config: " + c.config().string() +
                   "\n      command: " + yaml_list(PgBackRestCluster::command_prefix()) +
                   "\n    backup:\n      dir: " + dir.string() +
                   "\n      schedule: {full: \"0 2 * * 0\"}\n      timeout: " + timeout +
                   "\n"
                   "    retention: {min_keep: 1}\n"
                   "    restore:\n      stop_command: " +
                   yaml_list(pg_ctl(c.pg(), "stop")) +
                   "\n      start_command: " + yaml_list(start_command) + "\n");
  }

  AgentRun agent(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--config", config.string()});
    return run_agent(args, {{"PGBR_PASSWORD", PgCluster::kPassword}});
  }

  // "step:outcome" of every restore entry of the audit log, in order.
  std::vector<std::string> restore_steps() const {
    std::vector<std::string> out;
    std::istringstream lines(read_text_file(dir / ".pgbackup" / "audit.jsonl"));
    for (std::string line; std::getline(lines, line);) {
      const auto e = nlohmann::json::parse(line);
      if (e.value("operation", "") != "restore") continue;
      out.push_back(e.value("step", "") + ":" + e.value("outcome", ""));
    }
    return out;
  }
};

// The database's clock now, as --time takes it (UTC, microseconds).
std::string db_now() {
  return PgBackRestCluster::shared().query_value(
      "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
}

long long count(PgCluster& pg, const std::string& where) {
  return std::stoll(pg.query_value("SELECT count(*) FROM pitr WHERE " + where));
}

// Waits (up to 60 s) until a restored server has reached its target and promoted.
void wait_for_promotion(PgCluster& pg) {
  for (int i = 0; i < 600; ++i) {
    try {
      if (pg.query_value("SELECT pg_is_in_recovery()") == "f") return;
    } catch (const std::exception&) {
      // not accepting connections yet
    }
    std::this_thread::sleep_for(100ms);
  }
  FAIL("the restored server was still in recovery after 60 s");
}

// A cluster restored by `restore ... --pg-path`: an empty directory of the server's user, then
// started on a port of its own once the agent restored into it.
struct NewServer {
  PgCluster pg;
  NewServer() : pg(options()) {}
  static PgClusterOptions options() {
    PgClusterOptions o;
    o.initdb = false;
    o.start = false;
    o.timescaledb = false;
    return o;
  }
  void start() {
    pg.start();
    wait_for_promotion(pg);
  }
};

// The T1 and T2 rows of a copy restored with `target_args` into a new server, once started.
using Rows = std::pair<long long, long long>;
Rows rows_restored(const PitrTarget& target, const std::vector<std::string>& target_args) {
  NewServer scratch;
  std::vector<std::string> args = {"restore", "--pg-path", scratch.pg.data_dir().string(), "--yes"};
  args.insert(args.end(), target_args.begin(), target_args.end());
  const AgentRun r = target.agent(args);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  scratch.start();
  return {count(scratch.pg, "phase = 't1'"), count(scratch.pg, "phase = 't2'")};
}

// The history every test case of the file reads: a full backup, rows at T1, the target T, rows
// at T2, a DELETE of the T1 rows at T3, all archived.
struct History {
  std::string t, before_delete;
  std::string lsn;  // the WAL insert position after the T1 rows' commit, before T2
};

const History& history() {
  static const History h = [] {
    PgBackRestCluster& c = PgBackRestCluster::shared();
    const PitrTarget target;
    c.exec("CREATE TABLE pitr (i int, phase text)");
    const AgentRun full = target.agent({"backup", "--type", "full"});
    INFO(full.out << full.err);
    REQUIRE(full.exit_code == 0);
    History out;
    // The recovery window opens a second after the full's stop (pgBackRest records it in whole
    // seconds): every target below lies after that.
    std::this_thread::sleep_for(1100ms);
    c.exec("INSERT INTO pitr SELECT g, 't1' FROM generate_series(1, 100) g");
    out.lsn = c.query_value("SELECT pg_current_wal_insert_lsn()::text");
    std::this_thread::sleep_for(600ms);
    out.t = db_now();
    std::this_thread::sleep_for(600ms);
    c.exec("INSERT INTO pitr SELECT g, 't2' FROM generate_series(1, 50) g");
    std::this_thread::sleep_for(600ms);
    out.before_delete = db_now();
    std::this_thread::sleep_for(600ms);
    c.exec("DELETE FROM pitr WHERE phase = 't1'");
    // The segment holding the DELETE archived, stamped (whole seconds) after every target.
    std::this_thread::sleep_for(1100ms);
    c.switch_wal();
    return out;
  }();
  return h;
}

}  // namespace

TEST_CASE(
    "restore --pg-path of a pgbackrest target: to a time between commits, just before a "
    "DELETE, to an LSN, to the latest point; targets outside the recovery window refused",
    "[pgbackrest_restore]") {
  const History& h = history();
  const PitrTarget target;

  SECTION("--time T gives the T1 rows and none of T2; production is not touched") {
    NewServer scratch;
    const AgentRun r = target.agent(
        {"restore", "--time", h.t, "--pg-path", scratch.pg.data_dir().string(), "--yes"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("Restore plan for target physical") &&
                          Catch::Contains("backup set") && Catch::Contains("WAL to replay") &&
                          Catch::Contains("--archive-mode=off") &&
                          Catch::Contains("stop command   not run") &&
                          Catch::Contains("pg_ctl -D " + scratch.pg.data_dir().string()));
    CHECK(PgBackRestCluster::shared().query_value("SELECT 1") == "1");  // production still up
    scratch.start();
    CHECK(count(scratch.pg, "phase = 't1'") == 100);
    CHECK(count(scratch.pg, "phase = 't2'") == 0);
    CHECK(scratch.pg.query_value("SHOW archive_mode") == "off");
    CHECK(target.restore_steps() ==
          std::vector<std::string>{"check:success", "plan:shown", "confirmation:given",
                                   "safety_backup:skipped", "stop_command:skipped",
                                   "pgbackrest_restore:success", "start_command:skipped",
                                   "restore:success"});
  }
  SECTION("--time just before the DELETE brings the deleted rows back") {
    CHECK(rows_restored(target, {"--time", h.before_delete}) == Rows{100, 50});
  }
  SECTION("--lsn after the T1 commit gives the T1 rows and none of T2") {
    CHECK(rows_restored(target, {"--lsn", h.lsn}) == Rows{100, 0});
  }
  SECTION("--latest has everything, the DELETE included") {
    CHECK(rows_restored(target, {"--latest"}) == Rows{0, 50});
  }
  SECTION("a target before the oldest backup or after the archive's end is refused") {
    NewServer scratch;
    for (const std::string& when :
         {std::string("2020-01-01T00:00:00Z"), std::string("2099-01-01T00:00:00Z")}) {
      const AgentRun r = target.agent(
          {"restore", "--time", when, "--pg-path", scratch.pg.data_dir().string(), "--yes"});
      INFO(r.out << r.err);
      CHECK(r.exit_code == 1);
      CHECK_THAT(r.err,
                 Catch::Contains("recovery window") && Catch::Contains("nothing was changed"));
      CHECK(fs::is_empty(scratch.pg.data_dir()));
    }
    // An LSN before the full backup's consistency point or past the archive's end.
    for (const std::string& lsn : {std::string("0/1"), std::string("FF/0")}) {
      const AgentRun r = target.agent(
          {"restore", "--lsn", lsn, "--pg-path", scratch.pg.data_dir().string(), "--yes"});
      INFO(r.out << r.err);
      CHECK(r.exit_code == 1);
      CHECK_THAT(r.err, Catch::Contains("target lsn " + lsn + " is ") &&
                            Catch::Contains(" the recovery window 0/") &&
                            Catch::Contains("nothing was changed"));
      CHECK(fs::is_empty(scratch.pg.data_dir()));
    }
    CHECK(target.restore_steps() == std::vector<std::string>(4, "check:refused"));
  }
  SECTION("a non-empty --pg-path is refused; pg_dump's options are usage errors") {
    const fs::path full = make_temp_dir("not-empty");
    write_text(full / "PG_VERSION", "15\n");
    const AgentRun r = target.agent({"restore", "--latest", "--pg-path", full.string(), "--yes"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("is not empty"));
    const AgentRun table = target.agent({"restore", "--latest", "--table", "pitr", "--yes"});
    CHECK(table.exit_code == 2);
    CHECK_THAT(table.err, Catch::Contains("pg_dump targets"));
  }
}

TEST_CASE(
    "the production restore of a pgbackrest target: refused out of the window with nothing "
    "changed; with --yes a safety incr, stop_command, restore --delta to T, start_command, "
    "promotion and checks",
    "[pgbackrest_restore]") {
  const History& h = history();
  const PitrTarget target;
  PgBackRestCluster& c = PgBackRestCluster::shared();
  const std::string system_id = c.system_identifier();

  const AgentRun refused = target.agent({"restore", "--time", "2099-01-01T00:00:00Z", "--yes"});
  INFO(refused.out << refused.err);
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains("is after the recovery window"));
  CHECK(c.query_value("SELECT count(*) FROM pitr") == "50");  // still up, as it was

  const AgentRun r = target.agent({"restore", "--time", h.t, "--yes"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("safety backup: ") && Catch::Contains("stop_command: ok") &&
                        Catch::Contains("start_command: ok") && Catch::Contains("timeline 2"));
  CHECK(count(c.pg(), "phase = 't1'") == 100);
  CHECK(count(c.pg(), "phase = 't2'") == 0);
  CHECK(c.query_value("SELECT pg_is_in_recovery()") == "f");
  CHECK(c.system_identifier() == system_id);
  const std::vector<std::string> steps = target.restore_steps();
  const std::vector<std::string> expected = {"check:refused",
                                             "check:success",
                                             "plan:shown",
                                             "confirmation:given",
                                             "safety_backup:success",
                                             "stop_command:success",
                                             "pgbackrest_restore:success",
                                             "start_command:success",
                                             "promotion:success",
                                             "checks:success",
                                             "restore:success"};
  CHECK(steps == expected);
}

TEST_CASE(
    "a production restore whose server never promotes (a start_command that starts nothing) "
    "fails at promotion after the timeout, saying where things stand and how to go on",
    "[pgbackrest_restore]") {
  history();
  PgBackRestCluster& c = PgBackRestCluster::shared();
  const PitrTarget target(c, {"/bin/true"}, "10s");
  const std::string rows = c.query_value("SELECT count(*) FROM pitr");
  c.switch_wal();  // --latest is what the archive holds
  const AgentRun r = target.agent({"restore", "--latest", "--yes", "--no-safety-backup"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("restore FAILED at promotion: PostgreSQL did not promote "
                                    "within 10s") &&
                        Catch::Contains("was restored to --latest and PostgreSQL was started on "
                                        "it, but it did not promote") &&
                        Catch::Contains("start_command ran") &&
                        Catch::Contains("there is no safety backup (--no-safety-backup") &&
                        Catch::Contains("to retry this restore once the cause is fixed: "
                                        "pgbackup-agent restore --target physical --latest"));
  const std::vector<std::string> steps = target.restore_steps();
  REQUIRE(steps.size() >= 3);
  CHECK(std::vector<std::string>(steps.end() - 3, steps.end()) ==
        std::vector<std::string>{"start_command:success", "promotion:failure", "restore:failure"});
  // As the message says: the data directory is restored; started, it replays and promotes.
  pgbackup::ProcessSpec start;
  start.argv = pg_ctl(c.pg(), "start");
  start.timeout = 120s;
  REQUIRE(pgbackup::run_process(start).ok());
  wait_for_promotion(c.pg());
  CHECK(c.query_value("SELECT count(*) FROM pitr") == rows);
}

TEST_CASE(
    "a new server from an S3 repository, the original data directory deleted: restore --latest "
    "--pg-path has every committed row",
    "[pgbackrest_restore]") {
  S3ServerOptions tls;
  tls.tls = true;
  const S3Server s3(tls);
  PgBackRestCluster c(PgBackRestClusterOptions{&s3, false, ""});
  const PitrTarget target(c);
  c.exec("CREATE TABLE pitr (i int, phase text)");
  const AgentRun full = target.agent({"backup", "--type", "full"});
  INFO(full.out << full.err);
  REQUIRE(full.exit_code == 0);
  c.exec("INSERT INTO pitr SELECT g, 't1' FROM generate_series(1, 70) g");
  c.switch_wal();
  c.pg().stop();
  fs::remove_all(c.pg().data_dir());  // the old server is gone; the bucket is all there is

  NewServer fresh;
  const AgentRun r =
      target.agent({"restore", "--latest", "--pg-path", fresh.pg.data_dir().string(), "--yes"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("safety backup  NO"));
  fresh.start();
  CHECK(count(fresh.pg, "phase = 't1'") == 70);
}
