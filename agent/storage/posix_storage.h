#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/storage/storage.h"

namespace pgbackup {

// What the agent reads from a backup directory: regular files directly in it, owned by the
// agent's user. Nothing else is ever read, verified, restored or deleted as a backup: not a
// symbolic link (wherever it points), not a directory or device, not a file of another user.
// These are the pure parts of that rule; PosixStorage applies them to what lstat says.

// A name of a file directly in a directory: not empty, not "." or "..", no '/' and no NUL.
bool is_plain_file_name(std::string_view name);

// One directory entry as lstat describes it (the link itself, never what it points to).
struct EntryFacts {
  mode_t mode = 0;
  uid_t owner = 0;
  std::string link_target;  // a symbolic link's contents
};

// Why the entry is not read, or "" when it is a regular file owned by `agent_uid` -- or, when
// the agent runs as root, by root or `dir_owner` (the backup directory's owner: root acting on
// the agent user's directory). The reason says what to do about it.
std::string refusal_reason(const EntryFacts& facts, uid_t agent_uid, uid_t dir_owner);

// One entry of the backup directory.
struct LocalFile {
  std::string name;
  std::uint64_t size = 0;  // of the entry itself (a symbolic link: of the link)
  std::string refused;     // why it is not read (refusal_reason); empty when it is
};

// A directory on a local filesystem (the backup directory). The one place where the agent
// lists, reads and removes its files, under the rule above; a file that vanishes meanwhile (a
// prune running in another process) is simply not there.
class PosixStorage : public Storage {
 public:
  explicit PosixStorage(std::filesystem::path dir) : dir_(std::move(dir)) {}

  std::string address(const std::string& name) const override { return (dir_ / name).string(); }
  // Every entry of the directory, refused ones included (with their reason), by name.
  std::vector<LocalFile> entries() const;
  // The files entries() does not refuse.
  std::vector<StoredFile> list() override;
  // Opened without following a symbolic link and checked again on the open file. Throws
  // OperationError naming the file and the reason (refused, missing, unreadable).
  std::string read(const std::string& name) override;
  // As read(), but nullopt when the file does not exist (any more).
  std::optional<std::string> read_if_present(const std::string& name) const;
  // A missing file is not an error; a refused one is (OperationError), and stays.
  void remove(const std::string& name) override;
  void sync() override;

 private:
  std::filesystem::path dir_;
};

}  // namespace pgbackup
