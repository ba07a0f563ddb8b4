#include "agent/postgres/pg_restore.h"

#include <pqxx/pqxx>

#include <set>

#include "agent/config/config.h"
#include "agent/core/errors.h"
#include "agent/core/subprocess.h"

namespace pgbackup {
namespace {

bool contains(const std::string& haystack, const char* needle) {
  return haystack.find(needle) != std::string::npos;
}

// pg_restore's --table takes a bare name and --schema limits every --table to the schemas
// given, so "schema.name" becomes both. Tables of different schemas in one restore would
// restore their cross product: refused.
std::vector<std::string> table_args(const std::vector<std::string>& tables) {
  std::vector<std::string> args;
  std::set<std::string> schemas;
  for (const std::string& table : tables) {
    const auto dot = table.find('.');
    if (dot != std::string::npos) schemas.insert(table.substr(0, dot));
    args.push_back("--table=" + (dot == std::string::npos ? table : table.substr(dot + 1)));
  }
  if (schemas.size() > 1) {
    throw ConfigError(
        "the tables to restore are in different schemas (" + *schemas.begin() + ", " +
        *std::next(schemas.begin()) +
        "); pg_restore restores the tables of one schema at a time (hint: restore each "
        "schema's tables separately)");
  }
  if (!schemas.empty()) args.insert(args.begin(), "--schema=" + *schemas.begin());
  return args;
}

// What to do about a pg_restore failure that the endpoint's own hints do not cover.
std::string restore_hint(const std::string& error, const std::filesystem::path& dump) {
  if (contains(error, "could not read from input file") ||
      contains(error, "could not read input file") || contains(error, "unexpected end of file") ||
      contains(error, "did not find magic string") || contains(error, "corrupt")) {
    return "the dump is truncated or corrupt: check it with pgbackup-agent verify " +
           dump.string() + " and restore another backup";
  }
  if (contains(error, "already exists")) {
    return "the database is not empty: restore into an empty database or over it with "
           "clean (--clean --if-exists)";
  }
  if (contains(error, "extension")) {
    return "install the same extension versions on this server as on the source (see the "
           "manifest's database.extensions)";
  }
  return "the lines above are pg_restore's own; fix what they name and restore again";
}

std::string server_version_of(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  return tx.exec1("SELECT current_setting('server_version')")[0].as<std::string>();
}

}  // namespace

std::vector<std::string> pg_restore_argv(const DatabaseEndpoint& endpoint,
                                         const std::string& dbname,
                                         const std::filesystem::path& dump,
                                         const RestoreOptions& options,
                                         const std::string& server_version) {
  std::vector<std::string> argv = {client_program("pg_restore", server_version),
                                   "--dbname=" + dbname};
  if (options.single_transaction) {
    argv.push_back("--single-transaction");
  } else {
    argv.push_back("--jobs=" + std::to_string(std::max(1, options.jobs)));
  }
  for (const std::string& arg : endpoint.client_args()) argv.push_back(arg);
  if (options.clean) {
    argv.push_back("--clean");
    argv.push_back("--if-exists");
  }
  if (options.no_owner) {
    argv.push_back("--no-owner");
    argv.push_back("--no-acl");
  }
  if (!options.use_list.empty()) {
    argv.push_back("--use-list=" + options.use_list.string());
  } else {
    for (const std::string& arg : table_args(options.tables)) argv.push_back(arg);
  }
  argv.push_back(dump.string());
  return argv;
}

void run_pg_restore(const DatabaseEndpoint& endpoint, const std::string& dbname,
                    const std::filesystem::path& dump, const RestoreOptions& options) {
  const auto conn = endpoint.connect(dbname);
  const std::string what = "restoring " + dump.filename().string() + " into " + dbname;
  if (!options.timescaledb_version.empty()) {
    timescaledb_pre_restore(*conn, options.timescaledb_version);
  }

  ProcessSpec spec;
  spec.argv = pg_restore_argv(endpoint, dbname, dump, options, server_version_of(*conn));
  spec.env = endpoint.client_env();
  spec.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout);
  spec.cancel = options.cancel;
  const ProcessResult result = run_process(spec);
  if (!result.ok()) {
    const std::string error = what + " failed: " + describe_failure(spec, result);
    const std::string explained = endpoint.explain_error(error);
    throw OperationError(explained != error ? explained
                                            : error + " (hint: " + restore_hint(error, dump) + ")");
  }

  if (!options.timescaledb_version.empty()) timescaledb_post_restore(*conn);
}

// timescaledb_pre_restore() stops TimescaleDB's background workers and marks the database as
// restoring until timescaledb_post_restore(); both need the extension at the dump's version.
void timescaledb_pre_restore(pqxx::connection& conn, const std::string& version) {
  try {
    pqxx::nontransaction tx(conn);
    tx.exec("CREATE EXTENSION IF NOT EXISTS timescaledb VERSION " + tx.quote(version));
    tx.exec("SELECT timescaledb_pre_restore()");
  } catch (const pqxx::failure& e) {
    throw OperationError(std::string("cannot prepare TimescaleDB for the restore: ") + e.what() +
                         " (hint: install timescaledb " + version +
                         " on this server, the version the backup was taken with)");
  }
}

void timescaledb_post_restore(pqxx::connection& conn) {
  try {
    pqxx::nontransaction tx(conn);
    tx.exec("SELECT timescaledb_post_restore()");
  } catch (const pqxx::failure& e) {
    throw OperationError(std::string("timescaledb_post_restore() failed: ") + e.what());
  }
}

std::vector<TableMismatch> compare_row_counts(pqxx::connection& conn,
                                              const std::vector<TableRows>& expected) {
  const std::vector<TableRows> actual = count_rows_in(conn, expected);
  std::vector<TableMismatch> out;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const TableRows& want = expected[i];
    const std::int64_t got = actual[i].rows;
    if (got == want.rows) continue;
    out.push_back({want.schema, want.name, want.rows,
                   got < 0 ? std::nullopt : std::optional<std::int64_t>(got)});
  }
  return out;
}

std::string describe(const TableMismatch& m) {
  const std::string head =
      m.schema + "." + m.name + ": " + std::to_string(m.expected) + " rows in the backup, ";
  return head + (m.actual ? std::to_string(*m.actual) + " restored" : "missing after the restore");
}

}  // namespace pgbackup
