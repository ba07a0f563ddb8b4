#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "agent/catalog/repository.h"
#include "agent/core/progress.h"

namespace pgbackup {

struct VerifyCheck {
  std::string name;  // "manifest", "size", "sha256", "pg_restore --list", "table data"
  bool passed = false;
  std::string detail;
};

struct VerifyReport {
  std::filesystem::path file;
  std::vector<VerifyCheck> checks;
  bool ok() const;
  // The first failed check's detail, or empty.
  std::string first_problem() const;
};

// Proves a backup again: its manifest, size, SHA-256, that pg_restore can list it, and that
// every counted table has its data in the archive. The checksum's bytes go to `progress`.
VerifyReport verify_backup(const BackupEntry& entry, Progress* progress = nullptr);

}  // namespace pgbackup
