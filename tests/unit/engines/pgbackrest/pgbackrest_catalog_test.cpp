// The pgBackRest engine's catalogue decisions (pure): proof, tiers, sizes, sets; and where a
// posix repository is according to pgbackrest.conf.
#include <catch2/catch.hpp>

#include <string>

#include "agent/engines/pgbackrest/pgbackrest_catalog.h"
#include "agent/engines/pgbackrest/repo_path.h"

using namespace pgbackup;
using namespace pgbackup::pgbackrest;

namespace {

SysTime at(const std::string& iso) { return parse_iso8601(iso).value(); }

WalSegment seg(std::uint32_t n) { return wal_segment_at(1, n, segments_per_log()); }

InfoBackup backup(const std::string& label, BackupType type, const std::string& start,
                  std::uint32_t wal_start, const std::vector<std::string>& refs = {}) {
  InfoBackup b;
  b.label = label;
  b.type = type;
  b.prior = refs.empty() ? "" : refs.back();
  b.references = refs;
  b.start = at(start);
  b.stop = b.start + std::chrono::seconds(30);
  b.archive_start = wal_segment_name(seg(wal_start));
  b.archive_stop = b.archive_start;
  b.repository_delta = type == BackupType::full ? 1000 : 100;
  b.repository_size = 1000 + (type == BackupType::full ? 0 : 100 * refs.size());
  b.error_known = true;
  return b;
}

// An archive holding segments from..to, less `missing`.
ArchiveListing archive(std::uint32_t from, std::uint32_t to, std::set<std::uint32_t> missing = {}) {
  WalListing l;
  for (std::uint32_t n = from; n <= to; ++n) {
    if (!missing.contains(n)) l.segments.insert(seg(n));
  }
  return {l, ""};
}

std::vector<CatalogEntry> catalog(const InfoStanza& s, const ArchiveListing& a,
                                  const std::map<std::string, BackupRecord>& records = {}) {
  return build_catalog({"t", "/state/pgbackrest", &s, &a, &records});
}

}  // namespace

TEST_CASE("a full, its diff and incr: good, named by label, sized by what each added") {
  InfoStanza s;
  s.backups = {backup("F1", BackupType::full, "2026-12-01T02:00:00Z", 3),
               backup("D1", BackupType::diff, "2026-12-02T02:00:00Z", 5, {"F1"}),
               backup("I1", BackupType::incr, "2026-12-02T06:00:00Z", 7, {"F1", "D1"})};
  const auto entries = catalog(s, archive(1, 9));
  REQUIRE(entries.size() == 3);
  for (const CatalogEntry& e : entries) {
    INFO(e.name() << ": " << e.problem());
    CHECK(e.good());
  }
  CHECK(entries[0].name() == "F1");
  CHECK(entries[0].dump == "/state/pgbackrest/F1");
  CHECK(entries[1].type == BackupType::diff);
  CHECK(entries[2].type == BackupType::incr);
  CHECK(entries[2].size_bytes() == 100);
  CHECK(entries[2].restore_set_bytes() == 1200);
  CHECK(entries[0].finished_at() == at("2026-12-01T02:00:30Z"));
  // The first full of December is monthly; its diff and incr carry its tier.
  CHECK(entries[0].tier() == Tier::monthly);
  CHECK(entries[1].tier() == Tier::monthly);
  CHECK(entries[2].tier() == Tier::monthly);
}

TEST_CASE("tiers of fulls follow DESIGN §5 over the good fulls, a record's tier is kept") {
  InfoStanza s;
  s.backups = {backup("F1", BackupType::full, "2026-12-01T02:00:00Z", 3),  // Tue: monthly
               backup("F2", BackupType::full, "2026-12-02T02:00:00Z", 5),  // same week: daily
               backup("F3", BackupType::full, "2026-12-07T02:00:00Z", 7),  // Monday: weekly
               backup("I3", BackupType::incr, "2026-12-07T08:00:00Z", 8, {"F3"})};
  auto entries = catalog(s, archive(1, 9));
  CHECK(entries[0].tier() == Tier::monthly);
  CHECK(entries[1].tier() == Tier::daily);
  CHECK(entries[2].tier() == Tier::weekly);
  CHECK(entries[3].tier() == Tier::weekly);

  // The tier recorded when F2 was taken stays, whatever came before it since.
  std::map<std::string, BackupRecord> records;
  records["F2"] = record_of(s.backups[1], BackupType::full, Tier::monthly, 12.5);
  entries = catalog(s, archive(1, 9), records);
  CHECK(entries[1].tier() == Tier::monthly);
  CHECK(entries[1].manifest->duration_seconds == 12.5);
}

TEST_CASE("a missing WAL segment fails every backup that needs it, naming the segment") {
  InfoStanza s;
  s.backups = {backup("F1", BackupType::full, "2026-12-01T02:00:00Z", 3),
               backup("F2", BackupType::full, "2026-12-02T02:00:00Z", 8)};
  const auto entries = catalog(s, archive(1, 10, {6}));
  CHECK_FALSE(entries[0].good());
  CHECK_THAT(entries[0].problem(),
             Catch::Contains("1 missing WAL segment: " + wal_segment_name(seg(6))));
  CHECK(entries[1].good());  // it starts after the gap
}

