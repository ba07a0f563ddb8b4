#include "agent/engines/pg_dump/pg_restore.h"

#include <pqxx/pqxx>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>

#include "agent/config/config.h"
#include "agent/core/errors.h"
#include "agent/core/file_io.h"
#include "agent/core/subprocess.h"
#include "agent/engines/pg_dump/pg_restore_log.h"
#include "agent/engines/pg_dump/toc.h"

namespace pgbackup {
namespace {

namespace fs = std::filesystem;

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
  if (options.no_tablespaces) argv.push_back("--no-tablespaces");
  if (options.progress) argv.push_back("--verbose");  // one line per item, for the progress
  if (!options.use_list.empty()) {
    argv.push_back("--use-list=" + options.use_list.string());
  } else {
    for (const std::string& arg : table_args(options.tables)) argv.push_back(arg);
  }
  argv.push_back(dump.string());
  return argv;
}

namespace {

// The entries a restore will handle, for its progress: those of its --use-list, all of the
// archive's, or unknown (--table: pg_restore picks them).
std::optional<std::uint64_t> items_to_restore(const fs::path& dump, const RestoreOptions& options) {
  if (!options.progress) return std::nullopt;
  if (!options.use_list.empty()) {
    return parse_toc_list(read_file(options.use_list)).entries;
  }
  if (!options.tables.empty()) return std::nullopt;
  return read_toc(dump.string()).entries;
}

// One pg_restore run; `what` names the restore in the error. With a progress, pg_restore's
// --verbose lines count the items restored (and stay out of the error).
void run_one_pg_restore(const DatabaseEndpoint& endpoint, const std::string& dbname,
                        const fs::path& dump, const RestoreOptions& options,
                        const std::string& server_version, const std::string& what,
                        ProgressLine& progress) {
  ProcessSpec spec;
  spec.argv = pg_restore_argv(endpoint, dbname, dump, options, server_version);
  spec.env = endpoint.client_env();
  spec.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout);
  spec.cancel = options.cancel;
  if (options.progress) {
    spec.on_stderr_line = [&progress](std::string_view line) {
      const PgRestoreLogLine log = parse_pg_restore_log_line(line);
      if (log.starts_item) progress.add(1, log.item);
      return !log.chatter;
    };
  }
  const ProcessResult result = run_process(spec);
  if (!result.ok()) {
    const std::string error = what + " failed: " + describe_failure(spec, result);
    const std::string explained = endpoint.explain_error(error);
    throw OperationError(explained != error ? explained
                                            : error + " (hint: " + restore_hint(error, dump) + ")");
  }
}

// A private directory for the stage lists, removed with everything in it.
struct TemporaryDirectory {
  fs::path path;
  TemporaryDirectory() {
    std::string tmpl = (fs::temp_directory_path() / "pgbackup-restore-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      throw OperationError("cannot create a temporary directory in " +
                           fs::temp_directory_path().string() + ": " + std::strerror(errno));
    }
    path = tmpl;
  }
  ~TemporaryDirectory() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// pg_restore --clean's drops, run by the agent in one transaction before the staged restore:
// pg_restore drops only the entries a --use-list selects, and the serial stage alone (without
// the constraints) would fail to drop a table another one still references.
void drop_restored_objects(pqxx::connection& conn, const fs::path& dump,
                           const std::string& dbname) {
  const std::string drops = drop_statements(read_clean_schema_sql(dump.string()));
  if (drops.empty()) return;
  try {
    pqxx::work tx(conn);
    tx.exec("SET LOCAL client_min_messages = warning");
    tx.exec(drops);
    tx.commit();
  } catch (const pqxx::failure& e) {
    throw OperationError("cannot drop the objects of " + dbname + " that " +
                         dump.filename().string() +
                         " re-creates (nothing was dropped): " + e.what() +
                         " (hint: an object that is not in the backup depends on one that is; "
                         "drop it first, as pg_restore --clean would need too)");
  }
}

void run_staged_pg_restore(pqxx::connection& conn, const DatabaseEndpoint& endpoint,
                           const std::string& dbname, const fs::path& dump,
                           const RestoreOptions& options, const std::string& server_version,
                           const std::string& what, ProgressLine& progress) {
  const RestoreStages stages = split_timescaledb_stages(read_toc_text(dump.string()),
                                                        read_toc_text(dump.string(), "pre-data"));
  if (options.clean) drop_restored_objects(conn, dump, dbname);
  const TemporaryDirectory lists;
  const auto stage = [&](const char* name, const std::string& entries, int jobs) {
    if (entries.empty()) return;
    RestoreOptions o = options;
    o.clean = false;
    o.jobs = jobs;
    o.use_list = lists.path / (std::string(name) + ".list");
    std::ofstream out(o.use_list);
    out << entries;
    if (!out.flush()) throw OperationError("cannot write " + o.use_list.string());
    run_one_pg_restore(endpoint, dbname, dump, o, server_version,
                       what + " (" + name + " stage, --jobs=" + std::to_string(jobs) + ")",
                       progress);
  };
  stage("schema-and-timescaledb-catalog", stages.serial, 1);
  stage("data-and-post-data", stages.parallel, std::max(1, options.jobs));
}

}  // namespace

