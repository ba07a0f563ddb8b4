// The argv of `pgbackrest restore` and the private configuration of a scratch restore.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "agent/engines/pgbackrest/restore_args.h"

using namespace pgbackup;
using namespace pgbackup::pgbackrest;
using Argv = std::vector<std::string>;

TEST_CASE("the restore argv for each kind of target") {
  const SysTime t = *parse_target_time("2026-12-06T14:04:00.25Z");
  struct Row {
    const char* name;
    RestoreRequest request;
    Argv args;
  };
  RestoreRequest latest;
  latest.pg_path = "/scratch/data";
  RestoreRequest at_time = latest;
  at_time.target = RecoveryTarget::at_time(t);
  at_time.set = "20261206-140000F";
  at_time.archive_mode_off = true;
  at_time.extra = {"--lock-path=/scratch/lock"};
  RestoreRequest at_lsn = latest;
  at_lsn.target = RecoveryTarget::at_lsn("0/3000060");
  at_lsn.delta = true;
  RestoreRequest immediate = latest;
  immediate.immediate = true;
  const std::vector<Row> rows = {
      {"latest: recover to the archive's end, promote by itself",
       latest,
       {"--pg1-path=/scratch/data", "--type=default"}},
      {"a time, on a scratch cluster",
       at_time,
       {"--pg1-path=/scratch/data", "--set=20261206-140000F", "--type=time",
        "--target=2026-12-06 14:04:00.25+00", "--target-action=promote", "--archive-mode=off",
        "--lock-path=/scratch/lock"}},
      {"an lsn, in place with --delta",
       at_lsn,
       {"--pg1-path=/scratch/data", "--delta", "--type=lsn", "--target=0/3000060",
        "--target-action=promote"}},
      {"immediate: the backup's consistent point",
       immediate,
       {"--pg1-path=/scratch/data", "--type=immediate", "--target-action=promote"}},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    CHECK(restore_args(row.request) == row.args);
  }
}

TEST_CASE("pgbackrest's target time has a space and +00, and keeps the fraction") {
  CHECK(pgbackrest_time(*parse_target_time("2026-12-06T14:04:00Z")) == "2026-12-06 14:04:00+00");
  CHECK(pgbackrest_time(*parse_target_time("2026-12-06T14:04:00.123456Z")) ==
        "2026-12-06 14:04:00.123456+00");
}

TEST_CASE("the private config drops the operator's lock, log, spool and async settings") {
  const PrivatePaths p{"/s/lock", "/s/log", "/s/spool"};
  const std::string op =
      "[global]\nrepo1-path=/repo\nlog-path = /var/log/pgbackrest\narchive-async=y\n"
      "# spool-path=/commented\n[main]\npg1-path=/data\nspool-path=/var/spool\n";
  CHECK(private_config(op, p) ==
        "[global]\nlock-path=/s/lock\nlog-path=/s/log\nspool-path=/s/spool\narchive-async=n\n"
        "repo1-path=/repo\n# spool-path=/commented\n[main]\npg1-path=/data\n");
  CHECK(private_config("[main]\npg1-path=/data\n", p) ==
        "[global]\nlock-path=/s/lock\nlog-path=/s/log\nspool-path=/s/spool\narchive-async=n\n"
        "[main]\npg1-path=/data\n");
}
