#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/config.h"
#include "agent/repository.h"
#include "agent/timeutil.h"

namespace pgbackup {

// Facts the running daemon itself produces about one target (not on disk).
struct TargetRuntime {
  bool backup_in_progress = false;
  std::optional<SysTime> next_backup;
  double backups_total = 0;
  double backup_failures_total = 0;
  double retention_deleted_total = 0;
  std::optional<bool> database_up;  // unset until the first probe
};

// Everything the collectors and the status page need about one target, read from disk by
// read_target_status() and combined with the runtime facts. Plain data: cheap to copy.
struct TargetStatus {
  std::string name;
  std::string backup_dir;
  std::vector<BackupEntry> backups;  // oldest first, good and not
  TargetState state;
  FilesystemStats filesystem;
  bool backup_running = false;  // some process is writing a dump (see Repository::backup_running)
  double schedule_interval_seconds = 0;
  double restore_test_schedule_interval_seconds = 0;  // 0: no restore tests configured
  double restore_test_rto_target_seconds = 0;
  TargetRuntime runtime;

  // A backup runs, in this daemon or in another process.
  bool backup_in_progress() const { return runtime.backup_in_progress || backup_running; }
  // The newest good backup, or nullptr.
  const BackupEntry* newest_good() const;
  std::vector<const BackupEntry*> good() const;
};

// Reads a target's backups, state.json and filesystem: the I/O half; everything downstream is
// pure.
TargetStatus read_target_status(const TargetConfig& target, SysTime now);

}  // namespace pgbackup
