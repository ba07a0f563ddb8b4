#include "agent/engines/pgbackrest/wal.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>

namespace pgbackup::pgbackrest {
namespace {

bool is_upper_hex(std::string_view text) {
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

bool is_lower_hex(std::string_view text) {
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::uint32_t hex32(std::string_view eight) {
  std::uint32_t v = 0;
  for (const char c : eight) {
    v = v * 16 + static_cast<std::uint32_t>(c <= '9' ? c - '0' : c - 'A' + 10);
  }
  return v;
}

// "<segment>-<40 hex sha1>" optionally followed by ".<compression extension>".
bool is_archived_segment_file(std::string_view name) {
  if (name.size() < 24 + 1 + 40 || name[24] != '-') return false;
  if (!is_lower_hex(name.substr(25, 40))) return false;
  const std::string_view rest = name.substr(65);
  return rest.empty() || (rest.size() > 1 && rest[0] == '.' &&
                          rest.find_first_of("/.", 1) == std::string_view::npos);
}

[[noreturn]] void fail(const std::string& what) {
  throw WalListingError("pgbackrest repo-ls: " + what +
                        " (hint: is this the output of `pgbackrest repo-ls --output=json`?)");
}

}  // namespace

std::uint32_t segments_per_log(std::uint64_t wal_segment_size) {
  if (wal_segment_size == 0 || wal_segment_size > (1ull << 32)) return 1;
  return static_cast<std::uint32_t>((1ull << 32) / wal_segment_size);
}

std::optional<WalSegment> parse_wal_segment(std::string_view name, std::uint32_t per_log) {
  if (name.size() != 24 || !is_upper_hex(name)) return std::nullopt;
  WalSegment s{hex32(name.substr(0, 8)), hex32(name.substr(8, 8)), hex32(name.substr(16, 8))};
  if (s.timeline == 0) return std::nullopt;
  if (per_log != 0 && s.seg >= per_log) return std::nullopt;
  return s;
}

std::string wal_segment_name(const WalSegment& s) {
  char out[25];
  std::snprintf(out, sizeof out, "%08X%08X%08X", s.timeline, s.log, s.seg);
  return out;
}

WalSegment wal_segment_at(std::uint32_t timeline, std::uint64_t number, std::uint32_t per_log) {
  return {timeline, static_cast<std::uint32_t>(number / per_log),
          static_cast<std::uint32_t>(number % per_log)};
}

WalListing parse_wal_listing(std::string_view text, std::uint32_t per_log) {
  const auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) fail("the listing is not valid JSON");
  if (!j.is_object()) fail("the listing is not an object of paths");
  WalListing out;
  for (const auto& [path, entry] : j.items()) {
    if (!entry.is_object()) fail("\"" + path + "\" has no description object");
    const auto type = entry.find("type");
    if (type == entry.end() || !type->is_string()) fail("\"" + path + "\" has no type");
    if (type->get_ref<const std::string&>() != "file") continue;  // directories, links
    const std::string_view name = std::string_view(path).substr(path.rfind('/') + 1);
    if (name.size() == 8 + 8 && name.substr(8) == ".history" && is_upper_hex(name.substr(0, 8))) {
      out.history.insert(hex32(name.substr(0, 8)));
      continue;
    }
    const auto segment = parse_wal_segment(name.substr(0, 24), per_log);
    if (segment && is_archived_segment_file(name)) {
      const bool newest = out.segments.empty() || *segment > *out.segments.rbegin();
      out.segments.insert(*segment);
      const auto time = entry.find("time");
      if (newest) {
        out.newest_time = std::nullopt;
        if (time != entry.end() && time->is_number_integer()) {
          out.newest_time = from_unix_seconds(static_cast<double>(time->get<std::int64_t>()));
        }
      }
    } else {
      ++out.ignored_files;
    }
  }
  return out;
}

WalContinuity check_wal_continuity(const WalListing& listing, const WalSegment& start,
                                   std::uint32_t per_log) {
  WalContinuity out;
  if (!listing.segments.empty()) out.newest = *listing.segments.rbegin();
  const std::uint64_t first = start.number(per_log);
  if (!out.newest || out.newest->timeline < start.timeline || out.newest->number(per_log) < first) {
    // Nothing at or after the backup's start: its own first segment is missing.
    out.gaps.push_back({start, start, 1});
    out.missing = 1;
    return out;
  }
  // Segment number -> the highest timeline (within start's..newest's) that has it.
  std::map<std::uint64_t, std::uint32_t> present;
  std::set<std::uint32_t> timelines;
  for (const auto& s : listing.segments) {
    if (s.timeline < start.timeline || s.number(per_log) < first) continue;
    present[s.number(per_log)] = s.timeline;
    timelines.insert(s.timeline);
  }
  std::uint64_t expected = first;
  for (const auto& [number, timeline] : present) {
    if (number > expected) {
      // Named on the timeline that carries on after the gap.
      const std::uint64_t count = number - expected;
      out.gaps.push_back({wal_segment_at(timeline, expected, per_log),
                          wal_segment_at(timeline, number - 1, per_log), count});
      out.missing += count;
    }
    expected = number + 1;
  }
  for (const std::uint32_t t : timelines) {
    if (t > start.timeline && !listing.history.contains(t)) out.missing_history.push_back(t);
  }
  return out;
}

std::vector<std::string> missing_segment_names(const WalContinuity& result, std::size_t limit,
                                               std::uint32_t per_log) {
  std::vector<std::string> out;
  for (const auto& gap : result.gaps) {
    const std::uint64_t first = gap.first.number(per_log);
    for (std::uint64_t n = first; n <= gap.last.number(per_log); ++n) {
      if (out.size() >= limit) return out;
      out.push_back(wal_segment_name(wal_segment_at(gap.first.timeline, n, per_log)));
    }
  }
  return out;
}

}  // namespace pgbackup::pgbackrest
