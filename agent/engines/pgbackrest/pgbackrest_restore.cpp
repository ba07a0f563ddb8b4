// The pgBackRest engine's part of a production restore (engines/pgbackrest/pgbackrest_restore.h).
#include "agent/engines/pgbackrest/pgbackrest_restore.h"
#include <pqxx/pqxx>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <thread>

#include "agent/core/errors.h"
#include "agent/core/file_io.h"
#include "agent/core/text.h"
#include "agent/core/units.h"
#include "agent/engines/pgbackrest/repo_path.h"
#include "agent/engines/pgbackrest/restore_args.h"
#include "agent/engines/pgbackrest/restore_set.h"
#include "agent/engines/pgbackrest/wal.h"

namespace pgbackup {

using pgbackrest::InfoArchive;
using pgbackrest::InfoBackup;
using pgbackrest::InfoDatabase;
using pgbackrest::PgBackRestCli;
using pgbackrest::PgBackRestSettings;

namespace {

// How long `info` may take, and how often the wait for promotion looks.
constexpr std::chrono::minutes kLookTimeout{5};
constexpr std::chrono::milliseconds kPromotionPoll{500};

std::string window_text(const RecoveryWindow& w) {
  if (!w.start || !w.end) return "(none: no good backup)";
  return format_target_time(*w.start) + " .. " + format_target_time(*w.end);
}

}  // namespace

PgBackRestRestorer::PgBackRestRestorer(const BackupEngine& engine, const TargetConfig& target,
                                       PgBackRestSettings settings, const RestoreRequest& request,
                                       RestoreJournal& journal)
    : engine_(engine),
      target_(target),
      settings_(std::move(settings)),
      request_(request),
      journal_(journal),
      endpoint_(target.database) {
  // What only pg_dump restores take: a usage error, before anything is looked at.
  if (request.file) {
    throw ConfigError("restore of a pgbackrest target takes --time, --lsn or --latest, not a FILE");
  }
  if (!request.tables.empty() || !request.dbname.empty() || !request.create_roles) {
    throw ConfigError(
        "--table, --dbname and --no-roles are for pg_dump targets; a pgbackrest restore "
        "brings back the whole cluster");
  }
  journal_.database = endpoint_.describe();
}

PgBackRestCli PgBackRestRestorer::cli(std::chrono::milliseconds timeout) const {
  return PgBackRestCli(settings_, {timeout, journal_.ctx().cancel});
}

std::string PgBackRestRestorer::target_text() const {
  const RecoveryTarget& t = request_.recovery_target;
  switch (t.kind) {
    case RecoveryTarget::Kind::time:
      return "--time " + format_target_time(t.time);
    case RecoveryTarget::Kind::lsn:
      return "--lsn " + t.lsn;
    case RecoveryTarget::Kind::latest:
      break;
  }
  return "--latest";
}

pgbackrest::RestoreRequest PgBackRestRestorer::restore_request() const {
  pgbackrest::RestoreRequest r;
  r.pg_path = data_dir_;
  r.target = request_.recovery_target;
  r.set = set_.label;
  r.delta = !request_.pg_path;              // production: reuse what is there
  r.archive_mode_off = !!request_.pg_path;  // a second cluster never archives into the stanza
  return r;
}

std::string PgBackRestRestorer::data_dir_text() const {
  return data_dir_.empty() ? "the data directory of stanza " + settings_.stanza : data_dir_;
}

void PgBackRestRestorer::check() {
  const std::vector<CatalogEntry> entries = engine_.catalog(nullptr);
  window_ = engine_.recovery_window(entries);
  const RecoveryTarget& t = request_.recovery_target;
  refuse_if(check_in_window(t, window_));
  stanza_ = pgbackrest::parse_stanza_info(cli(kLookTimeout).info_json(), settings_.stanza);
  std::set<std::string> good;
  for (const CatalogEntry& e : entries) {
    if (e.good()) good.insert(e.name());
  }
  const InfoBackup* set = nullptr;
  if (t.kind == RecoveryTarget::Kind::lsn) {
    const std::string refusal = pgbackrest::check_lsn_in_window(stanza_, good, lsn_value(t.lsn));
    refuse_if(refusal.empty() ? "" : refusal + " (in time: " + window_text(window_) + ")");
    set = pgbackrest::newest_set_before_lsn(stanza_, good, lsn_value(t.lsn));
  } else if (const CatalogEntry* chosen = choose_backup(entries, t)) {
    set = stanza_.backup(chosen->name());
  }
  if (!set) {
    throw OperationError("no good backup of stanza " + settings_.stanza + " ends before " +
                         target_text() + " (the recovery window is " + window_text(window_) +
                         "); nothing was changed");
  }
  set_ = *set;
  if (const InfoDatabase* db = stanza_.current_database()) system_id_ = db->system_id;
  if (const InfoArchive* a = stanza_.current_database()
                                 ? stanza_.archive_of(stanza_.current_database()->id)
                                 : nullptr) {
    archive_end_ = a->max;
  }
  const std::string conf =
      settings_.config.empty() ? pgbackrest::kDefaultConfigFile : settings_.config;
  try {
    production_dir_ =
        pgbackrest::option_in_config(read_file(conf), settings_.stanza, "pg1-path").value_or("");
  } catch (const std::exception&) {
    production_dir_.clear();  // unreadable here (pgBackRest runs as another user)
  }
  data_dir_ = request_.pg_path ? request_.pg_path->string() : production_dir_;
  if (data_dir_.empty()) {
    throw OperationError("cannot read pg1-path of stanza " + settings_.stanza + " in " + conf +
                         ": the agent must know the data directory a restore replaces; nothing "
                         "was changed (hint: make the file readable by the agent's user)");
  }
  if (request_.pg_path) check_pg_path();
  probe_database();
  journal_.audit(
      "check", "success",
      {{"set", set_.label}, {"recovery_target", target_text()}, {"window", window_text(window_)}});
}

// Refused before anything changes: a target outside the recovery window, naming it.
void PgBackRestRestorer::refuse_if(const std::string& refusal) const {
  if (refusal.empty()) return;
  journal_.audit("check", "refused", {{"error", refusal}, {"recovery_target", target_text()}});
  throw OperationError(refusal +
                       "; nothing was changed (hint: pgbackup-agent list shows the "
                       "backups; the window runs from the oldest good backup's end to "
                       "the archive's newest WAL)");
}

void PgBackRestRestorer::check_pg_path() const {
  const fs::path dir = *request_.pg_path;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  if (!fs::is_directory(dir, ec)) {
    throw ConfigError("--pg-path " + dir.string() + " is not a directory");
  }
  if (!fs::is_empty(dir, ec)) {
    throw OperationError("--pg-path " + dir.string() +
                         " is not empty; nothing was changed (hint: --pg-path restores into a "
                         "new, empty directory; to replace production, restore without it)");
  }
}

// Whether production answers decides the safety backup; a server that is not the stanza's
// cluster is refused (restoring its backup over another cluster would destroy that one).
void PgBackRestRestorer::probe_database() {
  std::string id;
  try {
    const auto conn = endpoint_.connect();
    pqxx::read_transaction tx(*conn);
    id = tx.exec1("SELECT system_identifier FROM pg_control_system()")[0].as<std::string>();
    tx.commit();
  } catch (const std::exception& e) {
    unreachable_ = e.what();
    return;
  }
  if (!request_.pg_path && system_id_ != 0 && id != std::to_string(system_id_)) {
    throw OperationError("the database " + endpoint_.describe() + " has system identifier " + id +
                         ", not stanza " + settings_.stanza + "'s (" + std::to_string(system_id_) +
                         "): it is another cluster; nothing was changed (hint: check the "
                         "target's database and pgbackrest sections)");
  }
}

std::string PgBackRestRestorer::no_safety_reason() const {
  if (request_.pg_path) return "--pg-path: production is not changed";
  if (!unreachable_.empty()) return "the database is unreachable: " + unreachable_;
  return "";
}

std::string PgBackRestRestorer::safety_backup_place() const {
  return "an incr into stanza " + settings_.stanza;
}

void PgBackRestRestorer::print_plan_source() const {
  std::printf("  into           %s (%s)\n", data_dir_text().c_str(),
              request_.pg_path ? "a new directory; production is not changed"
                               : "the production cluster: its contents are REPLACED");
  std::printf("  backup set     %s (%s), ended %s, %s\n", set_.label.c_str(),
              backup_type_name(set_.type), format_iso8601(set_.stop).c_str(),
              format_bytes(set_.size).c_str());
  std::printf("  target         %s (recovery window %s)\n", target_text().c_str(),
              window_text(window_).c_str());
  std::printf("  WAL to replay  from %s to the target (the archive holds up to %s)\n",
              set_.archive_start.c_str(), archive_end_.empty() ? "?" : archive_end_.c_str());
}

void PgBackRestRestorer::print_plan_method() const {
  std::printf("  restore        %s\n",
              join(cli(kLookTimeout).restore_argv(restore_request()), " ").c_str());
  if (request_.pg_path) {
    std::printf("  then           nothing is started there; the agent prints how to start it\n");
  }
}

nlohmann::json PgBackRestRestorer::plan_details() const {
  return {{"set", set_.label},
          {"recovery_target", target_text()},
          {"window", window_text(window_)},
          {"data_dir", data_dir_},
          {"pg_path", request_.pg_path.has_value()}};
}

nlohmann::json PgBackRestRestorer::identity() const {
  return {{"set", set_.label}, {"recovery_target", target_text()}};
}

// --pg-path: created 0700 when missing and, when the agent runs as root, given to the owner of
// the production data directory (pgBackRest runs as the PGDATA owner and must write there).
void PgBackRestRestorer::make_pg_path() const {
  const fs::path dir = *request_.pg_path;
  std::error_code ec;
  if (fs::exists(dir, ec)) return;
  create_private_dir(dir);
  struct stat owner {};
  if (::geteuid() != 0 || production_dir_.empty() || ::stat(production_dir_.c_str(), &owner) != 0) {
    return;
  }
  if (::chown(dir.c_str(), owner.st_uid, owner.st_gid) != 0) {
    throw OperationError("cannot give " + dir.string() + " to the owner of " + production_dir_ +
                         ": " + std::strerror(errno));
  }
}

void PgBackRestRestorer::put_back() {
  journal_.begin("pgbackrest_restore");
  journal_.check_stopping();
  if (request_.pg_path) make_pg_path();
  const std::vector<std::string> argv = cli(target_.backup.timeout).restore_argv(restore_request());
  std::printf("pgbackrest restore of set %s to %s into %s...\n", set_.label.c_str(),
              target_text().c_str(), data_dir_text().c_str());
  std::fflush(stdout);
  restore_started_ = true;
  cli(target_.backup.timeout).restore(restore_request());
  std::printf("pgbackrest restore: ok\n");
  journal_.audit("pgbackrest_restore", "success", {{"set", set_.label}, {"command", argv}});
}

void PgBackRestRestorer::check_started() {
  if (request_.pg_path) return;
  wait_for_promotion();
  check_restored();
}

// After start_command: PostgreSQL replays WAL to the target, then promotes (pg_is_in_recovery()
// false). Up to backup.timeout.
void PgBackRestRestorer::wait_for_promotion() {
  journal_.begin("promotion");
  std::printf("waiting for %s to replay WAL to the target and promote...\n",
              endpoint_.describe().c_str());
  std::fflush(stdout);
  const Clock& clock = journal_.ctx().clock;
  const SteadyTime started = clock.steady_now();
  std::string last;
  while (true) {
    journal_.check_stopping();
    try {
      const auto conn = endpoint_.connect();
      pqxx::read_transaction tx(*conn);
      if (!tx.exec1("SELECT pg_is_in_recovery()")[0].as<bool>()) break;
      last = "still in recovery";
    } catch (const std::exception& e) {
      last = e.what();
    }
    if (clock.steady_now() - started > target_.backup.timeout) {
      throw OperationError("PostgreSQL did not promote within " +
                           format_duration(target_.backup.timeout) + " (" + last +
                           "; hint: its log says how far the replay got)");
    }
    std::this_thread::sleep_for(kPromotionPoll);
  }
  const double seconds = std::chrono::duration<double>(clock.steady_now() - started).count();
  std::printf("promoted after %.1fs\n", seconds);
  journal_.audit("promotion", "success", {{"seconds", seconds}});
}

// The restored cluster is the stanza's (system identifier) and on a new timeline.
void PgBackRestRestorer::check_restored() {
  journal_.begin("checks");
  const auto conn = endpoint_.connect();
  pqxx::read_transaction tx(*conn);
  const std::string id =
      tx.exec1("SELECT system_identifier FROM pg_control_system()")[0].as<std::string>();
  const std::string wal =
      tx.exec1("SELECT pg_walfile_name(pg_current_wal_lsn())")[0].as<std::string>();
  tx.commit();
  if (system_id_ != 0 && id != std::to_string(system_id_)) {
    throw OperationError("the restored cluster has system identifier " + id + ", not stanza " +
                         settings_.stanza + "'s (" + std::to_string(system_id_) + ")");
  }
  const std::uint32_t before = pgbackrest::timeline_of(set_);
  const std::optional<pgbackrest::WalSegment> now = pgbackrest::parse_wal_segment(wal);
  if (!now || now->timeline <= before) {
    throw OperationError("the restored cluster is on timeline " +
                         std::to_string(now ? now->timeline : 0) + ", not after the backup's " +
                         std::to_string(before) + ": it did not promote from the archive");
  }
  std::printf("checks: connected, system identifier %s (the stanza's), timeline %u (was %u)\n",
              id.c_str(), now->timeline, before);
  journal_.audit(
      "checks", "success",
      {{"system_identifier", id}, {"timeline", now->timeline}, {"timeline_before", before}});
}

std::string PgBackRestRestorer::done_text() const {
  if (!request_.pg_path) {
    return "restored " + endpoint_.describe() + " to " + target_text() + " from set " + set_.label;
  }
  const std::string dir = request_.pg_path->string();
  return "restored set " + set_.label + " to " + target_text() + " into " + dir +
         " (not started; archive_mode is off there, so it never archives into stanza " +
         settings_.stanza + ")\n  to start it (as the owner of " + dir +
         ", on a free port): pg_ctl -D " + dir + " -l " + dir +
         "/restore.log -o \"-p PORT -k /tmp\" start\n"
         "  it replays WAL to the target and promotes; psql -h 127.0.0.1 -p PORT then reads it";
}

std::string PgBackRestRestorer::state_after_failure(const std::string& step) {
  const std::string dir = data_dir_text();
  if (!restore_started_) return dir + " was not changed (the restore did not start)";
  if (step == "pgbackrest_restore") {
    return dir +
           " may be PARTLY RESTORED: do not start PostgreSQL on it as it is (a retry, "
           "pgbackrest restore --delta, completes it)";
  }
  return dir + " was restored to " + target_text() + " and PostgreSQL was started on it, but " +
         (step == "promotion" ? "it did not promote" : "the checks failed") +
         ": look at its log before letting the application in";
}

std::string PgBackRestRestorer::go_back_command(const std::filesystem::path& safety) const {
  return "pgbackup-agent restore --target " + target_.name + " --latest (the safety backup " +
         safety.filename().string() +
         " and the WAL archived after it hold the data as it was before this restore)";
}

std::string PgBackRestRestorer::retry_command() const {
  return "pgbackup-agent restore --target " + target_.name + " " + target_text() +
         (request_.pg_path ? " --pg-path " + request_.pg_path->string() : "");
}

std::string PgBackRestRestorer::start_failure_text(const std::string& error) const {
  return "the data directory " + data_dir_text() + " was restored to " + target_text() + ", but " +
         error + "\n  start PostgreSQL yourself: it replays WAL to the target and promotes\n";
}

}  // namespace pgbackup
