#include "agent/postgres/restore_check.h"

#include <stdexcept>

namespace pgbackup {

std::optional<std::string> run_restore_check(pqxx::connection& conn,
                                             const RestoreTestConfig::Check& c) {
  try {
    pqxx::read_transaction tx(conn);
    const pqxx::result r = tx.exec(c.sql);
    if (r.size() != 1 || r.columns() != 1) {
      return c.name + ": returned " + std::to_string(r.size()) + " row(s) of " +
             std::to_string(r.columns()) + " column(s), not a single true";
    }
    if (r[0][0].is_null()) return c.name + ": returned NULL";
    const std::string value = r[0][0].c_str();
    if (value == "t") return std::nullopt;
    if (value == "f") return c.name + ": returned false";
    return c.name + ": returned " + value +
           ", not a boolean (hint: write the check as a "
           "condition, e.g. SELECT count(*) > 0 FROM nodes)";
  } catch (const std::exception& e) {
    std::string what = e.what();
    while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
    return c.name + ": " + what;
  }
}

std::map<std::string, std::uint64_t> count_every_table(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  const pqxx::result tables = tx.exec(
      "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
      "AND n.nspname NOT IN ('pg_catalog', 'information_schema', '_timescaledb_internal') "
      "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' "
      "AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid) "
      "ORDER BY 1, 2");
  std::map<std::string, std::uint64_t> out;
  for (const auto& row : tables) {
    const std::string schema = row[0].as<std::string>();
    const std::string table = row[1].as<std::string>();
    const std::string name = schema + "." + table;
    try {
      out[name] =
          tx.exec1("SELECT count(*) FROM " + tx.quote_name(schema) + "." + tx.quote_name(table))[0]
              .as<std::uint64_t>();
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot read table " + name + " in full: " + e.what());
    }
  }
  return out;
}

}  // namespace pgbackup
