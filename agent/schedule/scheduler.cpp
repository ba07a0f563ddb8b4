#include "agent/schedule/scheduler.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "agent/schedule/cron.h"
#include "agent/schedule/schedule.h"

namespace pgbackup {

std::chrono::seconds RetryState::fail(const std::string& schedule, SysTime now) {
  ++failures;
  const auto delay = retry_delay(failures, CronSchedule::parse(schedule).interval(now));
  retry_at = now + delay;
  return delay;
}

SysTime RetryState::hold(SysTime due) const { return failures > 0 ? std::max(due, retry_at) : due; }

SysTime TargetPlan::wake_at() const {
  return restore_test_due ? std::min(backup_due, *restore_test_due) : backup_due;
}

TargetPlan plan_target(const TargetConfig& target, std::optional<SysTime> last_good_backup,
                       std::optional<SysTime> last_restore_test, const RetryState& backup_retry,
                       const RetryState& restore_test_retry, SysTime now) {
  TargetPlan plan;
  plan.backup_due = backup_retry.hold(
      next_run_time(CronSchedule::parse(target.backup.schedule), last_good_backup, now));
  if (target.restore_test) {
    plan.restore_test_due = restore_test_retry.hold(
        next_run_time(CronSchedule::parse(target.restore_test->schedule), last_restore_test, now));
  }
  if (plan.backup_due <= now) {
    plan.now = DueJob::backup;
  } else if (plan.restore_test_due && *plan.restore_test_due <= now) {
    plan.now = DueJob::restore_test;
  }
  return plan;
}

void run_target_loop(TargetJobs& jobs, const Clock& clock) {
  RetryState backup_retry;
  RetryState restore_test_retry;  // only for tests that could not even start
  while (!jobs.stopping()) {
    const std::optional<TargetConfig> target = jobs.target();
    if (!target) return;  // removed by a reload
    const SysTime now = clock.now();
    const SysTime trusted_until = now + CronSchedule::parse(target->backup.schedule).interval(now);
    const TargetPlan plan =
        plan_target(*target, jobs.last_good_backup(trusted_until), jobs.last_restore_test(),
                    backup_retry, restore_test_retry, now);
    jobs.publish(plan);
    switch (plan.now) {
      case DueJob::backup:
        if (jobs.backup(*target)) {
          backup_retry.succeed();
        } else {
          const auto delay = backup_retry.fail(target->backup.schedule, clock.now());
          spdlog::warn("backup of {} failed {} time(s) in a row; next try in {}s", target->name,
                       backup_retry.failures, delay.count());
        }
        break;
      case DueJob::restore_test:
        if (jobs.restore_test(*target)) {
          restore_test_retry.succeed();
        } else {
          const auto delay = restore_test_retry.fail(target->restore_test->schedule, clock.now());
          spdlog::warn("restore test of {} could not run {} time(s) in a row; next try in {}s",
                       target->name, restore_test_retry.failures, delay.count());
        }
        break;
      case DueJob::none:
        if (!jobs.wait_until(plan.wake_at())) return;
        break;
    }
  }
}

}  // namespace pgbackup
