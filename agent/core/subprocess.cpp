#include "agent/core/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <map>
#include <thread>
#include <utility>

#include "agent/core/clock.h"
#include "agent/core/file_io.h"

extern char** environ;

namespace pgbackup {
namespace {

constexpr std::size_t kMaxCaptured = 64 * 1024 * 1024;
constexpr std::size_t kMaxStderr = 64 * 1024;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

void make_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw ProcessError(std::string("cannot create a pipe: ") + std::strerror(errno));
  }
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
}

std::vector<std::string> build_environment(const ProcessSpec& spec) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; *e; ++e) {
    const std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string::npos) vars[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : spec.env) vars[k] = v;
  std::vector<std::string> out;
  out.reserve(vars.size());
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Stops the child's whole process group: SIGTERM, then SIGKILL if it lingers.
void terminate_group(pid_t pid) {
  ::kill(-pid, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
  }
  ::kill(-pid, SIGKILL);
}

// A started child: its process group leader and the parent's ends of its pipes.
struct Child {
  pid_t pid = -1;
  Fd out;  // its stdout
  Fd err;  // its stderr
  Fd in;   // its stdin, when the spec has stdin_data
};

// Forks and execs spec.argv (no shell) in a process group of its own, with the spec's
// environment on top of ours; its stdin is `stdin_fd` when given (a pipeline's pipe). Throws
// ProcessError when it cannot start, with errno's reason.
Child spawn(const ProcessSpec& spec, int stdin_fd = -1) {
  std::vector<std::string> argv_strings = spec.argv;
  std::vector<std::string> env_strings = build_environment(spec);
  std::vector<char*> argv = c_strings(argv_strings);
  std::vector<char*> envp = c_strings(env_strings);
  const std::string& program = spec.argv.front();

  Child child;
  Fd out_w, err_w, exec_r, exec_w, in_r;
  make_pipe(child.out, out_w);
  make_pipe(child.err, err_w);
  make_pipe(exec_r, exec_w);
  if (!spec.stdin_data.empty()) make_pipe(in_r, child.in);

  const pid_t pid = ::fork();
  if (pid < 0) throw ProcessError("cannot start " + program + ": " + std::strerror(errno));
  if (pid == 0) {
    // Child: only async-signal-safe calls from here on.
    ::setpgid(0, 0);
    int in_fd = stdin_fd >= 0     ? stdin_fd
                : in_r.get() >= 0 ? in_r.get()
                                  : ::open("/dev/null", O_RDONLY);
    ::dup2(in_fd, 0);
    ::dup2(out_w.get(), 1);
    ::dup2(err_w.get(), 2);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGXFSZ, SIG_DFL);
    sigset_t none;  // the agent blocks SIGTERM & co. for its sigwait thread; the child must not
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execvpe(argv[0], argv.data(), envp.data());
    const int e = errno;
    [[maybe_unused]] ssize_t n = ::write(exec_w.get(), &e, sizeof e);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also in the parent, so a kill right away reaches the group
  child.pid = pid;
  exec_w.reset();  // the child's copy stays open until exec closes it (O_CLOEXEC)

  int exec_errno = 0;
  if (::read(exec_r.get(), &exec_errno, sizeof exec_errno) == sizeof exec_errno) {
    ::waitpid(pid, nullptr, 0);
    throw ProcessError("cannot run " + program + ": " + std::strerror(exec_errno) +
                       (exec_errno == ENOENT ? " (hint: is it installed and on PATH?)" : ""));
  }
  return child;
}

// Small inputs only (SQL scripts; passwords are never sent this way): writes, then closes.
void feed_stdin(Fd& in, const std::string& data) {
  if (in.get() < 0) return;
  ::signal(SIGPIPE, SIG_IGN);
  write_all(in.get(), data);  // a child that stops reading ends it: its exit status tells why
  in.reset();
}

// Whether the spec's deadline passed or its cancel flag is set; records which in `result`.
bool must_stop(const ProcessSpec& spec, SteadyTime deadline, ProcessResult& result) {
  if (spec.timeout.count() > 0 && std::chrono::steady_clock::now() >= deadline) {
    result.timed_out = true;
  } else if (spec.cancel && spec.cancel->load()) {
    result.cancelled = true;
  }
  return result.timed_out || result.cancelled;
}

