#include "agent/schedule/cron.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using pgbackup::CronSchedule;
using pgbackup::SysTime;

namespace {

// "2026-11-25 06:35" (UTC) as a time point.
SysTime utc(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%d %d:%d", &y, &mo, &d, &h, &mi) != 5) {
    throw std::invalid_argument("bad test time " + text);
  }
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month(mo),
                                        std::chrono::day(d)};
  if (!ymd.ok()) throw std::invalid_argument("bad test date " + text);
  return std::chrono::sys_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{mi};
}

// A time point as "2026-11-25 06:35" (UTC), so failures show readable times.
std::string text(SysTime t) {
  const auto minute = std::chrono::floor<std::chrono::minutes>(t);
  const auto day = std::chrono::floor<std::chrono::days>(minute);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss time{minute - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()));
  return buf;
}

std::string text(const std::optional<SysTime>& t) { return t ? text(*t) : "none"; }

struct NextCase {
  const char* expression;
  const char* from;
  const char* expected;
};

void check_next(std::initializer_list<NextCase> cases) {
  for (const NextCase& c : cases) {
    INFO(c.expression << " after " << c.from);
    CHECK(text(CronSchedule::parse(c.expression).next_after(utc(c.from))) == c.expected);
  }
}

}  // namespace

TEST_CASE("the test helpers read and print UTC minutes") {
  CHECK(text(utc("2026-11-25 06:35")) == "2026-11-25 06:35");
  CHECK(utc("1970-01-01 00:01") == SysTime{60s});
}

TEST_CASE("minute fields accept stars, numbers, lists, ranges and steps") {
  check_next({
      {"* * * * *", "2026-11-25 06:35", "2026-11-25 06:36"},
      {"*/15 * * * *", "2026-11-25 06:35", "2026-11-25 06:45"},
      {"*/15 * * * *", "2026-11-25 06:45", "2026-11-25 07:00"},
      {"0-30/10 * * * *", "2026-11-25 06:05", "2026-11-25 06:10"},
      {"0-30/10 * * * *", "2026-11-25 06:35", "2026-11-25 07:00"},
      {"5/15 * * * *", "2026-11-25 06:35", "2026-11-25 06:50"},
      {"5/15 * * * *", "2026-11-25 06:50", "2026-11-25 07:05"},
      {"1,2,5 * * * *", "2026-11-25 06:01", "2026-11-25 06:02"},
      {"1,2,5 * * * *", "2026-11-25 06:35", "2026-11-25 07:01"},
      {"10-12 * * * *", "2026-11-25 06:11", "2026-11-25 06:12"},
      {"10-12 * * * *", "2026-11-25 06:12", "2026-11-25 07:10"},
      {"0-5,50-59/3 * * * *", "2026-11-25 06:51", "2026-11-25 06:53"},
      {"7 * * * *", "2026-11-25 06:07", "2026-11-25 07:07"},
  });
}

TEST_CASE("hour fields accept numbers, lists, ranges and steps") {
  check_next({
      {"30 6 * * *", "2026-11-25 06:29", "2026-11-25 06:30"},
      {"30 6 * * *", "2026-11-25 06:35", "2026-11-26 06:30"},
      {"0 8,20 * * *", "2026-11-25 06:35", "2026-11-25 08:00"},
      {"0 8,20 * * *", "2026-11-25 20:00", "2026-11-26 08:00"},
      {"0 9-17/4 * * *", "2026-11-25 13:00", "2026-11-25 17:00"},
      {"0 9-17/4 * * *", "2026-11-25 17:00", "2026-11-26 09:00"},
      {"*/30 22-23 * * *", "2026-11-25 23:30", "2026-11-26 22:00"},
  });
}

TEST_CASE("the next run is strictly after a time in the middle of a minute") {
  const CronSchedule every_minute = CronSchedule::parse("* * * * *");
  CHECK(text(every_minute.next_after(utc("2026-11-25 06:35") + 30s)) == "2026-11-25 06:36");
  CHECK(text(every_minute.next_after(utc("2026-11-25 06:35") + 59s)) == "2026-11-25 06:36");
  const CronSchedule nightly = CronSchedule::parse("0 2 * * *");
  CHECK(text(nightly.next_after(utc("2026-11-25 02:00") + 1s)) == "2026-11-26 02:00");
  CHECK(text(nightly.next_after(utc("2026-11-25 02:00") - 1s)) == "2026-11-25 02:00");
}

