#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/catalog/manifest.h"
#include "agent/catalog/manifest_cache.h"
#include "agent/core/timeutil.h"
#include "agent/engines/catalog_entry.h"

namespace pgbackup {

namespace fs = std::filesystem;

// A pg_dump backup is <prefix>_YYYYMMDD_HHMMSS.dump (.dump.age when encrypted with age, DESIGN
// §12) in the backup directory, good only with a
// readable manifest beside it (<dump>.json) and, when the manifest lists one, its companion
// file (<dump>.globals, catalog/globals_file.h).
fs::path manifest_path(const CatalogEntry& backup);
fs::path globals_path(const CatalogEntry& backup);

// The entry whose dump is `file`: where the entry itself is (a symbolic link in the directory
// names that entry, never the file it points to), or else where `file` leads (a link elsewhere
// to a backup here). nullptr when there is none.
const CatalogEntry* find_backup(const std::vector<CatalogEntry>& entries, const fs::path& file);
// The command line's "FILE or --latest" (`file` empty): the entry whose dump is `file` (any
// spelling of its path), or the newest good one. Throws OperationError saying what is there
// when there is no such backup.
const CatalogEntry& select_backup(const std::vector<CatalogEntry>& entries,
                                  const std::optional<fs::path>& file, const fs::path& dir);

// The dumps of one target in its backup directory (DESIGN §4) and their manifests: the pg_dump
// engine's catalogue.
class DumpCatalog {
 public:
  DumpCatalog(fs::path dir, std::string prefix);

  const fs::path& dir() const { return dir_; }
  fs::path dump_path(SysTime started, bool encrypted = false) const;
  // The start time encoded in a dump's file name of this prefix, or nullopt for other names.
  std::optional<SysTime> parse_dump_name(const std::string& file_name) const;

  // Every backup of this prefix, oldest first. Reads each manifest; through `cache` when given
  // (the daemon's refresh: unchanged manifests are not parsed again, and come without their
  // schema fingerprint's contents, see ManifestCache).
  std::vector<CatalogEntry> scan(ManifestCache* cache = nullptr) const;
  // Removes .partial files left by a killed run; returns what it removed.
  std::vector<fs::path> remove_partials() const;
  // True while some process (a daemon or a `backup` run by hand) is writing a dump here: a
  // .partial exists and the directory lock is held. A killed run's leftover does not count.
  bool backup_running() const;

 private:
  std::vector<fs::path> partials() const;

  fs::path dir_;
  std::string prefix_;
};

}  // namespace pgbackup
