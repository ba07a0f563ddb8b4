#include "agent/web/rate_limit.h"

#include <algorithm>

namespace pgbackup {

TokenBucket::TokenBucket(RateLimitConfig config, Clock::time_point now)
    : config_(config), tokens_(static_cast<double>(config.burst)), last_(now) {}

bool TokenBucket::allow(Clock::time_point now) {
  if (config_.interval.count() <= 0) return true;
  if (now > last_) {
    const double gained = std::chrono::duration<double>(now - last_).count() /
                          std::chrono::duration<double>(config_.interval).count();
    tokens_ = std::min(static_cast<double>(config_.burst), tokens_ + gained);
    last_ = now;
  }
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

}  // namespace pgbackup
