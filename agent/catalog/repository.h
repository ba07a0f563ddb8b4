#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/catalog/manifest.h"
#include "agent/core/timeutil.h"

namespace pgbackup {

namespace fs = std::filesystem;

// One <prefix>_YYYYMMDD_HHMMSS.dump in a backup directory. Good only with a readable manifest.
struct BackupEntry {
  fs::path dump;
  SysTime started_at;
  std::uint64_t file_size = 0;
  std::optional<Manifest> manifest;
  std::string manifest_error;  // why the manifest is missing or unreadable

  bool good() const { return manifest.has_value(); }
  fs::path manifest_path() const { return fs::path(dump.string() + ".json"); }
};

// The newest good backup of `entries` (oldest first, as Repository::scan returns them), or
// nullptr.
const BackupEntry* newest_good(const std::vector<BackupEntry>& entries);
// The command line's "FILE or --latest" (`file` empty): the entry whose dump is `file` (any
// spelling of its path), or the newest good one. Throws OperationError saying what is there
// when there is no such backup.
const BackupEntry& select_backup(const std::vector<BackupEntry>& entries,
                                 const std::optional<fs::path>& file, const fs::path& dir);

struct FilesystemStats {
  std::uint64_t size_bytes = 0;
  std::uint64_t avail_bytes = 0;
};

// The backup directory of one target (DESIGN §4).
class Repository {
 public:
  Repository(fs::path dir, std::string prefix);

  const fs::path& dir() const { return dir_; }
  fs::path state_dir() const { return dir_ / ".pgbackup"; }
  fs::path dump_path(SysTime started) const;
  // The start time encoded in a dump's file name of this prefix, or nullopt for other names.
  std::optional<SysTime> parse_dump_name(const std::string& file_name) const;

  // Creates the directory 0700 when missing (and its parent allows), and checks it is writable.
  // Throws OperationError with the seed's hint otherwise.
  void prepare() const;
  // Every backup of this prefix, oldest first. Reads each manifest.
  std::vector<BackupEntry> scan() const;
  // Removes .partial files left by a killed run; returns what it removed.
  std::vector<fs::path> remove_partials() const;
  // True while some process (a daemon or a `backup` run by hand) is writing a dump here: a
  // .partial exists and the directory lock is held. A killed run's leftover does not count.
  bool backup_running() const;
  FilesystemStats filesystem() const;

 private:
  std::vector<fs::path> partials() const;
  // Makes an existing directory 0700 (with a warning), or warns when it cannot.
  void tighten_mode() const;

  fs::path dir_;
  std::string prefix_;
};

// An exclusive flock on <dir>/.pgbackup/lock for as long as it lives: one writer per directory.
class DirectoryLock {
 public:
  // Waits up to `wait` for another holder to let go (short waits ride out the off-site job's
  // brief manifest rewrites), then throws OperationError.
  explicit DirectoryLock(const fs::path& state_dir,
                         std::chrono::milliseconds wait = std::chrono::seconds(5));
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

// Whether any process holds the DirectoryLock of `state_dir` (read from /proc/locks, without
// taking the lock).
bool directory_lock_held(const fs::path& state_dir);

// Writes `content` to `path` atomically (temporary file, fsync, rename, fsync of the directory)
// with the given mode.
void write_file_atomic(const fs::path& path, const std::string& content, fs::perms mode);
// Reads a whole file; throws OperationError naming it.
std::string read_file(const fs::path& path);
// fsyncs a file or directory.
void fsync_path(const fs::path& path);
// Creates a directory (and missing parents) with mode 0700.
void create_private_dir(const fs::path& path);

// Appends one JSON line to a .jsonl file (created 0600) in a single write.
void append_json_line(const fs::path& path, const nlohmann::json& entry);
// Appends one JSON line to the audit log (created 0600), stamped with `at`, the user and the pid.
void append_audit(const fs::path& log, nlohmann::json entry, SysTime at);

// The outcome of the last attempt of one kind of job (backup, restore_test, offsite).
struct JobAttempt {
  SysTime started_at;
  SysTime finished_at;
  bool success = false;
  std::string error;
  std::string file;
};

// .pgbackup/state.json: the last attempt of each job, so the metrics survive restarts.
struct TargetState {
  std::optional<JobAttempt> backup;
  std::optional<JobAttempt> restore_test;
  std::optional<JobAttempt> offsite;
};
TargetState load_state(const fs::path& state_dir);
void save_state(const fs::path& state_dir, const TargetState& state);
// Records one attempt of `job` ("backup", "restore_test", "offsite") in state.json.
void record_attempt(const fs::path& state_dir, const std::string& job, const JobAttempt& attempt);

}  // namespace pgbackup
