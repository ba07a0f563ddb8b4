#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/catalog/manifest.h"
#include "agent/catalog/manifest_cache.h"
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
  fs::path manifest_path() const { return fs::path(dump.string() + kManifestSuffix); }
  // The companion file (catalog/globals_file.h), when the manifest lists one.
  fs::path globals_path() const { return fs::path(dump.string() + kGlobalsSuffix); }
};

// The newest good backup of `entries` (oldest first, as Repository::scan returns them), or
// nullptr.
const BackupEntry* newest_good(const std::vector<BackupEntry>& entries);
// The entry whose dump is `file`: where the entry itself is (a symbolic link in the directory
// names that entry, never the file it points to), or else where `file` leads (a link elsewhere
// to a backup here). nullptr when there is none.
const BackupEntry* find_backup(const std::vector<BackupEntry>& entries, const fs::path& file);
// The command line's "FILE or --latest" (`file` empty): the entry whose dump is `file` (any
// spelling of its path), or the newest good one. Throws OperationError saying what is there
// when there is no such backup.
const BackupEntry& select_backup(const std::vector<BackupEntry>& entries,
                                 const std::optional<fs::path>& file, const fs::path& dir);

struct FilesystemStats {
  std::uint64_t size_bytes = 0;
  std::uint64_t avail_bytes = 0;
};

// The backup directory of one target (DESIGN §4): its dumps and their manifests, the catalogue
// every job reads.
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
  // Every backup of this prefix, oldest first. Reads each manifest; through `cache` when given
  // (the daemon's refresh: unchanged manifests are not parsed again, and come without their
  // schema fingerprint's contents, see ManifestCache).
  std::vector<BackupEntry> scan(ManifestCache* cache = nullptr) const;
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

}  // namespace pgbackup
