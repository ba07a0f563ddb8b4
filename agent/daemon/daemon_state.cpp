#include "agent/daemon/daemon_state.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace pgbackup {

DaemonState::DaemonState(Config config, const Clock& clock)
    : clock_(clock), config_(std::make_shared<const Config>(std::move(config))) {}

std::shared_ptr<const Config> DaemonState::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

std::optional<TargetConfig> DaemonState::target(const std::string& name) const {
  const auto cfg = config();
  for (const TargetConfig& t : cfg->targets) {
    if (t.name == name) return t;
  }
  return std::nullopt;
}

void DaemonState::replace_config(Config config) {
  {
    std::lock_guard lock(mu_);
    config_ = std::make_shared<const Config>(std::move(config));
  }
  cv_.notify_all();
}

void DaemonState::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
}

bool DaemonState::sleep_until(SysTime deadline) {
  std::unique_lock lock(mu_);
  const auto config_seen = config_;
  clock_.wait_for(cv_, lock, std::min<std::chrono::nanoseconds>(deadline - clock_.now(), kMaxSleep),
                  [&] { return stopping_.load() || config_ != config_seen; });
  return !stopping_;
}

void DaemonState::refresh() {
  const auto cfg = config();
  const SysTime now = clock_.now();
  std::vector<TargetStatus> previous;
  {
    std::lock_guard lock(mu_);
    previous = cached_;
  }
  std::vector<TargetStatus> fresh;
  for (const TargetConfig& t : cfg->targets) {
    try {
      fresh.push_back(read_target_status(t, now, &manifest_cache_, &identity_keys_));
    } catch (const std::exception& e) {
      spdlog::warn("cannot read the status of {}: {}", t.name, e.what());
      const auto old = std::find_if(previous.begin(), previous.end(),
                                    [&](const TargetStatus& s) { return s.name == t.name; });
      if (old != previous.end()) fresh.push_back(*old);
    }
  }
  std::lock_guard lock(mu_);
  cached_ = std::move(fresh);
}

std::vector<TargetStatus> DaemonState::statuses() const {
  std::lock_guard lock(mu_);
  std::vector<TargetStatus> out = cached_;
  for (TargetStatus& t : out) {
    const auto it = runtime_.find(t.name);
    if (it != runtime_.end()) t.runtime = it->second;
  }
  return out;
}

std::optional<SysTime> DaemonState::cached_time(
    const std::string& name,
    const std::function<std::optional<SysTime>(const TargetStatus&)>& fact) const {
  std::lock_guard lock(mu_);
  for (const TargetStatus& t : cached_) {
    if (t.name == name) return fact(t);
  }
  return std::nullopt;
}

std::vector<CatalogEntry> DaemonState::cached_catalog(const std::string& name) const {
  std::lock_guard lock(mu_);
  for (const TargetStatus& t : cached_) {
    if (t.name == name) return t.backups;
  }
  return {};
}

void DaemonState::update_runtime(const std::string& name,
                                 const std::function<void(TargetRuntime&)>& change) {
  std::lock_guard lock(mu_);
  change(runtime_[name]);
}

void DaemonState::request_upload(const std::string& name) {
  {
    std::lock_guard lock(mu_);
    upload_requested_.insert(name);
  }
  cv_.notify_all();
}

bool DaemonState::wait_for_upload_request(const std::string& name, SysTime deadline) {
  std::unique_lock lock(mu_);
  const auto config_seen = config_;
  clock_.wait_for(
      cv_, lock, std::min<std::chrono::nanoseconds>(deadline - clock_.now(), kMaxSleep), [&] {
        return stopping_.load() || upload_requested_.count(name) > 0 || config_ != config_seen;
      });
  return upload_requested_.erase(name) > 0;
}

void DaemonState::run_refresher() {
  while (!stopping_) {
    refresh();
    ready_ = true;
    std::unique_lock lock(mu_);
    clock_.wait_for(cv_, lock, kRefreshInterval, [&] { return stopping_.load(); });
  }
}

}  // namespace pgbackup
