// The pgBackRest engine's parts (agent/engines/pgbackrest/) against real pgBackRest 2.45 and a
// PostgreSQL 15 cluster archiving into a stanza of its own (tests/support/pgbackrest_cluster.h).
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "agent/core/text.h"
#include "agent/engines/pgbackrest/archiver.h"
#include "agent/engines/pgbackrest/cli.h"
#include "agent/engines/pgbackrest/info.h"
#include "agent/engines/pgbackrest/wal.h"
#include "tests/support/pgbackrest_cluster.h"

using namespace pgtest;
using namespace pgbackup::pgbackrest;
using pgbackup::BackupType;

namespace {

InfoStanza read_info(const PgBackRestCli& cli) {
  return parse_stanza_info(cli.info_json(), PgBackRestCluster::kStanza);
}

// A full backup taken now, as info records it.
InfoBackup take_full(const PgBackRestCli& cli) {
  const InfoStanza before = read_info(cli);
  cli.backup(BackupType::full);
  const auto taken = new_backups(before, read_info(cli));
  REQUIRE(taken.size() == 1);
  return taken.front();
}

void add_rows(PgBackRestCluster& c, int rows) {
  c.exec("CREATE TABLE IF NOT EXISTS metrics (id bigint, v text)");
  c.exec("INSERT INTO metrics SELECT g, md5(g::text) FROM generate_series(1, " +
         std::to_string(rows) + ") g");
}

WalSegment segment(const std::string& name) {
  const auto s = parse_wal_segment(name, segments_per_log());
  REQUIRE(s.has_value());
  return *s;
}

}  // namespace

TEST_CASE(
    "full, diff and incr backups through the CLI wrapper are in info with their types, "
    "references, the server's system id, sizes and WAL ranges",
    "[pgbackrest]") {
  auto& c = PgBackRestCluster::shared();
  const PgBackRestCli cli(c.settings());
  const InfoStanza before = read_info(cli);
  add_rows(c, 20000);
  cli.backup(BackupType::full);
  add_rows(c, 2000);
  cli.backup(BackupType::diff);
  add_rows(c, 200);
  cli.backup(BackupType::incr);
  const InfoStanza after = read_info(cli);

  CHECK(after.status_code == 0);
  CHECK(after.status_message == "ok");
  const auto taken = new_backups(before, after);
  REQUIRE(taken.size() == 3);
  const InfoBackup &full = taken[0], &diff = taken[1], &incr = taken[2];
  CHECK(full.type == BackupType::full);
  CHECK(diff.type == BackupType::diff);
  CHECK(incr.type == BackupType::incr);
  CHECK(full.prior.empty());
  CHECK(full.references.empty());
  CHECK(diff.prior == full.label);
  CHECK(diff.references == std::vector<std::string>{full.label});
  CHECK(incr.prior == diff.label);
  CHECK(std::find(incr.references.begin(), incr.references.end(), full.label) !=
        incr.references.end());

  // system-id exceeds 2^53: compared as text with what the server says, digit for digit.
  REQUIRE(after.current_database() != nullptr);
  CHECK(std::to_string(after.current_database()->system_id) == c.system_identifier());
  CHECK(after.current_database()->version == "15");

  for (const InfoBackup* b : {&full, &diff, &incr}) {
    INFO(b->label);
    CHECK(b->size > 0);
    CHECK(b->delta > 0);
    CHECK(b->repository_size > 0);
    CHECK(b->repository_delta > 0);
    CHECK(b->delta <= b->size);
    CHECK(b->start <= b->stop);
    CHECK(b->error_known);
    CHECK_FALSE(b->error);
    CHECK_FALSE(b->lsn_start.empty());
    CHECK(segment(b->archive_start) <= segment(b->archive_stop));
    CHECK(b->db_id == after.current_database()->id);
  }
  // A diff copies what changed since the full, not the whole database again.
  CHECK(diff.delta < full.delta);
  CHECK(full.archive_stop < diff.archive_start);
  const InfoArchive* archive = after.archive_of(after.current_database()->id);
  REQUIRE(archive != nullptr);
  CHECK(archive->id == "15-1");
  CHECK(archive->min <= full.archive_start);
  CHECK(archive->max >= incr.archive_stop);
}