TEST_CASE("the next runs are the following scheduled minutes in order, strictly after the start") {
  const auto texts = [](const std::vector<SysTime>& runs) {
    std::vector<std::string> out;
    for (const SysTime t : runs) out.push_back(text(t));
    return out;
  };
  const CronSchedule weekly_ish = CronSchedule::parse("30 4 * * MON,THU");
  // 2026-11-26 is a Thursday: its 04:30 run is the start itself, so it is not included.
  CHECK(texts(weekly_ish.next_runs(utc("2026-11-26 04:30"), 5)) ==
        std::vector<std::string>{"2026-11-30 04:30", "2026-12-03 04:30", "2026-12-07 04:30",
                                 "2026-12-10 04:30", "2026-12-14 04:30"});
  const CronSchedule hourly = CronSchedule::parse("@hourly");
  CHECK(texts(hourly.next_runs(utc("2026-12-31 22:10") + 5s, 3)) ==
        std::vector<std::string>{"2026-12-31 23:00", "2027-01-01 00:00", "2027-01-01 01:00"});
  // The first of them is next_after, each following one next_after the previous.
  const auto runs = CronSchedule::parse("*/20 9-10 * * *").next_runs(utc("2026-11-25 10:50"), 4);
  REQUIRE(runs.size() == 4);
  CHECK(runs[0] == CronSchedule::parse("*/20 9-10 * * *").next_after(utc("2026-11-25 10:50")));
  CHECK(texts(runs) == std::vector<std::string>{"2026-11-26 09:00", "2026-11-26 09:20",
                                                "2026-11-26 09:40", "2026-11-26 10:00"});
  CHECK(hourly.next_runs(utc("2026-11-25 06:35"), 0).empty());
  CHECK(hourly.next_runs(utc("2026-11-25 06:35"), -1).empty());
}

TEST_CASE("month and day names are read in any case") {
  check_next({
      {"0 0 1 JAN *", "2026-11-25 06:35", "2027-01-01 00:00"},
      {"0 0 1 jan-mar *", "2027-02-15 00:00", "2027-03-01 00:00"},
      {"0 0 * Feb *", "2026-11-25 06:35", "2027-02-01 00:00"},
      {"0 0 1 mar,SEP *", "2027-03-01 00:00", "2027-09-01 00:00"},
      {"0 0 1 */3 *", "2026-11-25 06:35", "2027-01-01 00:00"},
      {"0 0 1 */3 *", "2027-01-01 00:00", "2027-04-01 00:00"},
      {"0 9 * * MON", "2026-11-25 06:35", "2026-11-30 09:00"},
      {"0 9 * * mon-fri", "2026-11-27 10:00", "2026-11-30 09:00"},
      {"0 9 * * Sat,sun", "2026-11-25 06:35", "2026-11-28 09:00"},
      {"0 9 * * wed", "2026-11-25 06:35", "2026-11-25 09:00"},
  });
}

TEST_CASE("day of week 7 is Sunday like 0") {
  check_next({
      {"0 4 * * 7", "2026-11-25 06:35", "2026-11-29 04:00"},
      {"0 4 * * 0", "2026-11-25 06:35", "2026-11-29 04:00"},
      {"0 4 * * 5-7", "2026-11-25 06:35", "2026-11-27 04:00"},
      {"0 4 * * 5-7", "2026-11-28 05:00", "2026-11-29 04:00"},
      {"0 4 * * 1,7", "2026-11-29 04:00", "2026-11-30 04:00"},
  });
  CHECK(CronSchedule::parse("0 4 * * 7").interval(utc("2026-11-25 06:35")) == 7 * 24h);
}

