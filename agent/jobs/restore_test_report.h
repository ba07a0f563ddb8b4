#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/timeutil.h"

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
  // A physical engine's test (pgBackRest): the point restored to ("time 2026-12-06T14:04:00Z",
  // "latest"), the RTO split, the rows of every table read in full ("schema.table"), and the
  // scratch postmaster's log kept next to the report. Unset or empty for pg_dump.
  std::string recovery_target;
  std::optional<double> restore_seconds;  // putting the files back
  std::optional<double> replay_seconds;   // start, WAL replay, promotion
  std::optional<double> checks_seconds;   // reading every table, the checks
  std::map<std::string, std::uint64_t> table_counts;
  std::string postmaster_log;
  // With restore_test.heartbeat: the newest heartbeat found in the restored cluster
  // ("2026-12-06T14:03:58.25Z"); empty when there was none (a failed check says so).
  std::string heartbeat;
};

// The one-line reason a report failed: its error, else its first mismatch or failed check.
std::string first_problem(const RestoreTestReport& report);

}  // namespace pgbackup
