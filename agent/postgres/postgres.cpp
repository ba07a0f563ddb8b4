#include "agent/postgres/postgres.h"

#include <pqxx/pqxx>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>

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

}  // namespace

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

std::vector<TableRows> SnapshotSession::count_rows() {
  std::vector<TableRows> tables;
  for (const auto& r : impl_->tx->exec(kTablesQuery)) {
    tables.push_back({r[0].as<std::string>(), r[1].as<std::string>(), 0});
  }
  for (TableRows& t : tables) {
    if (impl_->cancelled) throw OperationError("row counting was cancelled");
    t.rows = impl_->tx
                 ->exec1("SELECT count(*) FROM ONLY " + impl_->tx->quote_name(t.schema) + "." +
                         impl_->tx->quote_name(t.name))[0]
                 .as<std::int64_t>();
  }
  return tables;
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
    const std::string exists = "SELECT to_regclass(" +
                               tx.quote(tx.quote_name(t.schema) + "." + tx.quote_name(t.name)) +
                               ") IS NOT NULL";
    if (!tx.exec1(exists)[0].as<bool>()) {
      out.push_back({t.schema, t.name, -1});
      continue;
    }
    out.push_back({t.schema, t.name,
                   tx.exec1("SELECT count(*) FROM ONLY " + tx.quote_name(t.schema) + "." +
                            tx.quote_name(t.name))[0]
                       .as<std::int64_t>()});
  }
  return out;
}

}  // namespace pgbackup
