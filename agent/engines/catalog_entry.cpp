#include "agent/engines/catalog_entry.h"

namespace pgbackup {

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
