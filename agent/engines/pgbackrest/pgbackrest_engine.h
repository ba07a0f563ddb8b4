#pragma once

#include "agent/config/config.h"
#include "agent/engines/engine.h"
#include "agent/engines/pgbackrest/cli.h"
#include "agent/engines/pgbackrest/pgbackrest_catalog.h"

namespace pgbackup {

// The pgBackRest engine (DESIGN §11): physical full, diff and incr backups in the operator's
// pgBackRest repository, with the WAL archive. backup.dir holds only the agent's own state
// (state.json, audit log, lock, and a record per backup under .pgbackup/pgbackrest/).
class PgBackRestEngine final : public BackupEngine {
 public:
  explicit PgBackRestEngine(TargetConfig target);

  std::string name() const override { return "pgbackrest"; }
  void prepare() const override;
  std::vector<std::filesystem::path> remove_leftovers() const override;
  bool backup_running() const override;
  FilesystemStats storage_space() const override;
  bool takes(BackupType type) const override {
    (void)type;
    return true;
  }
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
  // What one look at the repository gives: `info` of the stanza and its WAL listing (two
  // pgbackrest runs at once when the archive id is known).
  struct Snapshot {
    pgbackrest::InfoStanza stanza;
    pgbackrest::ArchiveListing archive;
  };
  pgbackrest::PgBackRestCli cli(const pgbackrest::RunLimits& limits = {}) const;
  pgbackrest::InfoStanza read_info(const pgbackrest::PgBackRestCli& cli) const;
  pgbackrest::InfoStanza stanza_of(const std::string& info_json) const;
  Snapshot look(const pgbackrest::PgBackRestCli& cli) const;
  // The stanza's archive id ("15-1") as the last look found it (kept in the records directory,
  // .pgbackup/pgbackrest/archive-id), "" when none did; and keeping it.
  std::string known_archive_id() const;
  void remember_archive_id(const std::string& id) const;
  // The repository as this engine last looked at it. An engine serves one job or one status
  // read, whose callers ask several times (prune_local: catalog() and retention_candidates();
  // the status: catalog() and recovery_window()): one `info` and one `repo-ls` serve them all.
  // backup() and remove() look again after they change the repository.
  const Snapshot& snapshot() const;
  std::vector<CatalogEntry> entries_of(const Snapshot& s) const;
  // Runs `pgbackrest backup`; when another backup of the stanza holds its lock (one a killed
  // agent left running finishes on its own), waits for it to end, up to the backup timeout, and
  // runs it again.
  struct BackupRun {
    std::string label;  // as pgBackRest printed it; "" when its output did not say
    SysTime started_at{};
    double seconds = 0;  // of the run that took the backup
  };
  BackupRun run_backup(BackupType type, const JobContext& ctx) const;
  // Sleeps a second at a time until `info` no longer says the lock is held; throws at `until`.
  void wait_for_running_backup(const pgbackrest::PgBackRestCli& cli, const JobContext& ctx,
                               SteadyTime until) const;

  TargetConfig target_;
  pgbackrest::PgBackRestSettings settings_;
  mutable std::optional<Snapshot> snapshot_;
};

}  // namespace pgbackup