// Keeps stderr's tail: as it comes, or line by line through spec.on_stderr_line (`pending`
// holds a line not ended yet; `at_end` passes on the last one).
void keep_stderr(const ProcessSpec& spec, std::string_view data, std::string& pending, bool at_end,
                 ProcessResult& result) {
  if (!spec.on_stderr_line) {
    result.err.append(data);
  } else {
    pending.append(data);
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      const std::string_view line(pending.data() + start, nl - start);
      if (spec.on_stderr_line(line)) result.err.append(line).append("\n");
    }
    pending.erase(0, start);
    if (at_end && !pending.empty()) {
      if (spec.on_stderr_line(pending)) result.err.append(pending);
      pending.clear();
    }
  }
  if (result.err.size() > 2 * kMaxStderr) result.err.erase(0, result.err.size() - kMaxStderr);
}

// Reads the child's stdout (into spec.on_stdout, or captured) and stderr (its tail kept) until
// both close, the deadline passes or the job is cancelled. Returns what on_stdout or
// on_stderr_line threw, if one did (a full disk): the caller stops the child and rethrows it.
std::exception_ptr pump_output(const ProcessSpec& spec, Child& child, SteadyTime deadline,
                               ProcessResult& result) {
  std::vector<char> buffer(256 * 1024);
  std::string pending_err;
  bool out_open = true, err_open = true;
  while ((out_open || err_open) && !must_stop(spec, deadline, result)) {
    pollfd fds[2] = {{out_open ? child.out.get() : -1, POLLIN, 0},
                     {err_open ? child.err.get() : -1, POLLIN, 0}};
    const int ready = ::poll(fds, 2, 100);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    if (fds[0].revents) {
      const ssize_t n = ::read(child.out.get(), buffer.data(), buffer.size());
      if (n <= 0) {
        out_open = false;
      } else if (spec.on_stdout) {
        try {
          spec.on_stdout(buffer.data(), static_cast<std::size_t>(n));
        } catch (...) {
          return std::current_exception();
        }
      } else if (result.out.size() < kMaxCaptured) {
        result.out.append(buffer.data(), static_cast<std::size_t>(n));
      }
    }
    if (fds[1].revents) {
      const ssize_t n = ::read(child.err.get(), buffer.data(), buffer.size());
      if (n <= 0) err_open = false;
      try {
        keep_stderr(spec, {buffer.data(), n > 0 ? static_cast<std::size_t>(n) : 0}, pending_err,
                    !err_open, result);
      } catch (...) {
        return std::current_exception();
      }
    }
  }
  return nullptr;
}

// Reaps the child (stopping its group first when `stop`). A child can close its stdout and
// stderr and go on running (a stop_command that redirects its output and hangs): the deadline
// and the cancel flag must still hold while we wait for its exit, so this polls instead of
// blocking in waitpid.
void wait_for_exit(const ProcessSpec& spec, pid_t pid, bool stop, SteadyTime deadline,
                   ProcessResult& result) {
  if (stop) terminate_group(pid);
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, stop ? 0 : WNOHANG);
    if (r == pid) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: nothing left to wait for
    }
    if (!must_stop(spec, deadline, result)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    terminate_group(pid);  // ends in SIGKILL: the blocking wait that follows returns
    stop = true;
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
}

// Feeds, pumps and reaps a started child; rethrows what on_stdout threw.
ProcessResult finish(const ProcessSpec& spec, Child& child) {
  feed_stdin(child.in, spec.stdin_data);
  ProcessResult result;
  // The real monotonic clock, not the injected one: this deadline races a real child process
  // and poll(), which a test clock cannot speed up, and no test wants a fake timeout here (the
  // subprocess tests use real, short ones).
  const SteadyTime deadline = std::chrono::steady_clock::now() + spec.timeout;
  const std::exception_ptr sink_error = pump_output(spec, child, deadline, result);
  wait_for_exit(spec, child.pid, result.timed_out || result.cancelled || sink_error, deadline,
                result);
  if (result.err.size() > kMaxStderr) result.err.erase(0, result.err.size() - kMaxStderr);
  if (sink_error) std::rethrow_exception(sink_error);
  return result;
}

// Thrown by the relay when the consumer closed its stdin (it exited): stops the producer.
struct ConsumerGone {};

}  // namespace

ProcessResult run_process(const ProcessSpec& spec) {
  if (spec.argv.empty()) throw ProcessError("no program to run");
  Child child = spawn(spec);
  return finish(spec, child);
}

