// The cron parser: any expression parses or throws std::invalid_argument; a schedule that parses
// answers next/last runs without hanging, and its next run is a scheduled minute after `from`.
#include <chrono>
#include <stdexcept>

#include "agent/schedule/cron.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using pgbackup::fuzz::require;
  std::optional<pgbackup::CronSchedule> schedule;
  try {
    schedule = pgbackup::CronSchedule::parse(pgbackup::fuzz::text_of(data, size));
  } catch (const std::invalid_argument&) {
    return 0;
  }
  const pgbackup::SysTime from{std::chrono::seconds(1767225600)};  // 2026-01-01T00:00:00Z
  const pgbackup::SysTime next = schedule->next_after(from);
  require(next > from, "next_after is after from");
  require(schedule->matches(next), "next_after is a scheduled minute");
  const auto last = schedule->last_at_or_before(next);
  require(last && *last == next, "last_at_or_before(next) is next");
  (void)schedule->next_runs(from, 3);
  return 0;
}
