#include "agent/storage/posix_storage.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "agent/core/errors.h"
#include "agent/core/file_io.h"

namespace pgbackup {
namespace {

std::string user_name(uid_t uid) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[1024];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found) {
    return std::string(found->pw_name) + " (uid " + std::to_string(uid) + ")";
  }
  return "uid " + std::to_string(uid);
}

EntryFacts facts_of(const struct stat& st) { return {st.st_mode, st.st_uid, {}}; }

// The owner of the directory itself (following a symbolic link: backup.dir may be one).
uid_t owner_of(const fs::path& dir) {
  struct stat st {};
  return ::stat(dir.c_str(), &st) == 0 ? st.st_uid : ::geteuid();
}

std::string refusal_here(const fs::path& dir, const EntryFacts& facts) {
  return refusal_reason(facts, ::geteuid(), owner_of(dir));
}

void require_plain(const fs::path& dir, const std::string& name) {
  if (!is_plain_file_name(name)) {
    throw OperationError("refusing \"" + name + "\": not a file name directly in " + dir.string());
  }
}

}  // namespace

bool is_plain_file_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

std::string refusal_reason(const EntryFacts& facts, uid_t agent_uid, uid_t dir_owner) {
  if (S_ISLNK(facts.mode)) {
    return "a symbolic link" +
           (facts.link_target.empty() ? std::string() : " to " + facts.link_target) +
           "; the agent reads only regular files in backup.dir (hint: move the file itself "
           "into backup.dir, or remove the link)";
  }
  if (!S_ISREG(facts.mode)) return "not a regular file (hint: remove it from backup.dir)";
  const bool trusted = facts.owner == agent_uid ||
                       (agent_uid == 0 && (facts.owner == 0 || facts.owner == dir_owner));
  if (!trusted) {
    return "owned by " + user_name(facts.owner) + ", not by the agent's user " +
           user_name(agent_uid) +
           " (hint: if it is a backup of yours, chown it to the agent's user; else move it out "
           "of backup.dir)";
  }
  return "";
}

std::vector<LocalFile> PosixStorage::entries() const {
  std::vector<LocalFile> out;
  const uid_t agent = ::geteuid();
  const uid_t dir_owner = owner_of(dir_);
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(dir_, ec)) {
    const fs::path path = item.path();
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;  // gone since readdir: not there
    EntryFacts facts = facts_of(st);
    if (S_ISLNK(st.st_mode)) facts.link_target = fs::read_symlink(path, ec).string();
    out.push_back({path.filename().string(), static_cast<std::uint64_t>(st.st_size),
                   refusal_reason(facts, agent, dir_owner)});
  }
  return out;
}

std::vector<StoredFile> PosixStorage::list() {
  std::vector<StoredFile> out;
  for (const LocalFile& f : entries()) {
    if (f.refused.empty()) out.push_back({f.name, f.size});
  }
  return out;
}

std::optional<std::string> PosixStorage::read_if_present(const std::string& name) const {
  require_plain(dir_, name);
  const fs::path path = dir_ / name;
  // O_NOFOLLOW: a symbolic link put here after a listing fails with ELOOP instead of being read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    if (errno == ELOOP) {
      throw OperationError("refusing " + path.string() + ": " +
                           refusal_here(dir_, {S_IFLNK, 0, fs::read_symlink(path).string()}));
    }
    throw OperationError("cannot read " + path.string() + ": " + errno_text());
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    throw OperationError("cannot read " + path.string() + ": " + errno_text());
  if (const std::string why = refusal_here(dir_, facts_of(st)); !why.empty()) {
    throw OperationError("refusing " + path.string() + ": " + why);
  }
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      throw OperationError("cannot read " + path.string() + ": " + errno_text());
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

std::string PosixStorage::read(const std::string& name) {
  std::optional<std::string> text = read_if_present(name);
  if (!text) throw OperationError("cannot read " + address(name) + ": " + std::strerror(ENOENT));
  return std::move(*text);
}

void PosixStorage::remove(const std::string& name) {
  require_plain(dir_, name);
  const fs::path path = dir_ / name;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;  // already gone
  EntryFacts facts = facts_of(st);
  std::error_code ec;
  if (S_ISLNK(st.st_mode)) facts.link_target = fs::read_symlink(path, ec).string();
  if (const std::string why = refusal_here(dir_, facts); !why.empty()) {
    throw OperationError("refusing to delete " + path.string() + ": " + why);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    throw OperationError("cannot delete " + path.string() + ": " + errno_text());
  }
}

void PosixStorage::sync() { fsync_path(dir_); }

}  // namespace pgbackup
