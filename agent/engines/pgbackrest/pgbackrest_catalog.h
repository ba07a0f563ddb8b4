#pragma once

// The pgBackRest engine's catalogue, decided from what was read (pure): `info`'s backups, the
// repository's WAL listing and the agent's records become CatalogEntry values with their tier,
// sizes and proof (DESIGN §11).

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/engines/catalog_entry.h"
#include "agent/engines/pgbackrest/backup_record.h"
#include "agent/engines/pgbackrest/info.h"
#include "agent/engines/pgbackrest/wal.h"

namespace pgbackup::pgbackrest {

// The stanza's WAL archive as listed (`repo-ls` of its current archive id), or why it could
// not be.
struct ArchiveListing {
  std::optional<WalListing> listing;
  std::string error;  // set when `listing` is not
};

struct CatalogInput {
  std::string target;
  std::filesystem::path records_dir;  // entries are named <records_dir>/<label>
  const InfoStanza* stanza = nullptr;
  const ArchiveListing* archive = nullptr;
  const std::map<std::string, BackupRecord>* records = nullptr;
};

// Every backup of the stanza, oldest first. Each is good only when `info` lists it error-free
// (pgBackRest lists only complete backups), every segment from its archive start to the
// archive's newest is in the repository, and, for a diff or incr, every backup it builds on is
// good. A good one carries a Manifest made from its record (the agent's, else `info`'s): size is
// what it added to the repository, restore_set_size what a restore of it reads, tier its own
// (a full: from its record, else DESIGN §5 over the good fulls before it) or its full's.
// The earliest time a recovery from `set` can stop at. pgBackRest records a backup's stop in
// whole seconds, truncated, and the backup is consistent only once the WAL up to its end is
// replayed, which can be up to a second later: a target inside that second fails recovery
// ("requested recovery stop point is before consistent recovery point").
SysTime consistent_from(const CatalogEntry& set);

std::vector<CatalogEntry> build_catalog(const CatalogInput& in);

// What retention may expire, from `catalog` (build_catalog's over `stanza`), oldest first: the
// good fulls, each a whole set with the labels of every diff and incr built on it in
// `dependents`. A diff or incr is never offered alone, nor is a backup that is not good.
std::vector<CatalogEntry> retention_sets(std::vector<CatalogEntry> catalog,
                                         const InfoStanza& stanza);

// The full a backup belongs to (itself for a full), by label, or "" when `info` lacks it.
std::string full_of(const InfoStanza& stanza, const InfoBackup& backup);

// The continuity check from `wal_start` over `archive`; nullopt (with `why`) when it cannot run.
std::optional<WalContinuity> continuity_from(const ArchiveListing& archive,
                                             const std::string& wal_start, std::string& why);

// "2 missing WAL segments: 000000010000000000000005, 000000010000000000000006" (up to 5 named).
std::string describe_gaps(const WalContinuity& c);

}  // namespace pgbackup::pgbackrest
