// `config-check` of a pgBackRest target with the real binary on a real cluster archiving into a
// real stanza (tests/support/pgbackrest_cluster.h): the next runs of each type, and each broken
// set-up a clear error with its fix and a non-zero exit.
#include <catch2/catch.hpp>

#include <signal.h>

#include <regex>
#include <thread>

#include "tests/support/daemon.h"
#include "tests/support/pgbackrest_cluster.h"
#include "tests/support/process.h"
#include "tests/support/target.h"

using namespace pgtest;

namespace {

// A config with one pgBackRest target: the database `server`, pgbackrest.conf `conf`, stanza
// `stanza`.
std::string pgbackrest_yaml(const fs::path& dir, const PgCluster& server, const fs::path& conf,
                            const std::string& stanza) {
  std::string command;
  for (const std::string& word : PgBackRestCluster::command_prefix()) {
    command += (command.empty() ? "" : ", ") + word;
  }
  return "targets:\n"
         "  - name: physical\n"
         "    engine: pgbackrest\n"
         "    database: " +
         TestTarget::database_yaml("postgres", server) +
         "\n"
         "    pgbackrest: {stanza: " +
         stanza + ", config: " + conf.string() + ", command: [" + command +
         "]}\n"
         "    backup:\n"
         "      dir: " +
         (dir / "state").string() +
         "\n"
         "      schedule: {full: \"0 2 * * 0\", diff: \"0 2 * * 1-6\", incr: \"0 */4 * * *\"}\n"
         "    verify: {schedule: \"0 5 * * *\"}\n";
}

AgentRun config_check(const fs::path& dir, const std::string& yaml) {
  const fs::path file = dir / "agent.yml";
  write_text(file, yaml);
  return run_agent({"--config", file.string(), "config-check"},
                   {{TestTarget::kPasswordEnv, PgCluster::kPassword}});
}

const std::string kTime = "20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:00:00Z";

}  // namespace

TEST_CASE("config-check of a pgBackRest target: next runs per type, then each broken set-up",
          "[pgbackrest_config]") {
  PgBackRestCluster& cluster = PgBackRestCluster::shared();
  const fs::path dir = make_temp_dir("pgbackrest_config");
  const std::string ok_yaml =
      pgbackrest_yaml(dir, cluster.pg(), cluster.config(), cluster.stanza());

  SECTION("a good set-up passes and lists the next full, diff and incr backups") {
    const AgentRun r = config_check(dir, ok_yaml);
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(std::regex_search(r.err, std::regex("\nnext full: " + kTime + "(, " + kTime + "){4}\n")));
    CHECK(std::regex_search(r.err, std::regex("\nnext diff: " + kTime + "(, " + kTime + "){4}\n")));
    CHECK(std::regex_search(r.err, std::regex("\nnext incr: " + kTime + "(, " + kTime + "){4}\n")));
    CHECK(std::regex_search(r.err, std::regex("\nnext verify runs: " + kTime)));
    CHECK_THAT(r.err, Catch::Contains("config ok: 1 target(s)"));
    CHECK_THAT(r.err, !Catch::Contains("error:"));
  }
  SECTION("a pgbackrest.conf without the stanza") {
    const fs::path conf = dir / "other.conf";
    write_text(conf, "[global]\nrepo1-path=" + cluster.repo().string() + "\n[main]\npg1-path=/x\n");
    const AgentRun r =
        config_check(dir, pgbackrest_yaml(dir, cluster.pg(), conf, cluster.stanza()));
    INFO(r.err);
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.err, Catch::Contains("target physical: error: pgbackrest.conf " + conf.string() +
                                      " has no [" + cluster.stanza() + "] section (hint: add"));
    CHECK_THAT(r.err, !Catch::Contains("config ok"));
  }
  SECTION("a pgbackrest.conf that does not exist") {
    const fs::path conf = dir / "missing.conf";
    const AgentRun r =
        config_check(dir, pgbackrest_yaml(dir, cluster.pg(), conf, cluster.stanza()));
    INFO(r.err);
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.err, Catch::Contains("error: pgbackrest.conf " + conf.string() +
                                      " does not exist (hint: write it"));
  }
  SECTION("an archive_command pushing to another stanza") {
    cluster.exec(
        "ALTER SYSTEM SET archive_command = 'pgbackrest --stanza=elsewhere archive-push %p'");
    cluster.exec("SELECT pg_reload_conf()");
    const AgentRun r = config_check(dir, ok_yaml);
    cluster.exec("ALTER SYSTEM RESET archive_command");
    cluster.exec("SELECT pg_reload_conf()");
    INFO(r.err);
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.err, Catch::Contains("error: archive_command pushes to stanza elsewhere, not " +
                                      cluster.stanza() +
                                      " (hint: set archive_command = "
                                      "'pgbackrest --stanza=" +
                                      cluster.stanza() + " archive-push %p'"));
  }
  SECTION("a server with archive_mode off (a second cluster)") {
    const AgentRun r = config_check(
        dir, pgbackrest_yaml(dir, PgCluster::second(), cluster.config(), cluster.stanza()));
    INFO(r.err);
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.err, Catch::Contains("error: archive_mode is off (hint: set archive_mode = on "
                                      "in postgresql.conf and restart)"));
  }
  SECTION("a server that is down is a warning, not an error") {
    const AgentRun r =
        config_check(dir, std::regex_replace(ok_yaml, std::regex("port: [0-9]+"),
                                             "port: " + std::to_string(free_port())));
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.err, Catch::Contains("warning: archive_mode and archive_command not checked"));
  }
}

TEST_CASE("the daemon does not schedule a pgBackRest target whose preflight errs, and says why",
          "[pgbackrest_config]") {
  PgBackRestCluster& cluster = PgBackRestCluster::shared();
  const fs::path dir = make_temp_dir("pgbackrest_config_daemon");
  const fs::path conf = dir / "other.conf";
  write_text(conf, "[main]\npg1-path=/x\n");
  const fs::path config = dir / "agent.yml";
  write_text(config, pgbackrest_yaml(dir, cluster.pg(), conf, cluster.stanza()));
  Daemon daemon(config, free_port());

  daemon.wait_for_metric("pgbackup_build_info");
  std::string log;
  for (int i = 0; i < 100 && log.find("not scheduling") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    log = daemon.log();
  }
  INFO(log);
  CHECK_THAT(log, Catch::Contains("physical: error: pgbackrest.conf " + conf.string() +
                                  " has no [" + cluster.stanza() + "] section"));
  CHECK_THAT(log, Catch::Contains("physical: not scheduling its jobs until the set-up above is "
                                  "fixed (then SIGHUP)"));
  CHECK_THAT(log, !Catch::Contains("backup of physical starting"));
  daemon.signal(SIGTERM);
  CHECK(daemon.wait_exit(std::chrono::seconds(10)) == 0);
}
