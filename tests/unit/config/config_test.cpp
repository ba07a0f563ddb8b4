#include "agent/config/config.h"

#include <catch2/catch.hpp>

#include <cstdlib>

#include "agent/catalog/manifest.h"

using namespace pgbackup;
using namespace std::chrono_literals;

TEST_CASE("the design's example config parses with its defaults filled in") {
  const Config c = parse_config(R"(
web:
  listen_address: ":10115"
targets:
  - name: pnode-pulse
    database: {host: localhost, port: 5434, user: pnodepulse, dbname: pnodepulse,
               password_env: POSTGRES_PASSWORD, connect_timeout: 10s}
    backup:
      dir: /backups/pnode-pulse
      schedule: "0 2 * * *"
      compression: 9
      timeout: 2h
    anomaly: {window: 7, min_ratio: 0.5, max_ratio: 3.0, min_size: 1KiB, table_drop_ratio: 0.5}
    retention: {daily: 30d, weekly: 90d, monthly: 365d, min_keep: 3}
    restore_test:
      schedule: "0 4 * * 0"
      database: {host: localhost, port: 5435, user: pnodepulse, dbname: pnodepulse_restore_test,
                 password_env: STAGING_PASSWORD}
      rto_target: 30m
      checks:
        - {name: nodes_present, sql: "SELECT count(*) > 0 FROM nodes"}
    restore:
      stop_command: [docker, compose, stop, blue, green, staging]
)",
                                "test.yml");
  REQUIRE(c.targets.size() == 1);
  const TargetConfig& t = c.targets.front();
  CHECK(t.name == "pnode-pulse");
  CHECK(t.backup.file_prefix == "pnode-pulse");
  CHECK(t.database.port == 5434);
  CHECK(t.backup.timeout == 2h);
  CHECK(t.backup.row_counts);
  CHECK(t.anomaly.min_size == 1024);
  CHECK(t.retention.monthly == 365 * 24h);
  REQUIRE(t.restore_test);
  CHECK(t.restore_test->rto_target == 30min);
  CHECK(t.restore_test->checks.size() == 1);
  CHECK(t.restore.stop_command.size() == 6);
  CHECK(c.audit_log_for(t) == "/backups/pnode-pulse/.pgbackup/audit.jsonl");
  CHECK(&c.find_target("") == &t);
  CHECK_THROWS_AS(c.find_target("other"), ConfigError);
}

TEST_CASE("a config key that is a list or mapping is a config error naming its line") {
  // The web config's fuzz crash (a complex YAML key), checked here too: as<std::string>() on a
  // mapping key threw a YAML exception instead of a ConfigError.
  CHECK_THROWS_WITH(parse_config("targets: []\n? {a: b}\n: x\n", "t.yml"),
                    Catch::Contains("t.yml:2:") && Catch::Contains("plain name"));
  CHECK_THROWS_AS(parse_config("targets:\n  - name: a\n    [x]: 1\n", "t.yml"), ConfigError);
}

TEST_CASE("a target's missing required sections are named, absent optional ones stay unset") {
  CHECK_THROWS_WITH(
      parse_config("targets:\n  - name: a\n    backup: {dir: /tmp/a}\n", "t.yml"),
      Catch::Contains("t.yml:2:") && Catch::Contains("targets[0].database is required"));
  CHECK_THROWS_WITH(
      parse_config("targets:\n  - name: a\n    database: {user: u, dbname: d}\n", "t.yml"),
      Catch::Contains("t.yml:2:") && Catch::Contains("targets[0].backup is required"));
  CHECK_THROWS_WITH(parse_config("targets:\n  - name: a\n    database: {user: u, dbname: d}\n"
                                 "    backup: {dir: /tmp/a}\n    restore_test: {jobs: 2}\n",
                                 "t.yml"),
                    Catch::Contains("t.yml:5:") &&
                        Catch::Contains("targets[0].restore_test.database is required"));

  const Config c = parse_config(
      "targets:\n  - name: a\n    database: {user: u, dbname: d}\n    backup: {dir: /tmp/a}\n",
      "t.yml");
  REQUIRE(c.targets.size() == 1);
  CHECK(c.targets[0].backup.file_prefix == "a");
  CHECK_FALSE(c.targets[0].restore_test.has_value());
  CHECK_FALSE(c.targets[0].offsite_s3.has_value());
  const std::string shown = render_config(c);
  CHECK_THAT(shown, Catch::Contains("backup:") && !Catch::Contains("restore_test:") &&
                        !Catch::Contains("offsite:"));
}

TEST_CASE("a restore-test database equal to production is refused") {
  CHECK_THROWS_WITH(parse_config(R"(targets:
  - name: a
    database: {user: u, dbname: d, port: 5434}
    backup: {dir: /tmp/a}
    restore_test:
      database: {user: u, dbname: d, port: 5434}
)",
                                 "t.yml"),
                    Catch::Contains("t.yml:6:") && Catch::Contains("is the production database"));
}

