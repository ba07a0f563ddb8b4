#include "agent/daemon/daemon.h"

#include <pthread.h>
#include <signal.h>

#include <spdlog/spdlog.h>
#include <pqxx/pqxx>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "agent/catalog/directory_lock.h"
#include "agent/core/errors.h"
#include "agent/core/systemd.h"
#include "agent/daemon/target_status.h"
#include "agent/jobs/backup.h"
#include "agent/jobs/offsite.h"
#include "agent/jobs/restore_drill.h"
#include "agent/postgres/postgres.h"
#include "agent/schedule/schedule.h"
#include "agent/web/http_server.h"
#include "agent/web/status_page.h"
#include "collectors/collector.h"

namespace pgbackup {
namespace {

constexpr auto kRefreshInterval = std::chrono::seconds(2);
constexpr auto kProbeInterval = std::chrono::seconds(30);
// Scrapes within this long of each other share one rendering of /metrics.
constexpr auto kMetricsMaxAge = std::chrono::milliseconds(1000);
// Workers re-check their schedule at least this often, so a config reload, a manual backup or
// a machine that slept is noticed without a signal.
constexpr auto kMaxSleep = std::chrono::seconds(30);
// Without a new backup, the uploader still looks for pending copies (a backup taken by hand)
// and applies off-site retention this often.
constexpr auto kOffsiteInterval = std::chrono::hours(1);

// Consecutive failures of a job and when it may run again.
struct RetryState {
  int failures = 0;
  SysTime retry_at{};  // meaningful while failures > 0
};

// Counts a failure of a job on `schedule` and sets when it may run again; returns the delay.
std::chrono::seconds back_off(RetryState& retry, const std::string& schedule, SysTime now) {
  ++retry.failures;
  const auto delay = retry_delay(retry.failures, CronSchedule::parse(schedule).interval(now));
  retry.retry_at = now + delay;
  return delay;
}

class Daemon {
 public:
  Daemon(Config config, DaemonOptions options, const Clock& clock)
      : options_(std::move(options)),
        clock_(clock),
        config_(std::make_shared<const Config>(std::move(config))) {}

  int run();

 private:
  std::shared_ptr<const Config> config() const {
    std::lock_guard lock(mu_);
    return config_;
  }
  // The target called `name` in the current config, or nullopt once it was removed.
  std::optional<TargetConfig> target(const std::string& name) const;
  void start_workers();
  void worker(const std::string& name);
  // Copies a target's backups off-site (DESIGN §3 offsite.s3) in its own thread, so a slow
  // upload never delays the next backup: after each good backup, at start-up, hourly, and
  // after failures with backoff.
  void uploader(const std::string& name);
  void request_upload(const std::string& name);
  // Waits until `deadline`, a stop, or an upload request for `name`; true when one was
  // requested (and takes the request).
  bool wait_for_upload_request(const std::string& name, SysTime deadline);
  void count_uploads(const std::string& name, double uploads, double failures, double bytes);
  void refresher();
  void prober();
  void refresh_now();
  void reload();
  // Waits until `deadline`, a stop, or a notify; returns false when stopping.
  bool sleep_until(SysTime deadline);
  std::vector<TargetStatus> statuses() const;
  // When the newest good backup of `name` started, whoever took it (this daemon or a `backup`
  // run by hand), without copying every target's status.
  // A time read from the cached status of target `name` (nullopt when not cached yet).
  std::optional<SysTime> cached_time(
      const std::string& name,
      const std::function<std::optional<SysTime>(const TargetStatus&)>& fact) const;
  SysTime next_backup_time(const TargetConfig& t, const RetryState& retry, SysTime now) const;
  // nullopt when the target has no restore_test.
  std::optional<SysTime> next_restore_test_time(const TargetConfig& t, const RetryState& retry,
                                                SysTime now) const;
  void run_backup(const TargetConfig& t, RetryState& retry);
  void run_restore_test_job(const TargetConfig& t, RetryState& retry);
  void register_handlers(HttpServer& server, CachedExposition& exposition);

