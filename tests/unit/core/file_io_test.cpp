#include "agent/core/file_io.h"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "tests/support/temp_dir.h"

using namespace pgbackup;

TEST_CASE("write_file_atomic applies the mode and replaces the file whole") {
  const testing::TempDir temp;
  const fs::path& dir = temp.path();
  const fs::path file = dir / "f.json";
  write_file_atomic(file, "one\n",
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  write_file_atomic(file, "two\n",
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  CHECK(read_file(file) == "two\n");
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
}
