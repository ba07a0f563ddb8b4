// The status page's health verdict: the bundled alert rules' judgement (alerts/pgbackup.rules.yml).
#include <catch2/catch.hpp>

#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

#include "agent/rules/health.h"

using namespace pgbackup;
using namespace std::chrono_literals;

namespace {

const SysTime kNow = *parse_iso8601("2026-02-10T12:00:00Z");
constexpr double kGiB = 1024.0 * 1024 * 1024;

// A target that fires nothing: a backup 2 h ago on a daily schedule, 50 % free, a restore test
// that passed yesterday within its RTO, the database up.
HealthSignals healthy() {
  HealthSignals s;
  s.last_good_backup = kNow - 2h;
  s.schedule_interval_seconds = 86400;
  s.database_up = true;
  s.repository_size_bytes = std::uint64_t(100 * kGiB);
  s.repository_avail_bytes = std::uint64_t(50 * kGiB);
  s.space = {{kNow - 2h, 50 * kGiB}, {kNow, 50 * kGiB}};
  s.last_restore_test_success = kNow - 20h;
  s.restore_test_interval_seconds = 7 * 86400;
  s.last_restore_test_seconds = 600;
  s.rto_target_seconds = 1800;
  return s;
}

// A healthy WAL archive with this exposure and rpo_target.
HealthSignals::Archive archive(std::optional<double> exposure, double target) {
  HealthSignals::Archive a;
  a.rpo_exposure_seconds = exposure;
  a.rpo_target_seconds = target;
  a.last_archived = kNow - 1min;
  a.stanza_message = "ok";
  return a;
}

// Free space falling by `per_hour` GiB an hour over the last day, `free` GiB now.
std::vector<SpaceSample> falling(double free, double per_hour) {
  std::vector<SpaceSample> out;
  for (int h = 24; h >= 0; h -= 3) {
    out.push_back({kNow - std::chrono::hours(h), (free + per_hour * h) * kGiB});
  }
  return out;
}

}  // namespace

