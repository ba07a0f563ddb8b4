// Retention over a Storage (jobs/prune): one code path for the backup directory and the bucket.
#include "agent/jobs/prune.h"

#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "agent/core/errors.h"
#include "agent/core/timeutil.h"

using namespace pgbackup;
using namespace std::chrono_literals;

namespace {

// A Storage in memory that records every call, in order.
class MemoryStorage : public Storage {
 public:
  std::map<std::string, std::string> files;
  std::vector<std::string> calls;
  std::set<std::string> refused;  // removed as PosixStorage removes a link: never

  std::string address(const std::string& name) const override { return "mem:" + name; }
  std::vector<StoredFile> list() override {
    std::vector<StoredFile> out;
    for (const auto& [name, content] : files) out.push_back({name, content.size()});
    return out;
  }
  std::string read(const std::string& name) override { return files.at(name); }
  void remove(const std::string& name) override {
    calls.push_back("remove " + name);
    if (refused.count(name)) throw OperationError("refusing to delete mem:" + name);
    files.erase(name);
  }
  void sync() override { calls.push_back("sync"); }
};

SysTime at(const char* iso) { return *parse_iso8601(iso); }

// A dump and its manifest, started at `iso`, of `tier`; with its companion file when asked.
void add_backup(MemoryStorage& storage, const char* iso, Tier tier, bool with_manifest = true,
                bool with_globals = false) {
  Manifest m;
  m.started_at = at(iso);
  m.file = "t_" + format_file_stamp(m.started_at) + ".dump";
  m.tier = tier;
  storage.files[m.file] = "dump";
  if (with_globals) {
    m.globals = GlobalsFileInfo{m.file + kGlobalsSuffix, 7, "sha", {}, false, {}, 0};
    storage.files[m.file + kGlobalsSuffix] = "globals";
  }
  if (with_manifest) storage.files[m.file + kManifestSuffix] = manifest_to_json(m).dump();
}

std::vector<StoredBackup> listed(MemoryStorage& storage) {
  const DumpCatalog naming("/nowhere", "t");
  return list_stored_backups(storage, naming,
                             [&](const std::string& name) { return storage.read(name); });
}

}  // namespace

TEST_CASE("a stored backup is a dump of the target's prefix with a readable manifest") {
  MemoryStorage storage;
  add_backup(storage, "2026-01-02T02:00:00Z", Tier::daily);
  add_backup(storage, "2026-01-01T02:00:00Z", Tier::monthly);
  add_backup(storage, "2026-01-03T02:00:00Z", Tier::daily, /*with_manifest=*/false);
  storage.files["t_20260104_020000.dump"] = "dump";
  storage.files["t_20260104_020000.dump.json"] = "{not json";
  storage.files["other_20260101_020000.dump"] = "dump";
  storage.files["t_20260101_020000.dump.partial"] = "half";
  const std::vector<StoredBackup> backups = listed(storage);
  REQUIRE(backups.size() == 2);
  CHECK(backups[0].dump == "t_20260101_020000.dump");  // oldest first
  CHECK(backups[0].manifest.tier == Tier::monthly);
  CHECK(backups[1].dump == "t_20260102_020000.dump");
}

TEST_CASE("retention deletes each expired manifest before its dump and syncs in between") {
  MemoryStorage storage;
  add_backup(storage, "2026-01-01T02:00:00Z", Tier::daily);
  add_backup(storage, "2026-01-02T02:00:00Z", Tier::daily);
  add_backup(storage, "2026-03-01T02:00:00Z", Tier::daily);
  RetentionConfig policy;
  policy.daily = 30 * 24h;
  policy.min_keep = 1;
  const auto backups = listed(storage);
  std::vector<std::string> announced;
  const RetentionOutcome outcome =
      apply_retention(storage, backups, policy, at("2026-03-02T00:00:00Z"), RetentionRun::by_hand,
                      false, [&](const StoredBackup& b) { announced.push_back(b.dump); });
  CHECK(storage.calls == std::vector<std::string>{"remove t_20260101_020000.dump.json", "sync",
                                                  "remove t_20260101_020000.dump",
                                                  "remove t_20260102_020000.dump.json", "sync",
                                                  "remove t_20260102_020000.dump", "sync"});
  CHECK(announced == std::vector<std::string>{"t_20260101_020000.dump", "t_20260102_020000.dump"});
  REQUIRE(outcome.deleted.size() == 2);
  REQUIRE(outcome.kept.size() == 1);
  CHECK(outcome.kept[0]->dump == "t_20260301_020000.dump");
  CHECK(storage.files.size() == 2);
}

TEST_CASE("a dry run lists what retention would delete and touches nothing") {
  MemoryStorage storage;
  add_backup(storage, "2025-01-01T02:00:00Z", Tier::daily);
  add_backup(storage, "2026-03-01T02:00:00Z", Tier::daily);
  RetentionConfig policy;
  policy.min_keep = 1;
  const auto backups = listed(storage);
  bool announced = false;
  const RetentionOutcome outcome =
      apply_retention(storage, backups, policy, at("2026-03-02T00:00:00Z"), RetentionRun::by_hand,
                      true, [&](const StoredBackup&) { announced = true; });
  CHECK(storage.calls.empty());
  CHECK_FALSE(announced);
  REQUIRE(outcome.deleted.size() == 1);
  CHECK(outcome.deleted[0]->dump == "t_20250101_020000.dump");
  CHECK(storage.files.size() == 4);
}

