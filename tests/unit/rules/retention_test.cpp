#include "agent/rules/retention.h"

#include <catch2/catch.hpp>

#include <set>

#include "agent/core/timeutil.h"
#include "agent/engines/pg_dump/toc.h"
#include "agent/rules/anomaly.h"

using namespace pgbackup;
using namespace std::chrono_literals;

namespace {

SysTime at(const char* iso) { return *parse_iso8601(iso); }

// Simulates the daemon: one backup a day at 02:00 UTC from `first` to `last`, tiers assigned
// as each succeeds and retention applied after each, exactly as take_backup does.
std::vector<RetainedBackup> simulate_daily(SysTime first, SysTime last,
                                           const RetentionConfig& policy) {
  std::vector<RetainedBackup> kept;
  for (SysTime t = first; t <= last; t += 24h) {
    std::vector<SysTime> earlier;
    for (const auto& b : kept) earlier.push_back(b.started_at);
    kept.push_back({t, assign_tier(t, earlier)});
    const auto expired = select_expired(kept, policy, t);
    for (auto it = expired.rbegin(); it != expired.rend(); ++it) {
      kept.erase(kept.begin() + static_cast<long>(*it));
    }
  }
  return kept;
}

}  // namespace

TEST_CASE("the first good backup of a month is monthly, of an ISO week weekly, else daily") {
  struct Case {
    const char* backup;
    std::vector<const char*> earlier;
    Tier expected;
  };
  const std::vector<Case> cases = {
      {"2026-11-25T02:00:00Z", {}, Tier::monthly},
      // Monday 2026-11-23 starts an ISO week; the 1st of the month was earlier that month.
      {"2026-11-23T02:00:00Z", {"2026-11-01T02:00:00Z"}, Tier::weekly},
      {"2026-11-24T02:00:00Z", {"2026-11-01T02:00:00Z", "2026-11-23T02:00:00Z"}, Tier::daily},
      // A week spanning a month end: Thursday Oct 1st is monthly even though the week had one.
      {"2026-10-01T02:00:00Z", {"2026-09-28T02:00:00Z"}, Tier::monthly},
      {"2026-10-02T02:00:00Z", {"2026-09-28T02:00:00Z", "2026-10-01T02:00:00Z"}, Tier::daily},
      // Year boundary: 2026-12-31 (Thursday) and 2027-01-01 (Friday) share ISO week 2026-W53.
      {"2027-01-01T02:00:00Z", {"2026-12-31T02:00:00Z"}, Tier::monthly},
      {"2027-01-02T02:00:00Z", {"2026-12-31T02:00:00Z", "2027-01-01T02:00:00Z"}, Tier::daily},
      {"2027-01-04T02:00:00Z", {"2027-01-01T02:00:00Z", "2027-01-02T02:00:00Z"}, Tier::weekly},
      // Sunday ends an ISO week; Monday starts a new one.
      {"2026-11-29T23:59:59Z", {"2026-11-23T00:00:00Z"}, Tier::daily},
      {"2026-11-30T00:00:00Z", {"2026-11-23T00:00:00Z"}, Tier::weekly},
      // Leap day.
      {"2028-02-29T02:00:00Z", {"2028-02-01T02:00:00Z", "2028-02-28T02:00:00Z"}, Tier::daily},
      {"2028-03-01T02:00:00Z", {"2028-02-29T02:00:00Z"}, Tier::monthly},
      // Later backups do not count as earlier ones.
      {"2026-11-01T02:00:00Z", {"2026-11-02T02:00:00Z"}, Tier::monthly},
  };
  for (const Case& c : cases) {
    std::vector<SysTime> earlier;
    for (const char* e : c.earlier) earlier.push_back(at(e));
    INFO(c.backup);
    CHECK(tier_name(assign_tier(at(c.backup), earlier)) == std::string(tier_name(c.expected)));
  }
}

TEST_CASE("a backup is deleted once its age reaches its tier's window") {
  const RetentionConfig policy;  // 30d / 90d / 365d, min_keep 3
  const SysTime now = at("2026-11-25T03:00:00Z");
  const std::vector<RetainedBackup> backups = {
      {now - 400 * 24h, Tier::monthly},  // 0: expired
      {now - 364 * 24h, Tier::monthly},  // 1: kept
      {now - 91 * 24h, Tier::weekly},    // 2: expired
      {now - 89 * 24h, Tier::weekly},    // 3: kept
      {now - 30 * 24h, Tier::daily},     // 4: expired (exactly the window)
      {now - 29 * 24h, Tier::daily},     // 5: kept
      {now - 3 * 24h, Tier::daily},      // 6..8: newest
      {now - 2 * 24h, Tier::daily},     {now - 1 * 24h, Tier::daily},
  };
  CHECK(select_expired(backups, policy, now) == std::vector<std::size_t>{0, 2, 4});
}