TEST_CASE(
    "a WAL segment deleted from the repository is found by the continuity check, although "
    "pgbackrest verify exits 0 and reports nothing",
    "[pgbackrest]") {
  auto& c = PgBackRestCluster::shared();
  const PgBackRestCli cli(c.settings());
  const InfoBackup full = take_full(cli);
  c.switch_wal();
  const std::string doomed = c.switch_wal();
  const std::string newest = c.switch_wal();
  REQUIRE(c.wal_continuity_since(full.archive_start).complete());

  const SetAside deleted(c.archived_segment_file(doomed));
  const WalContinuity result = c.wal_continuity_since(full.archive_start);
  CHECK_FALSE(result.complete());
  CHECK(result.missing == 1);
  REQUIRE(result.gaps.size() == 1);
  CHECK(wal_segment_name(result.gaps[0].first) == doomed);
  CHECK(missing_segment_names(result, 10) == std::vector<std::string>{doomed});
  REQUIRE(result.newest.has_value());
  CHECK(wal_segment_name(*result.newest) >= newest);

  // pgBackRest's own verify neither fails nor counts the missing segment.
  const auto raw = c.pgbackrest({"verify", "--verbose", "--log-level-console=info"});
  CHECK(raw.exit_code == 0);
  const VerifyVerdict verdict = judge_verify_output(raw.out + raw.err, raw.exit_code);
  INFO(raw.out + raw.err);
  CHECK(verdict.ok);
  CHECK(verdict.invalid_files == 0);
}

TEST_CASE(
    "a corrupted file inside a backup makes the verify judge report an invalid file, although "
    "pgbackrest verify exits 0",
    "[pgbackrest]") {
  auto& c = PgBackRestCluster::shared();
  const PgBackRestCli cli(c.settings());
  const InfoBackup full = take_full(cli);
  const VerifyVerdict clean = cli.verify();
  INFO(pgbackup::join(clean.reasons, "\n"));
  REQUIRE(clean.ok);

  const fs::path file = largest_file(c.backup_dir(full.label));
  REQUIRE(fs::file_size(file) > 64);
  const Corruption corrupt(file, fs::file_size(file) / 2, "pgbackup was here");
  const auto raw = c.pgbackrest({"verify", "--verbose", "--log-level-console=info"});
  CHECK(raw.exit_code == 0);

  const VerifyVerdict verdict = cli.verify();
  CHECK_FALSE(verdict.ok);
  CHECK(verdict.invalid_files == 1);
  CHECK(verdict.invalid_backups == std::vector<std::string>{full.label + ": invalid"});
  const std::string relative = fs::relative(file, c.backup_dir(full.label).parent_path());
  const bool named = std::any_of(
      verdict.reasons.begin(), verdict.reasons.end(),
      [&](const std::string& r) { return r.find("'" + relative + "'") != std::string::npos; });
  INFO(pgbackup::join(verdict.reasons, "\n"));
  CHECK(named);
}

