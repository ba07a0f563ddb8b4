// `pgbackrest info --output=json` parsed: real pgBackRest 2.45 output (tests/fixtures/pgbackrest,
// captured from a full, a diff and an incr of a PostgreSQL 15 cluster) and malformed variants.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <string>

#include "agent/core/file_io.h"
#include "agent/engines/pgbackrest/info.h"

using namespace pgbackup;
using namespace pgbackup::pgbackrest;

namespace {

std::string fixture(const std::string& name) {
  return read_file(std::string(PGBACKUP_SOURCE_DIR) + "/tests/fixtures/pgbackrest/" + name);
}

// The real info output with one change made to its first stanza.
std::string edited(const std::function<void(nlohmann::json&)>& edit) {
  auto j = nlohmann::json::parse(fixture("info.json"));
  edit(j[0]);
  return j.dump();
}

}  // namespace

TEST_CASE("info of a stanza with a full, a diff and an incr gives each backup's record") {
  const InfoStanza s = parse_stanza_info(fixture("info.json"), "s");
  CHECK(s.status_code == 0);
  CHECK(s.status_message == "ok");
  CHECK_FALSE(s.backup_lock_held);
  CHECK(s.cipher == "none");
  REQUIRE(s.backups.size() == 3);

  const InfoBackup& full = s.backups[0];
  CHECK(full.label == "20261206-203315F");
  CHECK(full.type == BackupType::full);
  CHECK(full.prior.empty());
  CHECK(full.references.empty());
  CHECK(to_unix_seconds(full.start) == 1796589195);
  CHECK(to_unix_seconds(full.stop) == 1796589199);
  CHECK(full.archive_start == "000000010000000000000002");
  CHECK(full.archive_stop == "000000010000000000000003");
  CHECK(full.lsn_start == "0/2000028");
  CHECK(full.lsn_stop == "0/3000050");
  CHECK(full.size == 23213858);
  CHECK(full.delta == 23213858);
  CHECK(full.repository_size == 2827316);
  CHECK(full.repository_delta == 2827316);
  CHECK(full.error_known);
  CHECK_FALSE(full.error);
  CHECK(full.db_id == 1);

  const InfoBackup& incr = s.backups[2];
  CHECK(incr.type == BackupType::incr);
  CHECK(incr.prior == "20261206-203315F_20261206-203320D");
  CHECK(incr.references ==
        std::vector<std::string>{"20261206-203315F", "20261206-203315F_20261206-203320D"});
  CHECK(incr.delta == 8457);
  CHECK(s.backup("20261206-203315F_20261206-203320D")->type == BackupType::diff);
  CHECK(s.backup("nope") == nullptr);
}

TEST_CASE("info's system-id past 2^53 is read exactly, and a float system-id is refused") {
  const InfoStanza s = parse_stanza_info(fixture("info.json"), "s");
  REQUIRE(s.current_database() != nullptr);
  CHECK(s.current_database()->system_id == 7716291825059899856ull);
  CHECK(s.current_database()->version == "15");

  const auto max = edited([](auto& j) { j["db"][0]["system-id"] = 18446744073709551615ull; });
  CHECK(parse_stanza_info(max, "s").current_database()->system_id == 18446744073709551615ull);
  // 2^53 + 1 as a float would silently become 2^53: refused rather than rounded.
  const auto as_float = edited([](auto& j) { j["db"][0]["system-id"] = 9007199254740993.0; });
  CHECK_THROWS_WITH(parse_info(as_float),
                    Catch::Contains("stanza[0].db[0].system-id must be an integer"));
  CHECK_THROWS_AS(parse_info(R"([{"name":"s","status":{"code":0,"message":"ok"},
      "db":[{"id":1,"system-id":18446744073709551616,"version":"15"}]}])"),
                  InfoParseError);
  CHECK_THROWS_AS(parse_info(edited([](auto& j) { j["db"][0]["system-id"] = -1; })),
                  InfoParseError);
}

TEST_CASE("info's archive gives each database's oldest and newest segment") {
  const InfoStanza s = parse_stanza_info(fixture("info.json"), "s");
  const InfoArchive* a = s.archive_of(1);
  REQUIRE(a != nullptr);
  CHECK(a->id == "15-1");
  CHECK(a->min == "000000010000000000000001");
  CHECK(a->max == "000000010000000000000007");
  CHECK(s.archive_of(2) == nullptr);
}

TEST_CASE("info of a stanza that does not exist gives its status and empty lists") {
  const InfoStanza s = parse_stanza_info(fixture("info_missing_stanza.json"), "nope");
  CHECK(s.status_code == 1);
  CHECK(s.status_message == "missing stanza path");
  CHECK(s.backups.empty());
  CHECK(s.databases.empty());
  CHECK(s.current_database() == nullptr);
  CHECK_THROWS_WITH(parse_stanza_info(fixture("info.json"), "other"),
                    Catch::Contains("no stanza \"other\""));
}

TEST_CASE("info with a backup error flag, a running backup or no error field says so") {
  const auto errored = edited([](auto& j) {
    j["backup"][1]["error"] = true;
    j["status"]["lock"]["backup"]["held"] = true;
  });
  const InfoStanza s = parse_stanza_info(errored, "s");
  CHECK(s.backups[1].error);
  CHECK(s.backup_lock_held);
  const auto old = edited([](auto& j) { j["backup"][0].erase("error"); });
  const InfoStanza o = parse_stanza_info(old, "s");
  CHECK_FALSE(o.backups[0].error_known);
  CHECK_FALSE(o.backups[0].error);
}

TEST_CASE("malformed info output is a clear error naming the field, never a crash") {
  struct Case {
    std::string name, text, message;
  };
  const std::vector<Case> cases = {
      {"not json", "ERROR: [031]: oops", "output is not valid JSON"},
      {"not a list", R"({"name":"s"})", "output is not a list of stanzas"},
      {"no status", R"([{"name":"s"}])", "stanza[0].status is missing"},
      {"code not a number", R"([{"name":"s","status":{"code":"0","message":"ok"}}])",
       "\"stanza[0].status.code\" must be a whole number"},
      {"unknown type", edited([](auto& j) { j["backup"][0]["type"] = "snapshot"; }),
       "stanza[0].backup[0].type is \"snapshot\", not full, diff or incr"},
      {"negative size", edited([](auto& j) { j["backup"][2]["info"]["size"] = -5; }),
       "stanza[0].backup[2].info.size\" must be a whole number"},
      {"huge timestamp", edited([](auto& j) { j["backup"][0]["timestamp"]["stop"] = 1e300; }),
       "stanza[0].backup[0].timestamp.stop\" must be a whole number"},
      {"label not text", edited([](auto& j) { j["backup"][0]["label"] = 7; }),
       "stanza[0].backup[0].label is not a string"},
      {"references not a list", edited([](auto& j) { j["backup"][1]["reference"] = "x"; }),
       "stanza[0].backup[1].reference is not an array"},
      {"backup not an object", edited([](auto& j) { j["backup"][0] = 1; }),
       "stanza[0].backup[0] is not an object"},
      {"db not a list", edited([](auto& j) { j["db"] = nlohmann::json::object(); }),
       "stanza[0].db is not an array"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK_THROWS_AS(parse_info(c.text), InfoParseError);
    CHECK_THROWS_WITH(parse_info(c.text), Catch::Contains(c.message));
  }
}
