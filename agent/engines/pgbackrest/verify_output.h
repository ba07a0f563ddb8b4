#pragma once

// Judges what `pgbackrest verify` printed. pgBackRest 2.45 exits 0 even when it finds invalid
// files (it prints "status: error" and per-file lines instead), and prints its result only at
// log level info with --verbose, which is how the CLI wrapper runs it. Pure.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace pgbackup::pgbackrest {

struct VerifyVerdict {
  bool ok = false;
  // Files pgBackRest found missing, with a wrong checksum or size, or otherwise unreadable,
  // summed over the archive and every backup ("checksum invalid: 1", ...).
  int invalid_files = 0;
  // The same counts by where pgBackRest found them: each backup's own section ("backup: LABEL",
  // which counts the files it references in its prior backups too) and the WAL archive's
  // ("archiveId: 15-1"). They add up to invalid_files.
  std::map<std::string, int> invalid_files_by_backup;
  int invalid_archive_files = 0;
  // Backups whose status is not "valid" ("20261206-203315F: invalid").
  std::vector<std::string> invalid_backups;
  // Why it is not ok, one line each, in pgBackRest's words ("invalid checksum
  // '20261206-203315F/pg_data/base/5/1247.zst'", "ERROR: [029]: No usable backup.info file").
  std::vector<std::string> reasons;
  // Warnings that do not make it fail ("archive.info.copy does not match archive.info").
  std::vector<std::string> warnings;
};

// The verdict on `output` (stdout and stderr of `verify --verbose --log-level-console=info`)
// and its exit status. Not ok when: the exit status is not 0, any "status:" of the stanza is
// "error", any file count is above 0, a backup is not valid, an ERROR line was printed, or no
// result was printed at all (nothing verified is not a proof).
VerifyVerdict judge_verify_output(std::string_view output, int exit_code);

// The part of `whole` (a verify of every backup of the stanza: 2.45 has no --set for verify)
// that concerns backup `label`: its own invalid files and the archive's, the reasons that name
// it or no backup at all (an ERROR, the exit status, the archive), ok when none is left. What
// pgBackRest found in other backups becomes warnings ("backup B: invalid, 1 invalid file").
VerifyVerdict verdict_for_backup(const VerifyVerdict& whole, const std::string& label);

}  // namespace pgbackup::pgbackrest
