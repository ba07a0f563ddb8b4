// config-check's schedule preview: what a cron line means, before it is deployed.
#include <catch2/catch.hpp>

#include "agent/cli/commands.h"
#include "agent/config/config.h"
#include "agent/core/timeutil.h"

using namespace pgbackup;

TEST_CASE("config-check lists the next five backups and restore tests of every target in UTC") {
  const Config c = parse_config(R"yaml(targets:
  - name: nightly
    database: {user: u, dbname: a}
    backup: {dir: /backups/a, schedule: "0 2 * * *"}
    restore_test:
      schedule: "0 4 * * 0"
      database: {user: u, dbname: a_rt}
  - name: hourly
    database: {user: u, dbname: b}
    backup: {dir: /backups/b, schedule: "@hourly"}
)yaml",
                                "test.yml");
  // A Wednesday, after the day's 02:00 backup.
  const SysTime now = *parse_iso8601("2026-12-02T06:37:05Z");
  CHECK(describe_next_runs(c, now) ==
        "target nightly: backup.schedule \"0 2 * * *\", restore_test.schedule \"0 4 * * 0\" "
        "(UTC)\n"
        "next backups: 2026-12-03T02:00:00Z, 2026-12-04T02:00:00Z, 2026-12-05T02:00:00Z, "
        "2026-12-06T02:00:00Z, 2026-12-07T02:00:00Z\n"
        "next restore tests: 2026-12-06T04:00:00Z, 2026-12-13T04:00:00Z, 2026-12-20T04:00:00Z, "
        "2026-12-27T04:00:00Z, 2027-01-03T04:00:00Z\n"
        "target hourly: backup.schedule \"@hourly\" (UTC)\n"
        "next backups: 2026-12-02T07:00:00Z, 2026-12-02T08:00:00Z, 2026-12-02T09:00:00Z, "
        "2026-12-02T10:00:00Z, 2026-12-02T11:00:00Z\n");
  CHECK(describe_next_runs(c, now, 1).find("next backups: 2026-12-03T02:00:00Z\n") !=
        std::string::npos);
}

TEST_CASE("config-check lists the next runs of each backup type and of verify") {
  // Set as the parser does for `engine: pgbackrest` (DESIGN §11's example).
  Config c;
  TargetConfig t;
  t.name = "pulse";
  t.engine = EngineKind::pgbackrest;
  t.backup.schedule = "0 2 * * 0";
  t.backup.diff_schedule = "0 2 * * 1-6";
  t.backup.incr_schedule = "0 2,14 * * *";
  t.verify = VerifyConfig{"0 5 * * *"};
  c.targets.push_back(t);
  const SysTime now = *parse_iso8601("2026-12-05T06:37:05Z");  // a Saturday
  // The incr's 02:00 slots belong to the full and the diffs: not listed as incrs.
  CHECK(describe_next_runs(c, now, 3) ==
        "target pulse: backup.schedule full \"0 2 * * 0\", diff \"0 2 * * 1-6\", incr "
        "\"0 2,14 * * *\", verify.schedule \"0 5 * * *\" (UTC)\n"
        "next full: 2026-12-06T02:00:00Z, 2026-12-13T02:00:00Z, 2026-12-20T02:00:00Z\n"
        "next diff: 2026-12-07T02:00:00Z, 2026-12-08T02:00:00Z, 2026-12-09T02:00:00Z\n"
        "next incr: 2026-12-05T14:00:00Z, 2026-12-06T14:00:00Z, 2026-12-07T14:00:00Z\n"
        "next verify runs: 2026-12-06T05:00:00Z, 2026-12-07T05:00:00Z, 2026-12-08T05:00:00Z\n");
}
