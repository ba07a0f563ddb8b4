#pragma once

#include "agent/config/config.h"
#include "agent/engines/engine.h"
#include "agent/engines/pg_dump/dump_catalog.h"

namespace pgbackup {

// The pg_dump engine: logical full backups, each a .dump in backup.dir with the agent's
// manifest beside it (DESIGN §4).
class PgDumpEngine final : public BackupEngine {
 public:
  explicit PgDumpEngine(TargetConfig target);

  std::string name() const override { return "pg_dump"; }
  void prepare() const override;
  std::vector<std::filesystem::path> remove_leftovers() const override;
  bool backup_running() const override;
  FilesystemStats storage_space() const override;
  bool takes(BackupType type) const override { return type == BackupType::full; }
  CatalogEntry backup(BackupType type, const JobContext& ctx) override;
  std::vector<CatalogEntry> catalog(ManifestCache* cache) const override;
  RecoveryWindow recovery_window(const std::vector<CatalogEntry>& catalog) const override;
  std::optional<ArchiveHealth> archive_health(
      const std::vector<CatalogEntry>& catalog) const override;
  std::vector<CatalogEntry> retention_candidates() const override;
  void remove(const std::vector<const CatalogEntry*>& chosen,
              const std::function<void(const CatalogEntry&)>& on_removed) override;
  VerifyReport verify(const CatalogEntry& backup, Progress* progress) const override;
  std::unique_ptr<RestoreTestRun> restore_test(const Config& config,
                                               const JobContext& ctx) const override;
  std::unique_ptr<Restorer> restorer(const RestoreRequest& request,
                                     RestoreJournal& journal) const override;

 private:
  TargetConfig target_;
  DumpCatalog dumps_;
};

}  // namespace pgbackup
