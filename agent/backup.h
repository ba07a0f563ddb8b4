#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "agent/config.h"
#include "agent/manifest.h"
#include "agent/timeutil.h"

namespace pgbackup {

// What every job gets from whoever runs it: a clock and a way to be stopped.
struct JobContext {
  std::function<SysTime()> now = [] { return std::chrono::system_clock::now(); };
  const std::atomic<bool>* cancel = nullptr;
};

struct PruneResult {
  std::vector<std::filesystem::path> deleted;  // dumps (their manifests went first)
  std::vector<std::filesystem::path> kept;
  std::string skipped_reason;  // non-empty when retention did not run
};

struct BackupResult {
  Manifest manifest;
  std::filesystem::path file;
  PruneResult prune;
};

// Takes one backup of `target` (DESIGN §1, §4): pre-flight checks, pg_dump in the snapshot
// the row counts use, SHA-256 while streaming, fsync, pg_restore --list, rename, manifest,
// then retention. Records the attempt in state.json and the audit log either way. Throws
// OperationError (nothing left behind, earlier backups untouched) when it fails.
BackupResult take_backup(const Config& config, const TargetConfig& target, const JobContext& ctx);

// Applies retention to `target` now. Refuses (skipped_reason) when the newest attempt failed
// or the newest good backup is a size anomaly. With dry_run, deletes nothing.
PruneResult prune_backups(const Config& config, const TargetConfig& target, SysTime now,
                          bool dry_run);

}  // namespace pgbackup
