#pragma once

// `pgbackrest info --output=json`, parsed: what pgBackRest knows of each stanza, its database
// history, its WAL archive and its backups. Pure: text in, structs out.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/timeutil.h"
#include "agent/engines/backup_type.h"

namespace pgbackup::pgbackrest {

// A database of the stanza's history (one per stanza-create/stanza-upgrade).
struct InfoDatabase {
  int id = 0;                   // "id": the db-id of archive ids such as "15-1"
  std::uint64_t system_id = 0;  // "system-id": pg_control_system().system_identifier
  std::string version;          // "version": "15"
};

// The WAL archive of one database of the history.
struct InfoArchive {
  std::string id;   // "15-1": the directory archive/<stanza>/<id>/
  int db_id = 0;    // "database"."id"
  std::string min;  // oldest segment in the archive, "" when it holds none
  std::string max;  // newest segment, "" when it holds none
};

struct InfoBackup {
  std::string label;                    // "20261206-203315F_20261206-203323I"
  BackupType type = BackupType::full;   //
  std::string prior;                    // the backup it was built on, "" for a full
  std::vector<std::string> references;  // every backup whose files it uses
  SysTime start{}, stop{};              // "timestamp"."start" / "stop"
  std::string archive_start;            // first WAL segment it needs, "" when unknown
  std::string archive_stop;             // last WAL segment it needs (consistency point)
  std::string lsn_start, lsn_stop;      // "lsn"."start" / "stop" ("0/2000028"), "" if absent
  std::uint64_t size = 0;               // "info"."size": the database's size
  std::uint64_t delta = 0;              // "info"."delta": what this backup copied
  std::uint64_t repository_size = 0;    // "info"."repository"."size": its files in the repo
  std::uint64_t repository_delta = 0;   // "info"."repository"."delta": what it added to the repo
  bool error = false;                   // page checksum errors found while copying
  bool error_known = false;             // whether info reported "error" (pgBackRest >= 2.36)
  int db_id = 0;                        // "database"."id"
};

struct InfoStanza {
  std::string name;
  int status_code = 0;  // 0 ok, 1 missing stanza path, 2 no valid backups, ... 99 other
  std::string status_message;
  bool backup_lock_held = false;  // "status"."lock"."backup"."held": a backup is running
  std::string cipher;             // "none" or "aes-256-cbc"
  std::vector<InfoDatabase> databases;
  std::vector<InfoArchive> archives;
  std::vector<InfoBackup> backups;  // oldest first, as pgBackRest lists them

  // The database of the history with this id, or nullptr.
  const InfoDatabase* database(int db_id) const;
  // The current database (the highest id), or nullptr when the history is empty.
  const InfoDatabase* current_database() const;
  // The archive of the database with this id, or nullptr.
  const InfoArchive* archive_of(int db_id) const;
  // The backup with this label, or nullptr.
  const InfoBackup* backup(std::string_view label) const;
};

// Input that is not `info --output=json` of pgBackRest: the message names the field.
class InfoParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Every stanza of an `info --output=json` text. Throws InfoParseError on malformed input
// (never anything else, never a crash: tests/fuzz/pgbackrest_info_fuzz.cpp).
std::vector<InfoStanza> parse_info(std::string_view json);

// The stanza `name` of an `info --output=json` text; InfoParseError when it is not there.
InfoStanza parse_stanza_info(std::string_view json, std::string_view name);

}  // namespace pgbackup::pgbackrest
