#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "agent/config/config.h"
#include "agent/core/clock.h"

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
enum class DueJob { none, backup, restore_test };
struct TargetPlan {
  SysTime backup_due;
  std::optional<SysTime> restore_test_due;  // nullopt: the target has no restore tests
  DueJob now = DueJob::none;
  // When to look again if nothing runs now.
  SysTime wake_at() const;
};

// The pure decision of one turn of the loop below. The backup is due per its schedule since the
// newest good backup (whoever took it); the restore test per its schedule since its last
// attempt, whatever the outcome (a failed test is a finding to alert on, not an error to retry,
// and each try restores a whole database: one per slot). One job at a time per target, the
// backup first: a restore test due at the same moment then tests the newest backup too.
TargetPlan plan_target(const TargetConfig& target, std::optional<SysTime> last_good_backup,
                       std::optional<SysTime> last_restore_test, const RetryState& backup_retry,
                       const RetryState& restore_test_retry, SysTime now);

// What the loop of one target needs from the world: the daemon implements it over the live
// config, the status cache and the jobs; the unit tests over a ManualClock.
class TargetJobs {
 public:
  virtual ~TargetJobs() = default;

  // The target's current config (a reload may change it at any time); nullopt once removed.
  virtual std::optional<TargetConfig> target() = 0;
  // When the newest good backup that started at or before `not_after` started, whoever took it
  // (this daemon or `backup` by hand). Later ones were stamped by a clock that was ahead.
  virtual std::optional<SysTime> last_good_backup(SysTime not_after) = 0;
  // When the last restore test started, whatever its outcome.
  virtual std::optional<SysTime> last_restore_test() = 0;
  // Runs one backup; false when it failed.
  virtual bool backup(const TargetConfig& target) = 0;
  // Runs one restore test; false when it could not even start (a test that ran and failed is
  // recorded, so it returns true).
  virtual bool restore_test(const TargetConfig& target) = 0;
  // Publishes when the jobs run next (metrics, status page).
  virtual void publish(const TargetPlan& plan) = 0;
  // Waits until `deadline`, a stop, or a change (a reload); false once stopping.
  virtual bool wait_until(SysTime deadline) = 0;
  virtual bool stopping() = 0;
};

// The scheduler loop of one target: plan, run the due job (backing off after failures), or wait
// and plan again, until the agent stops or a reload removes the target. After every job and
// every wake-up it plans from scratch, so a reload, a backup taken by hand, a machine that slept
// or a wall clock that was set are all taken into account. A backup stamped more than a schedule
// interval after now (the clock was ahead, or was set back since) is not the last backup: the
// schedule would otherwise wait, for days maybe, until the clock passed it. A step back of less
// than an interval (NTP's hour) waits, so the slot just served does not run twice.
void run_target_loop(TargetJobs& jobs, const Clock& clock);

}  // namespace pgbackup
