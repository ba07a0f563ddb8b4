#include "agent/engines/catalog_entry.h"

namespace pgbackup {

std::string CatalogEntry::encryption() const {
  if (manifest && manifest->encryption) return "age";
  return cipher;
}

std::string encryption_summary(const CatalogEntry& b) {
  if (b.manifest && b.manifest->encryption) {
    const std::size_t n = b.manifest->encryption->recipients.size();
    return "age, " + std::to_string(n) + (n == 1 ? " recipient" : " recipients");
  }
  return b.cipher;
}

const CatalogEntry* newest_good(const std::vector<CatalogEntry>& entries) {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (it->good()) return &*it;
  }
  return nullptr;
}

std::vector<const CatalogEntry*> good_entries(const std::vector<CatalogEntry>& entries) {
  std::vector<const CatalogEntry*> out;
  for (const CatalogEntry& b : entries) {
    if (b.good()) out.push_back(&b);
  }
  return out;
}

RecoveryWindow finish_time_window(const std::vector<CatalogEntry>& entries) {
  RecoveryWindow w;
  for (const CatalogEntry* b : good_entries(entries)) {
    const SysTime at = b->finished_at();
    if (!w.start || at < *w.start) w.start = at;
    if (!w.end || at > *w.end) w.end = at;
  }
  return w;
}

}  // namespace pgbackup
