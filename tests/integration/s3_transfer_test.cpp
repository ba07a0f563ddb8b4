// Off-site copies to S3 that are interrupted: the agent killed or stopped mid-upload, and
// connections cut in the middle of a body by the proxy in front of s3rver
// (tests/s3/sigv4_proxy.py). Each time nothing is recorded off-site before the copy in the
// bucket is whole, the next run or the retry completes it, and the local backup stays good.
#include <catch2/catch.hpp>

#include <thread>

#include "agent/catalog/job_state.h"
#include "agent/core/sha256.h"
#include "tests/support/daemon.h"
#include "tests/support/offsite_target.h"

using namespace pgtest;
using namespace std::chrono_literals;
using pgbackup::Tier;

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
  // The proxy holds every part unanswered: when the signal lands, the upload is in flight.
  s3.stall_upload_parts();
  {
    Daemon daemon(t.config, free_port(), "", "http", s3.key_env());
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
// body.

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
  CHECK(pgbackup::sha256_file(dump) == t.manifest(dump)["sha256"]);
}

}  // namespace

TEST_CASE("a connection cut in the middle of a dump's PUT or of a multipart part is retried",
          "[s3]") {
  // One PUT of the whole dump, or parts of 5 MiB (the first part is cut).
  const std::size_t size = GENERATE(std::size_t{300 * 1024}, std::size_t{12 * 1024 * 1024 + 123});
  INFO("dump of " << size << " bytes");
  S3Server s3({.cut_puts = 1});
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
  CHECK(pgbackup::sha256_file(back) == sha256_of(content));
  // The local backup is untouched (a synthetic dump: pg_restore cannot list it, so not verify).
  CHECK(pgbackup::sha256_file(dump) == t.manifest(dump)["sha256"]);
}

TEST_CASE(
    "a PUT cut on every attempt records nothing off-site, leaves the local backup good, and the "
    "next run copies it",
    "[s3]") {
  // Four attempts per request (S3Tuning::max_attempts): all four are cut.
  S3Server s3({.cut_puts = 4});
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
  S3Server s3({.cut_gets = 1});
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
  S3Server s3({.wrong_head_sizes = 1});
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
  S3Server s3({.stall_puts = 1, .stall_gets = 1});
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
  S3Server s3({.fail_next = 1, .fail_status = 503, .cut_puts = 1, .stall_puts = 1});
  TestTarget t(
      "offsite-retries", 20,
      s3.offsite_yaml("retries/",
                      "        tiers: [daily, weekly, monthly]\n        stall_timeout: 1s\n"));
  const Daemon daemon(t.config, free_port(), "", "http", s3.key_env());
  const std::string metrics = metrics_once_copied(daemon, "offsite-retries");
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
