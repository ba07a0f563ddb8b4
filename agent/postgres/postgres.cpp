#include "agent/postgres/postgres.h"

#include <pqxx/pqxx>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <tuple>

#include "agent/core/errors.h"

namespace pgbackup {
namespace {

// Quotes a value for a libpq connection string.
std::string conninfo_value(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

bool contains(const std::string& haystack, const char* needle) {
  return haystack.find(needle) != std::string::npos;
}

const char* kTablesQuery = R"sql(
SELECT n.nspname, c.relname
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2
)sql";

// TimescaleDB's relations that hold hypertable data: chunks, compressed chunks, the hypertables
// themselves, and the internal (compressed, materialization) hypertables. None of them is
// counted on its own; the user's hypertables are counted through their root.
const char* kTimescaleRelationsQuery = R"sql(
SELECT schema_name, table_name FROM _timescaledb_catalog.chunk
UNION SELECT schema_name, table_name FROM _timescaledb_catalog.hypertable
)sql";

// The user's hypertables (not the internal ones) with their chunks.
const char* kHypertablesQuery = R"sql(
SELECT h.hypertable_schema, h.hypertable_name, count(c.chunk_name),
       count(c.chunk_name) FILTER (WHERE c.is_compressed)
FROM timescaledb_information.hypertables h
LEFT JOIN timescaledb_information.chunks c
  ON c.hypertable_schema = h.hypertable_schema AND c.hypertable_name = h.hypertable_name
GROUP BY 1, 2
ORDER BY 1, 2
)sql";

const char* kContinuousAggregatesQuery = R"sql(
SELECT view_schema, view_name, hypertable_schema || '.' || hypertable_name
FROM timescaledb_information.continuous_aggregates
ORDER BY 1, 2
)sql";

const char* kTimescale = "timescaledb";

bool has_timescaledb(pqxx::transaction_base& tx) {
  return !tx.exec("SELECT 1 FROM pg_extension WHERE extname = " + tx.quote(kTimescale)).empty();
}

std::string qualified_name(pqxx::transaction_base& tx, const TableRows& t) {
  return tx.quote_name(t.schema) + "." + tx.quote_name(t.name);
}

// An ordinary table's own rows (ONLY: a partitioned or inheritance parent is not counted twice);
// a hypertable's or continuous aggregate's logical rows.
std::string count_query(pqxx::transaction_base& tx, const TableRows& t) {
  return std::string("SELECT count(*) FROM ") + (t.kind == RelationKind::table ? "ONLY " : "") +
         qualified_name(tx, t);
}

// A hypertable's chunks and compressed chunks, as (chunks, compressed).
std::pair<std::int64_t, std::int64_t> chunk_counts(pqxx::transaction_base& tx, const TableRows& t) {
  const pqxx::row r = tx.exec1(
      "SELECT count(*), count(*) FILTER (WHERE is_compressed) FROM "
      "timescaledb_information.chunks WHERE hypertable_schema = " +
      tx.quote(t.schema) + " AND hypertable_name = " + tx.quote(t.name));
  return {r[0].as<std::int64_t>(), r[1].as<std::int64_t>()};
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The hypertables (with their chunk counts) and continuous aggregates to count, and every
// relation TimescaleDB keeps their data in.
void read_timescaledb_catalog(pqxx::transaction_base& tx, RowCounts& counts,
                              std::set<std::pair<std::string, std::string>>& timescale_relations) {
  for (const auto& r : tx.exec(kTimescaleRelationsQuery)) {
    timescale_relations.emplace(r[0].as<std::string>(), r[1].as<std::string>());
  }
  for (const auto& r : tx.exec(kHypertablesQuery)) {
    TableRows t{r[0].as<std::string>(), r[1].as<std::string>(), 0, RelationKind::hypertable};
    t.chunks = r[2].as<std::int64_t>();
    t.compressed_chunks = r[3].as<std::int64_t>();
    counts.tables.push_back(std::move(t));
  }
  for (const auto& r : tx.exec(kContinuousAggregatesQuery)) {
    counts.continuous_aggregates.push_back({r[0].as<std::string>(), r[1].as<std::string>(), 0,
                                            RelationKind::continuous_aggregate, 0, 0,
                                            r[2].as<std::string>()});
  }
}

}  // namespace

