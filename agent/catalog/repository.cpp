#include "agent/catalog/repository.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/core/errors.h"

namespace pgbackup {
namespace {

constexpr const char* kDumpSuffix = ".dump";
constexpr const char* kPartialSuffix = ".dump.partial";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string errno_text() { return std::strerror(errno); }

std::string current_user() {
  passwd pw{};
  passwd* result = nullptr;
  char buf[1024];
  if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &result) == 0 && result) return pw.pw_name;
  return std::to_string(geteuid());
}

nlohmann::json attempt_to_json(const JobAttempt& a) {
  return {{"started_at", to_unix_seconds(a.started_at)},
          {"finished_at", to_unix_seconds(a.finished_at)},
          {"success", a.success},
          {"error", a.error},
          {"file", a.file}};
}

std::optional<JobAttempt> attempt_from_json(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_object()) return std::nullopt;
  const auto& a = j[key];
  JobAttempt out;
  out.started_at = from_unix_seconds(a.value("started_at", 0.0));
  out.finished_at = from_unix_seconds(a.value("finished_at", 0.0));
  out.success = a.value("success", false);
  out.error = a.value("error", "");
  out.file = a.value("file", "");
  return out;
}

}  // namespace

const BackupEntry* newest_good(const std::vector<BackupEntry>& entries) {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (it->good()) return &*it;
  }
  return nullptr;
}

const BackupEntry& select_backup(const std::vector<BackupEntry>& entries,
                                 const std::optional<fs::path>& file, const fs::path& dir) {
  if (!file) {
    const BackupEntry* newest = newest_good(entries);
    if (!newest) {
      throw OperationError("there is no good backup in " + dir.string() +
                           " (hint: take one with pgbackup-agent backup)");
    }
    return *newest;
  }
  const fs::path wanted = fs::weakly_canonical(*file);
  for (const BackupEntry& b : entries) {
    if (fs::weakly_canonical(b.dump) == wanted) return b;
  }
  throw OperationError(file->string() + " is not a backup in " + dir.string() +
                       " (hint: pgbackup-agent list shows the backups)");
}

Repository::Repository(fs::path dir, std::string prefix)
    : dir_(std::move(dir)), prefix_(std::move(prefix)) {}

fs::path Repository::dump_path(SysTime started) const {
  return dir_ / (prefix_ + "_" + format_file_stamp(started) + kDumpSuffix);
}

void Repository::prepare() const {
  std::error_code ec;
  if (!fs::exists(dir_, ec)) {
    try {
      create_private_dir(dir_);
    } catch (const OperationError&) {
      throw OperationError("cannot create the backup directory " + dir_.string() + ": " +
                           errno_text() + " (hint: sudo mkdir -p " + dir_.string() +
                           " && sudo chown $(id -un): " + dir_.string() + " && chmod 700 " +
                           dir_.string() + ")");
    }
  }
  if (!fs::is_directory(dir_, ec)) {
    throw OperationError("the backup directory " + dir_.string() +
                         " is not a directory (hint: fix backup.dir)");
  }
  if (::access(dir_.c_str(), W_OK | X_OK) != 0) {
    throw OperationError("permission denied: cannot write to the backup directory " +
                         dir_.string() + " (hint: sudo chown $(id -un): " + dir_.string() +
                         " && chmod 700 " + dir_.string() + ")");
  }
  tighten_mode();
  create_private_dir(state_dir());
}

void Repository::tighten_mode() const {
  // Backups hold every row of the database: an existing directory that others can read or enter
  // (e.g. made by hand with the default umask) is closed to them, as a new one would be.
  struct stat st {};
  if (::stat(dir_.c_str(), &st) != 0 || (st.st_mode & 077) == 0) return;
  if (::chmod(dir_.c_str(), 0700) == 0) {
    spdlog::warn("the backup directory {} was mode {:o}; changed it to 700", dir_.string(),
                 st.st_mode & 0777);
  } else {
    spdlog::warn(
        "the backup directory {} is mode {:o} and cannot be changed ({}); hint: chmod 700 {}",
        dir_.string(), st.st_mode & 0777, errno_text(), dir_.string());
  }
}