TEST_CASE("the newest min_keep backups are kept however old they are") {
  RetentionConfig policy;
  policy.min_keep = 2;
  const SysTime now = at("2026-11-25T03:00:00Z");
  const std::vector<RetainedBackup> backups = {{now - 900 * 24h, Tier::daily},
                                               {now - 800 * 24h, Tier::daily},
                                               {now - 700 * 24h, Tier::daily}};
  CHECK(select_expired(backups, policy, now) == std::vector<std::size_t>{0});
  policy.min_keep = 3;
  CHECK(select_expired(backups, policy, now).empty());
}

TEST_CASE("two years of daily backups keep 30 dailies, 90 days of weeklies, a year of monthlies") {
  const RetentionConfig policy;
  const SysTime first = at("2025-01-01T02:00:00Z");
  const SysTime last = at("2026-12-31T02:00:00Z");
  const auto kept = simulate_daily(first, last, policy);
  int daily = 0, weekly = 0, monthly = 0;
  std::set<int> months;
  for (const auto& b : kept) {
    CHECK(last - b.started_at < (b.tier == Tier::monthly  ? 365 * 24h
                                 : b.tier == Tier::weekly ? 90 * 24h
                                                          : 30 * 24h));
    daily += b.tier == Tier::daily;
    weekly += b.tier == Tier::weekly;
    monthly += b.tier == Tier::monthly;
  }
  CHECK(monthly == 12);  // Jan..Dec 2026; 2026-01-01 is within 365 days of 2026-12-31
  CHECK((weekly >= 10 && weekly <= 13));
  CHECK((daily >= 20 && daily <= 30));
  // Every one of the last 30 days is still there, whatever its tier.
  for (int d = 0; d < 30; ++d) {
    const SysTime day = last - d * 24h;
    CHECK(
        std::any_of(kept.begin(), kept.end(), [&](const auto& b) { return b.started_at == day; }));
  }
}

TEST_CASE("the size baseline is the median of the previous window of good backups") {
  AnomalyConfig config;  // window 7, ratios 0.5..3.0, min_size 1 KiB
  const std::vector<std::uint64_t> history = {1,     1,      100000, 100000, 110000,
                                              90000, 105000, 95000,  1000000};
  const SizeVerdict normal = judge_size(100000, history, config);
  CHECK(normal.baseline_bytes == 100000);  // median of the last seven
  CHECK_FALSE(normal.anomaly);
  const SizeVerdict small = judge_size(40000, history, config);
  CHECK(small.anomaly);
  CHECK_THAT(small.reason, Catch::Contains("0.40×"));
  CHECK(judge_size(400000, history, config).anomaly);
  const SizeVerdict tiny = judge_size(100, {}, config);
  CHECK(tiny.anomaly);
  CHECK_THAT(tiny.reason, Catch::Contains("min_size"));
  CHECK_FALSE(judge_size(5000, {}, config).anomaly);  // no history, above the floor
  CHECK(judge_size(5000, {}, config).baseline_bytes == 0);
}

TEST_CASE("tables that lost more than table_drop_ratio of their rows are shrunk") {
  const std::vector<TableRows> before = {
      {"public", "nodes", 100},        {"public", "node_metrics_2026_11", 1000},
      {"public", "network_stats", 10}, {"public", "empty", 0},
      {"public", "dropped", 5},        {"_timescaledb_internal", "_hyper_1_1_chunk", 500}};
  const std::vector<TableRows> after = {{"public", "nodes", 60},
                                        {"public", "node_metrics_2026_11", 400},
                                        {"public", "network_stats", 20},
                                        {"public", "empty", 0}};
  const auto shrunk = find_shrunk_tables(before, after, 0.5);
  REQUIRE(shrunk.size() == 2);
  CHECK(shrunk[0].name == "node_metrics_2026_11");
  CHECK(shrunk[0].previous_rows == 1000);
  CHECK(shrunk[0].rows == 400);
  CHECK(shrunk[1].name == "dropped");  // a vanished table, but not a vanished TimescaleDB chunk
}

TEST_CASE("pg_restore --list output gives the entry count and the tables with data") {
  const std::string listing = R"(;
; Archive created at 2026-11-25 06:35:00 UTC
;     dbname: pnode
;
215; 1259 16390 TABLE public nodes postgres
3363; 0 16390 TABLE DATA public nodes postgres
3364; 0 16401 TABLE DATA public node_metrics_2026_11 postgres
3365; 0 16420 TABLE DATA public my table postgres
3200; 2606 16398 CONSTRAINT public nodes nodes_pkey postgres
)";
  const TocSummary toc = parse_toc_list(listing);
  CHECK(toc.entries == 5);
  CHECK(toc.table_data.count({"public", "nodes"}));
  CHECK(toc.table_data.count({"public", "my table"}));
  const std::vector<TableRows> counted = {{"public", "nodes", 1}, {"public", "network_stats", 1}};
  CHECK(tables_missing_data(toc, counted) == std::vector<std::string>{"public.network_stats"});
}
