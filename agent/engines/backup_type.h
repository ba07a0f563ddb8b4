#pragma once

#include <optional>
#include <string_view>

namespace pgbackup {

// The kinds of backup an engine takes, in pgBackRest's words: a full copy, a differential
// against the newest full, an incremental against the newest backup of any type. pg_dump takes
// only full (logical) backups.
enum class BackupType { full, diff, incr };

// "full", "diff" or "incr", as pgBackRest spells them (`--type=`, `info`'s "type") and the
// agent prints and labels them.
const char* backup_type_name(BackupType type);

// The type named by that spelling, or nothing.
std::optional<BackupType> parse_backup_type(std::string_view text);

}  // namespace pgbackup
