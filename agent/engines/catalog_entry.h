#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/catalog/manifest.h"
#include "agent/core/timeutil.h"
#include "agent/engines/backup_type.h"

namespace pgbackup {

namespace fs = std::filesystem;

// The earliest and latest point a restore can reach from a target's good backups; unset when
// there is none. For pg_dump, the finish times of its oldest and newest good backups; for a
// physical engine with WAL archiving, up to the newest archived WAL segment.
struct RecoveryWindow {
  std::optional<SysTime> start;
  std::optional<SysTime> end;
};

// One backup of a target as every engine-agnostic caller sees it (the scheduler, retention,
// the daemon, the collectors, `list`, `check`, the status page): when, which type and tier,
// how big, and whether it is proven good (and if not, why). Its record (the agent's manifest,
// DESIGN §4) carries what the agent checked when the backup was taken. An engine fills it in
// (BackupEngine::catalog, engines/engine.h); nothing downstream asks which engine did.
struct CatalogEntry {
  // Where the backup is: pg_dump's .dump file (its name is the backup's name).
  fs::path dump;
  SysTime started_at;
  BackupType type = BackupType::full;
  std::uint64_t file_size = 0;       // bytes it occupies where it is stored
  std::optional<Manifest> manifest;  // the agent's record; set exactly when the backup is good
  std::string manifest_error;        // why it is not good (missing or unreadable record, ...)
  // Repository bytes a restore of it reads when that is more than the backup itself: a physical
  // diff or incr with the full (and diff) it builds on. Unset: size_bytes().
  std::optional<std::uint64_t> restore_set_size;
  // The backups that go with it when retention removes it (a physical full's diff and incr, by
  // name); empty for a backup that stands alone.
  std::vector<std::string> dependents;
  // How its engine's storage encrypts it, when the engine encrypts by itself: pgBackRest's
  // repository cipher ("aes-256-cbc", from `info`). Empty otherwise (an age-encrypted dump says
  // so in its record instead).
  std::string cipher;

  bool good() const { return manifest.has_value(); }
  // The name `list`, `check` and the status page show, and commands accept.
  std::string name() const { return dump.filename().string(); }
  // Why it is not a good backup (empty when it is).
  const std::string& problem() const { return manifest_error; }
  // When it finished (its start when it has no record).
  SysTime finished_at() const { return manifest ? manifest->finished_at : started_at; }
  // Its size as recorded when it was taken (else what it occupies).
  std::uint64_t size_bytes() const { return manifest ? manifest->size_bytes : file_size; }
  // What a restore of it reads (pgbackup_backup_last_restore_set_bytes).
  std::uint64_t restore_set_bytes() const { return restore_set_size.value_or(size_bytes()); }
  // Its retention tier (DESIGN §5); daily when it has no record.
  Tier tier() const { return manifest ? manifest->tier : Tier::daily; }
  // How it is encrypted: "age" when its record says so, else `cipher`; empty when it is stored
  // in plaintext (pgbackup_backup_encrypted, `list`, the status page).
  std::string encryption() const;
  bool encrypted() const { return !encryption().empty(); }
};

// "age, 2 recipients", "aes-256-cbc", or "" for a plaintext backup: `list` and the status page.
std::string encryption_summary(const CatalogEntry& b);

// The newest good backup of `entries` (oldest first, as catalogues list them), or nullptr.
const CatalogEntry* newest_good(const std::vector<CatalogEntry>& entries);
// The good ones of `entries`, in their order.
std::vector<const CatalogEntry*> good_entries(const std::vector<CatalogEntry>& entries);
// The recovery window of `entries` when each good backup restores to its finish time (a logical
// engine's): from the oldest good one's finish to the newest's.
RecoveryWindow finish_time_window(const std::vector<CatalogEntry>& entries);

}  // namespace pgbackup
