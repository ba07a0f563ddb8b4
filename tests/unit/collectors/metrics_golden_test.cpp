// Golden exposition tests (node_exporter style): a backup directory in, the exact /metrics text
// out. The fixtures are written by tests/fixtures/metrics/generate.py; run with
// PGBACKUP_UPDATE_GOLDEN=1 to rewrite the expected .prom files after an intended change, then
// review the diff.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "agent/catalog/job_state.h"
#include "agent/core/subprocess.h"
#include "agent/core/timeutil.h"
#include "agent/daemon/target_status.h"
#include "agent/engines/pg_dump/dump_catalog.h"
#include "agent/jobs/offsite.h"
#include "collectors/collector.h"
#include "tests/support/physical_backup.h"

namespace pgbackup {
namespace {

const fs::path kFixtures = fs::path(PGBACKUP_SOURCE_DIR) / "tests" / "fixtures" / "metrics";
constexpr std::uint64_t kGiB = 1024ull * 1024 * 1024;

bool updating_golden() {
  const char* v = std::getenv("PGBACKUP_UPDATE_GOLDEN");
  return v && std::string(v) == "1";
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// One target read from a fixture directory, with fixed values for everything that does not
// come from disk (filesystem, schedule, runtime): read_target_status would read statvfs.
TargetStatus fixture_target(const std::string& fixture, const std::string& name,
                            const TargetRuntime& runtime) {
  const fs::path dir = kFixtures / fixture;
  // Git keeps no empty directories; a missing one is a target that never backed up.
  REQUIRE(fs::is_directory(dir));
  TargetStatus t;
  t.name = name;
  t.backup_dir = dir.string();
  t.backups = DumpCatalog(dir, name).scan();
  t.engine = "pg_dump";
  t.recovery_window = finish_time_window(t.backups);
  t.state = load_state(dir / ".pgbackup");
  t.restore_tests = read_restore_test_history(dir / ".pgbackup", kRestoreTestHistory);
  t.filesystem = {100 * kGiB, 30 * kGiB};
  t.schedule_interval_seconds = 86400;
  t.runtime = runtime;
  return t;
}

TargetRuntime runtime(const char* next_backup, double total, double failures, double deleted,
                      std::optional<bool> database_up) {
  TargetRuntime r;
  r.next_backup = parse_iso8601(next_backup);
  r.backups_total = total;
  r.backup_failures_total = failures;
  r.retention_deleted_total = deleted;
  r.database_up = database_up;
  return r;
}

// Off-site copies of weekly and monthly backups, as the seed's strategy wants; pending counted
// the way read_target_status does, at the fixtures' "now".
void with_offsite(TargetStatus& t, const std::string& bucket, double uploads, double failures,
                  double bytes) {
  S3Config s3;
  s3.bucket = bucket;
  s3.prefix = t.name + "/";
  t.offsite_configured = true;
  t.offsite_pending =
      pending_offsite(t.backups, s3, RetentionConfig{}, *parse_iso8601("2026-02-05T00:00:00Z"))
          .size();
  t.runtime.offsite_uploads_total = uploads;
  t.runtime.offsite_upload_failures_total = failures;
  t.runtime.offsite_uploaded_bytes_total = bytes;
}

// The fixture of each case, as the daemon would hold it.
TargetStatus empty_target() {
  return fixture_target("empty", "fresh", runtime("2026-02-05T02:00:00Z", 0, 0, 0, true));
}
TargetStatus healthy_target() {
  TargetStatus t =
      fixture_target("healthy", "pnode", runtime("2026-02-05T02:00:00Z", 3, 0, 1, true));
  t.restore_test_schedule_interval_seconds = 604800;
  t.restore_test_rto_target_seconds = 3600;
  with_offsite(t, "pnode-backups", 2, 0, 4200 + 4250);
  return t;
}
TargetStatus failing_target() {
  TargetStatus t =
      fixture_target("failing", "billing", runtime("2026-02-05T01:30:00Z", 1, 1, 0, false));
  with_offsite(t, "billing-backups", 2, 2, 0);
  return t;
}
TargetStatus restore_tested_target() {
  TargetRuntime r = runtime("2026-02-09T02:00:00Z", 2, 0, 0, true);
  r.restore_tests_total = 2;
  r.restore_test_failures_total = 1;
  TargetStatus t = fixture_target("restore_tested", "pulse", r);
  t.restore_test_schedule_interval_seconds = 604800;
  t.restore_test_rto_target_seconds = 1800;
  return t;
}
TargetStatus anomaly_target() {
  return fixture_target("anomaly", "shop", runtime("2026-02-06T03:00:00Z", 1, 0, 0, true));
}

// A target whose engine keeps a WAL archive: a full, a diff and an incr, the recovery window
// reaching the newest archived segment, the prober's archive status (archiving failing, a gap)
// and a failed verify run after a passed one; its repository is encrypted (repo-cipher-type).
TargetStatus archived_target() {
  TargetStatus t;
  t.name = "pulse";
  t.engine = "pgbackrest";
  t.backup_dir = "/var/lib/pgbackup/pulse";
  t.backups = {
      pgtest::physical_backup("20260201-020000F", BackupType::full, "2026-02-01T02:00:00Z",
                              "2026-02-01T02:06:00Z", 900 * 1024 * 1024, 900 * 1024 * 1024),
      pgtest::physical_backup("20260201-020000F_20260203-020000D", BackupType::diff,
                              "2026-02-03T02:00:00Z", "2026-02-03T02:01:00Z", 120 * 1024 * 1024,
                              1020 * 1024 * 1024),
      pgtest::physical_backup("20260201-020000F_20260204-160000I", BackupType::incr,
                              "2026-02-04T16:00:00Z", "2026-02-04T16:00:30Z", 20 * 1024 * 1024,
                              1040 * 1024 * 1024),
  };
  for (CatalogEntry& b : t.backups) b.cipher = "aes-256-cbc";
  t.recovery_window = {parse_iso8601("2026-02-01T02:06:00Z"),
                       parse_iso8601("2026-02-04T23:50:00Z")};
  t.rpo_target = std::chrono::seconds(300);
  t.state.verify = JobAttempt{*parse_iso8601("2026-02-04T05:00:00Z"),
                              *parse_iso8601("2026-02-04T05:03:00Z"),
                              false,
                              "2 invalid file(s) in 20260201-020000F",
                              "",
                              2};
  t.state.verify_last_success = parse_iso8601("2026-02-03T05:02:00Z");
  t.filesystem = {100 * kGiB, 60 * kGiB};
  t.schedule_interval_seconds = 14400;
  t.runtime = runtime("2026-02-05T00:00:00Z", 4, 0, 0, true);
  t.runtime.archive = pgtest::failing_archive("2026-02-04T23:50:00Z");
  return t;
}

// The same archive with its database down and nothing in the repository to date it: the
// unknowns are NaN (bytes) and +Inf (exposure), and promtool must accept them.
TargetStatus archived_target_database_down() {
  TargetStatus t = archived_target();
  t.name = "pulse-replica";
  t.rpo_target.reset();
  t.runtime.database_up = false;
  t.runtime.archive->from_database = false;
  t.runtime.archive->health = {1, "missing stanza path", 0, std::nullopt};
  t.runtime.archive->last_archived.reset();
  t.runtime.archive->unarchived_bytes.reset();
  t.runtime.archive->rpo_exposure.reset();
  return t;
}

// What legitimately varies between runs: collector timings and the git revision.
std::string normalise(const std::string& text) {
  static const std::regex duration(R"(^(pgbackup_collector_duration_seconds\{[^}]*\}) \S+$)",
                                   std::regex::multiline);
  static const std::regex revision(R"(^(pgbackup_build_info\{.*revision=")[^"]*(".*)$)",
                                   std::regex::multiline);
  std::string out = std::regex_replace(text, duration, "$1 0");
  return std::regex_replace(out, revision, "$1REVISION$2");
}

// With `web_config_reload_ok`, as the daemon serves with --web.config.file: the web config
// and HTTP collectors too (3 connections refused).
std::string scrape(std::vector<TargetStatus> targets,
                   std::optional<bool> web_config_reload_ok = std::nullopt) {
  ScrapeInput input{std::move(targets)};
  input.web_config_reload_ok = web_config_reload_ok;
  std::vector<std::unique_ptr<Collector>> collectors = default_collectors();
  if (web_config_reload_ok) {
    collectors.push_back(make_web_config_collector());
    collectors.push_back(make_http_collector());
    input.http_connections_refused = 3;
  }
  const ManualClock clock(SysTime{});
  const CollectorSet set(
      std::move(collectors), [&] { return input; }, clock);
  return normalise(to_exposition(set.Collect()));
}

// Compares with <case>.prom byte for byte, or rewrites it under PGBACKUP_UPDATE_GOLDEN=1.
void check_golden(const std::string& name, const std::string& actual) {
  const fs::path golden = kFixtures / (name + ".prom");
  if (updating_golden()) {
    std::ofstream(golden, std::ios::binary | std::ios::trunc) << actual;
    WARN("rewrote " << golden.string());
    return;
  }
  INFO("golden file " << golden.string() << " (PGBACKUP_UPDATE_GOLDEN=1 rewrites it)");
  REQUIRE(fs::exists(golden));
  CHECK(actual == read_text(golden));
}

}  // namespace

