// Encrypted pg_dump backups (DESIGN §12) with the real Debian `age`: the real binary backs up,
// verifies, restores and restore-tests; `age -d` alone decrypts what it wrote.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "agent/core/subprocess.h"
#include "tests/support/s3_server.h"
#include "tests/support/target.h"

using namespace pgtest;

namespace {

// An age key made by age-keygen: its identity file (0600) and its public key.
struct AgeKey {
  fs::path file;
  std::string recipient;
};

std::string run_ok(const std::vector<std::string>& argv) {
  pgbackup::ProcessSpec spec;
  spec.argv = argv;
  spec.timeout = std::chrono::seconds(30);
  const pgbackup::ProcessResult r = pgbackup::run_process(spec);
  INFO(pgbackup::describe_failure(spec, r));
  REQUIRE(r.ok());
  return r.out;
}

AgeKey make_key(const fs::path& dir, const std::string& name) {
  AgeKey key{dir / (name + ".key"), ""};
  run_ok({"age-keygen", "-o", key.file.string()});
  key.recipient = run_ok({"age-keygen", "-y", key.file.string()});
  key.recipient.erase(key.recipient.find_last_not_of('\n') + 1);
  return key;
}

// An encryption section to `recipients`, decrypting with `identity` when given.
std::string encryption_yaml(const std::vector<AgeKey>& recipients, const fs::path& identity) {
  std::string list;
  for (const AgeKey& k : recipients) list += (list.empty() ? "" : ", ") + k.recipient;
  return "    encryption:\n      recipients: [" + list + "]\n" +
         (identity.empty() ? "" : "      identity_file: " + identity.string() + "\n");
}

// `age -d -i KEY FILE | pg_restore --list`, the operator's by-hand check: the TOC's entries in
// consumer.out (pg_restore stops reading after the TOC, so the pipeline reports consumer_gone).
pgbackup::PipelineResult list_with_age_alone(const fs::path& key, const fs::path& file) {
  pgbackup::ProcessSpec age;
  age.argv = {"age", "-d", "-i", key.string(), file.string()};
  age.timeout = std::chrono::seconds(60);
  pgbackup::ProcessSpec list;
  list.argv = {"pg_restore", "--list"};
  return pgbackup::run_pipeline(age, list);
}

std::string head_of(const fs::path& file, std::size_t n) {
  std::ifstream in(file, std::ios::binary);
  std::string s(n, '\0');
  in.read(s.data(), static_cast<std::streamsize>(n));
  s.resize(static_cast<std::size_t>(in.gcount()));
  return s;
}

fs::path only_dump(const TestTarget& t) {
  const std::vector<fs::path> dumps = t.dumps();
  REQUIRE(dumps.size() == 1);
  return dumps.front();
}

// Keys A and B (recipients), C (a stranger's) in the target's root.
struct Keys {
  AgeKey a, b, c;
  explicit Keys(const fs::path& root)
      : a(make_key(root, "a")), b(make_key(root, "b")), c(make_key(root, "c")) {}
};

}  // namespace