  DaemonOptions options_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<const Config> config_;
  std::map<std::string, TargetRuntime> runtime_;
  std::map<std::string, std::thread> workers_;
  std::map<std::string, std::thread> uploaders_;
  // Threads of targets removed by a reload: they return after their current job, and are joined
  // at shutdown, so a reload never keeps the signal loop waiting for a job.
  std::vector<std::thread> retired_;
  std::set<std::string> upload_requested_;
  std::vector<TargetStatus> cached_;  // last read from disk, without runtime facts
  std::atomic<bool> stopping_{false};
  std::atomic<bool> ready_{false};
};

std::optional<TargetConfig> Daemon::target(const std::string& name) const {
  for (const TargetConfig& t : config()->targets) {
    if (t.name == name) return t;
  }
  return std::nullopt;
}

bool Daemon::sleep_until(SysTime deadline) {
  std::unique_lock lock(mu_);
  clock_.wait_for(cv_, lock, std::min<std::chrono::nanoseconds>(deadline - clock_.now(), kMaxSleep),
                  [&] { return stopping_.load(); });
  return !stopping_;
}

std::vector<TargetStatus> Daemon::statuses() const {
  std::lock_guard lock(mu_);
  std::vector<TargetStatus> out = cached_;
  for (TargetStatus& t : out) {
    const auto it = runtime_.find(t.name);
    if (it != runtime_.end()) t.runtime = it->second;
  }
  return out;
}

std::optional<SysTime> Daemon::cached_time(
    const std::string& name,
    const std::function<std::optional<SysTime>(const TargetStatus&)>& fact) const {
  std::lock_guard lock(mu_);
  for (const TargetStatus& t : cached_) {
    if (t.name == name) return fact(t);
  }
  return std::nullopt;
}

void Daemon::refresh_now() {
  const auto cfg = config();
  const SysTime now = clock_.now();
  std::vector<TargetStatus> fresh;
  std::vector<TargetStatus> previous;
  {
    std::lock_guard lock(mu_);
    previous = cached_;
  }
  for (const TargetConfig& t : cfg->targets) {
    try {
      fresh.push_back(read_target_status(t, now));
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

void Daemon::refresher() {
  while (!stopping_) {
    refresh_now();
    ready_ = true;
    std::unique_lock lock(mu_);
    clock_.wait_for(cv_, lock, kRefreshInterval, [&] { return stopping_.load(); });
  }
}

void Daemon::prober() {
  while (!stopping_) {
    for (const TargetConfig& t : config()->targets) {
      if (stopping_) break;
      bool up = false;
      try {
        DatabaseConfig db = t.database;
        db.connect_timeout = std::min(db.connect_timeout, std::chrono::seconds(5));
        const DatabaseEndpoint endpoint(db);
        auto conn = endpoint.connect();
        pqxx::nontransaction tx(*conn);
        tx.exec("SELECT 1");
        up = true;
      } catch (const std::exception& e) {
        spdlog::debug("database probe of {} failed: {}", t.name, e.what());
      }
      std::lock_guard lock(mu_);
      runtime_[t.name].database_up = up;
    }
    if (!sleep_until(clock_.now() + kProbeInterval)) break;
  }
}

void Daemon::worker(const std::string& name) {
  RetryState backup_retry;
  RetryState test_retry;  // only for tests that could not even start
  while (!stopping_) {
    const std::optional<TargetConfig> t = target(name);
    if (!t) return;  // removed by a reload
    const SysTime now = clock_.now();
    const SysTime backup_due = next_backup_time(*t, backup_retry, now);
    const std::optional<SysTime> test_due = next_restore_test_time(*t, test_retry, now);
    {
      std::lock_guard lock(mu_);
      runtime_[name].next_backup = backup_due;
      runtime_[name].next_restore_test = test_due;
    }
    // One job at a time per target, the backup first: a restore test due at the same moment
    // then tests the newest backup too.
    if (backup_due <= now) {
      run_backup(*t, backup_retry);
    } else if (test_due && *test_due <= now) {
      run_restore_test_job(*t, test_retry);
    } else {
      if (!sleep_until(std::min(backup_due, test_due.value_or(backup_due)))) return;
      continue;  // re-evaluate: the config, the disk or the clock may have changed
    }
    // The scrape must show the job's result now, and the schedule above must see it.
    refresh_now();
  }
}

void Daemon::request_upload(const std::string& name) {
  {
    std::lock_guard lock(mu_);
    upload_requested_.insert(name);
  }
  cv_.notify_all();
}

bool Daemon::wait_for_upload_request(const std::string& name, SysTime deadline) {
  std::unique_lock lock(mu_);
  clock_.wait_for(cv_, lock, std::min<std::chrono::nanoseconds>(deadline - clock_.now(), kMaxSleep),
                  [&] { return stopping_.load() || upload_requested_.count(name) > 0; });
  return upload_requested_.erase(name) > 0;
}

void Daemon::count_uploads(const std::string& name, double uploads, double failures, double bytes) {
  std::lock_guard lock(mu_);
  TargetRuntime& r = runtime_[name];
  r.offsite_uploads_total += uploads;
  r.offsite_upload_failures_total += failures;
  r.offsite_uploaded_bytes_total += bytes;
}

void Daemon::uploader(const std::string& name) {
  int failures = 0;
  SysTime next_pass = clock_.now();  // at start-up: catch up on what is pending
  while (!stopping_) {
    const std::optional<TargetConfig> t = target(name);
    if (!t) return;  // removed by a reload
    if (!t->offsite_s3 || clock_.now() < next_pass) {
      // A new backup is copied at once, even during a failure backoff: each is worth a try.
      const bool requested =
          wait_for_upload_request(name, t->offsite_s3 ? next_pass : SysTime::max());
      if (requested && t->offsite_s3) next_pass = clock_.now();
      continue;
    }
    const JobContext ctx{clock_, &stopping_};
    UploadObserver observer;
    observer.uploaded = [&](std::uint64_t bytes) {
      count_uploads(name, 1, 0, static_cast<double>(bytes));
    };
    observer.failed = [&] { count_uploads(name, 1, 1, 0); };
    try {
      const UploadReport r = run_offsite_job(*config(), *t, ctx, std::nullopt, observer);
      failures = 0;
      next_pass = clock_.now() + kOffsiteInterval;
      if (!r.uploaded.empty() || !r.prune.deleted.empty()) {
        spdlog::info("off-site copy of {}: {} uploaded, {} deleted by retention", name,
                     r.uploaded.size(), r.prune.deleted.size());
      }
    } catch (const std::exception& e) {
      ++failures;
      const auto delay = retry_delay(failures, kOffsiteInterval * 2);
      next_pass = clock_.now() + delay;
      if (!stopping_) spdlog::error("{} (retry in {}s)", e.what(), delay.count());
    }
    refresh_now();
  }
}

SysTime Daemon::next_backup_time(const TargetConfig& t, const RetryState& retry,
                                 SysTime now) const {
  // The last good backup, whoever took it (this daemon or a `backup` run by hand).
  const std::optional<SysTime> last = cached_time(t.name, [](const TargetStatus& s) {
    return s.newest_good() ? std::optional<SysTime>(s.newest_good()->started_at) : std::nullopt;
  });
  const SysTime due = next_run_time(CronSchedule::parse(t.backup.schedule), last, now);
  return retry.failures > 0 ? std::max(due, retry.retry_at) : due;
}

std::optional<SysTime> Daemon::next_restore_test_time(const TargetConfig& t,
                                                      const RetryState& retry, SysTime now) const {
  if (!t.restore_test) return std::nullopt;
  // The last attempt, whatever its outcome: a failed restore test is a finding to alert on, not
  // a transient error to retry, and each try restores a whole database. So one per slot.
  const std::optional<SysTime> last = cached_time(t.name, [](const TargetStatus& s) {
    return s.state.restore_test ? std::optional<SysTime>(s.state.restore_test->started_at)
                                : std::nullopt;
  });
  const CronSchedule schedule = CronSchedule::parse(t.restore_test->schedule);
  const SysTime due = next_run_time(schedule, last, now);
  return retry.failures > 0 ? std::max(due, retry.retry_at) : due;
}

void Daemon::run_backup(const TargetConfig& t, RetryState& retry) {
  const std::string& name = t.name;
  {
    std::lock_guard lock(mu_);
    runtime_[name].backup_in_progress = true;
    runtime_[name].backups_total += 1;
  }
  spdlog::info("backup of {} starting", name);
  const JobContext ctx{clock_, &stopping_};
  try {
    const BackupResult r = take_backup(*config(), t, ctx);
    spdlog::info("backup of {} done: {} ({} bytes, tier {})", name, r.manifest.file,
                 r.manifest.size_bytes, tier_name(r.manifest.tier));
    if (r.manifest.size_anomaly)
      spdlog::warn("{}: size anomaly: {}", name, r.manifest.size_anomaly_reason);
    request_upload(name);
    std::lock_guard lock(mu_);
    runtime_[name].retention_deleted_total += static_cast<double>(r.prune.deleted.size());
    retry.failures = 0;
  } catch (const std::exception& e) {
    const auto delay = back_off(retry, t.backup.schedule, clock_.now());
    if (stopping_) {
      spdlog::info("backup of {} stopped for shutdown; its partial file was removed", name);
    } else {
      spdlog::error("backup of {} failed (retry in {}s): {}", name, delay.count(), e.what());
    }
    std::lock_guard lock(mu_);
    runtime_[name].backup_failures_total += 1;
  }
  std::lock_guard lock(mu_);
  runtime_[name].backup_in_progress = false;
}

void Daemon::run_restore_test_job(const TargetConfig& t, RetryState& retry) {
  const std::string& name = t.name;
  {
    std::lock_guard lock(mu_);
    runtime_[name].restore_test_in_progress = true;
    runtime_[name].restore_tests_total += 1;
  }
  spdlog::info("restore test of {} starting", name);
  const JobContext ctx{clock_, &stopping_};
  bool passed = false;
  try {
    const RestoreTestReport r = run_restore_test(*config(), t, std::nullopt, ctx);
    passed = r.success;
    retry.failures = 0;
    if (passed) {
      spdlog::info("restore test of {} passed: {} in {:.1f}s (RTO target {:.0f}s)", name, r.backup,
                   r.duration_seconds, r.rto_target_seconds);
    } else {
      spdlog::error("restore test of {} failed: {}", name, summarize(r));
    }
  } catch (const std::exception& e) {
    // Not even recorded (another agent holds the directory): state.json keeps the old attempt,
    // so it is still due; back off as backups do.
    const auto delay = back_off(retry, t.restore_test->schedule, clock_.now());
    spdlog::error("restore test of {} could not run (retry in {}s): {}", name, delay.count(),
                  e.what());
  }
  std::lock_guard lock(mu_);
  runtime_[name].restore_test_in_progress = false;
  if (!passed) runtime_[name].restore_test_failures_total += 1;
}

void Daemon::start_workers() {
  const auto cfg = config();
  for (const TargetConfig& t : cfg->targets) {
    if (workers_.count(t.name)) continue;
    workers_[t.name] = std::thread([this, name = t.name] { worker(name); });
    uploaders_[t.name] = std::thread([this, name = t.name] { uploader(name); });
  }
}

void Daemon::reload() {
  Config fresh;
  try {
    fresh = options_.config_path.empty() ? config_from_environment()
                                         : load_config_file(options_.config_path);
  } catch (const std::exception& e) {
    spdlog::error("config reload failed, keeping the running config: {}", e.what());
    return;
  }
  {
    std::lock_guard lock(mu_);
    config_ = std::make_shared<const Config>(std::move(fresh));
  }
  cv_.notify_all();
  // Threads of removed targets notice on their next wake-up and return.
  for (auto* threads : {&workers_, &uploaders_}) {
    for (auto it = threads->begin(); it != threads->end();) {
      if (!target(it->first)) {
        retired_.push_back(std::move(it->second));
        it = threads->erase(it);
      } else {
        ++it;
      }
    }
  }
  start_workers();
  refresh_now();
  spdlog::info("config reloaded: {} target(s)", config()->targets.size());
}

void Daemon::register_handlers(HttpServer& server, CachedExposition& exposition) {
  server.handle("/metrics", [&exposition](const HttpRequest&) {
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", exposition.body(), {}};
  });
  server.handle("/-/healthy", [](const HttpRequest&) {
    return HttpResponse{200, "text/plain", "OK\n", {}};
  });
  server.handle("/-/ready", [this](const HttpRequest&) {
    return ready_ ? HttpResponse{200, "text/plain", "Ready\n", {}}
                  : HttpResponse{503, "text/plain", "Loading state\n", {}};
  });
  server.handle("/api/v1/status", [this](const HttpRequest&) {
    return HttpResponse{200, "application/json", status_json(statuses(), clock_.now()).dump(2), {}};
  });
  server.handle("/", [this](const HttpRequest&) {
    return HttpResponse{
        200, "text/html; charset=utf-8", render_status_page(statuses(), clock_.now()), {}};
  });
}

int Daemon::run() {
  // Signals are taken synchronously by this thread; every other thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const auto cfg = config();
  std::vector<std::string> addresses =
      options_.listen_addresses.empty() ? cfg->web.listen_addresses : options_.listen_addresses;
  const std::string web_file =
      options_.web_config_file.empty() ? cfg->web.config_file : options_.web_config_file;
  WebConfig web;
  try {
    if (!web_file.empty()) web = load_web_config(web_file);
  } catch (const std::exception& e) {
    throw ConfigError(std::string("--web.config.file: ") + e.what());
  }

  for (const TargetConfig& t : cfg->targets) {
    try {
      const Repository repo(t.backup.dir, t.backup.file_prefix);
      repo.prepare();
      const DirectoryLock lock(repo.state_dir());
      for (const auto& p : repo.remove_partials()) spdlog::warn("removed leftover {}", p.string());
    } catch (const std::exception& e) {
      spdlog::warn("{}: {}", t.name, e.what());
    }
  }

  const CollectorSet collectors(
      default_collectors(), [this] { return ScrapeInput{statuses()}; }, clock_);
  CachedExposition exposition(collectors, kMetricsMaxAge, clock_);
  std::unique_ptr<HttpServer> server;
  try {
    server = std::make_unique<HttpServer>(addresses, web);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  } catch (const std::runtime_error& e) {
    throw OperationError(e.what());
  }
  register_handlers(*server, exposition);

  std::thread refresh_thread([this] { refresher(); });
  std::thread probe_thread([this] { prober(); });
  while (!ready_) clock_.sleep_for(std::chrono::milliseconds(10));
  server->start();
  std::string where;
  const auto ports = server->ports();
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    where += (where.empty() ? "" : ", ") + addresses[i] +
             (i < ports.size() ? " (port " + std::to_string(ports[i]) + ")" : "");
  }
  spdlog::info("pgbackup-agent listening on {} with {} target(s)", where, cfg->targets.size());
  start_workers();
  notify_systemd("READY=1");

  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      spdlog::info("SIGHUP: reloading the config");
      notify_systemd(systemd_reloading_state());
      reload();
      notify_systemd("READY=1");
      continue;
    }
    spdlog::info("{}: stopping (running backups are stopped and their partial files removed)",
                 sig == SIGINT ? "SIGINT" : "SIGTERM");
    break;
  }
  notify_systemd("STOPPING=1");
  stopping_ = true;
  cv_.notify_all();
  for (auto& [name, thread] : workers_) thread.join();
  for (auto& [name, thread] : uploaders_) thread.join();
  for (std::thread& thread : retired_) thread.join();
  refresh_thread.join();
  probe_thread.join();
  server->stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int run_daemon(Config config, const DaemonOptions& options, const Clock& clock) {
  Daemon daemon(std::move(config), options, clock);
  return daemon.run();
}

}  // namespace pgbackup
