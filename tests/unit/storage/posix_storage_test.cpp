// The backup directory's rule (agent/storage/posix_storage.h): only regular files directly in it,
// owned by the agent's user, are read or deleted; a file that vanishes is simply not there.
#include "agent/storage/posix_storage.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include "agent/core/errors.h"
#include "agent/core/file_io.h"
#include "tests/support/temp_dir.h"

using namespace pgbackup;

TEST_CASE("a plain file name has no directory part") {
  for (const char* ok : {"pnode_20260101_020000.dump", "x.dump.json", ".pgbackup", "..x", "a b"}) {
    INFO(ok);
    CHECK(is_plain_file_name(ok));
  }
  for (const char* bad : {"", ".", "..", "../x.dump", "/etc/passwd", "sub/x", "x/", "/"}) {
    INFO(bad);
    CHECK_FALSE(is_plain_file_name(bad));
  }
  CHECK_FALSE(is_plain_file_name(std::string("x.dump\0/../y", 12)));
}

TEST_CASE(
    "only a regular file of the agent's user is read; root also trusts the directory's owner") {
  const EntryFacts mine{S_IFREG | 0600, 1000, ""};
  CHECK(refusal_reason(mine, 1000, 1000).empty());
  CHECK_THAT(refusal_reason({S_IFREG | 0600, 1001, ""}, 1000, 1000),
             Catch::Contains("owned by") && Catch::Contains("uid 1001") &&
                 Catch::Contains("not by the agent's user"));
  // sudo pgbackup-agent ... on the pgbackup user's directory.
  CHECK(refusal_reason({S_IFREG | 0600, 998, ""}, 0, 998).empty());
  CHECK(refusal_reason({S_IFREG | 0600, 0, ""}, 0, 998).empty());
  CHECK_FALSE(refusal_reason({S_IFREG | 0600, 1001, ""}, 0, 998).empty());
  CHECK_THAT(refusal_reason({S_IFLNK | 0777, 1000, "/etc/passwd"}, 1000, 1000),
             Catch::Contains("a symbolic link to /etc/passwd"));
  CHECK_THAT(refusal_reason({S_IFDIR | 0700, 1000, ""}, 1000, 1000),
             Catch::Contains("not a regular file"));
  CHECK_THAT(refusal_reason({S_IFIFO | 0600, 1000, ""}, 1000, 1000),
             Catch::Contains("not a regular file"));
}

TEST_CASE(
    "a posix storage lists links and other entries as refused, and never reads through them") {
  const testing::TempDir temp;
  const fs::path dir = temp.path() / "backups";
  create_private_dir(dir);
  const fs::path outside = temp.path() / "outside.json";
  write_file_atomic(outside, "secret", fs::perms::owner_read | fs::perms::owner_write);
  write_file_atomic(dir / "a.dump.json", "{}", fs::perms::owner_read | fs::perms::owner_write);
  fs::create_symlink(outside, dir / "b.dump.json");
  fs::create_directory(dir / "c.dump");
  REQUIRE(::mkfifo((dir / "d.dump.json").c_str(), 0600) == 0);

  PosixStorage storage(dir);
  std::map<std::string, std::string> refused;
  for (const LocalFile& f : storage.entries()) refused[f.name] = f.refused;
  REQUIRE(refused.size() == 4);
  CHECK(refused["a.dump.json"].empty());
  CHECK_THAT(refused["b.dump.json"], Catch::Contains("a symbolic link to " + outside.string()));
  CHECK_THAT(refused["c.dump"], Catch::Contains("not a regular file"));
  CHECK_THAT(refused["d.dump.json"], Catch::Contains("not a regular file"));
  const std::vector<StoredFile> listed = storage.list();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].name == "a.dump.json");

  CHECK(storage.read("a.dump.json") == "{}");
  CHECK_THROWS_WITH(storage.read("b.dump.json"), Catch::Contains("a symbolic link"));
  // A FIFO would block a plain open() forever; here it is refused at once.
  CHECK_THROWS_WITH(storage.read("d.dump.json"), Catch::Contains("not a regular file"));
  CHECK_THROWS_WITH(storage.read("../outside.json"), Catch::Contains("not a file name directly"));
  CHECK_FALSE(storage.read_if_present("vanished.dump.json"));
  CHECK_THROWS_AS(storage.read("vanished.dump.json"), OperationError);

  CHECK_THROWS_WITH(storage.remove("b.dump.json"), Catch::Contains("refusing to delete"));
  CHECK_THROWS_WITH(storage.remove("../outside.json"), Catch::Contains("not a file name directly"));
  CHECK(fs::is_symlink(dir / "b.dump.json"));
  CHECK(read_file(outside) == "secret");
  CHECK_NOTHROW(storage.remove("vanished.dump"));
  storage.remove("a.dump.json");
  CHECK_FALSE(fs::exists(dir / "a.dump.json"));
}

TEST_CASE("a file of another user is listed as refused and neither read nor deleted") {
  if (::geteuid() != 0) {
    WARN("not root: cannot chown a file to another user; the case is not checked");
    return;
  }
  const testing::TempDir temp;
  const fs::path dir = temp.path();
  write_file_atomic(dir / "x.dump.json", "{}", fs::perms::owner_read | fs::perms::owner_write);
  REQUIRE(::chown((dir / "x.dump.json").c_str(), 65534, 65534) == 0);
  PosixStorage storage(dir);
  CHECK(storage.list().empty());
  CHECK_THROWS_WITH(storage.read("x.dump.json"), Catch::Contains("uid 65534"));
  CHECK_THROWS_WITH(storage.remove("x.dump.json"), Catch::Contains("refusing to delete"));
  CHECK(fs::exists(dir / "x.dump.json"));
}
