#include "agent/core/subprocess.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

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

TEST_CASE("stderr lines go to on_stderr_line as they come, and those it declines stay out of err") {
  // 20000 lines of chatter (more than the kept tail) around an error, the last line unended.
  ProcessSpec spec;
  spec.argv = {"sh", "-c",
               "i=0; while [ $i -lt 10000 ]; do echo \"chatter $i\"; i=$((i+1)); done >&2; "
               "echo 'error: the one that matters' >&2; "
               "i=0; while [ $i -lt 10000 ]; do echo \"chatter $i\"; i=$((i+1)); done >&2; "
               "printf 'last words' >&2; exit 3"};
  std::vector<std::string> seen;
  spec.on_stderr_line = [&](std::string_view line) {
    seen.emplace_back(line);
    return line.rfind("chatter", 0) != 0;
  };
  const ProcessResult r = run_process(spec);
  CHECK(r.exit_code == 3);
  REQUIRE(seen.size() == 20002);
  CHECK(seen[10000] == "error: the one that matters");
  CHECK(seen.back() == "last words");
  CHECK(r.err == "error: the one that matters\nlast words");
  CHECK_THAT(describe_failure(spec, r), Catch::Contains("error: the one that matters"));
}
