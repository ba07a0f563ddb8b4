// `pgbackrest info --output=json`: any input parses or throws InfoParseError, never anything
// else, and what parses holds together.
#include <string>

#include "agent/engines/pgbackrest/info.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using pgbackup::fuzz::require;
  const std::string text = pgbackup::fuzz::text_of(data, size);
  try {
    const auto stanzas = pgbackup::pgbackrest::parse_info(text);
    for (const auto& s : stanzas) {
      for (const auto& b : s.backups) {
        require(s.backup(b.label) != nullptr, "every backup is found by its label");
      }
      if (!s.databases.empty()) require(s.current_database() != nullptr, "a current database");
      require(pgbackup::pgbackrest::parse_stanza_info(text, s.name).name == s.name,
              "a parsed stanza is found by its name");
    }
  } catch (const pgbackup::pgbackrest::InfoParseError&) {
  }
  return 0;
}
