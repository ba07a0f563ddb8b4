#pragma once

#include <chrono>
#include <optional>

#include "agent/core/timeutil.h"
#include "agent/schedule/cron.h"

namespace pgbackup {

// When a job should run next, given when it last ran (started) and the time now: at once when it
// never ran or when a scheduled time passed since its last run (missed while the agent was down
// or the machine slept), else the next scheduled time.
SysTime next_run_time(const CronSchedule& schedule, std::optional<SysTime> last_run, SysTime now);

// How long to wait before retrying after `consecutive_failures` failures in a row: 1, 2, 4 ...
// minutes, capped at half the schedule's interval (and at least one minute), so failures never
// spin and a retry never runs into the next scheduled run.
std::chrono::seconds retry_delay(int consecutive_failures, std::chrono::seconds schedule_interval);

}  // namespace pgbackup
