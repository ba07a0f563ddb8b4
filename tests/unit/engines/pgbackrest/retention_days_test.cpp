// Retention of a pgBackRest target over 120 faked days (DESIGN §5, §11): the prune job
// (jobs/prune) over the engine's real catalogue and candidates (build_catalog, retention_sets)
// of a simulated stanza, on a faked clock. A weekly full, a daily diff and a daily incr; the sim
// expires a set as `pgbackrest expire --set` does, WAL older than the oldest remaining backup
// with it. Checked after every run: whole sets only, the WAL every kept backup needs, never the
// newest min_keep fulls, nothing while the newest backup failed, and exactly the fulls that
// rules/retention keeps.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/catalog/job_state.h"
#include "agent/core/errors.h"
#include "agent/engines/engine.h"
#include "agent/engines/pgbackrest/pgbackrest_catalog.h"
#include "agent/engines/restore_test_run.h"
#include "agent/engines/restorer.h"
#include "agent/jobs/prune.h"
#include "agent/rules/retention.h"
#include "tests/support/temp_dir.h"

using namespace pgbackup;
using namespace pgbackup::pgbackrest;
using namespace std::chrono_literals;

namespace {

WalSegment seg(std::uint64_t n) { return wal_segment_at(1, n, segments_per_log()); }

// A stanza in memory, as `info` and `repo-ls` would list it, and the agent's records.
struct SimStanza {
  InfoStanza stanza;
  ArchiveListing archive{WalListing{}, ""};
  std::map<std::string, BackupRecord> records;
  std::uint64_t next_segment = 1;

  std::vector<CatalogEntry> catalog() const {
    return build_catalog({"sim", "/state/pgbackrest", &stanza, &archive, &records});
  }

  // WAL written and archived between backups.
  void archive_segments(int n, SysTime at) {
    for (int i = 0; i < n; ++i) archive.listing->segments.insert(seg(next_segment++));
    archive.listing->newest_time = at;
  }

  // A backup as pgBackRest takes it: a diff builds on the newest full, an incr on the newest
  // backup. Its tier is recorded as the engine records it (the catalogue's, at backup time).
  void take(BackupType type, SysTime at) {
    const std::string stamp = format_file_stamp(at);
    InfoBackup b;
    b.type = type;
    b.start = at;
    b.stop = at + 10min;
    const char suffix = type == BackupType::full ? 'F' : type == BackupType::diff ? 'D' : 'I';
    const InfoBackup* prior = nullptr;
    for (const InfoBackup& o : stanza.backups) {
      if (type == BackupType::incr || (type == BackupType::diff && o.type == BackupType::full)) {
        prior = &o;
      }
    }
    REQUIRE((type == BackupType::full || prior != nullptr));
    if (prior != nullptr) {
      b.prior = prior->label;
      b.references = prior->references;
      b.references.push_back(prior->label);
    }
    b.label = (prior ? full_of(stanza, *prior) + "_" : std::string()) + stamp + suffix;
    b.archive_start = wal_segment_name(seg(next_segment));
    b.archive_stop = b.archive_start;
    b.error_known = true;
    b.repository_delta = type == BackupType::full ? 1000 : 50;
    stanza.backups.push_back(b);
    archive_segments(1, b.stop);
    for (const CatalogEntry& e : catalog()) {
      if (e.name() == b.label) {
        REQUIRE(e.good());
        records[b.label] = record_of(b, type, e.tier(), 600);
      }
    }
  }

  // `pgbackrest expire --set=LABEL`: the full and every backup built on it; then the WAL older
  // than the oldest backup left.
  void expire_set(const std::string& full) {
    std::set<std::string> set;
    for (const InfoBackup& b : stanza.backups) {
      if (full_of(stanza, b) == full) set.insert(b.label);
    }
    std::erase_if(stanza.backups, [&](const InfoBackup& b) { return set.contains(b.label); });
    if (stanza.backups.empty()) return;
    const WalSegment oldest = *parse_wal_segment(stanza.backups.front().archive_start);
    std::erase_if(archive.listing->segments, [&](const WalSegment& s) { return s < oldest; });
  }
};

// The engine seam over the sim: what prune_local uses.
class SimEngine final : public BackupEngine {
 public:
  explicit SimEngine(SimStanza& sim) : sim_(sim) {}
  std::string name() const override { return "pgbackrest"; }
  void prepare() const override {}
  std::vector<std::filesystem::path> remove_leftovers() const override { return {}; }
  bool backup_running() const override { return false; }
  FilesystemStats storage_space() const override { return {}; }
  bool takes(BackupType) const override { return true; }
  CatalogEntry backup(BackupType, const JobContext&) override {
    throw OperationError("not in the sim");
  }
  std::vector<CatalogEntry> catalog(ManifestCache*) const override { return sim_.catalog(); }
  RecoveryWindow recovery_window(const std::vector<CatalogEntry>&) const override { return {}; }
  std::optional<ArchiveHealth> archive_health(const std::vector<CatalogEntry>&) const override {
    return std::nullopt;
  }
  std::vector<CatalogEntry> retention_candidates() const override {
    return retention_sets(sim_.catalog(), sim_.stanza);
  }
  void remove(const std::vector<const CatalogEntry*>& chosen,
              const std::function<void(const CatalogEntry&)>& on_removed) override {
    for (const CatalogEntry* e : chosen) {
      sim_.expire_set(e->name());
      if (on_removed) on_removed(*e);
    }
  }
  VerifyReport verify(const CatalogEntry&, Progress*) const override { return {}; }
  std::unique_ptr<RestoreTestRun> restore_test(const Config&, const JobContext&) const override {
    return nullptr;  // retention never restores
  }
  std::unique_ptr<Restorer> restorer(const RestoreRequest&, RestoreJournal&) const override {
    return nullptr;
  }

