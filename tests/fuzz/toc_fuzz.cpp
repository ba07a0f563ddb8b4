// The pg_restore --list parser and the text selections built on it (partial restore,
// TimescaleDB stages, --clean statements): plain text in, never an exception.
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "agent/engines/pg_dump/toc.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using pgbackup::fuzz::require;
  const std::string text = pgbackup::fuzz::text_of(data, size);
  const pgbackup::TocSummary toc = pgbackup::parse_toc_list(text);
  require(toc.entries >= 0 && static_cast<std::size_t>(toc.entries) <= size,
          "at most one entry per byte");
  std::vector<pgbackup::TableRows> tables;
  for (const auto& [schema, name] : toc.table_data) {
    pgbackup::TableRows t;
    t.schema = schema;
    t.name = name;
    tables.push_back(t);
  }
  const auto related = pgbackup::objects_of_tables(text, tables);
  const std::string selected = pgbackup::select_toc_entries(text, tables, related);
  require(selected.size() <= text.size() + 1, "a selection is no longer than the list");
  (void)pgbackup::tables_missing_data(toc, tables);
  (void)pgbackup::split_timescaledb_stages(text, text);
  (void)pgbackup::drop_statements(text);
  return 0;
}
