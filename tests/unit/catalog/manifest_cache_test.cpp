#include "agent/catalog/manifest_cache.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include "agent/core/file_io.h"
#include "agent/engines/pg_dump/dump_catalog.h"

using namespace pgbackup;

namespace {

fs::path make_temp_dir() {
  std::string pattern = (fs::temp_directory_path() / "pgbackup-cache-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

// A dump and its manifest with a one-table fingerprint and one schema change.
void write_backup(const fs::path& dir, const std::string& name, std::int64_t rows) {
  write_file_atomic(dir / name, "PGDMP", fs::perms::owner_read | fs::perms::owner_write);
  Manifest m;
  m.target = "shop";
  m.file = name;
  m.tables = {{"public", "orders", rows}};
  m.schema = SchemaFingerprint{};
  m.schema->tables = {{"public.orders", {{"id", "integer", true}}, {}, {}}};
  m.schema_compared_with = "shop_20260101_020000.dump";
  m.schema_changes = {{SchemaChangeType::dropped, "view", "public.v", ""}};
  write_file_atomic(dir / (name + kManifestSuffix), manifest_to_json(m).dump(2),
                    fs::perms::owner_read | fs::perms::owner_write);
}

}  // namespace

TEST_CASE(
    "the manifest cache parses a manifest again only when it changed, and forgets "
    "deleted backups") {
  const fs::path dir = make_temp_dir();
  write_backup(dir, "shop_20260201_020000.dump", 10);
  write_backup(dir, "shop_20260202_020000.dump", 20);
  const DumpCatalog repo(dir, "shop");
  ManifestCache cache;

  std::vector<CatalogEntry> first = repo.scan(&cache);
  REQUIRE(first.size() == 2);
  REQUIRE(first[1].good());
  CHECK(cache.size() == 2);
  // Without the fingerprint's contents, with the changes.
  REQUIRE(first[1].manifest->schema);
  CHECK(first[1].manifest->schema->tables.empty());
  CHECK(first[1].manifest->schema_changes.size() == 1);
  CHECK(repo.scan()[1].manifest->schema->tables.size() == 1);  // an uncached scan has it all

  // A rewritten manifest (another size) is read again.
  write_backup(dir, "shop_20260202_020000.dump", 123456);
  CHECK(repo.scan(&cache)[1].manifest->tables[0].rows == 123456);

  fs::remove(dir / "shop_20260201_020000.dump");
  fs::remove(dir / "shop_20260201_020000.dump.json");
  CHECK(repo.scan(&cache).size() == 1);
  CHECK(cache.size() == 1);

  // A manifest that became unreadable is reported, not served from the cache.
  write_file_atomic(dir / "shop_20260202_020000.dump.json", "{not json",
                    fs::perms::owner_read | fs::perms::owner_write);
  const std::vector<CatalogEntry> broken = repo.scan(&cache);
  REQUIRE(broken.size() == 1);
  CHECK_FALSE(broken[0].good());
  CHECK_THAT(broken[0].manifest_error, Catch::Contains("unreadable manifest"));
  fs::remove_all(dir);
}