std::optional<SysTime> Repository::parse_dump_name(const std::string& name) const {
  const std::string head = prefix_ + "_";
  if (name.rfind(head, 0) != 0 || !ends_with(name, kDumpSuffix)) return std::nullopt;
  return parse_file_stamp(
      name.substr(head.size(), name.size() - head.size() - std::strlen(kDumpSuffix)));
}

std::vector<BackupEntry> Repository::scan() const {
  std::vector<BackupEntry> out;
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(dir_, ec)) {
    const auto started = parse_dump_name(item.path().filename().string());
    if (!started) continue;
    BackupEntry entry;
    entry.dump = item.path();
    entry.started_at = *started;
    entry.file_size = item.file_size(ec);
    const fs::path manifest = entry.manifest_path();
    if (!fs::exists(manifest, ec)) {
      entry.manifest_error = "no manifest (the backup did not finish)";
    } else {
      try {
        entry.manifest = manifest_from_json(nlohmann::json::parse(read_file(manifest)));
      } catch (const std::exception& e) {
        entry.manifest_error = std::string("unreadable manifest: ") + e.what();
      }
    }
    out.push_back(std::move(entry));
  }
  std::sort(out.begin(), out.end(),
            [](const BackupEntry& a, const BackupEntry& b) { return a.started_at < b.started_at; });
  return out;
}

std::vector<fs::path> Repository::partials() const {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(dir_, ec)) {
    const std::string name = item.path().filename().string();
    if (name.rfind(prefix_ + "_", 0) == 0 && ends_with(name, kPartialSuffix)) {
      out.push_back(item.path());
    }
  }
  return out;
}

std::vector<fs::path> Repository::remove_partials() const {
  std::vector<fs::path> removed;
  std::error_code ec;
  for (const fs::path& p : partials()) {
    if (fs::remove(p, ec)) removed.push_back(p);
  }
  return removed;
}

bool Repository::backup_running() const {
  return !partials().empty() && directory_lock_held(state_dir());
}

FilesystemStats Repository::filesystem() const {
  struct statvfs st {};
  if (::statvfs(dir_.c_str(), &st) != 0) return {};
  return {static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize,
          static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize};
}

DirectoryLock::DirectoryLock(const fs::path& state_dir, std::chrono::milliseconds wait) {
  create_private_dir(state_dir);
  const fs::path path = state_dir / "lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw OperationError("cannot open " + path.string() + ": " + errno_text());
  // The real monotonic clock, not the injected one: the wait is for another process to release a
  // kernel flock, which a test clock cannot hasten; like core/subprocess's timeouts it is a
  // low-level timeout, and routing the clock through every DirectoryLock would buy no test.
  const auto give_up = std::chrono::steady_clock::now() + wait;
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    fd_ = -1;
    throw OperationError("another pgbackup-agent is working in " +
                         state_dir.parent_path().string() + " (it holds " + path.string() +
                         "); hint: wait for it to finish, one writer per directory");
  }
}

bool directory_lock_held(const fs::path& state_dir) {
  // Trying the flock ourselves could make a starting job fail with "another pgbackup-agent is
  // working"; /proc/locks lists held locks as "N: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE ...".
  struct stat st {};
  if (::stat((state_dir / "lock").c_str(), &st) != 0) return false;
  char wanted[64];
  std::snprintf(wanted, sizeof wanted, "%02x:%02x:%lu", major(st.st_dev), minor(st.st_dev),
                static_cast<unsigned long>(st.st_ino));
  std::ifstream locks("/proc/locks");
  std::string line;
  while (std::getline(locks, line)) {
    std::istringstream fields(line);
    std::string id, kind, mode, access, pid, file;
    fields >> id >> kind >> mode >> access >> pid >> file;
    if (kind == "FLOCK" && file == wanted) return true;
  }
  return false;
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);
}

void fsync_path(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void create_private_dir(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return;
  if (path.has_parent_path() && path.parent_path() != path) create_private_dir(path.parent_path());
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    throw OperationError("cannot create directory " + path.string() + ": " + errno_text());
  }
}

