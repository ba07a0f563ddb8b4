// The status page and /api/v1/status show the restore-test history.
#include <catch2/catch.hpp>

#include "agent/web/status_page.h"

namespace pgbackup {
namespace {

RestoreTestReport report(const char* backup, const char* finished, double seconds, bool success) {
  RestoreTestReport r;
  r.target = "pulse";
  r.backup = backup;
  r.finished_at = *parse_iso8601(finished);
  r.started_at = r.finished_at - std::chrono::seconds(static_cast<long>(seconds));
  r.duration_seconds = seconds;
  r.rto_target_seconds = 1800;
  r.success = success;
  return r;
}

TargetStatus tested_target() {
  TargetStatus t;
  t.name = "pulse";
  t.restore_test_rto_target_seconds = 1800;
  RestoreTestReport failed =
      report("pulse_20260208_020000.dump", "2026-02-08T04:12:30Z", 2400, false);
  failed.mismatched_tables = {"public.nodes: 122 rows in the backup, 120 restored"};
  failed.failed_checks = {"nodes_recent: returned false"};
  t.restore_tests = {failed,
                     report("pulse_20260201_020000.dump", "2026-02-01T04:10:00Z", 600, true)};
  t.runtime.next_restore_test = parse_iso8601("2026-02-15T04:00:00Z");
  return t;
}

// A target whose only backup is `m`, taken 2026-02-08 02:00.
TargetStatus target_with_backup(const std::string& name, const Manifest& m) {
  TargetStatus t;
  t.name = name;
  BackupEntry b;
  b.dump = m.file;
  b.started_at = *parse_iso8601("2026-02-08T02:00:00Z");
  b.manifest = m;
  t.backups = {b};
  return t;
}

}  // namespace

TEST_CASE("the status page lists restore tests newest first with measured RTO against target") {
  const std::string html =
      render_status_page({tested_target()}, *parse_iso8601("2026-02-09T00:00:00Z"));
  const auto newest = html.find("pulse_20260208_020000.dump");
  const auto older = html.find("pulse_20260201_020000.dump");
  REQUIRE(newest != std::string::npos);
  REQUIRE(older != std::string::npos);
  CHECK(newest < older);
  CHECK_THAT(html, Catch::Contains("2400.0s of 1800s (over target)") &&
                       Catch::Contains("600.0s of 1800s") &&
                       Catch::Contains("public.nodes: 122 rows in the backup, 120 restored") &&
                       Catch::Contains("check nodes_recent: returned false") &&
                       Catch::Contains("next: 2026-02-15T04:00:00Z"));
}

TEST_CASE("a target without restore tests says so on the status page") {
  TargetStatus t;
  t.name = "plain";
  CHECK_THAT(render_status_page({t}, *parse_iso8601("2026-02-09T00:00:00Z")),
             Catch::Contains("no restore_test configured"));
}

TEST_CASE("/api/v1/status carries the restore-test reports") {
  const auto j = status_json({tested_target()}, *parse_iso8601("2026-02-09T00:00:00Z"));
  const auto& tests = j["targets"][0]["restore_tests"];
  REQUIRE(tests.size() == 2);
  CHECK(tests[0]["backup"] == "pulse_20260208_020000.dump");
  CHECK(tests[0]["success"] == false);
  CHECK(tests[0]["duration_seconds"] == 2400);
  CHECK(tests[0]["mismatched_tables"].size() == 1);
  CHECK(j["targets"][0]["next_restore_test"] == "2026-02-15T04:00:00Z");
}

}  // namespace pgbackup

namespace pgbackup {

TEST_CASE("the status page and /api/v1/status show a TimescaleDB backup's hypertables as such") {
  Manifest m;
  m.file = "pulse_20260208_020000.dump";
  m.tables = {{"public", "nodes", 50}};
  TableRows metrics{"public", "node_metrics", 10000, RelationKind::hypertable};
  metrics.chunks = 16;
  metrics.compressed_chunks = 11;
  m.tables.push_back(metrics);
  m.continuous_aggregates = {{"public", "node_metrics_hourly", 3600,
                              RelationKind::continuous_aggregate, 0, 0, "public.node_metrics"}};
  const TargetStatus t = target_with_backup("pulse", m);
  const SysTime now = *parse_iso8601("2026-02-09T00:00:00Z");
  CHECK_THAT(render_status_page({t}, now),
             Catch::Contains("<td>public.node_metrics</td><td>10000</td><td>16</td><td>11</td>") &&
                 Catch::Contains("public.node_metrics_hourly (continuous aggregate of "
                                 "public.node_metrics)") &&
                 !Catch::Contains("<td>public.nodes</td>"));
  const auto j = status_json({t}, now);
  const auto& hypertables = j["targets"][0]["backups"][0]["hypertables"];
  REQUIRE(hypertables.size() == 1);
  CHECK(hypertables[0]["name"] == "public.node_metrics");
  CHECK(hypertables[0]["compressed_chunks"] == 11);
}

TEST_CASE("the status page lists the newest backup's schema changes, escaped") {
  Manifest m;
  m.file = "shop_20260208_020000.dump";
  m.schema = SchemaFingerprint{};
  m.schema_compared_with = "shop_20260207_020000.dump";
  m.schema_changes = {
      {SchemaChangeType::dropped, "index", "orders_created on public.orders",
       "CREATE INDEX orders_created ON public.orders USING btree (created)"},
      {SchemaChangeType::added, "view", "public.\"<script>alert(1)</script>\"", ""},
  };
  TargetStatus t = target_with_backup("shop", m);
  const SysTime now = *parse_iso8601("2026-02-09T00:00:00Z");
  const std::string html = render_status_page({t}, now);
  CHECK_THAT(html,
             Catch::Contains("Schema changes (newest backup)") &&
                 Catch::Contains("2 schema changes (1 added, 1 dropped) since "
                                 "shop_20260207_020000.dump") &&
                 Catch::Contains("<td class=bad>dropped</td><td>index orders_created on "
                                 "public.orders</td><td>CREATE INDEX orders_created ON "
                                 "public.orders USING btree (created)</td>") &&
                 Catch::Contains("view public.&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;") &&
                 !Catch::Contains("<script>"));
  CHECK(status_json({t}, now)["targets"][0]["backups"][0]["schema_changes"].size() == 2);

  SECTION("a backup with nothing to compare with says so") {
    t.backups[0].manifest->schema_compared_with.clear();
    t.backups[0].manifest->schema_changes.clear();
    CHECK_THAT(render_status_page({t}, now), Catch::Contains("Nothing to compare with"));
  }
  SECTION("a backup taken before fingerprints says so") {
    t.backups[0].manifest->schema.reset();
    CHECK_THAT(render_status_page({t}, now), Catch::Contains("has no schema fingerprint"));
  }
}

}  // namespace pgbackup
