#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
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

// Two children run as `producer | consumer` without a shell: the agent relays the producer's
// stdout into the consumer's stdin (`pg_dump | age -o partial`), showing each chunk to `tap`
// first (to hash the plaintext as it passes).
struct PipelineResult {
  ProcessResult producer;  // default (exit_code -1) when it was stopped because of the consumer
  ProcessResult consumer;  // its stdout: consumer.on_stdout, or collected into consumer.out
  // The consumer exited before reading everything: the producer was stopped.
  bool consumer_gone = false;

  bool ok() const { return !consumer_gone && producer.ok() && consumer.ok(); }
};

// Runs the pipeline to completion. The producer's cancel flag and timeout govern it; the
// consumer keeps its own timeout, is stopped (never sees the end of its input) when the
// producer fails, and the producer is stopped when the consumer exits early. An exception
// from `tap` or from consumer.on_stdout stops both and is rethrown.
PipelineResult run_pipeline(const ProcessSpec& producer, const ProcessSpec& consumer,
                            const std::function<void(const char*, std::size_t)>& tap = {});

// A child whose stdin the caller writes as the data comes, collected stdout (a tee's second
// reader: `pg_restore --list` of the plaintext while age encrypts it). Its spec's stdin_data
// and on_stdout are not used; its timeout and cancel flag are.
class FedProcess {
 public:
  explicit FedProcess(const ProcessSpec& spec);  // starts it; throws ProcessError
  ~FedProcess();                                 // stops and reaps it unless finished
  FedProcess(const FedProcess&) = delete;
  FedProcess& operator=(const FedProcess&) = delete;

  // Passes `data` to its stdin. Once it has stopped reading (it exited: pg_restore --list reads
  // the archive's table of contents only), returns false and drops the rest.
  bool write(const char* data, std::size_t size);
  // Closes its stdin and waits for it to end.
  ProcessResult finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// "pg_dump exited with status 1: pg_dump: error: connection ... failed" — the program, how it
// ended and the tail of its stderr, for error messages.
std::string describe_failure(const ProcessSpec& spec, const ProcessResult& result);
// The failure of a pipeline, the child that caused it first: the producer when it failed on
// its own, else the consumer.
std::string describe_failure(const ProcessSpec& producer, const ProcessSpec& consumer,
                             const PipelineResult& result);

}  // namespace pgbackup
