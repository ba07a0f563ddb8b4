#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/core/timeutil.h"
#include "agent/engines/pg_dump/dump_catalog.h"
#include "agent/jobs/backup.h"

namespace pgbackup {

// One automated restore test (DESIGN §7): a line of <backup.dir>/.pgbackup/restore-tests.jsonl.
struct RestoreTestReport {
  std::string target;
  std::string backup;  // the dump's file name; empty when no backup could be picked
  SysTime started_at;
  SysTime finished_at;
  double duration_seconds = 0;  // the measured recovery time (verification included)
  double rto_target_seconds = 0;
  bool success = false;
  std::vector<std::string> mismatched_tables;  // "public.nodes: 50 rows in the backup, 47 restored"
  std::vector<std::string> failed_checks;      // "nodes_present: returned false"
  // The restored database's schema against the manifest's fingerprint:
  // "index x on public.t is in the backup but was not restored".
  std::vector<std::string> schema_differences;
  // The roles the backup needs that the test server lacked, created for the test (a finding,
  // not a failure: a real restore onto that server would create them too).
  std::vector<std::string> missing_roles;
  std::string error;  // what stopped the test, if anything
};

nlohmann::json report_to_json(const RestoreTestReport& report);
// Throws std::exception on a malformed line.
RestoreTestReport report_from_json(const nlohmann::json& j);

// <state_dir>/restore-tests.jsonl
std::filesystem::path restore_test_log(const std::filesystem::path& state_dir);
// The newest `limit` reports, newest first. Unreadable lines are skipped (a torn last line
// after a crash must not hide the history).
std::vector<RestoreTestReport> read_restore_test_history(const std::filesystem::path& state_dir,
                                                         std::size_t limit);

// The backup a scheduled test restores: among good backups that finished within `max_age`,
// the newest (pick: latest) or one chosen by `random_index(n)` in [0, n) (pick: random).
// nullptr when there is none.
const CatalogEntry* pick_backup_to_test(
    const std::vector<CatalogEntry>& entries, const RestoreTestConfig& config, SysTime now,
    const std::function<std::size_t(std::size_t)>& random_index);

// Runs one restore test of `target` (of `file` when given, else a picked backup) into the
// restore_test database, then records it: restore-tests.jsonl, the backup's manifest, state.json
// and the audit log. Failures of the test are in the report; throws ConfigError when the target
// has no restore_test section, OperationError when another agent holds the directory or when
// ctx.cancel stopped the test (then nothing but an "interrupted" audit line is recorded).
RestoreTestReport run_restore_test(const Config& config, const TargetConfig& target,
                                   const std::optional<std::filesystem::path>& file,
                                   const JobContext& ctx);

// The readable summary `restore-test` prints (several lines).
std::string summarize(const RestoreTestReport& report);

}  // namespace pgbackup
