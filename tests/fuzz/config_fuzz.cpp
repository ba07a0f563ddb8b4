// The config loader: any YAML text parses or throws ConfigError (a message naming the key and
// line); a config that parses also renders (config-check).
#include "agent/config/config.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const pgbackup::Config config =
        pgbackup::parse_config(pgbackup::fuzz::text_of(data, size), "fuzz.yaml");
    (void)pgbackup::render_config(config);
  } catch (const pgbackup::ConfigError&) {
  }
  return 0;
}
