#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/postgres/postgres.h"
#include "agent/postgres/schema_fingerprint.h"

namespace pgbackup {

enum class SchemaChangeType { added, dropped, altered };
const char* schema_change_type_name(SchemaChangeType type);
// Throws std::invalid_argument for anything but added, dropped, altered.
SchemaChangeType parse_schema_change_type(const std::string& name);

// One object that differs between two fingerprints. `kind`: table, column, constraint, index,
// view, function, sequence, extension, hypertable. `name`: "public.orders" (table, view,
// sequence, hypertable), "public.orders.amount" (column), "orders_pkey on public.orders"
// (constraint, index), "public.f(integer)" (function), "timescaledb" (extension). `detail`:
// what it is or how it changed ("integer → bigint").
struct SchemaChange {
  SchemaChangeType change = SchemaChangeType::altered;
  std::string kind;
  std::string name;
  std::string detail;

  bool operator==(const SchemaChange&) const = default;
};

// What changed from `before` to `after`, tables first (each with its columns, constraints and
// indexes), then views, functions, sequences, extensions and hypertables, each by name. A table
// added or dropped is one change (its columns and indexes are not listed on their own).
std::vector<SchemaChange> diff_schemas(const SchemaFingerprint& before,
                                       const SchemaFingerprint& after);

struct SchemaChangeCounts {
  std::size_t added = 0;
  std::size_t dropped = 0;
  std::size_t altered = 0;
  std::size_t total() const { return added + dropped + altered; }
};
SchemaChangeCounts count_changes(const std::vector<SchemaChange>& changes);
// "3 schema changes (1 added, 2 dropped)", "1 schema change (1 altered)"; "no schema changes".
std::string summarize_changes(const SchemaChangeCounts& counts);

// "dropped index node_metrics_node_time on public.node_metrics: CREATE INDEX ..."
std::string describe_change(const SchemaChange& change);
// The same change seen by a restore test (before: the backup's manifest, after: the restored
// database): "index x on public.t is in the backup but was not restored".
std::string describe_restore_difference(const SchemaChange& change);

// One table whose row count differs between two backups; a side without the table is empty.
struct RowChange {
  std::string table;  // "schema.name"
  std::optional<std::int64_t> before;
  std::optional<std::int64_t> after;

  bool operator==(const RowChange&) const = default;
};
struct RowChanges {
  std::vector<RowChange> changed;  // by table name
  std::size_t unchanged = 0;       // tables in both with the same count
};
// Compares the per-table row counts of two manifests (tables and continuous aggregates).
RowChanges diff_row_counts(const std::vector<TableRows>& before,
                           const std::vector<TableRows>& after);

}  // namespace pgbackup
