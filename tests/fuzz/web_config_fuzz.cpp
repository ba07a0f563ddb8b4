// The web config (--web.config.file): any YAML text parses or throws std::invalid_argument naming
// the key and line. Relative certificate paths resolve against a folder that does not exist.
#include <stdexcept>

#include "agent/web/web_config.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)pgbackup::parse_web_config(pgbackup::fuzz::text_of(data, size),
                                     "/nonexistent/pgbackup-fuzz");
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
