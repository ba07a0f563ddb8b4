#include "agent/daemon/daemon.h"

#include <pthread.h>
#include <signal.h>

#include <spdlog/spdlog.h>

#include <map>
#include <thread>

#include "agent/catalog/directory_lock.h"
#include "agent/core/errors.h"
#include "agent/core/systemd.h"
#include "agent/daemon/daemon_state.h"
#include "agent/daemon/threads.h"
#include "agent/engines/engine.h"
#include "agent/engines/setup_check.h"
#include "agent/web/http_server.h"
#include "agent/web/status_page.h"
#include "collectors/collector.h"

namespace pgbackup {
namespace {

// Scrapes within this long of each other share one rendering of /metrics.
constexpr auto kMetricsMaxAge = std::chrono::milliseconds(1000);

// The daemon's lifecycle: start-up checks, the HTTP endpoints, one worker and one uploader
// thread per target, the status refresher, the prober and the heartbeat writer; then signals
// (SIGHUP reloads) until SIGTERM or SIGINT. The threads' work is in threads.h; what they share in
// DaemonState.
class Daemon {
 public:
  Daemon(Config config, DaemonOptions options, const Clock& clock)
      : options_(std::move(options)), clock_(clock), state_(std::move(config), clock) {}

  int run();

 private:
  void start_workers();
  void reload();
  void register_handlers(HttpServer& server, CachedExposition& exposition);