TEST_CASE("an encrypted backup: no plaintext on disk, either identity opens it with age alone",
          "[encryption]") {
  TestTarget t("enc-two", 400);
  const Keys keys(t.root);
  t.write_config(t.default_database_yaml(), encryption_yaml({keys.a, keys.b}, keys.a.file));

  // Watch the directory while the backup runs: every file there is age's, or the manifest.
  std::atomic<bool> done{false};
  std::vector<std::string> plaintext_seen;
  int partials_seen = 0;
  std::thread watcher([&] {
    while (!done) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(t.dir, ec)) {
        if (!e.is_regular_file(ec)) continue;
        const std::string head = head_of(e.path(), 5);
        if (head == "PGDMP") plaintext_seen.push_back(e.path().filename().string());
        if (e.path().extension() == ".partial") ++partials_seen;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  const AgentRun run = t.agent({"backup"});
  done = true;
  watcher.join();
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(plaintext_seen.empty());
  CHECK(partials_seen > 0);  // the watcher did see the dump being written

  const fs::path dump = only_dump(t);
  CHECK(dump.extension() == ".age");
  CHECK(head_of(dump, 22) == "age-encryption.org/v1\n");
  CHECK(head_of(dump.string() + ".globals", 22) == "age-encryption.org/v1\n");
  for (const fs::path& f : {dump, fs::path(dump.string() + ".globals")}) {
    CHECK((fs::status(f).permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write));
  }
  const nlohmann::json m = t.manifest_of(dump);
  CHECK(m["size_bytes"] == fs::file_size(dump));
  CHECK(m["encryption"]["recipients"] ==
        nlohmann::json::array({keys.a.recipient, keys.b.recipient}));
  CHECK(m["encryption"]["fingerprints"].size() == 2);
  CHECK(m["encryption"]["plaintext_sha256"] != m["sha256"]);
  CHECK(m["toc_entries"].get<int>() > 10);

  for (const AgeKey* key : {&keys.a, &keys.b}) {
    const pgbackup::PipelineResult listed = list_with_age_alone(key->file, dump);
    INFO(listed.producer.err << listed.consumer.err);
    CHECK(listed.consumer.ok());
    CHECK_THAT(listed.consumer.out, Catch::Contains("TABLE DATA public network_stats"));
  }
  CHECK_THAT(list_with_age_alone(keys.c.file, dump).producer.err,
             Catch::Contains("no identity matched any of the recipients"));

  const AgentRun list = t.agent({"list"});
  CHECK_THAT(list.out, Catch::Contains("encrypted (age, 2 recipients)"));
  const AgentRun verify = t.agent({"verify", "--latest"});
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 0);
  CHECK_THAT(verify.out, Catch::Contains("age header") && Catch::Contains("verify --deep"));
  const AgentRun deep = t.agent({"verify", "--latest", "--deep"});
  INFO(deep.out << deep.err);
  CHECK(deep.exit_code == 0);
  CHECK_THAT(deep.out, Catch::Contains("plaintext sha256") &&
                           Catch::Contains(m["encryption"]["plaintext_sha256"].get<std::string>()));
  const AgentRun check = t.agent({"config-check"});
  CHECK(check.exit_code == 0);
  CHECK_THAT(check.err, Catch::Contains("holds 1 key(s), for 1 of 2 recipient(s)"));
}

TEST_CASE("an encrypted backup restores fully, by table and in a restore test, with exact counts",
          "[encryption]") {
  TestTarget t("enc-restore", 40, TestTarget::restore_test_yaml("enc_restore_scratch"));
  const Keys keys(t.root);
  t.write_config(t.default_database_yaml(), TestTarget::restore_test_yaml("enc_restore_scratch") +
                                                encryption_yaml({keys.a, keys.b}, keys.b.file));
  PgCluster& pg = PgCluster::shared();
  REQUIRE(t.agent({"backup"}).exit_code == 0);
  const fs::path dump = only_dump(t);
  const auto counts = pg.table_counts(t.db);

  const AgentRun drill = t.agent({"restore-test"});
  INFO(drill.out << drill.err);
  CHECK(drill.exit_code == 0);  // the test compares every table's rows with the manifest
  CHECK_THAT(drill.out, Catch::Contains("restore test of enc-restore: PASSED"));

  pg.exec("DELETE FROM network_stats; UPDATE nodes SET version = 'changed'", t.db);
  const AgentRun partial = t.agent({"restore", dump.string(), "--yes", "--table", "network_stats"});
  INFO(partial.out << partial.err);
  REQUIRE(partial.exit_code == 0);
  CHECK(pg.table_counts(t.db).at("public.network_stats") == counts.at("public.network_stats"));
  CHECK(pg.query_value("SELECT count(*) FROM nodes WHERE version <> 'changed'", t.db) == "0");

  const AgentRun full = t.agent({"restore", dump.string(), "--yes", "--jobs", "2"});
  INFO(full.out << full.err);
  REQUIRE(full.exit_code == 0);
  CHECK(pg.table_counts(t.db) == counts);
  // The decrypted copies are gone; only age files and manifests are left.
  for (const auto& e : fs::directory_iterator(t.dir)) {
    if (!e.is_regular_file()) continue;
    CHECK(e.path().extension() != ".partial");
    CHECK(head_of(e.path(), 5) != "PGDMP");
  }
}

TEST_CASE("a wrong identity, a flipped byte, a truncated file: clear errors, nothing changed",
          "[encryption]") {
  TestTarget t("enc-bad", 30);
  const Keys keys(t.root);
  t.write_config(t.default_database_yaml(), encryption_yaml({keys.a}, keys.c.file));
  PgCluster& pg = PgCluster::shared();
  REQUIRE(t.agent({"backup"}).exit_code == 0);
  const fs::path dump = only_dump(t);
  pg.exec("UPDATE nodes SET version = 'after-backup'", t.db);

  const AgentRun wrong = t.agent({"restore", dump.string(), "--yes", "--no-safety-backup"});
  INFO(wrong.out << wrong.err);
  CHECK(wrong.exit_code == 1);
  CHECK_THAT(wrong.err, Catch::Contains("cannot be decrypted") &&
                            Catch::Contains("holds no key for any") && Catch::Contains("hint:"));
  CHECK(pg.query_value("SELECT count(*) FROM nodes WHERE version <> 'after-backup'", t.db) == "0");
  const AgentRun deep_wrong = t.agent({"verify", "--latest", "--deep"});
  CHECK(deep_wrong.exit_code == 1);
  CHECK_THAT(deep_wrong.out, Catch::Contains("decrypt") && Catch::Contains("holds no key"));
  CHECK(t.agent({"config-check"}).exit_code == 2);

  t.write_config(t.default_database_yaml(), encryption_yaml({keys.a}, keys.a.file));
  SECTION("one flipped byte fails verify and verify --deep with the reason") {
    flip_middle_byte(dump);
    const AgentRun verify = t.agent({"verify", "--latest"});
    CHECK(verify.exit_code == 1);
    CHECK_THAT(verify.out, Catch::Contains("sha256") && Catch::Contains("changed on disk"));
    const AgentRun deep = t.agent({"verify", "--latest", "--deep"});
    INFO(deep.out << deep.err);
    CHECK(deep.exit_code == 1);
    CHECK_THAT(deep.out, Catch::Contains("decrypt" + std::string(12, ' ') + "FAIL"));
  }
  SECTION("a truncated .age file is never a good backup") {
    fs::resize_file(dump, fs::file_size(dump) / 2);
    CHECK(t.agent({"verify", "--latest"}).exit_code == 1);
    const AgentRun restore = t.agent({"restore", "--latest", "--yes", "--no-safety-backup"});
    CHECK(restore.exit_code == 1);
    CHECK(pg.query_value("SELECT count(*) FROM nodes WHERE version <> 'after-backup'", t.db) ==
          "0");
  }
}

TEST_CASE("rotation: backups under the old key stay restorable once the recipients change",
          "[encryption]") {
  TestTarget t("enc-rotate", 20);
  const Keys keys(t.root);
  // One identity file with both keys, as age reads several.
  const fs::path both = t.root / "both.key";
  write_text(both, read_text_file(keys.a.file) + read_text_file(keys.b.file));
  fs::permissions(both, fs::perms::owner_read | fs::perms::owner_write);
  t.write_config(t.default_database_yaml(), encryption_yaml({keys.a}, both));
  REQUIRE(t.agent({"backup"}).exit_code == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  t.write_config(t.default_database_yaml(), encryption_yaml({keys.b}, both));
  REQUIRE(t.agent({"backup"}).exit_code == 0);
  const std::vector<fs::path> dumps = t.dumps();
  REQUIRE(dumps.size() == 2);
  CHECK(t.manifest_of(dumps[0])["encryption"]["recipients"][0] == keys.a.recipient);
  CHECK(t.manifest_of(dumps[1])["encryption"]["recipients"][0] == keys.b.recipient);
  CHECK_THAT(list_with_age_alone(keys.b.file, dumps[0]).producer.err,
             Catch::Contains("no identity matched any of the recipients"));
  for (const fs::path& d : dumps) {
    const AgentRun deep = t.agent({"verify", "--deep", d.string()});
    INFO(deep.out << deep.err);
    CHECK(deep.exit_code == 0);
  }
  const auto counts = PgCluster::shared().table_counts(t.db);
  PgCluster::shared().exec("DELETE FROM network_stats", t.db);
  const AgentRun old = t.agent({"restore", dumps[0].string(), "--yes", "--no-safety-backup"});
  INFO(old.out << old.err);
  CHECK(old.exit_code == 0);
  CHECK(PgCluster::shared().table_counts(t.db) == counts);

  SECTION("a mixed directory: an older plaintext backup beside the encrypted ones") {
    t.write_config(t.default_database_yaml());
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    REQUIRE(t.agent({"backup"}).exit_code == 0);
    REQUIRE(t.dumps().size() == 3);
    CHECK(t.dumps()[2].extension() == ".dump");
    CHECK(t.agent({"verify", "--latest"}).exit_code == 0);
    const AgentRun list = t.agent({"list", "--output", "json"});
    const nlohmann::json j = nlohmann::json::parse(list.out);
    CHECK(j.size() == 3);
    CHECK(j[0]["encrypted"] == true);
    CHECK(j[2]["encrypted"] == false);
    CHECK(t.agent({"diff"}).exit_code == 0);
  }
}

TEST_CASE("an encrypted backup goes off-site as ciphertext and restores from the bucket alone",
          "[encryption]") {
  S3Server s3;  // s3rver behind the SigV4-checking proxy
  TestTarget t("enc-s3", 20);
  const Keys keys(t.root);
  const std::string offsite = s3.offsite_yaml("enc/", "        tiers: [monthly]\n");
  t.write_config(t.default_database_yaml(), encryption_yaml({keys.a}, keys.a.file) + offsite);
  REQUIRE(t.agent({"backup"}).exit_code == 0);
  const fs::path dump = only_dump(t);
  const AgentRun upload = t.agent({"upload"}, s3.key_env());
  INFO(upload.out << upload.err);
  REQUIRE(upload.exit_code == 0);
  const std::string name = dump.filename().string();
  // The bucket holds age's ciphertext of the dump and of its companion file.
  for (const std::string& key : {name, name + ".globals"}) {
    CHECK(head_of(s3.bucket_dir() / "enc" / (key + S3Server::kObjectSuffix), 22) ==
          "age-encryption.org/v1\n");
  }
  PgCluster& pg = PgCluster::shared();
  const auto counts = pg.table_counts(t.db);

  // The server is lost with its backup directory: the bucket and the identity are all there is.
  fs::remove_all(t.dir);
  pg.exec("DELETE FROM network_stats; DELETE FROM node_metrics; DELETE FROM nodes", t.db);
  const AgentRun restore = t.agent(
      {"restore", "s3://pgtest-bucket/enc/" + name, "--yes", "--no-safety-backup"}, s3.key_env());
  INFO(restore.out << restore.err);
  REQUIRE(restore.exit_code == 0);
  CHECK(pg.table_counts(t.db) == counts);
  // Neither the downloaded ciphertext nor a decrypted copy is left behind.
  for (const auto& e : fs::recursive_directory_iterator(t.dir)) {
    if (!e.is_regular_file()) continue;
    INFO(e.path());
    CHECK(e.path().extension() != ".partial");
    CHECK(head_of(e.path(), 5) != "PGDMP");
    CHECK(head_of(e.path(), 22) != "age-encryption.org/v1\n");
  }
}

TEST_CASE("a killed encrypted backup leaves nothing that looks complete", "[encryption]") {
  TestTarget t("enc-killed", 20);
  const Keys keys(t.root);
  t.write_config(t.default_database_yaml(), encryption_yaml({keys.a}, keys.a.file));
  TableLock lock(t.db);
  std::thread agent([&] { t.agent({"backup"}); });
  const fs::path partial = wait_for_partial(t.dir);
  REQUIRE(!partial.empty());
  CHECK_THAT(partial.string(), Catch::EndsWith(".dump.age.partial"));
  const int pid = find_process({"pgbackup-agent", t.config.string()});
  REQUIRE(pid != 0);
  ::kill(pid, SIGKILL);
  agent.join();
  lock.release();
  CHECK(t.dumps().empty());
  const AgentRun list = t.agent({"list"});
  CHECK_THAT(list.out, Catch::Contains("no backups yet"));
  const AgentRun next = t.agent({"backup"});
  INFO(next.err);
  CHECK(next.exit_code == 0);
  CHECK(!fs::exists(partial));
  CHECK(t.dumps().size() == 1);
}
