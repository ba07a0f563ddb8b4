// The rule "never prune after a failed or anomalous backup" (DESIGN §5).
#include <catch2/catch.hpp>

#include "agent/rules/retention.h"

using namespace pgbackup;

TEST_CASE("retention waits after a failed backup attempt or a size anomaly, else it runs") {
  Manifest normal;
  Manifest anomaly;
  anomaly.size_anomaly = true;
  anomaly.size_anomaly_reason = "10 B is below 0.5 x the 7-backup median";
  struct Case {
    const char* situation;
    bool last_backup_failed;
    const Manifest* newest_good;
    const char* reason;  // "" when retention runs
  };
  const Case cases[] = {
      {"no backup yet", false, nullptr, ""},
      {"the newest backup is normal", false, &normal, ""},
      {"the newest attempt failed", true, &normal,
       "the newest backup attempt failed; retention waits for a good backup"},
      {"the newest attempt failed and nothing is good", true, nullptr,
       "the newest backup attempt failed; retention waits for a good backup"},
      {"the newest good backup is a size anomaly", false, &anomaly,
       "the newest backup is a size anomaly (10 B is below 0.5 x the 7-backup median); "
       "retention waits for a normal backup"},
      {"a failed attempt after an anomaly", true, &anomaly,
       "the newest backup attempt failed; retention waits for a good backup"},
  };
  for (const Case& c : cases) {
    INFO(c.situation);
    CHECK(retention_blocked_reason(c.last_backup_failed, c.newest_good) == c.reason);
  }
}