TEST_CASE(
    "pgbackrest runs through the argv prefix [runuser, -u, postgres, --, pgbackrest] as root, "
    "and a failure names pgbackrest, the verb, its exit status and its error",
    "[pgbackrest]") {
  auto& c = PgBackRestCluster::shared();
  if (::geteuid() != 0) {
    WARN("not root: the runuser prefix is not tried");
    return;
  }
  PgBackRestSettings settings = c.settings();
  settings.command = {"runuser", "-u", "postgres", "--", "pgbackrest"};
  const PgBackRestCli cli(settings);
  CHECK(cli.argv("check") == std::vector<std::string>{"runuser", "-u", "postgres", "--",
                                                      "pgbackrest",
                                                      "--config=" + c.config().string(),
                                                      "--stanza=" + c.stanza(), "check"});
  CHECK(cli.argv("info", {"--output=json"}).back() == "--output=json");
  CHECK(cli.argv("info")[7] == "--repo=1");
  CHECK_NOTHROW(cli.check());
  CHECK(read_info(cli).status_code == 0);

  settings.stanza = "no-such-stanza";
  const PgBackRestCli wrong(settings);
  try {
    wrong.check();
    FAIL("check of a stanza that does not exist succeeded");
  } catch (const PgBackRestError& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(message.rfind("pgbackrest check exited with status ", 0) == 0);
    CHECK(message.find("ERROR: [") != std::string::npos);
    CHECK(e.exit_code() > 0);
  }
}

