#include "agent/catalog/backup_dir.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "agent/core/errors.h"
#include "agent/core/file_io.h"

namespace pgbackup {
namespace {

namespace fs = std::filesystem;

// Makes an existing directory 0700 (with a warning), or warns when it cannot.
void tighten_mode(const fs::path& dir) {
  // Backups hold every row of the database: an existing directory that others can read or enter
  // (e.g. made by hand with the default umask) is closed to them, as a new one would be.
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || (st.st_mode & 077) == 0) return;
  if (::chmod(dir.c_str(), 0700) == 0) {
    spdlog::warn("the backup directory {} was mode {:o}; changed it to 700", dir.string(),
                 st.st_mode & 0777);
  } else {
    spdlog::warn(
        "the backup directory {} is mode {:o} and cannot be changed ({}); hint: chmod 700 {}",
        dir.string(), st.st_mode & 0777, errno_text(), dir.string());
  }
}

}  // namespace

FilesystemStats filesystem_of(const fs::path& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return {};
  return {static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize,
          static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize};
}

void prepare_backup_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    try {
      create_private_dir(dir);
    } catch (const OperationError&) {
      throw OperationError("cannot create the backup directory " + dir.string() + ": " +
                           errno_text() + " (hint: sudo mkdir -p " + dir.string() +
                           " && sudo chown $(id -un): " + dir.string() + " && chmod 700 " +
                           dir.string() + ")");
    }
  }
  if (!fs::is_directory(dir, ec)) {
    throw OperationError("the backup directory " + dir.string() +
                         " is not a directory (hint: fix backup.dir)");
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    throw OperationError("permission denied: cannot write to the backup directory " + dir.string() +
                         " (hint: sudo chown $(id -un): " + dir.string() + " && chmod 700 " +
                         dir.string() + ")");
  }
  tighten_mode(dir);
  create_private_dir(dir / ".pgbackup");
}

}  // namespace pgbackup
