#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <mutex>

#include "agent/catalog/manifest.h"

namespace pgbackup {

// Parsed manifests for a reader that rereads a backup directory every few seconds (the daemon's
// status refresh): a manifest is parsed again only when its size or modification time changed.
// It keeps them without their schema fingerprint's contents (`schema` stays set, but empty):
// with thousands of tables a fingerprint makes a manifest megabytes long, and the status, the
// metrics and the status page only need the change list. Thread-safe.
class ManifestCache {
 public:
  // The manifest at `path`, fingerprint emptied; throws like manifest_from_json (and
  // std::filesystem errors) when it cannot be read.
  // `read_text` reads it (default: read_file); DumpCatalog::scan passes PosixStorage's.
  Manifest load(const std::filesystem::path& path,
                const std::function<std::string()>& read_text = nullptr);
  // Forgets the manifests in directory `dir` not loaded since the previous call for `dir`
  // (deleted backups). DumpCatalog::scan calls it after each scan.
  void forget_unused_in(const std::filesystem::path& dir);
  std::size_t size() const;

 private:
  struct Entry {
    std::filesystem::file_time_type modified;
    std::uintmax_t size = 0;
    Manifest manifest;
    bool used = false;
  };
  mutable std::mutex mu_;
  std::map<std::filesystem::path, Entry> entries_;
};

// Empties a manifest's schema fingerprint (keeping `schema` set), for readers that need only the
// change list.
void drop_fingerprint_contents(Manifest& m);

}  // namespace pgbackup
