#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/core/clock.h"
#include "agent/core/progress.h"
#include "agent/engines/backup_type.h"
#include "agent/rules/recovery_target.h"

namespace pgbackup {

// What the command line asked for, after cxxopts (see main.cpp).
struct CommandOptions {
  std::string target;
  std::string output = "text";  // list: text | json
  std::optional<std::string> file;
  std::optional<std::string> second_file;  // diff: NEW
  bool latest = false;
  bool dry_run = false;
  bool all_missing = false;  // upload: every backup that should be off-site and is not
  bool deep = false;         // verify: decrypt an encrypted backup and check its contents
  std::chrono::seconds max_age{26 * 3600};
  BackupType type = BackupType::full;  // backup --type
  // restore
  std::vector<std::string> tables;
  std::string dbname;
  int jobs = 2;
  bool assume_yes = false;
  bool safety_backup = true;
  bool create_roles = true;        // false with --no-roles
  std::string time;                // --time TS (pgbackrest targets)
  std::string lsn;                 // --lsn LSN (pgbackrest targets)
  RecoveryTarget recovery_target;  // what --time, --lsn or --latest ask for
  std::string pg_path;             // --pg-path DIR (pgbackrest targets)
  // Set when the agent is asked to stop (SIGINT/SIGTERM/SIGHUP, see main.cpp): the commands
  // pass it on as JobContext::cancel so running children are stopped, not orphaned.
  const std::atomic<bool>* cancel = nullptr;
  // Where the commands and their jobs read the time (main's SystemClock). Required.
  const Clock* clock = nullptr;
  // A progress line on stderr when it is a terminal (see progress_on_stderr); may be null.
  Progress* progress = nullptr;
};

// Each returns the process exit code: 0 success, 1 failed (or stale), 2 usage/config.
int command_backup(const Config& config, const CommandOptions& options);
int command_list(const Config& config, const CommandOptions& options);
int command_verify(const Config& config, const CommandOptions& options);
int command_restore_test(const Config& config, const CommandOptions& options);
int command_check(const Config& config, const CommandOptions& options);
int command_prune(const Config& config, const CommandOptions& options);
int command_upload(const Config& config, const CommandOptions& options);
int command_restore(const Config& config, const CommandOptions& options);
int command_diff(const Config& config, const CommandOptions& options);
int command_config_check(const Config& config, const CommandOptions& options);

// config-check's schedule preview: per target a "target NAME: ..." line, then "next backups:"
// and (with a restore_test) "next restore tests:" lines, each with the next `count` times after
// `now` in UTC ISO 8601 ("2026-12-02T02:00:00Z").
std::string describe_next_runs(const Config& config, SysTime now, int count = 5);

}  // namespace pgbackup
