// The scheduler loop of one target on a ManualClock: days of schedule run in microseconds and
// nothing sleeps. The fake below is the loop's whole world: each job takes a fixed time on the
// clock and records when it started.
#include "agent/schedule/scheduler.h"

#include <catch2/catch.hpp>

#include <deque>
#include <functional>
#include <vector>

#include "agent/core/timeutil.h"

using namespace pgbackup;
using namespace std::chrono_literals;

namespace {

SysTime at(const char* iso) { return *parse_iso8601(iso); }

TargetConfig target(const std::string& backup_schedule,
                    std::optional<std::string> restore_test_schedule = std::nullopt) {
  TargetConfig t;
  t.name = "pulse";
  t.backup.schedule = backup_schedule;
  if (restore_test_schedule) {
    t.restore_test.emplace();
    t.restore_test->schedule = *restore_test_schedule;
  }
  return t;
}

struct Run {
  std::string job;
  std::string at;
  bool operator==(const Run&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Run& r) { return out << r.job << "@" << r.at; }

class FakeTarget final : public TargetJobs {
 public:
  FakeTarget(ManualClock& clock, TargetConfig t, SysTime stop_at)
      : config(std::move(t)), clock_(clock), stop_at_(stop_at) {}

  std::optional<TargetConfig> target() override { return config; }
  std::optional<SysTime> last_good_backup(SysTime not_after) override {
    return last_good && *last_good <= not_after ? last_good : std::nullopt;
  }
  std::optional<SysTime> last_restore_test() override { return last_test; }

  bool backup(const TargetConfig&) override {
    const SysTime started = clock_.now();
    runs.push_back({"backup", format_iso8601(started)});
    clock_.advance(backup_takes);
    if (during_job) during_job();
    const bool ok = pop(backup_results);
    if (ok) last_good = started;
    return ok;
  }

  bool restore_test(const TargetConfig&) override {
    const SysTime started = clock_.now();
    runs.push_back({"restore_test", format_iso8601(started)});
    clock_.advance(20min);
    const bool ran = pop(restore_test_results);
    if (ran) last_test = started;
    return ran;
  }

  void publish(const TargetPlan& plan) override { plans.push_back(plan); }

  bool wait_until(SysTime deadline) override {
    ++waits;
    if (deadline >= stop_at_) {
      clock_.set_wall(stop_at_);
      return false;
    }
    clock_.set_wall(deadline);
    if (after_wait) after_wait();
    return true;
  }

  bool stopping() override { return clock_.now() >= stop_at_; }

  std::optional<TargetConfig> config;
  std::optional<SysTime> last_good;
  std::optional<SysTime> last_test;
  std::deque<bool> backup_results;        // next outcomes; true once empty
  std::deque<bool> restore_test_results;  // idem
  std::chrono::minutes backup_takes = 10min;
  std::function<void()> during_job;  // runs while a backup is in progress (a reload, say)
  std::function<void()> after_wait;  // runs when a wait ends (a clock that was set, say)
  std::vector<Run> runs;
  std::vector<TargetPlan> plans;
  int waits = 0;

 private:
  static bool pop(std::deque<bool>& results) {
    if (results.empty()) return true;
    const bool r = results.front();
    results.pop_front();
    return r;
  }

