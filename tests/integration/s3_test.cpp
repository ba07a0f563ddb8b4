// Off-site copies to S3: the real binary against s3rver behind a proxy that checks every
// request's SigV4 signature with botocore (tests/s3/sigv4_proxy.py).
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <regex>
#include <thread>

#include "agent/catalog/job_state.h"
#include "agent/core/sha256.h"
#include "agent/jobs/offsite.h"
#include "agent/storage/s3/client.h"
#include "tests/support/daemon.h"
#include "tests/support/fake_backup.h"
#include "tests/support/s3_server.h"
#include "tests/support/target.h"

using namespace pgtest;
using namespace std::chrono_literals;

namespace {

using pgbackup::Tier;

const auto kNow = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());

// A target of synthetic backups (no database needed) copied to `s3`.
struct OffsiteTarget {
  fs::path root = make_temp_dir("offsite");
  fs::path dir = root / "backups";
  fs::path config = root / "pgbackup.yml";

  OffsiteTarget(const S3Server& s3, const std::string& offsite_extra,
                const std::string& retention = "") {
    write_config(s3, offsite_extra, retention);
  }
  void write_config(const S3Server& s3, const std::string& offsite_extra,
                    const std::string& retention) const {
    write_text(config,
               "targets:\n  - name: synthetic\n    database: {user: u, dbname: d}\n"
               "    backup: {dir: " +
                   dir.string() + "}\n" + retention + s3.offsite_yaml("db1/", offsite_extra));
  }
  AgentRun agent(const S3Server& s3, std::vector<std::string> args,
                 const std::string& secret = S3Server::kSecretKey) const {
    args.insert(args.begin(), {"--config", config.string()});
    return run_agent(args, s3.key_env(secret));
  }
  nlohmann::json manifest(const fs::path& dump) const {
    return nlohmann::json::parse(read_text_file(dump.string() + ".json"));
  }
  std::string state() const { return read_text_file(dir / ".pgbackup/state.json"); }
  std::string audit() const { return read_text_file(dir / ".pgbackup/audit.jsonl"); }
  // The target as a new server sees it, fetching from the bucket (fetch_offsite_backup), with
  // the keys in this process's environment.
  pgbackup::TargetConfig fetching_target(const S3Server& s3) const {
    pgbackup::TargetConfig target;
    target.name = "synthetic";
    target.backup.dir = root / "elsewhere";
    target.offsite_s3 = s3.config("db1/");
    for (const auto& [name, value] : s3.key_env()) ::setenv(name.c_str(), value.c_str(), 1);
    return target;
  }
  // `dump`, fetched back from the bucket into a temporary directory under root as a new server
  // would (fetch_offsite_backup), with that transfer timeout.
  pgbackup::FetchedBackup fetch(const S3Server& s3, const fs::path& dump,
                                std::chrono::seconds stall_timeout = 60s) const {
    pgbackup::TargetConfig target = fetching_target(s3);
    target.offsite_s3->stall_timeout = stall_timeout;
    const pgbackup::SystemClock clock;
    return pgbackup::fetch_offsite_backup(target,
                                          "s3://pgtest-bucket/db1/" + dump.filename().string(),
                                          root / "tmp", pgbackup::JobContext{clock});
  }
};

pgbackup::S3Client client_for(const S3Server& s3, const std::string& prefix = "db1/") {
  return pgbackup::S3Client(s3.config(prefix), {S3Server::kAccessKey, S3Server::kSecretKey});
}

std::vector<nlohmann::json> requests_matching(const S3Server& s3, const std::string& method,
                                              const std::string& query_part) {
  std::vector<nlohmann::json> out;
  for (const auto& r : s3.requests()) {
    if (r["method"] == method &&
        r["query"].get<std::string>().find(query_part) != std::string::npos)
      out.push_back(r);
  }
  return out;
}

std::string sha256_of(const std::string& data) {
  pgbackup::Sha256 sha;
  sha.update(data.data(), data.size());
  return sha.hex_digest();
}

}  // namespace

