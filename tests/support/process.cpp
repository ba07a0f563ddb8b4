#include "tests/support/process.h"

#include <fstream>
#include <sstream>

#include "agent/subprocess.h"

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

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace pgtest
