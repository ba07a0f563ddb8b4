#include "agent/engines/pg_dump/toc.h"

#include <cstring>
#include <sstream>

#include "agent/core/errors.h"
#include "agent/core/subprocess.h"

namespace pgbackup {

TocSummary parse_toc_list(std::string_view text) {
  TocSummary toc;
  std::istringstream lines{std::string(text)};
  std::string line;
  static const std::string kTableData = " TABLE DATA ";
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == ';') continue;
    ++toc.entries;
    // "3363; 0 16401 TABLE DATA public nodes postgres": schema, table name, owner.
    const auto at = line.find(kTableData);
    if (at == std::string::npos) continue;
    const std::string rest = line.substr(at + kTableData.size());
    const auto first_space = rest.find(' ');
    const auto last_space = rest.rfind(' ');
    if (first_space == std::string::npos || last_space <= first_space) continue;
    toc.table_data.emplace(rest.substr(0, first_space),
                           rest.substr(first_space + 1, last_space - first_space - 1));
  }
  return toc;
}

std::vector<std::string> tables_missing_data(const TocSummary& toc,
                                             const std::vector<TableRows>& tables) {
  std::vector<std::string> missing;
  for (const TableRows& t : tables) {
    if (!toc.table_data.count({t.schema, t.name})) missing.push_back(t.schema + "." + t.name);
  }
  return missing;
}

namespace {

// What a partial restore takes of one kind of entry: the table itself, entries whose tag starts
// with the table's name ("nodes nodes_pkey"), or the separately found related objects.
enum class Owner { table, tag_prefix, related };

struct EntryKind {
  std::string type;
  Owner owner;
};

// Longer types first: "TABLE DATA" must not be read as "TABLE" with schema "DATA".
const std::vector<EntryKind>& entry_kinds() {
  static const std::vector<EntryKind> kinds = {{"TABLE DATA", Owner::table},
                                               {"TABLE ATTACH", Owner::table},
                                               {"TABLE", Owner::table},
                                               {"FK CONSTRAINT", Owner::tag_prefix},
                                               {"CONSTRAINT", Owner::tag_prefix},
                                               {"DEFAULT", Owner::tag_prefix},
                                               {"TRIGGER", Owner::tag_prefix},
                                               {"POLICY", Owner::tag_prefix},
                                               {"ROW SECURITY", Owner::tag_prefix},
                                               {"RULE", Owner::tag_prefix},
                                               {"INDEX ATTACH", Owner::related},
                                               {"INDEX", Owner::related},
                                               {"SEQUENCE OWNED BY", Owner::related},
                                               {"SEQUENCE SET", Owner::related},
                                               {"SEQUENCE", Owner::related}};
  return kinds;
}

bool wanted_entry(const std::string& line, const std::vector<TableRows>& tables,
                  const std::set<std::pair<std::string, std::string>>& related) {
  // "3234; 2606 16395 CONSTRAINT public nodes nodes_pkey postgres": id, catalog, oid, type,
  // schema, tag (may hold spaces), owner.
  std::size_t at = 0;
  for (int field = 0; field < 3 && at != std::string::npos; ++field) {
    at = line.find(' ', at);
    if (at != std::string::npos) ++at;
  }
  if (at == std::string::npos) return false;
  const std::string rest = line.substr(at);
  for (const EntryKind& kind : entry_kinds()) {
    if (rest.rfind(kind.type + " ", 0) != 0) continue;
    const std::string body = rest.substr(kind.type.size() + 1);
    const auto schema_end = body.find(' ');
    const auto owner_start = body.rfind(' ');
    if (schema_end == std::string::npos || owner_start <= schema_end) return false;
    const std::string schema = body.substr(0, schema_end);
    const std::string tag = body.substr(schema_end + 1, owner_start - schema_end - 1);
    if (kind.owner == Owner::related) return related.count({schema, tag}) > 0;
    for (const TableRows& t : tables) {
      if (t.schema != schema) continue;
      if (tag == t.name) return true;
      if (kind.owner == Owner::tag_prefix && tag.rfind(t.name + " ", 0) == 0) return true;
    }
    return false;
  }
  return false;
}

}  // namespace

std::string select_toc_entries(std::string_view list, const std::vector<TableRows>& tables,
                               const std::set<std::pair<std::string, std::string>>& related) {
  std::istringstream lines{std::string(list)};
  std::string out;
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] != ';' && wanted_entry(line, tables, related)) {
      out += line + "\n";
    }
  }
  return out;
}