const char* relation_kind_name(RelationKind kind) {
  switch (kind) {
    case RelationKind::table:
      return "table";
    case RelationKind::hypertable:
      return "hypertable";
    case RelationKind::continuous_aggregate:
      return "continuous_aggregate";
  }
  return "table";
}

RelationKind parse_relation_kind(const std::string& name) {
  if (name == "table") return RelationKind::table;
  if (name == "hypertable") return RelationKind::hypertable;
  if (name == "continuous_aggregate") return RelationKind::continuous_aggregate;
  throw std::invalid_argument("unknown relation kind \"" + name + "\"");
}

DatabaseEndpoint::DatabaseEndpoint(const DatabaseConfig& config) : config_(config) {
  if (!config_.password_env.empty()) {
    const char* value = std::getenv(config_.password_env.c_str());
    if (value == nullptr || *value == '\0') {
      throw OperationError("the environment variable " + config_.password_env +
                           " is not set, so there is no password for " + describe() +
                           " (hint: export " + config_.password_env +
                           "=<password> before starting the agent, or use passfile)");
    }
    password_ = value;
  }
}

std::string DatabaseEndpoint::describe() const {
  return config_.user + "@" + config_.host + ":" + std::to_string(config_.port) + "/" +
         config_.dbname;
}

std::string DatabaseEndpoint::connection_string(const std::string& dbname) const {
  std::string s = "host=" + conninfo_value(config_.host) + " port=" + std::to_string(config_.port) +
                  " user=" + conninfo_value(config_.user) +
                  " dbname=" + conninfo_value(dbname.empty() ? config_.dbname : dbname) +
                  " connect_timeout=" + std::to_string(config_.connect_timeout.count()) +
                  " application_name=pgbackup-agent";
  if (password_) s += " password=" + conninfo_value(*password_);
  if (!config_.passfile.empty()) s += " passfile=" + conninfo_value(config_.passfile);
  return s;
}

std::vector<std::string> DatabaseEndpoint::client_args() const {
  return {"--host=" + config_.host, "--port=" + std::to_string(config_.port),
          "--username=" + config_.user, "--no-password"};
}

std::vector<std::pair<std::string, std::string>> DatabaseEndpoint::client_env() const {
  std::vector<std::pair<std::string, std::string>> env = {
      {"PGCONNECT_TIMEOUT", std::to_string(config_.connect_timeout.count())},
      {"PGAPPNAME", "pgbackup-agent"}};
  if (password_) env.emplace_back("PGPASSWORD", *password_);
  if (!config_.passfile.empty()) env.emplace_back("PGPASSFILE", config_.passfile);
  return env;
}

std::unique_ptr<pqxx::connection> DatabaseEndpoint::connect(const std::string& dbname) const {
  try {
    return std::make_unique<pqxx::connection>(connection_string(dbname));
  } catch (const std::exception& e) {
    std::string message = e.what();
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    throw OperationError(explain_error("cannot connect to " + describe() + ": " + message));
  }
}

