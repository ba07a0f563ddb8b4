#include "agent/engines/backup_type.h"

namespace pgbackup {

const char* backup_type_name(BackupType type) {
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

std::optional<BackupType> parse_backup_type(std::string_view text) {
  if (text == "full") return BackupType::full;
  if (text == "diff") return BackupType::diff;
  if (text == "incr") return BackupType::incr;
  return std::nullopt;
}

}  // namespace pgbackup
