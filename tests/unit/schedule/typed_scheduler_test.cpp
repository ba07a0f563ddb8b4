// The scheduler loop with schedules per backup type and a verify schedule (fake_target.h).
#include <catch2/catch.hpp>

#include "agent/schedule/scheduler.h"
#include "tests/unit/schedule/fake_target.h"

using namespace pgbackup;
using namespace pgbackup::testing;
using namespace std::chrono_literals;

namespace {

// DESIGN §11's example (weekly full on Sunday, diff the other days), with an incr every 2 hours.
TargetConfig physical(std::optional<std::string> verify = std::nullopt) {
  TargetConfig t = target("0 2 * * 0");
  t.engine = EngineKind::pgbackrest;
  t.backup.diff_schedule = "0 2 * * 1-6";
  t.backup.incr_schedule = "0 */2 * * *";
  if (verify) t.verify = VerifyConfig{*verify};
  return t;
}

}  // namespace

TEST_CASE("typed scheduler: each type on its schedule, the largest when they share a slot") {
  ManualClock clock(at("2026-12-05T22:30:00Z"));  // Saturday evening
  FakeTarget fake(clock, physical(), at("2026-12-07T03:00:00Z"));
  fake.good_full(at("2026-11-29T02:00:00Z"));
  fake.good.emplace_back(BackupType::diff, at("2026-12-05T02:00:00Z"));
  fake.good.emplace_back(BackupType::incr, at("2026-12-05T22:00:00Z"));

  run_target_loop(fake, clock);

  // Sunday 02:00 is the full's slot and the incr's: the full runs alone and serves the incr's;
  // Monday 02:00 is the diff's and the incr's: the diff runs. Every other even hour an incr.
  std::vector<Run> expected = {{"incr", "2026-12-06T00:00:00Z"}, {"full", "2026-12-06T02:00:00Z"}};
  for (int hour = 4; hour <= 22; hour += 2) {
    expected.push_back({"incr", "2026-12-06T" + std::string(hour < 10 ? "0" : "") +
                                    std::to_string(hour) + ":00:00Z"});
  }
  expected.push_back({"incr", "2026-12-07T00:00:00Z"});
  expected.push_back({"diff", "2026-12-07T02:00:00Z"});
  CHECK(fake.runs == expected);
}

TEST_CASE("typed scheduler: after downtime every type is due, and one full catches them all up") {
  ManualClock clock(at("2026-12-09T10:30:00Z"));  // Wednesday, after four days down
  FakeTarget fake(clock, physical(), at("2026-12-09T13:00:00Z"));
  fake.good_full(at("2026-12-05T02:00:00Z"));  // (a Saturday full, taken by hand)

  run_target_loop(fake, clock);

  CHECK(fake.runs ==
        std::vector<Run>{{"full", "2026-12-09T10:30:00Z"}, {"incr", "2026-12-09T12:00:00Z"}});
}

TEST_CASE("typed scheduler: a failing full keeps backing off although incrs succeed meanwhile") {
  ManualClock clock(at("2026-12-06T02:00:00Z"));
  FakeTarget fake(clock, physical(), at("2026-12-06T05:00:00Z"));
  fake.good_full(at("2026-11-29T02:00:00Z"));
  fake.good.emplace_back(BackupType::diff, at("2026-12-05T02:00:00Z"));
  fake.good.emplace_back(BackupType::incr, at("2026-12-06T00:00:00Z"));
  fake.backup_takes = 0min;
  // full fails, incr (its 02:00 slot is not served by a failed full) runs, full fails again
  // after 1 minute, then after 2, then succeeds; the incr's 04:00 slot follows.
  fake.backup_results = {false, true, false, false, true, true};

  run_target_loop(fake, clock);

  CHECK(fake.runs == std::vector<Run>{{"full", "2026-12-06T02:00:00Z"},
                                      {"incr", "2026-12-06T02:00:00Z"},
                                      {"full", "2026-12-06T02:01:00Z"},
                                      {"full", "2026-12-06T02:03:00Z"},
                                      {"full", "2026-12-06T02:07:00Z"},
                                      {"incr", "2026-12-06T04:00:00Z"}});
}

TEST_CASE("typed scheduler: verify runs on its own schedule, after a backup due with it") {
  ManualClock clock(at("2026-12-07T05:00:00Z"));  // Monday
  FakeTarget fake(clock, physical("0 5 * * *"), at("2026-12-08T06:00:00Z"));
  fake.good_full(at("2026-12-06T02:00:00Z"));
  fake.good.emplace_back(BackupType::diff, at("2026-12-07T02:00:00Z"));
  fake.good.emplace_back(BackupType::incr, at("2026-12-07T04:00:00Z"));
  fake.last_verify_run = at("2026-12-06T05:00:00Z");
  fake.config->backup.incr_schedule = "0 5 * * *";  // an incr due in the verify's minute
  // The first verify could not start (a backup by hand held the directory): it backs off 1 min.
  fake.verify_results = {false, true};

  run_target_loop(fake, clock);

  CHECK(fake.runs == std::vector<Run>{{"incr", "2026-12-07T05:00:00Z"},
                                      {"verify", "2026-12-07T05:10:00Z"},
                                      {"verify", "2026-12-07T05:16:00Z"},
                                      {"diff", "2026-12-08T02:00:00Z"},
                                      {"incr", "2026-12-08T05:00:00Z"},
                                      {"verify", "2026-12-08T05:10:00Z"}});
  REQUIRE(fake.plans.back().verify_due);
  CHECK(format_iso8601(*fake.plans.back().verify_due) == "2026-12-09T05:00:00Z");
}

TEST_CASE("typed scheduler: a target without verify.schedule never verifies") {
  ManualClock clock(at("2026-12-07T05:00:00Z"));
  FakeTarget fake(clock, physical(), at("2026-12-07T06:00:00Z"));
  fake.good_full(at("2026-12-07T04:59:00Z"));

  run_target_loop(fake, clock);

  CHECK(fake.runs.empty());
  CHECK_FALSE(fake.plans.back().verify_due);
}