std::string DatabaseEndpoint::explain_error(const std::string& error) const {
  const DatabaseConfig& c = config_;
  std::string hint;
  if (contains(error, "password authentication failed") ||
      contains(error, "authentication failed for user")) {
    hint = c.password_env.empty()
               ? "check the password in the passfile for user " + c.user
               : "check the password in $" + c.password_env + " for user " + c.user;
  } else if (contains(error, "no password supplied") || contains(error, "fe_sendauth")) {
    hint = "the server wants a password: set password_env (and export that variable) or passfile";
  } else if (contains(error, "role \"") && contains(error, "does not exist")) {
    hint = "create the role first (CREATE ROLE " + c.user +
           " LOGIN PASSWORD '...'), or fix database.user";
  } else if (contains(error, "database \"") && contains(error, "does not exist")) {
    hint = "create it first: createdb -h " + c.host + " -p " + std::to_string(c.port) + " -U " +
           c.user + " " + c.dbname + ", or fix database.dbname";
  } else if (contains(error, "Connection refused") || contains(error, "could not connect") ||
             contains(error, "timeout expired") || contains(error, "No such file or directory") ||
             contains(error, "could not translate host name")) {
    hint = "is PostgreSQL running and listening on " + c.host + ":" + std::to_string(c.port) +
           "? check database.host and database.port";
  } else if (contains(error, "permission denied")) {
    hint = "the role " + c.user + " needs SELECT on every table it backs up (or use the owner)";
  }
  return hint.empty() ? error : error + " (hint: " + hint + ")";
}

struct SnapshotSession::Impl {
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>> tx;
  std::atomic<bool> cancelled{false};
};

SnapshotSession::SnapshotSession(const DatabaseEndpoint& endpoint,
                                 std::chrono::seconds statement_timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->conn = endpoint.connect();
  try {
    impl_->tx =
        std::make_unique<pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>>(*impl_->conn);
    snapshot_id_ = impl_->tx->exec1("SELECT pg_export_snapshot()")[0].as<std::string>();
    impl_->tx->exec("SET LOCAL statement_timeout = " +
                    std::to_string(statement_timeout.count() * 1000));
  } catch (const std::exception& e) {
    throw OperationError(
        endpoint.explain_error(std::string("cannot export a snapshot: ") + e.what()));
  }
}

SnapshotSession::~SnapshotSession() = default;

DatabaseInfo SnapshotSession::database_info() {
  DatabaseInfo info;
  const pqxx::row row = impl_->tx->exec1(
      "SELECT current_database(), current_setting('server_version'), "
      "pg_database_size(current_database())");
  info.name = row[0].as<std::string>();
  info.server_version = row[1].as<std::string>();
  info.size_bytes = row[2].as<std::uint64_t>();
  for (const auto& r : impl_->tx->exec("SELECT extname, extversion FROM pg_extension ORDER BY 1")) {
    info.extensions.push_back({r[0].as<std::string>(), r[1].as<std::string>()});
  }
  return info;
}

RowCounts SnapshotSession::count_rows() {
  auto& tx = *impl_->tx;
  RowCounts counts;
  std::set<std::pair<std::string, std::string>> timescale_relations;
  const bool timescale = has_timescaledb(tx);
  if (timescale) {
    // In a savepoint too: a catalog TimescaleDB cannot read must not cost pg_dump its snapshot.
    pqxx::subtransaction catalog(tx, "timescaledb_catalog");
    try {
      read_timescaledb_catalog(catalog, counts, timescale_relations);
      catalog.commit();
    } catch (const pqxx::failure& e) {
      throw OperationError(
          "cannot read TimescaleDB's catalog (hypertables, chunks, continuous "
          "aggregates): " +
          trimmed(e.what()) +
          " (hint: the dump itself is not affected; set backup.row_counts: off "
          "to back up without row counts)");
    }
  }
  for (const auto& r : tx.exec(kTablesQuery)) {
    std::pair<std::string, std::string> name{r[0].as<std::string>(), r[1].as<std::string>()};
    if (timescale_relations.count(name)) continue;
    counts.tables.push_back({std::move(name.first), std::move(name.second), 0});
  }
  std::sort(counts.tables.begin(), counts.tables.end(), [](const TableRows& a, const TableRows& b) {
    return std::tie(a.schema, a.name) < std::tie(b.schema, b.name);
  });

  const auto count = [&](TableRows& t) {
    if (impl_->cancelled) throw OperationError("row counting was cancelled");
    // A savepoint per count: an error rolls back to it and leaves the transaction, and so the
    // snapshot pg_dump imports, usable. Without it the first error aborts the transaction and
    // pg_dump dies with "invalid snapshot identifier", naming neither the table nor the cause.
    try {
      pqxx::subtransaction savepoint(tx, "row_count");
      t.rows = savepoint.exec1(count_query(savepoint, t))[0].as<std::int64_t>();
      savepoint.commit();
    } catch (const pqxx::failure& e) {
      if (impl_->cancelled) throw OperationError("row counting was cancelled");
      throw OperationError("cannot count the rows of " + std::string(relation_kind_name(t.kind)) +
                           " " + t.schema + "." + t.name + ": " + trimmed(e.what()) +
                           " (hint: the dump itself is not affected; fix the cause, or set "
                           "backup.row_counts: off to back up without row counts)");
    }
  };
  for (TableRows& t : counts.tables) count(t);
  for (TableRows& t : counts.continuous_aggregates) count(t);
  return counts;
}