TEST_CASE("the health verdict fires what the bundled alert rules fire, with their severity") {
  struct Case {
    const char* situation;
    std::function<void(HealthSignals&)> change;
    HealthLevel level;
    const char* alert;   // the first finding's alert ("" when none)
    const char* reason;  // the first finding's reason
  };
  const Case cases[] = {
      {"everything fine", [](HealthSignals&) {}, HealthLevel::ok, "", ""},
      {"never a good backup", [](HealthSignals& s) { s.last_good_backup.reset(); },
       HealthLevel::critical, "PgBackupTooOld", "no good backup yet"},
      {"a daily backup 25 h old is still within 26 h",
       [](HealthSignals& s) { s.last_good_backup = kNow - 25h; }, HealthLevel::ok, "", ""},
      {"a daily backup 27 h old is too old",
       [](HealthSignals& s) { s.last_good_backup = kNow - 27h; }, HealthLevel::critical,
       "PgBackupTooOld", "the newest good backup is 1d3h old"},
      {"a weekly schedule allows 1.1 intervals",
       [](HealthSignals& s) {
         s.schedule_interval_seconds = 7 * 86400;
         s.last_good_backup = kNow - 7 * 24h - 12h;
       },
       HealthLevel::ok, "", ""},
      {"the last attempt failed",
       [](HealthSignals& s) {
         s.last_backup_failed = true;
         s.last_backup_error = "pg_dump exited with status 1";
       },
       HealthLevel::warning, "PgBackupFailed",
       "the last backup failed: pg_dump exited with status 1"},
      {"a size anomaly",
       [](HealthSignals& s) {
         s.size_anomaly = true;
         s.size_anomaly_reason = "10 B is below 0.5 x the median";
       },
       HealthLevel::warning, "PgBackupSizeAnomaly", "size anomaly: 10 B is below 0.5 x the median"},
      {"shrunk tables are critical",
       [](HealthSignals& s) { s.shrunk_tables = {"public.orders 1200 → 3"}; },
       HealthLevel::critical, "PgBackupTablesShrunk",
       "1 table(s) lost rows since the previous backup: public.orders 1200 → 3"},
      {"dropped schema objects", [](HealthSignals& s) { s.dropped_schema_objects = 2; },
       HealthLevel::warning, "PgBackupSchemaObjectsDropped",
       "2 schema object(s) dropped since the previous backup"},
      {"the database is down", [](HealthSignals& s) { s.database_up = false; },
       HealthLevel::critical, "PgBackupDatabaseDown", "the agent cannot connect to the database"},
      {"not probed yet is no finding", [](HealthSignals& s) { s.database_up.reset(); },
       HealthLevel::ok, "", ""},
      {"19 % free is a warning",
       [](HealthSignals& s) {
         s.repository_avail_bytes = std::uint64_t(19 * kGiB);
         s.space = {{kNow, 19 * kGiB}};
       },
       HealthLevel::warning, "PgBackupRepositorySpaceLow", "only 19.0 % free space"},
      {"4 % free is critical",
       [](HealthSignals& s) {
         s.repository_avail_bytes = std::uint64_t(4 * kGiB);
         s.space = {{kNow, 4 * kGiB}};
       },
       HealthLevel::critical, "PgBackupRepositorySpaceLow", "only 4.0 % free space"},
      {"35 % free and full within a day",
       [](HealthSignals& s) {
         s.repository_avail_bytes = std::uint64_t(35 * kGiB);
         s.space = falling(35, 2);
       },
       HealthLevel::warning, "PgBackupRepositoryFillingUp",
       "35.0 % free and predicted to be full within 24 hours"},
      {"35 % free and falling slowly",
       [](HealthSignals& s) {
         s.repository_avail_bytes = std::uint64_t(35 * kGiB);
         s.space = falling(35, 1);
       },
       HealthLevel::ok, "", ""},
      {"19 % free and full within 4 hours is critical",
       [](HealthSignals& s) {
         s.repository_avail_bytes = std::uint64_t(19 * kGiB);
         s.space = falling(19, 6);
       },
       HealthLevel::critical, "PgBackupRepositoryFillingUp",
       "19.0 % free and predicted to be full within 4 hours"},
      {"a fall over ten minutes says nothing about the next hours",
       [](HealthSignals& s) {
         s.repository_avail_bytes = std::uint64_t(19 * kGiB);
         s.space = {{kNow - 10min, 29 * kGiB}, {kNow, 19 * kGiB}};
       },
       HealthLevel::warning, "PgBackupRepositorySpaceLow", "only 19.0 % free space"},
      {"the last restore test failed",
       [](HealthSignals& s) {
         s.last_restore_test_failed = true;
         s.last_restore_test_error = "2 tables differ";
       },
       HealthLevel::warning, "PgBackupRestoreTestFailed",
       "the last restore test failed: 2 tables differ"},
      {"no restore test passed for 11 days on a weekly schedule",
       [](HealthSignals& s) { s.last_restore_test_success = kNow - 11 * 24h; },
       HealthLevel::warning, "PgBackupRestoreTestOverdue", "no restore test has passed for 11d"},
      {"no restore test ever passed", [](HealthSignals& s) { s.last_restore_test_success.reset(); },
       HealthLevel::warning, "PgBackupRestoreTestOverdue", "no restore test has passed yet"},
      {"no restore tests configured",
       [](HealthSignals& s) {
         s.last_restore_test_success.reset();
         s.restore_test_interval_seconds = 0;
         s.rto_target_seconds = 0;
       },
       HealthLevel::ok, "", ""},
      {"a restore slower than the RTO",
       [](HealthSignals& s) { s.last_restore_test_seconds = 2400; }, HealthLevel::warning,
       "PgBackupRestoreTooSlow", "the last restore test took 40m, more than the RTO target of 30m"},
      {"the last off-site upload failed",
       [](HealthSignals& s) {
         s.offsite_last_upload_failed = true;
         s.offsite_error = "connection refused";
       },
       HealthLevel::warning, "PgBackupOffsiteFailing",
       "the last off-site upload failed: connection refused"},
      {"a backup waiting 7 h to go off-site",
       [](HealthSignals& s) { s.offsite_oldest_pending = kNow - 7h; }, HealthLevel::warning,
       "PgBackupOffsiteFailing", "a backup has waited 7h to be copied off-site"},
      {"a backup waiting 5 h is still in time",
       [](HealthSignals& s) { s.offsite_oldest_pending = kNow - 5h; }, HealthLevel::ok, "", ""},
      {"RPO exposure over its target", [](HealthSignals& s) { s.archive = archive(900, 300); },
       HealthLevel::critical, "PgBackupRpoExceeded",
       "changes up to 15m old are not in the repository, more than the RPO target of 5m"},
      {"no archived segment dates the exposure",
       [](HealthSignals& s) { s.archive = archive(std::nullopt, 300); }, HealthLevel::critical,
       "PgBackupRpoExceeded",
       "no archived WAL segment dates the exposure, more than the RPO target of 5m"},
      {"an exposure without rpo_target", [](HealthSignals& s) { s.archive = archive(900, 0); },
       HealthLevel::ok, "", ""},
      {"an exposure inside its target", [](HealthSignals& s) { s.archive = archive(60, 300); },
       HealthLevel::ok, "", ""},
      {"archiving failing for 20 min",
       [](HealthSignals& s) {
         s.archive = archive(60, 300);
         s.archive->failing = true;
         s.archive->last_archived = kNow - 20min;
       },
       HealthLevel::critical, "PgBackupWalArchivingFailing",
       "WAL archiving is failing; the last segment was archived 20m ago"},
      {"archiving failed once, 5 min after the last archived segment",
       [](HealthSignals& s) {
         s.archive = archive(60, 300);
         s.archive->failing = true;
         s.archive->last_archived = kNow - 5min;
       },
       HealthLevel::ok, "", ""},
      {"a missing WAL segment",
       [](HealthSignals& s) {
         s.archive = archive(60, 300);
         s.archive->wal_gaps = 2;
       },
       HealthLevel::critical, "PgBackupWalGap",
       "2 WAL segment(s) missing inside the recovery window"},
      {"an unhealthy stanza",
       [](HealthSignals& s) {
         s.archive = archive(60, 300);
         s.archive->stanza_status = 1;
         s.archive->stanza_message = "missing stanza path";
       },
       HealthLevel::critical, "PgBackupStanzaUnhealthy",
       "pgBackRest reports the stanza as missing stanza path (status 1)"},
      {"a verify run found invalid files",
       [](HealthSignals& s) {
         s.verify_ran = s.verify_failed = true;
         s.verify_invalid_files = 2;
         s.verify_error = "2 invalid file(s)";
         s.verify_last_success = kNow - 30h;
       },
       HealthLevel::warning, "PgBackupVerifyFailed",
       "the last verify run failed: 2 invalid file(s)"},
      {"the first verify run failed without naming files",
       [](HealthSignals& s) {
         s.verify_ran = s.verify_failed = true;
         s.verify_error = "pgbackrest failed";
       },
       HealthLevel::ok, "", ""},
      {"no verify run passed for 3 days on a target with an archive",
       [](HealthSignals& s) {
         s.archive = archive(60, 300);
         s.verify_last_success = kNow - 72h;
         s.recovery_window_start = kNow - 30 * 24h;
       },
       HealthLevel::warning, "PgBackupVerifyOverdue", "no verify run has passed for 3d"},
      {"a target with an archive younger than 48 h has not verified yet",
       [](HealthSignals& s) {
         s.archive = archive(60, 300);
         s.recovery_window_start = kNow - 10h;
       },
       HealthLevel::ok, "", ""},
      {"a pg_dump target that never verifies",
       [](HealthSignals& s) { s.recovery_window_start = kNow - 30 * 24h; }, HealthLevel::ok, "",
       ""},
      {"critical findings come before warnings",
       [](HealthSignals& s) {
         s.last_backup_failed = true;
         s.last_backup_error = "database down";
         s.database_up = false;
       },
       HealthLevel::critical, "PgBackupDatabaseDown", "the agent cannot connect to the database"},
  };
  std::set<std::string> fired;
  for (const Case& c : cases) {
    INFO(c.situation);
    if (*c.alert) fired.insert(c.alert);
    HealthSignals s = healthy();
    c.change(s);
    const Health h = assess_health(s, kNow);
    CHECK(health_level_name(h.level) == std::string(health_level_name(c.level)));
    if (std::string(c.alert).empty()) {
      CHECK(h.findings.empty());
    } else {
      REQUIRE(!h.findings.empty());
      CHECK(h.findings.front().alert == c.alert);
      CHECK(h.findings.front().reason == c.reason);
    }
  }
  // Every alert the verdict judges has a case above that fires it.
  CHECK(fired == std::set<std::string>(judged_alerts().begin(), judged_alerts().end()));
}

