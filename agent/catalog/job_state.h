#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "agent/core/timeutil.h"

namespace pgbackup {

// The outcome of the last attempt of one kind of job (backup, restore_test, offsite, verify).
struct JobAttempt {
  SysTime started_at;
  SysTime finished_at;
  bool success = false;
  std::string error;
  std::string file;
  std::uint64_t invalid_files = 0;  // verify: the files it found invalid
};

// .pgbackup/state.json: the last attempt of each job, so the metrics survive restarts.
struct TargetState {
  std::optional<JobAttempt> backup;
  std::optional<JobAttempt> restore_test;
  std::optional<JobAttempt> offsite;
  std::optional<JobAttempt> verify;            // the newest `verify` run, scheduled or by hand
  std::optional<SysTime> verify_last_success;  // when a verify run last passed
};
// The text of a state.json; anything unreadable in it (bad JSON, wrong types, out-of-range
// times) is dropped, never thrown: a damaged state file only loses "last attempt" facts.
TargetState parse_state(const std::string& text);
TargetState load_state(const std::filesystem::path& state_dir);
void save_state(const std::filesystem::path& state_dir, const TargetState& state);
// Records one attempt of `job` ("backup", "restore_test", "offsite", "verify") in state.json.
void record_attempt(const std::filesystem::path& state_dir, const std::string& job,
                    const JobAttempt& attempt);

}  // namespace pgbackup
