#pragma once

#include <functional>
#include <string>
#include <vector>

#include "agent/catalog/manifest.h"
#include "agent/config/config.h"
#include "agent/core/timeutil.h"
#include "agent/engines/pg_dump/dump_catalog.h"
#include "agent/rules/retention.h"
#include "agent/storage/storage.h"

namespace pgbackup {

// Retention of pg_dump backups in a Storage: the backup directory (through the pg_dump engine)
// and the off-site bucket (jobs/prune's off-site retention), one code path for both.

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
    Storage& storage, const DumpCatalog& naming,
    const std::function<std::string(const std::string& manifest)>& read_manifest);

// Deletes one backup from `storage`: its companion file first (when `with_globals`: when it
// cannot be deleted nothing of the backup is), then its manifest, synced, then the dump, so an
// abort never leaves a dump that looks like a backup.
void remove_stored_backup(Storage& storage, const std::string& dump, bool with_globals);

struct RetentionOutcome {
  std::vector<const StoredBackup*> deleted;
  std::vector<const StoredBackup*> kept;
  std::string refused;  // why nothing was deleted (clock_guard_reason), or empty
};

// Deletes the backups whose age reached their tier's window, never the newest min_keep
// (select_expired), each with remove_stored_backup. `on_deleted` runs after each deletion.
// With dry_run nothing is deleted and `deleted` lists what would be. Deletes nothing, and says
// why in `refused`, when the clock cannot be trusted (clock_guard_reason in rules/retention.h).
RetentionOutcome apply_retention(Storage& storage, const std::vector<StoredBackup>& backups,
                                 const RetentionConfig& policy, SysTime now, RetentionRun run,
                                 bool dry_run,
                                 const std::function<void(const StoredBackup&)>& on_deleted);

}  // namespace pgbackup
