#pragma once

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
AgentRun run_agent(const std::vector<std::string>& args,
                   const std::vector<std::pair<std::string, std::string>>& env = {},
                   const std::string& stdin_data = "");

// Writes a file (creating directories).
void write_text(const std::filesystem::path& path, const std::string& text);
std::string read_text_file(const std::filesystem::path& path);

}  // namespace pgtest
