// JobRun: the one path that records a job's attempt (state.json) and its audit line.
#include "agent/jobs/job_run.h"

#include <catch2/catch.hpp>

#include <sstream>

#include "agent/core/file_io.h"
#include "agent/core/timeutil.h"
#include "tests/support/temp_dir.h"

using namespace pgbackup;
using namespace std::chrono_literals;

namespace {

std::vector<nlohmann::json> audit_lines(const fs::path& log) {
  std::vector<nlohmann::json> out;
  if (!fs::exists(log)) return out;
  std::istringstream in(read_file(log));
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

struct Fixture {
  testing::TempDir temp{"pgbackup-jobrun"};
  ManualClock clock{*parse_iso8601("2026-11-25T02:00:00Z")};
  JobContext ctx{clock};
  Config config;
  TargetConfig target;

  Fixture() {
    target.name = "pulse";
    target.backup.dir = temp.path();
    fs::create_directories(target.state_dir());
  }
  fs::path audit() const { return config.audit_log_for(target); }
  TargetState state() const { return load_state(target.state_dir()); }
};

}  // namespace

TEST_CASE("job run: a success records the attempt with its times and one audit line") {
  Fixture f;
  {
    JobRun run(f.config, f.target, "backup", "backup", f.ctx);
    f.clock.advance(90s);
    run.succeed("pulse_20261125_020000.dump", {{"size_bytes", 42}});
  }
  const TargetState state = f.state();
  REQUIRE(state.backup);
  CHECK(state.backup->success);
  CHECK(state.backup->file == "pulse_20261125_020000.dump");
  CHECK(format_iso8601(state.backup->started_at) == "2026-11-25T02:00:00Z");
  CHECK(format_iso8601(state.backup->finished_at) == "2026-11-25T02:01:30Z");
  const auto lines = audit_lines(f.audit());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["target"] == "pulse");
  CHECK(lines[0]["operation"] == "backup");
  CHECK(lines[0]["outcome"] == "success");
  CHECK(lines[0]["size_bytes"] == 42);
  CHECK(lines[0]["ts"] == "2026-11-25T02:01:30Z");
}

TEST_CASE("job run: a failure records the error in state.json and the audit log") {
  Fixture f;
  {
    JobRun run(f.config, f.target, "restore_test", "restore_test", f.ctx);
    run.fail("row counts differ", "x.dump", {{"mismatched_tables", 1}});
    run.succeed("x.dump");  // settled already: ignored
  }
  const TargetState state = f.state();
  REQUIRE(state.restore_test);
  CHECK_FALSE(state.restore_test->success);
  CHECK(state.restore_test->error == "row counts differ");
  const auto lines = audit_lines(f.audit());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["outcome"] == "failure");
  CHECK(lines[0]["error"] == "row counts differ");
  CHECK(lines[0]["mismatched_tables"] == 1);
}

TEST_CASE("job run: a run left unsettled by an exception is recorded as a failure") {
  Fixture f;
  try {
    JobRun run(f.config, f.target, "backup", "backup", f.ctx);
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  const TargetState state = f.state();
  REQUIRE(state.backup);
  CHECK_FALSE(state.backup->success);
  CHECK_THAT(state.backup->error, Catch::Contains("without an outcome"));
  REQUIRE(audit_lines(f.audit()).size() == 1);
}

TEST_CASE("job run: interrupted leaves state.json alone; not attempted records nothing") {
  Fixture f;
  {
    JobRun run(f.config, f.target, "restore_test", "restore_test", f.ctx);
    run.interrupted("stopping", {{"file", "x.dump"}});
  }
  {
    JobRun run(f.config, f.target, "offsite", "", f.ctx);
    run.not_attempted();
  }
  const TargetState state = f.state();
  CHECK_FALSE(state.restore_test);
  CHECK_FALSE(state.offsite);
  const auto lines = audit_lines(f.audit());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["outcome"] == "interrupted");
  CHECK(lines[0]["file"] == "x.dump");
}

TEST_CASE("job run: a job without an audit operation records only its attempt") {
  Fixture f;
  {
    JobRun run(f.config, f.target, "offsite", "", f.ctx);
    run.fail("bucket unreachable");
  }
  REQUIRE(f.state().offsite);
  CHECK(audit_lines(f.audit()).empty());
}

TEST_CASE("job run: an audit log that cannot be written never throws out of the job") {
  Fixture f;
  // Its directory is a regular file: every append fails (as on a full or read-only disk).
  write_file_atomic(f.temp.path() / "not-a-dir", "x", fs::perms::owner_read);
  f.config.audit_log = (f.temp.path() / "not-a-dir" / "audit.jsonl").string();
  JobRun run(f.config, f.target, "", "prune", f.ctx);
  CHECK_NOTHROW(run.fail("cannot remove a file"));
  CHECK_FALSE(fs::exists(f.config.audit_log));
}
