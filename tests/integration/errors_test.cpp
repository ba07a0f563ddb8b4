// Bad input gets a clear error, a non-zero exit, and nothing is lost: the real binary against a
// real PostgreSQL, one failure at a time.
#include <signal.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <thread>

#include "tests/support/target.h"

using namespace pgtest;

namespace {

// Takes one good backup so every failure below can prove it was left alone.
fs::path first_good_backup(const TestTarget& t) {
  const AgentRun run = t.agent({"backup"});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  REQUIRE(t.dumps().size() == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  return t.dumps().front();
}

// The backup dir holds the good backup, untouched, and no partial file.
void require_nothing_lost(const TestTarget& t, const fs::path& good, const std::string& sha) {
  CHECK(t.dumps() == std::vector<fs::path>{good});
  CHECK(t.manifest_of(good)["sha256"] == sha);
  CHECK(t.agent({"verify", good.string()}).exit_code == 0);
  for (const auto& e : fs::directory_iterator(t.dir)) {
    CHECK(e.path().extension() != ".partial");
    if (e.path().extension() == ".dump") CHECK(fs::exists(e.path().string() + ".json"));
  }
}

std::string database_yaml(int port, const std::string& user, const std::string& db) {
  return "{host: 127.0.0.1, port: " + std::to_string(port) + ", user: " + user + ", dbname: " + db +
         ", password_env: PGTEST_PASSWORD, connect_timeout: 3s}";
}

}  // namespace

TEST_CASE("backup failures name the cause, give a hint and keep every good backup", "[errors]") {
  TestTarget t("failures", 500);
  const fs::path good = first_good_backup(t);
  const std::string sha = t.manifest_of(good)["sha256"];
  const int port = PgCluster::shared().port();

  SECTION("the password variable is missing") {
    const AgentRun run = t.agent({"backup"}, {{"PGTEST_PASSWORD", ""}});
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Contains("PGTEST_PASSWORD is not set") &&
                            Catch::Contains("hint: export PGTEST_PASSWORD"));
  }
  SECTION("the password is wrong") {
    const AgentRun run = t.agent({"backup"}, {{"PGTEST_PASSWORD", "wrong"}});
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Contains("password authentication failed") &&
                            Catch::Contains("hint: check the password in $PGTEST_PASSWORD"));
    CHECK_THAT(run.err, !Catch::Contains("wrong"));
  }
  SECTION("the database does not exist") {
    t.write_config(database_yaml(port, "postgres", "no_such_db"));
    const AgentRun run = t.agent({"backup"});
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Contains("database \"no_such_db\" does not exist") &&
                            Catch::Contains("createdb"));
  }
  SECTION("the role does not exist") {
    t.write_config(database_yaml(port, "no_such_role", t.db));
    const AgentRun run = t.agent({"backup"});
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Contains("no_such_role") && Catch::Contains("hint:"));
  }
  SECTION("the server is down") {
    t.write_config(database_yaml(free_port(), "postgres", t.db));
    const AgentRun run = t.agent({"backup"});
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Contains("is PostgreSQL running"));
  }
  SECTION("the disk fills up in the middle of the dump") {
    // RLIMIT_FSIZE makes writes past 64 KiB fail with EFBIG, like a full disk.
    const AgentRun run = run_agent({"--config", t.config.string(), "backup"},
                                   {{"PGTEST_PASSWORD", PgCluster::kPassword}}, "", 64 * 1024);
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Contains("cannot write") && Catch::Contains("disk is full"));
  }
  SECTION("pg_dump is killed") {
    // A lock held elsewhere makes pg_dump wait; then it is killed.
    TableLock lock(t.db);
    AgentRun run;
    std::thread agent([&] { run = t.agent({"backup"}); });
    pid_t dump_pid = 0;
    for (int i = 0; i < 200 && dump_pid == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      for (const auto& e : fs::directory_iterator("/proc")) {
        const std::string cmd = read_text_file(e.path() / "cmdline");
        const std::string argv0 = cmd.substr(0, cmd.find('\0'));
        const bool is_pg_dump =
            argv0.size() >= 7 && argv0.compare(argv0.size() - 7, 7, "pg_dump") == 0;
        if (is_pg_dump && cmd.find(t.db) != std::string::npos) {
          dump_pid = std::stoi(e.path().filename().string());
          // Secrets never travel in argv.
          CHECK(cmd.find(PgCluster::kPassword) == std::string::npos);
        }
      }
    }
    REQUIRE(dump_pid != 0);
    ::kill(dump_pid, SIGKILL);
    agent.join();
    lock.release();
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Contains("pg_dump was killed by signal 9"));
  }
  SECTION("pg_dump runs past backup.timeout") {
    TableLock lock(t.db);
    write_text(t.config,
               "targets:\n  - name: failures\n    database: " + t.default_database_yaml() +
                   "\n    backup: {dir: " + t.dir.string() + ", timeout: 2s}\n");
    const AgentRun run = t.agent({"backup"});
    lock.release();
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Contains("did not finish within 2s"));
  }
  SECTION("the agent itself is killed mid-dump; the next run cleans up") {
    TableLock lock(t.db);
    std::thread agent([&] {
      run_agent({"--config", t.config.string(), "backup"},
                {{"PGTEST_PASSWORD", PgCluster::kPassword}});
    });
    const fs::path partial = wait_for_partial(t.dir);
    REQUIRE(!partial.empty());
    for (const auto& e : fs::directory_iterator("/proc")) {
      const std::string cmd = read_text_file(e.path() / "cmdline");
      if (cmd.find("pgbackup-agent") != std::string::npos &&
          cmd.find(t.config.string()) != std::string::npos) {
        ::kill(std::stoi(e.path().filename().string()), SIGKILL);
      }
    }
    agent.join();
    lock.release();
    CHECK(fs::exists(partial));  // a .partial never looks like a backup
    CHECK(t.dumps().size() == 1);
    const AgentRun next = t.agent({"backup"});
    INFO(next.err);
    CHECK(next.exit_code == 0);
    CHECK_THAT(next.err, Catch::Contains("left by an interrupted backup"));
    CHECK(!fs::exists(partial));
    CHECK(t.dumps().size() == 2);
    return;
  }
  require_nothing_lost(t, good, sha);
  const auto state = nlohmann::json::parse(read_text_file(t.dir / ".pgbackup/state.json"));
  CHECK(state["backup"]["success"] == false);
  CHECK_THAT(read_text_file(t.dir / ".pgbackup/audit.jsonl"), Catch::Contains("\"failure\""));
  // Retention never runs after a failed attempt.
  CHECK(t.agent({"prune"}).exit_code == 1);
}

