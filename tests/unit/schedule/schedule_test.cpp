#include "agent/schedule/schedule.h"

#include <catch2/catch.hpp>

using namespace pgbackup;
using namespace std::chrono_literals;

namespace {
SysTime at(const char* iso) { return *parse_iso8601(iso); }
}  // namespace

TEST_CASE("a target that never backed up, or missed its run, backs up at once") {
  const CronSchedule daily = CronSchedule::parse("0 2 * * *");
  struct Case {
    const char* last_run;  // nullptr: never
    const char* now;
    const char* expected;
  };
  const std::vector<Case> cases = {
      {nullptr, "2026-11-25T10:00:00Z", "2026-11-25T10:00:00Z"},
      // Ran today at 02:00: next is tomorrow.
      {"2026-11-25T02:00:00Z", "2026-11-25T10:00:00Z", "2026-11-26T02:00:00Z"},
      // Last ran yesterday; today's 02:00 passed while the agent was down: now.
      {"2026-11-24T02:00:00Z", "2026-11-25T10:00:00Z", "2026-11-25T10:00:00Z"},
      // The machine slept across several runs: one catch-up run, now.
      {"2026-11-20T02:00:00Z", "2026-11-25T01:00:00Z", "2026-11-25T01:00:00Z"},
      // Not missed: yesterday's run happened and today's is still ahead.
      {"2026-11-24T02:00:05Z", "2026-11-25T01:59:00Z", "2026-11-25T02:00:00Z"},
      // A manual backup after today's slot counts as today's run.
      {"2026-11-25T09:00:00Z", "2026-11-25T09:30:00Z", "2026-11-26T02:00:00Z"},
      // The clock was set back an hour after today's run: that slot is not run again.
      {"2026-11-25T02:00:00Z", "2026-11-25T01:05:00Z", "2026-11-26T02:00:00Z"},
      // Month end and leap year.
      {"2028-02-28T02:00:00Z", "2028-02-28T03:00:00Z", "2028-02-29T02:00:00Z"},
      {"2026-12-31T02:00:00Z", "2026-12-31T02:30:00Z", "2027-01-01T02:00:00Z"},
  };
  for (const Case& c : cases) {
    INFO((c.last_run ? c.last_run : "never") << " / " << c.now);
    const std::optional<SysTime> last = c.last_run ? std::optional(at(c.last_run)) : std::nullopt;
    CHECK(format_iso8601(next_run_time(daily, last, at(c.now))) == c.expected);
  }
}

TEST_CASE("steps and lists schedule from the last run") {
  const CronSchedule quarter = CronSchedule::parse("*/15 * * * *");
  CHECK(format_iso8601(next_run_time(quarter, at("2026-11-25T10:00:00Z"),
                                     at("2026-11-25T10:07:00Z"))) == "2026-11-25T10:15:00Z");
  const CronSchedule weekly = CronSchedule::parse("0 4 * * 0");
  CHECK(format_iso8601(next_run_time(weekly, at("2026-11-22T04:00:00Z"),
                                     at("2026-11-25T10:00:00Z"))) == "2026-11-29T04:00:00Z");
  const CronSchedule list = CronSchedule::parse("30 1,13 * * *");
  CHECK(format_iso8601(next_run_time(list, at("2026-11-25T01:30:00Z"),
                                     at("2026-11-25T02:00:00Z"))) == "2026-11-25T13:30:00Z");
}

TEST_CASE("failures retry with doubling delays capped below the schedule interval") {
  CHECK(retry_delay(1, 24h) == 1min);
  CHECK(retry_delay(2, 24h) == 2min);
  CHECK(retry_delay(3, 24h) == 4min);
  CHECK(retry_delay(11, 24h) == 12h);  // 1024 min is capped at half a day
  CHECK(retry_delay(30, 24h) == 12h);
  CHECK(retry_delay(5, 15min) == 7min + 30s);
  CHECK(retry_delay(5, 1min) == 1min);  // never faster than a minute
}
