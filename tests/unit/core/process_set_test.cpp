#include "agent/core/process_set.h"

#include <catch2/catch.hpp>

#include <chrono>

using namespace pgbackup;
using namespace std::chrono_literals;

TEST_CASE("children run at once take the time of the slower one, each with its own result") {
  ProcessSpec slow, fast, missing;
  slow.argv = {"sh", "-c", "sleep 1; echo slow"};
  fast.argv = {"sh", "-c", "sleep 1; echo fast >&2; exit 4"};
  const auto start = std::chrono::steady_clock::now();
  const std::vector<ProcessResult> r = run_processes({slow, fast});
  CHECK(std::chrono::steady_clock::now() - start < 1900ms);  // not 2 s one after the other
  REQUIRE(r.size() == 2);
  CHECK(r[0].ok());
  CHECK(r[0].out == "slow\n");
  CHECK(r[1].exit_code == 4);
  CHECK(r[1].err == "fast\n");
  // One that cannot start is rethrown once the others ended.
  missing.argv = {"/nonexistent/program"};
  CHECK_THROWS_AS(run_processes({slow, missing}), ProcessError);
}
