#include "agent/engines/pgbackrest/pgbackrest_catalog.h"

#include <chrono>
#include <set>

#include "agent/core/text.h"
#include "agent/rules/retention.h"

namespace pgbackup::pgbackrest {
namespace {

// Why `b` is not good by itself (its prior chain aside), or "".
std::string own_problem(const InfoBackup& b, const ArchiveListing& archive) {
  if (b.error_known && b.error) {
    return "pgBackRest found page checksum errors while copying it (hint: pgbackrest info "
           "--set=" +
           b.label + ")";
  }
  if (b.archive_start.empty()) return "info gives no WAL start for it";
  std::string why;
  const std::optional<WalContinuity> c = continuity_from(archive, b.archive_start, why);
  if (!c) return why;
  if (!c->complete()) return describe_gaps(*c) + " since its start " + b.archive_start;
  return "";
}

Manifest manifest_of(const std::string& target, const InfoBackup& b, Tier tier,
                     const BackupRecord* record) {
  Manifest m;
  m.target = target;
  m.file = b.label;
  m.started_at = b.start;
  m.finished_at = b.stop;
  m.duration_seconds =
      record ? record->duration_seconds : std::chrono::duration<double>(b.stop - b.start).count();
  m.size_bytes = b.repository_delta;
  m.tier = tier;
  m.compression = 0;
  m.row_counts_exact = false;
  return m;
}

}  // namespace

std::optional<WalContinuity> continuity_from(const ArchiveListing& archive,
                                             const std::string& wal_start, std::string& why) {
  if (!archive.listing) {
    why = "the WAL archive could not be listed: " + archive.error;
    return std::nullopt;
  }
  const std::optional<WalSegment> start = parse_wal_segment(wal_start, segments_per_log());
  if (!start) {
    why = "its WAL start \"" + wal_start + "\" is not a segment name";
    return std::nullopt;
  }
  return check_wal_continuity(*archive.listing, *start);
}

std::string describe_gaps(const WalContinuity& c) {
  if (!c.newest) return "the WAL archive holds no segment";
  std::string out;
  if (c.missing > 0) {
    const std::vector<std::string> names = missing_segment_names(c, 5);
    out = std::to_string(c.missing) + " missing WAL segment" + (c.missing == 1 ? "" : "s") + ": " +
          join(names, ", ") + (c.missing > names.size() ? ", ..." : "");
  }
  for (std::uint32_t tl : c.missing_history) {
    out += std::string(out.empty() ? "" : "; ") + "the history file of timeline " +
           std::to_string(tl) + " is missing";
  }
  return out;
}

std::string full_of(const InfoStanza& stanza, const InfoBackup& backup) {
  const InfoBackup* b = &backup;
  for (std::size_t hops = 0; b && b->type != BackupType::full && hops <= stanza.backups.size();
       ++hops) {
    b = b->prior.empty() ? nullptr : stanza.backup(b->prior);
  }
  return b && b->type == BackupType::full ? b->label : "";
}

std::vector<CatalogEntry> retention_sets(std::vector<CatalogEntry> catalog,
                                         const InfoStanza& stanza) {
  std::vector<CatalogEntry> out;
  for (CatalogEntry& e : catalog) {
    if (!e.good() || e.type != BackupType::full) continue;
    for (const InfoBackup& b : stanza.backups) {
      if (b.label != e.name() && full_of(stanza, b) == e.name()) e.dependents.push_back(b.label);
    }
    out.push_back(std::move(e));
  }
  return out;
}

SysTime consistent_from(const CatalogEntry& set) {
  return set.finished_at() + std::chrono::seconds(1);
}

std::vector<CatalogEntry> build_catalog(const CatalogInput& in) {
  const InfoStanza& stanza = *in.stanza;
  std::vector<CatalogEntry> out;
  std::map<std::string, std::string> problems;  // label -> why not good ("" when good)
  std::map<std::string, Tier> full_tiers;
  std::vector<SysTime> good_full_starts;
  for (const InfoBackup& b : stanza.backups) {
    const auto rec = in.records->find(b.label);
    const BackupRecord* record = rec == in.records->end() ? nullptr : &rec->second;
    std::string problem = own_problem(b, *in.archive);
    for (const std::string& ref : b.references) {
      if (!problem.empty()) break;
      const auto p = problems.find(ref);
      if (p == problems.end()) {
        problem = "it builds on " + ref + ", which info no longer lists";
      } else if (!p->second.empty()) {
        problem = "it builds on " + ref + ", which is not good";
      }
    }
    problems[b.label] = problem;

    Tier tier = Tier::daily;
    if (b.type == BackupType::full) {
      tier = record ? record->tier : assign_tier(b.start, good_full_starts);
      full_tiers[b.label] = tier;
      if (problem.empty()) good_full_starts.push_back(b.start);
    } else {
      const auto t = full_tiers.find(full_of(stanza, b));
      if (t != full_tiers.end()) tier = t->second;
    }

    CatalogEntry e;
    e.dump = in.records_dir / b.label;
    e.started_at = b.start;
    e.type = b.type;
    e.file_size = b.repository_delta;
    e.restore_set_size = b.repository_size;
    // The repository's cipher (repo-cipher-type) covers every backup in it.
    if (stanza.cipher != "none") e.cipher = stanza.cipher;
    if (problem.empty()) {
      e.manifest = manifest_of(in.target, b, tier, record);
    } else {
      e.manifest_error = problem;
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace pgbackup::pgbackrest
