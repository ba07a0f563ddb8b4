#include "collectors/collector.h"

#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <sstream>

namespace pgbackup {

FamilyBuilder::FamilyBuilder(std::string name, std::string help, prometheus::MetricType type) {
  family_.name = std::move(name);
  family_.help = std::move(help);
  family_.type = type;
}

FamilyBuilder& FamilyBuilder::add(double value,
                                  std::vector<std::pair<std::string, std::string>> labels) {
  prometheus::ClientMetric m;
  for (auto& [k, v] : labels) m.label.push_back({k, v});
  if (family_.type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  family_.metric.push_back(std::move(m));
  return *this;
}

CollectorSet::CollectorSet(std::vector<std::unique_ptr<Collector>> collectors,
                           std::function<ScrapeInput()> input, const Clock& clock)
    : collectors_(std::move(collectors)), input_(std::move(input)), clock_(clock) {}

std::vector<prometheus::MetricFamily> CollectorSet::Collect() const {
  const ScrapeInput input = input_();
  std::vector<prometheus::MetricFamily> out;
  FamilyBuilder success("pgbackup_collector_success",
                        "1 if the collector produced its metrics on this scrape.",
                        prometheus::MetricType::Gauge);
  FamilyBuilder duration("pgbackup_collector_duration_seconds",
                         "How long the collector took on this scrape.",
                         prometheus::MetricType::Gauge);
  for (const auto& c : collectors_) {
    const SteadyTime start = clock_.steady_now();
    bool ok = true;
    std::vector<prometheus::MetricFamily> families;
    try {
      c->collect(input, families);
    } catch (const std::exception& e) {
      ok = false;
      spdlog::error("collector {} failed: {}", c->name(), e.what());
    }
    if (ok) std::move(families.begin(), families.end(), std::back_inserter(out));
    success.add(ok ? 1 : 0, {{"collector", c->name()}});
    duration.add(std::chrono::duration<double>(clock_.steady_now() - start).count(),
                 {{"collector", c->name()}});
  }
  out.push_back(success.build());
  out.push_back(duration.build());
  return out;
}

void add_per_target(std::vector<prometheus::MetricFamily>& out, const ScrapeInput& input,
                    const std::string& name, const std::string& help, prometheus::MetricType type,
                    const std::function<double(const TargetStatus&)>& value) {
  FamilyBuilder family(name, help, type);
  for (const TargetStatus& t : input.targets) family.add(value(t), {{"target", t.name}});
  out.push_back(family.build());
}

std::vector<std::unique_ptr<Collector>> default_collectors() {
  std::vector<std::unique_ptr<Collector>> all;
  all.push_back(make_backups_collector());
  all.push_back(make_retention_collector());
  all.push_back(make_repository_collector());
  all.push_back(make_database_collector());
  all.push_back(make_restore_tests_collector());
  all.push_back(make_offsite_collector());
  all.push_back(make_build_info_collector());
  all.push_back(make_target_collector());
  all.push_back(make_verify_collector());
  all.push_back(make_archive_collector());
  return all;
}

std::string to_exposition(std::vector<prometheus::MetricFamily> families) {
  std::sort(families.begin(), families.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

CachedExposition::CachedExposition(const CollectorSet& collectors,
                                   std::chrono::milliseconds max_age, const Clock& clock)
    : collectors_(collectors), max_age_(max_age), clock_(clock) {}

std::string CachedExposition::body() {
  std::lock_guard lock(mu_);
  const SteadyTime now = clock_.steady_now();
  if (!rendered_at_ || now - *rendered_at_ >= max_age_) {
    body_ = to_exposition(collectors_.Collect());
    rendered_at_ = now;
  }
  return body_;
}

}  // namespace pgbackup
