// pgbackup_backups{tier}, stored bytes, oldest backup, deletions: the retention inventory.
#include "collectors/collector.h"

namespace pgbackup {
namespace {

using prometheus::MetricType;

class RetentionCollector : public Collector {
 public:
  std::string name() const override { return "retention"; }

  void collect(const ScrapeInput& in, std::vector<prometheus::MetricFamily>& out) const override {
    FamilyBuilder by_tier("pgbackup_backups", "Good backups kept, by tier.", MetricType::Gauge);
    for (const TargetStatus& t : in.targets) {
      for (Tier tier : {Tier::daily, Tier::weekly, Tier::monthly}) {
        double n = 0;
        for (const CatalogEntry* b : t.good()) n += b->tier() == tier;
        by_tier.add(n, {{"target", t.name}, {"tier", tier_name(tier)}});
      }
    }
    out.push_back(by_tier.build());
    add_per_target(out, in, "pgbackup_backups_stored_bytes", "Bytes of the backups kept.",
                   MetricType::Gauge, [](const TargetStatus& t) {
                     double bytes = 0;
                     for (const CatalogEntry& b : t.backups)
                       bytes += static_cast<double>(b.file_size);
                     return bytes;
                   });
    add_per_target(out, in, "pgbackup_backup_oldest_timestamp_seconds",
                   "Start time of the oldest good backup kept (0: none).", MetricType::Gauge,
                   [](const TargetStatus& t) {
                     const auto good = t.good();
                     return good.empty() ? 0 : to_unix_seconds(good.front()->started_at);
                   });
    add_per_target(out, in, "pgbackup_retention_deleted_total",
                   "Backups deleted by retention in this process.", MetricType::Counter,
                   [](const TargetStatus& t) { return t.runtime.retention_deleted_total; });
    add_per_target(out, in, "pgbackup_retention_refusals_total",
                   "Retention runs (local or off-site) in this process that deleted nothing "
                   "because the clock looked wrong: a backup from the future, or a mass expiry.",
                   MetricType::Counter,
                   [](const TargetStatus& t) { return t.runtime.retention_refusals_total; });
  }
};

}  // namespace

std::unique_ptr<Collector> make_retention_collector() {
  return std::make_unique<RetentionCollector>();
}

}  // namespace pgbackup
