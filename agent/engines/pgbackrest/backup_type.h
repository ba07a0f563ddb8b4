#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgbackup::pgbackrest {

// pgBackRest's three backup types: a full copy, a differential against the newest full, an
// incremental against the newest backup of any type.
enum class BackupType { full, diff, incr };

// "full", "diff" or "incr", as pgBackRest spells them (`--type=`, `info`'s "type").
inline std::string to_string(BackupType type) {
  switch (type) {
    case BackupType::full:
      return "full";
    case BackupType::diff:
      return "diff";
    case BackupType::incr:
      return "incr";
  }
  return "full";
}

// The type named by pgBackRest's spelling, or nothing.
inline std::optional<BackupType> parse_backup_type(std::string_view text) {
  if (text == "full") return BackupType::full;
  if (text == "diff") return BackupType::diff;
  if (text == "incr") return BackupType::incr;
  return std::nullopt;
}

}  // namespace pgbackup::pgbackrest
