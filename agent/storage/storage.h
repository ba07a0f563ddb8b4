#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pgbackup {

// One file in a Storage, named relative to the storage's root.
struct StoredFile {
  std::string name;
  std::uint64_t size = 0;
};

// Where backup files are kept, as retention sees them: the backup directory (PosixStorage) or
// a prefix in a bucket (S3Storage). Names are relative to the root
// ("pnode_20260101_020000.dump"). Failures throw OperationError (S3Error from S3).
class Storage {
 public:
  virtual ~Storage() = default;

  // The full address of `name`, for messages: a path or an s3:// URL.
  virtual std::string address(const std::string& name) const = 0;
  // Every file under the root.
  virtual std::vector<StoredFile> list() = 0;
  virtual std::string read(const std::string& name) = 0;
  // Removes `name`; a missing file is not an error.
  virtual void remove(const std::string& name) = 0;
  // Makes the removals so far durable before the next step (posix: fsync of the directory).
  virtual void sync() {}
};

}  // namespace pgbackup
