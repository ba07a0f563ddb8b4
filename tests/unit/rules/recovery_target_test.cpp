// Recovery targets: the command line's forms, the recovery window's refusal, random_time and
// the backup a restore starts from.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "agent/core/errors.h"
#include "agent/rules/recovery_target.h"

using namespace pgbackup;
using std::chrono::milliseconds;

namespace {

SysTime at(const char* iso) { return *parse_target_time(iso); }

CatalogEntry entry(const char* finished, bool good = true) {
  CatalogEntry e;
  e.dump = finished;
  e.started_at = at(finished) - std::chrono::minutes(1);
  if (good) {
    Manifest m;
    m.finished_at = at(finished);
    e.manifest = m;
  } else {
    e.manifest_error = "incomplete";
  }
  return e;
}

}  // namespace

TEST_CASE("target times are ISO 8601 in UTC, fractions kept to the microsecond") {
  struct Row {
    const char* text;
    std::optional<std::string> printed;  // nullopt: refused
  };
  const std::vector<Row> rows = {
      {"2026-12-06T14:04:00Z", "2026-12-06T14:04:00Z"},
      {"2026-12-06T14:04:00+00:00", "2026-12-06T14:04:00Z"},
      {"2026-12-06T14:04:00.5Z", "2026-12-06T14:04:00.5Z"},
      {"2026-12-06T14:04:00.123456Z", "2026-12-06T14:04:00.123456Z"},
      {"2026-12-06T14:04:00.1234567Z", "2026-12-06T14:04:00.123456Z"},
      {"2026-12-06T14:04:00.Z", std::nullopt},
      {"2026-12-06T14:04:00.5x", std::nullopt},
      {"2026-12-06 14:04:00Z", std::nullopt},
      {"2026-12-06T14:04:00", std::nullopt},
      {"2026-12-06T14:04:00+01:00", std::nullopt},
      {"2026-02-30T14:04:00Z", std::nullopt},
      {"yesterday", std::nullopt},
  };
  for (const Row& row : rows) {
    INFO(row.text);
    const std::optional<SysTime> t = parse_target_time(row.text);
    REQUIRE(t.has_value() == row.printed.has_value());
    if (t) CHECK(format_target_time(*t) == *row.printed);
  }
}

TEST_CASE("lsns are two hex numbers, normalised to upper case") {
  struct Row {
    const char* text;
    std::optional<std::string> lsn;
  };
  const std::vector<Row> rows = {
      {"0/3000060", "0/3000060"},
      {"0/3a000b0", "0/3A000B0"},
      {"16/0", "16/0"},
      {"00000000/00000001", "0/1"},
      {"FFFFFFFF/FFFFFFFF", "FFFFFFFF/FFFFFFFF"},
      {"0/", std::nullopt},
      {"/1", std::nullopt},
      {"0-3000060", std::nullopt},
      {"0/3000060g", std::nullopt},
      {"1/123456789", std::nullopt},
  };
  for (const Row& row : rows) {
    INFO(row.text);
    CHECK(parse_lsn(row.text) == row.lsn);
  }
  CHECK(lsn_value("1/10") == (std::uint64_t{1} << 32) + 16);
}

TEST_CASE("the command line asks for one target; none is latest") {
  CHECK(parse_recovery_target(std::nullopt, std::nullopt, false) == RecoveryTarget::latest());
  CHECK(parse_recovery_target(std::nullopt, std::nullopt, true) == RecoveryTarget::latest());
  CHECK(parse_recovery_target(std::string("2026-12-06T14:04:00Z"), std::nullopt, false) ==
        RecoveryTarget::at_time(at("2026-12-06T14:04:00Z")));
  CHECK(parse_recovery_target(std::nullopt, std::string("0/3a"), false) ==
        RecoveryTarget::at_lsn("0/3A"));
  CHECK(
      parse_recovery_target(std::string("2026-12-06T14:04:00Z"), std::nullopt, false).describe() ==
      "time 2026-12-06T14:04:00Z");
  CHECK(RecoveryTarget::at_lsn("0/3A").describe() == "lsn 0/3A");
  CHECK(RecoveryTarget::latest().describe() == "latest");
  CHECK_THROWS_WITH(parse_recovery_target(std::string("14:04"), std::nullopt, false),
                    Catch::Contains("--time '14:04' is not a time in UTC") &&
                        Catch::Contains("2026-12-06T14:04:00Z"));
  CHECK_THROWS_WITH(parse_recovery_target(std::nullopt, std::string("x"), false),
                    Catch::Contains("--lsn 'x' is not an LSN"));
  CHECK_THROWS_WITH(parse_recovery_target(std::string("2026-12-06T14:04:00Z"), std::nullopt, true),
                    Catch::Contains("exclude each other"));
}

