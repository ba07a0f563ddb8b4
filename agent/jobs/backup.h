#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "agent/catalog/manifest.h"
#include "agent/config/config.h"
#include "agent/core/timeutil.h"
#include "agent/engines/catalog_entry.h"
#include "agent/jobs/job_context.h"
#include "agent/jobs/prune.h"

namespace pgbackup {

// How a backup is taken when it is not an ordinary scheduled or manual one.
struct BackupOptions {
  // The caller already holds the directory lock: a restore holds it from start to end so no
  // scheduled backup runs meanwhile, and takes its safety backup under it.
  bool lock_held = false;
  // A restore's safety backup skips retention: it must never delete the backup about to be
  // restored (which may be old enough to expire). The next ordinary backup prunes as usual.
  bool apply_retention = true;
  // Recorded in the audit log entry ("backup", "safety backup").
  std::string purpose = "backup";
  // The kind of backup; pg_dump takes only full ones.
  BackupType type = BackupType::full;
};

struct BackupResult {
  BackupType type = BackupType::full;  // what was taken (a diff with no full to build on: full)
  std::uint64_t restore_set_bytes = 0;
  Manifest manifest;
  std::filesystem::path file;
  PruneResult prune;
};

// Takes one backup of `target` through its engine (engines/engine.h; for pg_dump: pre-flight
// checks, pg_dump in the snapshot the row counts use, SHA-256 while streaming, fsync,
// pg_restore --list, rename, manifest), under the directory lock, then retention (unless options
// say otherwise). Records the attempt in state.json and the audit log either way. Throws
// OperationError (nothing left behind, earlier backups untouched) when it fails, and
// ConfigError (nothing recorded) when the engine does not take `options.type`.
BackupResult take_backup(const Config& config, const TargetConfig& target, const JobContext& ctx,
                         const BackupOptions& options = {});

}  // namespace pgbackup
