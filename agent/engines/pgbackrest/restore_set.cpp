#include "agent/engines/pgbackrest/restore_set.h"

#include <cstdio>

#include "agent/engines/pgbackrest/archiver.h"
#include "agent/engines/pgbackrest/wal.h"

namespace pgbackup::pgbackrest {
namespace {

// Whether every set with a stop LSN and an archive stop segment has its stop LSN inside that
// segment for this wal_segment_size.
bool sets_fit(const InfoStanza& stanza, std::uint64_t size) {
  const std::uint32_t per_log = segments_per_log(size);
  for (const InfoBackup& b : stanza.backups) {
    const std::optional<std::uint64_t> stop = parse_lsn(b.lsn_stop);
    const std::optional<WalSegment> seg = parse_wal_segment(b.archive_stop);
    if (stop && seg && seg->number(per_log) != *stop / size) return false;
  }
  return true;
}

std::uint64_t wal_segment_size_of(const InfoStanza& stanza) {
  if (sets_fit(stanza, kDefaultWalSegmentSize)) return kDefaultWalSegmentSize;
  for (std::uint64_t size = 1ull << 20; size <= 1ull << 30; size <<= 1) {
    if (sets_fit(stanza, size)) return size;
  }
  return kDefaultWalSegmentSize;
}

}  // namespace

const InfoBackup* newest_set_before_lsn(const InfoStanza& stanza, const std::set<std::string>& good,
                                        std::uint64_t lsn) {
  const InfoBackup* out = nullptr;
  for (const InfoBackup& b : stanza.backups) {
    const std::optional<std::uint64_t> stop = parse_lsn(b.lsn_stop);
    if (!good.contains(b.label) || !stop || *stop > lsn) continue;
    if (!out || b.stop >= out->stop) out = &b;
  }
  return out;
}

std::optional<std::uint64_t> archive_end_lsn(const InfoStanza& stanza) {
  const InfoDatabase* db = stanza.current_database();
  const InfoArchive* archive = db ? stanza.archive_of(db->id) : nullptr;
  if (!archive) return std::nullopt;
  const std::uint64_t size = wal_segment_size_of(stanza);
  const std::optional<WalSegment> newest = parse_wal_segment(archive->max, segments_per_log(size));
  if (!newest) return std::nullopt;
  return (newest->number(segments_per_log(size)) + 1) * size;
}

std::string check_lsn_in_window(const InfoStanza& stanza, const std::set<std::string>& good,
                                std::uint64_t lsn) {
  std::optional<std::uint64_t> start;
  for (const InfoBackup& b : stanza.backups) {
    const std::optional<std::uint64_t> stop = parse_lsn(b.lsn_stop);
    if (good.contains(b.label) && stop && (!start || *stop < *start)) start = stop;
  }
  const std::optional<std::uint64_t> end = archive_end_lsn(stanza);
  if (!start || !end) return "no recovery window: the target has no good backup to restore from";
  const std::string window = lsn_text(*start) + " .. " + lsn_text(*end);
  if (lsn < *start) {
    return "target lsn " + lsn_text(lsn) + " is before the recovery window " + window +
           " (the oldest good backup is consistent from its start)";
  }
  if (lsn >= *end) {
    return "target lsn " + lsn_text(lsn) + " is after the recovery window " + window +
           " (the archive ends there)";
  }
  return "";
}

std::string lsn_text(std::uint64_t lsn) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(lsn >> 32),
                static_cast<unsigned>(lsn & 0xFFFFFFFFu));
  return buf;
}

std::uint32_t timeline_of(const InfoBackup& set) {
  const std::optional<WalSegment> s = parse_wal_segment(set.archive_start);
  return s ? s->timeline : 0;
}

}  // namespace pgbackup::pgbackrest
