#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

namespace pgbackup {

// Wall-clock time; all schedules and timestamps are UTC.
using SysTime = std::chrono::system_clock::time_point;
// Monotonic time: intervals and timeouts, immune to the wall clock being set.
using SteadyTime = std::chrono::steady_clock::time_point;

// Where the agent reads the time and waits. Wall time for schedules, timestamps and display;
// monotonic time for intervals and timeouts. One instance is built in main and handed down (no
// global), so tests run on a ManualClock and never sleep.
class Clock {
 public:
  virtual ~Clock() = default;

  // The wall-clock time (UTC).
  virtual SysTime now() const = 0;
  // The monotonic time.
  virtual SteadyTime steady_now() const = 0;
  // With `lock` held on the mutex of `cv`: waits until `done()` holds (checked under the lock,
  // on every notify of `cv`) or `timeout` passed; returns done().
  virtual bool wait_for(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                        std::chrono::nanoseconds timeout,
                        const std::function<bool()>& done) const = 0;
  // Waits `duration` without a way to be woken (short pauses only).
  virtual void sleep_for(std::chrono::nanoseconds duration) const = 0;
};

// The operating system's clocks.
class SystemClock final : public Clock {
 public:
  SysTime now() const override;
  SteadyTime steady_now() const override;
  bool wait_for(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                std::chrono::nanoseconds timeout, const std::function<bool()>& done) const override;
  void sleep_for(std::chrono::nanoseconds duration) const override;
};

// A clock for tests. Time stands still until advance() or set_wall(); a wait that would block
// moves both clocks on to its deadline instead and returns at once, so a loop under test runs
// through days of schedule in microseconds. Thread-safe, but meant for a loop driven from the
// test's own thread (a wait never blocks for another thread's notify).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(SysTime start);

  SysTime now() const override;
  SteadyTime steady_now() const override;
  bool wait_for(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                std::chrono::nanoseconds timeout, const std::function<bool()>& done) const override;
  void sleep_for(std::chrono::nanoseconds duration) const override;

  // Moves both clocks on by `duration`.
  void advance(std::chrono::nanoseconds duration);
  // Sets the wall clock (as an administrator or NTP would); the monotonic clock stays.
  void set_wall(SysTime t);
  // How many waits and sleeps moved the clock on, and by how much in all.
  int waits() const;
  std::chrono::nanoseconds waited() const;

 private:
  // What a wait or a sleep does instead of blocking (counted in waits()).
  void move_on(std::chrono::nanoseconds duration) const;

  mutable std::mutex mu_;
  mutable SysTime wall_;
  mutable SteadyTime steady_{};
  mutable int waits_ = 0;
  mutable std::chrono::nanoseconds waited_{0};
};

}  // namespace pgbackup