void write_file_atomic(const fs::path& path, const std::string& content, fs::perms mode) {
  // A temporary name of its own (mkstemp) in the same directory: two writers of one file (the
  // uploader thread and a job both saving state.json, say) must not share one "<file>.tmp" and
  // truncate each other's half-written content before the rename.
  std::string tmp_name = path.string() + ".tmp.XXXXXX";
  const int fd = ::mkostemp(tmp_name.data(), O_CLOEXEC);
  const fs::path tmp = tmp_name;
  if (fd < 0) {
    throw OperationError("cannot write a temporary file for " + path.string() + ": " +
                         errno_text());
  }
  auto fail = [&](const std::string& what) {
    const std::string why = errno_text();
    ::unlink(tmp.c_str());
    throw OperationError(what + ": " + why);
  };
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    ::close(fd);
    fail("cannot write " + tmp.string());
  }
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      errno = saved;
      fail("cannot write " + tmp.string());
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    fail("cannot write " + tmp.string());
  }
  if (::close(fd) != 0) fail("cannot write " + tmp.string());
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    fail("cannot rename " + tmp.string() + " to " + path.string());
  }
  fsync_path(path.parent_path());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw OperationError("cannot read " + path.string() + ": " + errno_text());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void append_json_line(const fs::path& path, const nlohmann::json& entry) {
  const std::string line = entry.dump() + "\n";
  create_private_dir(path.parent_path());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) throw OperationError("cannot write " + path.string() + ": " + errno_text());
  // One write() of one line with O_APPEND: lines from concurrent writers do not interleave.
  const ssize_t n = ::write(fd, line.data(), line.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) {
    throw OperationError("cannot write " + path.string() + ": " + errno_text());
  }
}

void append_audit(const fs::path& log, nlohmann::json entry, SysTime at) {
  entry["ts"] = format_iso8601(at);
  entry["user"] = current_user();
  entry["pid"] = ::getpid();
  append_json_line(log, entry);
}

TargetState load_state(const fs::path& state_dir) {
  TargetState state;
  std::error_code ec;
  const fs::path path = state_dir / "state.json";
  if (!fs::exists(path, ec)) return state;
  try {
    const auto j = nlohmann::json::parse(read_file(path));
    state.backup = attempt_from_json(j, "backup");
    state.restore_test = attempt_from_json(j, "restore_test");
    state.offsite = attempt_from_json(j, "offsite");
  } catch (const std::exception&) {
    // A damaged state file only loses "last attempt" facts; the backups themselves are intact.
  }
  return state;
}

void save_state(const fs::path& state_dir, const TargetState& state) {
  nlohmann::json j = nlohmann::json::object();
  if (state.backup) j["backup"] = attempt_to_json(*state.backup);
  if (state.restore_test) j["restore_test"] = attempt_to_json(*state.restore_test);
  if (state.offsite) j["offsite"] = attempt_to_json(*state.offsite);
  create_private_dir(state_dir);
  write_file_atomic(state_dir / "state.json", j.dump(2) + "\n",
                    fs::perms::owner_read | fs::perms::owner_write);
}

void record_attempt(const fs::path& state_dir, const std::string& job, const JobAttempt& attempt) {
  // A read-modify-write of the whole file, called by jobs holding the directory lock and by the
  // off-site uploader thread that does not: a short lock of its own (.pgbackup/state.lock,
  // blocking, held only for the read and write) keeps one writer from losing another's update.
  create_private_dir(state_dir);
  const fs::path lock_path = state_dir / "state.lock";
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) throw OperationError("cannot open " + lock_path.string() + ": " + errno_text());
  while (::flock(lock_fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      const std::string why = errno_text();
      ::close(lock_fd);
      throw OperationError("cannot lock " + lock_path.string() + ": " + why);
    }
  }
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }  // closing the descriptor releases the flock
  } unlock{lock_fd};
  TargetState state = load_state(state_dir);
  if (job == "backup") state.backup = attempt;
  if (job == "restore_test") state.restore_test = attempt;
  if (job == "offsite") state.offsite = attempt;
  save_state(state_dir, state);
}

}  // namespace pgbackup