TEST_CASE("a target outside the recovery window is refused, naming the window") {
  RecoveryWindow w;
  w.start = at("2026-12-06T02:00:00Z");
  w.end = at("2026-12-06T14:30:00.5Z");
  struct Row {
    RecoveryTarget target;
    std::string refusal;  // "" : allowed
  };
  const std::vector<Row> rows = {
      {RecoveryTarget::latest(), ""},
      {RecoveryTarget::at_lsn("0/3000060"), ""},
      {RecoveryTarget::at_time(at("2026-12-06T02:00:00Z")), ""},
      {RecoveryTarget::at_time(at("2026-12-06T14:04:00Z")), ""},
      {RecoveryTarget::at_time(at("2026-12-06T14:30:00.5Z")), ""},
      {RecoveryTarget::at_time(at("2026-12-06T01:59:59Z")),
       "target time 2026-12-06T01:59:59Z is before the recovery window 2026-12-06T02:00:00Z .. "
       "2026-12-06T14:30:00.5Z (the oldest good backup finished at its start)"},
      {RecoveryTarget::at_time(at("2026-12-06T14:30:01Z")),
       "target time 2026-12-06T14:30:01Z is after the recovery window 2026-12-06T02:00:00Z .. "
       "2026-12-06T14:30:00.5Z (the archive ends there)"},
  };
  for (const Row& row : rows) {
    INFO(row.target.describe());
    CHECK(check_in_window(row.target, w) == row.refusal);
  }
  CHECK(check_in_window(RecoveryTarget::latest(), RecoveryWindow{}).find("no recovery window") ==
        0);
}

TEST_CASE("random_time lies inside the window, chosen by the injected value") {
  RecoveryWindow w;
  w.start = at("2026-12-06T02:00:00.0004Z");
  w.end = at("2026-12-06T02:00:10Z");
  CHECK(random_time_in(w, 0.0) == *w.start);
  CHECK(random_time_in(w, 0.5) == *w.start + milliseconds(4999));
  CHECK(random_time_in(w, 0.999999) <= *w.end);
  CHECK(random_time_in(w, 1.0) <= *w.end);
  CHECK(random_time_in(w, -3) == *w.start);
  RecoveryWindow point;
  point.start = point.end = at("2026-12-06T02:00:00Z");
  CHECK(random_time_in(point, 0.7) == *point.start);
}

TEST_CASE("a restore starts from the newest good backup finished by its target") {
  const std::vector<CatalogEntry> catalog = {entry("2026-12-05T02:00:00Z"),
                                             entry("2026-12-06T02:00:00Z"),
                                             entry("2026-12-06T06:00:00Z", false)};
  CHECK(choose_backup(catalog, RecoveryTarget::latest()) == &catalog[1]);
  CHECK(choose_backup(catalog, RecoveryTarget::at_lsn("0/1")) == &catalog[1]);
  CHECK(choose_backup(catalog, RecoveryTarget::at_time(at("2026-12-06T01:00:00Z"))) == &catalog[0]);
  CHECK(choose_backup(catalog, RecoveryTarget::at_time(at("2026-12-06T02:00:00Z"))) == &catalog[1]);
  CHECK(choose_backup(catalog, RecoveryTarget::at_time(at("2026-12-04T01:00:00Z"))) == nullptr);
  CHECK(choose_backup({}, RecoveryTarget::latest()) == nullptr);
}
