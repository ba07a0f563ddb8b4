// The engine seam (engines/engine.h) for a pg_dump target: what make_engine builds, read and
// deleted through the interface on a directory of synthetic backups (no database needed).
#include <catch2/catch.hpp>

#include "agent/core/clock.h"
#include "agent/core/errors.h"
#include "agent/engines/engine.h"
#include "tests/support/fake_backup.h"
#include "tests/support/target.h"

using namespace pgtest;
using namespace std::chrono_literals;

namespace {

pgbackup::TargetConfig synthetic_target(const fs::path& dir) {
  pgbackup::TargetConfig t;
  t.name = "synthetic";
  t.backup.dir = dir;
  t.backup.file_prefix = "synthetic";
  return t;
}

}  // namespace

TEST_CASE("a pg_dump target's engine lists its dumps with their proof and deletes one whole",
          "[engine]") {
  const fs::path dir = make_temp_dir("engine") / "backups";
  const pgbackup::TargetConfig target = synthetic_target(dir);
  const std::unique_ptr<pgbackup::BackupEngine> engine = pgbackup::make_engine(target);
  CHECK(engine->name() == "pg_dump");
  engine->prepare();
  CHECK(fs::is_directory(target.state_dir()));

  const auto day0 =
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) - 72h;
  const fs::path monthly = write_fake_backup(dir, "synthetic", day0, pgbackup::Tier::monthly);
  const fs::path daily = write_fake_backup(dir, "synthetic", day0 + 24h, pgbackup::Tier::daily);
  write_text(dir / ("synthetic_" + pgbackup::format_file_stamp(day0 + 48h) + ".dump"), "orphan");

  const std::vector<pgbackup::CatalogEntry> catalog = engine->catalog();
  REQUIRE(catalog.size() == 3);
  CHECK(catalog[0].name() == monthly.filename().string());
  CHECK(catalog[0].tier() == pgbackup::Tier::monthly);
  CHECK(catalog[0].type == pgbackup::BackupType::full);
  CHECK(catalog[1].good());
  CHECK_FALSE(catalog[2].good());
  CHECK_THAT(catalog[2].problem(), Catch::Contains("no manifest"));
  // pg_dump restores to a backup's end: from the oldest good one's finish to the newest's.
  const pgbackup::RecoveryWindow window = engine->recovery_window(catalog);
  REQUIRE(window.start);
  REQUIRE(window.end);
  CHECK(*window.start == catalog[0].finished_at());
  CHECK(*window.end == catalog[1].finished_at());
  CHECK(catalog[1].finished_at() == day0 + 24h + 1min);

  // Retention is offered the good backups only; a deletion takes the manifest with the dump.
  const std::vector<pgbackup::CatalogEntry> candidates = engine->retention_candidates();
  REQUIRE(candidates.size() == 2);
  std::vector<std::string> removed;
  engine->remove({&candidates[0]},
                 [&](const pgbackup::CatalogEntry& b) { removed.push_back(b.name()); });
  CHECK(removed == std::vector<std::string>{monthly.filename().string()});
  CHECK_FALSE(fs::exists(monthly));
  CHECK_FALSE(fs::exists(monthly.string() + ".json"));
  CHECK(fs::exists(daily));
  CHECK(engine->catalog().size() == 2);
  // Verify proves it again from the file: the synthetic dump matches its manifest's size and
  // SHA-256 but is no archive pg_restore can read.
  const pgbackup::VerifyReport report = engine->verify(engine->catalog().front(), nullptr);
  CHECK(report.file == daily);
  REQUIRE(report.checks.size() >= 3);
  CHECK(report.checks[0].passed);  // the manifest
  CHECK_FALSE(report.ok());
  CHECK_THAT(report.first_problem(), Catch::Contains("pg_restore"));
}

TEST_CASE("a pg_dump target refuses a differential or incremental backup, writing nothing",
          "[engine]") {
  const fs::path dir = make_temp_dir("engine") / "backups";
  const pgbackup::TargetConfig target = synthetic_target(dir);
  const std::unique_ptr<pgbackup::BackupEngine> engine = pgbackup::make_engine(target);
  engine->prepare();
  const pgbackup::SystemClock clock;
  const pgbackup::JobContext ctx{clock};
  CHECK_THROWS_WITH(engine->backup(pgbackup::BackupType::incr, ctx),
                    Catch::Contains("pg_dump takes only full backups, not incr"));
  CHECK_THROWS_AS(engine->backup(pgbackup::BackupType::diff, ctx), pgbackup::OperationError);
  CHECK(engine->catalog().empty());
}
