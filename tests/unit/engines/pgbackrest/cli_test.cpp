// The pgBackRest CLI wrapper's argv, and its errors when pgBackRest cannot run (real child
// processes; runs against a real pgBackRest are in tests/integration/pgbackrest_test.cpp).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "agent/engines/pgbackrest/cli.h"

using namespace pgbackup::pgbackrest;
using pgbackup::BackupType;
using Argv = std::vector<std::string>;

TEST_CASE("the pgbackrest argv: the operator's prefix, config, stanza, repo where taken, verb") {
  PgBackRestSettings s;
  s.command = {"sudo", "-n", "-u", "postgres", "pgbackrest"};
  s.config = "/etc/pgbackrest/pgbackrest.conf";
  s.stanza = "pnode-pulse";
  s.repo = 2;
  const PgBackRestCli cli(s);
  const Argv head = {"sudo",
                     "-n",
                     "-u",
                     "postgres",
                     "pgbackrest",
                     "--config=/etc/pgbackrest/pgbackrest.conf",
                     "--stanza=pnode-pulse"};
  const auto with = [&](Argv tail) {
    Argv out = head;
    out.insert(out.end(), tail.begin(), tail.end());
    return out;
  };
  CHECK(cli.argv("backup", {"--type=incr"}) == with({"--repo=2", "backup", "--type=incr"}));
  CHECK(cli.argv("info", {"--output=json"}) == with({"--repo=2", "info", "--output=json"}));
  CHECK(cli.argv("repo-ls") == with({"--repo=2", "repo-ls"}));
  CHECK(cli.argv("verify") == with({"--repo=2", "verify"}));
  CHECK(cli.argv("expire") == with({"--repo=2", "expire"}));
  RestoreRequest restore;
  restore.pg_path = "/d";
  CHECK(cli.restore_argv(restore) ==
        with({"--repo=2", "restore", "--pg1-path=/d", "--type=default"}));
  // 2.45 refuses --repo for check ("option 'repo' not valid for command 'check'").
  CHECK(cli.argv("check") == with({"check"}));

  PgBackRestSettings plain;
  plain.stanza = "s";
  CHECK(PgBackRestCli(plain).argv("info") == Argv{"pgbackrest", "--stanza=s", "info"});
  plain.command.clear();
  CHECK(PgBackRestCli(plain).argv("check") == Argv{"pgbackrest", "--stanza=s", "check"});
}

TEST_CASE("a pgbackrest command that cannot run is an error naming pgbackrest and the verb") {
  PgBackRestSettings s;
  s.command = {"/nonexistent/pgbackrest"};
  s.stanza = "s";
  try {
    PgBackRestCli(s).check();
    FAIL("a program that does not exist ran");
  } catch (const PgBackRestError& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(message.rfind("pgbackrest check could not be started: ", 0) == 0);
    CHECK(message.find("hint: check `command`") != std::string::npos);
    CHECK(e.exit_code() == -1);
  }
  // A prefix that fails by itself (here `false` in place of sudo) is named by the verb too.
  s.command = {"false"};
  try {
    PgBackRestCli(s).backup(BackupType::full);
    FAIL("false succeeded");
  } catch (const PgBackRestError& e) {
    CHECK(std::string(e.what()) == "pgbackrest backup exited with status 1");
    CHECK(e.exit_code() == 1);
  }
}
