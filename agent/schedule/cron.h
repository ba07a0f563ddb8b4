#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/clock.h"

namespace pgbackup {

// A standard 5-field cron schedule ("m h dom mon dow"), evaluated in UTC at minute resolution.
class CronSchedule {
 public:
  // Parses "m h dom mon dow" (UTC) or @hourly/@daily/@midnight/@weekly/@monthly/@yearly/@annually.
  // Fields: *, numbers, lists (1,2,5), ranges (1-5), steps (*/15, 0-30/10, 5/15), month names
  // JAN-DEC and day names SUN-SAT (case-insensitive), dow 0-7 (0 and 7 = Sunday). Throws
  // std::invalid_argument naming the bad field and value, or saying that the schedule never fires.
  static CronSchedule parse(std::string_view expression);

  // The first scheduled minute strictly after t.
  SysTime next_after(SysTime t) const;

  // The first `n` scheduled minutes strictly after `from`, earliest first (empty when n <= 0).
  std::vector<SysTime> next_runs(SysTime from, int n) const;

  // The latest scheduled minute at or before t, or nullopt if there is none within the 5 years
  // before t.
  std::optional<SysTime> last_at_or_before(SysTime t) const;

  // The expected interval between runs: the longest gap between consecutive runs over the year
  // after `from` (including the gap to the first run past that year). Used for alert thresholds.
  std::chrono::seconds interval(SysTime from) const;

  // Whether the minute containing t is a scheduled minute.
  bool matches(SysTime t) const;

  // The expression exactly as given to parse().
  const std::string& expression() const;

 private:
  CronSchedule() = default;

  // Whether a calendar day is a scheduled day (month, day of month and day of week rules).
  bool matches_day(std::chrono::sys_days day) const;

  std::string expression_;
  std::uint64_t minutes_ = 0;          // bit m for minute m, 0-59
  std::uint64_t hours_ = 0;            // bit h for hour h, 0-23
  std::uint64_t days_ = 0;             // bit d for day of month d, 1-31
  std::uint64_t months_ = 0;           // bit m for month m, 1-12
  std::uint64_t weekdays_ = 0;         // bit d for day of week d, 0-6 (0 = Sunday)
  bool days_unrestricted_ = true;      // the day-of-month field starts with '*'
  bool weekdays_unrestricted_ = true;  // the day-of-week field starts with '*'
};

}  // namespace pgbackup
