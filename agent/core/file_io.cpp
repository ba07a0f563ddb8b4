#include "agent/core/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "agent/core/errors.h"

namespace pgbackup {
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

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
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
  if (!write_all(fd, content) || ::fsync(fd) != 0) {
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

}  // namespace pgbackup
