#pragma once

// Where the tests find the sources and the agent binary of this build. Force-included into
// every test file (tests/CMakeLists.txt); only build_paths.cpp carries the paths themselves, so
// that a second checkout of the same sources compiles to the same objects (ccache, scripts/build).
namespace pgbackup::test {
const char* source_dir();
const char* agent_binary();
}  // namespace pgbackup::test

#define PGBACKUP_SOURCE_DIR (::pgbackup::test::source_dir())
#define PGBACKUP_AGENT_BINARY (::pgbackup::test::agent_binary())
