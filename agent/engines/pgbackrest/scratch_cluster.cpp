#include "agent/engines/pgbackrest/scratch_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <thread>

#include "agent/core/errors.h"
#include "agent/core/file_io.h"
#include "agent/core/subprocess.h"
#include "agent/postgres/postgres.h"

namespace pgbackup::pgbackrest {
namespace {

constexpr fs::perms kPrivateDir = fs::perms::owner_all;

// A postgresql.conf string value.
std::string quoted(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += c;
    out += c;
  }
  return out + "'";
}

// A port on 127.0.0.1 nobody listens on now (bound and released; the postmaster takes it next).
int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw OperationError("cannot create a socket: " + errno_text());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (!ok) throw OperationError("cannot find a free port on 127.0.0.1: " + errno_text());
  return ntohs(addr.sin_port);
}

std::string user_name(uid_t uid) {
  if (const passwd* pw = ::getpwuid(uid)) return pw->pw_name;
  return std::to_string(uid);
}

// The pid of data/postmaster.pid when that process runs in `data` (so never another's).
std::optional<pid_t> running_postmaster(const fs::path& data) {
  std::ifstream in(data / "postmaster.pid");
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  std::error_code ec;
  const fs::path cwd = fs::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec);
  if (ec || fs::weakly_canonical(cwd, ec) != fs::weakly_canonical(data, ec)) return std::nullopt;
  return static_cast<pid_t>(pid);
}

