#pragma once

// Shared by the libFuzzer targets (scripts/fuzz builds and runs them): each parses one input
// with an existing entry point and lets only the documented error through. Any other exception
// escapes LLVMFuzzerTestOneInput, which aborts: libFuzzer reports it as a crash, like a sanitizer
// finding.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace pgbackup::fuzz {

inline std::string text_of(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// A property that must hold for every input; a violation is reported as a crash.
inline void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz property violated: %s\n", what);
    std::abort();
  }
}

}  // namespace pgbackup::fuzz
