#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/timeutil.h"
#include "agent/postgres/postgres.h"
#include "agent/postgres/schema_fingerprint.h"
#include "agent/rules/schema_diff.h"

namespace pgbackup {

enum class Tier { daily, weekly, monthly };
const char* tier_name(Tier tier);
// Throws std::invalid_argument for anything but daily, weekly, monthly.
Tier parse_tier(const std::string& name);

struct ShrunkTable {
  std::string schema;
  std::string name;
  std::int64_t previous_rows = 0;
  std::int64_t rows = 0;
};

struct OffsiteCopy {
  std::string url;
  std::string storage_class;
  std::string etag;
  std::string uploaded_at;
};

struct RestoreTestMark {
  std::string tested_at;
  bool success = false;
  std::string error;
};

// The manifest of a dump is stored beside it under the dump's name followed by this suffix.
inline constexpr char kManifestSuffix[] = ".json";

// The backup's companion file (catalog/globals_file.h): what the database needs from its
// cluster, as the manifest lists it. The file itself may hold password verifiers; the
// manifest never does.
inline constexpr char kGlobalsSuffix[] = ".globals";  // "<dump>.globals"
struct GlobalsFileInfo {
  std::string file;  // "<dump>.globals", without directory
  std::uint64_t size_bytes = 0;
  std::string sha256;
  std::vector<std::string> roles;  // their names
  bool passwords_included = false;
  std::vector<std::string> warnings;
  double seconds = 0;  // how long its catalog queries took
};

// How an encrypted dump (<prefix>_..._HHMMSS.dump.age) was encrypted, with what its plaintext
// was: the manifest's size_bytes and sha256 are then the ciphertext's, the file on disk, which
// verify checks without a key. Its companion file is encrypted to the same recipients.
struct EncryptionInfo {
  std::vector<std::string> recipients;    // age public keys, in the order given to age
  std::vector<std::string> fingerprints;  // crypto/age.h recipient_fingerprint of each
  std::uint64_t plaintext_size_bytes = 0;
  std::string plaintext_sha256;
  std::uint64_t globals_plaintext_size_bytes = 0;
  std::string globals_plaintext_sha256;
};

// What the agent knows about one backup; stored beside the dump as <dump>.json
// (format pgbackup-manifest/1, DESIGN §4).
struct Manifest {
  std::string target;
  std::string file;  // the dump's file name, without directory
  SysTime started_at;
  SysTime finished_at;
  double duration_seconds = 0;
  std::uint64_t size_bytes = 0;
  std::string sha256;
  Tier tier = Tier::daily;
  DatabaseInfo database;
  std::string pg_dump_version;
  int compression = 9;
  bool row_counts_exact = true;  // false when row_counts: off
  // Ordinary tables and (TimescaleDB) hypertables, with kind, chunks and compressed chunks.
  std::vector<TableRows> tables;
  std::vector<TableRows> continuous_aggregates;  // TimescaleDB, counted through their views
  int toc_entries = 0;
  // Checks made when the backup was taken.
  double size_baseline_bytes = 0;
  bool size_anomaly = false;
  std::string size_anomaly_reason;
  std::vector<ShrunkTable> shrunk_tables;
  std::vector<OffsiteCopy> offsite;
  std::optional<RestoreTestMark> restore_test;
  // The backup directory's filesystem just after the dump was written (0: not recorded, as in
  // manifests written before): the status page's free-space history.
  std::uint64_t repository_avail_bytes = 0;
  std::uint64_t repository_size_bytes = 0;
  // The schema fingerprint taken in the dump's snapshot; absent in manifests written before
  // the agent took one (they still read).
  std::optional<SchemaFingerprint> schema;
  double schema_seconds = 0;                 // how long its catalog queries took
  std::string schema_compared_with;          // the previous good backup's file; empty: not compared
  std::vector<SchemaChange> schema_changes;  // from schema_compared_with to this one
  // Absent in manifests written before the agent took one (restore then cannot create roles
  // or the database).
  std::optional<GlobalsFileInfo> globals;
  // Set when the dump is encrypted with age (DESIGN §12); absent: a plaintext dump.
  std::optional<EncryptionInfo> encryption;

  std::int64_t total_rows() const;
  // How many of `tables` are TimescaleDB hypertables.
  std::size_t hypertable_count() const;
};

// The TimescaleDB version the backup was taken with, or empty when the source had none.
std::string timescaledb_version(const Manifest& m);

nlohmann::json manifest_to_json(const Manifest& m);
// The "schema" object's parts, also used by the diff command's JSON output.
nlohmann::json fingerprint_to_json(const SchemaFingerprint& f);
SchemaFingerprint fingerprint_from_json(const nlohmann::json& j);
nlohmann::json schema_changes_to_json(const std::vector<SchemaChange>& changes);
// Throws std::runtime_error naming the missing or malformed field; a `file` or `globals.file`
// that is not a plain file name ("../x.dump", "/etc/x") is malformed.
Manifest manifest_from_json(const nlohmann::json& j);
// Why `m`, read from <dump_name>.json, is not the manifest of the dump `dump_name`: it names
// another file, or a companion file other than <dump_name>.globals (copied or renamed by hand).
// Empty when it is.
std::string manifest_mismatch(const Manifest& m, const std::string& dump_name);

}  // namespace pgbackup
