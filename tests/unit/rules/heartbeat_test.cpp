// The recovery-point probe's bound: the newest heartbeat restored lies within one cadence (plus
// the slack) before the point restored to.
#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "agent/rules/heartbeat.h"
#include "agent/rules/recovery_target.h"

using namespace pgbackup;
using std::chrono::seconds;

namespace {

SysTime at(const char* iso) { return *parse_target_time(iso); }

}  // namespace

TEST_CASE("a heartbeat within one cadence and the slack before the point proves it",
          "[rules][heartbeat]") {
  struct Row {
    const char* what;
    const char* point;
    bool exact;
    int cadence;
    std::optional<const char*> newest;
    const char* finding;  // "" when proven; else a part of the finding
  };
  const Row rows[] = {
      {"just before a time target", "2026-12-07T12:00:30Z", true, 30, "2026-12-07T12:00:29.5Z", ""},
      {"at the target itself", "2026-12-07T12:00:30Z", true, 30, "2026-12-07T12:00:30Z", ""},
      {"one cadence before", "2026-12-07T12:00:30Z", true, 30, "2026-12-07T12:00:00Z", ""},
      {"at the slack's end", "2026-12-07T12:00:30Z", true, 30, "2026-12-07T11:59:55Z", ""},
      {"just past the slack", "2026-12-07T12:00:30Z", true, 30, "2026-12-07T11:59:54.9Z",
       "is 35.1s before the target 2026-12-07T12:00:30Z, more than one cadence (30s, plus 5s"},
      {"an hour old", "2026-12-07T12:00:30Z", true, 30, "2026-12-07T11:00:30Z",
       "(2026-12-07T11:00:30Z) is 3600.0s before the target 2026-12-07T12:00:30Z"},
      {"after a time target", "2026-12-07T12:00:30Z", true, 30, "2026-12-07T12:00:30.001Z",
       "is after the target 2026-12-07T12:00:30Z: recovery did not stop"},
      {"after the archive's end, latest", "2026-12-07T12:00:30Z", false, 30, "2026-12-07T12:00:34Z",
       ""},
      {"old at latest", "2026-12-07T12:00:30Z", false, 1, "2026-12-07T12:00:20Z",
       "before the archive's end 2026-12-07T12:00:30Z, more than one cadence (1s, plus 5s"},
      {"a short cadence", "2026-12-07T12:00:30Z", true, 1, "2026-12-07T12:00:24Z", ""},
      {"none restored", "2026-12-07T12:00:30Z", true, 30, std::nullopt,
       "the restored cluster has no heartbeat (pgbackup.heartbeat is missing or empty)"},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    const HeartbeatBound bound{at(row.point), row.exact, seconds(row.cadence)};
    const std::optional<SysTime> newest =
        row.newest ? std::optional<SysTime>(at(*row.newest)) : std::nullopt;
    const std::string finding = heartbeat_finding(bound, newest);
    if (std::string(row.finding).empty()) {
      CHECK(finding.empty());
    } else {
      CHECK_THAT(finding, Catch::Contains(row.finding));
      CHECK_THAT(finding, Catch::StartsWith("heartbeat: "));
    }
  }
}