TEST_CASE(
    "upload copies the tiers listed, dump then manifest, with the tier's storage class and "
    "AES256, and records each copy after checking it",
    "[s3]") {
  S3Server s3;
  OffsiteTarget t(
      s3,
      "        tiers: [weekly, monthly]\n"
      "        storage_class: {daily: STANDARD_IA, weekly: STANDARD_IA, monthly: GLACIER}\n"
      "        server_side_encryption: AES256\n");
  const fs::path monthly = write_fake_backup(t.dir, "synthetic", kNow - 48h, Tier::monthly);
  const fs::path weekly = write_fake_backup(t.dir, "synthetic", kNow - 24h, Tier::weekly);
  const fs::path daily = write_fake_backup(t.dir, "synthetic", kNow - 1h, Tier::daily);

  const AgentRun run = t.agent(s3, {"upload"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  const std::string url = "s3://pgtest-bucket/db1/" + monthly.filename().string();
  CHECK_THAT(run.out, Catch::Contains("uploaded " + url + " (GLACIER)"));

  auto client = client_for(s3);
  const auto head = client.head("db1/" + monthly.filename().string());
  REQUIRE(head);
  CHECK(head->storage_class == "GLACIER");
  CHECK(head->size == 4096);
  CHECK(head->meta("sha256") == t.manifest(monthly)["sha256"]);
  CHECK(client.head("db1/" + weekly.filename().string())->storage_class == "STANDARD_IA");
  CHECK(client.head("db1/" + monthly.filename().string() + ".json"));
  CHECK_FALSE(client.head("db1/" + daily.filename().string()));  // daily is not in tiers

  // The dump goes before its manifest, each PUT with the encryption header.
  std::vector<std::string> puts;
  for (const auto& r : requests_matching(s3, "PUT", "")) {
    puts.push_back(r["path"]);
    CHECK(r["headers"].value("x-amz-server-side-encryption", "") == "AES256");
  }
  REQUIRE(puts.size() == 4);
  CHECK(puts[0] == "/pgtest-bucket/db1/" + monthly.filename().string());
  CHECK(puts[1] == "/pgtest-bucket/db1/" + monthly.filename().string() + ".json");

  const auto copy = t.manifest(monthly)["offsite"];
  REQUIRE(copy.size() == 1);
  CHECK(copy[0]["url"] == url);
  CHECK(copy[0]["storage_class"] == "GLACIER");
  CHECK(copy[0]["etag"] == head->etag);
  CHECK(t.manifest(daily)["offsite"].empty());
  CHECK_THAT(t.state(), Catch::Contains("\"offsite\"") && Catch::Contains("\"success\": true"));
  CHECK_THAT(read_text_file(t.dir / ".pgbackup/audit.jsonl"),
             Catch::Contains("\"operation\":\"upload\"") && Catch::Contains(url));

  CHECK_THAT(t.agent(s3, {"list"}).out, Catch::Contains("off-site"));

  // A second run has nothing left to copy.
  const AgentRun again = t.agent(s3, {"upload", "--all-missing"});
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.out, Catch::Contains("nothing to upload"));
}

TEST_CASE(
    "a backup at or above the multipart threshold goes up in parts streamed from disk and "
    "comes back byte for byte",
    "[s3]") {
  S3Server s3;
  OffsiteTarget t(s3, "        tiers: [daily]\n");
  const std::string content = random_bytes(12 * 1024 * 1024 + 123);
  const fs::path dump = write_fake_backup(t.dir, "synthetic", kNow - 1h, Tier::daily, content);

  const AgentRun run = t.agent(s3, {"upload", dump.string()});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(requests_matching(s3, "POST", "uploads=").size() == 1);
  CHECK(requests_matching(s3, "PUT", "partNumber=").size() == 3);  // 5 + 5 + 2 MiB
  CHECK(requests_matching(s3, "POST", "uploadId=").size() == 1);   // complete

  auto client = client_for(s3);
  const fs::path back = t.root / "back.dump";
  client.download("db1/" + dump.filename().string(), back);
  CHECK(sha256_of(read_text_file(back)) == sha256_of(content));
  CHECK(t.manifest(dump)["offsite"].size() == 1);
}

TEST_CASE("S3 5xx answers (503 SlowDown, 500 InternalError) are retried with backoff", "[s3]") {
  const int status = GENERATE(503, 500);
  S3Server s3({.deny_storage_classes = {}, .fail_next = 2, .fail_status = status});
  OffsiteTarget t(s3, "        tiers: [daily]\n");
  const fs::path dump = write_fake_backup(t.dir, "synthetic", kNow - 1h, Tier::daily);
  const AgentRun run = t.agent(s3, {"upload"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);
  CHECK_THAT(run.err,
             Catch::Contains("(HTTP " + std::to_string(status) + "), retrying in 500 ms") &&
                 Catch::Contains("(HTTP " + std::to_string(status) + "), retrying in 1000 ms"));
  CHECK(t.manifest(dump)["offsite"].size() == 1);
  CHECK(nlohmann::json::parse(t.state())["offsite"]["success"] == true);
}

TEST_CASE("the signature check rejects a wrong secret, and the agent says which keys to check",
          "[s3]") {
  S3Server s3;
  OffsiteTarget t(s3, "        tiers: [daily]\n");
  const fs::path dump = write_fake_backup(t.dir, "synthetic", kNow - 1h, Tier::daily);
  const AgentRun run = t.agent(s3, {"upload"}, "not-the-secret");
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.err, Catch::Contains("SignatureDoesNotMatch") &&
                          Catch::Contains("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"));
  CHECK_FALSE(run.err.find(S3Server::kSecretKey) != std::string::npos);
  CHECK(t.manifest(dump)["offsite"].empty());
  CHECK_THAT(t.state(), Catch::Contains("\"success\": false"));
}

TEST_CASE("a missing key variable is a configuration error naming it", "[s3]") {
  S3Server s3;
  OffsiteTarget t(s3, "        tiers: [daily]\n        access_key_id_env: PGTEST_NO_SUCH_VAR\n");
  write_fake_backup(t.dir, "synthetic", kNow - 1h, Tier::daily);
  const AgentRun run = t.agent(s3, {"upload"});
  CHECK(run.exit_code == 2);
  CHECK_THAT(run.err, Catch::Contains("PGTEST_NO_SUCH_VAR is not set"));
}

TEST_CASE("a missing bucket and an endpoint that is down fail with what to fix", "[s3]") {
  S3Server s3;
  SECTION("missing bucket") {
    OffsiteTarget t(s3, "        tiers: [daily]\n");
    write_text(t.config,
               std::regex_replace(read_text_file(t.config), std::regex("bucket: pgtest-bucket"),
                                  "bucket: no-such-bucket"));
    write_fake_backup(t.dir, "synthetic", kNow - 1h, Tier::daily);
    const AgentRun run = t.agent(s3, {"upload"});
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Contains("NoSuchBucket") &&
                            Catch::Contains("the bucket \"no-such-bucket\" does not exist"));
  }
  SECTION("endpoint down") {
    OffsiteTarget t(s3, "        tiers: [daily]\n");
    const std::string down = "http://127.0.0.1:" + std::to_string(free_port());
    write_text(t.config,
               std::regex_replace(read_text_file(t.config), std::regex(s3.endpoint()), down));
    write_fake_backup(t.dir, "synthetic", kNow - 1h, Tier::daily);
    const AgentRun run = t.agent(s3, {"upload"});
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Contains("cannot reach the S3 endpoint " + down) &&
                            Catch::Contains("4 attempts"));
  }
}