TEST_CASE("a restore-test database on the same server under another host name is refused") {
  // localhost, 127.0.0.1, ::1, an empty host and a socket directory all reach this machine: the
  // restore test would DROP the production database WITH (FORCE).
  const char* aliases[][2] = {{"localhost", "127.0.0.1"},
                              {"127.0.0.1", "\"::1\""},
                              {"localhost", "/var/run/postgresql"},
                              {"\"\"", "LOCALHOST"}};
  for (const auto& pair : aliases) {
    INFO(pair[0] << " vs " << pair[1]);
    CHECK_THROWS_WITH(parse_config(std::string(R"(targets:
  - name: a
    database: {user: u, dbname: d, port: 5434, host: )") +
                                       pair[0] + R"(}
    backup: {dir: /tmp/a}
    restore_test:
      database: {user: u, dbname: d, port: 5434, host: )" +
                                       pair[1] + "}\n",
                                   "t.yml"),
                      Catch::Contains("is the production database"));
  }
  // Another port or another machine is a different server.
  CHECK_NOTHROW(parse_config(R"(targets:
  - name: a
    database: {user: u, dbname: d, port: 5434, host: localhost}
    backup: {dir: /tmp/a}
    restore_test:
      database: {user: u, dbname: d, port: 5435, host: 127.0.0.1}
)",
                             "t.yml"));
}

TEST_CASE("a restore-test database that is another target's production database is refused") {
  CHECK_THROWS_WITH(
      parse_config(R"(targets:
  - name: a
    database: {user: u, dbname: a, port: 5434, host: db.example}
    backup: {dir: /tmp/a}
    restore_test:
      database: {user: u, dbname: b, port: 5434, host: 127.0.0.1}
  - name: b
    database: {user: u, dbname: b, port: 5434}
    backup: {dir: /tmp/b}
)",
                   "t.yml"),
      Catch::Contains("t.yml:6:") && Catch::Contains("is the production database of target b"));
}

TEST_CASE("numbers out of range or of the wrong kind name the key and line") {
  struct Case {
    std::string setting;
    std::string message;
  };
  const Case cases[] = {
      {"backup: {dir: /tmp/a, compression: 10}",
       "t.yml:3: targets[0].backup.compression must be between 0 and 9, got 10"},
      {"backup: {dir: /tmp/a, compression: 9.5}",
       "targets[0].backup.compression must be a whole number, got \"9.5\""},
      {"backup: {dir: /tmp/a}\n    anomaly: {min_ratio: 1.5}",
       "t.yml:4: targets[0].anomaly.min_ratio must be between 0 and 1, got 1.5"},
      {"backup: {dir: /tmp/a}\n    anomaly: {max_ratio: lots}",
       "targets[0].anomaly.max_ratio must be a number, got \"lots\""},
  };
  for (const Case& c : cases) {
    INFO(c.setting);
    CHECK_THROWS_WITH(parse_config("targets:\n  - name: a\n    " + c.setting +
                                       "\n    database: {user: u, dbname: d}\n",
                                   "t.yml"),
                      Catch::Contains(c.message));
  }
  const Config ok = parse_config(
      "targets:\n  - {name: a, database: {user: u, dbname: d}, backup: {dir: /tmp/a, "
      "compression: 0}, anomaly: {max_ratio: 2.5}}\n",
      "t.yml");
  CHECK(ok.targets.front().backup.compression == 0);
  CHECK(ok.targets.front().anomaly.max_ratio == 2.5);
}

TEST_CASE("two targets may not share a backup directory or a name") {
  const std::string shared_dir = R"(targets:
  - {name: a, database: {user: u, dbname: a}, backup: {dir: /tmp/x}}
  - {name: b, database: {user: u, dbname: b}, backup: {dir: /tmp/x}}
)";
  CHECK_THROWS_WITH(parse_config(shared_dir, "t.yml"),
                    Catch::Contains("is used by another target"));
  const std::string same_name = R"(targets:
  - {name: a, database: {user: u, dbname: a}, backup: {dir: /tmp/x}}
  - {name: a, database: {user: u, dbname: b}, backup: {dir: /tmp/y}}
)";
  CHECK_THROWS_WITH(parse_config(same_name, "t.yml"), Catch::Contains("is used twice"));
}

TEST_CASE("config-check output shows whether secrets are set, never their values") {
  ::setenv("CONFIG_TEST_PASSWORD", "very-secret", 1);
  const Config c = parse_config(R"(targets:
  - name: a
    database: {user: u, dbname: d, password_env: CONFIG_TEST_PASSWORD}
    backup: {dir: /tmp/a}
)",
                                "t.yml");
  const std::string text = render_config(c);
  CHECK_THAT(text,
             Catch::Contains("CONFIG_TEST_PASSWORD") && Catch::Contains("set (value hidden)"));
  CHECK_THAT(text, !Catch::Contains("very-secret"));
  // What config-check prints is itself a valid config that parses to the same targets.
  CHECK(parse_config(text, "rendered").targets.front().database.password_env ==
        "CONFIG_TEST_PASSWORD");
}

TEST_CASE("a manifest survives a JSON round trip") {
  Manifest m;
  m.target = "t";
  m.file = "t_20261125_063500.dump";
  m.started_at = *parse_iso8601("2026-11-25T06:35:00Z");
  m.finished_at = *parse_iso8601("2026-11-25T06:36:00Z");
  m.size_bytes = 123;
  m.sha256 = std::string(64, 'a');
  m.tier = Tier::weekly;
  m.database = {"db", "15.18", 999, {{"timescaledb", "2.13.0"}}};
  m.tables = {{"public", "nodes", 50}};
  m.shrunk_tables = {{"public", "nodes", 100, 50}};
  m.size_anomaly = true;
  const Manifest back = manifest_from_json(manifest_to_json(m));
  CHECK(manifest_to_json(back) == manifest_to_json(m));
  CHECK(back.tier == Tier::weekly);
  CHECK(back.total_rows() == 50);
  CHECK_THROWS(manifest_from_json(nlohmann::json{{"format", "other"}}));
}
