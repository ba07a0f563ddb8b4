// The status page and /api/v1/status show the restore-test history.
#include <catch2/catch.hpp>

#include "agent/crypto/age.h"
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
  CatalogEntry b;
  b.dump = m.file;
  b.started_at = *parse_iso8601("2026-02-08T02:00:00Z");
  b.manifest = m;
  t.backups = {b};
  return t;
}

}  // namespace

TEST_CASE("the status page lists restore tests newest first with measured RTO against target") {
  const std::string page =
      render_status_page({tested_target()}, *parse_iso8601("2026-02-09T00:00:00Z"));
  // The history table (the chart above it lists the tests oldest first).
  const std::string html = page.substr(page.find("<h3>Restore tests</h3>"));
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
  const std::string page = render_status_page({t}, now);
  const std::string section = page.substr(page.find("<th>hypertable (newest backup)</th>"));
  CHECK_THAT(section,
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

namespace pgbackup {
namespace {

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The markup of the chart whose svg has `id`.
std::string chart_svg(const std::string& html, const std::string& id) {
  const auto start = html.find("<svg id='" + id + "'");
  if (start == std::string::npos) return "";
  return html.substr(start, html.find("</svg>", start) - start);
}

const SysTime kDay0 = *parse_iso8601("2026-02-01T02:00:00Z");

// Four daily good backups of "shop" growing by 1 MiB, the third a size anomaly, the fourth
// with a shrunk table; a dump without manifest; a 100 GiB filesystem filling up.
TargetStatus growing_target() {
  TargetStatus t;
  t.name = "shop";
  t.backup_dir = "/var/backups/shop";
  t.schedule_interval_seconds = 86400;
  t.filesystem = {100ull << 30, 40ull << 30};
  for (int day = 0; day < 4; ++day) {
    Manifest m;
    m.file = "shop_2026020" + std::to_string(day + 1) + "_020000.dump";
    m.started_at = kDay0 + std::chrono::hours(24 * day);
    m.finished_at = m.started_at + std::chrono::seconds(30 + day);
    m.duration_seconds = 30 + day;
    m.size_bytes = (10u + day) << 20;
    m.size_baseline_bytes = day ? double(10u << 20) : 0;
    m.tables = {{"public", "orders", 1000 + 100 * day}, {"public", "customers", 50}};
    if (day == 2) {
      m.size_anomaly = true;
      m.size_anomaly_reason = "12 MiB is above 1.1 x the median";
    }
    if (day == 3) {
      m.tables[1].rows = 5;
      m.shrunk_tables = {{"public", "customers", 50, 5}};
      m.tables.push_back({"public", "<script>x</script>", 7});
    }
    m.repository_size_bytes = 100ull << 30;
    m.repository_avail_bytes = (50ull - 3 * day) << 30;
    CatalogEntry b;
    b.dump = "/var/backups/shop/" + m.file;
    b.started_at = m.started_at;
    b.file_size = m.size_bytes;
    b.manifest = m;
    t.backups.push_back(b);
  }
  CatalogEntry broken;
  broken.dump = "/var/backups/shop/shop_20260205_020000.dump";
  broken.started_at = kDay0 + std::chrono::hours(96);
  broken.manifest_error = "no manifest <shop_20260205_020000.dump.json>";
  t.backups.push_back(broken);
  return t;
}

}  // namespace

TEST_CASE("the status page draws a point per backup in each chart and marks anomalies") {
  const SysTime now = kDay0 + std::chrono::hours(100);
  const std::string html = render_status_page({growing_target()}, now);
  const std::string size = chart_svg(html, "size-shop");
  CHECK(count(size, "<circle") == 4);
  CHECK(count(size, "class='point flagged'") == 2);  // the anomaly and the shrunk table
  CHECK(count(size, "<g class=failure>") == 1);      // the dump without manifest
  CHECK(count(size, "<polyline") == 2);              // sizes and the baseline
  CHECK(count(chart_svg(html, "duration-shop"), "<circle") == 4);
  // Free space: one sample per backup and now, with the trend drawn ahead.
  const std::string space = chart_svg(html, "space-shop");
  CHECK(count(space, "<circle") == 5);
  CHECK_THAT(space, Catch::Contains("20 % free"));
  CHECK_THAT(html, Catch::Contains("full around <b>2026-02-"));
  CHECK_THAT(html, Catch::Contains("<meta name=viewport") &&
                       Catch::Contains("No data yet"));  // no restore tests
}

TEST_CASE(
    "the status page shows per table the newest rows and the change since the previous "
    "backup") {
  const std::string html = render_status_page({growing_target()}, kDay0 + std::chrono::hours(100));
  CHECK_THAT(
      html, Catch::Contains("<tr><td>public.orders</td><td>1300</td><td>+100 (+8.3 %)</td></tr>") &&
                Catch::Contains("<tr><td>public.customers</td><td>5</td><td class=bad>-45 "
                                "(-90.0 %)</td></tr>") &&
                Catch::Contains("<td>public.&lt;script&gt;x&lt;/script&gt;</td><td>7</td><td>new"));
  // The backups table: tier, rows, shrunk tables, the anomaly and the broken dump.
  CHECK_THAT(html, Catch::Contains("public.customers 50 → 5") &&
                       Catch::Contains("12 MiB is above 1.1 x the median") &&
                       Catch::Contains("no manifest &lt;shop_20260205_020000.dump.json&gt;"));
  CHECK_THAT(html, !Catch::Contains("<script>"));
}

TEST_CASE("the health summary judges each target like the alert rules") {
  const SysTime now = kDay0 + std::chrono::hours(100);
  TargetStatus failed;
  failed.name = "down<b>";
  failed.schedule_interval_seconds = 86400;
  failed.state.backup = JobAttempt{now - std::chrono::minutes(5), now - std::chrono::minutes(4),
                                   false, "could not connect to server <refused>", ""};
  failed.runtime.database_up = false;
  const std::string html = render_status_page({growing_target(), failed}, now);
  CHECK_THAT(html, Catch::Contains("<tr id='health-shop' data-level='critical'>") &&
                       Catch::Contains("1 table(s) lost rows since the previous backup: "
                                       "public.customers 50 → 5"));
  CHECK_THAT(html, Catch::Contains("<tr id='health-down&lt;b&gt;' data-level='critical'>") &&
                       Catch::Contains("no good backup yet") &&
                       Catch::Contains("the last backup failed: could not connect to server "
                                       "&lt;refused&gt;") &&
                       !Catch::Contains("down<b>"));
  const auto j = status_json({growing_target(), failed}, now);
  CHECK(j["targets"][0]["health"]["level"] == "critical");
  CHECK(j["targets"][1]["health"]["findings"][0]["alert"] == "PgBackupTooOld");
  CHECK(j["targets"][0]["repository"]["predicted_full_at"].get<std::string>().rfind("2026-02-",
                                                                                    0) == 0);
}

TEST_CASE(
    "the status page warns of encrypted backups no key of the identity file opens, without "
    "decrypting") {
  const std::string old_key = "age1j4kwl6elncs0q52p80z5cjp8nasnqtl4fluhgrr3a8046f57ueus57wdhg";
  const std::string new_key = "age1z5u65g46aw9kw2r87jtkxl4v3g2288zj3s2zksper9mq9k7dw96shdqn6q";
  Manifest m;
  m.file = "pulse_20260208_020000.dump.age";
  m.encryption.emplace();
  m.encryption->recipients = {old_key};
  m.encryption->fingerprints = {recipient_fingerprint(old_key)};
  TargetStatus t = target_with_backup("pulse", m);
  Manifest newer = m;
  newer.file = "pulse_20260209_020000.dump.age";
  newer.encryption->recipients = {new_key};
  newer.encryption->fingerprints = {recipient_fingerprint(new_key)};
  CatalogEntry b = t.backups.front();
  b.dump = newer.file;
  b.started_at = *parse_iso8601("2026-02-09T02:00:00Z");
  b.manifest = newer;
  t.backups.push_back(b);
  t.identity.configured = true;
  t.identity.fingerprints = {recipient_fingerprint(new_key)};
  const SysTime now = *parse_iso8601("2026-02-10T00:00:00Z");

  const std::string page = render_status_page({t}, now);
  CHECK_THAT(page, Catch::Contains("<tr><th>encryption keys</th><td><span class=bad>1 of 2 "
                                   "encrypted backups no key of the identity file opens</span>: "
                                   "pulse_20260208_020000.dump.age"));
  CHECK_THAT(page, Catch::Contains("age, 1 recipient <span class=bad>(no key here opens it)"));
  nlohmann::json j = status_json({t}, now)["targets"][0]["encryption_keys"];
  CHECK(j["state"] == "some_unopenable");
  CHECK(j["unopenable"] == nlohmann::json::array({"pulse_20260208_020000.dump.age"}));

  t.identity.fingerprints.push_back(recipient_fingerprint(old_key));
  CHECK_THAT(render_status_page({t}, now),
             Catch::Contains("<span class=ok>the identity file opens all 2 encrypted backups"));
  t.identity = {};  // an encrypt-only host
  CHECK_THAT(render_status_page({t}, now),
             Catch::Contains("2 encrypted backups; no encryption.identity_file here"));
  CHECK(status_json({t}, now)["targets"][0]["encryption_keys"]["state"] == "no_identity");
}

TEST_CASE("the status page shows a pgBackRest repository's cipher as the backup's encryption") {
  TargetStatus t = target_with_backup("physical", Manifest{});
  t.backups.front().dump = "20260208-020000F";
  t.backups.front().cipher = "aes-256-cbc";
  const SysTime now = *parse_iso8601("2026-02-10T00:00:00Z");
  const std::string page = render_status_page({t}, now);
  CHECK_THAT(page, Catch::Contains("<td>aes-256-cbc</td>"));
  CHECK_THAT(page, !Catch::Contains("encryption keys"));  // nothing for the identity to open
  CHECK(status_json({t}, now)["targets"][0]["backups"][0]["encrypted"] == true);
}

}  // namespace pgbackup