TEST_CASE("when day of month and day of week are both restricted either one selects the day") {
  check_next({
      // Monday 30 November comes before the 1st, then the 1st (a Tuesday) is a run too.
      {"0 0 1 * MON", "2026-11-25 06:35", "2026-11-30 00:00"},
      {"0 0 1 * MON", "2026-11-30 00:00", "2026-12-01 00:00"},
      {"0 0 1 * MON", "2026-12-01 00:00", "2026-12-07 00:00"},
      // No 31 February, but February's Mondays still fire.
      {"0 0 31 2 MON", "2026-11-25 06:35", "2027-02-01 00:00"},
  });
}

TEST_CASE("when either day field is a star both must match") {
  check_next({
      {"0 0 13 * *", "2026-11-25 06:35", "2026-12-13 00:00"},
      {"0 0 * 12 FRI", "2026-11-25 06:35", "2026-12-04 00:00"},
      {"0 0 13 * *", "2026-12-13 00:00", "2027-01-13 00:00"},
      // Like Vixie cron, "*/2" counts as a star: odd days that are Mondays (30 Nov is even).
      {"0 0 */2 * MON", "2026-11-25 06:35", "2026-12-07 00:00"},
  });
}

TEST_CASE("a monthly schedule on the 31st skips months without a 31st") {
  check_next({
      {"0 0 31 * *", "2026-11-25 06:35", "2026-12-31 00:00"},
      {"0 0 31 * *", "2026-12-31 00:00", "2027-01-31 00:00"},
      {"0 0 31 * *", "2027-01-31 00:00", "2027-03-31 00:00"},
      {"0 0 31 * *", "2026-04-01 00:00", "2026-05-31 00:00"},
      {"0 0 30 * *", "2027-01-31 00:00", "2027-03-30 00:00"},
      {"0 0 30 * *", "2026-04-29 12:00", "2026-04-30 00:00"},
      {"0 0 28 2 *", "2026-03-01 00:00", "2027-02-28 00:00"},
      {"0 0 * 2 *", "2027-02-28 12:00", "2028-02-01 00:00"},
      {"0 0 * 2 *", "2028-02-28 12:00", "2028-02-29 00:00"},
  });
}

TEST_CASE("a schedule on 29 February waits for the next leap year") {
  check_next({
      {"0 0 29 2 *", "2026-11-25 06:35", "2028-02-29 00:00"},
      {"0 0 29 2 *", "2028-02-29 00:00", "2032-02-29 00:00"},
      {"0 0 29 2 *", "2028-02-28 23:59", "2028-02-29 00:00"},
      // 2100 is not a leap year.
      {"0 0 29 2 *", "2096-03-01 00:00", "2104-02-29 00:00"},
  });
}

TEST_CASE("runs roll over into the next year") {
  check_next({
      {"* * * * *", "2026-12-31 23:59", "2027-01-01 00:00"},
      {"59 23 31 12 *", "2026-12-31 23:59", "2027-12-31 23:59"},
      {"0 0 1 1 *", "2026-11-25 06:35", "2027-01-01 00:00"},
      {"0 12 * * *", "2026-12-31 12:00", "2027-01-01 12:00"},
  });
}

TEST_CASE("macros stand for their five-field schedules") {
  check_next({
      {"@hourly", "2026-11-25 06:35", "2026-11-25 07:00"},
      {"@daily", "2026-11-25 06:35", "2026-11-26 00:00"},
      {"@midnight", "2026-11-25 06:35", "2026-11-26 00:00"},
      {"@weekly", "2026-11-25 06:35", "2026-11-29 00:00"},
      {"@monthly", "2026-11-25 06:35", "2026-12-01 00:00"},
      {"@yearly", "2026-11-25 06:35", "2027-01-01 00:00"},
      {"@annually", "2026-11-25 06:35", "2027-01-01 00:00"},
      {"@DAILY", "2026-11-25 06:35", "2026-11-26 00:00"},
  });
}

TEST_CASE("extra whitespace between fields is ignored and the expression is kept as given") {
  const CronSchedule schedule = CronSchedule::parse("  0   2 *\t* *  ");
  CHECK(schedule.expression() == "  0   2 *\t* *  ");
  CHECK(text(schedule.next_after(utc("2026-11-25 06:35"))) == "2026-11-26 02:00");
}

