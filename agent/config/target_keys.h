#pragma once

#include "agent/config/config.h"
#include "agent/config/key_table.h"

namespace pgbackup {

// Every key of one entry of `targets`, with its sections.
const KeyTable<TargetConfig>& target_keys();

// The keys of a target's offsite section (offsite_keys.cpp).
const KeyTable<std::optional<S3Config>>& offsite_keys();

// The keys of a target's encryption section, and its reader (encryption_keys.cpp).
const KeyTable<EncryptionConfig>& encryption_keys();
void parse_encryption(const Section& section, TargetConfig& target);

// Whether two database settings reach the same server (loopback names, an empty host and socket
// directories all count as this machine): a restore-test database must not be production.
bool same_server(const DatabaseConfig& a, const DatabaseConfig& b);

}  // namespace pgbackup
