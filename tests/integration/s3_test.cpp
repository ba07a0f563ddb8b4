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
#include "tests/support/offsite_target.h"
#include "tests/support/s3_server.h"
#include "tests/support/target.h"

using namespace pgtest;
using namespace std::chrono_literals;
using pgbackup::Tier;

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
  CHECK(pgbackup::sha256_file(back) == sha256_of(content));
  CHECK(t.manifest(dump)["offsite"].size() == 1);
}

TEST_CASE("S3 5xx answers (503 SlowDown, 500 InternalError) are retried with backoff", "[s3]") {
  const int status = GENERATE(503, 500);
  S3Server s3({.fail_next = 2, .fail_status = status});
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
  S3Server s3({.deny_storage_classes = {"GLACIER"}});
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
               s3.offsite_yaml("daemon/", "        tiers: [daily, weekly, monthly]\n"));
  const Daemon daemon(t.config, free_port(), "", "http", s3.key_env());
  const std::string metrics = metrics_once_copied(daemon, "offsite-daemon");
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
  TestTarget t("offsite-wrong-keys", 10, s3.offsite_yaml("wrong/", "        tiers: [monthly]\n"));
  const Daemon daemon(t.config, free_port(), "", "http", s3.key_env("not-the-secret"));
  const std::string metrics = daemon.wait_for_metric(
      R"(pgbackup_offsite_upload_failures_total\{target="offsite-wrong-keys"\} [1-9])");
  CHECK_THAT(
      metrics,
      Catch::Contains("pgbackup_backup_last_run_success{target=\"offsite-wrong-keys\"} 1") &&
          Catch::Contains("pgbackup_offsite_last_run_success{target=\"offsite-wrong-keys\"} 0") &&
          Catch::Contains("pgbackup_offsite_pending_backups{target=\"offsite-wrong-keys\"} 1"));
  CHECK_THAT(daemon.log(), Catch::Contains("SignatureDoesNotMatch"));
  CHECK_THAT(http_get(daemon.url("/")).body, Catch::Contains("last upload failed"));
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
