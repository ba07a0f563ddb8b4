#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace pgtest {

struct AgentRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the real pgbackup-agent binary with `args` and extra environment; waits for it.
// `file_size_limit` > 0 runs it under that RLIMIT_FSIZE (bytes), a stand-in for a full disk.
AgentRun run_agent(const std::vector<std::string>& args,
                   const std::vector<std::pair<std::string, std::string>>& env = {},
                   const std::string& stdin_data = "", long file_size_limit = 0);

// Runs the real binary as a person at a terminal would: its stderr on a pseudo-terminal of
// `columns` columns (AgentRun::err is what it wrote there, "\n" as the terminal's "\r\n"), its
// stdout a pipe, its stdin /dev/null. Waits for it (at most 5 minutes).
AgentRun run_agent_on_terminal(const std::vector<std::string>& args,
                               const std::vector<std::pair<std::string, std::string>>& env = {},
                               unsigned short columns = 100);

// Writes a file (creating directories).
void write_text(const std::filesystem::path& path, const std::string& text);
std::string read_text_file(const std::filesystem::path& path);
// Waits for child `pid` to exit: its exit status (128 + signal when killed), or -1 when it still
// runs after `timeout`. Sets `pid` to 0 once reaped.
int wait_for_exit(pid_t& pid, std::chrono::seconds timeout);
// Changes the byte in the middle of `path` (XOR, so it always differs): a corrupt dump.
void flip_middle_byte(const std::filesystem::path& path);

}  // namespace pgtest

namespace pgtest {

// The pid of a running process whose command line contains every one of `needles`, or 0.
int find_process(const std::vector<std::string>& needles);

struct HttpReply {
  long status = 0;  // 0: no connection
  std::string body;
};

// GET with libcurl (2 s timeout). HTTPS certificates are not verified (tests use self-signed
// ones); user:password in the URL does basic auth.
HttpReply http_get(const std::string& url);

}  // namespace pgtest
