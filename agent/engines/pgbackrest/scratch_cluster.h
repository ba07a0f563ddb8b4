#pragma once

// A restore test's scratch cluster (DESIGN §11): a fresh 0700 directory under
// restore_test.scratch_dir holding the restored data directory, a private pgbackrest.conf with
// its own lock, log and spool paths, the postmaster's socket and log. The postmaster runs as the
// directory's owner (PostgreSQL refuses root), listens on 127.0.0.1 only, on a port no one
// uses, and never archives. What a killed test leaves is found by its name and removed.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "agent/core/timeutil.h"

namespace pgbackup::pgbackrest {

namespace fs = std::filesystem;

// What the scratch cluster's postgresql.auto.conf gets after pgBackRest's own lines (later
// lines win): the safety settings, then the source's, then the configured ones.
struct ScratchSettings {
  int port = 0;
  fs::path socket_dir;
  // The source's shared_preload_libraries and max_* settings, by name.
  std::map<std::string, std::string> source;
  // restore_test.settings.
  std::map<std::string, std::string> configured;
};
// Pure: the lines appended to postgresql.auto.conf.
std::string scratch_conf(const ScratchSettings& settings);

// Pure: why `scratch_dir` may not be used with a source whose data directory is `pgdata` (it is
// PGDATA or inside it), or "" (compared lexically after normalising both).
std::string scratch_dir_refusal(const fs::path& scratch_dir, const fs::path& pgdata);
// Pure: why a restore needing `needed` bytes does not fit in `available` bytes, or "".
std::string space_refusal(const fs::path& scratch_dir, std::uint64_t available,
                          std::uint64_t needed);

// Pure: where the log says recovery stopped ("recovery stopping before commit of transaction
// 745, time 2026-12-06 14:04:00.5+00"), or "" when it did not stop at a target.
std::string recovery_stopping_point(const std::string& log);
// Pure: the postmaster's status in the text of its postmaster.pid (its eighth line: "starting",
// "standby", "ready" once it accepts connections, "stopping"), or "" before it has written one.
std::string postmaster_status(const std::string& pid_file);
// Pure: the FATAL/PANIC lines of a postmaster log (the last few), for messages.
std::string fatal_lines(const std::string& log);

class ScratchCluster {
 public:
  // Makes <scratch_dir>/<prefix><stamp> 0700, owned by scratch_dir's owner (when the agent runs
  // as root), with data/ and pgbackrest/{lock,log,spool}. Throws OperationError.
  ScratchCluster(const fs::path& scratch_dir, const std::string& prefix, SysTime now);
  ~ScratchCluster();  // stops the postmaster if running, removes the directory
  ScratchCluster(const ScratchCluster&) = delete;
  ScratchCluster& operator=(const ScratchCluster&) = delete;

  const fs::path& dir() const { return dir_; }
  fs::path data() const { return dir_ / "data"; }
  fs::path log() const { return dir_ / "postmaster.log"; }
  fs::path pgbackrest_dir() const { return dir_ / "pgbackrest"; }
  int port() const { return port_; }

  // Writes `text` as a file of the cluster (0600, owned like the directory).
  void write_file(const fs::path& path, const std::string& text) const;
  // After the restore: gives every file to the directory's owner (when the agent is root).
  void own_files() const;
  // Picks a free port on 127.0.0.1, appends `settings` (port and socket filled in) to
  // postgresql.auto.conf, writes pg_hba.conf (local trust only) and an empty postgresql.conf
  // when the backup has none, and starts the postmaster (pg_ctl of `pg_version`).
  void start(ScratchSettings settings, const std::string& pg_version);
  // Waits until the server accepts connections as `user` and has left recovery; throws
  // OperationError with the log's FATAL lines when the postmaster exits, or on timeout/cancel.
  void wait_promoted(const std::string& user, std::chrono::seconds timeout,
                     const std::atomic<bool>* cancel);
  std::unique_ptr<pqxx::connection> connect(const std::string& user,
                                            const std::string& dbname) const;
  // An immediate shutdown (SIGQUIT to the postmaster: the cluster is thrown away, so no
  // shutdown checkpoint), SIGKILL if it still runs after 10 s; never throws.
  void stop() noexcept;
  std::string read_log() const;

 private:
  std::vector<std::string> as_owner() const;
  bool postmaster_alive() const;

  fs::path dir_;
  uid_t owner_ = 0;
  gid_t group_ = 0;
  std::string owner_name_;
  int port_ = 0;
  bool started_ = false;
};

// Removes the scratch directories under `scratch_dir` whose name starts with `prefix` (a killed
// test's), first stopping a postmaster still running in one. Returns what it removed.
std::vector<fs::path> remove_scratch_leftovers(const fs::path& scratch_dir,
                                               const std::string& prefix);

}  // namespace pgbackup::pgbackrest
