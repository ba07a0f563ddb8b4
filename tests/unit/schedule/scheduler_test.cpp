// The scheduler loop of one target on a ManualClock (fake_target.h): days of schedule run in
// microseconds and nothing sleeps.
#include "agent/schedule/scheduler.h"

#include <catch2/catch.hpp>

#include "tests/unit/schedule/fake_target.h"

using namespace pgbackup;
using namespace pgbackup::testing;
using namespace std::chrono_literals;

TEST_CASE("scheduler: a target behind its schedule catches up once, then keeps the schedule") {
  ManualClock clock(at("2026-11-25T10:00:00Z"));
  FakeTarget fake(clock, target("0 2 * * *"), at("2026-11-28T00:00:00Z"));
  fake.good_full(at("2026-11-22T02:00:00Z"));  // three slots missed while the agent was down

  run_target_loop(fake, clock);

  CHECK(fake.runs == std::vector<Run>{{"full", "2026-11-25T10:00:00Z"},
                                      {"full", "2026-11-26T02:00:00Z"},
                                      {"full", "2026-11-27T02:00:00Z"}});
  // Between the jobs it waited, once per slot: no polling.
  CHECK(fake.waits == 3);
}

TEST_CASE("scheduler: a target that never backed up backs up at once") {
  ManualClock clock(at("2026-11-25T10:00:00Z"));
  FakeTarget fake(clock, target("0 2 * * *"), at("2026-11-25T12:00:00Z"));

  run_target_loop(fake, clock);

  CHECK(fake.runs == std::vector<Run>{{"full", "2026-11-25T10:00:00Z"}});
  REQUIRE_FALSE(fake.plans.empty());
  CHECK(format_iso8601(fake.plans.back().backup_due) == "2026-11-26T02:00:00Z");
}

TEST_CASE("scheduler: slots missed while the machine slept give one backup, not one per slot") {
  ManualClock clock(at("2026-11-25T03:00:00Z"));
  FakeTarget fake(clock, target("0 */6 * * *"), at("2026-11-28T00:00:00Z"));
  fake.good_full(at("2026-11-25T00:00:00Z"));
  bool slept = false;
  fake.after_wait = [&] {
    // Suspended during the first wait, for two days: eight slots pass unseen.
    if (!std::exchange(slept, true)) clock.set_wall(at("2026-11-27T13:00:00Z"));
  };

  run_target_loop(fake, clock);

  CHECK(fake.runs ==
        std::vector<Run>{{"full", "2026-11-27T13:00:00Z"}, {"full", "2026-11-27T18:00:00Z"}});
}

TEST_CASE(
    "scheduler: failed backups are retried with a doubling delay, capped at half the "
    "interval") {
  ManualClock clock(at("2026-11-25T10:00:00Z"));
  FakeTarget fake(clock, target("0 * * * *"), at("2026-11-25T12:00:00Z"));
  fake.good_full(at("2026-11-25T09:00:00Z"));
  fake.backup_takes = 0min;  // the delays below are then exact
  fake.backup_results = {false, false, false, false, false, false, false, true};

  run_target_loop(fake, clock);

  // 1, 2, 4, 8, 16 minutes, then capped at 30 (half the hourly interval); after the success the
  // next one is the next slot, 12:00, where the test stops.
  CHECK(fake.runs == std::vector<Run>{{"full", "2026-11-25T10:00:00Z"},
                                      {"full", "2026-11-25T10:01:00Z"},
                                      {"full", "2026-11-25T10:03:00Z"},
                                      {"full", "2026-11-25T10:07:00Z"},
                                      {"full", "2026-11-25T10:15:00Z"},
                                      {"full", "2026-11-25T10:31:00Z"},
                                      {"full", "2026-11-25T11:01:00Z"},
                                      {"full", "2026-11-25T11:31:00Z"}});
}

