#include "agent/storage/posix_storage.h"

#include "agent/core/file_io.h"

namespace pgbackup {

std::vector<StoredFile> PosixStorage::list() {
  std::vector<StoredFile> out;
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(dir_, ec)) {
    out.push_back({item.path().filename().string(), item.file_size(ec)});
  }
  return out;
}

std::string PosixStorage::read(const std::string& name) { return read_file(dir_ / name); }

void PosixStorage::remove(const std::string& name) { fs::remove(dir_ / name); }

void PosixStorage::sync() { fsync_path(dir_); }

}  // namespace pgbackup
