// A pgBackRest repository on S3: real pgBackRest 2.45 (which speaks only HTTPS) against s3rver
// serving TLS itself with a throwaway certificate for "localhost", checked by pgBackRest
// (repo1-storage-ca-file; 2.45 ignores IP SANs, so the endpoint is the host name), path-style
// URIs. The agent's own parts (CLI wrapper, info parser, WAL listing and continuity check) read
// the repository as they read a posix one, and the agent itself backs up, verifies and lists
// the stanza.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent/core/text.h"
#include "tests/support/pgbackrest_cluster.h"
#include "tests/support/process.h"
#include "tests/support/target.h"

using namespace pgtest;
using namespace pgbackup::pgbackrest;
using pgbackup::BackupType;

namespace {

void add_rows(PgBackRestCluster& c, int rows) {
  c.exec("CREATE TABLE IF NOT EXISTS metrics (id bigint, v text)");
  c.exec("INSERT INTO metrics SELECT g, md5(g::text) FROM generate_series(1, " +
         std::to_string(rows) + ") g");
}

// The agent with one `engine: pgbackrest` target on the cluster's stanza; returns its run.
AgentRun agent_on(PgBackRestCluster& c, const fs::path& root, std::vector<std::string> args) {
  const fs::path config = root / "agent.yml";
  std::string command;
  for (const std::string& a : PgBackRestCluster::command_prefix()) {
    command += (command.empty() ? "" : ", ") + a;
  }
  write_text(config, "targets:\n  - name: s3\n    engine: pgbackrest\n    database: " +
                         TestTarget::database_yaml("postgres", c.pg()) +
                         "\n    pgbackrest: {stanza: " + c.stanza() +
                         ", config: " + c.config().string() + ", command: [" + command +
                         "]}\n    backup: {dir: " + (root / "state").string() + "}\n");
  args.insert(args.begin(), {"--config", config.string()});
  return run_agent(args, {{TestTarget::kPasswordEnv, PgCluster::kPassword}});
}

}  // namespace

TEST_CASE(
    "a repository on S3 over TLS: archive-push, a full and an incr through the CLI wrapper, "
    "info and the WAL continuity check through the agent's parsers, and a segment object "
    "deleted from the bucket is found",
    "[pgbackrest_s3]") {
  S3ServerOptions tls;
  tls.tls = true;
  const S3Server s3(tls);
  PgBackRestCluster c(PgBackRestClusterOptions{&s3, false, ""});
  const PgBackRestCli cli(c.settings());
  // `check` has archive_command push a segment to the bucket and waits for it.
  CHECK_NOTHROW(cli.check());

  add_rows(c, 20000);
  cli.backup(BackupType::full);
  add_rows(c, 500);
  cli.backup(BackupType::incr);
  const InfoStanza info = c.info();
  CHECK(info.status_code == 0);
  const auto taken = new_backups(InfoStanza{}, info);
  REQUIRE(taken.size() == 2);
  const InfoBackup &full = taken[0], &incr = taken[1];
  CHECK(full.type == BackupType::full);
  CHECK(incr.type == BackupType::incr);
  CHECK(incr.prior == full.label);
  REQUIRE(info.current_database() != nullptr);
  CHECK(std::to_string(info.current_database()->system_id) == c.system_identifier());
  for (const InfoBackup* b : {&full, &incr}) {
    INFO(b->label);
    CHECK(b->size > 0);
    CHECK(b->repository_size > 0);
    CHECK(b->repository_delta > 0);
    CHECK_FALSE(b->error);
    CHECK(b->archive_start <= b->archive_stop);
    // The backup is in the bucket: its manifest is an object in s3rver's store.
    CHECK(fs::exists(c.backup_dir(b->label) /
                     ("backup.manifest" + std::string(S3Server::kObjectSuffix))));
  }
  CHECK(incr.delta < full.delta);
  CHECK(incr.repository_delta < full.repository_delta);
  const InfoArchive* archive = info.archive_of(info.current_database()->id);
  REQUIRE(archive != nullptr);
  CHECK(archive->min <= full.archive_start);
  CHECK(archive->max >= incr.archive_stop);

  c.switch_wal();
  const std::string doomed = c.switch_wal();
  const std::string newest = c.switch_wal();
  const WalContinuity clean = c.wal_continuity_since(full.archive_start);
  CHECK(clean.complete());
  REQUIRE(clean.newest.has_value());
  CHECK(wal_segment_name(*clean.newest) >= newest);

  {  // The agent on the same stanza: its backup is recorded, the WAL continuity is read from the
     // bucket's listing, verify passes.
    const fs::path root = make_temp_dir("pgbr-s3-agent");
    add_rows(c, 500);
    const AgentRun backup = agent_on(c, root, {"backup", "--type", "incr"});
    INFO(backup.out << backup.err);
    REQUIRE(backup.exit_code == 0);
    CHECK_THAT(backup.out, Catch::Contains(": incr, "));
    const std::string label = backup.out.substr(7, backup.out.find(':') - 7);
    CHECK(fs::exists(root / "state" / ".pgbackup" / "pgbackrest" / (label + ".json")));
    const AgentRun verified = agent_on(c, root, {"verify", "--latest"});
    INFO(verified.out << verified.err);
    CHECK(verified.exit_code == 0);
    CHECK_THAT(verified.out, Catch::Contains("wal continuity     ok") &&
                                 Catch::Contains("pgbackrest verify  ok"));
    const AgentRun listed = agent_on(c, root, {"list", "--output", "json"});
    REQUIRE(listed.exit_code == 0);
    const nlohmann::json all = nlohmann::json::parse(listed.out);
    REQUIRE(all.size() == 3);
    CHECK(all[2]["type"] == "incr");
    for (const auto& b : all) CHECK(b["good"] == true);
  }

  const fs::path object = c.archived_segment_file(doomed);
  REQUIRE_FALSE(object.empty());
  const SetAside deleted(object);
  const WalContinuity gap = c.wal_continuity_since(full.archive_start);
  CHECK_FALSE(gap.complete());
  CHECK(gap.missing == 1);
  CHECK(missing_segment_names(gap, 10) == std::vector<std::string>{doomed});

  // The server's certificate is checked: against the system's CAs it is refused (pgBackRest
  // retries until its io-timeout, 60 s by default).
  const auto untrusted = c.pgbackrest(
      {"repo-ls", "--repo1-storage-ca-file=/etc/ssl/certs/ca-certificates.crt", "--io-timeout=1"});
  CHECK_FALSE(untrusted.ok());
  CHECK(untrusted.err.find("unable to verify certificate presented by 'localhost:") !=
        std::string::npos);
}
