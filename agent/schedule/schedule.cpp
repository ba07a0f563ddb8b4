#include "agent/schedule/schedule.h"

#include <algorithm>

namespace pgbackup {

SysTime next_run_time(const CronSchedule& schedule, std::optional<SysTime> last_run, SysTime now) {
  if (!last_run) return now;
  const std::optional<SysTime> due = schedule.last_at_or_before(now);
  if (due && *due > *last_run) return now;
  return schedule.next_after(std::max(now, *last_run));
}

std::chrono::seconds retry_delay(int consecutive_failures, std::chrono::seconds schedule_interval) {
  using std::chrono::seconds;
  const int exponent = std::clamp(consecutive_failures - 1, 0, 20);
  const seconds backoff = seconds(60) * (1L << exponent);
  const seconds cap = std::max(seconds(60), schedule_interval / 2);
  return std::min(backoff, cap);
}

}  // namespace pgbackup