TEST_CASE("the health verdict judges every bundled alert but the agent's own") {
  std::ifstream in(std::string(PGBACKUP_SOURCE_DIR) + "/alerts/pgbackup.rules.yml");
  REQUIRE(in);
  std::stringstream rules;
  rules << in.rdbuf();
  const std::string text = rules.str();
  std::set<std::string> bundled;
  const std::regex alert(R"re(- alert: "(\w+)")re");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), alert);
       it != std::sregex_iterator(); ++it) {
    bundled.insert((*it)[1]);
  }
  std::set<std::string> expected(judged_alerts().begin(), judged_alerts().end());
  expected.insert({"PgBackupAgentDown", "PgBackupCollectorFailing"});
  CHECK(bundled == expected);
}

TEST_CASE("predict_linear fits the samples within the window like Prometheus") {
  const std::vector<SpaceSample> samples = {
      {kNow - 48h, 999}, {kNow - 20h, 120}, {kNow - 10h, 110}, {kNow, 100}};
  // Over one day the 48 h sample is outside: 1 byte per hour down, 100 now.
  CHECK(*predict_linear(samples, kNow, 24h, 10h) == Approx(90));
  CHECK(*predict_full(samples, kNow, 24h) == kNow + 100h);
  CHECK_FALSE(predict_linear(samples, kNow, 5h, 1h).has_value());
  // Two samples 1 h apart span less than a quarter of a day.
  CHECK_FALSE(predict_linear({{kNow - 1h, 20}, {kNow, 10}}, kNow, 24h, 1h).has_value());
  CHECK(*predict_linear({{kNow - 6h, 20}, {kNow, 10}}, kNow, 24h, 6h) == Approx(0));
  CHECK_FALSE(predict_full({{kNow - 2h, 10}, {kNow, 20}}, kNow, 24h).has_value());
  CHECK_FALSE(predict_full({{kNow, 10}, {kNow, 20}}, kNow, 24h).has_value());
}
