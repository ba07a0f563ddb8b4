#pragma once

#include <chrono>
#include <filesystem>

namespace pgbackup {

// An exclusive flock on <dir>/.pgbackup/lock for as long as it lives: one writer per directory.
class DirectoryLock {
 public:
  // Waits up to `wait` for another holder to let go (short waits ride out the off-site job's
  // brief manifest rewrites), then throws OperationError.
  explicit DirectoryLock(const std::filesystem::path& state_dir,
                         std::chrono::milliseconds wait = std::chrono::seconds(5));
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

// Whether any process holds the DirectoryLock of `state_dir` (read from /proc/locks, without
// taking the lock).
bool directory_lock_held(const std::filesystem::path& state_dir);

}  // namespace pgbackup
