#include "agent/engines/pgbackrest/archiver.h"

#include <charconv>

namespace pgbackup::pgbackrest {
namespace {

std::optional<std::uint32_t> hex_part(std::string_view text) {
  if (text.empty() || text.size() > 8) return std::nullopt;
  std::uint32_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

std::chrono::seconds age(SysTime then, SysTime now) {
  const auto d = std::chrono::duration_cast<std::chrono::seconds>(now - then);
  return d.count() < 0 ? std::chrono::seconds(0) : d;
}

}  // namespace

std::optional<std::uint64_t> parse_lsn(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto high = hex_part(text.substr(0, slash));
  const auto low = hex_part(text.substr(slash + 1));
  if (!high || !low) return std::nullopt;
  return (std::uint64_t{*high} << 32) | *low;
}

std::uint64_t segment_end_lsn(const WalSegment& segment, std::uint64_t wal_segment_size) {
  return (segment.number(segments_per_log(wal_segment_size)) + 1) * wal_segment_size;
}

ArchiverAssessment assess_archiver(const ArchiverStats& stats, std::uint64_t current_lsn,
                                   SysTime now, std::uint64_t wal_segment_size) {
  ArchiverAssessment a;
  a.last_archived = stats.last_archived_time;
  a.failed_count = stats.failed_count;
  a.failing = stats.last_failed_time.has_value() &&
              (!stats.last_archived_time || *stats.last_failed_time > *stats.last_archived_time);
  // A segment, a promoted timeline's "<segment>.partial" or a "<segment>.<offset>.backup" label
  // (archived once its segment was): the segment's end is the archive's position. A
  // "<timeline>.history" says nothing about it.
  const auto last = parse_wal_segment(std::string_view(stats.last_archived_wal).substr(0, 24),
                                      segments_per_log(wal_segment_size));
  if (!last) return a;  // nothing archived yet, or a history file: position unknown
  const std::uint64_t end = segment_end_lsn(*last, wal_segment_size);
  a.unarchived_bytes = current_lsn > end ? current_lsn - end : 0;
  if (*a.unarchived_bytes == 0) {
    a.rpo_exposure = std::chrono::seconds(0);
  } else if (stats.last_archived_time) {
    a.rpo_exposure = age(*stats.last_archived_time, now);
  }
  return a;
}

std::chrono::seconds exposure_from_repository(SysTime newest_segment_time, SysTime now) {
  return age(newest_segment_time, now);
}

}  // namespace pgbackup::pgbackrest