  DaemonOptions options_;
  const Clock& clock_;
  DaemonState state_;
  std::map<std::string, std::thread> workers_;
  std::map<std::string, std::thread> uploaders_;
  // Threads of targets removed by a reload: they return after their current job, and are joined
  // at shutdown, so a reload never keeps the signal loop waiting for a job.
  std::vector<std::thread> retired_;
};

// Whether the engine of `t` is set up so that its jobs can work (pgBackRest's preflight): its
// problems are logged; with an error its jobs do not start, until a reload (SIGHUP) after the
// fix. A database that is down is no error: the target starts and its probe shows it down.
bool engine_ready(const TargetConfig& t) {
  const std::vector<SetupProblem> problems = check_engine_setup(t);
  for (const SetupProblem& p : problems) {
    if (p.error) {
      spdlog::error("{}: {}", t.name, describe(p));
    } else {
      spdlog::warn("{}: {}", t.name, describe(p));
    }
  }
  if (!has_error(problems)) return true;
  spdlog::error("{}: not scheduling its jobs until the set-up above is fixed (then SIGHUP)",
                t.name);
  return false;
}

void Daemon::start_workers() {
  const auto cfg = state_.config();
  for (const TargetConfig& t : cfg->targets) {
    if (workers_.count(t.name)) continue;
    if (!engine_ready(t)) continue;
    workers_[t.name] = std::thread([this, name = t.name] { run_worker(state_, name); });
    uploaders_[t.name] = std::thread([this, name = t.name] { run_uploader(state_, name); });
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
  state_.replace_config(std::move(fresh));
  // Threads of removed targets notice on their next wake-up and return.
  for (auto* threads : {&workers_, &uploaders_}) {
    for (auto it = threads->begin(); it != threads->end();) {
      if (!state_.target(it->first)) {
        retired_.push_back(std::move(it->second));
        it = threads->erase(it);
      } else {
        ++it;
      }
    }
  }
  start_workers();
  state_.refresh();
  spdlog::info("config reloaded: {} target(s)", state_.config()->targets.size());
}

void Daemon::register_handlers(HttpServer& server, CachedExposition& exposition) {
  server.handle("/metrics", [&exposition](const HttpRequest&) {
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", exposition.body(), {}};
  });
  server.handle("/-/healthy", [](const HttpRequest&) {
    return HttpResponse{200, "text/plain", "OK\n", {}};
  });
  server.handle("/-/ready", [this](const HttpRequest&) {
    return state_.ready() ? HttpResponse{200, "text/plain", "Ready\n", {}}
                          : HttpResponse{503, "text/plain", "Loading state\n", {}};
  });
  server.handle("/api/v1/status", [this](const HttpRequest&) {
    return HttpResponse{
        200, "application/json", status_json(state_.statuses(), clock_.now()).dump(2), {}};
  });
  server.handle("/", [this](const HttpRequest&) {
    return HttpResponse{
        200, "text/html; charset=utf-8", render_status_page(state_.statuses(), clock_.now()), {}};
  });
}

// Before anything runs: every backup directory exists with the right modes, and what a killed
// process left (pg_dump's partial dumps, a restore test's scratch cluster) is removed (under the
// directory lock, so never another's), each with a warning.
void prepare_backup_dirs(const Config& cfg) {
  for (const TargetConfig& t : cfg.targets) {
    try {
      const std::unique_ptr<BackupEngine> engine = make_engine(t);
      engine->prepare();
      const DirectoryLock lock(t.state_dir());
      for (const auto& p : engine->remove_leftovers()) {
        spdlog::warn("{}: found and removed {} at start-up, left by a run that was killed", t.name,
                     p.string());
      }
    } catch (const std::exception& e) {
      spdlog::warn("{}: {}", t.name, e.what());
    }
  }
}

// The HTTP server on the configured (or command-line) addresses and web config, not started.
// `web_file` is set when a web config file is used.
std::unique_ptr<HttpServer> make_server(const Config& cfg, const DaemonOptions& options,
                                        std::vector<std::string>& addresses,
                                        std::shared_ptr<WebConfigFile>& web_file_out) {
  addresses =
      options.listen_addresses.empty() ? cfg.web.listen_addresses : options.listen_addresses;
  const std::string web_file =
      options.web_config_file.empty() ? cfg.web.config_file : options.web_config_file;
  std::shared_ptr<WebConfigFile> web;
  try {
    web = web_file.empty() ? std::make_shared<WebConfigFile>(WebConfig{})
                           : std::make_shared<WebConfigFile>(web_file);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("--web.config.file: ") + e.what());
  }
  if (!web_file.empty()) web_file_out = web;
  try {
    return std::make_unique<HttpServer>(addresses, web);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  } catch (const std::runtime_error& e) {
    throw OperationError(e.what());
  }
}

std::string describe_listeners(const std::vector<std::string>& addresses,
                               const std::vector<int>& ports) {
  std::string where;
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    where += (where.empty() ? "" : ", ") + addresses[i] +
             (i < ports.size() ? " (port " + std::to_string(ports[i]) + ")" : "");
  }
  return where;
}

int Daemon::run() {
  // Signals are taken synchronously by this thread; every other thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const auto cfg = state_.config();
  std::vector<std::string> addresses;
  std::shared_ptr<WebConfigFile> web_file;
  const std::unique_ptr<HttpServer> server = make_server(*cfg, options_, addresses, web_file);
  prepare_backup_dirs(*cfg);
  std::vector<std::unique_ptr<Collector>> collector_list = default_collectors();
  if (web_file) collector_list.push_back(make_web_config_collector());
  collector_list.push_back(make_http_collector());
  const CollectorSet collectors(
      std::move(collector_list),
      [this, web_file, &server] {
        ScrapeInput input{state_.statuses()};
        if (web_file) input.web_config_reload_ok = web_file->last_error().empty();
        input.http_connections_refused = server->connections_refused();
        return input;
      },
      clock_);
  CachedExposition exposition(collectors, kMetricsMaxAge, clock_);
  register_handlers(*server, exposition);

  std::thread refresh_thread([this] { state_.run_refresher(); });
  std::thread probe_thread([this] { run_prober(state_); });
  std::thread heartbeat_thread([this] { run_heartbeat(state_); });
  while (!state_.ready() || !state_.probed()) {
    if (state_.stopping()) break;
    clock_.sleep_for(std::chrono::milliseconds(10));
  }
  server->start();
  spdlog::info("pgbackup-agent listening on {} with {} target(s)",
               describe_listeners(addresses, server->ports()), cfg->targets.size());
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
  state_.stop();
  for (auto& [name, thread] : workers_) thread.join();
  for (auto& [name, thread] : uploaders_) thread.join();
  for (std::thread& thread : retired_) thread.join();
  refresh_thread.join();
  probe_thread.join();
  heartbeat_thread.join();
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