TEST_CASE("a target that never backed up exposes every metric as zero") {
  check_golden("empty", scrape({empty_target()}));
}

TEST_CASE("a healthy target exposes its newest backup, its tiers and its restore test") {
  check_golden("healthy", scrape({healthy_target()}));
}

TEST_CASE("a failed last attempt shows as last_run_success 0 while the last success stays") {
  check_golden("failing", scrape({failing_target()}));
}

TEST_CASE("a size anomaly with shrunk tables is exposed and a dump without manifest is not good") {
  check_golden("anomaly", scrape({anomaly_target()}));
}

TEST_CASE(
    "a failed restore test shows its mismatches, failed checks and measured duration, "
    "while the last success comes from the history") {
  const TargetStatus t = restore_tested_target();
  REQUIRE(t.restore_tests.size() == 3);
  CHECK(t.restore_tests.front().backup == "pulse_20260208_020000.dump");
  check_golden("restore_tested", scrape({t}));
}

TEST_CASE("two targets in one scrape share each family, one sample per target") {
  check_golden("two_targets", scrape({healthy_target(), failing_target()}));
}

TEST_CASE(
    "a target with a WAL archive exposes its RPO, archiving and verify series; one without has "
    "none of the archive's") {
  check_golden("archive",
               scrape({archived_target(), archived_target_database_down(), healthy_target()}));
}

