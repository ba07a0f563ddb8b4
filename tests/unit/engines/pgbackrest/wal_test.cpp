// WAL segment names, the repository's WAL listing (real `repo-ls --output=json --recurse` of
// pgBackRest 2.45 in tests/fixtures/pgbackrest) and the continuity check.
#include <catch2/catch.hpp>

#include <string>

#include "agent/core/file_io.h"
#include "agent/engines/pgbackrest/wal.h"

using namespace pgbackup;
using namespace pgbackup::pgbackrest;

namespace {

std::string fixture(const std::string& name) {
  return read_file(std::string(PGBACKUP_SOURCE_DIR) + "/tests/fixtures/pgbackrest/" + name);
}

WalSegment seg(const std::string& name) { return parse_wal_segment(name, 256).value(); }

// A listing of the given segment names (and history files "00000002.history"), as repo-ls
// writes it with --recurse.
std::string listing_of(const std::vector<std::string>& names) {
  std::string out = R"({".":{"type":"path"})";
  for (const auto& n : names) {
    const std::string path = n.ends_with(".history")
                                 ? n
                                 : n.substr(0, 16) + "/" + n + "-" + std::string(40, 'a') + ".zst";
    out += ",\"" + path + R"(":{"type":"file","size":10,"time":1})";
  }
  return out + "}";
}

std::vector<std::string> names_of(const WalContinuity& r) { return missing_segment_names(r, 100); }

}  // namespace

TEST_CASE("WAL segment names: timeline, log and segment, and 256 segments per log at 16 MiB") {
  CHECK(segments_per_log() == 256);
  CHECK(segments_per_log(64ull * 1024 * 1024) == 64);
  CHECK(segments_per_log(1024ull * 1024 * 1024) == 4);
  const WalSegment s = seg("0000000200000003000000FF");
  CHECK(s.timeline == 2);
  CHECK(s.log == 3);
  CHECK(s.seg == 255);
  CHECK(s.number(256) == 3 * 256 + 255);
  CHECK(wal_segment_name(s) == "0000000200000003000000FF");
  CHECK(wal_segment_name(wal_segment_at(2, s.number(256) + 1, 256)) == "000000020000000400000000");

  for (const std::string bad :
       {"", "00000001000000000000000", "0000000100000000000000001", "00000001000000000000000g",
        "00000001000000000000000a", "000000000000000000000001", "000000010000000000000100"}) {
    INFO(bad);
    CHECK_FALSE(parse_wal_segment(bad, 256).has_value());
  }
  // Without a segment size, a segment past 0xFF is a name (64 MiB segments have fewer).
  CHECK(parse_wal_segment("000000010000000000000100").has_value());
}

TEST_CASE("a repo-ls listing gives the archived segments and history files, and skips the rest") {
  const WalListing l = parse_wal_listing(fixture("repo_ls_recurse.json"));
  std::vector<std::string> names;
  for (const auto& s : l.segments) names.push_back(wal_segment_name(s));
  CHECK(names == std::vector<std::string>{"000000010000000000000001", "000000010000000000000002",
                                          "000000010000000000000003", "000000010000000000000004",
                                          "000000010000000000000005", "000000010000000000000006",
                                          "000000010000000000000007"});
  CHECK(l.history.empty());
  CHECK(l.ignored_files == 3);  // the three .backup labels
  REQUIRE(l.newest_time.has_value());
  CHECK(to_unix_seconds(*l.newest_time) == 1796589206);  // the file time of segment 07

  const WalListing t = parse_wal_listing(R"({
    "00000002.history": {"type": "file", "size": 42, "time": 1},
    "0000000100000000/000000010000000000000005.partial-0123456789abcdef0123456789abcdef01234567.zst":
        {"type": "file"},
    "0000000200000000/000000020000000000000005-0123456789abcdef0123456789abcdef01234567":
        {"type": "file"},
    "0000000200000000/000000020000000000000006-0123456789abcdef0123456789abcdef01234567.gz":
        {"type": "file"},
    "0000000200000000/000000020000000000000007-0123456789ABCDEF0123456789abcdef01234567.gz":
        {"type": "file"},
    "0000000200000000": {"type": "path"},
    "link": {"type": "link", "destination": "x"}})");
  CHECK(t.history == std::set<std::uint32_t>{2});
  CHECK(t.segments ==
        std::set<WalSegment>{seg("000000020000000000000005"), seg("000000020000000000000006")});
  CHECK(t.ignored_files == 2);  // the .partial and the upper-case checksum
}

