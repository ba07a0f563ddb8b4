#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgbackup {

// One child process: an argv vector (never a shell), extra environment, an optional timeout.
struct ProcessSpec {
  std::vector<std::string> argv;
  // Added to (or replacing entries of) the agent's own environment. Secrets such as
  // PGPASSWORD travel only this way, never in argv.
  std::vector<std::pair<std::string, std::string>> env;
  std::chrono::milliseconds timeout{0};  // 0: no limit
  // Set by another thread (e.g. on SIGTERM) to stop the child early.
  const std::atomic<bool>* cancel = nullptr;
  // Receives stdout as it arrives; when empty, stdout is collected into ProcessResult::out.
  std::function<void(const char* data, std::size_t size)> on_stdout;
  // Receives each line of stderr (without its newline) as it arrives; a line for which it
  // returns false is left out of ProcessResult::err (progress chatter that would push the error
  // out of the kept tail). Without it, stderr is kept as it comes.
  std::function<bool(std::string_view line)> on_stderr_line;
  // Data written to the child's stdin (then closed); stdin is /dev/null when empty.
  std::string stdin_data;
};

struct ProcessResult {
  int exit_code = -1;   // valid when exited normally
  int term_signal = 0;  // non-zero when killed by a signal
  bool timed_out = false;
  bool cancelled = false;
  std::string out;  // stdout, when no on_stdout was given (bounded)
  std::string err;  // the last 64 KiB of stderr

  bool ok() const { return term_signal == 0 && exit_code == 0 && !timed_out && !cancelled; }
};

// A child that could not be started, or a failure thrown by on_stdout after the child was
// stopped. Its message names the program.
class ProcessError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs the child to completion, streaming its output. Kills its process group on timeout,
// cancellation or an exception from on_stdout (which is then rethrown).
ProcessResult run_process(const ProcessSpec& spec);

// "pg_dump exited with status 1: pg_dump: error: connection ... failed" — the program, how it
// ended and the tail of its stderr, for error messages.
std::string describe_failure(const ProcessSpec& spec, const ProcessResult& result);

}  // namespace pgbackup