TEST_CASE("page checksum errors, a bad full and an unreadable archive make a backup not good") {
  InfoStanza s;
  s.backups = {backup("F1", BackupType::full, "2026-12-01T02:00:00Z", 3),
               backup("D1", BackupType::diff, "2026-12-02T02:00:00Z", 5, {"F1"}),
               backup("F2", BackupType::full, "2026-12-03T02:00:00Z", 6)};
  s.backups[0].error = true;
  auto entries = catalog(s, archive(1, 9));
  CHECK_THAT(entries[0].problem(), Catch::Contains("page checksum errors"));
  CHECK_THAT(entries[1].problem(), Catch::Contains("it builds on F1, which is not good"));
  CHECK(entries[2].good());
  // A full that is not good is no tier's first: F2 is the month's first good full.
  CHECK(entries[2].tier() == Tier::monthly);

  const ArchiveListing unreadable{std::nullopt, "repo-ls failed"};
  entries = catalog(s, unreadable);
  CHECK_THAT(entries[2].problem(),
             Catch::Contains("the WAL archive could not be listed: repo-ls failed"));
}

TEST_CASE("the repository's cipher makes every backup in it encrypted; \"none\" does not") {
  const struct {
    const char* cipher;
    const char* encryption;  // what each entry says
  } cases[] = {{"aes-256-cbc", "aes-256-cbc"}, {"none", ""}, {"", ""}};
  for (const auto& c : cases) {
    INFO("cipher \"" << c.cipher << "\"");
    InfoStanza s;
    s.cipher = c.cipher;
    s.backups = {backup("F1", BackupType::full, "2026-12-01T02:00:00Z", 3),
                 backup("D1", BackupType::diff, "2026-12-02T02:00:00Z", 5, {"F1"})};
    const auto entries = catalog(s, archive(1, 4));  // D1's WAL is missing: not good
    REQUIRE(entries.size() == 2);
    CHECK(entries[0].good());
    CHECK_FALSE(entries[1].good());
    for (const CatalogEntry& e : entries) {
      CHECK(e.encryption() == c.encryption);
      CHECK(e.encrypted() == (c.encryption[0] != 0));
      CHECK(encryption_summary(e) == c.encryption);
    }
  }
}

TEST_CASE("full_of follows a backup's priors to its full") {
  InfoStanza s;
  s.backups = {backup("F1", BackupType::full, "2026-12-01T02:00:00Z", 3),
               backup("D1", BackupType::diff, "2026-12-02T02:00:00Z", 5, {"F1"}),
               backup("I1", BackupType::incr, "2026-12-02T06:00:00Z", 7, {"F1", "D1"})};
  CHECK(full_of(s, s.backups[2]) == "F1");
  CHECK(full_of(s, s.backups[0]) == "F1");
  InfoBackup orphan = backup("I9", BackupType::incr, "2026-12-03T00:00:00Z", 8, {"GONE"});
  CHECK(full_of(s, orphan).empty());
}

TEST_CASE("a record survives a JSON round trip and a malformed one is refused") {
  const InfoBackup b = backup("20261207-020000F", BackupType::full, "2026-12-07T02:00:00Z", 3);
  const BackupRecord r = record_of(b, BackupType::incr, Tier::weekly, 3.5);
  const BackupRecord back = record_from_json(record_to_json(r));
  CHECK(back.label == r.label);
  CHECK(back.requested == BackupType::incr);
  CHECK(back.type == BackupType::full);
  CHECK(back.tier == Tier::weekly);
  CHECK(back.wal_start == b.archive_start);
  CHECK(back.stop == b.stop);
  nlohmann::json bad = record_to_json(r);
  bad["label"] = "../../etc/passwd";
  CHECK_THROWS_WITH(record_from_json(bad), Catch::Contains("label"));
  bad = record_to_json(r);
  bad.erase("tier");
  CHECK_THROWS_WITH(record_from_json(bad), Catch::Contains("malformed"));
}

TEST_CASE("repoN-path from pgbackrest.conf: the stanza's section over [global], posix only") {
  const std::string conf = R"(# the operator's file
[global]
repo1-path=/var/lib/pgbackrest
repo2-type=s3
repo2-path=/in-bucket
 repo3-path = /srv/three 

[main]
pg1-path=/var/lib/postgresql/15/main
repo1-path=/srv/main-repo

[global:archive-push]
repo1-path=/ignored-for-other-stanzas
)";
  CHECK(repo_path_in_config(conf, "main", 1) == "/srv/main-repo");
  CHECK(repo_path_in_config(conf, "other", 1) == "/var/lib/pgbackrest");
  CHECK_FALSE(repo_path_in_config(conf, "main", 2).has_value());  // s3: no filesystem here
  CHECK(repo_path_in_config(conf, "main", 3) == "/srv/three");
  CHECK_FALSE(repo_path_in_config(conf, "main", 4).has_value());
  CHECK_FALSE(repo_path_in_config("", "main", 1).has_value());
  // The data directory a production restore replaces.
  CHECK(option_in_config(conf, "main", "pg1-path") == "/var/lib/postgresql/15/main");
  CHECK_FALSE(option_in_config(conf, "other", "pg1-path").has_value());
}
