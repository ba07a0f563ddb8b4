#pragma once

// The scheduler loop's whole world in the unit tests, on a ManualClock: days of schedule run in
// microseconds and nothing sleeps. Each job takes a fixed time on the clock and records when it
// started.

#include <catch2/catch.hpp>

#include <deque>
#include <functional>
#include <ostream>
#include <utility>
#include <vector>

#include "agent/core/timeutil.h"
#include "agent/schedule/scheduler.h"

namespace pgbackup::testing {

using namespace std::chrono_literals;

inline SysTime at(const char* iso) { return *parse_iso8601(iso); }

inline TargetConfig target(const std::string& backup_schedule,
                           std::optional<std::string> restore_test_schedule = std::nullopt) {
  TargetConfig t;
  t.name = "pulse";
  t.backup.schedule = backup_schedule;
  if (restore_test_schedule) {
    t.restore_test.emplace();
    t.restore_test->schedule = *restore_test_schedule;
  }
  return t;
}

struct Run {
  std::string job;
  std::string at;
  bool operator==(const Run&) const = default;
};

inline std::ostream& operator<<(std::ostream& out, const Run& r) {
  return out << r.job << "@" << r.at;
}

class FakeTarget final : public TargetJobs {
 public:
  FakeTarget(ManualClock& clock, TargetConfig t, SysTime stop_at)
      : config(std::move(t)), clock_(clock), stop_at_(stop_at) {}

  std::optional<TargetConfig> target() override { return config; }
  std::optional<SysTime> last_good_backup(BackupType slot, SysTime not_after) override {
    std::optional<SysTime> newest;
    for (const auto& [type, started] : good) {
      if (serves(type, slot) && started <= not_after && (!newest || started > *newest))
        newest = started;
    }
    return newest;
  }
  std::optional<SysTime> last_restore_test() override { return last_test; }
  std::optional<SysTime> last_verify() override { return last_verify_run; }

  bool backup(const TargetConfig&, BackupType type) override {
    const SysTime started = clock_.now();
    runs.push_back({backup_type_name(type), format_iso8601(started)});
    clock_.advance(backup_takes);
    if (during_job) during_job();
    const bool ok = pop(backup_results);
    if (ok) good.emplace_back(type, started);
    return ok;
  }

  bool verify(const TargetConfig&) override {
    const SysTime started = clock_.now();
    runs.push_back({"verify", format_iso8601(started)});
    clock_.advance(5min);
    const bool ran = pop(verify_results);
    if (ran) last_verify_run = started;
    return ran;
  }

  bool restore_test(const TargetConfig&) override {
    const SysTime started = clock_.now();
    runs.push_back({"restore_test", format_iso8601(started)});
    clock_.advance(20min);
    const bool ran = pop(restore_test_results);
    if (ran) last_test = started;
    return ran;
  }

  void publish(const TargetPlan& plan) override { plans.push_back(plan); }

  bool wait_until(SysTime deadline) override {
    ++waits;
    if (deadline >= stop_at_) {
      clock_.set_wall(stop_at_);
      return false;
    }
    clock_.set_wall(deadline);
    if (after_wait) after_wait();
    return true;
  }

  bool stopping() override { return clock_.now() >= stop_at_; }

  // A full taken at `t`, as the catalogue would show it.
  void good_full(SysTime t) { good.emplace_back(BackupType::full, t); }

  std::optional<TargetConfig> config;
  std::vector<std::pair<BackupType, SysTime>> good;  // good backups, any order
  std::optional<SysTime> last_test;
  std::optional<SysTime> last_verify_run;
  std::deque<bool> backup_results;        // next outcomes; true once empty
  std::deque<bool> restore_test_results;  // idem
  std::deque<bool> verify_results;        // idem
  std::chrono::minutes backup_takes = 10min;
  std::function<void()> during_job;  // runs while a backup is in progress (a reload, say)
  std::function<void()> after_wait;  // runs when a wait ends (a clock that was set, say)
  std::vector<Run> runs;
  std::vector<TargetPlan> plans;
  int waits = 0;

 private:
  static bool pop(std::deque<bool>& results) {
    if (results.empty()) return true;
    const bool r = results.front();
    results.pop_front();
    return r;
  }

  ManualClock& clock_;
  SysTime stop_at_;
};

}  // namespace pgbackup::testing
