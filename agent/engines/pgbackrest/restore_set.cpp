#include "agent/engines/pgbackrest/restore_set.h"

#include "agent/engines/pgbackrest/archiver.h"
#include "agent/engines/pgbackrest/wal.h"

namespace pgbackup::pgbackrest {

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

std::uint32_t timeline_of(const InfoBackup& set) {
  const std::optional<WalSegment> s = parse_wal_segment(set.archive_start);
  return s ? s->timeline : 0;
}

}  // namespace pgbackup::pgbackrest
