// The pgBackRest engine through the real binary (`engine: pgbackrest`, DESIGN §11): backups of
// each type and their records, list, verify (a WAL gap and a corrupted file it finds although
// pgBackRest's own verify exits 0), retention over whole sets and the WAL they keep, config
// errors, a SIGKILL mid-backup, a backup stopped by backup.timeout, and broken archiving in the
// daemon's metrics. Real
// pgBackRest 2.45 and a PostgreSQL 15 cluster archiving into a stanza of its own
// (tests/support/pgbackrest_cluster.h).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <thread>

#include "agent/engines/pgbackrest/info.h"
#include "tests/support/daemon.h"
#include "tests/support/pgbackrest_cluster.h"
#include "tests/support/process.h"
#include "tests/support/target.h"

using namespace pgtest;
using namespace std::chrono_literals;

namespace {

// A config whose one target backs up the cluster's stanza through the agent.
struct EngineTarget {
  fs::path root = make_temp_dir("pgbr-engine");
  fs::path dir = root / "state";
  fs::path config = root / "agent.yml";

  std::string timeout = "5m";

  explicit EngineTarget(const std::string& retention = "{min_keep: 1}",
                        std::string backup_timeout = "5m")
      : timeout(std::move(backup_timeout)) {
    write(retention);
  }

  void write(const std::string& retention) const {
    PgBackRestCluster& c = PgBackRestCluster::shared();
    std::string command;
    for (const std::string& a : PgBackRestCluster::command_prefix()) {
      command += (command.empty() ? "" : ", ") + a;
    }
    write_text(config,
               "targets:\n  - name: physical\n    engine: pgbackrest\n"
               "    database: " +
                   TestTarget::database_yaml("postgres", c.pg()) +
                   "\n"
                   "    pgbackrest:\n      stanza: " +
                   c.stanza() + "\n      config: " + c.config().string() + "\n      command: [" +
                   command + "]\n    backup:\n      dir: " + dir.string() +
                   "\n      schedule: {full: \"0 2 * * 0\", diff: \"0 2 * * 1-6\"}\n"
                   "      timeout: " +
                   timeout + "\n    retention: " + retention + "\n    rpo_target: 5m\n");
  }

  AgentRun agent(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--config", config.string()});
    return run_agent(args, {{TestTarget::kPasswordEnv, PgCluster::kPassword}});
  }

  nlohmann::json list() const {
    const AgentRun r = agent({"list", "--output", "json"});
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
  }
};

void insert_rows(int n) {
  PgBackRestCluster::shared().exec(
      "CREATE TABLE IF NOT EXISTS engine_rows (i int, pad text); INSERT INTO engine_rows SELECT "
      "g, repeat('x', 100) FROM generate_series(1, " +
      std::to_string(n) + ") g");
}

// The label `backup` printed: "backup LABEL: TYPE, ...".
std::string label_of(const AgentRun& r) {
  const std::size_t start = r.out.find("backup ");
  REQUIRE(start != std::string::npos);
  return r.out.substr(start + 7, r.out.find(':', start) - start - 7);
}

// The value of `series` (name and labels, as exposed) in a /metrics body.
double metric_value(const std::string& body, const std::string& series) {
  const std::size_t at = body.find(series + " ");
  REQUIRE(at != std::string::npos);
  return std::stod(body.substr(at + series.size() + 1));
}

nlohmann::json state_of(const EngineTarget& t) {
  return nlohmann::json::parse(read_text_file(t.dir / ".pgbackup" / "state.json"));
}

// Archiving broken on the shared cluster until destroyed: an archive_command that pushes to
// another stanza (ALTER SYSTEM, reloaded), as an operator's typo would. PostgreSQL keeps the
// segments it could not archive and pushes them once the command is put back.
class BrokenArchiving {
 public:
  BrokenArchiving() {
    set("'pgbackrest --config=" + PgBackRestCluster::shared().config().string() +
        " --stanza=no-such-stanza archive-push %p'");
  }
  ~BrokenArchiving() { set(""); }
  BrokenArchiving(const BrokenArchiving&) = delete;
  BrokenArchiving& operator=(const BrokenArchiving&) = delete;

