// Which backup types a target schedules and which one runs when several are due (pure).
#include "agent/schedule/backup_types.h"

#include <catch2/catch.hpp>

#include "agent/schedule/scheduler.h"

using namespace pgbackup;

namespace {

SysTime at(const char* iso) { return *parse_iso8601(iso); }

TargetConfig typed_target(const std::string& full, const std::string& diff,
                          const std::string& incr) {
  TargetConfig t;
  t.name = "pulse";
  t.engine = diff.empty() && incr.empty() ? EngineKind::pg_dump : EngineKind::pgbackrest;
  t.backup.schedule = full;
  t.backup.diff_schedule = diff;
  t.backup.incr_schedule = incr;
  return t;
}

std::string names(const std::vector<TypeSchedule>& types) {
  std::string out;
  for (const TypeSchedule& t : types)
    out += std::string(out.empty() ? "" : " ") + backup_type_name(t.type) + "=" + t.schedule;
  return out;
}

}  // namespace

TEST_CASE("backup types: a target schedules full, then diff and incr when their schedule is set") {
  struct Case {
    const char* diff;
    const char* incr;
    const char* expected;
  };
  const std::vector<Case> cases = {
      {"", "", "full=0 2 * * 0"},  // a pg_dump target as the config leaves it
      {"0 2 * * 1-6", "", "full=0 2 * * 0 diff=0 2 * * 1-6"},
      {"", "0 */4 * * *", "full=0 2 * * 0 incr=0 */4 * * *"},
      {"0 2 * * 1-6", "0 */4 * * *", "full=0 2 * * 0 diff=0 2 * * 1-6 incr=0 */4 * * *"},
  };
  for (const Case& c : cases) {
    INFO(c.diff << " / " << c.incr);
    CHECK(names(scheduled_types(typed_target("0 2 * * 0", c.diff, c.incr))) == c.expected);
  }
}

TEST_CASE("backup types: a full serves every slot, a diff diff and incr slots, an incr its own") {
  using B = BackupType;
  CHECK(serves(B::full, B::full));
  CHECK(serves(B::full, B::diff));
  CHECK(serves(B::full, B::incr));
  CHECK_FALSE(serves(B::diff, B::full));
  CHECK(serves(B::diff, B::diff));
  CHECK(serves(B::diff, B::incr));
  CHECK_FALSE(serves(B::incr, B::full));
  CHECK_FALSE(serves(B::incr, B::diff));
  CHECK(serves(B::incr, B::incr));
}

TEST_CASE("backup types: of the types due now only the largest runs") {
  const SysTime now = at("2026-12-06T02:00:00Z");
  const SysTime past = now - std::chrono::hours(3);
  const SysTime later = now + std::chrono::hours(1);
  using B = BackupType;
  struct Case {
    const char* name;
    std::vector<TypeDue> dues;
    std::optional<BackupType> expected;
  };
  const std::vector<Case> cases = {
      {"none due", {{B::full, later}, {B::diff, later}, {B::incr, later}}, std::nullopt},
      {"all three in the same minute", {{B::full, now}, {B::diff, now}, {B::incr, now}}, B::full},
      {"catch-up after downtime", {{B::full, past}, {B::diff, now}, {B::incr, past}}, B::full},
      {"diff and incr", {{B::full, later}, {B::diff, now}, {B::incr, now}}, B::diff},
      {"incr only", {{B::full, later}, {B::diff, later}, {B::incr, past}}, B::incr},
      {"full only target", {{B::full, now}}, B::full},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    CHECK(type_to_run(c.dues, now) == c.expected);
  }
  CHECK(earliest_due({{B::full, later}, {B::diff, now}, {B::incr, past}}) == past);
}

TEST_CASE("backup types: the plan gives each type its due time, its own backoff and the winner") {
  const TargetConfig t = typed_target("0 2 * * 0", "0 2 * * 1-6", "0 */4 * * *");
  const SysTime now = at("2026-12-06T02:00:00Z");  // a Sunday: the full's and the incr's slot
  TargetHistory fresh;
  fresh.last_good = {at("2026-11-29T02:00:00Z"), at("2026-12-05T02:00:00Z"),
                     at("2026-12-05T22:00:00Z")};
  TargetPlan plan = plan_target(t, fresh, now);
  CHECK(plan.now == DueJob::backup);
  CHECK(plan.backup_type == BackupType::full);
  REQUIRE(plan.backups.size() == 3);
  CHECK(format_iso8601(plan.backups[1].due) == "2026-12-07T02:00:00Z");  // Sunday has no diff
  CHECK(format_iso8601(plan.backups[2].due) == "2026-12-06T02:00:00Z");

  // The full failed and backs off: the incr due in the same slot runs meanwhile, the full stays
  // due at its retry time (a good incr does not serve a full slot).
  TargetHistory failing = fresh;
  failing.backup_retry[0].failures = 1;
  failing.backup_retry[0].retry_at = at("2026-12-06T02:11:00Z");
  plan = plan_target(t, failing, at("2026-12-06T02:10:00Z"));
  CHECK(plan.now == DueJob::backup);
  CHECK(plan.backup_type == BackupType::incr);
  CHECK(format_iso8601(plan.backups[0].due) == "2026-12-06T02:11:00Z");
  failing.last_good[2] = at("2026-12-06T02:10:00Z");
  plan = plan_target(t, failing, at("2026-12-06T02:11:00Z"));
  CHECK(plan.backup_type == BackupType::full);
  CHECK(plan.now == DueJob::backup);
}
