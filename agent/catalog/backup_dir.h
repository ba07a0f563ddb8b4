#pragma once

#include <cstdint>
#include <filesystem>

namespace pgbackup {

struct FilesystemStats {
  std::uint64_t size_bytes = 0;
  std::uint64_t avail_bytes = 0;
};

// The filesystem holding `path` (zeros when it cannot be read).
FilesystemStats filesystem_of(const std::filesystem::path& path);

// Creates a target's backup directory `dir` (backup.dir: its backups for pg_dump, the agent's
// own state for every engine) 0700 when missing (and its parent allows), checks it is writable,
// closes it to others, and creates its state directory <dir>/.pgbackup. Throws OperationError
// with the seed's hint otherwise.
void prepare_backup_dir(const std::filesystem::path& dir);

}  // namespace pgbackup
