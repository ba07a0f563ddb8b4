// sizes_of_type: a backup's size is judged against earlier good backups of its own type.
#include <catch2/catch.hpp>

#include "agent/rules/anomaly.h"

namespace pgbackup {
namespace {

CatalogEntry entry(BackupType type, std::uint64_t size, bool good = true) {
  CatalogEntry e;
  e.type = type;
  e.file_size = size;
  if (good) {
    e.manifest.emplace();
    e.manifest->size_bytes = size;
  }
  return e;
}

// A week of a physical target: a 10 GB full, then incrementals of about 200 MB, and one bad
// incremental (no record) of 1 byte.
std::vector<CatalogEntry> week() {
  return {entry(BackupType::full, 10'000'000'000), entry(BackupType::incr, 200'000'000),
          entry(BackupType::incr, 1, false),       entry(BackupType::diff, 600'000'000),
          entry(BackupType::incr, 210'000'000),    entry(BackupType::full, 10'200'000'000),
          entry(BackupType::incr, 190'000'000)};
}

}  // namespace

TEST_CASE("each type is compared with the good backups of its own type, oldest first") {
  struct Row {
    BackupType type;
    std::vector<std::uint64_t> sizes;
  };
  const Row rows[] = {
      {BackupType::full, {10'000'000'000, 10'200'000'000}},
      {BackupType::diff, {600'000'000}},
      {BackupType::incr, {200'000'000, 210'000'000, 190'000'000}},
  };
  for (const Row& row : rows) {
    INFO(backup_type_name(row.type));
    CHECK(sizes_of_type(week(), row.type) == row.sizes);
  }
  CHECK(sizes_of_type({}, BackupType::full).empty());
}

TEST_CASE("an ordinary incremental is no anomaly, a full the size of an incremental is") {
  const AnomalyConfig config;  // ratios 0.5..3.0 against the median
  struct Row {
    const char* name;
    BackupType type;
    std::uint64_t size;
    bool anomaly;
  };
  const Row rows[] = {
      {"an incr like the others", BackupType::incr, 195'000'000, false},
      {"an incr ten times the others", BackupType::incr, 2'050'000'000, true},
      {"a full like the others", BackupType::full, 10'100'000'000, false},
      {"a full the size of an incr", BackupType::full, 205'000'000, true},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    CHECK(judge_size(row.size, sizes_of_type(week(), row.type), config).anomaly == row.anomaly);
  }
  // Against every earlier backup whatever its type, the ordinary incr would be flagged: the
  // median of all the good sizes above is 405 MB (between an incr and the diff), and 195 MB is
  // under half of it.
  std::vector<std::uint64_t> all;
  for (const CatalogEntry& b : week()) {
    if (b.good()) all.push_back(b.size_bytes());
  }
  CHECK(judge_size(195'000'000, all, config).anomaly);
}

}  // namespace pgbackup
