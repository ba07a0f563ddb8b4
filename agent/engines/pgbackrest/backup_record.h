#pragma once

// The agent's record of one pgBackRest backup it took: what `info` said right after it
// (label, type, times, sizes, WAL range, page-checksum errors) and what the agent adds (the
// tier it fixed, the type that was asked for). One JSON file per backup under the target's
// state directory: <backup.dir>/.pgbackup/pgbackrest/<label>.json, 0600, written atomically.

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/catalog/manifest.h"
#include "agent/engines/backup_type.h"
#include "agent/engines/pgbackrest/info.h"

namespace pgbackup::pgbackrest {

struct BackupRecord {
  std::string label;
  BackupType type = BackupType::full;       // what pgBackRest took
  BackupType requested = BackupType::full;  // what was asked (a diff with no full is a full)
  SysTime start{}, stop{};
  std::uint64_t database_size = 0, delta = 0;
  std::uint64_t repository_size = 0, repository_delta = 0;
  std::string wal_start, wal_stop;
  bool error = false;  // pgBackRest found page-checksum errors: a failed proof
  Tier tier = Tier::daily;
  double duration_seconds = 0;  // the agent's run of `pgbackrest backup`
};

// The record of `backup` as `info` lists it.
BackupRecord record_of(const InfoBackup& backup, BackupType requested, Tier tier,
                       double duration_seconds);

nlohmann::json record_to_json(const BackupRecord& r);
// Throws std::runtime_error naming the missing or malformed field.
BackupRecord record_from_json(const nlohmann::json& j);

// <state_dir>/pgbackrest: where the records are.
std::filesystem::path records_dir(const std::filesystem::path& state_dir);
// Writes `r` as <dir>/<label>.json (0600, atomic); creates `dir` (0700) if missing.
void save_record(const std::filesystem::path& dir, const BackupRecord& r);
// Every readable record in `dir` by label (an unreadable one is logged and left out).
std::map<std::string, BackupRecord> load_records(const std::filesystem::path& dir);
// Removes the record of `label`, if there is one.
void remove_record(const std::filesystem::path& dir, const std::string& label);

}  // namespace pgbackup::pgbackrest
