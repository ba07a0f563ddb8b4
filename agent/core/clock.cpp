#include "agent/core/clock.h"

#include <thread>

namespace pgbackup {

SysTime SystemClock::now() const { return std::chrono::system_clock::now(); }

SteadyTime SystemClock::steady_now() const { return std::chrono::steady_clock::now(); }

bool SystemClock::wait_for(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                           std::chrono::nanoseconds timeout,
                           const std::function<bool()>& done) const {
  // wait_for measures on the steady clock: setting the wall clock neither cuts a wait short nor
  // stretches it.
  return cv.wait_for(lock, timeout, done);
}

void SystemClock::sleep_for(std::chrono::nanoseconds duration) const {
  std::this_thread::sleep_for(duration);
}

ManualClock::ManualClock(SysTime start) : wall_(start) {}

SysTime ManualClock::now() const {
  std::lock_guard lock(mu_);
  return wall_;
}

SteadyTime ManualClock::steady_now() const {
  std::lock_guard lock(mu_);
  return steady_;
}

bool ManualClock::wait_for(std::condition_variable&, std::unique_lock<std::mutex>&,
                           std::chrono::nanoseconds timeout,
                           const std::function<bool()>& done) const {
  if (done()) return true;
  move_on(timeout);
  return done();
}

void ManualClock::sleep_for(std::chrono::nanoseconds duration) const { move_on(duration); }

void ManualClock::advance(std::chrono::nanoseconds duration) {
  std::lock_guard lock(mu_);
  wall_ += std::chrono::duration_cast<SysTime::duration>(duration);
  steady_ += std::chrono::duration_cast<SteadyTime::duration>(duration);
}

void ManualClock::move_on(std::chrono::nanoseconds duration) const {
  std::lock_guard lock(mu_);
  ++waits_;
  if (duration <= std::chrono::nanoseconds(0)) return;
  wall_ += std::chrono::duration_cast<SysTime::duration>(duration);
  steady_ += std::chrono::duration_cast<SteadyTime::duration>(duration);
  waited_ += duration;
}

void ManualClock::set_wall(SysTime t) {
  std::lock_guard lock(mu_);
  wall_ = t;
}

int ManualClock::waits() const {
  std::lock_guard lock(mu_);
  return waits_;
}

std::chrono::nanoseconds ManualClock::waited() const {
  std::lock_guard lock(mu_);
  return waited_;
}

}  // namespace pgbackup
