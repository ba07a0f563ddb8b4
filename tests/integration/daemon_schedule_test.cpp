// The daemon's scheduler thread (run_worker) in process over a real target and real jobs, on a
// ManualClock: waits move the clock on, so scheduled days pass in seconds. The decisions
// themselves are table-tested in tests/unit/schedule.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <sstream>
#include <thread>

#include "agent/catalog/directory_lock.h"
#include "agent/catalog/job_state.h"
#include "agent/config/config.h"
#include "agent/core/timeutil.h"
#include "agent/daemon/threads.h"
#include "tests/support/target.h"

using namespace pgtest;
using namespace std::chrono_literals;

namespace {

// The audit log of `t` as "operation[:type]:outcome" lines, in order.
std::vector<std::string> audit_jobs(const TestTarget& t) {
  std::istringstream in(read_text_file(t.dir / ".pgbackup/audit.jsonl"));
  std::vector<std::string> jobs;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    const std::string op = j.value("operation", "");
    if (op != "backup" && op != "verify") continue;
    jobs.push_back(op + (j.contains("type") ? ":" + j["type"].get<std::string>() : "") + ":" +
                   j.value("outcome", ""));
  }
  return jobs;
}

// Runs the worker of `target` until `done` holds (checked every 50 ms, at most 60 s).
void run_worker_until(pgbackup::DaemonState& state, const std::function<bool()>& done) {
  std::thread worker([&] { pgbackup::run_worker(state, state.config()->targets.front().name); });
  for (int i = 0; i < 1200 && !done(); ++i) std::this_thread::sleep_for(50ms);
  state.stop();
  worker.join();
}

}  // namespace

TEST_CASE("the daemon's scheduler runs full backups and verify runs on their own cadence",
          "[daemon]") {
  ::setenv(TestTarget::kPasswordEnv, PgCluster::kPassword, 1);
  TestTarget t("verify_sched", 20);
  pgbackup::Config config = pgbackup::load_config_file(t.config);
  config.targets.front().backup.schedule = "0 2 * * *";
  config.targets.front().verify = pgbackup::VerifyConfig{"0 5 * * *"};
  pgbackup::ManualClock clock(*pgbackup::parse_iso8601("2026-12-07T01:00:00Z"));
  pgbackup::DaemonState state(config, clock);
  state.refresh();

  run_worker_until(state, [&] {
    const auto s = pgbackup::load_state(t.dir / ".pgbackup");
    return s.verify && s.verify->started_at >= *pgbackup::parse_iso8601("2026-12-08T05:00:00Z");
  });

  // Never backed up: a full at once, then the verify (never run) after it; then each on its
  // slot, the verify never inside a backup (one job at a time, under the directory lock).
  const std::vector<std::string> jobs = audit_jobs(t);
  INFO(read_text_file(t.dir / ".pgbackup/audit.jsonl"));
  REQUIRE(jobs.size() >= 5);
  CHECK(std::vector<std::string>(jobs.begin(), jobs.begin() + 5) ==
        std::vector<std::string>{"backup:full:success", "verify:success", "backup:full:success",
                                 "verify:success", "backup:full:success"});
  const auto s = pgbackup::load_state(t.dir / ".pgbackup");
  REQUIRE(s.verify);
  CHECK(s.verify->success);
  CHECK(s.verify->file == t.dumps().back().filename().string());
  CHECK(pgbackup::format_iso8601(s.verify->started_at).substr(10) == "T05:00:00Z");
}

TEST_CASE("a verify run that finds the directory locked is not recorded and is tried again",
          "[daemon]") {
  ::setenv(TestTarget::kPasswordEnv, PgCluster::kPassword, 1);
  TestTarget t("verify_locked", 10);
  REQUIRE(t.agent({"backup"}).exit_code == 0);
  pgbackup::Config config = pgbackup::load_config_file(t.config);
  config.targets.front().backup.schedule = "0 0 * * *";
  config.targets.front().verify = pgbackup::VerifyConfig{"0 5 * * *"};
  // Later today: the backup by hand serves today's midnight slot, only the verify is due.
  pgbackup::ManualClock clock(
      pgbackup::SysTime(std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())) +
      23h);
  pgbackup::DaemonState state(config, clock);
  state.refresh();
  std::optional<pgbackup::DirectoryLock> held(std::in_place, t.dir / ".pgbackup");

  run_worker_until(state, [&] {
    // The first try waited for the lock in vain and the worker backs off: nothing recorded.
    if (held && clock.waits() > 0) {
      CHECK_FALSE(pgbackup::load_state(t.dir / ".pgbackup").verify);
      held.reset();
    }
    const auto s = pgbackup::load_state(t.dir / ".pgbackup");
    return !held && s.verify.has_value();
  });

  const auto s = pgbackup::load_state(t.dir / ".pgbackup");
  REQUIRE(s.verify);
  CHECK(s.verify->success);
}
