#pragma once

// How a restore test reads every table in full on several connections at once: the pure part.
// A table is read as the relations that store its rows (itself and, through the inheritance
// tree, its partitions or a hypertable's chunks), and a big plain heap as block ranges (a TID
// range scan each, PostgreSQL 14+), so that the reads can be shared out evenly; the biggest
// come first, so that no reader is left with a big one at the end.

#include <cstdint>
#include <string>
#include <vector>

namespace pgbackup {

// One relation that stores rows of a table the restore test reads.
struct StoredRelation {
  std::string table;          // "schema.table": the table (read by the user) whose rows these are
  std::string relation;       // the relation, quoted for SQL: "schema"."name"
  bool has_children = false;  // its children are read on their own: read only its own rows
  bool splittable = false;    // a plain heap that may be read in block ranges
  std::uint64_t blocks = 0;
};

// One query of the plan: SELECT count(*) of part of a table.
struct TableRead {
  std::string table;
  std::string sql;
  std::uint64_t blocks = 0;
};

// Every relation read once (a splittable one of more than piece_blocks in ranges of
// piece_blocks, the last one open-ended), biggest first; piece_blocks 0 splits nothing.
std::vector<TableRead> plan_table_reads(const std::vector<StoredRelation>& relations,
                                        std::uint64_t piece_blocks);

}  // namespace pgbackup