PipelineResult run_pipeline(const ProcessSpec& producer, const ProcessSpec& consumer,
                            const std::function<void(const char*, std::size_t)>& tap) {
  if (producer.argv.empty() || consumer.argv.empty()) throw ProcessError("no program to run");
  Fd read_end, write_end;
  make_pipe(read_end, write_end);
  std::atomic<bool> stop_consumer{false};
  ProcessSpec sink_spec = consumer;
  sink_spec.cancel = &stop_consumer;
  sink_spec.stdin_data.clear();
  Child sink = spawn(sink_spec, read_end.get());
  read_end.reset();  // the consumer holds it now: its exit breaks the pipe

  PipelineResult out;
  std::exception_ptr sink_error;
  std::thread pump([&] {
    try {
      out.consumer = finish(sink_spec, sink);
    } catch (...) {
      sink_error = std::current_exception();
    }
  });
  ::signal(SIGPIPE, SIG_IGN);  // a consumer that exits early is an EPIPE, not our death
  ProcessSpec source_spec = producer;
  source_spec.on_stdout = [&](const char* data, std::size_t size) {
    if (tap) tap(data, size);
    if (!write_all(write_end.get(), {data, size})) throw ConsumerGone{};
  };
  std::exception_ptr source_error;
  try {
    out.producer = run_process(source_spec);
  } catch (const ConsumerGone&) {
    out.consumer_gone = true;
  } catch (...) {
    source_error = std::current_exception();
  }
  // A producer that failed must not look like a complete input: the consumer is stopped (by
  // its cancel flag, as run_process stops any child) and reaped while the pipe is still open,
  // so it never reads the end of its stdin, which age would take for the end of the dump.
  if (source_error || (!out.consumer_gone && !out.producer.ok())) {
    stop_consumer = true;
    pump.join();
    write_end.reset();
  } else {
    write_end.reset();
    pump.join();
  }
  if (stop_consumer) out.consumer.cancelled = true;  // its pipes may have closed first
  if (source_error) std::rethrow_exception(source_error);
  if (sink_error) std::rethrow_exception(sink_error);
  return out;
}

struct FedProcess::State {
  ProcessSpec spec;
  std::atomic<bool> stop{false};
  Fd write_end;
  std::thread pump;
  ProcessResult result;
  std::exception_ptr error;
  bool reading = true;
};

FedProcess::FedProcess(const ProcessSpec& spec) : state_(std::make_unique<State>()) {
  if (spec.argv.empty()) throw ProcessError("no program to run");
  State& s = *state_;
  s.spec = spec;
  s.spec.stdin_data.clear();
  s.spec.on_stdout = nullptr;
  if (!s.spec.cancel) s.spec.cancel = &s.stop;
  Fd read_end;
  make_pipe(read_end, s.write_end);
  ::signal(SIGPIPE, SIG_IGN);  // a reader that exits early is an EPIPE, not our death
  auto child = std::make_shared<Child>(spawn(s.spec, read_end.get()));
  read_end.reset();  // the child holds it now: its exit breaks the pipe
  s.pump = std::thread([&s, child] {
    try {
      s.result = pgbackup::finish(s.spec, *child);
    } catch (...) {
      s.error = std::current_exception();
    }
  });
}

FedProcess::~FedProcess() {
  if (!state_->pump.joinable()) return;
  state_->stop = true;        // stops it when the spec had no cancel flag of its own
  state_->write_end.reset();  // else the end of its input ends it
  state_->pump.join();
}

bool FedProcess::write(const char* data, std::size_t size) {
  if (state_->reading && !write_all(state_->write_end.get(), {data, size})) {
    state_->reading = false;
  }
  return state_->reading;
}

ProcessResult FedProcess::finish() {
  state_->write_end.reset();
  state_->pump.join();
  if (state_->error) std::rethrow_exception(state_->error);
  return state_->result;
}

std::string describe_failure(const ProcessSpec& producer, const ProcessSpec& consumer,
                             const PipelineResult& result) {
  if (!result.consumer_gone && !result.producer.ok())
    return describe_failure(producer, result.producer);
  if (!result.consumer.ok()) return describe_failure(consumer, result.consumer);
  std::string program = consumer.argv.front();
  return program.substr(program.rfind('/') + 1) + " stopped reading its input before the end";
}

std::string describe_failure(const ProcessSpec& spec, const ProcessResult& result) {
  std::string program = spec.argv.empty() ? "process" : spec.argv.front();
  program = program.substr(program.rfind('/') + 1);  // "pg_dump", not its directory
  std::string how;
  if (result.timed_out) {
    how = program + " did not finish within " + std::to_string(spec.timeout.count() / 1000) +
          "s and was stopped";
  } else if (result.cancelled) {
    how = program + " was stopped because the agent is shutting down";
  } else if (result.term_signal != 0) {
    how = program + " was killed by signal " + std::to_string(result.term_signal) + " (" +
          strsignal(result.term_signal) + ")";
  } else {
    how = program + " exited with status " + std::to_string(result.exit_code);
  }
  std::string err = result.err;
  while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
  if (!err.empty()) how += ": " + err;
  return how;
}

}  // namespace pgbackup
