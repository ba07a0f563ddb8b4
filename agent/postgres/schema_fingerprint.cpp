#include "agent/postgres/schema_fingerprint.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <map>

namespace pgbackup {
namespace {

// The schemas whose objects are the user's: not the system's, not TimescaleDB's internals
// (chunks, catalog, the information views), which TimescaleDB manages and a user never changes.
// `n` is the pg_namespace row.
const char* kUserSchema = R"sql(
  n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
  AND n.nspname NOT LIKE '\_timescaledb\_%' AND n.nspname NOT LIKE 'timescaledb\_%')sql";

// Not a member of an extension (those come and go with the extension, whose version is listed).
std::string not_in_extension(const char* catalog, const char* oid) {
  return std::string(" AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '") + catalog +
         "'::regclass AND d.objid = " + oid + " AND d.deptype = 'e')";
}

std::string user_relations(const char* kinds) {
  return std::string(
             "SELECT c.oid, n.nspname || '.' || c.relname AS name FROM pg_class c "
             "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN (") +
         kinds + ") AND" + kUserSchema + not_in_extension("pg_class", "c.oid");
}

void sort_by_name(std::vector<NamedDefinition>& v) {
  std::sort(v.begin(), v.end(),
            [](const NamedDefinition& a, const NamedDefinition& b) { return a.name < b.name; });
}

// Rows of (relation oid, name, definition) into the tables they belong to.
void add_named(pqxx::transaction_base& tx, const std::string& sql,
               std::map<std::string, TableDefinition*>& by_oid,
               std::vector<NamedDefinition> TableDefinition::*member) {
  for (const auto& r : tx.exec(sql)) {
    const auto it = by_oid.find(r[0].as<std::string>());
    if (it == by_oid.end()) continue;
    (it->second->*member).push_back({r[1].as<std::string>(), r[2].as<std::string>()});
  }
}

// "time (timestamp with time zone, 7 days)" or "node_id (integer, 4 partitions)".
std::string dimension_text(const pqxx::row& r) {
  std::string size;
  if (!r[3].is_null()) {
    size = r[3].as<std::string>();
  } else if (!r[4].is_null()) {
    size = r[4].as<std::string>();
  } else if (!r[5].is_null()) {
    size = r[5].as<std::string>() + " partitions";
  }
  return r[1].as<std::string>() + " (" + r[2].as<std::string>() + (size.empty() ? "" : ", ") +
         size + ")";
}

}  // namespace

SchemaFingerprint read_schema_fingerprint(pqxx::transaction_base& tx) {
  SchemaFingerprint f;
  const std::string tables = user_relations("'r', 'p'");
  const pqxx::result table_rows = tx.exec(tables + " ORDER BY 2");
  f.tables.reserve(table_rows.size());  // by_oid points into it
  std::map<std::string, TableDefinition*> by_oid;
  for (const auto& r : table_rows) {
    f.tables.push_back({r[1].as<std::string>(), {}, {}, {}});
    by_oid[r[0].as<std::string>()] = &f.tables.back();
  }
  const std::string in_tables = " IN (SELECT oid FROM (" + tables + ") t)";
  for (const auto& r :
       tx.exec("SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull "
               "FROM pg_attribute a WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attrelid" +
               in_tables + " ORDER BY a.attrelid, a.attnum")) {
    const auto it = by_oid.find(r[0].as<std::string>());
    if (it == by_oid.end()) continue;
    it->second->columns.push_back(
        {r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<bool>()});
  }
  add_named(tx,
            "SELECT conrelid, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid" +
                in_tables,
            by_oid, &TableDefinition::constraints);
  add_named(tx,
            "SELECT i.indrelid, ic.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid" +
                in_tables,
            by_oid, &TableDefinition::indexes);
  for (TableDefinition& t : f.tables) {
    sort_by_name(t.constraints);
    sort_by_name(t.indexes);
  }

  for (const auto& r : tx.exec("SELECT v.name, pg_get_viewdef(v.oid) FROM (" +
                               user_relations("'v', 'm'") + ") v ORDER BY 1")) {
    f.views.push_back({r[0].as<std::string>(), r[1].as<std::string>()});
  }
  for (const auto& r :
       tx.exec("SELECT n.nspname || '.' || p.proname || '(' || "
               "pg_get_function_identity_arguments(p.oid) || ')' FROM pg_proc p "
               "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE" +
               std::string(kUserSchema) + not_in_extension("pg_proc", "p.oid") + " ORDER BY 1")) {
    f.functions.push_back(r[0].as<std::string>());
  }
  for (const auto& r :
       tx.exec("SELECT s.name, format_type(q.seqtypid, NULL) FROM (" + user_relations("'S'") +
               ") s JOIN pg_sequence q ON q.seqrelid = s.oid ORDER BY 1")) {
    f.sequences.push_back({r[0].as<std::string>(), r[1].as<std::string>()});
  }
  bool timescale = false;
  for (const auto& r : tx.exec("SELECT extname, extversion FROM pg_extension ORDER BY 1")) {
    f.extensions.push_back({r[0].as<std::string>(), r[1].as<std::string>()});
    timescale = timescale || f.extensions.back().name == "timescaledb";
  }
  if (timescale) {
    std::map<std::string, std::string> dimensions;
    for (const auto& r :
         tx.exec("SELECT d.hypertable_schema || '.' || d.hypertable_name, d.column_name, "
                 "format_type(d.column_type, NULL), d.time_interval::text, "
                 "d.integer_interval::text, d.num_partitions::text "
                 "FROM timescaledb_information.dimensions d "
                 "JOIN pg_namespace n ON n.nspname = d.hypertable_schema WHERE" +
                 std::string(kUserSchema) + " ORDER BY 1, d.dimension_number")) {
      std::string& text = dimensions[r[0].as<std::string>()];
      text += (text.empty() ? "" : "; ") + dimension_text(r);
    }
    for (auto& [name, text] : dimensions) f.hypertables.push_back({name, std::move(text)});
  }
  return f;
}

}  // namespace pgbackup
