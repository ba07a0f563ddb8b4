#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/pg_cluster.h"
#include "tests/support/process.h"

namespace pgtest {

// `pgbackup-agent run` as a child process of the test, so signals can be sent to it. It gets
// the test database's password (and whatever else the test process's environment holds).
class Daemon {
 public:
  // `env`: extra environment variables for the daemon.
  Daemon(const fs::path& config, int port, const std::string& web_config = "",
         const std::string& scheme = "http",
         const std::vector<std::pair<std::string, std::string>>& env = {})
      : port_(port), scheme_(scheme) {
    const std::string binary = PGBACKUP_AGENT_BINARY;
    const std::string cfg = config.string();
    const std::string listen = "127.0.0.1:" + std::to_string(port);
    log_ = config.parent_path() / "daemon.log";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setenv("PGTEST_PASSWORD", PgCluster::kPassword, 1);
      for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      if (web_config.empty()) {
        ::execl(binary.c_str(), binary.c_str(), "--config", cfg.c_str(), "run",
                "--web.listen-address", listen.c_str(), static_cast<char*>(nullptr));
      } else {
        ::execl(binary.c_str(), binary.c_str(), "--config", cfg.c_str(), "run",
                "--web.listen-address", listen.c_str(), "--web.config.file", web_config.c_str(),
                static_cast<char*>(nullptr));
      }
      ::_exit(127);
    }
  }
  ~Daemon() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  std::string url(const std::string& path, const std::string& userinfo = "") const {
    return scheme_ + "://" + (userinfo.empty() ? "" : userinfo + "@") +
           "127.0.0.1:" + std::to_string(port_) + path;
  }
  // Polls /metrics until `pattern` matches (or fails the test after `timeout`).
  std::string wait_for_metric(const std::string& pattern,
                              std::chrono::seconds timeout = std::chrono::seconds(60)) const {
    const std::regex re(pattern);
    std::string body;
    for (auto end = std::chrono::steady_clock::now() + timeout;
         std::chrono::steady_clock::now() < end;) {
      body = http_get(url("/metrics")).body;
      if (std::regex_search(body, re)) return body;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    FAIL("metric " << pattern << " never appeared; last scrape:\n" << body << "\nlog:\n" << log());
    return body;
  }
  void signal(int sig) const { ::kill(pid_, sig); }
  // Waits for the exit; returns the exit status, or -1 after `timeout`.
  int wait_exit(std::chrono::seconds timeout) { return wait_for_exit(pid_, timeout); }
  std::string log() const { return read_text_file(log_); }

 private:
  int port_;
  std::string scheme_;
  pid_t pid_ = -1;
  fs::path log_;
};

}  // namespace pgtest