TEST_CASE("a malformed repo-ls listing is a clear error, never a crash") {
  for (const auto& [text, message] : std::vector<std::pair<std::string, std::string>>{
           {"ERROR: [055]: unable to list", "not valid JSON"},
           {"[1,2]", "not an object of paths"},
           {R"({"a": 1})", "\"a\" has no description object"},
           {R"({"a": {"size": 1}})", "\"a\" has no type"},
           {R"({"a": {"type": 7}})", "\"a\" has no type"}}) {
    INFO(text);
    CHECK_THROWS_AS(parse_wal_listing(text), WalListingError);
    CHECK_THROWS_WITH(parse_wal_listing(text), Catch::Contains(message));
  }
}

TEST_CASE("the continuity check finds every segment missing from a backup's start to the newest") {
  struct Case {
    std::string name;
    std::vector<std::string> present;
    std::string start;
    std::vector<std::string> missing;
  };
  const std::vector<Case> cases = {
      {"complete",
       {"000000010000000000000002", "000000010000000000000003", "000000010000000000000004"},
       "000000010000000000000002",
       {}},
      {"older segments before the start do not matter",
       {"000000010000000000000001", "000000010000000000000003", "000000010000000000000004"},
       "000000010000000000000003",
       {}},
      {"one deleted in the middle",
       {"000000010000000000000002", "000000010000000000000004"},
       "000000010000000000000002",
       {"000000010000000000000003"}},
      {"the backup's own start is missing",
       {"000000010000000000000003"},
       "000000010000000000000002",
       {"000000010000000000000002"}},
      {"two gaps, across the end of a log",
       {"0000000100000000000000FD", "000000010000000100000000", "000000010000000100000003"},
       "0000000100000000000000FD",
       {"0000000100000000000000FE", "0000000100000000000000FF", "000000010000000100000001",
        "000000010000000100000002"}},
      {"an archive that ends before the backup starts",
       {"000000010000000000000001"},
       "000000010000000000000005",
       {"000000010000000000000005"}},
      {"an empty archive", {}, "000000010000000000000005", {"000000010000000000000005"}},
      {"a promotion: timeline 2 goes on from the switch segment",
       {"000000010000000000000004", "000000010000000000000005", "00000002.history",
        "000000020000000000000006", "000000020000000000000007"},
       "000000010000000000000004",
       {}},
      {"a gap right after a promotion is named on the new timeline",
       {"000000010000000000000004", "00000002.history", "000000020000000000000007"},
       "000000010000000000000004",
       {"000000020000000000000005", "000000020000000000000006"}},
      {"a timeline older than the backup's does not fill its gap",
       {"000000010000000000000006", "000000020000000000000005", "000000020000000000000007"},
       "000000020000000000000005",
       {"000000020000000000000006"}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const WalContinuity r =
        check_wal_continuity(parse_wal_listing(listing_of(c.present)), seg(c.start));
    CHECK(names_of(r) == c.missing);
    std::uint64_t count = 0;
    for (const auto& g : r.gaps) count += g.count;
    CHECK(r.missing == count);
    CHECK(r.missing == c.missing.size());
    CHECK(r.complete() == (c.missing.empty()));
  }
}

TEST_CASE("the continuity check reports a crossed timeline whose history file is missing") {
  const auto r = check_wal_continuity(
      parse_wal_listing(listing_of({"000000010000000000000004", "000000020000000000000005",
                                    "00000003.history", "000000030000000000000006"})),
      seg("000000010000000000000004"));
  CHECK(r.missing == 0);
  CHECK(r.missing_history == std::vector<std::uint32_t>{2});
  CHECK_FALSE(r.complete());
  REQUIRE(r.newest.has_value());
  CHECK(wal_segment_name(*r.newest) == "000000030000000000000006");
}

TEST_CASE("a long gap is counted whole and its names are listed up to a limit") {
  const auto r = check_wal_continuity(
      parse_wal_listing(listing_of({"000000010000000000000001", "000000010000000500000000"})),
      seg("000000010000000000000001"));
  REQUIRE(r.gaps.size() == 1);
  CHECK(r.missing == 5 * 256 - 2);  // 000000010000000000000002 to 0000000100000004000000FF
  CHECK(wal_segment_name(r.gaps[0].first) == "000000010000000000000002");
  CHECK(wal_segment_name(r.gaps[0].last) == "0000000100000004000000FF");
  CHECK(missing_segment_names(r, 2) ==
        std::vector<std::string>{"000000010000000000000002", "000000010000000000000003"});
}
