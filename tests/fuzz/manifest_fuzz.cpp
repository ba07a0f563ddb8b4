// The manifest reader: any JSON document reads as a Manifest or throws std::runtime_error naming
// the field (what DumpCatalog::scan shows as "unreadable manifest"); a manifest that reads writes
// back to JSON that reads again to the same file name and checksum.
#include <nlohmann/json.hpp>

#include <stdexcept>

#include "agent/catalog/manifest.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using pgbackup::fuzz::require;
  const nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;
  pgbackup::Manifest m;
  try {
    m = pgbackup::manifest_from_json(j);
  } catch (const std::runtime_error&) {
    return 0;
  }
  const pgbackup::Manifest again = pgbackup::manifest_from_json(pgbackup::manifest_to_json(m));
  require(again.file == m.file && again.sha256 == m.sha256, "a manifest round-trips");
  require(!m.globals || (again.globals && again.globals->file == m.globals->file),
          "a companion file round-trips");
  (void)pgbackup::manifest_mismatch(m, m.file);
  return 0;
}
