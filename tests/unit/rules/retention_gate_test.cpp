// When retention must wait: after a failed or anomalous backup (DESIGN §5), on a clock it cannot
// trust.
#include <catch2/catch.hpp>

#include "agent/rules/retention.h"

using namespace pgbackup;

TEST_CASE("retention waits after a failed backup attempt or a size anomaly, else it runs") {
  Manifest normal;
  Manifest anomaly;
  anomaly.size_anomaly = true;
  anomaly.size_anomaly_reason = "10 B is below 0.5 x the 7-backup median";
  struct Case {
    const char* situation;
    bool last_backup_failed;
    const Manifest* newest_good;
    const char* reason;  // "" when retention runs
  };
  const Case cases[] = {
      {"no backup yet", false, nullptr, ""},
      {"the newest backup is normal", false, &normal, ""},
      {"the newest attempt failed", true, &normal,
       "the newest backup attempt failed; retention waits for a good backup"},
      {"the newest attempt failed and nothing is good", true, nullptr,
       "the newest backup attempt failed; retention waits for a good backup"},
      {"the newest good backup is a size anomaly", false, &anomaly,
       "the newest backup is a size anomaly (10 B is below 0.5 x the 7-backup median); "
       "retention waits for a normal backup"},
      {"a failed attempt after an anomaly", true, &anomaly,
       "the newest backup attempt failed; retention waits for a good backup"},
  };
  for (const Case& c : cases) {
    INFO(c.situation);
    CHECK(retention_blocked_reason(c.last_backup_failed, c.newest_good) == c.reason);
  }
}

TEST_CASE(
    "retention distrusts a clock that went back past a backup, and an automatic run that would "
    "expire many backups at once") {
  using namespace std::chrono_literals;
  const SysTime now = *parse_iso8601("2026-06-15T02:00:00Z");
  // `count` daily backups, the newest `newest_age` before now, one a day before that.
  const auto dailies = [&](int count, std::chrono::hours newest_age) {
    std::vector<RetainedBackup> out;
    for (int i = 0; i < count; ++i) out.push_back({now - newest_age - i * 24h, Tier::daily});
    return out;
  };
  struct Case {
    const char* situation;
    std::vector<RetainedBackup> backups;
    std::size_t expired;
    RetentionRun run;
    const char* reason_starts;  // "" when retention may run
  };
  const Case cases[] = {
      {"no backups", {}, 0, RetentionRun::automatic, ""},
      {"a normal day: one daily expires", dailies(31, 1h), 1, RetentionRun::automatic, ""},
      {"daily, weekly and monthly expire on the same day", dailies(31, 1h), 3,
       RetentionRun::automatic, ""},
      {"a small directory loses more than a quarter, but only 3", dailies(5, 1h), 3,
       RetentionRun::automatic, ""},
      {"a 40-day jump expires 10 of 31 at once", dailies(31, 1h), 10, RetentionRun::automatic,
       "10 of 31 backups would expire at once"},
      {"the same, by hand", dailies(31, 1h), 10, RetentionRun::by_hand, ""},
      {"4 of 20 is not more than a quarter", dailies(20, 1h), 4, RetentionRun::automatic, ""},
      {"6 of 20 is", dailies(20, 1h), 6, RetentionRun::automatic,
       "6 of 20 backups would expire at once"},
      {"a backup 5 minutes ahead (clocks drift)",
       {{now + 5min, Tier::daily}},
       0,
       RetentionRun::automatic,
       ""},
      {"a backup from the future: the clock went back", dailies(3, -48h), 0,
       RetentionRun::automatic, "a backup started at 2026-06-17T02:00:00Z, after the clock's now"},
      {"from the future, by hand too", dailies(3, -48h), 0, RetentionRun::by_hand,
       "a backup started at 2026-06-17T02:00:00Z"},
  };
  for (const Case& c : cases) {
    INFO(c.situation);
    const std::string reason = clock_guard_reason(c.backups, c.expired, now, c.run);
    if (std::string(c.reason_starts).empty()) {
      CHECK(reason.empty());
    } else {
      CHECK(reason.rfind(c.reason_starts, 0) == 0);
    }
  }
}

TEST_CASE(
    "one retention run deletes what select_expired chose, or nothing with the clock guard's "
    "reason") {
  using namespace std::chrono_literals;
  const SysTime now = *parse_iso8601("2026-06-15T02:00:00Z");
  const RetentionConfig policy;  // daily 30d, min_keep 3
  // `count` daily backups, the newest `newest_age` before now, one a day before that.
  const auto dailies = [&](int count, std::chrono::hours newest_age) {
    std::vector<RetainedBackup> out;
    for (int i = 0; i < count; ++i) out.push_back({now - newest_age - i * 24h, Tier::daily});
    return out;
  };
  std::vector<std::size_t> oldest_eleven;
  for (std::size_t i = 20; i <= 30; ++i) oldest_eleven.push_back(i);
  struct Case {
    const char* situation;
    std::vector<RetainedBackup> backups;
    RetentionRun run;
    std::vector<std::size_t> expired;
    const char* refused_starts;  // "" when the run deletes `expired`
  };
  const Case cases[] = {
      {"a normal day: the oldest daily expires",
       dailies(31, 1h),
       RetentionRun::automatic,
       {30},
       ""},
      {"nothing old enough", dailies(10, 1h), RetentionRun::automatic, {}, ""},
      {"a 10-day jump expires 11 of 31 at once",
       dailies(31, 241h),
       RetentionRun::automatic,
       {},
       "11 of 31 backups would expire at once"},
      {"the same, by hand", dailies(31, 241h), RetentionRun::by_hand, oldest_eleven, ""},
      {"a backup from the future, by hand",
       dailies(40, -48h),
       RetentionRun::by_hand,
       {},
       "a backup started at 2026-06-17T02:00:00Z"},
  };
  for (const Case& c : cases) {
    INFO(c.situation);
    const ExpiryDecision d = decide_expiry(c.backups, policy, now, c.run);
    CHECK(d.expired == c.expired);
    if (std::string(c.refused_starts).empty()) {
      CHECK(d.refused.empty());
      CHECK(d.expired == select_expired(c.backups, policy, now));
    } else {
      CHECK(d.refused.rfind(c.refused_starts, 0) == 0);
    }
  }
}