void run_pg_restore(const DatabaseEndpoint& endpoint, const std::string& dbname,
                    const std::filesystem::path& dump, const RestoreOptions& options) {
  const auto conn = endpoint.connect(dbname);
  const std::string what = "restoring " + dump.filename().string() + " into " + dbname;
  if (!options.timescaledb_version.empty()) {
    timescaledb_pre_restore(*conn, options.timescaledb_version);
  }
  const std::string server_version = server_version_of(*conn);
  const bool staged = (options.timescaledb || !options.timescaledb_version.empty()) &&
                      options.use_list.empty() && !options.single_transaction;
  const std::optional<std::uint64_t> items = items_to_restore(dump, options);
  ProgressLine progress(options.progress, "restore " + dump.filename().string(),
                        ProgressUnit::items, items);
  if (staged) {
    run_staged_pg_restore(*conn, endpoint, dbname, dump, options, server_version, what, progress);
  } else {
    run_one_pg_restore(endpoint, dbname, dump, options, server_version, what, progress);
  }
  // Entries pg_restore handles without a line (ACLs under --no-acl) are done too.
  if (items) progress.update(*items);
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
    const TableRows& got = actual[i];
    const bool chunks_differ =
        want.kind == RelationKind::hypertable && got.rows >= 0 &&
        (got.chunks != want.chunks || got.compressed_chunks != want.compressed_chunks);
    if (got.rows == want.rows && !chunks_differ) continue;
    TableMismatch m{want.schema, want.name, want.rows,
                    got.rows < 0 ? std::nullopt : std::optional<std::int64_t>(got.rows)};
    m.kind = want.kind;
    m.expected_chunks = {want.chunks, want.compressed_chunks};
    m.actual_chunks = {got.chunks, got.compressed_chunks};
    out.push_back(std::move(m));
  }
  return out;
}

std::string describe(const TableMismatch& m) {
  const bool hypertable = m.kind == RelationKind::hypertable;
  const auto rows = [&](std::int64_t n, const std::pair<std::int64_t, std::int64_t>& chunks) {
    std::string s = std::to_string(n) + " rows";
    if (hypertable) {
      s += " in " + std::to_string(chunks.first) + " chunks (" + std::to_string(chunks.second) +
           " compressed)";
    }
    return s;
  };
  const char* prefix = hypertable                                     ? "hypertable "
                       : m.kind == RelationKind::continuous_aggregate ? "continuous aggregate "
                                                                      : "";
  const std::string head = prefix + m.schema + "." + m.name + ": " +
                           rows(m.expected, m.expected_chunks) + " in the backup, ";
  return head + (!m.actual
                     ? std::string("missing after the restore")
                     // An ordinary table keeps its short form: "..., 990 restored".
                     : (hypertable ? rows(*m.actual, m.actual_chunks) : std::to_string(*m.actual)) +
                           " restored");
}

}  // namespace pgbackup