TEST_CASE("scheduler: a retry never holds back a scheduled slot for long, and success resets it") {
  ManualClock clock(at("2026-11-25T01:59:00Z"));
  FakeTarget fake(clock, target("0 2 * * *"), at("2026-11-26T12:00:00Z"));
  fake.good_full(at("2026-11-24T02:00:00Z"));
  fake.backup_takes = 0min;
  fake.backup_results = {false, true, false, true};

  run_target_loop(fake, clock);

  CHECK(fake.runs == std::vector<Run>{{"full", "2026-11-25T02:00:00Z"},
                                      {"full", "2026-11-25T02:01:00Z"},
                                      {"full", "2026-11-26T02:00:00Z"},
                                      // one failure again: the first delay, not the second
                                      {"full", "2026-11-26T02:01:00Z"}});
}

TEST_CASE("scheduler: a reload during a backup takes effect for the next run") {
  ManualClock clock(at("2026-11-25T02:00:00Z"));
  FakeTarget fake(clock, target("0 2 * * *"), at("2026-11-25T20:00:00Z"));
  fake.good_full(at("2026-11-24T02:00:00Z"));
  fake.during_job = [&] {
    fake.config = target("0 */6 * * *");  // SIGHUP with a new schedule, mid-backup
    fake.during_job = nullptr;
  };

  run_target_loop(fake, clock);

  CHECK(fake.runs == std::vector<Run>{{"full", "2026-11-25T02:00:00Z"},
                                      {"full", "2026-11-25T06:00:00Z"},
                                      {"full", "2026-11-25T12:00:00Z"},
                                      {"full", "2026-11-25T18:00:00Z"}});
}

TEST_CASE("scheduler: a target removed by a reload during a backup stops after that backup") {
  ManualClock clock(at("2026-11-25T02:00:00Z"));
  FakeTarget fake(clock, target("0 * * * *"), at("2026-11-26T00:00:00Z"));
  fake.during_job = [&] { fake.config.reset(); };

  run_target_loop(fake, clock);

  CHECK(fake.runs == std::vector<Run>{{"full", "2026-11-25T02:00:00Z"}});
  CHECK(fake.waits == 0);
}

TEST_CASE("scheduler: a backup and a restore test due together run backup first, one each") {
  ManualClock clock(at("2026-11-29T04:00:00Z"));  // a Sunday
  FakeTarget fake(clock, target("0 4 * * *", "0 4 * * 0"), at("2026-11-30T00:00:00Z"));
  fake.good_full(at("2026-11-28T04:00:00Z"));
  fake.last_test = at("2026-11-22T04:00:00Z");

  run_target_loop(fake, clock);

  CHECK(fake.runs == std::vector<Run>{{"full", "2026-11-29T04:00:00Z"},
                                      {"restore_test", "2026-11-29T04:10:00Z"}});
  REQUIRE(fake.plans.back().restore_test_due);
  CHECK(format_iso8601(*fake.plans.back().restore_test_due) == "2026-12-06T04:00:00Z");
}

TEST_CASE(
    "scheduler: a restore test that could not start backs off; one that failed waits for "
    "its slot") {
  ManualClock clock(at("2026-11-29T05:00:00Z"));
  FakeTarget fake(clock, target("0 2 * * *", "0 5 * * *"), at("2026-11-30T06:00:00Z"));
  fake.good_full(at("2026-11-29T02:00:00Z"));
  fake.last_test = at("2026-11-28T05:00:00Z");
  // false: could not start (the directory was locked); a failed test that ran returns true.
  fake.restore_test_results = {false, true};

  run_target_loop(fake, clock);

  CHECK(fake.runs == std::vector<Run>{{"restore_test", "2026-11-29T05:00:00Z"},
                                      {"restore_test", "2026-11-29T05:21:00Z"},
                                      {"full", "2026-11-30T02:00:00Z"},
                                      {"restore_test", "2026-11-30T05:00:00Z"}});
}

TEST_CASE("scheduler: a wall clock set back an hour after a backup does not repeat it") {
  ManualClock clock(at("2026-11-25T02:00:00Z"));
  FakeTarget fake(clock, target("0 2 * * *"), at("2026-11-26T12:00:00Z"));
  fake.good_full(at("2026-11-24T02:00:00Z"));
  fake.during_job = [&] {
    clock.set_wall(at("2026-11-25T01:05:00Z"));  // NTP steps the clock back mid-backup
    fake.during_job = nullptr;
  };

  run_target_loop(fake, clock);

  CHECK(fake.runs ==
        std::vector<Run>{{"full", "2026-11-25T02:00:00Z"}, {"full", "2026-11-26T02:00:00Z"}});
}

