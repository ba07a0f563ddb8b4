#include "agent/engines/pgbackrest/pgbackrest_engine.h"

#include <spdlog/spdlog.h>

#include <set>
#include <thread>

#include "agent/catalog/backup_dir.h"
#include "agent/core/errors.h"
#include "agent/core/file_io.h"
#include "agent/engines/pgbackrest/pgbackrest_restore.h"
#include "agent/engines/pgbackrest/pgbackrest_restore_test.h"
#include "agent/engines/pgbackrest/repo_path.h"
#include "agent/engines/pgbackrest/scratch_cluster.h"

namespace pgbackup {

using namespace pgbackrest;

namespace {

// How long `info` and `repo-ls` may take (they read the repository's small files).
constexpr std::chrono::minutes kLookTimeout{5};

PgBackRestSettings settings_of(const TargetConfig& t) {
  PgBackRestSettings s;
  const PgBackRestConfig& c = t.pgbackrest.value_or(PgBackRestConfig{});
  s.command = c.command;
  s.config = c.config.string();
  s.stanza = c.stanza;
  s.repo = c.repo;
  return s;
}

// The backup `label` names, or (a command prefix that swallowed the output) the first one
// info lists as started since `since` (a second of slack: info's times are whole seconds).
const InfoBackup* backup_taken(const InfoStanza& stanza, const std::string& label, SysTime since) {
  if (!label.empty()) return stanza.backup(label);
  for (const InfoBackup& b : stanza.backups) {
    if (b.start >= since - std::chrono::seconds(1)) return &b;
  }
  return nullptr;
}

}  // namespace

PgBackRestEngine::PgBackRestEngine(TargetConfig target)
    : target_(std::move(target)), settings_(settings_of(target_)) {
  if (!target_.pgbackrest) {
    throw ConfigError("target " + target_.name +
                      " has engine pgbackrest but no pgbackrest section");
  }
}

PgBackRestCli PgBackRestEngine::cli(const RunLimits& limits) const {
  return PgBackRestCli(settings_, limits);
}

void PgBackRestEngine::prepare() const {
  prepare_backup_dir(target_.backup.dir);
  create_private_dir(records_dir(target_.state_dir()));
}

std::vector<std::filesystem::path> PgBackRestEngine::remove_leftovers() const {
  // pgBackRest cleans up (or resumes) an interrupted backup itself at its next run; what a
  // killed restore test left (its scratch cluster) is the agent's to remove.
  if (!target_.restore_test) return {};
  return remove_scratch_leftovers(target_.restore_test->scratch_dir, scratch_prefix(target_.name));
}

bool PgBackRestEngine::backup_running() const {
  try {
    return read_info(cli({kLookTimeout, nullptr})).backup_lock_held;
  } catch (const std::exception& e) {
    spdlog::debug("pgbackrest info of {} failed: {}", target_.name, e.what());
    return false;
  }
}

FilesystemStats PgBackRestEngine::storage_space() const {
  const std::string conf = settings_.config.empty() ? kDefaultConfigFile : settings_.config;
  try {
    const std::optional<std::string> path =
        repo_path_in_config(read_file(conf), settings_.stanza, settings_.repo);
    if (path) {
      const FilesystemStats s = filesystem_of(*path);
      if (s.size_bytes > 0) return s;
    }
  } catch (const std::exception& e) {
    spdlog::debug("cannot read {}: {}", conf, e.what());
  }
  return filesystem_of(target_.backup.dir);
}

InfoStanza PgBackRestEngine::read_info(const PgBackRestCli& c) const {
  return stanza_of(c.info_json());
}

InfoStanza PgBackRestEngine::stanza_of(const std::string& info_json) const {
  try {
    return parse_stanza_info(info_json, settings_.stanza);
  } catch (const InfoParseError& e) {
    throw OperationError("pgbackrest info of stanza " + settings_.stanza +
                         " is not usable: " + e.what());
  }
}

std::string PgBackRestEngine::known_archive_id() const {
  try {
    const std::filesystem::path file = records_dir(target_.state_dir()) / "archive-id";
    if (!std::filesystem::exists(file)) return "";
    std::string id = read_file(file);
    id = id.substr(0, id.find('\n'));
    // "15-1": the only shape an archive id has; anything else is not used.
    if (!id.empty() && id.find_first_not_of("0123456789-") == std::string::npos) return id;
  } catch (const std::exception& e) {
    spdlog::debug("archive id of {} not read: {}", target_.name, e.what());
  }
  return "";
}

void PgBackRestEngine::remember_archive_id(const std::string& id) const {
  try {
    const std::filesystem::path dir = records_dir(target_.state_dir());
    if (std::filesystem::is_directory(dir)) {
      write_file_atomic(dir / "archive-id", id + "\n",
                        std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    }
  } catch (const std::exception& e) {
    spdlog::debug("archive id of {} not kept: {}", target_.name, e.what());
  }
}

PgBackRestEngine::Snapshot PgBackRestEngine::look(const PgBackRestCli& c) const {
  // `info` and the WAL listing of the archive id seen last time at once; the id is in info's
  // answer, and listing all of archive/<stanza> instead does not work on S3 (2.45's repo-ls
  // --recurse does not descend into an S3 prefix there). A new id (the first look, a
  // stanza-upgrade) costs a second listing after info.
  const std::string known = known_archive_id();
  const std::string archive_dir = "archive/" + settings_.stanza + "/";
  PgBackRestCli::InfoAndListing both;
  if (known.empty()) {
    both.info = c.info_json();
  } else {
    both = c.info_and_listing(archive_dir + known);
    if (both.info_error) std::rethrow_exception(both.info_error);
  }
  Snapshot s;
  s.stanza = stanza_of(both.info);
  const InfoDatabase* db = s.stanza.current_database();
  const InfoArchive* archive = db ? s.stanza.archive_of(db->id) : nullptr;
  if (!archive) {
    s.archive.error =
        "info lists no WAL archive for the stanza's database (hint: pgbackrest "
        "stanza-create, then check archive_command)";
    return s;
  }
  try {
    if (archive->id != known) {
      both.listing = c.repo_ls_json(archive_dir + archive->id);
      both.listing_error = nullptr;
      remember_archive_id(archive->id);
    }
    if (both.listing_error) std::rethrow_exception(both.listing_error);
    s.archive.listing = parse_wal_listing(both.listing);
  } catch (const std::exception& e) {
    s.archive.error = e.what();
  }
  return s;
}

std::vector<CatalogEntry> PgBackRestEngine::entries_of(const Snapshot& s) const {
  const std::map<std::string, BackupRecord> records =
      load_records(records_dir(target_.state_dir()));
  return build_catalog(
      {target_.name, records_dir(target_.state_dir()), &s.stanza, &s.archive, &records});
}

void PgBackRestEngine::wait_for_running_backup(const PgBackRestCli& c, const JobContext& ctx,
                                               SteadyTime until) const {
  do {
    if (ctx.cancelled() || ctx.clock.steady_now() >= until) {
      throw OperationError("a pgbackrest backup of stanza " + settings_.stanza +
                           " is still running (hint: pgbackrest info shows its lock)");
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  } while (read_info(c).backup_lock_held);
}

PgBackRestEngine::BackupRun PgBackRestEngine::run_backup(BackupType type,
                                                         const JobContext& ctx) const {
  const PgBackRestCli look_cli = cli({kLookTimeout, ctx.cancel});
  const PgBackRestCli backup_cli = cli({target_.backup.timeout, ctx.cancel});
  const SteadyTime until = ctx.clock.steady_now() + target_.backup.timeout;
  for (bool said = false;; said = true) {
    BackupRun run;
    run.started_at = ctx.now();
    const SteadyTime started = ctx.clock.steady_now();
    try {
      run.label = backup_cli.backup(type);
      run.seconds = std::chrono::duration<double>(ctx.clock.steady_now() - started).count();
      return run;
    } catch (const PgBackRestError& e) {
      // No `info` before each backup: pgBackRest refuses at once when the lock is held.
      if (!e.lock_was_held()) throw;
    }
    if (!said) {
      spdlog::warn(
          "a pgbackrest backup of stanza {} is already running (one an interrupted "
          "agent left?): waiting for it to end",
          settings_.stanza);
    }
    wait_for_running_backup(look_cli, ctx, until);
  }
}

const PgBackRestEngine::Snapshot& PgBackRestEngine::snapshot() const {
  if (!snapshot_) snapshot_ = look(cli({kLookTimeout, nullptr}));
  return *snapshot_;
}

CatalogEntry PgBackRestEngine::backup(BackupType type, const JobContext& ctx) {
  snapshot_.reset();
  const BackupRun run = run_backup(type, ctx);
  const double seconds = run.seconds;

  snapshot_ = look(cli({kLookTimeout, ctx.cancel}));
  const Snapshot& s = *snapshot_;
  const InfoBackup* taken = backup_taken(s.stanza, run.label, run.started_at);
  if (!taken) {
    throw OperationError("pgbackrest backup succeeded but info lists " +
                         (run.label.empty() ? std::string("no backup started since it ran")
                                            : "no backup " + run.label) +
                         " in stanza " + settings_.stanza);
  }
  if (type != BackupType::full && taken->type == BackupType::full) {
    spdlog::warn("no full backup to build on: took a full ({} was asked)", backup_type_name(type));
  }
  std::vector<CatalogEntry> entries = entries_of(s);
  CatalogEntry* entry = nullptr;
  for (CatalogEntry& e : entries) {
    if (e.name() == taken->label) entry = &e;
  }
  const Tier tier = entry && entry->good() ? entry->tier() : Tier::daily;
  save_record(records_dir(target_.state_dir()), record_of(*taken, type, tier, seconds));
  if (!entry || !entry->good()) {
    throw OperationError("backup " + taken->label + " was taken but is not good: " +
                         (entry ? entry->problem() : std::string("not in the catalogue")));
  }
  entry->manifest->duration_seconds = seconds;
  return std::move(*entry);
}

std::vector<CatalogEntry> PgBackRestEngine::catalog(ManifestCache* /*cache*/) const {
  return entries_of(snapshot());
}

RecoveryWindow PgBackRestEngine::recovery_window(const std::vector<CatalogEntry>& catalog) const {
  RecoveryWindow w;
  const std::vector<const CatalogEntry*> good = good_entries(catalog);
  if (good.empty()) return w;
  w.start = consistent_from(*good.front());
  w.end = consistent_from(*good.back());
  try {
    const Snapshot& s = snapshot();
    if (s.archive.listing && s.archive.listing->newest_time &&
        *s.archive.listing->newest_time > *w.end) {
      w.end = s.archive.listing->newest_time;
    }
  } catch (const std::exception& e) {
    spdlog::debug("WAL archive of {} not read: {}", target_.name, e.what());
  }
  return w;
}

std::optional<ArchiveHealth> PgBackRestEngine::archive_health(
    const std::vector<CatalogEntry>& /*catalog*/) const {
  ArchiveHealth h;
  Snapshot s;
  try {
    s = snapshot();
  } catch (const std::exception& e) {
    h.stanza_status = 99;
    h.stanza_message = e.what();
    return h;
  }
  h.stanza_status = s.stanza.status_code;
  h.stanza_message = s.stanza.status_message;
  if (s.archive.listing) h.newest_wal_time = s.archive.listing->newest_time;
  // From the oldest backup's start: a gap that makes every backup bad still counts.
  for (const InfoBackup& b : s.stanza.backups) {
    std::string why;
    if (b.archive_start.empty()) continue;
    if (const auto c = continuity_from(s.archive, b.archive_start, why)) h.wal_gaps = c->missing;
    break;
  }
  return h;
}

std::vector<CatalogEntry> PgBackRestEngine::retention_candidates() const {
  const Snapshot& s = snapshot();
  return retention_sets(entries_of(s), s.stanza);
}

void PgBackRestEngine::remove(const std::vector<const CatalogEntry*>& chosen,
                              const std::function<void(const CatalogEntry&)>& on_removed) {
  const PgBackRestCli c = cli({target_.backup.timeout, nullptr});
  const std::filesystem::path dir = records_dir(target_.state_dir());
  snapshot_.reset();
  for (const CatalogEntry* b : chosen) {
    c.expire_set(b->name());
    // The set's diff and incr went with it: drop every record info no longer lists.
    std::set<std::string> listed;
    for (const InfoBackup& i : read_info(c).backups) listed.insert(i.label);
    for (const auto& kept : load_records(dir)) {
      if (!listed.contains(kept.first)) remove_record(dir, kept.first);
    }
    if (on_removed) on_removed(*b);
  }
  fsync_path(dir);
}

VerifyReport PgBackRestEngine::verify(const CatalogEntry& backup, Progress* /*progress*/) const {
  VerifyReport report;
  report.file = backup.dump;
  const PgBackRestCli c = cli({target_.backup.timeout, nullptr});
  const Snapshot& s = snapshot();
  const InfoBackup* b = s.stanza.backup(backup.name());
  if (!b) {
    report.checks.push_back({"info", false, "pgbackrest info no longer lists " + backup.name()});
    return report;
  }
  const bool error = b->error_known && b->error;
  report.checks.push_back({"info", !error,
                           error ? "pgBackRest found page checksum errors while copying it"
                                 : "complete, no page checksum error"});
  std::string why;
  const std::optional<WalContinuity> wal = continuity_from(s.archive, b->archive_start, why);
  if (!wal) {
    report.checks.push_back({"wal continuity", false, why});
  } else if (!wal->complete()) {
    report.checks.push_back({"wal continuity", false, describe_gaps(*wal)});
  } else {
    report.checks.push_back({"wal continuity", true,
                             "every segment from " + b->archive_start + " to " +
                                 wal_segment_name(*wal->newest) + " is archived"});
  }
  // pgBackRest verifies every backup of the stanza; this backup's proof is its own files (with
  // those it references) and the WAL archive's. Other backups' findings are their own proofs'.
  const VerifyVerdict v = verdict_for_backup(c.verify(), backup.name());
  std::string detail = std::to_string(v.invalid_files) + " invalid files";
  if (!v.reasons.empty()) detail += ": " + v.reasons.front();
  std::string fine = "no invalid file";
  for (const std::string& w : v.warnings) {
    if (w.starts_with("backup ")) fine += "; other " + w;
  }
  report.checks.push_back({"pgbackrest verify", v.ok, v.ok ? fine : detail});
  report.invalid_files = static_cast<std::uint64_t>(v.invalid_files);
  return report;
}

std::unique_ptr<RestoreTestRun> PgBackRestEngine::restore_test(const Config& config,
                                                               const JobContext& ctx) const {
  RestoreTestInputs in;
  in.settings = settings_;
  // One look (info and the WAL listing at once) gives the sets, their proofs and the window.
  in.catalog = catalog(nullptr);
  in.info = snapshot().stanza;
  in.window = recovery_window(in.catalog);
  return pgbackrest_restore_test(config, target_, std::move(in), ctx);
}

std::unique_ptr<Restorer> PgBackRestEngine::restorer(const pgbackup::RestoreRequest& request,
                                                     RestoreJournal& journal) const {
  return std::make_unique<PgBackRestRestorer>(*this, target_, settings_, request, journal);
}

}  // namespace pgbackup
