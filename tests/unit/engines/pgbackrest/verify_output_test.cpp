// Judging `pgbackrest verify --verbose --log-level-console=info` by its output: real pgBackRest
// 2.45 output (tests/fixtures/pgbackrest) and the other shapes it prints.
#include <catch2/catch.hpp>

#include <string>

#include "agent/core/file_io.h"
#include "agent/engines/pgbackrest/verify_output.h"

using namespace pgbackup;
using namespace pgbackup::pgbackrest;

namespace {

std::string fixture(const std::string& name) {
  return read_file(std::string(PGBACKUP_SOURCE_DIR) + "/tests/fixtures/pgbackrest/" + name);
}

const char* kStamp = "2026-12-06 20:48:55.333 P00   INFO: ";

// The lines of one archive id or backup in `verify --verbose` output, with their counts.
std::string counts_line(int missing, int checksum_invalid) {
  return "        missing: " + std::to_string(missing) +
         ", checksum invalid: " + std::to_string(checksum_invalid) +
         ", size invalid: 0, other: 0\n";
}

std::string archive_entry(int checked, int missing, int checksum_invalid) {
  return "      archiveId: 15-1, total WAL checked: " + std::to_string(checked) +
         ", total valid WAL: " + std::to_string(checked - missing - checksum_invalid) + "\n" +
         counts_line(missing, checksum_invalid);
}

std::string backup_entry(const std::string& label, const std::string& status, int checked,
                         int missing, int checksum_invalid) {
  return "      backup: " + label + ", status: " + status +
         ", total files checked: " + std::to_string(checked) +
         ", total valid files: " + std::to_string(checked - missing - checksum_invalid) + "\n" +
         counts_line(missing, checksum_invalid);
}

}  // namespace

TEST_CASE("a verify that found every file valid is ok") {
  const VerifyVerdict v = judge_verify_output(fixture("verify_ok.txt"), 0);
  CHECK(v.ok);
  CHECK(v.invalid_files == 0);
  CHECK(v.invalid_backups.empty());
  CHECK(v.reasons.empty());
}

TEST_CASE("a verify that exited 0 but printed status: error and a bad checksum is not ok") {
  const VerifyVerdict v = judge_verify_output(fixture("verify_corrupt.txt"), 0);
  CHECK_FALSE(v.ok);
  CHECK(v.invalid_files == 1);
  CHECK(v.invalid_backups == std::vector<std::string>{"20261206-203315F: invalid"});
  REQUIRE_FALSE(v.reasons.empty());
  CHECK(v.reasons[0] == "invalid checksum '20261206-203315F/pg_data/base/5/1247.zst'");
}

TEST_CASE("verify's invalid files are counted for the backup whose section names them") {
  const VerifyVerdict corrupt = judge_verify_output(fixture("verify_corrupt.txt"), 0);
  CHECK(corrupt.invalid_files_by_backup == std::map<std::string, int>{{"20261206-203315F", 1}});
  CHECK(corrupt.invalid_archive_files == 0);
  const std::string head = std::string(kStamp) + "stanza: s\n    status: error\n";
  const VerifyVerdict v = judge_verify_output(
      head + archive_entry(7, 0, 1) + backup_entry("20261206-203315F", "invalid", 9, 0, 1) +
          backup_entry("20261206-203315F_20261206-203323I", "invalid", 9, 1, 1),
      0);
  CHECK(v.invalid_files == 4);
  CHECK(v.invalid_archive_files == 1);
  CHECK(v.invalid_files_by_backup ==
        std::map<std::string, int>{{"20261206-203315F", 1},
                                   {"20261206-203315F_20261206-203323I", 2}});
}

