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

// The keys of DESIGN §11 (engine_keys.cpp): `engine`, `pgbackrest`, `rpo_target`, `verify`, and
// `backup.schedule`, a cron string or a mapping {full, diff, incr}.
ConfigKey<TargetConfig> engine_key();
ConfigKey<TargetConfig> pgbackrest_key();
ConfigKey<TargetConfig> rpo_target_key();
ConfigKey<TargetConfig> verify_key();
ConfigKey<BackupConfig> backup_schedule_key();
// After a target's keys are read: the engine and its section go together, and a schedule per
// type needs `engine: pgbackrest`. Throws ConfigError naming the key and its line.
void check_engine_keys(const Section& target, const TargetConfig& t);

}  // namespace pgbackup
