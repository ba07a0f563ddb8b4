// The companion file: written 0600, read back identical, checked against the manifest.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "agent/catalog/globals_file.h"
#include "agent/core/file_io.h"
#include "tests/support/temp_dir.h"

using namespace pgbackup;
using pgbackup::testing::TempDir;

namespace {

ClusterGlobals sample() {
  ClusterGlobals g;
  RoleInfo r;
  r.name = "app";
  r.login = true;
  r.password = "SCRAM-SHA-256$4096:x$y:z";
  r.has_password = true;
  r.valid_until = "2030-01-01T00:00:00Z";
  r.settings = {"work_mem=8MB"};
  g.roles = {r};
  g.memberships = {{"readonly", "app", true}};
  g.database.name = "pnodepulse";
  g.database.owner = "app";
  g.database.encoding = "UTF8";
  g.database.collate = g.database.ctype = "C";
  g.database.locale_provider = "libc";
  g.database.acl = std::vector<std::string>{"=Tc/app"};
  g.database.tablespace = "pg_default";
  g.passwords_included = true;
  return g;
}

}  // namespace

TEST_CASE("the companion file round-trips, is private and matches what the manifest lists") {
  const TempDir dir("globals");
  const fs::path path = dir.path() / "x.dump.globals";
  const GlobalsFileInfo info = write_globals_file(path, sample());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(info.file == "x.dump.globals");
  CHECK(info.roles == std::vector<std::string>{"app"});
  CHECK(info.passwords_included);
  CHECK(globals_file_problem(path, info).empty());
  const ClusterGlobals back = read_globals_file(path, info);
  CHECK(back.roles == sample().roles);
  CHECK(back.memberships == sample().memberships);
  CHECK(back.database.acl == sample().database.acl);

  // The manifest's part never holds a verifier.
  Manifest m;
  m.globals = info;
  CHECK(manifest_to_json(m).dump().find("SCRAM") == std::string::npos);

  // Changed, cut or missing: each is named.
  write_file_atomic(path, read_file(path) + " ", fs::perms::owner_read | fs::perms::owner_write);
  CHECK_THAT(globals_file_problem(path, info), Catch::Contains("bytes, the manifest says"));
  std::string text = read_file(path);
  text.pop_back();
  text[text.find("app")] = 'b';
  write_file_atomic(path, text, fs::perms::owner_read | fs::perms::owner_write);
  CHECK_THAT(globals_file_problem(path, info), Catch::Contains("SHA-256"));
  CHECK_THROWS_WITH(read_globals_file(path, info), Catch::Contains("onto a new server"));
  fs::remove(path);
  CHECK_THAT(globals_file_problem(path, info), Catch::Contains("is missing"));
}

TEST_CASE("a companion file of another format is refused") {
  CHECK_THROWS_WITH(globals_from_json(nlohmann::json::parse(R"({"format":"other"})")),
                    Catch::Contains("pgbackup-globals/1"));
  CHECK_THROWS_WITH(
      globals_from_json(nlohmann::json::parse(R"({"format":"pgbackup-globals/1","database":{}})")),
      Catch::Contains("malformed"));
}

TEST_CASE("a companion file that is a symbolic link is refused, even to a matching copy") {
  const TempDir dir("globals");
  const fs::path outside = dir.path() / "outside.globals";
  const GlobalsFileInfo info = write_globals_file(outside, sample());
  const fs::path backups = dir.path() / "backups";
  fs::create_directory(backups);
  const fs::path link = backups / "x.dump.globals";
  fs::create_symlink(outside, link);
  CHECK_THAT(globals_file_problem(link, info),
             Catch::Contains("cannot be read") && Catch::Contains("a symbolic link"));
  CHECK_THROWS_WITH(read_globals_text(link, info), Catch::Contains("a symbolic link"));
  CHECK_THROWS_WITH(read_globals_file(link, info), Catch::Contains("a symbolic link"));
  // The real file, in place of the link, is the same text.
  fs::remove(link);
  fs::copy_file(outside, link);
  CHECK(read_globals_text(link, info) == read_file(outside));
}
