// The keys of DESIGN §11: `engine`, `pgbackrest`, the schedule per type, `rpo_target`, `verify`.
#include <catch2/catch.hpp>

#include <string>

#include "agent/config/config.h"

using namespace pgbackup;
using namespace std::chrono_literals;

namespace {

// One target with `extra` (indented four spaces) and `backup` as its backup section.
std::string target_yaml(const std::string& extra, const std::string& backup = "{dir: /tmp/pgb-t}") {
  return "targets:\n  - name: a\n    database: {user: u, dbname: d}\n    backup: " + backup + "\n" +
         extra;
}

}  // namespace

TEST_CASE("the design's pgbackrest target parses with every §11 key") {
  const Config c = parse_config(target_yaml(R"(    engine: pgbackrest
    pgbackrest:
      stanza: pnode-pulse
      config: /etc/pgbackrest/pgbackrest.conf
      repo: 2
      command: [sudo, -n, -u, postgres, pgbackrest]
    rpo_target: 5m
    verify: {schedule: "0 5 * * *"}
)",
                                            "{dir: /tmp/pgb-t, schedule: {full: \"0 2 "
                                            "* * 0\", diff: \"0 2 * * 1-6\", incr: \"0 */4 * "
                                            "* *\"}}"),
                                "t.yml");
  const TargetConfig& t = c.targets.front();
  CHECK(t.engine == EngineKind::pgbackrest);
  REQUIRE(t.pgbackrest);
  CHECK(t.pgbackrest->stanza == "pnode-pulse");
  CHECK(t.pgbackrest->config == "/etc/pgbackrest/pgbackrest.conf");
  CHECK(t.pgbackrest->repo == 2);
  CHECK(t.pgbackrest->command ==
        std::vector<std::string>{"sudo", "-n", "-u", "postgres", "pgbackrest"});
  CHECK(t.backup.schedule == "0 2 * * 0");
  CHECK(t.backup.diff_schedule == "0 2 * * 1-6");
  CHECK(t.backup.incr_schedule == "0 */4 * * *");
  REQUIRE(t.rpo_target);
  CHECK(*t.rpo_target == 5min);
  REQUIRE(t.verify);
  CHECK(t.verify->schedule == "0 5 * * *");

  const std::string shown = render_config(c);
  CHECK_THAT(shown, Catch::Contains("engine: pgbackrest"));
  CHECK_THAT(shown, Catch::Contains("stanza: pnode-pulse"));
  CHECK_THAT(shown,
             Catch::Contains(
                 R"(schedule: {full: "0 2 * * 0", diff: "0 2 * * 1-6", incr: "0 */4 * * *"})"));
  CHECK_THAT(shown, Catch::Contains("rpo_target: 5m"));
  CHECK_THAT(shown, Catch::Contains(R"(verify: {schedule: "0 5 * * *"})"));
  // What config-check shows parses back to the same target.
  const Config again = parse_config(shown, "shown.yml");
  CHECK(again.targets.front().backup.incr_schedule == "0 */4 * * *");
  CHECK(again.targets.front().pgbackrest->repo == 2);
  CHECK(again.targets.front().pgbackrest->command == t.pgbackrest->command);
  CHECK(again.targets.front().engine == EngineKind::pgbackrest);
}

TEST_CASE("a pgbackrest target's defaults: repo 1, command [pgbackrest], a string schedule") {
  const Config c = parse_config(
      target_yaml("    engine: pgbackrest\n    pgbackrest: {stanza: main}\n"), "t.yml");
  const TargetConfig& t = c.targets.front();
  REQUIRE(t.pgbackrest);
  CHECK(t.pgbackrest->repo == 1);
  CHECK(t.pgbackrest->config.empty());
  CHECK(t.pgbackrest->command == std::vector<std::string>{"pgbackrest"});
  CHECK(t.backup.schedule == "0 2 * * *");
  CHECK(t.backup.diff_schedule.empty());
  CHECK(t.backup.incr_schedule.empty());
  CHECK_FALSE(t.rpo_target);
  CHECK_FALSE(t.verify);
}

TEST_CASE("a pg_dump target is unchanged: no engine shown, none of the §11 sections") {
  const Config c = parse_config(target_yaml(""), "t.yml");
  const TargetConfig& t = c.targets.front();
  CHECK(t.engine == EngineKind::pg_dump);
  CHECK_FALSE(t.pgbackrest);
  const std::string shown = render_config(c);
  CHECK_THAT(shown, !Catch::Contains("engine") && !Catch::Contains("pgbackrest") &&
                        !Catch::Contains("verify") && !Catch::Contains("rpo_target"));
  CHECK_THAT(shown, Catch::Contains(R"(schedule: "0 2 * * *")"));
  // rpo_target and verify are not tied to an engine.
  const Config v = parse_config(
      target_yaml("    rpo_target: 26h\n    verify: {schedule: \"0 5 * * *\"}\n"), "t.yml");
  CHECK(*v.targets.front().rpo_target == 26h);
}

