#include "agent/schedule/scheduler.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "agent/schedule/cron.h"
#include "agent/schedule/schedule.h"

namespace pgbackup {
namespace {

std::size_t index_of(BackupType type) { return static_cast<std::size_t>(type); }

// When a job on `schedule` is due, since its last run and while it backs off.
SysTime job_due(const std::string& schedule, std::optional<SysTime> last_run,
                const RetryState& retry, SysTime now) {
  return retry.hold(next_run_time(CronSchedule::parse(schedule), last_run, now));
}

// How far ahead of now a backup's stamp is still believed: a step back of the wall clock by NTP
// (up to an hour) mid-backup must not run the slot just served again.
constexpr std::chrono::hours kTrustedAhead{1};

// One turn's history read from the target: the newest good backup per type, trusted only up to
// an hour, and never more than one interval of that type's schedule, ahead of now (see
// run_target_loop).
void read_history(TargetJobs& jobs, const TargetConfig& target, SysTime now,
                  TargetHistory& history) {
  for (const TypeSchedule& t : scheduled_types(target)) {
    const auto interval = CronSchedule::parse(t.schedule).interval(now);
    const SysTime trusted_until =
        now + std::min<std::chrono::seconds>(interval, std::chrono::seconds(kTrustedAhead));
    history.last_good[index_of(t.type)] = jobs.last_good_backup(t.type, trusted_until);
  }
  history.last_restore_test = jobs.last_restore_test();
  history.last_verify = target.verify ? jobs.last_verify() : std::nullopt;
}

// Runs the backup the plan chose and keeps its type's retry state.
void run_backup(TargetJobs& jobs, const TargetConfig& target, BackupType type,
                TargetHistory& history, const Clock& clock) {
  RetryState& retry = history.backup_retry[index_of(type)];
  if (jobs.backup(target, type)) {
    retry.succeed();
    return;
  }
  std::string schedule = target.backup.schedule;
  for (const TypeSchedule& t : scheduled_types(target)) {
    if (t.type == type) schedule = t.schedule;
  }
  const auto delay = retry.fail(schedule, clock.now());
  spdlog::warn("{} backup of {} failed {} time(s) in a row; next try in {}s",
               backup_type_name(type), target.name, retry.failures, delay.count());
}

}  // namespace

std::chrono::seconds RetryState::fail(const std::string& schedule, SysTime now) {
  ++failures;
  const auto delay = retry_delay(failures, CronSchedule::parse(schedule).interval(now));
  retry_at = now + delay;
  return delay;
}

SysTime RetryState::hold(SysTime due) const { return failures > 0 ? std::max(due, retry_at) : due; }

SysTime TargetPlan::wake_at() const {
  SysTime at = backup_due;
  if (restore_test_due) at = std::min(at, *restore_test_due);
  if (verify_due) at = std::min(at, *verify_due);
  return at;
}

TargetPlan plan_target(const TargetConfig& target, const TargetHistory& history, SysTime now) {
  TargetPlan plan;
  for (const TypeSchedule& t : scheduled_types(target)) {
    const std::size_t i = index_of(t.type);
    plan.backups.push_back(
        {t.type, job_due(t.schedule, history.last_good[i], history.backup_retry[i], now)});
  }
  plan.backup_due = earliest_due(plan.backups);
  if (target.restore_test) {
    plan.restore_test_due = job_due(target.restore_test->schedule, history.last_restore_test,
                                    history.restore_test_retry, now);
  }
  if (target.verify && !target.verify->schedule.empty()) {
    plan.verify_due =
        job_due(target.verify->schedule, history.last_verify, history.verify_retry, now);
  }
  if (const std::optional<BackupType> type = type_to_run(plan.backups, now)) {
    plan.now = DueJob::backup;
    plan.backup_type = *type;
  } else if (plan.restore_test_due && *plan.restore_test_due <= now) {
    plan.now = DueJob::restore_test;
  } else if (plan.verify_due && *plan.verify_due <= now) {
    plan.now = DueJob::verify;
  }
  return plan;
}

void run_target_loop(TargetJobs& jobs, const Clock& clock) {
  TargetHistory history;  // the retry states live across turns; the rest is read each turn
  while (!jobs.stopping()) {
    const std::optional<TargetConfig> target = jobs.target();
    if (!target) return;  // removed by a reload
    const SysTime now = clock.now();
    read_history(jobs, *target, now, history);
    const TargetPlan plan = plan_target(*target, history, now);
    jobs.publish(plan);
    switch (plan.now) {
      case DueJob::backup:
        run_backup(jobs, *target, plan.backup_type, history, clock);
        break;
      case DueJob::restore_test:
        if (jobs.restore_test(*target)) {
          history.restore_test_retry.succeed();
        } else {
          const auto delay =
              history.restore_test_retry.fail(target->restore_test->schedule, clock.now());
          spdlog::warn("restore test of {} could not run {} time(s) in a row; next try in {}s",
                       target->name, history.restore_test_retry.failures, delay.count());
        }
        break;
      case DueJob::verify:
        if (jobs.verify(*target)) {
          history.verify_retry.succeed();
        } else {
          const auto delay = history.verify_retry.fail(target->verify->schedule, clock.now());
          spdlog::warn("verify of {} could not run {} time(s) in a row; next try in {}s",
                       target->name, history.verify_retry.failures, delay.count());
        }
        break;
      case DueJob::none:
        if (!jobs.wait_until(plan.wake_at())) return;
        break;
    }
  }
}

}  // namespace pgbackup
