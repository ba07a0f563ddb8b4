// sd_notify without libsystemd, and telling whether stderr is the journal.
#include "agent/core/systemd.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/support/notify_socket.h"

using namespace pgbackup;

using pgtest::NotifySocket;

TEST_CASE("without NOTIFY_SOCKET notifying systemd does nothing and says so") {
  ::unsetenv("NOTIFY_SOCKET");
  CHECK_FALSE(notify_systemd("READY=1"));
  ::setenv("NOTIFY_SOCKET", "", 1);
  CHECK_FALSE(notify_systemd("READY=1"));
  ::setenv("NOTIFY_SOCKET", "relative/path", 1);
  CHECK_FALSE(notify_systemd("READY=1"));
  ::unsetenv("NOTIFY_SOCKET");
}

TEST_CASE("a notification arrives as one datagram on a path socket") {
  const auto path = std::filesystem::temp_directory_path() /
                    ("pgbackup-notify-" + std::to_string(::getpid()) + ".sock");
  std::filesystem::remove(path);
  const NotifySocket socket(path.string());
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  CHECK(notify_systemd("READY=1"));
  CHECK(socket.receive() == "READY=1");
  CHECK(notify_systemd("STOPPING=1"));
  CHECK(socket.receive() == "STOPPING=1");
  ::unsetenv("NOTIFY_SOCKET");
  std::filesystem::remove(path);
}

TEST_CASE("a notification reaches an abstract socket named with @") {
  const std::string name = "@pgbackup-notify-test-" + std::to_string(::getpid());
  const NotifySocket socket(name);
  ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
  CHECK(notify_systemd("READY=1"));
  CHECK(socket.receive() == "READY=1");
  ::unsetenv("NOTIFY_SOCKET");
}

TEST_CASE("the reloading state carries the monotonic time systemd asks for") {
  const std::string state = systemd_reloading_state();
  REQUIRE(state.rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0);
  const std::string usec = state.substr(state.find('=', 12) + 1);
  CHECK(!usec.empty());
  CHECK(usec.find_first_not_of("0123456789") == std::string::npos);
  CHECK(std::stoll(usec) > 0);
}

TEST_CASE("JOURNAL_STREAM matches only the very file it names") {
  CHECK(journal_stream_matches("8:1234", 8, 1234));
  CHECK(journal_stream_matches("64769:98765432", 64769, 98765432));
  CHECK_FALSE(journal_stream_matches(nullptr, 8, 1234));
  CHECK_FALSE(journal_stream_matches("", 8, 1234));
  CHECK_FALSE(journal_stream_matches("8:1235", 8, 1234));
  CHECK_FALSE(journal_stream_matches("9:1234", 8, 1234));
  CHECK_FALSE(journal_stream_matches("8:1234x", 8, 1234));
  CHECK_FALSE(journal_stream_matches("8", 8, 1234));
  CHECK_FALSE(journal_stream_matches(":1234", 8, 1234));
  CHECK_FALSE(journal_stream_matches("8:", 8, 1234));
}

TEST_CASE("stderr is the journal only when JOURNAL_STREAM names stderr itself") {
  struct stat st {};
  REQUIRE(::fstat(STDERR_FILENO, &st) == 0);
  const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  ::setenv("JOURNAL_STREAM", mine.c_str(), 1);
  CHECK(stderr_is_journal());
  // Inherited by a child whose stderr went elsewhere.
  const std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
  ::setenv("JOURNAL_STREAM", other.c_str(), 1);
  CHECK_FALSE(stderr_is_journal());
  ::unsetenv("JOURNAL_STREAM");
  CHECK_FALSE(stderr_is_journal());
}
