// Which backup set a restore of a pgBackRest target to an LSN starts from, and its timeline.
#include <catch2/catch.hpp>

#include <string>

#include "agent/engines/pgbackrest/restore_set.h"

using namespace pgbackup;
using namespace pgbackup::pgbackrest;

namespace {

InfoBackup set(const std::string& label, const std::string& lsn_stop, int minute,
               const std::string& archive_start = "000000010000000000000003") {
  InfoBackup b;
  b.label = label;
  b.lsn_stop = lsn_stop;
  b.stop = parse_iso8601("2026-12-06T14:00:00Z").value() + std::chrono::minutes(minute);
  b.archive_start = archive_start;
  return b;
}

}  // namespace

TEST_CASE("an lsn target starts from the newest good set that stopped at or before it") {
  InfoStanza stanza;
  stanza.backups = {set("F", "0/3000100", 0), set("I1", "0/5000100", 10),
                    set("I2", "0/7000100", 20)};
  const std::set<std::string> all = {"F", "I1", "I2"};
  CHECK(newest_set_before_lsn(stanza, all, 0x6000000)->label == "I1");
  CHECK(newest_set_before_lsn(stanza, all, 0x7000100)->label == "I2");  // its stop LSN itself
  CHECK(newest_set_before_lsn(stanza, all, 0x3000100)->label == "F");
  // Before every set's consistency point: none (outside the recovery window).
  CHECK(newest_set_before_lsn(stanza, all, 0x3000000) == nullptr);
  // A set that is not good is never chosen; one without a stop LSN neither.
  CHECK(newest_set_before_lsn(stanza, {"F", "I2"}, 0x6000000)->label == "F");
  stanza.backups[0].lsn_stop = "";
  CHECK(newest_set_before_lsn(stanza, all, 0x4000000) == nullptr);
}

TEST_CASE("a set's timeline is its archive start's") {
  CHECK(timeline_of(set("F", "0/1", 0, "000000020000000000000003")) == 2);
  CHECK(timeline_of(set("F", "0/1", 0, "")) == 0);
}

namespace {

// F consistent at 0/3000100 (segment 3), the archive up to segment 7 of timeline 1.
InfoStanza stanza_with_archive(const std::string& max = "000000010000000000000007") {
  InfoStanza stanza;
  stanza.databases = {InfoDatabase{1, 7000, "15"}};
  stanza.archives = {InfoArchive{"15-1", 1, "000000010000000000000003", max}};
  stanza.backups = {set("F", "0/3000100", 0), set("I1", "0/5000100", 10)};
  stanza.backups[0].archive_stop = "000000010000000000000003";
  stanza.backups[1].archive_stop = "000000010000000000000005";
  return stanza;
}

}  // namespace

TEST_CASE("an lsn target outside the window in LSN terms is refused, naming the window") {
  const InfoStanza stanza = stanza_with_archive();
  const std::set<std::string> all = {"F", "I1"};
  CHECK(archive_end_lsn(stanza) == 0x8000000);
  CHECK(check_lsn_in_window(stanza, all, 0x3000100).empty());
  CHECK(check_lsn_in_window(stanza, all, 0x7FFFFFF).empty());
  CHECK(check_lsn_in_window(stanza, all, 0x3000000) ==
        "target lsn 0/3000000 is before the recovery window 0/3000100 .. 0/8000000 (the oldest "
        "good backup is consistent from its start)");
  CHECK(check_lsn_in_window(stanza, all, 0xFF00000000) ==
        "target lsn FF/0 is after the recovery window 0/3000100 .. 0/8000000 (the archive ends "
        "there)");
  // The window starts at the oldest GOOD set.
  CHECK_THAT(check_lsn_in_window(stanza, {"I1"}, 0x4000000),
             Catch::Contains("before the recovery window 0/5000100 .. 0/8000000"));
  CHECK_THAT(check_lsn_in_window(stanza, {}, 0x4000000), Catch::Contains("no recovery window"));
  CHECK_THAT(check_lsn_in_window(stanza_with_archive(""), all, 0x4000000),
             Catch::Contains("no recovery window"));
}

TEST_CASE("the archive's end follows the segment size the sets' stop LSNs show") {
  // wal_segment_size 64 MiB: segment 1 of log 0 covers 0/4000000 .. 0/8000000.
  InfoStanza stanza = stanza_with_archive("000000010000000000000002");
  stanza.backups = {set("F", "0/4000100", 0)};
  stanza.backups[0].archive_stop = "000000010000000000000001";
  CHECK(archive_end_lsn(stanza) == 0xC000000);
  // A second log: 16 MiB segments, 256 per log.
  CHECK(archive_end_lsn(stanza_with_archive("0000000100000001000000FF")) == 0x200000000);
  CHECK(lsn_text(0x1A0000028) == "1/A0000028");
}
