#include "tests/support/build_paths.h"

namespace pgbackup::test {

const char* source_dir() { return PGBACKUP_BUILD_SOURCE_DIR; }
const char* agent_binary() { return PGBACKUP_BUILD_AGENT_BINARY; }

}  // namespace pgbackup::test