TEST_CASE("the backup directory is created 0700, or refused with the seed's hint", "[errors]") {
  TestTarget t("dirs", 20);
  SECTION("a missing directory whose parent allows it is created") {
    REQUIRE(!fs::exists(t.dir));
    CHECK(t.agent({"backup"}).exit_code == 0);
    CHECK((fs::status(t.dir).permissions() & fs::perms::all) == fs::perms::owner_all);
  }
  SECTION("a directory the agent's user cannot write is refused") {
    fs::create_directories(t.dir);
    fs::permissions(t.dir, fs::perms::owner_all);
    fs::permissions(t.root, fs::perms::all);
    fs::permissions(t.config,
                    fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    // As an unprivileged user (root writes anywhere).
    std::vector<std::string> args = {"--config", t.config.string(), "backup"};
    if (::geteuid() == 0) {
      args.insert(args.begin(), {"-u", "nobody", "--", PGBACKUP_AGENT_BINARY});
    }
    pgbackup::ProcessSpec spec;
    spec.argv = ::geteuid() == 0 ? std::vector<std::string>{"runuser"}
                                 : std::vector<std::string>{PGBACKUP_AGENT_BINARY};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.env = {{"PGTEST_PASSWORD", PgCluster::kPassword}};
    const auto r = pgbackup::run_process(spec);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("permission denied") && Catch::Contains("chown"));
  }
}

