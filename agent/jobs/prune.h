#pragma once

#include <exception>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/catalog/manifest.h"
#include "agent/catalog/repository.h"
#include "agent/config/config.h"
#include "agent/core/timeutil.h"
#include "agent/rules/retention.h"
#include "agent/storage/storage.h"

namespace pgbackup {

class S3Client;
struct JobContext;

// Retention (DESIGN §5), once for every Storage: the backup directory and the off-site bucket.

// A backup in a Storage: a dump whose manifest could be read.
struct StoredBackup {
  std::string dump;  // its name in the storage
  SysTime started_at;
  Manifest manifest;
};

// The backups in `storage`: dumps named as `naming` names them, each with a readable manifest
// (`read_manifest` gets the manifest's name), oldest first. A dump without a manifest is not a
// backup; one whose manifest cannot be read, or names another file, is kept out of retention,
// with a warning.
std::vector<StoredBackup> list_stored_backups(
    Storage& storage, const Repository& naming,
    const std::function<std::string(const std::string& manifest)>& read_manifest);

struct RetentionOutcome {
  std::vector<const StoredBackup*> deleted;
  std::vector<const StoredBackup*> kept;
  std::string refused;  // why nothing was deleted (clock_guard_reason), or empty
};

// Deletes the backups whose age reached their tier's window, never the newest min_keep
// (select_expired): each manifest before its dump, synced in between, so an abort never leaves
// a dump that looks like a backup. `on_deleted` runs after each deletion. With dry_run nothing
// is deleted and `deleted` lists what would be. Deletes nothing, and says why in `refused`,
// when the clock cannot be trusted (clock_guard_reason in rules/retention.h).
RetentionOutcome apply_retention(Storage& storage, const std::vector<StoredBackup>& backups,
                                 const RetentionConfig& policy, SysTime now, RetentionRun run,
                                 bool dry_run,
                                 const std::function<void(const StoredBackup&)>& on_deleted);

// Why retention must wait now, from state.json and the newest good of `backups`, or "": see
// retention_blocked_reason in rules/retention.h. Off-site retention obeys it too.
std::string retention_blocked_reason(const Repository& repo,
                                     const std::vector<BackupEntry>& backups);

struct PruneResult {
  std::vector<std::filesystem::path> deleted;  // dumps (their manifests went first)
  std::vector<std::filesystem::path> kept;
  std::string skipped_reason;  // non-empty when retention did not run
  bool refused = false;        // ... because the clock guard refused (logged and audited)
};

// Retention of the backup directory, by a caller that holds its DirectoryLock. Refuses
// (skipped_reason) when retention_blocked_reason or the clock guard says so; deletions and a
// refusal by the clock guard go to the audit log.
PruneResult prune_local(const Config& config, const TargetConfig& target, const Repository& repo,
                        SysTime now, RetentionRun run, bool dry_run);

struct OffsitePruneResult {
  std::vector<std::string> deleted;  // dump keys (their manifests went first)
  std::vector<std::string> kept;
  std::string skipped_reason;  // why the clock guard refused (logged and audited), or empty
};

// Off-site retention over the client's bucket (paginated listing of offsite.s3.prefix), never
// the newest min_keep complete copies. A backup's tier comes from its local manifest, else from
// its manifest in the bucket. Deletions are logged and go to the audit log `audit`.
OffsitePruneResult prune_offsite(S3Client& client, const TargetConfig& target,
                                 const std::filesystem::path& audit, SysTime now, RetentionRun run,
                                 bool dry_run);

struct PruneReport {
  PruneResult local;
  std::optional<OffsitePruneResult> offsite;  // with offsite.s3, when local retention ran
  std::exception_ptr offsite_error;           // why off-site retention failed, if it did
};

// The prune job (`prune`): local retention under the directory lock, then, when it was not
// refused and the target has offsite.s3, off-site retention. With dry_run nothing is deleted.
// Throws when local retention fails; an off-site failure is reported in offsite_error, so the
// local result is still shown.
PruneReport run_prune_job(const Config& config, const TargetConfig& target, const JobContext& ctx,
                          bool dry_run);

}  // namespace pgbackup
