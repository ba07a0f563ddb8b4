// The state.json reader: never throws; whatever it cannot use is dropped.
#include "agent/catalog/job_state.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)pgbackup::parse_state(pgbackup::fuzz::text_of(data, size));
  return 0;
}
