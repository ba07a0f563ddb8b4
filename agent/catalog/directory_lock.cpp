#include "agent/catalog/directory_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/core/errors.h"
#include "agent/core/file_io.h"

namespace pgbackup {

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

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);
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

}  // namespace pgbackup
