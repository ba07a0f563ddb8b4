#pragma once

#include <chrono>

#include "agent/web/web_config.h"

namespace pgbackup {

// The exporter-toolkit's rate_limit: a token bucket that starts full with `burst` tokens and
// gains one every `interval`, never holding more than `burst`. A request takes a token or is
// refused (429). With burst 0 every request is refused; with interval 0 none is.
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  TokenBucket(RateLimitConfig config, Clock::time_point now);

  // Takes a token at `now` if there is one.
  bool allow(Clock::time_point now);

  const RateLimitConfig& config() const { return config_; }

 private:
  RateLimitConfig config_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace pgbackup
