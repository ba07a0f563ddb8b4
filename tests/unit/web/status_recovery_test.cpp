// The status page's recovery-point facts: engine, recovery window, RPO exposure against its
// target (a target with a WAL archive), backups by type and the newest verify run.
#include <catch2/catch.hpp>

#include "agent/web/status_page.h"
#include "tests/support/physical_backup.h"

namespace pgbackup {
namespace {

const SysTime kNow = *parse_iso8601("2026-02-05T00:00:00Z");

// A good backup that took 5 minutes to `finished`.
CatalogEntry physical(const char* label, BackupType type, const char* finished, std::uint64_t size,
                      std::uint64_t restore_set) {
  const std::string started = format_iso8601(*parse_iso8601(finished) - std::chrono::minutes(5));
  return pgtest::physical_backup(label, type, started.c_str(), finished, size, restore_set);
}

TargetStatus archived() {
  TargetStatus t;
  t.name = "pulse";
  t.engine = "pgbackrest";
  t.backups = {physical("20260201-020000F", BackupType::full, "2026-02-01T02:05:00Z", 900u << 20,
                        900u << 20),
               physical("20260201-020000F_20260204-160000I", BackupType::incr,
                        "2026-02-04T16:05:00Z", 20u << 20, 920u << 20)};
  t.recovery_window = {parse_iso8601("2026-02-01T02:05:00Z"),
                       parse_iso8601("2026-02-04T23:50:00Z")};
  t.rpo_target = std::chrono::seconds(300);
  t.state.verify = JobAttempt{kNow - std::chrono::hours(19),
                              kNow - std::chrono::hours(19),
                              false,
                              "2 invalid file(s) in 20260201-020000F",
                              "",
                              2};
  t.state.verify_last_success = kNow - std::chrono::hours(43);
  t.runtime.archive = pgtest::failing_archive("2026-02-04T23:50:00Z");
  return t;
}

TargetStatus dumped() {
  TargetStatus t;
  t.name = "shop";
  t.engine = "pg_dump";
  CatalogEntry b = physical("shop_20260204_020000.dump", BackupType::full, "2026-02-04T02:10:00Z",
                            300u << 20, 300u << 20);
  t.backups = {b};
  t.recovery_window = {b.finished_at(), b.finished_at()};
  return t;
}

// The facts table of target `name` on `page`.
std::string facts_of(const std::string& page, const std::string& name) {
  const auto card = page.find("<section class=card id='target-" + name + "'");
  REQUIRE(card != std::string::npos);
  const auto end = page.find("</table>", card);
  return page.substr(card, end - card);
}

}  // namespace

TEST_CASE("a target with a WAL archive shows its RPO exposure against target and the archive") {
  const std::string page = render_status_page({archived(), dumped()}, kNow);
  const std::string facts = facts_of(page, "pulse");
  CHECK_THAT(facts, Catch::Contains("<th>engine</th><td>pgbackrest</td>"));
  CHECK_THAT(facts, Catch::Contains("2026-02-01T02:05:00Z → 2026-02-04T23:50:00Z"));
  CHECK_THAT(facts, Catch::Contains("<span class=bad>10m of 5m (over target)</span>"));
  CHECK_THAT(facts, Catch::Contains("archiving failing") && Catch::Contains("12 failure(s)") &&
                        Catch::Contains("48 MiB unarchived") &&
                        Catch::Contains("1 missing segment(s)") && Catch::Contains("stanza ok"));
  CHECK_THAT(facts, Catch::Contains("full 3d21h55m ago (900 MiB, restore reads 900 MiB)") &&
                        Catch::Contains("incr 7h55m ago (20 MiB, restore reads 920 MiB)"));
  CHECK_THAT(facts, Catch::Contains("failed</span>: 2 invalid file(s) in 20260201-020000F") &&
                        Catch::Contains("last passed 1d19h ago"));
}

TEST_CASE("a target without an archive has no RPO row; its window is its backups'") {
  const std::string page = render_status_page({archived(), dumped()}, kNow);
  const std::string facts = facts_of(page, "shop");
  CHECK_THAT(facts, Catch::Contains("<th>engine</th><td>pg_dump</td>"));
  CHECK_THAT(facts, !Catch::Contains("RPO exposure"));
  CHECK_THAT(facts, Catch::Contains("2026-02-04T02:10:00Z → 2026-02-04T02:10:00Z"));
  CHECK_THAT(facts, Catch::Contains("<th>verify</th><td><span class=muted>never run</span>"));
  CHECK_THAT(facts_of(page, "pulse"), Catch::Contains("id='rpo-pulse'"));
}

TEST_CASE("a database that is down: the exposure says it comes from the repository") {
  TargetStatus t = archived();
  t.runtime.archive->from_database = false;
  t.runtime.archive->rpo_exposure = std::chrono::seconds(120);
  t.runtime.archive->health = {1, "missing stanza path", 0, std::nullopt};
  const std::string facts = facts_of(render_status_page({t}, kNow), "pulse");
  CHECK_THAT(facts, Catch::Contains("<span class=ok>2m of 5m</span>") &&
                        Catch::Contains("database down: from the repository") &&
                        Catch::Contains("stanza: missing stanza path (1)"));
  t.runtime.archive->rpo_exposure.reset();
  CHECK_THAT(facts_of(render_status_page({t}, kNow), "pulse"),
             Catch::Contains("unknown: no archived WAL segment dates it"));
}

TEST_CASE("/api/v1/status carries the engine, window, types, verify run and archive") {
  const nlohmann::json j = status_json({archived(), dumped()}, kNow);
  const nlohmann::json& pulse = j["targets"][0];
  CHECK(pulse["engine"] == "pgbackrest");
  CHECK(pulse["recovery_window"]["end"] == "2026-02-04T23:50:00Z");
  CHECK(pulse["backups_by_type"]["incr"]["restore_set_bytes"] == 920u << 20);
  CHECK_FALSE(pulse["backups_by_type"].contains("diff"));
  CHECK(pulse["verify"]["invalid_files"] == 2);
  CHECK(pulse["archive"]["rpo_exposure_seconds"] == 600);
  CHECK(pulse["archive"]["rpo_target_seconds"] == 300);
  CHECK(pulse["archive"]["wal_gaps"] == 1);
  const nlohmann::json& shop = j["targets"][1];
  CHECK(shop["engine"] == "pg_dump");
  CHECK_FALSE(shop.contains("archive"));
  CHECK_FALSE(shop.contains("verify"));
}

}  // namespace pgbackup
