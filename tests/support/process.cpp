#include "tests/support/process.h"

#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "agent/core/subprocess.h"

namespace pgtest {

AgentRun run_agent(const std::vector<std::string>& args,
                   const std::vector<std::pair<std::string, std::string>>& env,
                   const std::string& stdin_data, long file_size_limit) {
  pgbackup::ProcessSpec spec;
  if (file_size_limit > 0)
    spec.argv = {"prlimit", "--fsize=" + std::to_string(file_size_limit), "--"};
  spec.argv.push_back(PGBACKUP_AGENT_BINARY);
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = env;
  spec.stdin_data = stdin_data;
  spec.timeout = std::chrono::minutes(5);
  const pgbackup::ProcessResult r = pgbackup::run_process(spec);
  return {r.term_signal ? 128 + r.term_signal : r.exit_code, r.out, r.err};
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

int wait_for_exit(pid_t& pid, std::chrono::seconds timeout) {
  // Looks at least once, so that a zero timeout asks "has it exited?" without waiting.
  for (auto end = std::chrono::steady_clock::now() + timeout;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      pid = 0;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() >= end) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void flip_middle_byte(const std::filesystem::path& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  const auto middle = static_cast<std::streamoff>(std::filesystem::file_size(path) / 2);
  f.seekg(middle);
  const char c = static_cast<char>(f.get());
  f.seekp(middle);
  f.put(static_cast<char>(c ^ 0x5a));
  if (!f) throw std::runtime_error("cannot change a byte of " + path.string());
}

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace pgtest

#include <curl/curl.h>

namespace pgtest {

int find_process(const std::vector<std::string>& needles) {
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = read_text_file(e.path() / "cmdline");
    for (char& c : cmd) {
      if (c == '\0') c = ' ';
    }
    bool all = !cmd.empty();
    for (const std::string& n : needles) all = all && cmd.find(n) != std::string::npos;
    if (all) return std::stoi(name);
  }
  return 0;
}

HttpReply http_get(const std::string& url) {
  HttpReply reply;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 2000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* p, size_t s, size_t n, void* out) {
        static_cast<std::string*>(out)->append(p, s * n);
        return s * n;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  }
  curl_easy_cleanup(curl);
  return reply;
}

}  // namespace pgtest

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <unistd.h>

namespace pgtest {
namespace {

// The child's side: stdin /dev/null, stdout the pipe, stderr the terminal, then the agent.
[[noreturn]] void exec_on_terminal(const std::vector<std::string>& argv,
                                   const std::vector<std::pair<std::string, std::string>>& env,
                                   int out, int terminal) {
  const int null = ::open("/dev/null", O_RDONLY);
  ::dup2(null, 0);
  ::dup2(out, 1);
  ::dup2(terminal, 2);
  for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  ::_exit(127);
}

}  // namespace

AgentRun run_agent_on_terminal(const std::vector<std::string>& args,
                               const std::vector<std::pair<std::string, std::string>>& env,
                               unsigned short columns) {
  int master = -1, terminal = -1;
  winsize size{};
  size.ws_col = columns;
  size.ws_row = 40;
  if (::openpty(&master, &terminal, nullptr, nullptr, &size) != 0) {
    throw std::runtime_error("openpty failed");
  }
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  std::vector<std::string> argv = {PGBACKUP_AGENT_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(master);
    exec_on_terminal(argv, env, out[1], terminal);
  }
  ::close(terminal);
  ::close(out[1]);
  AgentRun run;
  // The terminal reads EIO once every process that had it as stderr has exited.
  bool out_open = true, terminal_open = true;
  const auto end = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  char buffer[4096];
  while ((out_open || terminal_open) && std::chrono::steady_clock::now() < end) {
    pollfd fds[2] = {{out_open ? out[0] : -1, POLLIN, 0}, {terminal_open ? master : -1, POLLIN, 0}};
    if (::poll(fds, 2, 100) <= 0) continue;
    if (fds[0].revents) {
      const ssize_t n = ::read(out[0], buffer, sizeof buffer);
      if (n <= 0) out_open = false;
      if (n > 0) run.out.append(buffer, static_cast<std::size_t>(n));
    }
    if (fds[1].revents) {
      const ssize_t n = ::read(master, buffer, sizeof buffer);
      if (n <= 0) terminal_open = false;
      if (n > 0) run.err.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(out[0]);
  ::close(master);
  run.exit_code = wait_for_exit(pid, std::chrono::seconds(10));
  if (run.exit_code < 0) {  // it closed both and hangs, or outlived the 5 minutes
    ::kill(pid, SIGKILL);
    run.exit_code = wait_for_exit(pid, std::chrono::seconds(10));
  }
  return run;
}

}  // namespace pgtest
