#include "agent/core/process_set.h"

#include <exception>
#include <thread>

namespace pgbackup {

std::vector<ProcessResult> run_processes(const std::vector<ProcessSpec>& specs) {
  std::vector<ProcessResult> results(specs.size());
  std::vector<std::exception_ptr> errors(specs.size());
  std::vector<std::thread> threads;
  threads.reserve(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    // run_process is safe on several threads at once: each child's pipes are O_CLOEXEC (no
    // child inherits another's), and each thread waits for its own pid only.
    threads.emplace_back([&, i] {
      try {
        results[i] = run_process(specs[i]);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  return results;
}

}  // namespace pgbackup
