#pragma once

// Whether the configured identity can open every age-encrypted backup, decided without
// decrypting: each one's manifest records its recipients' fingerprints, the identity file's
// keys give theirs (crypto/identity_keys.h). A backup none of its keys opens -- encrypted to a
// key since rotated out of the identity file -- is reported on the status page long before a
// restore needs it (issue 24). Pure.

#include <cstddef>
#include <string>
#include <vector>

#include "agent/crypto/identity_keys.h"
#include "agent/engines/catalog_entry.h"

namespace pgbackup {

enum class KeyCoverageState {
  nothing_to_check,   // no good age-encrypted backup
  no_identity,        // some, but no identity_file here (an encrypt-only host)
  identity_unusable,  // the identity file cannot be read (missing, mode, not an identity)
  all_open,           // its keys open every one
  some_unopenable,    // some are encrypted to none of its keys
};
const char* key_coverage_state_name(KeyCoverageState s);  // "all_open", ...

struct KeyCoverage {
  KeyCoverageState state = KeyCoverageState::nothing_to_check;
  std::size_t encrypted = 0;            // good age-encrypted backups
  std::vector<std::string> unopenable;  // their names, oldest first, when none of the keys opens
  std::string error;                    // identity_unusable: why
};

// `backups` as a catalogue lists them (oldest first); backups that are not good, plaintext or
// encrypted by their engine's storage (no recipients in their record) are not counted. A record
// without fingerprints is matched by its recipients' fingerprints.
KeyCoverage assess_key_coverage(const std::vector<CatalogEntry>& backups,
                                const IdentityKeys& identity);

// Whether `name` is one of `c.unopenable`.
bool unopenable(const KeyCoverage& c, const std::string& name);

}  // namespace pgbackup
