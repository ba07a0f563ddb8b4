#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/catalog/manifest.h"
#include "agent/config/config.h"
#include "agent/engines/catalog_entry.h"

namespace pgbackup {

struct SizeVerdict {
  double baseline_bytes = 0;  // median of the previous `window` good backups; 0 without history
  bool anomaly = false;
  std::string reason;  // empty unless anomaly
};

// Judges a new backup's size against the median of the previous good ones (oldest first; the
// last `window` count) and the min_size floor: too small usually means an incomplete dump.
SizeVerdict judge_size(std::uint64_t size, const std::vector<std::uint64_t>& previous_sizes,
                       const AnomalyConfig& config);

// The recorded sizes of the good backups of `type` in `earlier` (oldest first, as catalogues
// list them): what a new backup of that type is judged against (judge_size). A full is
// compared with fulls and an incremental with incrementals, since a diff or incr is by design a
// fraction of a full and a full a multiple of an incr.
std::vector<std::uint64_t> sizes_of_type(const std::vector<CatalogEntry>& earlier, BackupType type);

// Tables that lost more than `drop_ratio` of their rows since the previous good backup, or
// disappeared: the seed's "accidental data deletion" scenario.
std::vector<ShrunkTable> find_shrunk_tables(const std::vector<TableRows>& previous,
                                            const std::vector<TableRows>& current,
                                            double drop_ratio);

}  // namespace pgbackup
