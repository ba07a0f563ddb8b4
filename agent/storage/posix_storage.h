#pragma once

#include <filesystem>

#include "agent/storage/storage.h"

namespace pgbackup {

// A directory on a local filesystem (the backup directory).
class PosixStorage : public Storage {
 public:
  explicit PosixStorage(std::filesystem::path dir) : dir_(std::move(dir)) {}

  std::string address(const std::string& name) const override { return (dir_ / name).string(); }
  std::vector<StoredFile> list() override;
  std::string read(const std::string& name) override;
  void remove(const std::string& name) override;
  void sync() override;

 private:
  std::filesystem::path dir_;
};

}  // namespace pgbackup
