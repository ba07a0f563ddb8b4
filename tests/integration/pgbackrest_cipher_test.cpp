// A pgBackRest target's encryption is pgBackRest's own (repo1-cipher-type, DESIGN §12): the agent
// reads the repository's cipher from `info` and reports it (pgbackup_backup_encrypted, `list`,
// the status page); an age `encryption:` section on such a target is a config error. Real
// pgBackRest 2.45: a stanza encrypted with aes-256-cbc beside the shared plaintext one.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/daemon.h"
#include "tests/support/pgbackrest_cluster.h"
#include "tests/support/process.h"

using namespace pgtest;

namespace {

// A target block backing up `c`'s stanza into `dir`.
std::string target_yaml(const std::string& name, PgBackRestCluster& c, const fs::path& dir) {
  std::string command;
  for (const std::string& a : PgBackRestCluster::command_prefix()) {
    command += (command.empty() ? "" : ", ") + a;
  }
  return "  - name: " + name + "\n    engine: pgbackrest\n    database: {host: 127.0.0.1, port: " +
         std::to_string(c.pg().port()) +
         ", user: postgres, dbname: postgres}\n    pgbackrest:\n      stanza: " + c.stanza() +
         "\n      config: " + c.config().string() + "\n      command: [" + command +
         "]\n    backup:\n      dir: " + dir.string() +
         "\n      schedule: {full: \"0 2 * * 0\"}\n    retention: {min_keep: 1}\n";
}

}  // namespace

TEST_CASE(
    "a pgbackrest target reports its repository's cipher: encrypted for aes-256-cbc, not for "
    "none",
    "[pgbackrest_cipher]") {
  PgBackRestClusterOptions options;
  options.cipher_pass = "pgbackup-test-cipher-passphrase";
  PgBackRestCluster secret(options);
  PgBackRestCluster& plain = PgBackRestCluster::shared();
  CHECK(secret.info().cipher == "aes-256-cbc");
  CHECK(plain.info().cipher == "none");

  const fs::path root = make_temp_dir("pgbr-cipher");
  const fs::path config = root / "agent.yml";
  write_text(config, "targets:\n" + target_yaml("secret", secret, root / "secret") +
                         target_yaml("plain", plain, root / "plain"));
  const auto agent = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", config.string()});
    return run_agent(args);
  };
  for (const char* target : {"secret", "plain"}) {
    const AgentRun r = agent({"backup", "--target", target});
    INFO(target << ": " << r.out << r.err);
    REQUIRE(r.exit_code == 0);
  }

  const AgentRun text = agent({"list", "--target", "secret"});
  CHECK_THAT(text.out, Catch::Contains("encrypted (aes-256-cbc)"));
  const auto listed = [&](const char* target) {
    const AgentRun r = agent({"list", "--target", target, "--output", "json"});
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
  };
  const nlohmann::json encrypted = listed("secret"), plaintext = listed("plain");
  REQUIRE(encrypted.size() == 1);
  CHECK(encrypted[0]["good"] == true);
  CHECK(encrypted[0]["encrypted"] == true);
  REQUIRE(!plaintext.empty());
  CHECK(plaintext.back()["encrypted"] == false);
  CHECK(agent({"verify", "--target", "secret", "--latest"}).exit_code == 0);

  const Daemon daemon(config, free_port());
  const std::string body =
      daemon.wait_for_metric(R"(pgbackup_backup_encrypted\{target="secret"\} 1\n)");
  CHECK_THAT(body, Catch::Contains(R"(pgbackup_backup_encrypted{target="plain"} 0)"));
  const std::string page = http_get(daemon.url("/")).body;
  CHECK_THAT(page, Catch::Contains("<td>aes-256-cbc</td>"));

  // age is for pg_dump targets: the section is refused with what to do instead.
  write_text(config, "targets:\n" + target_yaml("secret", secret, root / "secret") +
                         "    encryption: {recipients: "
                         "[age1j4kwl6elncs0q52p80z5cjp8nasnqtl4fluhgrr3a8046f57ueus57wdhg]}\n");
  const AgentRun refused = agent({"config-check"});
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Catch::Contains("targets[0].encryption is for pg_dump targets") &&
                              Catch::Contains("repo1-cipher-type=aes-256-cbc and "
                                              "repo1-cipher-pass in pgbackrest.conf"));
}
