#include "agent/engines/pgbackrest/backup_output.h"

namespace pgbackup::pgbackrest {

std::optional<std::string> new_backup_label(std::string_view console) {
  constexpr std::string_view kMarker = "INFO: new backup label = ";
  const std::size_t at = console.rfind(kMarker);
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view rest = console.substr(at + kMarker.size());
  const std::size_t end = rest.find_first_of(" \t\r\n");
  const std::string_view label = rest.substr(0, end);
  // Labels are YYYYMMDD-HHMMSSF[_YYYYMMDD-HHMMSS(D|I)]: digits, '-', '_', 'F', 'D', 'I'.
  if (label.size() < 16 || label.find_first_not_of("0123456789-_FDI") != std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(label);
}

bool backup_lock_was_held(int exit_code, std::string_view stderr_text) {
  return exit_code == kLockAcquireError &&
         stderr_text.find("unable to acquire lock on file") != std::string_view::npos;
}

}  // namespace pgbackup::pgbackrest