ClusterGlobals SnapshotSession::cluster_globals() {
  if (impl_->cancelled) throw OperationError("reading the roles was cancelled");
  try {
    pqxx::subtransaction savepoint(*impl_->tx, "cluster_globals");
    ClusterGlobals g = read_cluster_globals(savepoint);
    savepoint.commit();
    return g;
  } catch (const pqxx::failure& e) {
    if (impl_->cancelled) throw OperationError("reading the roles was cancelled");
    throw OperationError("cannot read the roles and database settings (catalog queries): " +
                         trimmed(e.what()));
  }
}

SchemaFingerprint SnapshotSession::schema_fingerprint() {
  if (impl_->cancelled) throw OperationError("the schema fingerprint was cancelled");
  try {
    pqxx::subtransaction savepoint(*impl_->tx, "schema_fingerprint");
    SchemaFingerprint f = read_schema_fingerprint(savepoint);
    savepoint.commit();
    return f;
  } catch (const pqxx::failure& e) {
    if (impl_->cancelled) throw OperationError("the schema fingerprint was cancelled");
    throw OperationError(
        "cannot read the schema fingerprint (catalog queries): " + trimmed(e.what()) +
        " (hint: the dump itself is not affected; the role needs to read the "
        "system catalogs, which every role can by default)");
  }
}

void SnapshotSession::finish() {
  // The transaction only read; ending it without a commit cannot lose anything, and works
  // after a cancelled count too.
  if (impl_->tx) {
    impl_->tx->abort();
    impl_->tx.reset();
  }
}

std::string client_program(const std::string& name, const std::string& server_version) {
  namespace fs = std::filesystem;
  const fs::path root = "/usr/lib/postgresql";
  const std::string major = server_version.substr(0, server_version.find('.'));
  if (!major.empty()) {
    const fs::path candidate = root / major / "bin" / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    return name;
  }
  int newest = -1;
  std::error_code ec;
  for (const auto& dir : fs::directory_iterator(root, ec)) {
    const std::string v = dir.path().filename().string();
    if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) continue;
    if (::access((dir.path() / "bin" / name).c_str(), X_OK) == 0)
      newest = std::max(newest, std::stoi(v));
  }
  return newest < 0 ? name : (root / std::to_string(newest) / "bin" / name).string();
}

void SnapshotSession::cancel_query() {
  impl_->cancelled = true;
  impl_->conn->cancel_query();
}

std::vector<TableRows> count_rows_in(pqxx::connection& conn, const std::vector<TableRows>& tables) {
  pqxx::read_transaction tx(conn);
  std::vector<TableRows> out;
  for (const TableRows& t : tables) {
    TableRows found = t;
    const std::string exists =
        "SELECT to_regclass(" + tx.quote(qualified_name(tx, t)) + ") IS NOT NULL";
    if (!tx.exec1(exists)[0].as<bool>()) {
      found.rows = -1;
      out.push_back(std::move(found));
      continue;
    }
    found.rows = tx.exec1(count_query(tx, t))[0].as<std::int64_t>();
    if (t.kind == RelationKind::hypertable) {
      std::tie(found.chunks, found.compressed_chunks) = chunk_counts(tx, t);
    }
    out.push_back(std::move(found));
  }
  return out;
}

}  // namespace pgbackup