// The file's text, or "" when it cannot be read (not written yet).
std::string text_if_any(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Stops the postmaster running in `data` by signal: SIGQUIT (immediate shutdown; it exits once
// its children have, in tens of milliseconds), then SIGKILL after 10 s. Gone means no process
// runs there any more (a zombie nobody reaps counts as gone).
void kill_postmaster(pid_t pid, const fs::path& data) {
  ::kill(pid, SIGQUIT);
  for (int i = 0; i < 1000 && running_postmaster(data); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (running_postmaster(data)) ::kill(pid, SIGKILL);
}

}  // namespace

std::string scratch_conf(const ScratchSettings& s) {
  std::ostringstream out;
  out << "\n# pgbackup-agent restore test: a scratch cluster (these lines win over the above)\n"
      << "listen_addresses = '127.0.0.1'\n"
      << "port = " << s.port << "\n"
      << "unix_socket_directories = " << quoted(s.socket_dir.string()) << "\n"
      << "archive_mode = off\n"
      << "archive_command = ''\n"
      << "hot_standby = off\n"
      << "ssl = off\n"
      << "logging_collector = off\n"
      << "log_destination = 'stderr'\n"
      << "jit = off\n"
      << "recovery_init_sync_method = syncfs\n"
      // Never crash-recovered (a killed test's directory is removed, not restarted), so torn
      // pages cannot matter; with full-page images, reading every table after promotion would
      // log one for each page it prunes (170 MB of WAL and 0.4 s for 1.4 GB read).
      << "full_page_writes = off\n"
      << "timescaledb.max_background_workers = 0\n";
  for (const auto& [name, value] : s.source) out << name << " = " << quoted(value) << "\n";
  for (const auto& [name, value] : s.configured) out << name << " = " << quoted(value) << "\n";
  return out.str();
}

std::string scratch_dir_refusal(const fs::path& scratch_dir, const fs::path& pgdata) {
  if (pgdata.empty()) return "";
  const fs::path s = scratch_dir.lexically_normal() / "";
  const fs::path p = pgdata.lexically_normal() / "";
  const std::string ss = s.string(), ps = p.string();
  if (ss.rfind(ps, 0) != 0) return "";
  return "restore_test.scratch_dir " + scratch_dir.string() +
         (ss == ps ? " is the source's data directory"
                   : " is inside the source's data directory ") +
         (ss == ps ? "" : pgdata.string()) +
         " (hint: put it outside PGDATA, e.g. /var/lib/pgbackup/scratch)";
}

std::string space_refusal(const fs::path& scratch_dir, std::uint64_t available,
                          std::uint64_t needed) {
  if (available >= needed) return "";
  return "not enough space in restore_test.scratch_dir " + scratch_dir.string() +
         ": the backup's " + "database is " + std::to_string(needed) + " bytes, " +
         std::to_string(available) +
         " bytes are free (hint: free space there or point scratch_dir at a larger filesystem)";
}

std::string recovery_stopping_point(const std::string& log) {
  std::istringstream in(log);
  std::string found;
  for (std::string line; std::getline(in, line);) {
    const std::size_t at = line.find("recovery stopping ");
    if (at != std::string::npos) found = line.substr(at);
  }
  return found;
}

std::string postmaster_status(const std::string& pid_file) {
  std::istringstream in(pid_file);
  std::string line;
  for (int i = 0; i < 8; ++i) {
    if (!std::getline(in, line)) return "";
  }
  const std::size_t end = line.find_last_not_of(' ');
  return end == std::string::npos ? "" : line.substr(0, end + 1);
}

std::string fatal_lines(const std::string& log) {
  std::istringstream in(log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    // The agent's own attempts to connect while the cluster recovers are not the reason.
    if (line.find("the database system is starting up") != std::string::npos ||
        line.find("not yet accepting connections") != std::string::npos) {
      continue;
    }
    if (line.find("FATAL:") != std::string::npos || line.find("PANIC:") != std::string::npos ||
        line.find("LOG:  redo done") != std::string::npos) {
      lines.push_back(line);
    }
  }
  if (lines.size() > 3) lines.erase(lines.begin(), lines.end() - 3);
  std::string out;
  for (const std::string& l : lines) out += (out.empty() ? "" : "; ") + l;
  return out.empty() ? "(nothing in its log)" : out;
}

ScratchCluster::ScratchCluster(const fs::path& scratch_dir, const std::string& prefix,
                               SysTime now) {
  std::error_code ec;
  fs::create_directories(scratch_dir, ec);
  struct stat st {};
  if (::stat(scratch_dir.c_str(), &st) != 0) {
    throw OperationError("cannot use restore_test.scratch_dir " + scratch_dir.string() + ": " +
                         errno_text());
  }
  owner_ = ::geteuid() == 0 ? st.st_uid : ::geteuid();
  group_ = ::geteuid() == 0 ? st.st_gid : ::getegid();
  owner_name_ = user_name(owner_);
  if (::geteuid() == 0 && owner_ == 0) {
    throw OperationError("restore_test.scratch_dir " + scratch_dir.string() +
                         " belongs to root, and PostgreSQL refuses to run as root (hint: chown "
                         "postgres: " +
                         scratch_dir.string() + ")");
  }
  dir_ = scratch_dir / (prefix + format_file_stamp(now) + "-" + std::to_string(::getpid()));
  fs::create_directory(dir_);
  for (const fs::path& d : {dir_, data(), pgbackrest_dir(), pgbackrest_dir() / "lock",
                            pgbackrest_dir() / "log", pgbackrest_dir() / "spool"}) {
    fs::create_directories(d);
    fs::permissions(d, kPrivateDir);
    if (::geteuid() == 0 && ::chown(d.c_str(), owner_, group_) != 0) {
      throw OperationError("cannot give " + d.string() + " to " + owner_name_ + ": " +
                           errno_text());
    }
  }
}

ScratchCluster::~ScratchCluster() {
  stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (ec) spdlog::warn("cannot remove the scratch cluster {}: {}", dir_.string(), ec.message());
}

void ScratchCluster::write_file(const fs::path& path, const std::string& text) const {
  write_file_atomic(path, text, fs::perms::owner_read | fs::perms::owner_write);
  if (::geteuid() == 0 && ::chown(path.c_str(), owner_, group_) != 0) {
    throw OperationError("cannot give " + path.string() + " to " + owner_name_ + ": " +
                         errno_text());
  }
}

void ScratchCluster::own_files() const {
  if (::geteuid() != 0) return;
  for (const auto& e : fs::recursive_directory_iterator(dir_)) {
    if (::lchown(e.path().c_str(), owner_, group_) != 0) {
      throw OperationError("cannot give " + e.path().string() + " to " + owner_name_ + ": " +
                           errno_text());
    }
  }
}

std::vector<std::string> ScratchCluster::as_owner() const {
  if (::geteuid() != 0) return {};
  return {"runuser", "-u", owner_name_, "--"};
}

void ScratchCluster::start(ScratchSettings settings, const std::string& pg_version) {
  port_ = free_local_port();
  settings.port = port_;
  settings.socket_dir = dir_;
  const fs::path auto_conf = data() / "postgresql.auto.conf";
  std::string conf;
  if (fs::exists(auto_conf)) conf = read_file(auto_conf);
  write_file(auto_conf, conf + scratch_conf(settings));
  if (!fs::exists(data() / "postgresql.conf")) write_file(data() / "postgresql.conf", "");
  if (!fs::exists(data() / "pg_ident.conf")) write_file(data() / "pg_ident.conf", "");
  // Only the owner reaches the socket (its directory is 0700); nothing over TCP.
  write_file(data() / "pg_hba.conf", "local all all trust\nhost all all 0.0.0.0/0 reject\n");
  ProcessSpec spec;
  spec.argv = as_owner();
  for (const std::string& a :
       {client_program("pg_ctl", pg_version), std::string("-D"), data().string(), std::string("-l"),
        log().string(), std::string("-s"), std::string("-W"), std::string("start")}) {
    spec.argv.push_back(a);
  }
  spec.timeout = std::chrono::seconds(60);
  ProcessSpec named = spec;
  named.argv = {"pg_ctl start"};
  const ProcessResult r = run_process(spec);
  started_ = true;
  if (!r.ok()) {
    throw OperationError("the scratch cluster did not start: " + describe_failure(named, r) +
                         "; its log: " + fatal_lines(read_log()));
  }
}

bool ScratchCluster::postmaster_alive() const { return running_postmaster(data()).has_value(); }

std::unique_ptr<pqxx::connection> ScratchCluster::connect(const std::string& user,
                                                          const std::string& dbname) const {
  DatabaseConfig config;
  config.host = dir_.string();  // the socket directory
  config.port = port_;
  config.user = user;
  config.dbname = dbname;
  config.connect_timeout = std::chrono::seconds(5);
  return DatabaseEndpoint(config).connect();
}

void ScratchCluster::wait_promoted(const std::string& user, std::chrono::seconds timeout,
                                   const std::atomic<bool>* cancel) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto grace = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string last_error = "not ready";
  // The postmaster says in postmaster.pid when it accepts connections (with hot_standby off:
  // once recovery has ended). Reading that every 10 ms sees promotion within 10 ms, and spares
  // the recovering cluster a rejected connection, its fork and its FATAL line, ten times a
  // second; a connection is still tried each second, whatever the file says.
  for (int attempt = 0;; ++attempt) {
    if (cancel && cancel->load())
      throw OperationError("cancelled while the scratch cluster recovered");
    if (attempt % 100 == 0 ||
        postmaster_status(text_if_any(data() / "postmaster.pid")) == "ready") {
      try {
        const auto conn = connect(user, "postgres");
        pqxx::nontransaction tx(*conn);
        if (!tx.exec1("SELECT pg_is_in_recovery()")[0].as<bool>()) return;
        last_error = "still in recovery";
      } catch (const std::exception& e) {
        last_error = e.what();
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (now > grace && !postmaster_alive()) {
      throw OperationError("the scratch cluster's postmaster exited during recovery: " +
                           fatal_lines(read_log()));
    }
    if (now > deadline) {
      throw OperationError("the scratch cluster did not finish recovery within " +
                           std::to_string(timeout.count()) + "s (last: " + last_error + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void ScratchCluster::stop() noexcept {
  if (!started_) return;
  started_ = false;
  // Immediate shutdown, signalled to the postmaster itself (SIGQUIT, what `pg_ctl -m immediate`
  // sends): the cluster is deleted next, so a shutdown checkpoint (writing and syncing what the
  // replay dirtied, seconds on a large restore) would be wasted, and a pg_ctl run (through
  // runuser when the agent is root) would take longer than the shutdown itself.
  if (const std::optional<pid_t> pid = running_postmaster(data())) kill_postmaster(*pid, data());
}

std::string ScratchCluster::read_log() const {
  try {
    return read_file(log());
  } catch (const std::exception&) {
    return "";
  }
}

std::vector<fs::path> remove_scratch_leftovers(const fs::path& scratch_dir,
                                               const std::string& prefix) {
  std::vector<fs::path> removed;
  std::error_code ec;
  if (!fs::is_directory(scratch_dir, ec)) return removed;
  for (const auto& e : fs::directory_iterator(scratch_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || !e.is_directory(ec)) continue;
    if (const std::optional<pid_t> pid = running_postmaster(e.path() / "data")) {
      spdlog::warn("stopping the postmaster (pid {}) of a killed restore test in {}", *pid,
                   e.path().string());
      kill_postmaster(*pid, e.path() / "data");
    }
    fs::remove_all(e.path(), ec);
    if (ec) {
      spdlog::warn("cannot remove {}: {}", e.path().string(), ec.message());
    } else {
      removed.push_back(e.path());
    }
  }
  return removed;
}

}  // namespace pgbackup::pgbackrest