  // Writes WAL, switches segment and waits (up to 15 s) until pg_stat_archiver counts a failure
  // beyond `failed_before`; returns the count.
  static long fail_once(long failed_before) {
    auto& c = PgBackRestCluster::shared();
    c.exec("SELECT pg_logical_emit_message(false, 'pgbackup-test', 'broken')");
    c.exec("SELECT pg_switch_wal()");
    for (auto end = std::chrono::steady_clock::now() + 15s; std::chrono::steady_clock::now() < end;
         std::this_thread::sleep_for(100ms)) {
      const long failed = failed_count();
      if (failed > failed_before) return failed;
    }
    FAIL("pg_stat_archiver counted no failure within 15 s");
    return failed_before;
  }
  static long failed_count() {
    return std::stol(
        PgBackRestCluster::shared().query_value("SELECT failed_count FROM pg_stat_archiver"));
  }

 private:
  static void set(const std::string& command) {
    auto& c = PgBackRestCluster::shared();
    c.exec(command.empty() ? "ALTER SYSTEM RESET archive_command"
                           : "ALTER SYSTEM SET archive_command = " + command);
    c.exec("SELECT pg_reload_conf()");
  }
};

pgbackup::pgbackrest::InfoStanza info() {
  const pgbackup::ProcessResult r =
      PgBackRestCluster::shared().pgbackrest({"info", "--output=json"});
  REQUIRE(r.exit_code == 0);
  return pgbackup::pgbackrest::parse_stanza_info(r.out, PgBackRestCluster::kStanza);
}

}  // namespace

