#include "tests/support/pg_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace pgtest {
namespace {

const char* kBinDir = "/usr/lib/postgresql/15/bin";
const fs::path kTimescaleControl = "/usr/share/postgresql/15/extension/timescaledb.control";
const fs::path kTimescaleLibrary = "/usr/lib/postgresql/15/lib/timescaledb.so";

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path temp_root();

// Removes the test temp area at exit. Created by temp_root() before any cluster finishes its
// construction, so destroyed after every cluster (statics go in reverse order).
struct TempRootCleaner {
  ~TempRootCleaner() {
    std::error_code ec;
    if (std::getenv("PGBACKUP_KEEP_TEST_DIRS") == nullptr) fs::remove_all(temp_root(), ec);
  }
};

fs::path temp_root() {
  static const fs::path root = [] {
    std::string tmpl = (fs::temp_directory_path() / "pgbackup-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    ::chmod(tmpl.c_str(), 0755);
    return fs::path(tmpl);
  }();
  static TempRootCleaner cleaner;
  return root;
}

}  // namespace

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

fs::path make_temp_dir(const std::string& name) {
  static int counter = 0;
  const fs::path dir = temp_root() / (name + "-" + std::to_string(++counter));
  fs::create_directories(dir);
  return dir;
}

PgCluster& PgCluster::shared() {
  static PgCluster cluster;
  return cluster;
}

PgCluster& PgCluster::second() {
  static PgCluster cluster;
  return cluster;
}

PgCluster::PgCluster() : PgCluster(PgClusterOptions{}) {}

PgCluster::PgCluster(const PgClusterOptions& options) : timescaledb_(options.timescaledb) {
  dir_ = make_temp_dir("pg");
  const bool root = ::geteuid() == 0;
  if (root) {
    const passwd* pw = ::getpwnam("postgres");
    if (!pw) throw std::runtime_error("no postgres user (run scripts/setup)");
    if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown");
  }
  port_ = free_port();
  if (!options.initdb) {
    fs::create_directory(data_dir());
    fs::permissions(data_dir(), fs::perms::owner_all);
    if (root) {
      const passwd* pw = ::getpwnam("postgres");
      if (::chown(data_dir().c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        throw std::runtime_error("chown");
      }
    }
    if (options.start) start();
    return;
  }
  const fs::path pwfile = dir_ / "pwfile";
  std::ofstream(pwfile) << kPassword << "\n";
  if (root) {
    const passwd* pw = ::getpwnam("postgres");
    [[maybe_unused]] int rc = ::chown(pwfile.c_str(), pw->pw_uid, pw->pw_gid);
  }
  const auto init =
      as_postgres({std::string(kBinDir) + "/initdb", "-D", (dir_ / "data").string(), "-U",
                   kSuperuser, "--auth=scram-sha-256", "--pwfile=" + pwfile.string(), "--no-sync",
                   "-E", "UTF8", "--locale=C"});
  if (!init.ok()) throw std::runtime_error("initdb failed: " + init.err + init.out);
  if (!options.settings.empty()) {
    std::ofstream conf(data_dir() / "postgresql.conf", std::ios::app);
    for (const auto& [name, value] : options.settings) {
      std::string quoted;
      for (const char c : value) quoted += c == '\'' ? std::string("''") : std::string(1, c);
      conf << name << " = '" << quoted << "'\n";
    }
  }
  if (!options.hba_lines.empty()) {
    const std::string hba = read_text(data_dir() / "pg_hba.conf");
    std::ofstream out(data_dir() / "pg_hba.conf", std::ios::trunc);
    for (const auto& line : options.hba_lines) out << line << "\n";
    out << hba;
  }
  if (options.start) start();
}

PgCluster::~PgCluster() {
  try {
    stop();
  } catch (...) {
  }
}

pgbackup::ProcessResult PgCluster::as_postgres(std::vector<std::string> argv) {
  if (::geteuid() == 0) argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
  pgbackup::ProcessSpec spec;
  spec.argv = std::move(argv);
  spec.timeout = std::chrono::seconds(120);
  return pgbackup::run_process(spec);
}

bool PgCluster::timescaledb_installed() { return !timescaledb_version().empty(); }

std::string PgCluster::timescaledb_version() {
  std::error_code ec;
  if (!fs::exists(kTimescaleLibrary, ec) || !fs::exists(kTimescaleControl, ec)) return "";
  const std::string control = read_text(kTimescaleControl);
  // The real control file loads a library; an older test stand-in's did not.
  if (control.find("module_pathname") == std::string::npos) return "";
  const auto at = control.find("default_version = '");
  if (at == std::string::npos) return "";
  const auto start = at + std::strlen("default_version = '");
  return control.substr(start, control.find('\'', start) - start);
}

void PgCluster::start() {
  if (running_) return;
  std::string opts = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " +
                     dir_.string() +
                     " -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                     "-c max_connections=50 -c shared_buffers=64MB";
  if (timescaledb_ && timescaledb_installed()) {
    // No telemetry from a test; few background workers (policies, continuous aggregates).
    opts +=
        " -c shared_preload_libraries=timescaledb -c timescaledb.telemetry_level=off "
        "-c timescaledb.max_background_workers=4 -c max_worker_processes=12";
  }
  const auto r = as_postgres({std::string(kBinDir) + "/pg_ctl", "-D", (dir_ / "data").string(),
                              "-l", (dir_ / "log").string(), "-w", "-o", opts, "start"});
  if (!r.ok()) {
    throw std::runtime_error("pg_ctl start failed: " + r.err + r.out + read_text(dir_ / "log"));
  }
  running_ = true;
}

void PgCluster::stop() {
  if (!running_) return;
  as_postgres({std::string(kBinDir) + "/pg_ctl", "-D", (dir_ / "data").string(), "-m", "fast", "-w",
               "stop"});
  running_ = false;
}

std::string PgCluster::connection_string(const std::string& db) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + kSuperuser +
         " password=" + kPassword + " dbname=" + db;
}

void PgCluster::exec(const std::string& sql, const std::string& db) {
  pqxx::connection conn(connection_string(db));
  pqxx::nontransaction tx(conn);
  tx.exec(sql);
}

std::string PgCluster::query_value(const std::string& sql, const std::string& db) {
  pqxx::connection conn(connection_string(db));
  pqxx::nontransaction tx(conn);
  const pqxx::result r = tx.exec(sql);
  return r.empty() || r[0][0].is_null() ? "" : r[0][0].as<std::string>();
}

void PgCluster::create_database(const std::string& name) {
  exec("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
  exec("CREATE DATABASE \"" + name + "\"");
}

void PgCluster::load_demo_data(const std::string& db, int scale) {
  const fs::path sql = fs::path(PGBACKUP_SOURCE_DIR) / "scripts/sql/pnode_pulse.sql";
  exec("SET pnode.scale = " + std::to_string(scale) + ";\n" + read_text(sql), db);
}

void PgCluster::load_timescaledb_data(const std::string& db, int scale) {
  const fs::path sql = fs::path(PGBACKUP_SOURCE_DIR) / "scripts/sql/pnode_pulse_timescaledb.sql";
  // One statement at a time, outside any transaction block (see the script's header).
  pqxx::connection conn(connection_string(db));
  pqxx::nontransaction tx(conn);
  tx.exec("SET pnode.scale = " + std::to_string(scale));
  std::istringstream lines(read_text(sql));
  std::string statement;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("--", 0) == 0) continue;
    statement += line + "\n";
    if (!line.empty() && line.back() == ';') {
      tx.exec(statement);
      statement.clear();
    }
  }
}

