#include "agent/postgres/table_reads.h"

#include <algorithm>
#include <tuple>

namespace pgbackup {
namespace {

std::string tid(std::uint64_t block) { return "'(" + std::to_string(block) + ",0)'"; }

// [first, first + count) of the relation's blocks; count 0 reaches to its end, whatever it
// holds by the time it is read.
TableRead block_range(const StoredRelation& r, std::uint64_t first, std::uint64_t count) {
  std::string where;
  if (first != 0) where = "ctid >= " + tid(first);
  if (count != 0) where += (where.empty() ? "" : " AND ") + ("ctid < " + tid(first + count));
  return {r.table, "SELECT count(*) FROM " + r.relation + " WHERE " + where,
          count != 0 ? count : r.blocks - first};
}

}  // namespace

std::vector<TableRead> plan_table_reads(const std::vector<StoredRelation>& relations,
                                        std::uint64_t piece_blocks) {
  std::vector<TableRead> reads;
  for (const StoredRelation& r : relations) {
    if (!r.splittable || piece_blocks == 0 || r.blocks <= piece_blocks) {
      reads.push_back(
          {r.table,
           "SELECT count(*) FROM " + std::string(r.has_children ? "ONLY " : "") + r.relation,
           r.blocks});
      continue;
    }
    for (std::uint64_t first = 0; first < r.blocks; first += piece_blocks) {
      const bool last = first + piece_blocks >= r.blocks;
      reads.push_back(block_range(r, first, last ? 0 : piece_blocks));
    }
  }
  std::stable_sort(reads.begin(), reads.end(), [](const TableRead& a, const TableRead& b) {
    return std::tie(b.blocks, a.table) < std::tie(a.blocks, b.table);
  });
  return reads;
}

}  // namespace pgbackup
