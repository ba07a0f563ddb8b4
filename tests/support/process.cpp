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