TEST_CASE("retention never deletes the newest backups, however old") {
  MemoryStorage storage;
  add_backup(storage, "2020-01-01T02:00:00Z", Tier::daily);
  add_backup(storage, "2020-01-02T02:00:00Z", Tier::daily);
  RetentionConfig policy;
  policy.min_keep = 2;
  const auto backups = listed(storage);
  const RetentionOutcome outcome = apply_retention(
      storage, backups, policy, at("2026-03-02T00:00:00Z"), RetentionRun::by_hand, false, {});
  CHECK(outcome.deleted.empty());
  CHECK(outcome.kept.size() == 2);
  CHECK(storage.calls == std::vector<std::string>{"sync"});
}

TEST_CASE(
    "after the clock jumps 40 days forward automatic retention deletes nothing, and prune by "
    "hand still can") {
  MemoryStorage storage;
  // A month of dailies up to 2026-03-01, then the clock says 2026-04-10.
  for (int day = 1; day <= 28; ++day) {
    const std::string iso =
        "2026-02-" + std::string(day < 10 ? "0" : "") + std::to_string(day) + "T02:00:00Z";
    add_backup(storage, iso.c_str(), day == 1 ? Tier::monthly : Tier::daily);
  }
  add_backup(storage, "2026-03-01T02:00:00Z", Tier::monthly);
  RetentionConfig policy;
  policy.min_keep = 3;
  const auto backups = listed(storage);
  const SysTime jumped = at("2026-04-10T02:00:00Z");
  const RetentionOutcome automatic =
      apply_retention(storage, backups, policy, jumped, RetentionRun::automatic, false, {});
  CHECK_THAT(automatic.refused, Catch::StartsWith("25 of 29 backups would expire at once"));
  CHECK(automatic.deleted.empty());
  CHECK(automatic.kept.size() == 29);
  CHECK(storage.files.size() == 58);

  const RetentionOutcome by_hand =
      apply_retention(storage, backups, policy, jumped, RetentionRun::by_hand, false, {});
  CHECK(by_hand.refused.empty());
  CHECK(by_hand.deleted.size() == 25);
}

TEST_CASE("a backup from the future stops retention: the clock went back") {
  MemoryStorage storage;
  add_backup(storage, "2025-01-01T02:00:00Z", Tier::daily);
  add_backup(storage, "2025-01-02T02:00:00Z", Tier::daily);
  add_backup(storage, "2026-05-01T02:00:00Z", Tier::daily);  // taken while the clock was ahead
  RetentionConfig policy;
  policy.min_keep = 1;
  const auto backups = listed(storage);
  const RetentionOutcome outcome = apply_retention(
      storage, backups, policy, at("2026-03-02T00:00:00Z"), RetentionRun::by_hand, false, {});
  CHECK_THAT(outcome.refused, Catch::Contains("the clock went back"));
  CHECK(outcome.deleted.empty());
  CHECK(storage.files.size() == 6);
}

TEST_CASE("retention deletes a companion file with its backup, first, and nothing when refused") {
  MemoryStorage storage;
  add_backup(storage, "2026-01-01T02:00:00Z", Tier::daily, true, /*with_globals=*/true);
  add_backup(storage, "2026-01-02T02:00:00Z", Tier::daily, true, /*with_globals=*/true);
  add_backup(storage, "2026-03-01T02:00:00Z", Tier::daily, true, /*with_globals=*/true);
  RetentionConfig policy;
  policy.daily = 30 * 24h;
  policy.min_keep = 1;
  const auto backups = listed(storage);
  REQUIRE(backups.size() == 3);
  // The second one's companion is a link in the backup directory: its removal is refused.
  storage.refused.insert("t_20260102_020000.dump.globals");
  CHECK_THROWS_WITH(apply_retention(storage, backups, policy, at("2026-03-02T00:00:00Z"),
                                    RetentionRun::by_hand, false, {}),
                    Catch::Contains("refusing to delete mem:t_20260102_020000.dump.globals"));
  CHECK(storage.calls == std::vector<std::string>{"remove t_20260101_020000.dump.globals",
                                                  "remove t_20260101_020000.dump.json", "sync",
                                                  "remove t_20260101_020000.dump",
                                                  "remove t_20260102_020000.dump.globals"});
  // Nothing of the refused backup went: its dump and manifest remain a backup.
  CHECK(storage.files.count("t_20260102_020000.dump") == 1);
  CHECK(storage.files.count("t_20260102_020000.dump.json") == 1);
  CHECK(storage.files.count("t_20260101_020000.dump.globals") == 0);
  CHECK(listed(storage).size() == 2);
}

TEST_CASE(
    "a manifest that names another backup's companion file keeps its backup out of "
    "retention") {
  MemoryStorage storage;
  add_backup(storage, "2026-01-01T02:00:00Z", Tier::daily, true, /*with_globals=*/true);
  add_backup(storage, "2026-01-02T02:00:00Z", Tier::daily);
  nlohmann::json j = nlohmann::json::parse(storage.files["t_20260102_020000.dump.json"]);
  j["globals"] = {{"file", "t_20260101_020000.dump.globals"}, {"size_bytes", 7}, {"sha256", "x"}};
  storage.files["t_20260102_020000.dump.json"] = j.dump();
  const auto backups = listed(storage);
  REQUIRE(backups.size() == 1);
  CHECK(backups[0].dump == "t_20260101_020000.dump");
}