TEST_CASE(
    "a storage class the credentials may not use is refused, and nothing counts as "
    "off-site",
    "[s3]") {
  S3Server s3({.deny_storage_classes = {"GLACIER"}, .fail_next = 0});
  OffsiteTarget t(s3, "        tiers: [monthly]\n        storage_class: {monthly: GLACIER}\n");
  SECTION("single PUT") {
    const fs::path dump = write_fake_backup(t.dir, "synthetic", kNow - 1h, Tier::monthly);
    const AgentRun run = t.agent(s3, {"upload"});
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Contains("AccessDenied") &&
                            Catch::Contains("may not write with storage class GLACIER"));
    CHECK(t.manifest(dump)["offsite"].empty());
    CHECK_FALSE(client_for(s3).head("db1/" + dump.filename().string()));
  }
  SECTION("multipart: the interrupted upload is aborted") {
    const fs::path dump = write_fake_backup(t.dir, "synthetic", kNow - 1h, Tier::monthly,
                                            random_bytes(6 * 1024 * 1024));
    const AgentRun run = t.agent(s3, {"upload"});
    CHECK(run.exit_code == 1);
    CHECK(t.manifest(dump)["offsite"].empty());
    CHECK_FALSE(client_for(s3).head("db1/" + dump.filename().string()));
  }
}