// The dashboard lint reads these files to know what the agent exports (CTest's "monitoring:
// dashboard and alerts cover every DESIGN metric the agent exports"): this case is where the
// web config metric, served only with --web.config.file, appears.
TEST_CASE("a refused web config reload shows as 0 while the previous config serves") {
  check_golden("web_config_refused", scrape({healthy_target()}, false));
}

TEST_CASE("the normalisation replaces only collector durations and the build revision") {
  const std::string text =
      "pgbackup_build_info{version=\"0.1.0\",revision=\"abc123\"} 1\n"
      "pgbackup_collector_duration_seconds{collector=\"backups\"} 1.5e-05\n"
      "pgbackup_collector_success{collector=\"backups\"} 1\n";
  CHECK(normalise(text) ==
        "pgbackup_build_info{version=\"0.1.0\",revision=\"REVISION\"} 1\n"
        "pgbackup_collector_duration_seconds{collector=\"backups\"} 0\n"
        "pgbackup_collector_success{collector=\"backups\"} 1\n");
}

TEST_CASE("every golden exposition passes promtool check metrics") {
  if (updating_golden()) return;
  const char* promtool = "/usr/bin/promtool";
  if (!fs::exists(promtool)) {
    WARN("skipped: " << promtool << " is not installed");
    return;
  }
  for (const char* name : {"empty", "healthy", "failing", "anomaly", "restore_tested",
                           "two_targets", "web_config_refused", "archive"}) {
    const fs::path golden = kFixtures / (std::string(name) + ".prom");
    INFO(golden.string());
    REQUIRE(fs::exists(golden));
    ProcessSpec spec;
    spec.argv = {promtool, "check", "metrics"};
    spec.stdin_data = read_text(golden);
    spec.timeout = std::chrono::seconds(30);
    const ProcessResult result = run_process(spec);
    INFO(describe_failure(spec, result) << "\n" << result.out);
    CHECK(result.ok());
  }
}

}  // namespace pgbackup

namespace pgbackup {

TEST_CASE("scrapes within max_age share one rendering of /metrics") {
  int reads = 0;
  std::vector<TargetStatus> targets(1);
  targets[0].name = "pulse";
  ManualClock clock(SysTime{});
  const CollectorSet set(
      default_collectors(),
      [&] {
        ++reads;
        return ScrapeInput{targets};
      },
      clock);
  CachedExposition cache(set, std::chrono::milliseconds(1000), clock);

  const std::string first = cache.body();
  CHECK_THAT(first, Catch::Contains("pgbackup_backup_in_progress{target=\"pulse\"} 0"));
  targets[0].runtime.backup_in_progress = true;
  clock.advance(std::chrono::milliseconds(999));
  CHECK(cache.body() == first);
  CHECK(reads == 1);
  clock.advance(std::chrono::milliseconds(1));
  CHECK_THAT(cache.body(), Catch::Contains("pgbackup_backup_in_progress{target=\"pulse\"} 1"));
  CHECK(reads == 2);
}

}  // namespace pgbackup
