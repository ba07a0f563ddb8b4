// `prune` on a directory of synthetic backups: the real binary, no database needed.
#include <catch2/catch.hpp>

#include "agent/catalog/manifest.h"
#include "agent/engines/pg_dump/dump_catalog.h"
#include "tests/support/fake_backup.h"
#include "tests/support/target.h"

using namespace pgtest;
using namespace std::chrono_literals;

namespace {

fs::path fake_backup(const fs::path& dir, pgbackup::SysTime started, pgbackup::Tier tier) {
  return write_fake_backup(dir, "synthetic", started, tier);
}

// A config at <root>/c.yml with one target "synthetic" whose backups are in <root>/backups.
fs::path synthetic_target(const fs::path& root) {
  const fs::path dir = root / "backups";
  write_text(root / "c.yml",
             "targets:\n  - name: synthetic\n    database: {user: u, dbname: d}\n"
             "    backup: {dir: " +
                 dir.string() + "}\n");
  return dir;
}

}  // namespace

TEST_CASE("prune deletes expired backups, manifest first, and --dry-run deletes nothing",
          "[retention]") {
  const fs::path root = make_temp_dir("prune");
  const fs::path dir = synthetic_target(root);
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  const fs::path old_monthly = fake_backup(dir, now - 400 * 24h, pgbackup::Tier::monthly);
  const fs::path monthly = fake_backup(dir, now - 200 * 24h, pgbackup::Tier::monthly);
  const fs::path old_weekly = fake_backup(dir, now - 100 * 24h, pgbackup::Tier::weekly);
  const fs::path old_daily = fake_backup(dir, now - 40 * 24h, pgbackup::Tier::daily);
  std::vector<fs::path> recent;
  for (int d = 3; d >= 1; --d)
    recent.push_back(fake_backup(dir, now - d * 24h, pgbackup::Tier::daily));
  // A dump without a manifest (a crash between rename and manifest) is not a good backup and
  // retention leaves it for a person to look at.
  write_text(dir / "synthetic_20200101_000000.dump", "orphan");

  const AgentRun dry = run_agent({"--config", (root / "c.yml").string(), "prune", "--dry-run"});
  INFO(dry.out << dry.err);
  CHECK(dry.exit_code == 0);
  CHECK_THAT(dry.out, Catch::Contains("would delete " + old_monthly.filename().string()) &&
                          Catch::Contains("would delete " + old_weekly.filename().string()) &&
                          Catch::Contains("would delete " + old_daily.filename().string()));
  CHECK(fs::exists(old_monthly));

  const AgentRun run = run_agent({"--config", (root / "c.yml").string(), "prune"});
  CHECK(run.exit_code == 0);
  for (const fs::path& gone : {old_monthly, old_weekly, old_daily}) {
    CHECK_FALSE(fs::exists(gone));
    CHECK_FALSE(fs::exists(gone.string() + ".json"));
  }
  CHECK(fs::exists(monthly));
  for (const fs::path& p : recent) CHECK(fs::exists(p));
  CHECK(fs::exists(dir / "synthetic_20200101_000000.dump"));
  const std::string audit = read_text_file(dir / ".pgbackup/audit.jsonl");
  CHECK_THAT(audit, Catch::Contains("\"operation\":\"prune\"") &&
                        Catch::Contains(old_weekly.filename().string()));

  const AgentRun list = run_agent({"--config", (root / "c.yml").string(), "list"});
  CHECK_THAT(list.out, Catch::Contains("no manifest"));
}

TEST_CASE("a backup from the future stops prune: the clock went back", "[retention]") {
  const fs::path root = make_temp_dir("prune-future");
  const fs::path dir = synthetic_target(root);
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  const fs::path old_daily = fake_backup(dir, now - 40 * 24h, pgbackup::Tier::daily);
  for (int d = 3; d >= 1; --d) fake_backup(dir, now - d * 24h, pgbackup::Tier::daily);
  fake_backup(dir, now + 48h, pgbackup::Tier::daily);  // taken while the clock was ahead

  const AgentRun run = run_agent({"--config", (root / "c.yml").string(), "prune"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.out, Catch::Contains("retention not applied: a backup started at") &&
                          Catch::Contains("the clock went back"));
  CHECK(fs::exists(old_daily));
  CHECK(fs::exists(old_daily.string() + ".json"));
}