TEST_CASE("a schedule matches exactly its own minutes") {
  const CronSchedule schedule = CronSchedule::parse("30 2 * * MON");
  CHECK(schedule.matches(utc("2026-11-30 02:30")));
  CHECK(schedule.matches(utc("2026-11-30 02:30") + 59s));
  CHECK_FALSE(schedule.matches(utc("2026-11-30 02:31")));
  CHECK_FALSE(schedule.matches(utc("2026-11-29 02:30")));
}

TEST_CASE("the last run at or before a time includes that exact minute") {
  struct Case {
    const char* expression;
    const char* at;
    const char* expected;
  };
  const Case cases[] = {
      {"0 2 * * *", "2026-11-25 02:00", "2026-11-25 02:00"},
      {"0 2 * * *", "2026-11-25 01:59", "2026-11-24 02:00"},
      {"*/15 * * * *", "2026-11-25 06:35", "2026-11-25 06:30"},
      {"*/15 * * * *", "2026-11-25 06:30", "2026-11-25 06:30"},
      {"*/15 * * * *", "2026-11-25 06:29", "2026-11-25 06:15"},
      {"*/15 * * * *", "2026-11-25 00:14", "2026-11-25 00:00"},
      {"*/15 * * * *", "2026-11-25 00:00", "2026-11-25 00:00"},
      {"0 8,20 * * *", "2026-11-25 19:59", "2026-11-25 08:00"},
      {"0 8,20 * * *", "2026-11-25 07:59", "2026-11-24 20:00"},
      {"0 0 1 * *", "2026-11-25 06:35", "2026-11-01 00:00"},
      {"0 0 1 * *", "2026-01-01 00:00", "2026-01-01 00:00"},
      {"0 0 1 * *", "2025-12-31 23:59", "2025-12-01 00:00"},
      {"59 23 31 12 *", "2027-01-01 00:00", "2026-12-31 23:59"},
      {"0 0 31 * *", "2026-12-01 00:00", "2026-10-31 00:00"},
      {"0 0 31 * *", "2027-03-30 00:00", "2027-01-31 00:00"},
      {"0 4 * * 0", "2026-11-25 06:35", "2026-11-22 04:00"},
      {"0 0 1 * MON", "2026-11-29 00:00", "2026-11-23 00:00"},
      {"0 0 29 2 *", "2026-11-25 06:35", "2024-02-29 00:00"},
      {"0 0 29 2 *", "2028-02-29 00:00", "2028-02-29 00:00"},
      {"0 0 29 2 *", "2028-02-28 23:59", "2024-02-29 00:00"},
      // 2096-02-29 is just under 5 years before 2101-02-28.
      {"0 0 29 2 *", "2101-02-28 00:00", "2096-02-29 00:00"},
      // The last one before 2104-02-28 is 2096-02-29, more than 5 years earlier.
      {"0 0 29 2 *", "2104-02-28 00:00", "none"},
  };
  for (const Case& c : cases) {
    INFO(c.expression << " at " << c.at);
    CHECK(text(CronSchedule::parse(c.expression).last_at_or_before(utc(c.at))) == c.expected);
  }
  const CronSchedule nightly = CronSchedule::parse("0 2 * * *");
  CHECK(text(nightly.last_at_or_before(utc("2026-11-25 02:00") + 59s)) == "2026-11-25 02:00");
  CHECK(text(nightly.last_at_or_before(utc("2026-11-25 02:00") - 1s)) == "2026-11-24 02:00");
}

TEST_CASE("the interval is the longest gap between runs over the next year") {
  struct Case {
    const char* expression;
    std::chrono::seconds expected;
  };
  const Case cases[] = {
      {"0 2 * * *", 24h},
      {"0 4 * * 0", 7 * 24h},
      {"*/15 * * * *", 15min},
      {"* * * * *", 1min},
      {"0 2 1 * *", 31 * 24h},
      {"0 0,6 * * *", 18h},
      {"0 9 * * MON-FRI", 3 * 24h},
      {"@hourly", 1h},
      {"@yearly", 365 * 24h},
      // 31 May to 31 July.
      {"0 0 31 * *", 61 * 24h},
      {"0 0 29 2 *", (4 * 365 + 1) * 24h},
  };
  for (const Case& c : cases) {
    INFO(c.expression);
    CHECK(CronSchedule::parse(c.expression).interval(utc("2026-11-25 06:35")) == c.expected);
  }
}