TEST_CASE("off-site retention deletes expired copies over paginated listings, never the newest",
          "[s3]") {
  S3Server s3;
  const std::string long_retention = "    retention: {daily: 1000d, min_keep: 3}\n";
  OffsiteTarget t(s3, "        tiers: [daily, monthly]\n        list_page_size: 2\n",
                  long_retention);
  std::vector<fs::path> dailies;
  for (int age = 45; age >= 40; --age) {
    dailies.push_back(write_fake_backup(t.dir, "synthetic", kNow - age * 24h, Tier::daily));
  }
  const fs::path monthly = write_fake_backup(t.dir, "synthetic", kNow - 200 * 24h, Tier::monthly);
  REQUIRE(t.agent(s3, {"upload"}).exit_code == 0);
  auto client = client_for(s3);
  CHECK(client.list("db1/").size() == 14);  // 7 dumps + 7 manifests

  // The operator shortens daily retention to 30 days: all six dailies are past it, but the
  // newest three (min_keep) stay; the monthly one is inside its 365 days.
  t.write_config(s3, "        tiers: [daily, monthly]\n        list_page_size: 2\n",
                 "    retention: {daily: 30d, min_keep: 3}\n");
  const AgentRun run = t.agent(s3, {"upload"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  for (int i = 0; i < 3; ++i) {
    CHECK_THAT(run.out,
               Catch::Contains("deleted s3://pgtest-bucket/db1/" + dailies[i].filename().string()));
    CHECK_FALSE(client.head("db1/" + dailies[i].filename().string()));
    CHECK_FALSE(client.head("db1/" + dailies[i].filename().string() + ".json"));
  }
  for (int i = 3; i < 6; ++i) CHECK(client.head("db1/" + dailies[i].filename().string()));
  CHECK(client.head("db1/" + monthly.filename().string()));
  CHECK(requests_matching(s3, "GET", "continuation-token=").size() >= 6);
}

TEST_CASE(
    "off-site retention waits while the newest backup attempt failed (as local retention does)",
    "[s3]") {
  S3Server s3;
  const std::string offsite = "        tiers: [daily]\n";
  OffsiteTarget t(s3, offsite, "    retention: {daily: 1000d, min_keep: 1}\n");
  const fs::path old = write_fake_backup(t.dir, "synthetic", kNow - 45 * 24h, Tier::daily);
  write_fake_backup(t.dir, "synthetic", kNow - 40 * 24h, Tier::daily);
  REQUIRE(t.agent(s3, {"upload"}).exit_code == 0);
  pgbackup::JobAttempt failed;
  failed.started_at = failed.finished_at = kNow;
  failed.error = "pg_dump failed";
  pgbackup::record_attempt(t.dir / ".pgbackup", "backup", failed);

  t.write_config(s3, offsite, "    retention: {daily: 30d, min_keep: 1}\n");
  const AgentRun run = t.agent(s3, {"upload", "--all-missing"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);
  CHECK_THAT(run.err, Catch::Contains("off-site retention of synthetic not applied") &&
                          Catch::Contains("the newest backup attempt failed"));
  CHECK(client_for(s3).head("db1/" + old.filename().string()));
  CHECK(requests_matching(s3, "DELETE", "").empty());
}

TEST_CASE(
    "prune applies off-site retention too: --dry-run lists what it would delete, a real run "
    "deletes it, never the newest copy",
    "[s3]") {
  S3Server s3;
  const std::string offsite = "        tiers: [daily]\n";
  OffsiteTarget t(s3, offsite, "    retention: {daily: 1000d, min_keep: 1}\n");
  const fs::path old = write_fake_backup(t.dir, "synthetic", kNow - 45 * 24h, Tier::daily);
  const fs::path newest = write_fake_backup(t.dir, "synthetic", kNow - 40 * 24h, Tier::daily);
  REQUIRE(t.agent(s3, {"upload"}).exit_code == 0);
  const std::string old_key = "db1/" + old.filename().string();
  const std::string newest_key = "db1/" + newest.filename().string();
  const std::string old_url = "s3://pgtest-bucket/" + old_key;

  // Both are past a 30-day window; min_keep keeps the newest, here and in the bucket.
  t.write_config(s3, offsite, "    retention: {daily: 30d, min_keep: 1}\n");
  auto client = client_for(s3);
  const AgentRun dry = t.agent(s3, {"prune", "--dry-run"});
  INFO(dry.out << dry.err);
  REQUIRE(dry.exit_code == 0);
  CHECK_THAT(dry.out, Catch::Contains("would delete " + old_url + " (off-site retention)") &&
                          Catch::Contains("off-site: 1 kept, 1 would be deleted (dry run)"));
  CHECK_THAT(dry.out, !Catch::Contains(newest_key));
  CHECK(requests_matching(s3, "DELETE", "").empty());
  CHECK(client.head(old_key));
  CHECK(client.head(old_key + ".json"));
  CHECK(fs::exists(old));

  const AgentRun run = t.agent(s3, {"prune"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains("deleted " + old_url + " (off-site retention)") &&
                          Catch::Contains("off-site: 1 kept, 1 deleted"));
  CHECK_FALSE(client.head(old_key));
  CHECK_FALSE(client.head(old_key + ".json"));
  CHECK(client.head(newest_key));
  CHECK(client.head(newest_key + ".json"));
  CHECK_FALSE(fs::exists(old));  // local retention ran as before
  CHECK_THAT(read_text_file(t.dir / ".pgbackup/audit.jsonl"),
             Catch::Contains("\"operation\":\"offsite_prune\"") && Catch::Contains(old_url));
}

TEST_CASE("a backup fetched from the bucket is checked against its manifest", "[s3]") {
  S3Server s3;
  OffsiteTarget t(s3, "        tiers: [daily]\n");
  const std::string content = random_bytes(300 * 1024);
  const fs::path dump = write_fake_backup(t.dir, "synthetic", kNow - 1h, Tier::daily, content);
  REQUIRE(t.agent(s3, {"upload"}).exit_code == 0);

  const pgbackup::TargetConfig target = t.fetching_target(s3);
  const std::string url = "s3://pgtest-bucket/db1/" + dump.filename().string();

  const pgbackup::SystemClock clock;
  const pgbackup::JobContext ctx{clock};
  const pgbackup::FetchedBackup fetched =
      pgbackup::fetch_offsite_backup(target, url, t.root / "tmp", ctx);
  CHECK(fetched.entry.good());
  CHECK(fetched.entry.manifest->sha256 == sha256_of(content));
  CHECK(read_text_file(fetched.entry.dump) == content);
  struct stat st {};
  ::stat(fetched.dir.c_str(), &st);
  CHECK((st.st_mode & 0777) == 0700);

  // A damaged copy in the bucket is refused, and nothing is left behind.
  auto client = client_for(s3);
  client.put_bytes("db1/" + dump.filename().string(), "not the dump", {});
  CHECK_THROWS_WITH(pgbackup::fetch_offsite_backup(target, url, t.root / "tmp2", ctx),
                    Catch::Contains("is 12 bytes but its manifest says"));
  CHECK(fs::is_empty(t.root / "tmp2"));
  CHECK_THROWS_WITH(pgbackup::fetch_offsite_backup(target, "s3://pgtest-bucket/db1/missing.dump",
                                                   t.root / "tmp3", ctx),
                    Catch::Contains("404"));
}

TEST_CASE("the daemon copies each new backup off-site and its metrics show it", "[s3]") {
  S3Server s3;
  TestTarget t("offsite-daemon", 20,
               "    offsite:\n      s3: {endpoint: \"" + s3.endpoint() +
                   "\", bucket: " + S3Server::kBucket +
                   ", prefix: \"daemon/\", path_style: true, tiers: [daily, weekly, monthly]}\n");
  for (const auto& [name, value] : s3.key_env()) ::setenv(name.c_str(), value.c_str(), 1);
  const Daemon daemon(t.config, free_port());
  daemon.wait_for_metric(R"(pgbackup_offsite_uploads_total\{target="offsite-daemon"\} 1\n)");
  const std::string metrics =
      daemon.wait_for_metric(R"(pgbackup_offsite_pending_backups\{target="offsite-daemon"\} 0\n)");
  CHECK_THAT(
      metrics,
      Catch::Contains("pgbackup_offsite_last_run_success{target=\"offsite-daemon\"} 1") &&
          Catch::Contains("pgbackup_offsite_upload_failures_total{target=\"offsite-daemon\"} 0"));
  const std::vector<fs::path> dumps = t.dumps();
  REQUIRE(dumps.size() == 1);
  CHECK(client_for(s3, "daemon/").head("daemon/" + dumps[0].filename().string()));
  CHECK(t.manifest_of(dumps[0])["offsite"].size() == 1);
  const std::string page = http_get(daemon.url("/")).body;
  CHECK_THAT(page, Catch::Contains("s3://pgtest-bucket/daemon/"));
}

TEST_CASE(
    "a new server with nothing but the bucket restores production and restore-tests from "
    "s3:// (the seed's scenario 3)",
    "[s3]") {
  S3Server s3;
  TestTarget t("from-bucket", 20);
  PgCluster& pg = PgCluster::shared();
  const std::string restore_test_yaml =
      "    restore_test:\n      database: {host: 127.0.0.1, port: " + std::to_string(pg.port()) +
      ", user: postgres, dbname: " + t.db + "_rt, password_env: " + TestTarget::kPasswordEnv +
      "}\n      checks: [{name: nodes_present, sql: \"SELECT count(*) > 0 FROM nodes\"}]\n";
  t.write_config(t.default_database_yaml(),
                 restore_test_yaml + s3.offsite_yaml("scenario3/", "        tiers: [monthly]\n"));
  REQUIRE(t.agent({"backup"}).exit_code == 0);
  const fs::path dump = t.dumps().back();
  REQUIRE(t.agent({"upload"}, s3.key_env()).exit_code == 0);
  const auto counts = pg.table_counts(t.db);
  const std::string url = "s3://pgtest-bucket/scenario3/" + dump.filename().string();

  // The server is lost: the backup directory is gone and the data with it.
  fs::remove_all(t.dir);
  pg.exec("DELETE FROM network_stats; DELETE FROM node_metrics; DELETE FROM nodes", t.db);

  const AgentRun restore = t.agent({"restore", url, "--yes", "--no-safety-backup"}, s3.key_env());
  INFO(restore.out << restore.err);
  REQUIRE(restore.exit_code == 0);
  CHECK(pg.table_counts(t.db) == counts);
  // The downloaded copy was a temporary: nothing but the agent's state is left.
  for (const auto& e : fs::directory_iterator(t.dir / ".pgbackup")) {
    CHECK(e.path().filename().string().rfind("s3-download-", 0) != 0);
  }

  const AgentRun test = t.agent({"restore-test", url}, s3.key_env());
  INFO(test.out << test.err);
  CHECK(test.exit_code == 0);
  CHECK_THAT(test.out, Catch::Contains("PASSED") && Catch::Contains(dump.filename().string()));

  // A copy that does not match its manifest is refused before anything is touched.
  client_for(s3, "scenario3/").put_bytes("scenario3/" + dump.filename().string(), "garbage", {});
  const AgentRun damaged = t.agent({"restore", url, "--yes", "--no-safety-backup"}, s3.key_env());
  CHECK(damaged.exit_code == 1);
  CHECK_THAT(damaged.err, Catch::Contains("is 7 bytes but its manifest says"));
  CHECK(pg.table_counts(t.db) == counts);
}

TEST_CASE("with wrong keys the daemon keeps backing up and its off-site metrics say what fails",
          "[s3]") {
  S3Server s3;
  TestTarget t("offsite-wrong-keys", 10,
               "    offsite:\n      s3: {endpoint: \"" + s3.endpoint() +
                   "\", bucket: " + S3Server::kBucket +
                   ", prefix: \"wrong/\", path_style: true, tiers: [monthly]}\n");
  for (const auto& [name, value] : s3.key_env("not-the-secret")) {
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  const Daemon daemon(t.config, free_port());
  const std::string metrics = daemon.wait_for_metric(
      R"(pgbackup_offsite_upload_failures_total\{target="offsite-wrong-keys"\} [1-9])");
  CHECK_THAT(
      metrics,
      Catch::Contains("pgbackup_backup_last_run_success{target=\"offsite-wrong-keys\"} 1") &&
          Catch::Contains("pgbackup_offsite_last_run_success{target=\"offsite-wrong-keys\"} 0") &&
          Catch::Contains("pgbackup_offsite_pending_backups{target=\"offsite-wrong-keys\"} 1"));
  CHECK_THAT(daemon.log(), Catch::Contains("SignatureDoesNotMatch"));
  CHECK_THAT(http_get(daemon.url("/")).body, Catch::Contains("last upload failed"));
  for (const auto& [name, value] : s3.key_env()) ::setenv(name.c_str(), value.c_str(), 1);
}

TEST_CASE("aws:kms encryption sends the key id with every object", "[s3]") {
  S3Server s3;
  OffsiteTarget t(s3,
                  "        tiers: [daily]\n        server_side_encryption: aws:kms\n"
                  "        kms_key_id: arn:aws:kms:us-east-1:111122223333:key/pgtest\n");
  const fs::path dump = write_fake_backup(t.dir, "synthetic", kNow - 1h, Tier::daily);
  const AgentRun run = t.agent(s3, {"upload"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  const auto puts = requests_matching(s3, "PUT", "");
  REQUIRE(puts.size() == 2);  // dump and manifest
  for (const auto& r : puts) {
    CHECK(r["headers"].value("x-amz-server-side-encryption", "") == "aws:kms");
    CHECK(r["headers"].value("x-amz-server-side-encryption-aws-kms-key-id", "") ==
          "arn:aws:kms:us-east-1:111122223333:key/pgtest");
  }
  CHECK(t.manifest(dump)["offsite"].size() == 1);
}

TEST_CASE("an upload killed halfway never counts as off-site, and the next run copies the backup",
          "[s3]") {
  S3Server s3;
  OffsiteTarget t(s3, "        tiers: [daily]\n");
  const fs::path dump =
      write_fake_backup(t.dir, "synthetic", kNow - 1h, Tier::daily, random_bytes(60 * 1024 * 1024));
  for (const auto& [name, value] : s3.key_env()) ::setenv(name.c_str(), value.c_str(), 1);
  {
    const BackgroundProcess upload({PGBACKUP_AGENT_BINARY, "--config", t.config.string(), "upload"},
                                   t.root / "upload.log");
    // Killed (SIGTERM, then SIGKILL) once the first part arrived.
    for (int i = 0; i < 600 && requests_matching(s3, "PUT", "partNumber=").empty(); ++i) {
      std::this_thread::sleep_for(10ms);
    }
    REQUIRE_FALSE(requests_matching(s3, "PUT", "partNumber=").empty());
  }
  CHECK(t.manifest(dump)["offsite"].empty());
  CHECK(requests_matching(s3, "POST", "uploadId=").empty());  // never completed
  CHECK_FALSE(client_for(s3).head("db1/" + dump.filename().string()));

  const AgentRun again = t.agent(s3, {"upload"});
  INFO(again.out << again.err);
  CHECK(again.exit_code == 0);
  CHECK(t.manifest(dump)["offsite"].size() == 1);
}

TEST_CASE(
    "SIGTERM during an upload stops the daemon within 10 s, aborts the multipart upload, and "
    "the next run copies the backup",
    "[s3]") {
  S3Server s3;
  OffsiteTarget t(s3, "        tiers: [daily]\n");
  const fs::path dump =
      write_fake_backup(t.dir, "synthetic", kNow - 1h, Tier::daily, random_bytes(12 * 1024 * 1024));
  const std::string key = "db1/" + dump.filename().string();
  for (const auto& [name, value] : s3.key_env()) ::setenv(name.c_str(), value.c_str(), 1);
  // The proxy holds every part unanswered: when the signal lands, the upload is in flight.
  s3.stall_upload_parts();
  {
    Daemon daemon(t.config, free_port());
    for (int i = 0; i < 1000 && requests_matching(s3, "PUT", "partNumber=").empty(); ++i) {
      std::this_thread::sleep_for(20ms);
    }
    INFO(daemon.log());
    REQUIRE(requests_matching(s3, "PUT", "partNumber=").size() == 1);
    const auto signalled = std::chrono::steady_clock::now();
    daemon.signal(SIGTERM);
    CHECK(daemon.wait_exit(10s) == 0);
    CHECK(std::chrono::steady_clock::now() - signalled < 10s);
  }
  CHECK(requests_matching(s3, "DELETE", "uploadId=").size() == 1);  // aborted
  CHECK(requests_matching(s3, "POST", "uploadId=").empty());        // never completed
  CHECK(t.manifest(dump)["offsite"].empty());
  CHECK_FALSE(client_for(s3).head(key));

  s3.release_upload_parts();
  const AgentRun again = t.agent(s3, {"upload"});
  INFO(again.out << again.err);
  CHECK(again.exit_code == 0);
  CHECK(t.manifest(dump)["offsite"].size() == 1);
  CHECK(client_for(s3).head(key)->size == 12 * 1024 * 1024);
}

// Faults on the wire (issue 15), injected by the proxy: the connection cut in the middle of a
// body. Each: the retry succeeds, the copy in the bucket is whole, nothing is recorded off-site
// before it is, and the local backup stays good.

namespace {

// The requests that carried a dump's body (or asked for it): PUTs of it or its parts, GETs of it.
std::vector<nlohmann::json> dump_requests(const S3Server& s3, const std::string& method) {
  std::vector<nlohmann::json> out;
  for (const auto& r : s3.requests()) {
    const std::string path = r["path"];
    if (r["method"] == method && path.ends_with(".dump")) out.push_back(r);
  }
  return out;
}

// After a failed upload of `dump` (whose error says `why`): nothing of it is recorded off-site,
// not in the local manifest and not as a manifest in the bucket; state.json (what the off-site
// metrics read) has the failed attempt and its reason; the local backup is untouched (a
// synthetic dump: pg_restore cannot list it, so its checksum rather than verify).
void check_nothing_recorded(const OffsiteTarget& t, const S3Server& s3, const fs::path& dump,
                            const std::string& why) {
  CHECK(t.manifest(dump)["offsite"].empty());
  CHECK_FALSE(client_for(s3).head("db1/" + dump.filename().string() + ".json"));
  const auto state = nlohmann::json::parse(t.state());
  CHECK(state["offsite"]["success"] == false);
  CHECK_THAT(state["offsite"]["error"].get<std::string>(), Catch::Contains(why));
  CHECK(sha256_of(read_text_file(dump)) == t.manifest(dump)["sha256"]);
}

}  // namespace

TEST_CASE("a connection cut in the middle of a dump's PUT or of a multipart part is retried",
          "[s3]") {
  // One PUT of the whole dump, or parts of 5 MiB (the first part is cut).
  const std::size_t size = GENERATE(std::size_t{300 * 1024}, std::size_t{12 * 1024 * 1024 + 123});
  INFO("dump of " << size << " bytes");
  S3Server s3({.deny_storage_classes = {}, .fail_next = 0, .cut_puts = 1});
  OffsiteTarget t(s3, "        tiers: [daily]\n");
  const std::string content = random_bytes(size);
  const fs::path dump = write_fake_backup(t.dir, "synthetic", kNow - 1h, Tier::daily, content);

  const AgentRun run = t.agent(s3, {"upload"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);
  CHECK_THAT(run.err, Catch::Contains("retrying"));
  // The cut request and its retry; for a multipart upload, the other parts once each.
  CHECK(dump_requests(s3, "PUT").size() == (size < (5u << 20) ? 2 : 4));
  CHECK(t.manifest(dump)["offsite"].size() == 1);
  const fs::path back = t.root / "back.dump";
  client_for(s3).download("db1/" + dump.filename().string(), back);
  CHECK(sha256_of(read_text_file(back)) == sha256_of(content));
  // The local backup is untouched (a synthetic dump: pg_restore cannot list it, so not verify).
  CHECK(sha256_of(read_text_file(dump)) == t.manifest(dump)["sha256"]);
}

TEST_CASE(
    "a PUT cut on every attempt records nothing off-site, leaves the local backup good, and the "
    "next run copies it",
    "[s3]") {
  // Four attempts per request (S3Tuning::max_attempts): all four are cut.
  S3Server s3({.deny_storage_classes = {}, .fail_next = 0, .cut_puts = 4});
  OffsiteTarget t(s3, "        tiers: [daily]\n");
  const fs::path dump =
      write_fake_backup(t.dir, "synthetic", kNow - 1h, Tier::daily, random_bytes(200 * 1024));
  const AgentRun failed = t.agent(s3, {"upload"});
  INFO(failed.out << failed.err);
  CHECK(failed.exit_code != 0);
  CHECK_THAT(failed.err, Catch::Contains("4 attempts"));
  CHECK(dump_requests(s3, "PUT").size() == 4);
  check_nothing_recorded(t, s3, dump, "4 attempts");

  const AgentRun again = t.agent(s3, {"upload"});
  INFO(again.out << again.err);
  CHECK(again.exit_code == 0);
  CHECK(t.manifest(dump)["offsite"].size() == 1);
  CHECK(nlohmann::json::parse(t.state())["offsite"]["success"] == true);
}

TEST_CASE("a GET cut in the middle of the dump is retried and leaves no hole of zeros", "[s3]") {
  S3Server s3({.deny_storage_classes = {}, .fail_next = 0, .cut_puts = 0, .cut_gets = 1});
  OffsiteTarget t(s3, "        tiers: [daily]\n");
  const std::string content = random_bytes(3 * 1024 * 1024 + 17);
  const fs::path dump = write_fake_backup(t.dir, "synthetic", kNow - 1h, Tier::daily, content);
  REQUIRE(t.agent(s3, {"upload"}).exit_code == 0);

  const pgbackup::FetchedBackup fetched = t.fetch(s3, dump);
  CHECK(dump_requests(s3, "GET").size() == 2);  // cut halfway, then whole
  // Byte for byte: a retry that wrote at the descriptor's offset would leave half a file of
  // zeros before the data (or fail the manifest's size check).
  CHECK(read_text_file(fetched.entry.dump) == content);
  CHECK(fetched.entry.good());
}

TEST_CASE(
    "a HEAD that reports another size after the upload records nothing off-site; the next run "
    "finds the whole copy and records it without sending it again",
    "[s3]") {
  S3Server s3({.deny_storage_classes = {},
               .fail_next = 0,
               .cut_puts = 0,
               .cut_gets = 0,
               .wrong_head_sizes = 1});
  OffsiteTarget t(s3, "        tiers: [daily]\n");
  const fs::path dump =
      write_fake_backup(t.dir, "synthetic", kNow - 1h, Tier::daily, random_bytes(100 * 1024));
  const AgentRun failed = t.agent(s3, {"upload"});
  INFO(failed.out << failed.err);
  CHECK(failed.exit_code != 0);
  check_nothing_recorded(t, s3, dump, "does not match what was sent (size");

  const AgentRun again = t.agent(s3, {"upload"});
  INFO(again.out << again.err);
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.out + again.err, Catch::Contains("already in the bucket"));
  CHECK(dump_requests(s3, "PUT").size() == 1);
  CHECK(t.manifest(dump)["offsite"].size() == 1);
}

TEST_CASE(
    "a PUT that S3 takes and never answers, or a GET that stops halfway, is cut after "
    "offsite.s3.stall_timeout and retried",
    "[s3]") {
  S3Server s3({.deny_storage_classes = {},
               .fail_next = 0,
               .cut_puts = 0,
               .cut_gets = 0,
               .wrong_head_sizes = 0,
               .stall_puts = 1,
               .stall_gets = 1});
  OffsiteTarget t(s3, "        tiers: [daily]\n        stall_timeout: 1s\n");
  const std::string content = random_bytes(2 * 1024 * 1024 + 5);
  const fs::path dump = write_fake_backup(t.dir, "synthetic", kNow - 1h, Tier::daily, content);

  // The proxy holds the stalled connection for 30 s: the agent must give up long before.
  const auto started = std::chrono::steady_clock::now();
  const AgentRun run = t.agent(s3, {"upload"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);
  CHECK(std::chrono::steady_clock::now() - started < 20s);
  CHECK_THAT(run.err, Catch::Contains("Operation too slow") && Catch::Contains("retrying"));
  CHECK(dump_requests(s3, "PUT").size() == 2);
  CHECK(t.manifest(dump)["offsite"].size() == 1);

  const pgbackup::FetchedBackup fetched = t.fetch(s3, dump, 1s);
  CHECK(dump_requests(s3, "GET").size() == 2);  // stalled halfway, then whole
  CHECK(read_text_file(fetched.entry.dump) == content);
  CHECK(fetched.entry.good());
}

TEST_CASE("the daemon's metrics count each S3 retry by its reason", "[s3]") {
  // The bucket check is throttled once; the dump's first PUT is cut, its second stalls.
  S3Server s3({.deny_storage_classes = {},
               .fail_next = 1,
               .fail_status = 503,
               .cut_puts = 1,
               .cut_gets = 0,
               .wrong_head_sizes = 0,
               .stall_puts = 1});
  TestTarget t("offsite-retries", 20,
               "    offsite:\n      s3: {endpoint: \"" + s3.endpoint() +
                   "\", bucket: " + S3Server::kBucket +
                   ", prefix: \"retries/\", path_style: true, tiers: [daily, weekly, monthly], "
                   "stall_timeout: 1s}\n");
  for (const auto& [name, value] : s3.key_env()) ::setenv(name.c_str(), value.c_str(), 1);
  const Daemon daemon(t.config, free_port());
  daemon.wait_for_metric(R"(pgbackup_offsite_uploads_total\{target="offsite-retries"\} 1\n)");
  const std::string metrics =
      daemon.wait_for_metric(R"(pgbackup_offsite_pending_backups\{target="offsite-retries"\} 0\n)");
  const std::string series = "pgbackup_offsite_retries_total{reason=\"";
  CHECK_THAT(
      metrics,
      Catch::Contains(series + "throttled\",target=\"offsite-retries\"} 1") &&
          Catch::Contains(series + "network\",target=\"offsite-retries\"} 1") &&
          Catch::Contains(series + "timeout\",target=\"offsite-retries\"} 1") &&
          Catch::Contains(series + "server_error\",target=\"offsite-retries\"} 0") &&
          Catch::Contains("pgbackup_offsite_upload_failures_total{target=\"offsite-retries\"} 0") &&
          Catch::Contains("pgbackup_offsite_last_run_success{target=\"offsite-retries\"} 1"));
  REQUIRE(t.dumps().size() == 1);
  CHECK(t.manifest_of(t.dumps()[0])["offsite"].size() == 1);
}

TEST_CASE(
    "a copy in the bucket from the future stops off-site retention, logged and audited, while "
    "local retention runs",
    "[s3]") {
  S3Server s3;
  OffsiteTarget t(s3, "        tiers: [daily]\n", "    retention: {min_keep: 1}\n");
  for (int d = 3; d >= 1; --d) write_fake_backup(t.dir, "synthetic", kNow - d * 24h, Tier::daily);
  // Taken while the clock was two days ahead, copied off-site, then lost locally.
  const fs::path future = write_fake_backup(t.dir, "synthetic", kNow + 48h, Tier::daily);
  REQUIRE(t.agent(s3, {"upload"}).exit_code == 0);
  fs::remove(future);
  fs::remove(future.string() + ".json");
  fs::remove(future.string() + ".globals");

  const AgentRun run = t.agent(s3, {"prune"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.out, Catch::Contains("3 kept, 0 deleted") &&
                          Catch::Contains("off-site retention not applied: a backup started at"));
  CHECK_THAT(run.err, Catch::Contains("off-site retention of synthetic refused"));
  CHECK_THAT(t.audit(), Catch::Contains("\"operation\":\"offsite_prune\",\"outcome\":\"refused\""));
  CHECK(requests_matching(s3, "DELETE", "").empty());
  CHECK(client_for(s3).head("db1/" + future.filename().string()));
}
