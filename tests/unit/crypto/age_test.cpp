// The pure parts of agent/crypto/age: key syntax, recipients and identity files, argv.
#include "agent/crypto/age.h"

#include <catch2/catch.hpp>

#include <string>

using namespace pgbackup;

namespace {

// Made by `age-keygen` for these tests only; nothing is encrypted to them.
const std::string kRecipientA = "age1j4kwl6elncs0q52p80z5cjp8nasnqtl4fluhgrr3a8046f57ueus57wdhg";
const std::string kRecipientB = "age1z5u65g46aw9kw2r87jtkxl4v3g2288zj3s2zksper9mq9k7dw96shdqn6q";
const std::string kIdentityA =
    "AGE-SECRET-KEY-1X3WQKXRJ6NPDK4KXV5F94U00K93LP0WE9YVC7AGDYQAHZYN4V80S66A9RY";

// `s` with the character at `i` replaced by another of the bech32 alphabet.
std::string with_char(std::string s, std::size_t i, char c) {
  s[i] = c;
  return s;
}

}  // namespace

TEST_CASE("age recipients are checked by prefix, length, alphabet and bech32 checksum") {
  struct Row {
    std::string text;
    std::string problem;  // a part of the expected reason; empty: valid
  };
  const std::string flipped = with_char(kRecipientA, 10, kRecipientA[10] == 'q' ? 'p' : 'q');
  const Row rows[] = {
      {kRecipientA, ""},
      {kRecipientB, ""},
      {flipped, "bad checksum"},
      {kRecipientA.substr(0, kRecipientA.size() - 1), "57 characters after age1, not 58"},
      {kRecipientA + "q", "59 characters"},
      {with_char(kRecipientA, 20, 'b'), "character bech32 lacks: 'b'"},
      {"age2" + kRecipientA.substr(4), "does not start with age1"},
      {"", "does not start with age1"},
      {"AGE1J4KWL6ELNCS0Q52P80Z5CJP8NASNQTL4FLUHGRR3A8046F57UEUS57WDHG", "is in uppercase"},
      {"age1J4KWL6ELNCS0Q52P80Z5CJP8NASNQTL4FLUHGRR3A8046F57UEUS57WDHG", "lacks: 'J'"},
      {kIdentityA, "is a secret key, not a recipient"},
      {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", "does not start with age1"},
  };
  for (const Row& row : rows) {
    INFO(row.text);
    const std::string problem = recipient_problem(row.text);
    if (row.problem.empty()) {
      CHECK(problem.empty());
    } else {
      CHECK_THAT(problem, Catch::Matchers::Contains(row.problem));
    }
  }
}

TEST_CASE("a recipients file skips comments and blank lines and keeps line numbers") {
  const std::string text = "# team keys\n\n  " + kRecipientA + "  \n# old\n" + kRecipientB + "\n";
  const auto lines = parse_recipients_file(text, "keys.txt");
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].recipient == kRecipientA);
  CHECK(lines[0].line == 3);
  CHECK(lines[1].recipient == kRecipientB);
  CHECK(lines[1].line == 5);
  CHECK(parse_recipients_file("# nothing yet\n", "keys.txt").empty());
}

TEST_CASE("a bad line of a recipients file is named, and a pasted secret key is not echoed") {
  const std::string bad = with_char(kRecipientB, 30, kRecipientB[30] == 'q' ? 'p' : 'q');
  CHECK_THROWS_WITH(parse_recipients_file(kRecipientA + "\n" + bad + "\n", "keys.txt"),
                    "keys.txt line 2: \"" + bad +
                        "\" is not an age recipient: it has a bad checksum (mistyped or cut?)");
  try {
    parse_recipients_file("\n" + kIdentityA + "\n", "keys.txt");
    FAIL("a secret key was taken for a recipient");
  } catch (const AgeKeyError& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Matchers::StartsWith("keys.txt line 2: the line is not"));
    CHECK_THAT(message, Catch::Matchers::Contains("secret key"));
    CHECK(message.find(kIdentityA.substr(16)) == std::string::npos);
  }
}

TEST_CASE("identity files: keys are counted and checked, and a bad line is never shown") {
  const std::string file =
      "# created: 2026-12-06T21:50:41Z\n# public key: " + kRecipientA + "\n" + kIdentityA + "\n";
  CHECK(count_identities(file, "id.txt") == 1);
  CHECK(count_identities(file + "\n" + file, "id.txt") == 2);
  CHECK_THROWS_WITH(count_identities("# empty\n", "id.txt"),
                    "id.txt holds no AGE-SECRET-KEY-1... identity");

  const std::string flipped = with_char(kIdentityA, 30, kIdentityA[30] == 'Q' ? 'P' : 'Q');
  struct Row {
    std::string text;
    std::string problem;
  };
  const Row rows[] = {
      {flipped, "line 1 is not an age identity: it has a bad checksum"},
      {kIdentityA.substr(0, 70), "line 1 is not an age identity: it has 54 characters"},
      {kRecipientA, "line 1 is not an age identity: it is not an AGE-SECRET-KEY-1... line"},
      {"ssh-ed25519 KEY", "is not an AGE-SECRET-KEY-1... line"},
      {"AGE-PLUGIN-YUBIKEY-1QQQ", "does not start with age-secret-key-1"},
  };
  for (const Row& row : rows) {
    INFO(row.text);
    try {
      count_identities(row.text + "\n", "id.txt");
      FAIL("accepted");
    } catch (const AgeKeyError& e) {
      const std::string message = e.what();
      CHECK_THAT(message, Catch::Matchers::Contains(row.problem));
      CHECK(message.find(row.text) == std::string::npos);
    }
  }
}

TEST_CASE("age argv: one -r per recipient and -o for encryption, -d -i for decryption") {
  CHECK(age_encrypt_argv({kRecipientA, kRecipientB}, "/b/x.dump.age.partial") ==
        std::vector<std::string>{"age", "-r", kRecipientA, "-r", kRecipientB, "-o",
                                 "/b/x.dump.age.partial"});
  CHECK(age_decrypt_argv("/etc/pgbackup/id.txt") ==
        std::vector<std::string>{"age", "-d", "-i", "/etc/pgbackup/id.txt"});
  CHECK(age_decrypt_argv("/etc/pgbackup/id.txt", "/b/x.dump.age") ==
        std::vector<std::string>{"age", "-d", "-i", "/etc/pgbackup/id.txt", "/b/x.dump.age"});
}

TEST_CASE("a recipient's fingerprint is the start of the SHA-256 of its string") {
  // `printf %s age1j4kw... | sha256sum | cut -c1-16`
  CHECK(recipient_fingerprint(kRecipientA) == "630e015829cbd469");
  CHECK(recipient_fingerprint(kRecipientA) != recipient_fingerprint(kRecipientB));
}
