// The catalogue's scan of a backup directory (engines/pg_dump/dump_catalog.h) under the backup
// directory's rule (storage/posix_storage.h): a backup is good only when every file of it may be
// read.
#include "agent/engines/pg_dump/dump_catalog.h"

#include <catch2/catch.hpp>

#include "agent/core/file_io.h"
#include "agent/core/timeutil.h"
#include "tests/support/temp_dir.h"

using namespace pgbackup;

namespace {

constexpr fs::perms kPrivate = fs::perms::owner_read | fs::perms::owner_write;

// A dump, its manifest and a companion file that the manifest lists, in `dir`.
void write_backup(const fs::path& dir, const std::string& name) {
  write_file_atomic(dir / name, "PGDMP", kPrivate);
  Manifest m;
  m.target = "shop";
  m.file = name;
  m.started_at = *parse_iso8601("2026-02-01T02:00:00Z");
  m.finished_at = m.started_at;
  m.globals = GlobalsFileInfo{name + kGlobalsSuffix, 2, "00", {}, false, {}, 0};
  write_file_atomic(dir / (name + kGlobalsSuffix), "{}", kPrivate);
  write_file_atomic(dir / (name + kManifestSuffix), manifest_to_json(m).dump(2), kPrivate);
}

}  // namespace

TEST_CASE("a backup whose companion file is a symbolic link is listed but is not good") {
  const testing::TempDir temp;
  const fs::path dir = temp.path() / "backups";
  create_private_dir(dir);
  write_backup(dir, "shop_20260201_020000.dump");
  write_backup(dir, "shop_20260202_020000.dump");
  const fs::path companion = dir / "shop_20260202_020000.dump.globals";
  const fs::path outside = temp.path() / "elsewhere.globals";
  fs::rename(companion, outside);
  fs::create_symlink(outside, companion);

  const DumpCatalog repo(dir, "shop");
  const std::vector<CatalogEntry> entries = repo.scan();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].good());
  CHECK_FALSE(entries[1].good());
  CHECK_THAT(entries[1].manifest_error,
             Catch::Contains("companion file not read: a symbolic link to " + outside.string()));
  CHECK(newest_good(entries) == &entries[0]);

  // A missing companion file is not a refusal: verify reports it (engines/pg_dump/dump_verify.cpp).
  fs::remove(companion);
  CHECK(repo.scan()[1].good());
}

TEST_CASE("encrypted and plaintext dumps are listed together; a partial of either is not") {
  const testing::TempDir temp;
  const fs::path dir = temp.path() / "backups";
  create_private_dir(dir);
  write_backup(dir, "shop_20260201_020000.dump");
  write_file_atomic(dir / "shop_20260202_020000.dump.age", "age-encryption.org/v1\n", kPrivate);
  write_file_atomic(dir / "shop_20260203_020000.dump.age.partial", "age", kPrivate);
  write_file_atomic(dir / "shop_20260203_020000.dump.age.decrypted.partial", "PGDMP", kPrivate);

  const DumpCatalog repo(dir, "shop");
  CHECK(repo.dump_path(*parse_iso8601("2026-02-04T02:00:00Z"), true).filename() ==
        "shop_20260204_020000.dump.age");
  CHECK(repo.parse_dump_name("shop_20260202_020000.dump.age") ==
        parse_iso8601("2026-02-02T02:00:00Z"));
  CHECK_FALSE(repo.parse_dump_name("shop_20260202_020000.dump.age.partial"));
  const std::vector<CatalogEntry> entries = repo.scan();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].good());
  CHECK(entries[1].name() == "shop_20260202_020000.dump.age");
  CHECK_THAT(entries[1].manifest_error, Catch::Contains("no manifest"));
  CHECK(repo.remove_partials().size() == 2);
}
