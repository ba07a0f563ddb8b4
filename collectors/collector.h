#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/clock.h"
#include "agent/daemon/target_status.h"

namespace pgbackup {

// The state a scrape reads: one status per target, taken from the daemon's cache.
struct ScrapeInput {
  std::vector<TargetStatus> targets;
  // Whether the newest --web.config.file is the one in use; nullopt when there is none.
  std::optional<bool> web_config_reload_ok = std::nullopt;
  // Connections the HTTP server closed unserved (ConnectionLimit); nullopt: not reported.
  std::optional<unsigned long long> http_connections_refused = std::nullopt;
};

// One concern's metrics (node_exporter style): builds families from the input; throws on a
// failure, which the CollectorSet reports as pgbackup_collector_success{collector}=0.
class Collector {
 public:
  virtual ~Collector() = default;
  virtual std::string name() const = 0;
  virtual void collect(const ScrapeInput& input,
                       std::vector<prometheus::MetricFamily>& out) const = 0;
};

// Builds families: one gauge/counter family with one sample per target.
class FamilyBuilder {
 public:
  FamilyBuilder(std::string name, std::string help, prometheus::MetricType type);
  // Adds a sample with labels (name, value) pairs.
  FamilyBuilder& add(double value, std::vector<std::pair<std::string, std::string>> labels = {});
  prometheus::MetricFamily build() { return std::move(family_); }

 private:
  prometheus::MetricFamily family_;
};

// Every collector behind one prometheus::Collectable. Collect() never throws: a failing
// collector is logged and reported, never a failed scrape.
class CollectorSet : public prometheus::Collectable {
 public:
  // `clock` times each collector (pgbackup_collector_duration_seconds).
  CollectorSet(std::vector<std::unique_ptr<Collector>> collectors,
               std::function<ScrapeInput()> input, const Clock& clock);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::vector<std::unique_ptr<Collector>> collectors_;
  std::function<ScrapeInput()> input_;
  const Clock& clock_;
};

// One factory per concern, each in its own file.
std::unique_ptr<Collector> make_backups_collector();
std::unique_ptr<Collector> make_retention_collector();
std::unique_ptr<Collector> make_repository_collector();
std::unique_ptr<Collector> make_database_collector();
std::unique_ptr<Collector> make_restore_tests_collector();
std::unique_ptr<Collector> make_offsite_collector();
std::unique_ptr<Collector> make_build_info_collector();
std::unique_ptr<Collector> make_target_collector();
std::unique_ptr<Collector> make_verify_collector();
// Series only for targets whose engine keeps a WAL archive.
std::unique_ptr<Collector> make_archive_collector();
// Only with --web.config.file (not in default_collectors()).
std::unique_ptr<Collector> make_web_config_collector();
// The daemon's HTTP server (not in default_collectors(): one-shot commands serve none).
std::unique_ptr<Collector> make_http_collector();

// The standard set, in that order.
std::vector<std::unique_ptr<Collector>> default_collectors();

// Adds one family with one sample per target, labelled target=<name>.
void add_per_target(std::vector<prometheus::MetricFamily>& out, const ScrapeInput& input,
                    const std::string& name, const std::string& help, prometheus::MetricType type,
                    const std::function<double(const TargetStatus&)>& value);

// Serializes families in the Prometheus text format (sorted by family name).
std::string to_exposition(std::vector<prometheus::MetricFamily> families);

// The /metrics body, rendered at most once per `max_age` however many scrapers ask. Its input
// is the daemon's status cache, itself refreshed every 2 s, so a burst of scrapes (several
// Prometheus replicas, a load test) costs one render instead of one copy of every target's
// status each; scrapes arriving during a render wait for it rather than start their own.
class CachedExposition {
 public:
  // `clock`'s monotonic time measures max_age.
  CachedExposition(const CollectorSet& collectors, std::chrono::milliseconds max_age,
                   const Clock& clock);
  std::string body();

 private:
  const CollectorSet& collectors_;
  const std::chrono::milliseconds max_age_;
  const Clock& clock_;
  std::mutex mu_;
  std::string body_;
  std::optional<SteadyTime> rendered_at_;
};

}  // namespace pgbackup
