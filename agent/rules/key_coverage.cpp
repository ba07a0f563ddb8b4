#include "agent/rules/key_coverage.h"

#include <algorithm>

#include "agent/crypto/age.h"

namespace pgbackup {
namespace {

// The fingerprints of the keys `e` is encrypted to.
std::vector<std::string> recipient_fingerprints(const EncryptionInfo& e) {
  if (!e.fingerprints.empty()) return e.fingerprints;
  std::vector<std::string> out;
  for (const std::string& r : e.recipients) out.push_back(recipient_fingerprint(r));
  return out;
}

bool any_held(const std::vector<std::string>& fingerprints, const IdentityKeys& identity) {
  return std::any_of(fingerprints.begin(), fingerprints.end(), [&](const std::string& f) {
    return std::find(identity.fingerprints.begin(), identity.fingerprints.end(), f) !=
           identity.fingerprints.end();
  });
}

}  // namespace

const char* key_coverage_state_name(KeyCoverageState s) {
  switch (s) {
    case KeyCoverageState::nothing_to_check:
      return "nothing_to_check";
    case KeyCoverageState::no_identity:
      return "no_identity";
    case KeyCoverageState::identity_unusable:
      return "identity_unusable";
    case KeyCoverageState::all_open:
      return "all_open";
    case KeyCoverageState::some_unopenable:
      return "some_unopenable";
  }
  return "?";
}

KeyCoverage assess_key_coverage(const std::vector<CatalogEntry>& backups,
                                const IdentityKeys& identity) {
  KeyCoverage c;
  for (const CatalogEntry& b : backups) {
    if (!b.good() || !b.manifest->encryption) continue;
    ++c.encrypted;
    if (identity.configured && identity.error.empty() &&
        !any_held(recipient_fingerprints(*b.manifest->encryption), identity)) {
      c.unopenable.push_back(b.name());
    }
  }
  if (c.encrypted == 0) return c;
  if (!identity.configured) {
    c.state = KeyCoverageState::no_identity;
  } else if (!identity.error.empty()) {
    c.state = KeyCoverageState::identity_unusable;
    c.error = identity.error;
  } else {
    c.state = c.unopenable.empty() ? KeyCoverageState::all_open : KeyCoverageState::some_unopenable;
  }
  return c;
}

bool unopenable(const KeyCoverage& c, const std::string& name) {
  return std::find(c.unopenable.begin(), c.unopenable.end(), name) != c.unopenable.end();
}

}  // namespace pgbackup
