// Which backups are owed an off-site copy.
#include "agent/jobs/offsite.h"

#include <catch2/catch.hpp>

namespace pgbackup {

TEST_CASE(
    "a backup is owed an off-site copy when its tier is listed, it is inside its window "
    "and no copy in this bucket is recorded") {
  const SysTime now = *parse_iso8601("2026-03-01T00:00:00Z");
  S3Config s3;
  s3.bucket = "b";
  s3.prefix = "p/";
  s3.tiers = {"weekly", "monthly"};
  auto backup = [&](const char* stamp, Tier tier, const std::string& copied_to = "") {
    CatalogEntry e;
    e.started_at = *parse_iso8601(stamp);
    Manifest m;
    m.file = std::string("t_") + format_file_stamp(e.started_at) + ".dump";
    m.tier = tier;
    if (!copied_to.empty()) m.offsite.push_back({copied_to + m.file, "GLACIER", "e", "x"});
    e.manifest = m;
    return e;
  };
  std::vector<CatalogEntry> backups = {
      backup("2025-01-01T02:00:00Z", Tier::monthly),                   // past 365 days: not owed
      backup("2026-01-01T02:00:00Z", Tier::monthly, "s3://b/p/"),      // copied
      backup("2026-02-01T02:00:00Z", Tier::monthly, "s3://other/p/"),  // another bucket: owed
      backup("2026-02-02T02:00:00Z", Tier::weekly),                    // owed
      backup("2026-02-03T02:00:00Z", Tier::daily),                     // tier not listed
  };
  CatalogEntry broken;
  broken.manifest_error = "no manifest";
  backups.push_back(broken);  // not a good backup
  const auto pending = pending_offsite(backups, s3, RetentionConfig{}, now);
  REQUIRE(pending.size() == 2);
  CHECK(pending[0] == &backups[2]);
  CHECK(pending[1] == &backups[3]);
  CHECK(offsite_key(s3, "t.dump") == "p/t.dump");
}

}  // namespace pgbackup
