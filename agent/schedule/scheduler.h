#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/core/clock.h"
#include "agent/engines/backup_type.h"
#include "agent/schedule/backup_types.h"

namespace pgbackup {

// Consecutive failures of one job of one target, and when it may run again.
struct RetryState {
  int failures = 0;
  SysTime retry_at{};  // meaningful while failures > 0

  // Counts a failure of a job on `schedule` (a cron line) and sets when it may run again (see
  // retry_delay); returns the delay.
  std::chrono::seconds fail(const std::string& schedule, SysTime now);
  void succeed() { failures = 0; }
  // `due`, or later while backing off.
  SysTime hold(SysTime due) const;
};

// What runs now for one target, and when each job is due.
enum class DueJob { none, backup, restore_test, verify };
struct TargetPlan {
  std::vector<TypeDue> backups;  // each scheduled type, largest first (scheduled_types)
  SysTime backup_due;            // the earliest of them
  BackupType backup_type = BackupType::full;  // the type that runs when now is backup
  std::optional<SysTime> restore_test_due;    // nullopt: the target has no restore tests
  std::optional<SysTime> verify_due;          // nullopt: no verify.schedule
  DueJob now = DueJob::none;
  // When to look again if nothing runs now.
  SysTime wake_at() const;
};

// What one turn of the loop knows about a target's past: per backup type, when the newest good
// backup serving that type's slots started (a full serves all, see serves()), and the retry
// state of each job. Kept per type, so a good incr never makes a failing full look fine: the
// full stays due and keeps backing off on its own.
struct TargetHistory {
  std::array<std::optional<SysTime>, 3> last_good{};  // by BackupType
  std::array<RetryState, 3> backup_retry{};           // by BackupType
  std::optional<SysTime> last_restore_test;
  RetryState restore_test_retry;  // only for tests that could not even start
  std::optional<SysTime> last_verify;
  RetryState verify_retry;  // only for verify runs that could not even start
};

// The pure decision of one turn of the loop below. Each backup type is due per its schedule
// since the newest good backup serving it (whoever took it); of the types due now only the
// largest runs. The restore test and the verify run are due per their schedule since their last
// attempt, whatever the outcome (a failed one is a finding to alert on, not an error to retry:
// one per slot). One job at a time per target, the backup first, then the restore test (it then
// tests the newest backup too), then verify.
TargetPlan plan_target(const TargetConfig& target, const TargetHistory& history, SysTime now);

// What the loop of one target needs from the world: the daemon implements it over the live
// config, the status cache and the jobs; the unit tests over a ManualClock.
class TargetJobs {
 public:
  virtual ~TargetJobs() = default;

  // The target's current config (a reload may change it at any time); nullopt once removed.
  virtual std::optional<TargetConfig> target() = 0;
  // When the newest good backup serving `slot` (see serves()) that started at or before
  // `not_after` started, whoever took it (this daemon or `backup` by hand). Later ones were
  // stamped by a clock that was ahead.
  virtual std::optional<SysTime> last_good_backup(BackupType slot, SysTime not_after) = 0;
  // When the last restore test started, whatever its outcome.
  virtual std::optional<SysTime> last_restore_test() = 0;
  // When the last verify run started, whatever its outcome.
  virtual std::optional<SysTime> last_verify() = 0;
  // Runs one backup of `type`; false when it failed.
  virtual bool backup(const TargetConfig& target, BackupType type) = 0;
  // Runs one restore test; false when it could not even start (a test that ran and failed is
  // recorded, so it returns true).
  virtual bool restore_test(const TargetConfig& target) = 0;
  // Runs one verify run; false when it could not even start (another job held the directory),
  // true when it ran, whatever it found (that is recorded).
  virtual bool verify(const TargetConfig& target) = 0;
  // Publishes when the jobs run next (metrics, status page).
  virtual void publish(const TargetPlan& plan) = 0;
  // Waits until `deadline`, a stop, or a change (a reload); false once stopping.
  virtual bool wait_until(SysTime deadline) = 0;
  virtual bool stopping() = 0;
};

// The scheduler loop of one target: plan, run the due job (backing off after failures, per
// backup type and per job), or wait and plan again, until the agent stops or a reload removes the
// target. After every job and every wake-up it plans from scratch, so a reload, a backup taken by
// hand, a machine that slept or a wall clock that was set are all taken into account. A backup
// stamped more than an hour (or its type's schedule interval, if shorter) after now (the clock
// was ahead, or was set back since) is not the last backup: the schedule would otherwise wait,
// for days maybe, until the clock passed it, and skip the slots before its stamp. A step back of
// less than that (NTP's hour) waits, so the slot just served does not run twice; a larger one
// runs it again: an extra backup rather than a missed one.
void run_target_loop(TargetJobs& jobs, const Clock& clock);

}  // namespace pgbackup
