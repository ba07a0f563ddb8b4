#include "agent/engines/pg_dump/dump_catalog.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "agent/catalog/directory_lock.h"
#include "agent/core/errors.h"
#include "agent/storage/posix_storage.h"

namespace pgbackup {
namespace {

constexpr const char* kDumpSuffix = ".dump";
constexpr const char* kAgeSuffix = ".dump.age";  // encrypted (DESIGN §12)
// Files being written: a dump (.dump.partial, .dump.age.partial) or its decrypted copy for a
// restore (.dump.age.decrypted.partial, see dump_crypto.h).
constexpr const char* kPartialSuffix = ".partial";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Whether a directory entry exists, without following a symbolic link.
bool present(const fs::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

fs::path manifest_path(const CatalogEntry& backup) {
  return fs::path(backup.dump.string() + kManifestSuffix);
}

fs::path globals_path(const CatalogEntry& backup) {
  return fs::path(backup.dump.string() + kGlobalsSuffix);
}

const CatalogEntry* find_backup(const std::vector<CatalogEntry>& entries, const fs::path& file) {
  // The location of an entry: its directory resolved, its own name kept.
  const auto location = [](const fs::path& p) {
    return fs::weakly_canonical(fs::absolute(p).parent_path()) / p.filename();
  };
  const fs::path named = location(file);
  for (const CatalogEntry& b : entries) {
    if (location(b.dump) == named) return &b;
  }
  const fs::path target = fs::weakly_canonical(file);
  for (const CatalogEntry& b : entries) {
    if (location(b.dump) == target) return &b;
  }
  return nullptr;
}

const CatalogEntry& select_backup(const std::vector<CatalogEntry>& entries,
                                  const std::optional<fs::path>& file, const fs::path& dir) {
  if (!file) {
    const CatalogEntry* newest = newest_good(entries);
    if (!newest) {
      throw OperationError("there is no good backup in " + dir.string() +
                           " (hint: take one with pgbackup-agent backup)");
    }
    return *newest;
  }
  if (const CatalogEntry* found = find_backup(entries, *file)) return *found;
  throw OperationError(file->string() + " is not a backup in " + dir.string() +
                       " (hint: pgbackup-agent list shows the backups)");
}

DumpCatalog::DumpCatalog(fs::path dir, std::string prefix)
    : dir_(std::move(dir)), prefix_(std::move(prefix)) {}

fs::path DumpCatalog::dump_path(SysTime started, bool encrypted) const {
  return dir_ /
         (prefix_ + "_" + format_file_stamp(started) + (encrypted ? kAgeSuffix : kDumpSuffix));
}

std::optional<SysTime> DumpCatalog::parse_dump_name(const std::string& name) const {
  const std::string head = prefix_ + "_";
  if (name.rfind(head, 0) != 0) return std::nullopt;
  for (const char* suffix : {kDumpSuffix, kAgeSuffix}) {
    if (ends_with(name, suffix)) {
      return parse_file_stamp(
          name.substr(head.size(), name.size() - head.size() - std::strlen(suffix)));
    }
  }
  return std::nullopt;
}

std::vector<CatalogEntry> DumpCatalog::scan(ManifestCache* cache) const {
  // Through PosixStorage: symbolic links, other users' files and non-files are listed (so that
  // `list` and the status page show them) but never read as backups.
  PosixStorage storage(dir_);
  const std::vector<LocalFile> files = storage.entries();
  std::map<std::string, const LocalFile*> by_name;
  for (const LocalFile& f : files) by_name[f.name] = &f;
  std::vector<CatalogEntry> out;
  for (const LocalFile& f : files) {
    const auto started = parse_dump_name(f.name);
    if (!started) continue;
    CatalogEntry entry;
    entry.dump = dir_ / f.name;
    entry.started_at = *started;
    entry.file_size = f.size;
    const std::string manifest_name = f.name + kManifestSuffix;
    const auto manifest = by_name.find(manifest_name);
    if (!f.refused.empty()) {
      entry.manifest_error = "not read: " + f.refused;
    } else if (manifest == by_name.end()) {
      entry.manifest_error = "no manifest (the backup did not finish)";
    } else if (!manifest->second->refused.empty()) {
      entry.manifest_error = "manifest not read: " + manifest->second->refused;
    } else {
      try {
        const auto read = [&] { return storage.read_if_present(manifest_name).value_or(""); };
        Manifest m = cache ? cache->load(manifest_path(entry), read)
                           : manifest_from_json(nlohmann::json::parse(read()));
        const auto companion = m.globals ? by_name.find(f.name + kGlobalsSuffix) : by_name.end();
        if (const std::string why = manifest_mismatch(m, f.name); !why.empty()) {
          entry.manifest_error = why;
        } else if (companion != by_name.end() && !companion->second->refused.empty()) {
          // Part of the backup, under the same rule: never read, so no good backup.
          entry.manifest_error = "companion file not read: " + companion->second->refused;
        } else {
          entry.manifest = std::move(m);
        }
      } catch (const std::exception& e) {
        entry.manifest_error = std::string("unreadable manifest: ") + e.what();
      }
      if (!entry.manifest && !present(manifest_path(entry))) {
        // Deleted since the listing (a prune in another process): gone with its dump, or the
        // dump is left without one.
        if (!present(entry.dump)) continue;
        entry.manifest_error = "no manifest (the backup did not finish)";
      }
    }
    out.push_back(std::move(entry));
  }
  std::sort(out.begin(), out.end(), [](const CatalogEntry& a, const CatalogEntry& b) {
    return a.started_at < b.started_at;
  });
  if (cache) cache->forget_unused_in(dir_);
  return out;
}

std::vector<fs::path> DumpCatalog::partials() const {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(dir_, ec)) {
    const std::string name = item.path().filename().string();
    if (name.rfind(prefix_ + "_", 0) == 0 && ends_with(name, kPartialSuffix)) {
      out.push_back(item.path());
    }
  }
  return out;
}

std::vector<fs::path> DumpCatalog::remove_partials() const {
  std::vector<fs::path> removed;
  std::error_code ec;
  for (const fs::path& p : partials()) {
    if (fs::remove(p, ec)) removed.push_back(p);
  }
  return removed;
}

bool DumpCatalog::backup_running() const {
  return !partials().empty() && directory_lock_held(dir_ / ".pgbackup");
}

}  // namespace pgbackup
