// pgbackup_wal_*, pgbackup_rpo_* and pgbackup_pgbackrest_stanza_status (DESIGN §11): the WAL
// archive as the prober last saw it. Only targets whose engine keeps an archive have these
// series (TargetStatus::archive(); the daemon serves after the first probe, so they exist from
// the first scrape); a pg_dump target has no WAL archive to describe, and a 0 there would read
// as "archived just now" or "no exposure".
#include <cmath>
#include <limits>

#include "collectors/collector.h"

namespace pgbackup {
namespace {

using prometheus::MetricType;

// One family with a sample for each target that has an archive.
void add_per_archive(
    std::vector<prometheus::MetricFamily>& out, const ScrapeInput& input, const std::string& name,
    const std::string& help, MetricType type,
    const std::function<double(const TargetStatus&, const ArchiveStatus&)>& value) {
  FamilyBuilder family(name, help, type);
  for (const TargetStatus& t : input.targets) {
    if (const ArchiveStatus* a = t.archive()) family.add(value(t, *a), {{"target", t.name}});
  }
  out.push_back(family.build());
}

class ArchiveCollector : public Collector {
 public:
  std::string name() const override { return "archive"; }

  void collect(const ScrapeInput& in, std::vector<prometheus::MetricFamily>& out) const override {
    add_per_archive(out, in, "pgbackup_wal_archive_last_success_timestamp_seconds",
                    "When a WAL segment was last archived: pg_stat_archiver, else (database down) "
                    "the newest segment in the repository (0: none).",
                    MetricType::Gauge, [](const TargetStatus&, const ArchiveStatus& a) {
                      return a.last_archived ? to_unix_seconds(*a.last_archived) : 0.0;
                    });
    add_per_archive(out, in, "pgbackup_wal_archive_failures_total",
                    "Failed WAL archive attempts (pg_stat_archiver.failed_count; resets with "
                    "PostgreSQL's statistics).",
                    MetricType::Counter, [](const TargetStatus&, const ArchiveStatus& a) {
                      return static_cast<double>(a.failed_count);
                    });
    add_per_archive(out, in, "pgbackup_wal_unarchived_bytes",
                    "WAL written after the end of the last archived segment (NaN: unknown, the "
                    "database is down or nothing was archived yet).",
                    MetricType::Gauge, [](const TargetStatus&, const ArchiveStatus& a) {
                      return a.unarchived_bytes ? static_cast<double>(*a.unarchived_bytes)
                                                : std::numeric_limits<double>::quiet_NaN();
                    });
    add_per_archive(out, in, "pgbackup_rpo_exposure_seconds",
                    "Estimated age of the oldest change not yet in the repository (0: none "
                    "unarchived; +Inf: no archived segment to date it). docs/monitoring.md says "
                    "how it is estimated.",
                    MetricType::Gauge, [](const TargetStatus&, const ArchiveStatus& a) {
                      return a.rpo_exposure ? static_cast<double>(a.rpo_exposure->count())
                                            : std::numeric_limits<double>::infinity();
                    });
    add_per_archive(out, in, "pgbackup_rpo_target_seconds",
                    "The configured recovery point objective, rpo_target (0: not set).",
                    MetricType::Gauge, [](const TargetStatus& t, const ArchiveStatus&) {
                      return t.rpo_target ? static_cast<double>(t.rpo_target->count()) : 0.0;
                    });
    add_per_archive(out, in, "pgbackup_wal_archive_gaps",
                    "WAL segments missing from the repository inside the recovery window.",
                    MetricType::Gauge, [](const TargetStatus&, const ArchiveStatus& a) {
                      return static_cast<double>(a.health.wal_gaps);
                    });
    add_per_archive(out, in, "pgbackup_pgbackrest_stanza_status",
                    "pgBackRest's status code of the stanza (info), 0 = ok.", MetricType::Gauge,
                    [](const TargetStatus&, const ArchiveStatus& a) {
                      return static_cast<double>(a.health.stanza_status);
                    });
  }
};

}  // namespace

std::unique_ptr<Collector> make_archive_collector() { return std::make_unique<ArchiveCollector>(); }

}  // namespace pgbackup
