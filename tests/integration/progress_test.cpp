// The progress line end to end: the real binary with its stderr on a pseudo-terminal, against
// the real PostgreSQL 15 cluster (backup, verify, restore, restore-test) and the S3 harness
// (upload); and nothing of it when stderr is a pipe or the log is JSON.
#include <catch2/catch.hpp>

#include <algorithm>
#include <regex>

#include "agent/core/units.h"
#include "tests/support/fake_backup.h"
#include "tests/support/s3_server.h"
#include "tests/support/target.h"
#include "tests/support/terminal_screen.h"

using namespace pgtest;
using namespace std::chrono_literals;
using pgbackup::format_bytes;

namespace {

constexpr unsigned short kColumns = 100;
constexpr const char* kEraseLine = "\x1b[K";  // what only a progress line writes

AgentRun on_terminal(const TestTarget& t, std::vector<std::string> args) {
  args.insert(args.begin(), {"--config", t.config.string()});
  return run_agent_on_terminal(args, {{TestTarget::kPasswordEnv, PgCluster::kPassword}}, kColumns);
}

// The row of the terminal that starts with `prefix`, or "" (with every row in the message).
std::string row_starting(const AgentRun& run, const std::string& prefix) {
  for (const std::string& row : screen_rows(run.err)) {
    if (row.rfind(prefix, 0) == 0) return row;
  }
  return "";
}

// Every progress row (starting with `prefix`) fits in the terminal: none wrapped, so "\r"
// rewrote the one line. (Log lines may wrap: the terminal's business.)
bool rows_fit(const AgentRun& run, const std::string& prefix) {
  const auto rows = screen_rows(run.err);
  return std::all_of(rows.begin(), rows.end(), [&](const std::string& r) {
    return r.rfind(prefix, 0) != 0 || r.size() < kColumns;
  });
}

}  // namespace

TEST_CASE(
    "on a terminal, backup, verify, restore and restore-test each end with one progress line "
    "of what they did; piped or under --log.format json they print nothing extra",
    "[progress]") {
  TestTarget t("progress", 300);
  t.write_config(t.default_database_yaml(), TestTarget::restore_test_yaml(t.db + "_rt"));

  // backup: the dump's bytes against the database's size (an estimate: "~", no percentage).
  const AgentRun backup = on_terminal(t, {"backup"});
  INFO("terminal:\n" << backup.err << "\nstdout:\n" << backup.out);
  REQUIRE(backup.exit_code == 0);
  const fs::path dump = t.dumps().back();
  const nlohmann::json m = t.manifest_of(dump);
  const std::string size = format_bytes(m["size_bytes"].get<std::uint64_t>());
  const std::string file = dump.filename().string();
  CHECK_THAT(
      row_starting(backup, "backup progress: "),
      Catch::StartsWith("backup progress: " + size + " of ~" +
                        format_bytes(m["database"]["size_bytes"].get<std::uint64_t>()) + ", "));
  CHECK_THAT(backup.err, Catch::Contains(kEraseLine));
  CHECK(rows_fit(backup, "backup progress: "));

  // verify: the checksum's bytes of the file's size.
  const AgentRun verify = on_terminal(t, {"verify", "--latest"});
  INFO("terminal:\n" << verify.err);
  REQUIRE(verify.exit_code == 0);
  CHECK_THAT(row_starting(verify, "verify " + file + ": "),
             Catch::StartsWith("verify " + file + ": " + size + " of " + size + " (100%), "));

  // restore-test and restore: pg_restore's items of the archive's TOC, with the current one.
  const std::string items = std::to_string(m["toc_entries"].get<int>());
  const std::regex restored("restore " + file + ": " + items + " of " + items +
                            R"( items \(100%\), .+, \d+s)");
  const AgentRun drill = on_terminal(t, {"restore-test"});
  INFO("terminal:\n" << drill.err << "\nstdout:\n" << drill.out);
  REQUIRE(drill.exit_code == 0);
  CHECK_THAT(drill.out, Catch::Contains("PASSED"));
  CHECK(std::regex_match(row_starting(drill, "restore " + file + ": "), restored));
  CHECK(!row_starting(drill, "verify " + file + ": ").empty());  // its checksum comes first
  CHECK(rows_fit(drill, "restore " + file));

  const AgentRun restore = on_terminal(t, {"restore", "--latest", "--yes", "--no-safety-backup"});
  INFO("terminal:\n" << restore.err << "\nstdout:\n" << restore.out);
  REQUIRE(restore.exit_code == 0);
  CHECK(std::regex_match(row_starting(restore, "restore " + file + ": "), restored));

  // Not a terminal: the same output as ever.
  const AgentRun piped = t.agent({"backup"});
  INFO("stderr:\n" << piped.err);
  REQUIRE(piped.exit_code == 0);
  CHECK_THAT(piped.err, !Catch::Contains(kEraseLine) && !Catch::Contains("backup progress:"));
  const AgentRun piped_restore = t.agent({"restore-test"});
  REQUIRE(piped_restore.exit_code == 0);
  CHECK_THAT(piped_restore.err, !Catch::Contains(kEraseLine) && !Catch::Contains(" items ("));

  // JSON logs on a terminal: every line is still one JSON object (a leftover .partial makes
  // the backup log a warning while the dump runs after it).
  write_text(t.dir / "progress_20000101_000000.dump.partial", "left by a crash");
  const AgentRun json = on_terminal(t, {"--log.format", "json", "backup"});
  INFO("terminal:\n" << json.err);
  REQUIRE(json.exit_code == 0);
  CHECK_THAT(json.err, !Catch::Contains(kEraseLine) && !Catch::Contains("backup progress:"));
  int objects = 0;
  for (const std::string& row : screen_rows(json.err)) {
    if (row.empty()) continue;
    INFO(row);
    CHECK(nlohmann::json::parse(row).is_object());
    ++objects;
  }
  CHECK(objects > 0);
}

TEST_CASE("upload on a terminal shows the bytes sent after each part of a multipart upload",
          "[progress]") {
  S3Server s3;
  TestTarget t("progress-upload", 0);
  t.write_config(t.default_database_yaml(), s3.offsite_yaml("p/", "        tiers: [daily]\n"));
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  const fs::path dump = write_fake_backup(t.dir, t.name, now - 1h, pgbackup::Tier::daily,
                                          random_bytes(12 * 1024 * 1024));
  const std::string file = dump.filename().string();

  std::vector<std::string> args = {"--config", t.config.string(), "upload", dump.string()};
  const AgentRun run = run_agent_on_terminal(args, s3.key_env(), kColumns);
  INFO("terminal:\n" << run.err << "\nstdout:\n" << run.out);
  REQUIRE(run.exit_code == 0);
  // Parts of 5 MiB: the first one drawn at once, the end always.
  CHECK_THAT(run.err, Catch::Contains("\rupload " + file + ": 5.0 MiB of 12 MiB (41%), "));
  CHECK_THAT(row_starting(run, "upload " + file + ": "),
             Catch::StartsWith("upload " + file + ": 12 MiB of 12 MiB (100%), "));
  CHECK(rows_fit(run, "upload " + file));
}
