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