TEST_CASE("a second agent cannot write to a directory in use", "[errors]") {
  TestTarget t("lock", 20);
  REQUIRE(t.agent({"backup"}).exit_code == 0);
  TableLock lock(t.db);
  AgentRun first;
  std::thread agent([&] { first = t.agent({"backup"}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const AgentRun second = t.agent({"backup"});
  lock.release();
  agent.join();
  CHECK(second.exit_code == 1);
  CHECK_THAT(second.err, Catch::Contains("another pgbackup-agent is working in"));
  CHECK(first.exit_code == 0);
}

TEST_CASE("configuration mistakes exit 2 naming the key and line", "[errors]") {
  const fs::path dir = make_temp_dir("config");
  struct Case {
    std::string yaml;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"targets: [", "invalid YAML"},
      {"targets:\n  - name: a\n    database: {user: u, dbname: d, password: hunter2}\n"
       "    backup: {dir: /tmp/x}\n",
       ":3: targets[0].database.password: literal passwords are not allowed"},
      {"targets:\n  - name: a\n    database: {user: u, dbname: d}\n    backup: {dir: /tmp/x, "
       "schedule: \"61 * * * *\"}\n",
       ":4: targets[0].backup.schedule: invalid cron schedule"},
      {"targets:\n  - name: a\n    database: {user: u, dbname: d}\n    backup: {dir: /tmp/x, "
       "timeout: 2 hours}\n",
       ":4: targets[0].backup.timeout: invalid duration"},
      {"targets:\n  - name: a\n    database: {user: u, dbname: d}\n    backup: {dir: /tmp/x}\n"
       "    retention: {daily: 30d, wekly: 90d}\n",
       ":5: unknown key \"targets[0].retention.wekly\""},
      {"targets:\n  - name: A b\n    database: {user: u, dbname: d}\n    backup: {dir: /tmp/x}\n",
       ":2: targets[0].name \"A b\" may only contain"},
      {"targets:\n  - name: a\n    database: {user: u, dbname: d}\n    backup: {dir: /tmp/x, "
       "compression: 11}\n",
       "compression must be between 0 and 9"},
  };
  for (const Case& c : cases) {
    write_text(dir / "bad.yml", c.yaml);
    const AgentRun run = run_agent({"--config", (dir / "bad.yml").string(), "config-check"});
    INFO(c.yaml);
    CHECK(run.exit_code == 2);
    CHECK_THAT(run.err, Catch::Contains(c.expected));
    CHECK_THAT(run.err, !Catch::Contains("hunter2"));
  }
  const AgentRun unknown = run_agent({"frobnicate"});
  CHECK(unknown.exit_code == 2);
  const AgentRun missing = run_agent({"--config", (dir / "none.yml").string(), "list"});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains("cannot read config file"));
}

TEST_CASE("without a config file the seed's environment defines the target", "[errors]") {
  TestTarget t("envmode", 20);
  const std::vector<std::pair<std::string, std::string>> env = {
      {"POSTGRES_HOST", "127.0.0.1"},
      {"POSTGRES_PORT", std::to_string(PgCluster::shared().port())},
      {"POSTGRES_USER", "postgres"},
      {"POSTGRES_DB", t.db},
      {"BACKUP_DIR", t.dir.string()}};
  auto with_password = env;
  with_password.emplace_back("POSTGRES_PASSWORD", PgCluster::kPassword);
  const AgentRun ok = run_agent({"backup"}, with_password);
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(t.dumps().size() == 1);
  CHECK(t.dumps().front().filename().string().rfind("db_envmode_", 0) == 0);

  auto without = env;
  without.emplace_back("POSTGRES_PASSWORD", "");
  const AgentRun missing = run_agent({"backup"}, without);
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("POSTGRES_PASSWORD is not set"));
}

TEST_CASE("a backup is refused up front when the disk lacks room for 1.5x the previous one",
          "[errors]") {
  TestTarget t("preflight", 20);
  REQUIRE(t.agent({"backup"}).exit_code == 0);
  const fs::path previous = t.dumps().front();
  // Make the previous backup look larger than the free space: a sparse file costs no disk.
  struct statvfs st {};
  REQUIRE(::statvfs(t.dir.c_str(), &st) == 0);
  const std::uintmax_t avail = std::uintmax_t(st.f_bavail) * st.f_frsize;
  fs::resize_file(previous, avail);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const AgentRun run = t.agent({"backup"});
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.err, Catch::Contains("not enough free space in " + t.dir.string()) &&
                          Catch::Contains("hint:"));
  CHECK(t.dumps() == std::vector<fs::path>{previous});
  for (const auto& e : fs::directory_iterator(t.dir)) CHECK(e.path().extension() != ".partial");
}

TEST_CASE("the help lists every command with its whole usage", "[errors]") {
  const AgentRun help = run_agent({"--help"});
  CHECK(help.exit_code == 0);
  for (const std::string command : {"backup", "check", "config-check", "diff", "list", "prune",
                                    "restore", "restore-test", "run", "upload", "verify"}) {
    CHECK_THAT(help.out, Catch::Contains("\n  " + command + " "));
  }
  // Each form of restore on a line of its own, the last one to its end.
  CHECK_THAT(help.out, Catch::Contains("[--no-roles]\n"));
  CHECK_THAT(help.out,
             Catch::Contains("\n                pgbackrest targets: (--time TS | --lsn LSN | "
                             "--latest) [--pg-path DIR] [--yes] [--no-safety-backup]\n"));
  const AgentRun restore = run_agent({"restore", "--help"});
  CHECK(restore.exit_code == 0);
  CHECK_THAT(restore.out, Catch::Contains("\n  pgbackrest targets: (--time TS"));
}
