#include "agent/catalog/manifest_cache.h"

#include "agent/core/file_io.h"

namespace pgbackup {

void drop_fingerprint_contents(Manifest& m) {
  if (m.schema) m.schema = SchemaFingerprint{};
}

Manifest ManifestCache::load(const std::filesystem::path& path,
                             const std::function<std::string()>& read_text) {
  const auto modified = std::filesystem::last_write_time(path);
  const auto size = std::filesystem::file_size(path);
  {
    std::lock_guard lock(mu_);
    const auto it = entries_.find(path);
    if (it != entries_.end() && it->second.modified == modified && it->second.size == size) {
      it->second.used = true;
      return it->second.manifest;
    }
  }
  // Parsed outside the lock: a slow parse must not hold up another reader.
  Manifest m = manifest_from_json(nlohmann::json::parse(read_text ? read_text() : read_file(path)));
  drop_fingerprint_contents(m);
  std::lock_guard lock(mu_);
  entries_[path] = Entry{modified, size, m, true};
  return m;
}

void ManifestCache::forget_unused_in(const std::filesystem::path& dir) {
  std::lock_guard lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->first.parent_path() != dir) {
      ++it;
    } else if (!it->second.used) {
      it = entries_.erase(it);
    } else {
      it->second.used = false;
      ++it;
    }
  }
}

std::size_t ManifestCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace pgbackup
