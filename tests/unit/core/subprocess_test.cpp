#include "agent/core/subprocess.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

using namespace pgbackup;
using namespace std::chrono_literals;

namespace {

// A child that closes its stdout and stderr and then hangs, as a stop_command redirecting its
// output might: the output loop ends at once, and only the wait for its exit remains.
ProcessSpec silent_hang() {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "exec >&- 2>&-; sleep 100"};
  return spec;
}

}  // namespace

TEST_CASE("the timeout holds for a child that closed its output and hangs") {
  ProcessSpec spec = silent_hang();
  spec.timeout = 500ms;
  const auto start = std::chrono::steady_clock::now();
  const ProcessResult r = run_process(spec);
  CHECK(r.timed_out);
  CHECK_FALSE(r.ok());
  CHECK(std::chrono::steady_clock::now() - start < 10s);
}

TEST_CASE("cancelling stops a child that closed its output and hangs") {
  std::atomic<bool> cancel{false};
  ProcessSpec spec = silent_hang();
  spec.cancel = &cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(500ms);
    cancel = true;
  });
  const auto start = std::chrono::steady_clock::now();
  const ProcessResult r = run_process(spec);
  canceller.join();
  CHECK(r.cancelled);
  CHECK(std::chrono::steady_clock::now() - start < 10s);
}

TEST_CASE("a child that closed its output still reports its exit status") {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "exec >&- 2>&-; sleep 0.3; exit 3"};
  spec.timeout = 10s;
  const ProcessResult r = run_process(spec);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 3);
}
