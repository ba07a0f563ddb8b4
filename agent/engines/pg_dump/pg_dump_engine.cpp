#include "agent/engines/pg_dump/pg_dump_engine.h"

#include "agent/core/errors.h"
#include "agent/engines/pg_dump/dump_backup.h"
#include "agent/engines/pg_dump/dump_restore.h"
#include "agent/engines/pg_dump/dump_restore_test.h"
#include "agent/engines/pg_dump/dump_retention.h"
#include "agent/engines/pg_dump/dump_verify.h"
#include "agent/storage/posix_storage.h"

namespace pgbackup {

PgDumpEngine::PgDumpEngine(TargetConfig target)
    : target_(std::move(target)), dumps_(target_.backup.dir, target_.backup.file_prefix) {}

void PgDumpEngine::prepare() const { prepare_backup_dir(target_.backup.dir); }

std::vector<std::filesystem::path> PgDumpEngine::remove_leftovers() const {
  return dumps_.remove_partials();
}

bool PgDumpEngine::backup_running() const { return dumps_.backup_running(); }

FilesystemStats PgDumpEngine::storage_space() const { return filesystem_of(dumps_.dir()); }

CatalogEntry PgDumpEngine::backup(BackupType type, const JobContext& ctx) {
  if (type != BackupType::full) {
    throw OperationError(std::string("pg_dump takes only full backups, not ") +
                         backup_type_name(type) + " (hint: drop --type, or use engine pgbackrest)");
  }
  Manifest m = take_dump(target_, dumps_, ctx);
  CatalogEntry entry;
  entry.dump = dumps_.dir() / m.file;
  entry.started_at = m.started_at;
  entry.file_size = m.size_bytes;
  entry.manifest = std::move(m);
  return entry;
}

std::vector<CatalogEntry> PgDumpEngine::catalog(ManifestCache* cache) const {
  return dumps_.scan(cache);
}

RecoveryWindow PgDumpEngine::recovery_window(const std::vector<CatalogEntry>& catalog) const {
  return finish_time_window(catalog);
}

std::optional<ArchiveHealth> PgDumpEngine::archive_health(
    const std::vector<CatalogEntry>& /*catalog*/) const {
  return std::nullopt;  // each dump is self-contained: no WAL archive to watch
}

std::vector<CatalogEntry> PgDumpEngine::retention_candidates() const {
  PosixStorage storage(dumps_.dir());
  std::vector<CatalogEntry> out;
  for (StoredBackup& b : list_stored_backups(
           storage, dumps_, [&](const std::string& name) { return storage.read(name); })) {
    CatalogEntry entry;
    entry.dump = dumps_.dir() / b.dump;
    entry.started_at = b.started_at;
    entry.file_size = b.manifest.size_bytes;
    entry.manifest = std::move(b.manifest);
    out.push_back(std::move(entry));
  }
  return out;
}

void PgDumpEngine::remove(const std::vector<const CatalogEntry*>& chosen,
                          const std::function<void(const CatalogEntry&)>& on_removed) {
  PosixStorage storage(dumps_.dir());
  for (const CatalogEntry* b : chosen) {
    remove_stored_backup(storage, b->name(), b->manifest && b->manifest->globals);
    if (on_removed) on_removed(*b);
  }
  // Each manifest went durably before its dump (remove_stored_backup); the dumps' removals are
  // made durable once for the run, as apply_retention does.
  storage.sync();
}

VerifyReport PgDumpEngine::verify(const CatalogEntry& backup, Progress* progress) const {
  return verify_backup(backup, progress);
}

std::unique_ptr<RestoreTestRun> PgDumpEngine::restore_test(const Config& config,
                                                           const JobContext& ctx) const {
  return dump_restore_test(config, target_, ctx);
}

std::unique_ptr<Restorer> PgDumpEngine::restorer(const RestoreRequest& request,
                                                 RestoreJournal& journal) const {
  return std::make_unique<PgDumpRestorer>(target_, request, journal);
}

}  // namespace pgbackup
