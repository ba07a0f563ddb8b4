#pragma once

// What `pgbackrest backup` says about itself: the label of the backup it took (printed at log
// level info, which is how the CLI wrapper runs it) and whether it failed because another
// pgBackRest process holds the stanza's backup lock. Pure.

#include <optional>
#include <string>
#include <string_view>

namespace pgbackup::pgbackrest {

// pgBackRest's exit status for LockAcquireError.
inline constexpr int kLockAcquireError = 50;

// The label of "INFO: new backup label = 20261207-122450F_20261207-122525I" in `console`, the
// output of `backup --log-level-console=info`; nothing when no such line is there (the backup
// failed, or the operator's command prefix swallowed the output).
std::optional<std::string> new_backup_label(std::string_view console);

// Whether a backup that ended with `exit_code` and `stderr_text` found the stanza's backup lock
// held by another process (2.45: "ERROR: [050]: unable to acquire lock on file
// '.../STANZA-backup.lock': Resource temporarily unavailable"), i.e. it did not start at all.
bool backup_lock_was_held(int exit_code, std::string_view stderr_text);

}  // namespace pgbackup::pgbackrest