 private:
  SimStanza& sim_;
};

std::vector<const InfoBackup*> fulls_of(const InfoStanza& s) {
  std::vector<const InfoBackup*> out;
  for (const InfoBackup& b : s.backups) {
    if (b.type == BackupType::full) out.push_back(&b);
  }
  return out;
}

// The fulls rules/retention keeps at `now`, worked out independently: those younger than
// their tier's window, and the newest min_keep.
std::set<std::string> expected_fulls(const SimStanza& sim, const RetentionConfig& policy,
                                     SysTime now) {
  const std::vector<const InfoBackup*> fulls = fulls_of(sim.stanza);
  std::set<std::string> out;
  for (std::size_t i = 0; i < fulls.size(); ++i) {
    const Tier tier = sim.records.at(fulls[i]->label).tier;
    const bool newest = i + static_cast<std::size_t>(policy.min_keep) >= fulls.size();
    if (newest || now - fulls[i]->start < window_of(tier, policy)) out.insert(fulls[i]->label);
  }
  return out;
}

std::set<std::string> labels_of_fulls(const InfoStanza& s) {
  std::set<std::string> out;
  for (const InfoBackup* b : fulls_of(s)) out.insert(b->label);
  return out;
}

}  // namespace

TEST_CASE("pgBackRest retention over 120 faked days keeps the right sets and the WAL they need",
          "[retention][pgbackrest]") {
  testing::TempDir temp("pgbackup-retention-days");
  Config config;
  TargetConfig target;
  target.name = "sim";
  target.engine = EngineKind::pgbackrest;
  target.backup.dir = temp.path();
  target.retention = RetentionConfig{7 * 86400s, 35 * 86400s, 90 * 86400s, 3};
  std::filesystem::create_directories(target.state_dir());
  SimStanza sim;
  SimEngine engine(sim);

  const SysTime day0 = parse_iso8601("2026-08-02T00:00:00Z").value();  // a Sunday
  constexpr int kFailedDay = 60;
  std::size_t fulls_taken = 0, sets_expired = 0;
  for (int day = 0; day < 120; ++day) {
    for (const auto& [hour, kind] : {std::pair{2h, 'n'}, std::pair{14h, 'i'}}) {
      const SysTime at = day0 + day * 24h + hour;
      INFO("day " << day << " at " << format_iso8601(at));
      sim.archive_segments(3, at);
      const bool fails = day == kFailedDay && kind == 'n';
      if (fails) {
        record_attempt(target.state_dir(), "backup", {at, at + 1min, false, "failed", "", 0});
      } else {
        const BackupType type = kind == 'i'    ? BackupType::incr
                                : day % 7 == 0 ? BackupType::full
                                               : BackupType::diff;
        sim.take(type, at);
        if (type == BackupType::full) ++fulls_taken;
        record_attempt(target.state_dir(), "backup", {at, at + 10min, true, "", "", 0});
      }
      const SysTime now = at + 11min;
      const std::set<std::string> before = labels_of_fulls(sim.stanza);
      const PruneResult r = prune_local(config, target, engine, now, RetentionRun::automatic,
                                        /*dry_run=*/false);
      sets_expired += r.deleted.size();
      const std::set<std::string> after = labels_of_fulls(sim.stanza);

      if (fails) {  // never while the newest backup failed
        CHECK_THAT(r.skipped_reason, Catch::Contains("failed"));
        CHECK(after == before);
        continue;
      }
      CHECK_FALSE(r.refused);
      // Exactly the fulls rules/retention keeps (the newest min_keep among them), each a whole
      // set: the catalogue proves every backup left good, so no diff or incr lost its full and
      // no WAL segment any of them needs is missing.
      CHECK(after == expected_fulls(sim, target.retention, now));
      CHECK(after.size() >= std::min<std::size_t>(3, fulls_taken));
      for (const CatalogEntry& e : sim.catalog()) {
        INFO(e.name() << ": " << e.problem());
        CHECK(e.good());
      }
      for (std::size_t i = 0; i < r.deleted.size(); ++i) {
        const std::string full = r.deleted[i].filename().string();
        CHECK(full.ends_with("F"));
        for (const std::string& dependent : r.deleted_with[i]) {
          CHECK(dependent.starts_with(full + "_"));
          CHECK(sim.stanza.backup(dependent) == nullptr);
        }
      }
    }
  }
  // 18 Sunday fulls, from 2 August to 29 November. The first of each month is monthly (kept 90
  // days: 6 September, 4 October, 1 November are left), the others weekly (35 days: 8, 15, 22
  // and 29 November are left; 25 October is 35 days and 14 hours old).
  CHECK(fulls_taken == 18);
  const std::vector<const InfoBackup*> left = fulls_of(sim.stanza);
  std::map<Tier, int> tiers;
  for (const InfoBackup* b : left) ++tiers[sim.records.at(b->label).tier];
  CHECK(tiers[Tier::monthly] == 3);
  CHECK(tiers[Tier::weekly] == 4);
  CHECK(sets_expired == fulls_taken - left.size());
  // The archive starts with the oldest kept set's first segment.
  CHECK(wal_segment_name(*sim.archive.listing->segments.begin()) ==
        sim.stanza.backups.front().archive_start);

  // `prune --dry-run` a month on shows what would go and deletes nothing.
  const SysTime later = day0 + 150 * 24h;
  const std::size_t backups = sim.stanza.backups.size();
  const PruneResult dry =
      prune_local(config, target, engine, later, RetentionRun::by_hand, /*dry_run=*/true);
  CHECK(dry.deleted.size() > 0);
  CHECK(sim.stanza.backups.size() == backups);
}
