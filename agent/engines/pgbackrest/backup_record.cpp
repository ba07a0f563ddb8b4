#include "agent/engines/pgbackrest/backup_record.h"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "agent/core/file_io.h"
#include "agent/core/json_fields.h"
#include "agent/storage/posix_storage.h"

namespace pgbackup::pgbackrest {
namespace {

constexpr const char* kFormat = "pgbackup-pgbackrest-record/1";

BackupType type_at(const nlohmann::json& j, const char* key) {
  const std::optional<BackupType> t = parse_backup_type(j.at(key).get<std::string>());
  if (!t) throw std::runtime_error(std::string("\"") + key + "\" must be full, diff or incr");
  return *t;
}

SysTime time_at(const nlohmann::json& j, const char* key) {
  const std::optional<SysTime> t = parse_iso8601(j.at(key).get<std::string>());
  if (!t) throw std::runtime_error(std::string("\"") + key + "\" must be an ISO 8601 time");
  return *t;
}

}  // namespace

BackupRecord record_of(const InfoBackup& b, BackupType requested, Tier tier,
                       double duration_seconds) {
  BackupRecord r;
  r.label = b.label;
  r.type = b.type;
  r.requested = requested;
  r.start = b.start;
  r.stop = b.stop;
  r.database_size = b.size;
  r.delta = b.delta;
  r.repository_size = b.repository_size;
  r.repository_delta = b.repository_delta;
  r.wal_start = b.archive_start;
  r.wal_stop = b.archive_stop;
  r.error = b.error;
  r.tier = tier;
  r.duration_seconds = duration_seconds;
  return r;
}

nlohmann::json record_to_json(const BackupRecord& r) {
  return {{"format", kFormat},
          {"label", r.label},
          {"type", backup_type_name(r.type)},
          {"requested_type", backup_type_name(r.requested)},
          {"start", format_iso8601(r.start)},
          {"stop", format_iso8601(r.stop)},
          {"database_size", r.database_size},
          {"delta", r.delta},
          {"repository_size", r.repository_size},
          {"repository_delta", r.repository_delta},
          {"wal_start", r.wal_start},
          {"wal_stop", r.wal_stop},
          {"error", r.error},
          {"tier", tier_name(r.tier)},
          {"duration_seconds", r.duration_seconds}};
}

BackupRecord record_from_json(const nlohmann::json& j) {
  if (!json_has_format(j, kFormat)) throw std::runtime_error("not a pgBackRest backup record");
  try {
    BackupRecord r;
    r.label = j.at("label").get<std::string>();
    if (!is_plain_file_name(r.label)) throw std::runtime_error("\"label\" is not a backup label");
    r.type = type_at(j, "type");
    r.requested = type_at(j, "requested_type");
    r.start = time_at(j, "start");
    r.stop = time_at(j, "stop");
    r.database_size = json_whole_number_at<std::uint64_t>(j, "database_size");
    r.delta = json_whole_number_at<std::uint64_t>(j, "delta");
    r.repository_size = json_whole_number_at<std::uint64_t>(j, "repository_size");
    r.repository_delta = json_whole_number_at<std::uint64_t>(j, "repository_delta");
    r.wal_start = j.at("wal_start").get<std::string>();
    r.wal_stop = j.at("wal_stop").get<std::string>();
    r.error = j.at("error").get<bool>();
    r.tier = parse_tier(j.at("tier").get<std::string>());
    r.duration_seconds = j.at("duration_seconds").get<double>();
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("malformed pgBackRest backup record: ") + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("malformed pgBackRest backup record: ") + e.what());
  }
}

std::filesystem::path records_dir(const std::filesystem::path& state_dir) {
  return state_dir / "pgbackrest";
}

void save_record(const std::filesystem::path& dir, const BackupRecord& r) {
  create_private_dir(dir);
  write_file_atomic(dir / (r.label + ".json"), record_to_json(r).dump(2) + "\n",
                    std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

std::map<std::string, BackupRecord> load_records(const std::filesystem::path& dir) {
  std::map<std::string, BackupRecord> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".json" || !e.is_regular_file()) continue;
    try {
      BackupRecord r = record_from_json(nlohmann::json::parse(read_file(e.path())));
      if (r.label + ".json" != e.path().filename().string()) {
        throw std::runtime_error("it names another backup, " + r.label);
      }
      out.emplace(r.label, std::move(r));
    } catch (const std::exception& ex) {
      spdlog::warn("ignoring {}: {}", e.path().string(), ex.what());
    }
  }
  return out;
}

void remove_record(const std::filesystem::path& dir, const std::string& label) {
  std::error_code ec;
  std::filesystem::remove(dir / (label + ".json"), ec);
}

}  // namespace pgbackup::pgbackrest