TEST_CASE(
    "a pgbackrest target: full, diff and incr backups, list, verify, a WAL gap, retention "
    "over whole sets",
    "[pgbackrest_engine]") {
  const EngineTarget t;
  insert_rows(1000);

  // An incr with nothing to build on becomes a full, and says so.
  const AgentRun first = t.agent({"backup", "--type", "incr"});
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  CHECK_THAT(first.err, Catch::Contains("no full backup to build on: took a full"));
  CHECK_THAT(first.out, Catch::Contains(": full, "));
  const std::string full = label_of(first);
  CHECK(full.ends_with("F"));

  insert_rows(1000);
  const AgentRun diff = t.agent({"backup", "--type", "diff"});
  REQUIRE(diff.exit_code == 0);
  CHECK_THAT(diff.out, Catch::Contains(": diff, "));
  insert_rows(1000);
  const AgentRun incr = t.agent({"backup", "--type", "incr"});
  REQUIRE(incr.exit_code == 0);
  CHECK_THAT(incr.out, Catch::Contains(": incr, "));
  const std::string incr_label = label_of(incr);

  // The agent's record of each: 0600 under the state directory, with pgBackRest's facts.
  const fs::path record = t.dir / ".pgbackup" / "pgbackrest" / (full + ".json");
  REQUIRE(fs::exists(record));
  struct stat st {};
  REQUIRE(::stat(record.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  const nlohmann::json rec = nlohmann::json::parse(read_text_file(record));
  CHECK(rec["type"] == "full");
  CHECK(rec["requested_type"] == "incr");
  CHECK(rec["error"] == false);
  CHECK(rec["wal_start"].get<std::string>().size() == 24);
  CHECK(rec["repository_size"].get<std::uint64_t>() > 0);

  const nlohmann::json listed = t.list();
  REQUIRE(listed.size() == 3);
  CHECK(listed[0]["type"] == "full");
  CHECK(listed[1]["type"] == "diff");
  CHECK(listed[2]["type"] == "incr");
  for (const auto& b : listed) CHECK(b["good"] == true);
  CHECK(listed[2]["restore_set_bytes"].get<std::uint64_t>() >
        listed[2]["size_bytes"].get<std::uint64_t>());
  const AgentRun text = t.agent({"list"});
  CHECK_THAT(text.out, Catch::Contains(full) && Catch::Contains("diff") &&
                           Catch::Contains(incr_label) && Catch::Contains("TYPE"));

  const AgentRun verified = t.agent({"verify", "--latest"});
  INFO(verified.out << verified.err);
  CHECK(verified.exit_code == 0);
  CHECK_THAT(verified.out,
             Catch::Contains("wal continuity     ok") && Catch::Contains("pgbackrest verify  ok"));
  const nlohmann::json state =
      nlohmann::json::parse(read_text_file(t.dir / ".pgbackup" / "state.json"));
  CHECK(state["verify"]["success"] == true);

  {  // A WAL segment missing from the repository fails verify, naming it.
    const std::string gap = PgBackRestCluster::shared().switch_wal();
    PgBackRestCluster::shared().switch_wal();
    const SetAside deleted(PgBackRestCluster::shared().archived_segment_file(gap));
    // pgBackRest's own verify does not notice (2.45); the agent does.
    CHECK(PgBackRestCluster::shared().pgbackrest({"verify"}).exit_code == 0);
    const AgentRun bad = t.agent({"verify", incr_label});
    INFO(bad.out << bad.err);
    CHECK(bad.exit_code == 1);
    CHECK_THAT(bad.out, Catch::Contains("wal continuity     FAIL") && Catch::Contains(gap));
    const nlohmann::json after =
        nlohmann::json::parse(read_text_file(t.dir / ".pgbackup" / "state.json"));
    CHECK(after["verify"]["success"] == false);
    CHECK_THAT(t.agent({"list"}).out, Catch::Contains("missing WAL segment: " + gap));
    CHECK(t.agent({"check"}).exit_code == 1);  // no good backup while the gap is there
  }

  {  // A corrupted file inside a backup fails the agent's verify, which names the file, although
     // pgBackRest's own verify exits 0 on it.
    auto& c = PgBackRestCluster::shared();
    const fs::path file = largest_file(c.backup_dir(full));
    REQUIRE(fs::file_size(file) > 64);
    const Corruption corrupt(file, fs::file_size(file) / 2, "pgbackup was here");
    CHECK(c.pgbackrest({"verify"}).exit_code == 0);
    const AgentRun bad = t.agent({"verify", full});
    INFO(bad.out << bad.err);
    CHECK(bad.exit_code == 1);
    // pgBackRest counts the file once in the section of each backup that uses it (the full, its
    // diff, its incr): the full's verify counts its own.
    CHECK_THAT(bad.out, Catch::Contains("wal continuity     ok") &&
                            Catch::Contains("pgbackrest verify  FAIL") &&
                            Catch::Contains("1 invalid files: invalid checksum") &&
                            Catch::Contains(fs::relative(file, c.backup_dir(full)).string()));
    CHECK(state_of(t)["verify"]["success"] == false);
    CHECK(state_of(t)["verify"]["invalid_files"] == 1);
    // The incr references that file: its own proof fails too, with the one file.
    const AgentRun incr_bad = t.agent({"verify", incr_label});
    INFO(incr_bad.out << incr_bad.err);
    CHECK(incr_bad.exit_code == 1);
    CHECK_THAT(incr_bad.out, Catch::Contains("pgbackrest verify  FAIL"));
    CHECK(state_of(t)["verify"]["invalid_files"] == 1);
  }

  {  // Retention offers whole sets: the old full goes with its diff and incr.
    const AgentRun second = t.agent({"backup"});
    REQUIRE(second.exit_code == 0);
    const std::string newest = label_of(second);
    t.write("{daily: 1s, weekly: 1s, monthly: 1s, min_keep: 1}");
    std::this_thread::sleep_for(1100ms);
    const AgentRun dry = t.agent({"prune", "--dry-run"});
    INFO(dry.out << dry.err);
    REQUIRE(dry.exit_code == 0);
    CHECK_THAT(dry.out, Catch::Contains("would delete " + full + " with ") &&
                            Catch::Contains(incr_label) &&
                            Catch::Contains("1 kept, 1 would be deleted"));
    CHECK(info().backups.size() == 4);

    const AgentRun pruned = t.agent({"prune"});
    REQUIRE(pruned.exit_code == 0);
    const auto left = info();
    REQUIRE(left.backups.size() == 1);
    CHECK(left.backups[0].label == newest);
    CHECK_FALSE(fs::exists(record));
    CHECK(t.list().size() == 1);

    // The WAL the kept set needs is still there: the archive starts at or before its first
    // segment, every segment since is present, and the agent proves the set good.
    const std::string kept_start = left.backups[0].archive_start;
    REQUIRE(left.current_database() != nullptr);
    const auto* archive = left.archive_of(left.current_database()->id);
    REQUIRE(archive != nullptr);
    INFO("archive " << archive->min << " .. " << archive->max << ", kept set from " << kept_start);
    CHECK(archive->min <= kept_start);
    CHECK(PgBackRestCluster::shared().wal_continuity_since(kept_start).complete());
    CHECK(t.agent({"verify", newest}).exit_code == 0);
  }
}

TEST_CASE("killing the agent mid-backup leaves a repository the next backup works on",
          "[pgbackrest_engine]") {
  const EngineTarget t;
  insert_rows(20000);
  const nlohmann::json before = t.list();
  std::thread agent([&] { t.agent({"backup"}); });
  // The agent's pgbackrest backup: kill the agent, then pgbackrest itself (a host crash).
  int pgbr = 0;
  for (auto end = std::chrono::steady_clock::now() + 60s;
       pgbr == 0 && std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(20ms)) {
    // This cluster's config in the match: other test binaries run pgbackrest backups too.
    pgbr = find_process({"pgbackrest", "--config=" + PgBackRestCluster::shared().config().string(),
                         "backup", "--type=full"});
  }
  REQUIRE(pgbr != 0);
  std::this_thread::sleep_for(300ms);
  const int agent_pid = find_process({"pgbackup-agent", t.config.string(), "backup"});
  REQUIRE(agent_pid != 0);
  ::kill(agent_pid, SIGKILL);
  const pid_t group = ::getpgid(pgbr);
  if (group > 1 && group != ::getpgrp()) ::kill(-group, SIGKILL);
  agent.join();

  // The killed backup is not counted: pgBackRest lists no partial backup, the catalogue is as
  // it was, and no backup attempt was recorded as a success.
  CHECK(t.list() == before);
  if (fs::exists(t.dir / ".pgbackup" / "state.json") && state_of(t).contains("backup")) {
    CHECK(state_of(t)["backup"]["success"] == false);
  }

  const AgentRun next = t.agent({"backup"});
  INFO(next.out << next.err);
  REQUIRE(next.exit_code == 0);
  CHECK(t.list().size() == before.size() + 1);
  const AgentRun verified = t.agent({"verify", "--latest"});
  INFO(verified.out << verified.err);
  CHECK(verified.exit_code == 0);
  CHECK(PgBackRestCluster::shared().pgbackrest({"check"}).exit_code == 0);
}

TEST_CASE(
    "a backup asked while another pgbackrest backup of the stanza runs waits for it to end, "
    "then takes its own",
    "[pgbackrest_engine]") {
  const EngineTarget t;
  insert_rows(20000);
  const std::size_t before = info().backups.size();
  // A backup started by hand: the agent's own is refused with pgBackRest's lock error at once
  // (it does not read `info` first), waits, and runs again once the lock is free.
  pgbackup::ProcessResult by_hand;
  std::thread bare([&] {
    by_hand = PgBackRestCluster::shared().pgbackrest({"backup", "--type=full"});
  });
  for (auto end = std::chrono::steady_clock::now() + 60s;
       !info().backup_lock_held && std::chrono::steady_clock::now() < end;) {
    std::this_thread::sleep_for(20ms);
  }
  const AgentRun r = t.agent({"backup", "--type", "incr"});
  bare.join();
  INFO(r.out << r.err << by_hand.err);
  CHECK(by_hand.exit_code == 0);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.err,
             Catch::Contains("is already running") && Catch::Contains("waiting for it to end"));
  // Its record is of its own incr, built on the full taken by hand.
  const auto now = info();
  REQUIRE(now.backups.size() == before + 2);
  CHECK(label_of(r) == now.backups.back().label);
  CHECK(now.backups.back().type == pgbackup::BackupType::incr);
  CHECK(now.backups.back().prior == now.backups[before].label);
  CHECK(fs::exists(t.dir / ".pgbackup" / "pgbackrest" / (label_of(r) + ".json")));
}

TEST_CASE(
    "the daemon exports a pgbackrest target's archive: engine, backups by type, RPO exposure, "
    "stanza status, and a WAL gap at the next probe",
    "[pgbackrest_engine]") {
  const EngineTarget t;
  insert_rows(100);
  REQUIRE(t.agent({"backup"}).exit_code == 0);
  // A segment archived after the backup, so that the recovery window ends later than it.
  const std::string gap = PgBackRestCluster::shared().switch_wal();
  PgBackRestCluster::shared().switch_wal();

  const Daemon daemon(t.config, free_port());
  const std::string body =
      daemon.wait_for_metric(R"(pgbackup_wal_archive_gaps\{target="physical"\} 0\n)");
  INFO(body);
  CHECK_THAT(body,
             Catch::Contains(R"(pgbackup_target_info{engine="pgbackrest",target="physical"} 1)"));
  CHECK_THAT(body, Catch::Contains(R"(pgbackup_pgbackrest_stanza_status{target="physical"} 0)"));
  CHECK_THAT(body, Catch::Contains(R"(pgbackup_rpo_target_seconds{target="physical"} 300)"));
  const auto value_of = [&](const std::string& series) { return metric_value(body, series); };
  const double exposure = value_of(R"(pgbackup_rpo_exposure_seconds{target="physical"})");
  CHECK(exposure >= 0);
  CHECK(exposure < 300);  // archiving works: what is not in the repository is minutes old at most
  CHECK(value_of(R"(pgbackup_wal_archive_failures_total{target="physical"})") == 0);
  const double full_at = value_of(
      R"(pgbackup_backup_type_last_success_timestamp_seconds{target="physical",type="full"})");
  CHECK(full_at > 0);
  CHECK(value_of(R"(pgbackup_recovery_window_end_timestamp_seconds{target="physical"})") >=
        value_of(R"(pgbackup_recovery_window_start_timestamp_seconds{target="physical"})"));

  // Archiving breaks (a wrong archive_command) and a segment disappears from the repository:
  // the next probe (every 30 s) counts the gap and pg_stat_archiver's failures, and the RPO
  // exposure has grown with the clock since the probe above.
  const BrokenArchiving broken;
  const long failed = BrokenArchiving::fail_once(BrokenArchiving::failed_count());
  const SetAside deleted(PgBackRestCluster::shared().archived_segment_file(gap));
  const std::string later =
      daemon.wait_for_metric(R"(pgbackup_wal_archive_gaps\{target="physical"\} [1-9])", 90s);
  INFO(later);
  CHECK(metric_value(later, R"(pgbackup_wal_archive_failures_total{target="physical"})") >=
        static_cast<double>(failed));
  CHECK(metric_value(later, R"(pgbackup_wal_archive_failures_total{target="physical"})") > 0);
  const double grown = metric_value(later, R"(pgbackup_rpo_exposure_seconds{target="physical"})");
  CHECK(grown >= exposure + 20);  // the probes are 30 s apart; nothing was archived since
  CHECK(metric_value(later, R"(pgbackup_wal_unarchived_bytes{target="physical"})") > 0);
}

TEST_CASE("pgbackrest config errors and a pg_dump target asked for an incr",
          "[pgbackrest_engine]") {
  const fs::path root = make_temp_dir("pgbr-engine-config");
  const fs::path config = root / "c.yml";
  write_text(config,
             "targets:\n  - name: a\n    engine: pgbackrest\n"
             "    database: {user: u, dbname: d}\n    backup: {dir: " +
                 (root / "a").string() + "}\n");
  AgentRun r = run_agent({"--config", config.string(), "config-check"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("c.yml:3:") &&
                        Catch::Contains("engine is pgbackrest but the target has no pgbackrest "
                                        "section; hint: add"));

  write_text(config,
             "targets:\n  - name: a\n    database: {user: u, dbname: d}\n"
             "    backup: {dir: " +
                 (root / "a").string() + ", schedule: {full: \"0 2 * * *\"}}\n");
  r = run_agent({"--config", config.string(), "config-check"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("backup.schedule gives a schedule per backup type"));

  write_text(config,
             "targets:\n  - name: a\n    database: {user: u, dbname: d}\n"
             "    backup: {dir: " +
                 (root / "a").string() + "}\n");
  r = run_agent({"--config", config.string(), "backup", "--type", "incr"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("uses pg_dump, which takes only full backups, not incr"));
  CHECK_FALSE(fs::exists(root / "a" / ".pgbackup" / "state.json"));  // no attempt recorded
  r = run_agent({"--config", config.string(), "backup", "--type", "weekly"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--type must be full, diff or incr"));
}

TEST_CASE(
    "a pgbackrest backup that outlasts backup.timeout is stopped, not counted, and the next "
    "backup works",
    "[pgbackrest_engine]") {
  EngineTarget t("{min_keep: 1}", "3s");
  // A backup the daemon above started may still be finishing.
  for (auto end = std::chrono::steady_clock::now() + 90s;
       info().backup_lock_held && std::chrono::steady_clock::now() < end;) {
    std::this_thread::sleep_for(500ms);
  }
  const nlohmann::json before = t.list();
  {
    // With archiving broken, pgbackrest backup waits for its last segment to reach the
    // repository (archive-timeout, 60 s by default): the agent's timeout stops it first.
    const BrokenArchiving broken;
    const auto started = std::chrono::steady_clock::now();
    const AgentRun r = t.agent({"backup"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("pgbackrest backup did not finish within 3s"));
    CHECK(std::chrono::steady_clock::now() - started < 30s);
    CHECK(state_of(t)["backup"]["success"] == false);
    CHECK(t.list() == before);
  }
  t.timeout = "5m";
  t.write("{min_keep: 1}");
  const AgentRun next = t.agent({"backup"});
  INFO(next.out << next.err);
  REQUIRE(next.exit_code == 0);
  CHECK(t.list().size() == before.size() + 1);
  CHECK(PgBackRestCluster::shared().pgbackrest({"check"}).exit_code == 0);
}