  ManualClock& clock_;
  SysTime stop_at_;
};

}  // namespace

TEST_CASE("scheduler: a target behind its schedule catches up once, then keeps the schedule") {
  ManualClock clock(at("2026-11-25T10:00:00Z"));
  FakeTarget fake(clock, target("0 2 * * *"), at("2026-11-28T00:00:00Z"));
  fake.last_good = at("2026-11-22T02:00:00Z");  // three slots missed while the agent was down

  run_target_loop(fake, clock);

  CHECK(fake.runs == std::vector<Run>{{"backup", "2026-11-25T10:00:00Z"},
                                      {"backup", "2026-11-26T02:00:00Z"},
                                      {"backup", "2026-11-27T02:00:00Z"}});
  // Between the jobs it waited, once per slot: no polling.
  CHECK(fake.waits == 3);
}

TEST_CASE("scheduler: a target that never backed up backs up at once") {
  ManualClock clock(at("2026-11-25T10:00:00Z"));
  FakeTarget fake(clock, target("0 2 * * *"), at("2026-11-25T12:00:00Z"));

  run_target_loop(fake, clock);

  CHECK(fake.runs == std::vector<Run>{{"backup", "2026-11-25T10:00:00Z"}});
  REQUIRE_FALSE(fake.plans.empty());
  CHECK(format_iso8601(fake.plans.back().backup_due) == "2026-11-26T02:00:00Z");
}

TEST_CASE("scheduler: slots missed while the machine slept give one backup, not one per slot") {
  ManualClock clock(at("2026-11-25T03:00:00Z"));
  FakeTarget fake(clock, target("0 */6 * * *"), at("2026-11-28T00:00:00Z"));
  fake.last_good = at("2026-11-25T00:00:00Z");
  bool slept = false;
  fake.after_wait = [&] {
    // Suspended during the first wait, for two days: eight slots pass unseen.
    if (!std::exchange(slept, true)) clock.set_wall(at("2026-11-27T13:00:00Z"));
  };

  run_target_loop(fake, clock);

  CHECK(fake.runs ==
        std::vector<Run>{{"backup", "2026-11-27T13:00:00Z"}, {"backup", "2026-11-27T18:00:00Z"}});
}

TEST_CASE(
    "scheduler: failed backups are retried with a doubling delay, capped at half the "
    "interval") {
  ManualClock clock(at("2026-11-25T10:00:00Z"));
  FakeTarget fake(clock, target("0 * * * *"), at("2026-11-25T12:00:00Z"));
  fake.last_good = at("2026-11-25T09:00:00Z");
  fake.backup_takes = 0min;  // the delays below are then exact
  fake.backup_results = {false, false, false, false, false, false, false, true};

  run_target_loop(fake, clock);

  // 1, 2, 4, 8, 16 minutes, then capped at 30 (half the hourly interval); after the success the
  // next one is the next slot, 12:00, where the test stops.
  CHECK(fake.runs == std::vector<Run>{{"backup", "2026-11-25T10:00:00Z"},
                                      {"backup", "2026-11-25T10:01:00Z"},
                                      {"backup", "2026-11-25T10:03:00Z"},
                                      {"backup", "2026-11-25T10:07:00Z"},
                                      {"backup", "2026-11-25T10:15:00Z"},
                                      {"backup", "2026-11-25T10:31:00Z"},
                                      {"backup", "2026-11-25T11:01:00Z"},
                                      {"backup", "2026-11-25T11:31:00Z"}});
}

TEST_CASE("scheduler: a retry never holds back a scheduled slot for long, and success resets it") {
  ManualClock clock(at("2026-11-25T01:59:00Z"));
  FakeTarget fake(clock, target("0 2 * * *"), at("2026-11-26T12:00:00Z"));
  fake.last_good = at("2026-11-24T02:00:00Z");
  fake.backup_takes = 0min;
  fake.backup_results = {false, true, false, true};

  run_target_loop(fake, clock);

  CHECK(fake.runs == std::vector<Run>{{"backup", "2026-11-25T02:00:00Z"},
                                      {"backup", "2026-11-25T02:01:00Z"},
                                      {"backup", "2026-11-26T02:00:00Z"},
                                      // one failure again: the first delay, not the second
                                      {"backup", "2026-11-26T02:01:00Z"}});
}

TEST_CASE("scheduler: a reload during a backup takes effect for the next run") {
  ManualClock clock(at("2026-11-25T02:00:00Z"));
  FakeTarget fake(clock, target("0 2 * * *"), at("2026-11-25T20:00:00Z"));
  fake.last_good = at("2026-11-24T02:00:00Z");
  fake.during_job = [&] {
    fake.config = target("0 */6 * * *");  // SIGHUP with a new schedule, mid-backup
    fake.during_job = nullptr;
  };

  run_target_loop(fake, clock);

  CHECK(fake.runs == std::vector<Run>{{"backup", "2026-11-25T02:00:00Z"},
                                      {"backup", "2026-11-25T06:00:00Z"},
                                      {"backup", "2026-11-25T12:00:00Z"},
                                      {"backup", "2026-11-25T18:00:00Z"}});
}

TEST_CASE("scheduler: a target removed by a reload during a backup stops after that backup") {
  ManualClock clock(at("2026-11-25T02:00:00Z"));
  FakeTarget fake(clock, target("0 * * * *"), at("2026-11-26T00:00:00Z"));
  fake.during_job = [&] { fake.config.reset(); };

  run_target_loop(fake, clock);

  CHECK(fake.runs == std::vector<Run>{{"backup", "2026-11-25T02:00:00Z"}});
  CHECK(fake.waits == 0);
}

TEST_CASE("scheduler: a backup and a restore test due together run backup first, one each") {
  ManualClock clock(at("2026-11-29T04:00:00Z"));  // a Sunday
  FakeTarget fake(clock, target("0 4 * * *", "0 4 * * 0"), at("2026-11-30T00:00:00Z"));
  fake.last_good = at("2026-11-28T04:00:00Z");
  fake.last_test = at("2026-11-22T04:00:00Z");

  run_target_loop(fake, clock);

  CHECK(fake.runs == std::vector<Run>{{"backup", "2026-11-29T04:00:00Z"},
                                      {"restore_test", "2026-11-29T04:10:00Z"}});
  REQUIRE(fake.plans.back().restore_test_due);
  CHECK(format_iso8601(*fake.plans.back().restore_test_due) == "2026-12-06T04:00:00Z");
}

TEST_CASE(
    "scheduler: a restore test that could not start backs off; one that failed waits for "
    "its slot") {
  ManualClock clock(at("2026-11-29T05:00:00Z"));
  FakeTarget fake(clock, target("0 2 * * *", "0 5 * * *"), at("2026-11-30T06:00:00Z"));
  fake.last_good = at("2026-11-29T02:00:00Z");
  fake.last_test = at("2026-11-28T05:00:00Z");
  // false: could not start (the directory was locked); a failed test that ran returns true.
  fake.restore_test_results = {false, true};

  run_target_loop(fake, clock);

  CHECK(fake.runs == std::vector<Run>{{"restore_test", "2026-11-29T05:00:00Z"},
                                      {"restore_test", "2026-11-29T05:21:00Z"},
                                      {"backup", "2026-11-30T02:00:00Z"},
                                      {"restore_test", "2026-11-30T05:00:00Z"}});
}

TEST_CASE("scheduler: a wall clock set back an hour after a backup does not repeat it") {
  ManualClock clock(at("2026-11-25T02:00:00Z"));
  FakeTarget fake(clock, target("0 2 * * *"), at("2026-11-26T12:00:00Z"));
  fake.last_good = at("2026-11-24T02:00:00Z");
  fake.during_job = [&] {
    clock.set_wall(at("2026-11-25T01:05:00Z"));  // NTP steps the clock back mid-backup
    fake.during_job = nullptr;
  };

  run_target_loop(fake, clock);

  CHECK(fake.runs ==
        std::vector<Run>{{"backup", "2026-11-25T02:00:00Z"}, {"backup", "2026-11-26T02:00:00Z"}});
}

TEST_CASE(
    "scheduler: a clock set back an hour, then forward a day while the daemon waits, gives one "
    "catch-up backup and none twice") {
  ManualClock clock(at("2026-11-25T01:50:00Z"));
  FakeTarget fake(clock, target("0 2 * * *"), at("2026-11-28T00:00:00Z"));
  fake.last_good = at("2026-11-24T02:00:00Z");
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
        std::vector<Run>{{"backup", "2026-11-25T02:00:00Z"}, {"backup", "2026-11-27T05:00:00Z"}});
  CHECK(jumped);
}

TEST_CASE(
    "scheduler: a backup stamped three days ahead (the clock was wrong, then corrected) does not "
    "hold the daily schedule back three days: one backup at once, then the schedule") {
  ManualClock clock(at("2026-11-25T02:10:00Z"));
  FakeTarget fake(clock, target("0 2 * * *"), at("2026-11-27T12:00:00Z"));
  fake.last_good = at("2026-11-28T02:00:00Z");  // taken minutes ago, by the wrong clock

  run_target_loop(fake, clock);

  CHECK(fake.runs == std::vector<Run>{{"backup", "2026-11-25T02:10:00Z"},
                                      {"backup", "2026-11-26T02:00:00Z"},
                                      {"backup", "2026-11-27T02:00:00Z"}});
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
    const TargetPlan plan = plan_target(t, c.last_good, c.last_test, c.backup_retry, none, now);
    CHECK(plan.now == c.expected);
    CHECK(format_iso8601(plan.backup_due) == c.backup_due);
    CHECK(plan.restore_test_due.has_value());
  }
  CHECK_FALSE(plan_target(target("0 2 * * *"), std::nullopt, std::nullopt, none, none, now)
                  .restore_test_due);
}
