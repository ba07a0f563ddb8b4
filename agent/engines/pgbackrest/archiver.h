#pragma once

// WAL archiving health and the recovery point exposure, from PostgreSQL's pg_stat_archiver and
// its current WAL position (read on the prober's cadence). Pure.
//
// How the RPO exposure is estimated. The repository holds every WAL segment up to the last one
// archived; every change after the end of that segment exists only on the server. Those changes
// start in the next segment, whose first record was written after the archived segment was
// complete, which was no later than when it was archived. So the oldest change not yet in the
// repository is at most about `now - last_archived_time` old, and that is the estimate: 0 when
// nothing is unarchived (the current WAL position is the end of the last archived segment, as
// right after a switch), else `now - last_archived_time`. It errs towards too old, never too
// young: on a quiet server the only unarchived change may be a second old while the estimate
// says an hour, because an hour ago is the last time a segment was completed and archived.
// When archiving fails, last_archived_time stays where it was and the estimate grows with the
// clock, which is what an RPO alert must see.
//
// What archive_timeout does: PostgreSQL then switches to a new segment whenever archive_timeout
// has passed since the last switch and any WAL was written, so a segment is completed and
// archived at least that often and, with archiving healthy, the exposure stays below
// archive_timeout plus the time archive-push takes (plus the prober's interval, as the metric is
// computed on its cadence). Without it (archive_timeout = 0, PostgreSQL's default) a quiet
// database fills a 16 MiB segment slowly, and the exposure can grow for hours although little
// is at risk: set archive_timeout to the RPO target or below (e.g. 60s; each switch archives a
// 16 MiB segment, zst-compressed to little when it is mostly empty).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/timeutil.h"
#include "agent/engines/pgbackrest/wal.h"

namespace pgbackup::pgbackrest {

// One row of pg_stat_archiver (times are null until the first archive or failure).
struct ArchiverStats {
  std::int64_t archived_count = 0;
  std::string last_archived_wal;  // "000000010000000000000007", a ".history", "" if none
  std::optional<SysTime> last_archived_time;
  std::int64_t failed_count = 0;
  std::string last_failed_wal;
  std::optional<SysTime> last_failed_time;
};

struct ArchiverAssessment {
  std::optional<SysTime> last_archived;  // pg_stat_archiver.last_archived_time
  std::int64_t failed_count = 0;         // a counter since the statistics were last reset
  // The newest attempt failed (PostgreSQL retries the same segment until it is archived, so
  // archiving is stuck while this holds).
  bool failing = false;
  // Current WAL position minus the end of the last archived segment; unknown when no segment
  // was archived yet or the last archived file is a timeline history file.
  std::optional<std::uint64_t> unarchived_bytes;
  // Age of the oldest change not in the repository (see the top of this file); unknown when
  // unarchived_bytes is, or when changes are unarchived and nothing was ever archived.
  std::optional<std::chrono::seconds> rpo_exposure;
};

// An LSN as PostgreSQL prints it ("0/3000050", "16/B374D848"), or nothing.
std::optional<std::uint64_t> parse_lsn(std::string_view text);

// The LSN just past the end of `segment` (the start of the next one).
std::uint64_t segment_end_lsn(const WalSegment& segment,
                              std::uint64_t wal_segment_size = kDefaultWalSegmentSize);

// Archiving health and RPO exposure from pg_stat_archiver and pg_current_wal_lsn() at `now`.
ArchiverAssessment assess_archiver(const ArchiverStats& stats, std::uint64_t current_lsn,
                                   SysTime now,
                                   std::uint64_t wal_segment_size = kDefaultWalSegmentSize);

// The exposure when the database cannot be asked (it is down): the age of the newest segment
// in the repository, `now - newest_segment_time`, never negative.
std::chrono::seconds exposure_from_repository(SysTime newest_segment_time, SysTime now);

}  // namespace pgbackup::pgbackrest
