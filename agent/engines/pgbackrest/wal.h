#pragma once

// WAL segment names, the repository's WAL listing (`pgbackrest repo-ls --output=json`) and the
// agent's own continuity check, which pgBackRest 2.45's `verify` lacks: every segment from a
// backup's archive start to the archive's newest segment must be in the repository. Pure.

#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/timeutil.h"

namespace pgbackup::pgbackrest {

// PostgreSQL's default wal_segment_size: 16 MiB, so 256 segments per 4 GiB "log".
inline constexpr std::uint64_t kDefaultWalSegmentSize = 16ull * 1024 * 1024;

// Segments per log (the middle 8 hex digits of a name) for a wal_segment_size: 2^32 / size.
std::uint32_t segments_per_log(std::uint64_t wal_segment_size = kDefaultWalSegmentSize);

// A WAL segment name TTTTTTTTLLLLLLLLSSSSSSSS: timeline, log, segment within the log.
struct WalSegment {
  std::uint32_t timeline = 0;
  std::uint32_t log = 0;
  std::uint32_t seg = 0;

  auto operator<=>(const WalSegment&) const = default;
  // The position in the WAL stream, whatever the timeline: log * per_log + seg.
  std::uint64_t number(std::uint32_t per_log) const { return std::uint64_t{log} * per_log + seg; }
};

// The segment named by 24 hex digits (upper case, as PostgreSQL writes them), or nothing. With
// `per_log`, a segment number the size cannot have (>= per_log) is not a name either.
std::optional<WalSegment> parse_wal_segment(std::string_view name, std::uint32_t per_log = 0);
// The 24-digit name.
std::string wal_segment_name(const WalSegment& segment);
// The segment `number` (see WalSegment::number) of `timeline`.
WalSegment wal_segment_at(std::uint32_t timeline, std::uint64_t number, std::uint32_t per_log);

// What the repository holds for one archive id (archive/<stanza>/<id>/).
struct WalListing {
  // Archived segments: <segment>-<sha1>[.<ext>] under <timeline+log>/.
  std::set<WalSegment> segments;
  // Timelines whose NNNNNNNN.history file is there (timeline 1 never has one).
  std::set<std::uint32_t> history;
  // When the newest segment's file was written ("time" of the listing), if it says.
  std::optional<SysTime> newest_time;
  // Files ignored on purpose: a promoted timeline's last .partial segment (recovery never
  // reads it), backup labels (<segment>.<offset>.backup), anything else not a segment.
  int ignored_files = 0;
};

// Input that is not a `repo-ls --output=json` listing: the message says why.
class WalListingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses `pgbackrest repo-ls --output=json --recurse archive/<stanza>/<id>` (paths such as
// "0000000100000000/000000010000000000000003-<sha1>.zst", "00000002.history"); a listing of one
// <timeline+log>/ directory without --recurse works too. Throws WalListingError on malformed
// input (never anything else: tests/fuzz/pgbackrest_repo_ls_fuzz.cpp).
WalListing parse_wal_listing(std::string_view json, std::uint32_t per_log = segments_per_log());

// A run of consecutive missing segments, first..last inclusive.
struct WalGap {
  WalSegment first;
  WalSegment last;
  std::uint64_t count = 0;
};

struct WalContinuity {
  std::vector<WalGap> gaps;                    // in WAL order
  std::uint64_t missing = 0;                   // segments in all the gaps
  std::optional<WalSegment> newest;            // the archive's newest segment, when it has one
  std::vector<std::uint32_t> missing_history;  // timelines crossed whose .history is absent
  // Whether no segment from `start` to `newest` is missing (and no history file).
  bool complete() const { return missing == 0 && missing_history.empty() && newest.has_value(); }
};

// Checks that every segment from `start` (a backup's archive start) to the listing's newest
// segment is present.
//
// Timelines: a promotion ends timeline T in the middle of segment N, whose WAL up to the switch
// is copied into segment N of timeline T+1, and WAL goes on from there on T+1 (T's own segment N
// is archived as .partial and not needed). So the check walks segment numbers, not names: number
// n counts as present when some timeline from start's up to the newest's has segment n. The
// newest segment is the highest of the highest timeline (a later timeline is where recovery to
// the latest point goes). Every timeline above start's that holds segments must have its
// history file (recovery reads it to follow the switch); a missing one is reported. What this
// does not see: a segment present only on an abandoned branch (a timeline that went on after
// another was promoted from it) counts as present, as the listing alone does not say where
// each timeline switched (that is in the history file's contents).
WalContinuity check_wal_continuity(const WalListing& listing, const WalSegment& start,
                                   std::uint32_t per_log = segments_per_log());

// Up to `limit` names of the missing segments of `result`, in WAL order, for messages.
std::vector<std::string> missing_segment_names(const WalContinuity& result, std::size_t limit,
                                               std::uint32_t per_log = segments_per_log());

}  // namespace pgbackup::pgbackrest