namespace {

std::string without_quotes(std::string identifier) {
  std::erase(identifier, '"');
  return identifier;
}

// The table a DDL statement names after `keyword` ("s.t" of " ON ONLY s.t USING", of
// " OWNED BY s.t.col;"), quotes removed.
std::string table_after(const std::string& statement, const std::string& keyword) {
  auto at = statement.find(keyword);
  if (at == std::string::npos) return "";
  at += keyword.size();
  if (statement.compare(at, 5, "ONLY ") == 0) at += 5;
  const auto end = statement.find_first_of(" ;(", at);
  return without_quotes(statement.substr(at, end == std::string::npos ? end : end - at));
}

std::string run_pg_restore_reading(const std::vector<std::string>& args, const std::string& file) {
  ProcessSpec spec;
  spec.argv = {client_program("pg_restore")};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.argv.push_back(file);
  spec.timeout = std::chrono::minutes(10);
  const ProcessResult result = run_process(spec);
  if (!result.ok()) {
    throw OperationError("pg_restore cannot read the archive " + file + ": " +
                         describe_failure(spec, result) +
                         " (hint: the file is truncated or corrupt; use another backup)");
  }
  return result.out;
}

}  // namespace

std::set<std::pair<std::string, std::string>> objects_of_tables(
    std::string_view schema_sql, const std::vector<TableRows>& tables) {
  std::set<std::string> wanted;
  for (const TableRows& t : tables) wanted.insert(t.schema + "." + t.name);
  std::set<std::pair<std::string, std::string>> out;
  std::istringstream lines{std::string(schema_sql)};
  std::string schema, name, type;
  for (std::string line; std::getline(lines, line);) {
    // "-- Name: nodes_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres" heads each entry.
    if (line.rfind("-- Name: ", 0) == 0) {
      const auto field = [&](const std::string& key) {
        const auto at = line.find(key);
        if (at == std::string::npos) return std::string();
        const auto end = line.find(';', at);
        return line.substr(at + key.size(), end == std::string::npos ? end : end - at - key.size());
      };
      name = field("Name: ");
      type = field("Type: ");
      schema = field("Schema: ");
      continue;
    }
    std::string table;
    if (type == "INDEX" && line.rfind("CREATE ", 0) == 0) table = table_after(line, " ON ");
    if (type == "SEQUENCE OWNED BY" && line.rfind("ALTER SEQUENCE ", 0) == 0) {
      table = table_after(line, " OWNED BY ");
      table = table.substr(0, table.rfind('.'));  // drop the column
    }
    if (!table.empty() && wanted.count(table)) out.emplace(schema, name);
  }
  return out;
}

std::string read_schema_sql(const std::string& file) {
  return run_pg_restore_reading({"--schema-only", "--file=-"}, file);
}

std::string read_clean_schema_sql(const std::string& file) {
  return run_pg_restore_reading({"--clean", "--if-exists", "--schema-only", "--file=-"}, file);
}

std::string read_toc_text(const std::string& file, const std::string& section) {
  if (section.empty()) return run_pg_restore_reading({"--list"}, file);
  return run_pg_restore_reading({"--list", "--section=" + section}, file);
}

namespace {

// The dump id that starts a `pg_restore --list` entry line ("3849; 0 16410 TABLE DATA ...").
std::string entry_id(const std::string& line) { return line.substr(0, line.find(';')); }

// Whether an entry loads data into TimescaleDB's own catalog: its TABLE DATA and SEQUENCE SET
// entries in the extension's schemas.
bool timescaledb_catalog_data(const std::string& line) {
  for (const char* type : {" TABLE DATA ", " SEQUENCE SET "}) {
    const auto at = line.find(type);
    if (at == std::string::npos) continue;
    const std::string schema = line.substr(
        at + std::strlen(type), line.find(' ', at + std::strlen(type)) - at - std::strlen(type));
    return schema == "_timescaledb_catalog" || schema == "_timescaledb_config";
  }
  return false;
}

}  // namespace

RestoreStages split_timescaledb_stages(std::string_view list, std::string_view pre_data) {
  std::set<std::string> pre_ids;
  {
    std::istringstream lines{std::string(pre_data)};
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty() && line[0] != ';') pre_ids.insert(entry_id(line));
    }
  }
  RestoreStages stages;
  std::istringstream lines{std::string(list)};
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == ';') continue;
    const bool serial = pre_ids.count(entry_id(line)) > 0 || timescaledb_catalog_data(line);
    (serial ? stages.serial : stages.parallel) += line + "\n";
  }
  return stages;
}

std::string drop_statements(std::string_view clean_script) {
  std::istringstream lines{std::string(clean_script)};
  std::string out;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("-- Name: ", 0) == 0) break;
    if (line.rfind("DROP ", 0) == 0 || line.rfind("ALTER ", 0) == 0) out += line + "\n";
  }
  return out;
}

TocSummary read_toc(const std::string& file) { return parse_toc_list(read_toc_text(file)); }

}  // namespace pgbackup