TEST_CASE("an invalid schedule is rejected with the bad field and value") {
  struct Case {
    const char* expression;
    const char* message;
  };
  const Case cases[] = {
      {"", "expected 5 fields (minute hour day-of-month month day-of-week) but got 0"},
      {"* * * *", "expected 5 fields (minute hour day-of-month month day-of-week) but got 4"},
      {"* * * * * *", "but got 6"},
      {"@daily 5", "but got 2"},
      {"61 * * * *", "invalid cron schedule \"61 * * * *\": minute 61 is out of range 0-59"},
      {"* 24 * * *", "hour 24 is out of range 0-23"},
      {"* * 0 * *", "day-of-month 0 is out of range 1-31"},
      {"* * 32 * *", "day-of-month 32 is out of range 1-31"},
      {"* * * 0 *", "month 0 is out of range 1-12"},
      {"* * * 13 *", "month 13 is out of range 1-12"},
      {"* * * * 8", "day-of-week 8 is out of range 0-7"},
      {"99999999999 * * * *", "minute 99999999999 is out of range 0-59"},
      {"0-60 * * * *", "minute 60 is out of range 0-59"},
      {"x * * * *", "minute value \"x\" is not a number"},
      {"MON * * * *", "minute value \"MON\" is not a number"},
      {"* * * FOO *", "month \"FOO\" is not a number or a name JAN-DEC"},
      {"* * * * FUNDAY", "day-of-week \"FUNDAY\" is not a number or a name SUN-SAT"},
      {"*/0 * * * *", "minute step 0 must be at least 1"},
      {"*/ * * * *", "minute step is missing"},
      {"*/x * * * *", "minute step \"x\" is not a number"},
      {"30-10 * * * *", "minute range 30-10 runs backwards"},
      {"* * * * SAT-SUN", "day-of-week range SAT-SUN runs backwards"},
      {"1,,2 * * * *", "minute \"1,,2\" has an empty list item"},
      {"1, * * * *", "minute \"1,\" has an empty list item"},
      {"1- * * * *", "minute value is missing"},
      {"-5 * * * *", "minute value is missing"},
      {"1-2-3 * * * *", "minute value \"2-3\" is not a number"},
      {"@reboot", "unknown macro @reboot"},
      {"0 0 30 2 *", "never fires"},
      {"0 0 30,31 FEB *", "never fires"},
      {"0 0 31 4,6,9,11 *", "never fires"},
  };
  for (const Case& c : cases) {
    INFO(c.expression);
    CHECK_THROWS_AS(CronSchedule::parse(c.expression), std::invalid_argument);
    CHECK_THROWS_WITH(CronSchedule::parse(c.expression), Catch::Contains(c.message));
  }
}

TEST_CASE("next and last runs agree with a minute-by-minute scan") {
  const char* expressions[] = {
      "*/7 */5 * * *", "0-5,50-59/3 3,9-11 * * *", "0 0 1 * MON",      "15 6 */2 * MON",
      "0 12 * * 7",    "30 1 28-31 * *",           "45 23 * JAN,DEC *"};
  const SysTime start = utc("2026-12-20 00:00");
  const SysTime end = utc("2027-01-20 00:00");
  for (const char* expression : expressions) {
    INFO(expression);
    const CronSchedule schedule = CronSchedule::parse(expression);
    std::optional<SysTime> last;
    for (SysTime t = start; t < end; t += 1min) {
      if (schedule.matches(t)) {
        // The scan just passed a run: the previous minute's next run must be this one.
        REQUIRE(text(schedule.next_after(t - 1min)) == text(t));
        last = t;
      }
      if (last) REQUIRE(text(schedule.last_at_or_before(t)) == text(last));
    }
  }
}