TEST_CASE(
    "scheduler: a clock set back an hour, then forward a day while the daemon waits, gives one "
    "catch-up backup and none twice") {
  ManualClock clock(at("2026-11-25T01:50:00Z"));
  FakeTarget fake(clock, target("0 2 * * *"), at("2026-11-28T00:00:00Z"));
  fake.good_full(at("2026-11-24T02:00:00Z"));
  fake.during_job = [&] {
    clock.set_wall(at("2026-11-25T01:05:00Z"));  // back an hour, mid-backup
    fake.during_job = nullptr;
  };
  bool jumped = false;
  fake.after_wait = [&] {
    // The wait for 2026-11-25T02:00 (the slot just served) ends... it must not run it again;
    // the wait for 2026-11-26T02:00 ends a day late: both missed slots give one backup.
    if (clock.now() == at("2026-11-26T02:00:00Z") && !std::exchange(jumped, true)) {
      clock.set_wall(at("2026-11-27T05:00:00Z"));
    }
  };

  run_target_loop(fake, clock);

  CHECK(fake.runs ==
        std::vector<Run>{{"full", "2026-11-25T02:00:00Z"}, {"full", "2026-11-27T05:00:00Z"}});
  CHECK(jumped);
}

TEST_CASE(
    "scheduler: a backup stamped three days ahead (the clock was wrong, then corrected) does not "
    "hold the daily schedule back three days: one backup at once, then the schedule") {
  ManualClock clock(at("2026-11-25T02:10:00Z"));
  FakeTarget fake(clock, target("0 2 * * *"), at("2026-11-27T12:00:00Z"));
  fake.good_full(at("2026-11-28T02:00:00Z"));  // taken minutes ago, by the wrong clock

  run_target_loop(fake, clock);

  // 11-27 02:00 runs too: the backup stamped 11-28 02:00, still in the catalogue, is a day
  // ahead then, more than the hour a clock stepped back by NTP could explain.
  CHECK(fake.runs == std::vector<Run>{{"full", "2026-11-25T02:10:00Z"},
                                      {"full", "2026-11-26T02:00:00Z"},
                                      {"full", "2026-11-27T02:00:00Z"}});
}

TEST_CASE("scheduler: the plan publishes both due times and picks the backup first") {
  const TargetConfig t = target("0 2 * * *", "0 4 * * 0");
  const SysTime now = at("2026-11-29T05:00:00Z");
  RetryState none;
  RetryState backing_off;
  backing_off.failures = 2;
  backing_off.retry_at = at("2026-11-29T05:02:00Z");
  struct Case {
    const char* name;
    std::optional<SysTime> last_good;
    std::optional<SysTime> last_test;
    const RetryState& backup_retry;
    DueJob expected;
    const char* backup_due;
  };
  const std::vector<Case> cases = {
      {"both done", at("2026-11-29T02:00:00Z"), at("2026-11-29T04:00:00Z"), none, DueJob::none,
       "2026-11-30T02:00:00Z"},
      {"both due", at("2026-11-28T02:00:00Z"), at("2026-11-22T04:00:00Z"), none, DueJob::backup,
       "2026-11-29T05:00:00Z"},
      {"backup backing off", at("2026-11-28T02:00:00Z"), at("2026-11-22T04:00:00Z"), backing_off,
       DueJob::restore_test, "2026-11-29T05:02:00Z"},
      {"never ran", std::nullopt, std::nullopt, none, DueJob::backup, "2026-11-29T05:00:00Z"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    TargetHistory h;
    h.last_good[0] = c.last_good;
    h.last_restore_test = c.last_test;
    h.backup_retry[0] = c.backup_retry;
    const TargetPlan plan = plan_target(t, h, now);
    CHECK(plan.now == c.expected);
    CHECK(format_iso8601(plan.backup_due) == c.backup_due);
    CHECK(plan.restore_test_due.has_value());
  }
  CHECK_FALSE(plan_target(target("0 2 * * *"), TargetHistory{}, now).restore_test_due);
}