TEST_CASE("§11 config errors name the key, its line and the fix") {
  struct Case {
    const char* what;
    std::string yaml;
    const char* line;
    const char* message;
  };
  const std::string incr_only = "{dir: /tmp/x, schedule: {incr: \"0 * * * *\"}}";
  const Case cases[] = {
      {"engine without its section", target_yaml("    engine: pgbackrest\n"), "t.yml:5:",
       "targets[0].engine is pgbackrest but the target has no pgbackrest section; hint: add"},
      {"section without the engine", target_yaml("    pgbackrest: {stanza: main}\n"), "t.yml:5:",
       "targets[0].pgbackrest is set but the target's engine is pg_dump; hint: add `engine: "
       "pgbackrest`"},
      {"a mapping schedule on a pg_dump target",
       target_yaml("", "{dir: /tmp/x, schedule: {full: \"0 2 * * *\"}}"), "t.yml:4:",
       "targets[0].backup.schedule gives a schedule per backup type, which only pgbackrest"},
      {"an unknown engine", target_yaml("    engine: barman\n"),
       "t.yml:5:", "targets[0].engine must be one of pg_dump, pgbackrest, got \"barman\""},
      {"no stanza", target_yaml("    engine: pgbackrest\n    pgbackrest: {repo: 1}\n"),
       "t.yml:6:", "targets[0].pgbackrest.stanza is required"},
      {"an empty command",
       target_yaml("    engine: pgbackrest\n    pgbackrest: {stanza: m, command: []}\n"),
       "t.yml:6:", "targets[0].pgbackrest.command must be a non-empty argv list"},
      {"a repo out of range",
       target_yaml("    engine: pgbackrest\n    pgbackrest: {stanza: m, repo: 0}\n"),
       "t.yml:6:", "targets[0].pgbackrest.repo must be between 1 and 256"},
      {"an unknown key in pgbackrest",
       target_yaml("    engine: pgbackrest\n    pgbackrest: {stanza: m, repo1-path: /x}\n"),
       "t.yml:6:", "repo1-path"},
      {"a full-less schedule mapping",
       target_yaml("    engine: pgbackrest\n    pgbackrest: {stanza: m}\n", incr_only),
       "t.yml:4:", "targets[0].backup.schedule.full is required"},
      {"an unknown backup type",
       target_yaml("    engine: pgbackrest\n    pgbackrest: {stanza: m}\n",
                   "{dir: /tmp/x, schedule: {full: \"0 2 * * *\", weekly: \"0 3 * * *\"}}"),
       "t.yml:4:", "weekly"},
      {"a bad diff cron",
       target_yaml("    engine: pgbackrest\n    pgbackrest: {stanza: m}\n",
                   "{dir: /tmp/x, schedule: {full: \"0 2 * * *\", diff: \"0 25 * * *\"}}"),
       "t.yml:4:", "targets[0].backup.schedule.diff:"},
      {"a zero rpo_target", target_yaml("    rpo_target: 0s\n"),
       "t.yml:5:", "targets[0].rpo_target must be longer than 0s"},
      {"verify without schedule", target_yaml("    verify: {}\n"),
       "t.yml:5:", "targets[0].verify.schedule is required"},
      {"an age encryption section on a pgbackrest target",
       target_yaml(
           "    engine: pgbackrest\n    pgbackrest: {stanza: m}\n    encryption:\n"
           "      recipients: [age1j4kwl6elncs0q52p80z5cjp8nasnqtl4fluhgrr3a8046f57ueus57wdhg]\n"),
       "t.yml:8:",
       "targets[0].encryption is for pg_dump targets; a pgbackrest target's backups are encrypted "
       "by pgBackRest; hint: remove the section and set repo1-cipher-type=aes-256-cbc and "
       "repo1-cipher-pass in pgbackrest.conf"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    CHECK_THROWS_WITH(parse_config(c.yaml, "t.yml"),
                      Catch::Contains(c.line) && Catch::Contains(c.message));
  }
}

TEST_CASE("a schedule mapping may leave out diff or incr: that type is not scheduled") {
  const Config c = parse_config(
      target_yaml("    engine: pgbackrest\n    pgbackrest: {stanza: main}\n",
                  "{dir: /tmp/x, schedule: {full: \"0 2 * * 0\", incr: \"0 */4 * * *\"}}"),
      "t.yml");
  const BackupConfig& b = c.targets.front().backup;
  CHECK(b.schedule == "0 2 * * 0");
  CHECK(b.diff_schedule.empty());
  CHECK(b.incr_schedule == "0 */4 * * *");
  CHECK_THAT(render_config(c),
             Catch::Contains(R"(schedule: {full: "0 2 * * 0", incr: "0 */4 * * *"})"));
}

TEST_CASE("restore_test.heartbeat is a cadence of pgbackrest targets, off by default") {
  const std::string physical = "    engine: pgbackrest\n    pgbackrest: {stanza: s}\n";
  const Config off = parse_config(target_yaml(physical + "    restore_test: {}\n"), "t.yml");
  CHECK_FALSE(off.targets.front().restore_test->heartbeat);
  CHECK_THAT(render_config(off), !Catch::Contains("heartbeat"));

  const Config on =
      parse_config(target_yaml(physical + "    restore_test: {heartbeat: 30s}\n"), "t.yml");
  REQUIRE(on.targets.front().restore_test->heartbeat);
  CHECK(*on.targets.front().restore_test->heartbeat == 30s);
  CHECK_THAT(render_config(on), Catch::Contains("heartbeat: 30s"));
  // Shown without the scratch database it does not use, it parses back as it was.
  CHECK_THAT(render_config(on), !Catch::Contains("dbname: \"\""));
  CHECK(render_config(parse_config(render_config(on), "t.yml")) == render_config(on));

  CHECK_THROWS_WITH(
      parse_config(target_yaml(physical + "    restore_test: {heartbeat: 0s}\n"), "t.yml"),
      Catch::Contains("restore_test.heartbeat"));
  CHECK_THROWS_WITH(
      parse_config(target_yaml("    restore_test: {database: {user: u, dbname: scratch}, "
                               "heartbeat: 30s}\n"),
                   "t.yml"),
      Catch::Contains("targets[0].restore_test.heartbeat is for pgbackrest targets") &&
          Catch::Contains("t.yml:"));
}
