// Which age-encrypted backups the configured identity opens, from fingerprints alone.
#include <catch2/catch.hpp>

#include "agent/crypto/age.h"
#include "agent/rules/key_coverage.h"

using namespace pgbackup;

namespace {

// Public keys made by age-keygen for these tests only (nothing is encrypted to them).
const std::string kOld = "age1j4kwl6elncs0q52p80z5cjp8nasnqtl4fluhgrr3a8046f57ueus57wdhg";
const std::string kNew = "age1z5u65g46aw9kw2r87jtkxl4v3g2288zj3s2zksper9mq9k7dw96shdqn6q";

// A backup named `name`: good and encrypted to `recipients` (plaintext when empty), or not good.
CatalogEntry backup(const std::string& name, const std::vector<std::string>& recipients,
                    bool good = true, bool fingerprints = true) {
  CatalogEntry b;
  b.dump = "/b/" + name;
  if (!good) {
    b.manifest_error = "no manifest";
    return b;
  }
  b.manifest.emplace();
  if (!recipients.empty()) {
    EncryptionInfo e;
    e.recipients = recipients;
    if (fingerprints) {
      for (const std::string& r : recipients) e.fingerprints.push_back(recipient_fingerprint(r));
    }
    b.manifest->encryption = e;
  }
  return b;
}

IdentityKeys identity(const std::vector<std::string>& public_keys, const std::string& error = "") {
  IdentityKeys k;
  k.configured = true;
  for (const std::string& p : public_keys) k.fingerprints.push_back(recipient_fingerprint(p));
  k.error = error;
  return k;
}

}  // namespace

TEST_CASE("key coverage: backups no key of the identity file opens are named, oldest first") {
  const std::vector<CatalogEntry> rotated = {backup("a.dump.age", {kOld}),
                                             backup("b.dump.age", {kOld, kNew}),
                                             backup("c.dump.age", {kNew}), backup("d.dump", {})};
  struct Case {
    const char* what;
    std::vector<CatalogEntry> backups;
    IdentityKeys identity;
    KeyCoverageState state;
    std::size_t encrypted;
    std::vector<std::string> unopenable;
  };
  const Case cases[] = {
      {"plaintext backups only",
       {backup("p.dump", {})},
       identity({kNew}),
       KeyCoverageState::nothing_to_check,
       0,
       {}},
      {"a storage-encrypted backup (a pgBackRest cipher) has no recipients to compare",
       {[] {
         CatalogEntry b = backup("F1", {});
         b.cipher = "aes-256-cbc";
         return b;
       }()},
       identity({kNew}),
       KeyCoverageState::nothing_to_check,
       0,
       {}},
      {"no identity_file: not checked",
       rotated,
       IdentityKeys{},
       KeyCoverageState::no_identity,
       3,
       {}},
      {"an unreadable identity file",
       rotated,
       identity({}, "identity file /k has mode 0644"),
       KeyCoverageState::identity_unusable,
       3,
       {}},
      {"both keys open everything",
       rotated,
       identity({kOld, kNew}),
       KeyCoverageState::all_open,
       3,
       {}},
      {"the old key dropped from the identity file",
       rotated,
       identity({kNew}),
       KeyCoverageState::some_unopenable,
       3,
       {"a.dump.age"}},
      {"only the old key",
       rotated,
       identity({kOld}),
       KeyCoverageState::some_unopenable,
       3,
       {"c.dump.age"}},
      {"a stranger's key",
       rotated,
       identity({"age1stranger"}),
       KeyCoverageState::some_unopenable,
       3,
       {"a.dump.age", "b.dump.age", "c.dump.age"}},
      {"a backup that is not good is not counted",
       {backup("x.dump.age", {kOld}, false), backup("c.dump.age", {kNew})},
       identity({kNew}),
       KeyCoverageState::all_open,
       1,
       {}},
      {"a record without fingerprints is matched by its recipients",
       {backup("a.dump.age", {kOld}, true, false)},
       identity({kNew}),
       KeyCoverageState::some_unopenable,
       1,
       {"a.dump.age"}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const KeyCoverage k = assess_key_coverage(c.backups, c.identity);
    CHECK(key_coverage_state_name(k.state) == std::string(key_coverage_state_name(c.state)));
    CHECK(k.encrypted == c.encrypted);
    CHECK(k.unopenable == c.unopenable);
    CHECK(k.error == c.identity.error);
    for (const std::string& name : c.unopenable) CHECK(unopenable(k, name));
  }
}
