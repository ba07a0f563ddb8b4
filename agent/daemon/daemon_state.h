#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/catalog/manifest_cache.h"
#include "agent/config/config.h"
#include "agent/core/clock.h"
#include "agent/daemon/target_status.h"

namespace pgbackup {

// What the daemon's threads share: the live config (swapped whole by a reload), the status
// cache read from disk, the runtime facts of each target, the stop flag, and the wake-ups
// between threads. One mutex guards it all; nothing slow runs under it.
class DaemonState {
 public:
  DaemonState(Config config, const Clock& clock);

  const Clock& clock() const { return clock_; }
  std::shared_ptr<const Config> config() const;
  // The target called `name` in the current config, or nullopt once a reload removed it.
  std::optional<TargetConfig> target(const std::string& name) const;
  // Replaces the config and wakes every thread, so each sees the new one at once.
  void replace_config(Config config);

  // Stopping: set once, wakes everyone; jobs watch the flag and stop their children.
  void stop();
  bool stopping() const { return stopping_.load(); }
  const std::atomic<bool>& stop_flag() const { return stopping_; }
  // Waits until `deadline`, a stop, or a config change; false once stopping. Never longer than
  // kMaxSleep, so a machine that slept or a wall clock that was set is noticed.
  bool sleep_until(SysTime deadline);

  // The status cache: every target re-read from disk (keeping the old status of a target that
  // cannot be read, with a warning).
  void refresh();
  bool ready() const { return ready_.load(); }
  // The cached statuses with the runtime facts: what /metrics and the pages show.
  std::vector<TargetStatus> statuses() const;
  // A time read from the cached status of target `name` (nullopt when not cached yet).
  std::optional<SysTime> cached_time(
      const std::string& name,
      const std::function<std::optional<SysTime>(const TargetStatus&)>& fact) const;
  // The catalogue of target `name` as last read (empty when not cached yet).
  std::vector<CatalogEntry> cached_catalog(const std::string& name) const;
  // Changes the runtime facts of target `name` under the lock.
  void update_runtime(const std::string& name, const std::function<void(TargetRuntime&)>& change);

  // Asks the uploader of `name` to look for new backups now.
  void request_upload(const std::string& name);
  // Waits until `deadline`, a stop, or an upload request for `name`; true when one was
  // requested (and takes the request).
  bool wait_for_upload_request(const std::string& name, SysTime deadline);

  // The refresher thread: refresh() every kRefreshInterval until stopping; ready() after the
  // first pass.
  void run_refresher();
  // The prober finished its first pass over every target (the daemon serves after it, so the
  // archive metrics exist from the first scrape).
  void mark_probed() { probed_ = true; }
  bool probed() const { return probed_.load(); }

  static constexpr auto kRefreshInterval = std::chrono::seconds(2);
  static constexpr auto kMaxSleep = std::chrono::seconds(30);

 private:
  const Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<const Config> config_;
  std::map<std::string, TargetRuntime> runtime_;
  std::vector<TargetStatus> cached_;  // last read from disk, without runtime facts
  ManifestCache manifest_cache_;      // spares re-parsing unchanged manifests every refresh
  IdentityKeysCache identity_keys_;   // and running age-keygen on an unchanged identity file
  std::set<std::string> upload_requested_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> ready_{false};
  std::atomic<bool> probed_{false};
};

}  // namespace pgbackup