TEST_CASE("verify outputs judged: counts, statuses, errors, warnings and silence") {
  struct Case {
    std::string name;
    std::string output;
    int exit_code;
    bool ok;
    int invalid_files;
    std::string first_reason;
  };
  const std::string head = std::string(kStamp) + "stanza: s\n";
  const std::vector<Case> cases = {
      {"no output at all", "", 0, false, 0, "pgbackrest verify printed no result"},
      {"only begin and end lines",
       std::string(kStamp) + "verify command begin 2.45: --stanza=s\n" + kStamp +
           "verify command end: completed successfully (803ms)\n",
       0, false, 0, "pgbackrest verify printed no result"},
      {"counts without --verbose (only non-zero ones)",
       head + "    status: error\n      archiveId: 15-1, total WAL checked: 7, total valid WAL: 5\n"
              "        missing: 1, size invalid: 1\n",
       0, false, 2, "2 invalid files"},
      {"status error with no detail", head + "    status: error\n", 0, false, 0,
       "pgbackrest verify reported status: error"},
      {"an ERROR line on stderr", "ERROR: [029]: No usable backup.info file\n", 0, false, 0,
       "ERROR: [029]: No usable backup.info file"},
      {"a non-zero exit status", head + "    status: ok\n", 29, false, 0,
       "pgbackrest verify exited with status 29"},
      {"a manifest missing",
       head + "    status: ok\n      backup: 20261206-203315F, status: manifest missing, total "
              "files checked: 0, total valid files: 0\n",
       0, false, 0, "backup 20261206-203315F: manifest missing"},
      {"a backup in progress is skipped, not invalid",
       head + "    status: ok\n      backup: 20261206-203315F, status: in-progress, total files "
              "checked: 0, total valid files: 0\n",
       0, true, 0, ""},
      {"a warning alone does not fail",
       "2026-12-06 20:48:55.333 P00   WARN: archive.info.copy does not match archive.info\n" +
           head + "    status: ok\n",
       0, true, 0, ""},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const VerifyVerdict v = judge_verify_output(c.output, c.exit_code);
    CHECK(v.ok == c.ok);
    CHECK(v.invalid_files == c.invalid_files);
    if (c.first_reason.empty()) {
      CHECK(v.reasons.empty());
    } else {
      REQUIRE_FALSE(v.reasons.empty());
      CHECK_THAT(v.reasons[0], Catch::StartsWith(c.first_reason));
    }
  }
  const auto warned = judge_verify_output(
      "2026-12-06 20:48:55.333 P00   WARN: archive.info.copy does not match archive.info\n" + head +
          "    status: ok\n",
      0);
  CHECK(warned.warnings ==
        std::vector<std::string>{"archive.info.copy does not match archive.info"});
}

TEST_CASE("a verify of the whole stanza judged for one backup: its files and the archive's") {
  const VerifyVerdict whole = judge_verify_output(fixture("verify_corrupt.txt"), 0);
  REQUIRE_FALSE(whole.ok);
  const VerifyVerdict full = verdict_for_backup(whole, "20261206-203315F");
  CHECK_FALSE(full.ok);
  CHECK(full.invalid_files == 1);
  REQUIRE_FALSE(full.reasons.empty());
  CHECK(full.reasons[0] == "invalid checksum '20261206-203315F/pg_data/base/5/1247.zst'");
  // Its diff holds its own copy of that file (valid): the full's corruption is not its own.
  const VerifyVerdict diff = verdict_for_backup(whole, "20261206-203315F_20261206-203320D");
  CHECK(diff.ok);
  CHECK(diff.invalid_files == 0);
  CHECK(diff.warnings ==
        std::vector<std::string>{"backup 20261206-203315F: invalid, 1 invalid file"});

  // The archive's invalid files and errors that name no backup count for every backup.
  const std::string head = std::string(kStamp) + "stanza: s\n    status: error\n";
  const VerifyVerdict wal = judge_verify_output(
      head + archive_entry(7, 1, 0) + backup_entry("20261206-203315F", "valid", 9, 0, 0), 0);
  const VerifyVerdict of_full = verdict_for_backup(wal, "20261206-203315F");
  CHECK_FALSE(of_full.ok);
  CHECK(of_full.invalid_files == 1);
  CHECK(of_full.reasons == std::vector<std::string>{"1 invalid files"});
  CHECK_FALSE(
      verdict_for_backup(judge_verify_output("ERROR: [029]: No usable backup.info file\n", 0),
                         "20261206-203315F")
          .ok);
  CHECK_FALSE(verdict_for_backup(judge_verify_output(head, 0), "20261206-203315F").ok);
  CHECK(
      verdict_for_backup(judge_verify_output(fixture("verify_ok.txt"), 0), "20261206-204856F").ok);
}
