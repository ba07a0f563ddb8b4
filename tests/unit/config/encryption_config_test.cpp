// The `encryption` section of a target: recipients checked at load, the identity file only
// named (it is checked where something is decrypted), config-check showing public keys only.
#include <catch2/catch.hpp>

#include <string>

#include "agent/config/config.h"
#include "agent/core/file_io.h"
#include "tests/support/temp_dir.h"

using namespace pgbackup;
namespace fs = std::filesystem;

namespace {

const std::string kRecipientA = "age1j4kwl6elncs0q52p80z5cjp8nasnqtl4fluhgrr3a8046f57ueus57wdhg";
const std::string kRecipientB = "age1z5u65g46aw9kw2r87jtkxl4v3g2288zj3s2zksper9mq9k7dw96shdqn6q";

// A one-target config whose target ends with `encryption` (YAML lines indented 4).
std::string config_with(const std::string& encryption) {
  return "targets:\n"
         "  - name: app\n"
         "    database: {user: app, dbname: app}\n"
         "    backup: {dir: /backups/app}\n" +
         encryption;
}

// An encryption section with every key: kRecipientA listed, then a recipients file.
std::string full_section(const fs::path& recipients_file, const std::string& identity_file) {
  return "    encryption:\n      recipients: [" + kRecipientA +
         "]\n      recipients_file: " + recipients_file.string() +
         "\n      identity_file: " + identity_file + "\n";
}

}  // namespace

TEST_CASE("encryption: listed recipients and a recipients file are read in order") {
  testing::TempDir dir;
  const fs::path file = dir.path() / "recipients.txt";
  write_file_atomic(file, "# backup keys\n\n" + kRecipientB + "\n", fs::perms::owner_read);
  const Config c = parse_config(config_with(full_section(file, "/etc/pgbackup/age.key")), "t.yml");
  const TargetConfig& t = c.targets.front();
  REQUIRE(t.encryption);
  CHECK(t.encryption->all_recipients() == std::vector<std::string>{kRecipientA, kRecipientB});
  CHECK(t.encryption->identity_file == "/etc/pgbackup/age.key");
  CHECK_FALSE(parse_config(config_with(""), "t.yml").targets.front().encryption);
}

TEST_CASE("encryption: a malformed recipient is a config error naming the key and line") {
  const std::string cut = kRecipientB.substr(0, kRecipientB.size() - 1);
  CHECK_THROWS_WITH(parse_config(config_with("    encryption:\n"
                                             "      recipients:\n"
                                             "        - " +
                                             kRecipientA +
                                             "\n"
                                             "        - " +
                                             cut + "\n"),
                                 "t.yml"),
                    "t.yml:8: targets[0].encryption.recipients[1] \"" + cut +
                        "\" is not an age recipient: it has 57 characters after age1, not 58");

  testing::TempDir dir;
  const fs::path file = dir.path() / "recipients.txt";
  write_file_atomic(file, kRecipientA + "\n# next\nage1typo\n", fs::perms::owner_read);
  CHECK_THROWS_WITH(
      parse_config(config_with("    encryption: {recipients_file: " + file.string() + "}\n"),
                   "t.yml"),
      "t.yml:5: targets[0].encryption.recipients_file: " + file.string() +
          " line 3: \"age1typo\" is not an age recipient: it has 4 characters "
          "after age1, not 58");
  CHECK_THROWS_WITH(parse_config(config_with("    encryption: {recipients_file: " +
                                             (dir.path() / "none").string() + "}\n"),
                                 "t.yml"),
                    Catch::StartsWith("t.yml:5: targets[0].encryption.recipients_file: "));
}

TEST_CASE("encryption without any recipient, or with an unknown key, is refused") {
  CHECK_THROWS_WITH(
      parse_config(config_with("    encryption: {identity_file: /k}\n"), "t.yml"),
      Catch::StartsWith("t.yml:5: targets[0].encryption has no recipients: list age public keys"));
  CHECK_THROWS_WITH(parse_config(config_with("    encryption: {recipients: [" + kRecipientA +
                                             "], passphrase: x}\n"),
                                 "t.yml"),
                    Catch::Contains("passphrase"));
}

TEST_CASE("config-check shows the recipients and the identity file's path, never a key") {
  testing::TempDir dir;
  const fs::path file = dir.path() / "recipients.txt";
  write_file_atomic(file, kRecipientB + "\n", fs::perms::owner_read);
  const fs::path identity = dir.path() / "age.key";
  write_file_atomic(identity, "AGE-SECRET-KEY-1NOTREAD\n", fs::perms::owner_read);
  const std::string shown =
      render_config(parse_config(config_with(full_section(file, identity.string())), "t.yml"));
  CHECK_THAT(shown, Catch::Contains("    encryption:\n      recipients: [" + kRecipientA +
                                    "]\n      recipients_file: " + file.string() + "  # " +
                                    kRecipientB + "\n      identity_file: " + identity.string()));
  CHECK_THAT(shown, !Catch::Contains("SECRET"));
}
