#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/catalog/backup_dir.h"
#include "agent/catalog/job_state.h"
#include "agent/catalog/manifest_cache.h"
#include "agent/config/config.h"
#include "agent/core/timeutil.h"
#include "agent/crypto/identity_keys.h"
#include "agent/daemon/archive_status.h"
#include "agent/engines/catalog_entry.h"
#include "agent/jobs/restore_drill.h"
#include "agent/rules/health.h"
#include "agent/storage/s3/client.h"

namespace pgbackup {

// Facts the running daemon itself produces about one target (not on disk).
struct TargetRuntime {
  bool backup_in_progress = false;
  std::optional<SysTime> next_backup;
  double backups_total = 0;
  double backup_failures_total = 0;
  double retention_deleted_total = 0;
  double retention_refusals_total = 0;  // local or off-site runs the clock guard refused
  double offsite_uploads_total = 0;     // backups whose copy was attempted
  double offsite_upload_failures_total = 0;
  double offsite_uploaded_bytes_total = 0;
  std::map<RetryReason, double> offsite_retries_total;  // S3 requests tried again, by reason
  std::optional<bool> database_up;                      // unset until the first probe
  bool restore_test_in_progress = false;
  std::optional<SysTime> next_restore_test;  // unset when no restore tests are configured
  double restore_tests_total = 0;
  double restore_test_failures_total = 0;
  // The WAL archive as the prober last saw it; unset for a target whose engine keeps none
  // (pg_dump), and until the first probe (the daemon serves after it).
  std::optional<ArchiveStatus> archive;
};

// How many restore-test reports the status keeps (the status page shows them all).
constexpr std::size_t kRestoreTestHistory = 10;

// Everything the collectors and the status page need about one target, read from disk by
// read_target_status() and combined with the runtime facts. Plain data: cheap to copy.
struct TargetStatus {
  std::string name;
  std::string backup_dir;
  std::vector<CatalogEntry> backups;  // its engine's catalogue: oldest first, good and not
  // Its engine's name ("pg_dump", "pgbackrest") and the recovery window over `backups` (the
  // engine's, as it reaches further with WAL): pgbackup_target_info{engine},
  // pgbackup_recovery_window_* and the status page show them as they are, never branching on
  // the name.
  std::string engine;
  RecoveryWindow recovery_window;
  std::optional<std::chrono::seconds> rpo_target;  // `rpo_target`, unset when not configured
  TargetState state;
  std::vector<RestoreTestReport> restore_tests;  // newest first, at most kRestoreTestHistory
  FilesystemStats filesystem;
  bool backup_running = false;  // some process takes a backup (BackupEngine::backup_running)
  double schedule_interval_seconds = 0;
  double restore_test_schedule_interval_seconds = 0;  // 0: no restore tests configured
  double restore_test_rto_target_seconds = 0;
  bool offsite_configured = false;
  std::size_t offsite_pending = 0;  // should be off-site and are not (see pending_offsite)
  std::optional<SysTime> offsite_oldest_pending;  // the oldest of those backups' start
  // The keys of encryption.identity_file (not configured without one), which the status page
  // compares with the encrypted backups' recipients (rules/key_coverage.h).
  IdentityKeys identity;
  TargetRuntime runtime;

  // A backup runs, in this daemon or in another process.
  bool backup_in_progress() const { return runtime.backup_in_progress || backup_running; }
  // The WAL archive's status (the prober's), or nullptr when the target has no archive.
  const ArchiveStatus* archive() const { return runtime.archive ? &*runtime.archive : nullptr; }
  // The newest good backup, or nullptr.
  const CatalogEntry* newest_good() const;
  std::vector<const CatalogEntry*> good() const;
  // The newest restore-test report, or nullptr.
  const RestoreTestReport* last_restore_test() const;
  // When a restore test last passed, from state.json, the report history and the manifests'
  // marks (the last attempt keeps only the newest outcome).
  std::optional<SysTime> last_restore_test_success() const;
  // The measured duration of the last restore test (0: none).
  double last_restore_test_seconds() const;
};

// Free space over time: what each good backup's manifest recorded, then `now`'s.
std::vector<SpaceSample> space_history(const TargetStatus& t, SysTime now);

// The facts the alert rules read (rules/health.h), as the collectors export them.
HealthSignals health_signals(const TargetStatus& t, SysTime now);

// Reads a target's backups, state.json and filesystem: the I/O half; everything downstream is
// pure.
// Backups come without their schema fingerprints' contents (the change lists stay): nothing
// downstream compares fingerprints, and they can be megabytes. `cache`, when given, spares
// re-parsing unchanged manifests on every refresh, `identities` re-reading an unchanged
// identity file.
TargetStatus read_target_status(const TargetConfig& target, SysTime now,
                                ManifestCache* cache = nullptr,
                                IdentityKeysCache* identities = nullptr);

}  // namespace pgbackup
