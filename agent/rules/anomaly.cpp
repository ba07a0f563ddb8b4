#include "agent/rules/anomaly.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "agent/core/units.h"

namespace pgbackup {

std::vector<std::uint64_t> sizes_of_type(const std::vector<CatalogEntry>& earlier,
                                         BackupType type) {
  std::vector<std::uint64_t> sizes;
  for (const CatalogEntry& b : earlier) {
    if (b.good() && b.type == type) sizes.push_back(b.size_bytes());
  }
  return sizes;
}

SizeVerdict judge_size(std::uint64_t size, const std::vector<std::uint64_t>& previous_sizes,
                       const AnomalyConfig& config) {
  SizeVerdict verdict;
  const std::size_t n = std::min(previous_sizes.size(), static_cast<std::size_t>(config.window));
  std::vector<std::uint64_t> window(previous_sizes.end() - static_cast<long>(n),
                                    previous_sizes.end());
  if (!window.empty()) {
    std::sort(window.begin(), window.end());
    const std::size_t mid = window.size() / 2;
    verdict.baseline_bytes = window.size() % 2 == 1
                                 ? static_cast<double>(window[mid])
                                 : (static_cast<double>(window[mid - 1]) + window[mid]) / 2.0;
  }
  if (size < config.min_size) {
    verdict.anomaly = true;
    verdict.reason = "size " + format_bytes(size) + " is below anomaly.min_size " +
                     format_bytes(config.min_size) + " (an empty or incomplete dump?)";
    return verdict;
  }
  if (verdict.baseline_bytes > 0) {
    const double ratio = static_cast<double>(size) / verdict.baseline_bytes;
    if (ratio < config.min_ratio || ratio > config.max_ratio) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "size is %.2f× the median of the previous %zu backups (%s)",
                    ratio, n,
                    format_bytes(static_cast<std::uint64_t>(verdict.baseline_bytes)).c_str());
      verdict.anomaly = true;
      verdict.reason = buf;
    }
  }
  return verdict;
}

std::vector<ShrunkTable> find_shrunk_tables(const std::vector<TableRows>& previous,
                                            const std::vector<TableRows>& current,
                                            double drop_ratio) {
  std::map<std::pair<std::string, std::string>, std::int64_t> now;
  for (const TableRows& t : current) now[{t.schema, t.name}] = t.rows;
  std::vector<ShrunkTable> shrunk;
  for (const TableRows& before : previous) {
    if (before.rows <= 0) continue;
    const auto it = now.find({before.schema, before.name});
    // TimescaleDB drops whole chunks by design (retention policies); a vanished chunk is not a
    // deletion.
    if (it == now.end() && before.schema == "_timescaledb_internal") continue;
    const std::int64_t rows = it == now.end() ? 0 : it->second;
    const double lost = static_cast<double>(before.rows - rows) / static_cast<double>(before.rows);
    if (lost > drop_ratio) shrunk.push_back({before.schema, before.name, before.rows, rows});
  }
  return shrunk;
}

}  // namespace pgbackup