std::map<std::string, long long> PgCluster::table_counts(const std::string& db) {
  pqxx::connection conn(connection_string(db));
  pqxx::nontransaction tx(conn);
  std::map<std::string, long long> out;
  for (const auto& row :
       tx.exec("SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
               "c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', "
               "'information_schema') AND n.nspname NOT LIKE 'pg_toast%'")) {
    const std::string schema = row[0].as<std::string>(), name = row[1].as<std::string>();
    out[schema + "." + name] = tx.exec1("SELECT count(*) FROM ONLY " + tx.quote_name(schema) + "." +
                                        tx.quote_name(name))[0]
                                   .as<long long>();
  }
  return out;
}

TableLock::TableLock(const std::string& db, const std::string& table)
    : conn_(PgCluster::shared().connection_string(db)), tx_(std::make_unique<pqxx::work>(conn_)) {
  tx_->exec("LOCK TABLE " + conn_.quote_name(table) + " IN ACCESS EXCLUSIVE MODE");
}

TableLock::~TableLock() { release(); }

void TableLock::release() {
  if (!tx_) return;
  tx_->abort();
  tx_.reset();
}

fs::path wait_for_partial(const fs::path& dir) {
  for (int i = 0; i < 200; ++i) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".partial") return e.path();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return {};
}

}  // namespace pgtest
