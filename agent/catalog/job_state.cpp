#include "agent/catalog/job_state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/core/errors.h"
#include "agent/core/file_io.h"

namespace pgbackup {
namespace {

nlohmann::json attempt_to_json(const JobAttempt& a) {
  return {{"started_at", to_unix_seconds(a.started_at)},
          {"finished_at", to_unix_seconds(a.finished_at)},
          {"success", a.success},
          {"error", a.error},
          {"file", a.file},
          {"invalid_files", a.invalid_files}};
}

std::optional<JobAttempt> attempt_from_json(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_object()) return std::nullopt;
  const auto& a = j[key];
  JobAttempt out;
  out.started_at = from_unix_seconds(a.value("started_at", 0.0));
  out.finished_at = from_unix_seconds(a.value("finished_at", 0.0));
  out.success = a.value("success", false);
  out.error = a.value("error", "");
  out.file = a.value("file", "");
  out.invalid_files = a.value("invalid_files", std::uint64_t{0});
  return out;
}

}  // namespace

TargetState parse_state(const std::string& text) {
  TargetState state;
  try {
    const auto j = nlohmann::json::parse(text);
    state.backup = attempt_from_json(j, "backup");
    state.restore_test = attempt_from_json(j, "restore_test");
    state.offsite = attempt_from_json(j, "offsite");
    state.verify = attempt_from_json(j, "verify");
    if (j.contains("verify_last_success") && j["verify_last_success"].is_number()) {
      state.verify_last_success = from_unix_seconds(j["verify_last_success"].get<double>());
    }
  } catch (const std::exception&) {
    // A damaged state file only loses "last attempt" facts; the backups themselves are intact.
  }
  return state;
}

TargetState load_state(const fs::path& state_dir) {
  std::error_code ec;
  const fs::path path = state_dir / "state.json";
  if (!fs::exists(path, ec)) return {};
  try {
    return parse_state(read_file(path));
  } catch (const OperationError&) {
    return {};  // unreadable: as damaged (see parse_state)
  }
}

void save_state(const fs::path& state_dir, const TargetState& state) {
  nlohmann::json j = nlohmann::json::object();
  if (state.backup) j["backup"] = attempt_to_json(*state.backup);
  if (state.restore_test) j["restore_test"] = attempt_to_json(*state.restore_test);
  if (state.offsite) j["offsite"] = attempt_to_json(*state.offsite);
  if (state.verify) j["verify"] = attempt_to_json(*state.verify);
  if (state.verify_last_success) {
    j["verify_last_success"] = to_unix_seconds(*state.verify_last_success);
  }
  create_private_dir(state_dir);
  write_file_atomic(state_dir / "state.json", j.dump(2) + "\n",
                    fs::perms::owner_read | fs::perms::owner_write);
}

void record_attempt(const fs::path& state_dir, const std::string& job, const JobAttempt& attempt) {
  // A read-modify-write of the whole file, called by jobs holding the directory lock and by the
  // off-site uploader thread that does not: a short lock of its own (.pgbackup/state.lock,
  // blocking, held only for the read and write) keeps one writer from losing another's update.
  create_private_dir(state_dir);
  const fs::path lock_path = state_dir / "state.lock";
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) throw OperationError("cannot open " + lock_path.string() + ": " + errno_text());
  while (::flock(lock_fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      const std::string why = errno_text();
      ::close(lock_fd);
      throw OperationError("cannot lock " + lock_path.string() + ": " + why);
    }
  }
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }  // closing the descriptor releases the flock
  } unlock{lock_fd};
  TargetState state = load_state(state_dir);
  if (job == "backup") state.backup = attempt;
  if (job == "restore_test") state.restore_test = attempt;
  if (job == "offsite") state.offsite = attempt;
  if (job == "verify") {
    state.verify = attempt;
    if (attempt.success) state.verify_last_success = attempt.finished_at;
  }
  save_state(state_dir, state);
}

}  // namespace pgbackup
