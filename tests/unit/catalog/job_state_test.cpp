#include "agent/catalog/job_state.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <string>
#include <thread>
#include <vector>

#include "agent/core/file_io.h"
#include "tests/support/temp_dir.h"

using namespace pgbackup;

TEST_CASE("concurrent record_attempt calls lose no job's update and leave a whole state.json") {
  // The off-site uploader thread records without the directory lock while a job records too:
  // both read-modify-write state.json. Each thread records its own job many times; at the end
  // every job's last attempt must be there and the file must parse.
  const testing::TempDir temp;
  const fs::path& dir = temp.path();
  const fs::path state_dir = dir / ".pgbackup";
  const std::vector<std::string> jobs = {"backup", "restore_test", "offsite"};
  constexpr int kRounds = 200;
  std::vector<std::thread> threads;
  for (const std::string& job : jobs) {
    for (int copy = 0; copy < 2; ++copy) {
      threads.emplace_back([&, job, copy] {
        for (int i = 0; i < kRounds; ++i) {
          JobAttempt a;
          a.started_at = a.finished_at = std::chrono::system_clock::now();
          a.success = true;
          a.file = job + "-" + std::to_string(copy) + "-" + std::to_string(i);
          record_attempt(state_dir, job, a);
        }
      });
    }
  }
  for (std::thread& t : threads) t.join();

  REQUIRE_NOTHROW(nlohmann::json::parse(read_file(state_dir / "state.json")));
  const TargetState state = load_state(state_dir);
  REQUIRE(state.backup);
  REQUIRE(state.restore_test);
  REQUIRE(state.offsite);
  CHECK_THAT(state.backup->file, Catch::EndsWith("-" + std::to_string(kRounds - 1)));
  CHECK_THAT(state.restore_test->file, Catch::EndsWith("-" + std::to_string(kRounds - 1)));
  CHECK_THAT(state.offsite->file, Catch::EndsWith("-" + std::to_string(kRounds - 1)));
  // No temporary file is left behind, and state.json keeps its private mode.
  for (const auto& entry : fs::directory_iterator(state_dir)) {
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
  }
  struct stat st {};
  REQUIRE(::stat((state_dir / "state.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("a verify run's outcome survives in state.json and a failure keeps the last success") {
  const testing::TempDir temp;
  const fs::path state_dir = temp.path() / ".pgbackup";
  JobAttempt passed;
  passed.started_at = from_unix_seconds(1000);
  passed.finished_at = from_unix_seconds(1060);
  passed.success = true;
  record_attempt(state_dir, "verify", passed);
  JobAttempt failed = passed;
  failed.started_at = from_unix_seconds(2000);
  failed.finished_at = from_unix_seconds(2030);
  failed.success = false;
  failed.error = "verify: 2 invalid files";
  failed.invalid_files = 2;
  record_attempt(state_dir, "verify", failed);

  const TargetState state = load_state(state_dir);
  REQUIRE(state.verify);
  CHECK_FALSE(state.verify->success);
  CHECK(state.verify->invalid_files == 2);
  CHECK(state.verify->error == "verify: 2 invalid files");
  REQUIRE(state.verify_last_success);
  CHECK(to_unix_seconds(*state.verify_last_success) == 1060);
  CHECK_FALSE(state.backup);
}
