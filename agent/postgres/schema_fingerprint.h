#pragma once

#include <pqxx/transaction_base>

#include <string>
#include <vector>

namespace pgbackup {

// The shape of a database, read from its catalog (never from its tables): what a backup's
// manifest records so two backups, or a backup and its restored copy, can be compared
// (agent/rules/schema_diff.h). Owners and privileges are deliberately left out: restore tests
// restore with --no-owner --no-acl. Names are "schema.name"; every list is sorted by name.
struct ColumnDefinition {
  std::string name;
  std::string type;  // format_type(atttypid, atttypmod): "integer", "character varying(20)"
  bool not_null = false;

  bool operator==(const ColumnDefinition&) const = default;
};

// A constraint (definition: pg_get_constraintdef), an index (pg_get_indexdef), a view
// (pg_get_viewdef), a sequence (its data type), an extension (its version) or a TimescaleDB
// hypertable (its dimensions): something with a name and one definition to compare.
struct NamedDefinition {
  std::string name;
  std::string definition;

  bool operator==(const NamedDefinition&) const = default;
};

struct TableDefinition {
  std::string name;                          // "schema.table"
  std::vector<ColumnDefinition> columns;     // in column order
  std::vector<NamedDefinition> constraints;  // by constraint name (unqualified)
  std::vector<NamedDefinition> indexes;      // by index name (unqualified, in the table's schema)

  bool operator==(const TableDefinition&) const = default;
};

struct SchemaFingerprint {
  std::vector<TableDefinition> tables;       // ordinary and partitioned tables
  std::vector<NamedDefinition> views;        // views and materialized views
  std::vector<std::string> functions;        // "schema.name(argument types)"
  std::vector<NamedDefinition> sequences;    // definition: data type
  std::vector<NamedDefinition> extensions;   // definition: version
  std::vector<NamedDefinition> hypertables;  // definition: "time (timestamp with time zone,
                                             // 7 days)", dimensions joined by "; "

  bool operator==(const SchemaFingerprint&) const = default;
};

// Reads the fingerprint in `tx` (catalog queries only: no table is scanned, so it costs
// milliseconds whatever the database's size). User objects only: pg_catalog,
// information_schema, pg_toast, TimescaleDB's internal schemas (_timescaledb_*,
// timescaledb_information, timescaledb_experimental) and objects that belong to an extension
// are skipped. Throws pqxx errors as they come.
SchemaFingerprint read_schema_fingerprint(pqxx::transaction_base& tx);

}  // namespace pgbackup