TEST_CASE(
    "a backup cancelled mid-copy (the agent shutting down) leaves the repository consistent: "
    "the next backup works and info lists no broken backup",
    "[pgbackrest]") {
  auto& c = PgBackRestCluster::shared();
  const PgBackRestCli cli(c.settings());
  take_full(cli);
  const InfoStanza before = read_info(cli);
  add_rows(c, 50000);
  // Cancelled as soon as pgBackRest has made the new backup's directory: it is copying then.
  std::atomic<bool> cancel{false};
  const fs::path backups = c.repo() / "backup" / c.stanza();
  std::thread watcher([&] {
    for (int i = 0; i < 3000 && !cancel; ++i) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(backups, ec)) {
        const std::string name = e.path().filename().string();
        if (e.is_directory() && name.ends_with("F") && before.backup(name) == nullptr) {
          cancel = true;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  const PgBackRestCli stopped(c.settings(), RunLimits{std::chrono::minutes(2), &cancel});
  try {
    stopped.backup(BackupType::full);
    cancel = true;
    watcher.join();
    FAIL("the full backup finished before it could be cancelled");
  } catch (const PgBackRestError& e) {
    cancel = true;
    watcher.join();
    INFO(e.what());
    CHECK(std::string(e.what()).find("pgbackrest backup was stopped") == 0);
    CHECK(e.exit_code() == -1);
  }
  CHECK(new_backups(before, read_info(cli)).empty());
  cli.backup(BackupType::incr);
  const auto taken = new_backups(before, read_info(cli));
  REQUIRE(taken.size() == 1);
  CHECK(taken[0].type == BackupType::incr);
  CHECK_FALSE(taken[0].error);
  const VerifyVerdict verdict = cli.verify();
  INFO(pgbackup::join(verdict.reasons, "\n"));
  CHECK(verdict.ok);

  // A timeout stops pgBackRest the same way (1 ms: it cannot have finished).
  const PgBackRestCli hurried(c.settings(), RunLimits{std::chrono::milliseconds(1), nullptr});
  CHECK_THROWS_WITH(hurried.info_json(),
                    Catch::StartsWith("pgbackrest info did not finish within"));
}

TEST_CASE("expire --set removes a full backup and the backups built on it, and keeps the rest",
          "[pgbackrest]") {
  auto& c = PgBackRestCluster::shared();
  const PgBackRestCli cli(c.settings());
  const InfoBackup a = take_full(cli);
  add_rows(c, 100);
  const InfoStanza before_incr = read_info(cli);
  cli.backup(BackupType::incr);
  const InfoBackup a_incr = new_backups(before_incr, read_info(cli)).at(0);
  const InfoBackup b = take_full(cli);

  cli.expire_set(a.label);
  const InfoStanza after = read_info(cli);
  CHECK(after.backup(a.label) == nullptr);
  CHECK(after.backup(a_incr.label) == nullptr);
  CHECK(after.backup(b.label) != nullptr);
  CHECK_FALSE(fs::exists(c.backup_dir(a.label)));
}

namespace {

// pg_stat_archiver and pg_current_wal_lsn() of the cluster, assessed at the server's now().
ArchiverAssessment assess(PgBackRestCluster& c) {
  pqxx::connection conn(c.pg().connection_string("postgres"));
  pqxx::nontransaction tx(conn);
  const pqxx::row r = tx.exec1(
      "SELECT archived_count, coalesce(last_archived_wal, ''), "
      "extract(epoch FROM last_archived_time)::float8, failed_count, "
      "coalesce(last_failed_wal, ''), extract(epoch FROM last_failed_time)::float8, "
      "pg_current_wal_lsn()::text, extract(epoch FROM now())::float8 FROM pg_stat_archiver");
  ArchiverStats s;
  s.archived_count = r[0].as<std::int64_t>();
  s.last_archived_wal = r[1].as<std::string>();
  if (!r[2].is_null()) s.last_archived_time = pgbackup::from_unix_seconds(r[2].as<double>());
  s.failed_count = r[3].as<std::int64_t>();
  s.last_failed_wal = r[4].as<std::string>();
  if (!r[5].is_null()) s.last_failed_time = pgbackup::from_unix_seconds(r[5].as<double>());
  return assess_archiver(s, parse_lsn(r[6].as<std::string>()).value(),
                         pgbackup::from_unix_seconds(r[7].as<double>()));
}

// Waits (up to 10 s) until pg_stat_archiver has counted `segment`: the archiver updates it
// after archive-push has put the file in the repository.
void wait_for_stats(PgBackRestCluster& c, const std::string& segment) {
  for (int i = 0; i < 100; ++i) {
    if (c.query_value("SELECT last_archived_wal FROM pg_stat_archiver") >= segment) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL("pg_stat_archiver did not count " + segment + " within 10 s");
}

}  // namespace

TEST_CASE(
    "archiving health from the real pg_stat_archiver: nothing unarchived after a switch, bytes "
    "after writes, and a broken archive_command is failing with a growing exposure",
    "[pgbackrest]") {
  auto& c = PgBackRestCluster::shared();
  // Background WAL (autovacuum of earlier tests' rows) may follow a switch: a few tries.
  ArchiverAssessment clean;
  for (int i = 0; i < 5 && clean.unarchived_bytes != 0u; ++i) {
    wait_for_stats(c, c.switch_wal());
    clean = assess(c);
  }
  CHECK(clean.unarchived_bytes == 0u);
  CHECK(clean.rpo_exposure == std::chrono::seconds(0));
  CHECK_FALSE(clean.failing);

  add_rows(c, 1000);
  const ArchiverAssessment written = assess(c);
  REQUIRE(written.unarchived_bytes.has_value());
  CHECK(*written.unarchived_bytes > 0);
  CHECK(written.rpo_exposure.has_value());

  c.exec("ALTER SYSTEM SET archive_command = 'false'");
  c.exec("SELECT pg_reload_conf()");
  const std::int64_t failed_before = written.failed_count;
  c.exec("SELECT pg_logical_emit_message(false, 'pgbackup-test', 'broken')");
  c.exec("SELECT pg_switch_wal()");
  ArchiverAssessment broken = assess(c);
  for (int i = 0; i < 100 && broken.failed_count == failed_before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    broken = assess(c);
  }
  add_rows(c, 1000);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const ArchiverAssessment later = assess(c);
  c.exec("ALTER SYSTEM RESET archive_command");
  c.exec("SELECT pg_reload_conf()");

  CHECK(broken.failed_count > failed_before);
  CHECK(broken.failing);
  REQUIRE(later.unarchived_bytes.has_value());
  CHECK(*later.unarchived_bytes > 16u * 1024 * 1024);  // the switched segment and more
  REQUIRE(later.rpo_exposure.has_value());
  REQUIRE(broken.rpo_exposure.has_value());
  CHECK(*later.rpo_exposure > *broken.rpo_exposure);
  // Archiving resumes once the command is fixed: the stuck segment and the next reach the repo.
  wait_for_stats(c, c.switch_wal());
  CHECK_FALSE(assess(c).failing);
}
