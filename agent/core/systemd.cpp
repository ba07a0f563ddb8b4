#include "agent/core/systemd.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace pgbackup {

bool notify_systemd(std::string_view state) {
  const char* socket_name = std::getenv("NOTIFY_SOCKET");
  if (socket_name == nullptr || socket_name[0] == '\0') return false;
  const std::string_view name(socket_name);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if ((name[0] != '/' && name[0] != '@') || name.size() >= sizeof address.sun_path) return false;
  std::memcpy(address.sun_path, name.data(), name.size());
  // "@name" is a socket in the abstract namespace: its address starts with a NUL byte and has
  // no terminating one, so the length counts exactly the name.
  if (name[0] == '@') address.sun_path[0] = '\0';
  const auto length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + (name[0] == '/'));
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ssize_t sent;
  do {
    sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&address), length);
  } while (sent < 0 && errno == EINTR);
  ::close(fd);
  return sent == static_cast<ssize_t>(state.size());
}

std::string systemd_reloading_state() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const long long usec = static_cast<long long>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
  return "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec);
}

bool journal_stream_matches(const char* journal_stream, dev_t dev, ino_t ino) {
  if (journal_stream == nullptr) return false;
  const std::string_view text(journal_stream);
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  unsigned long long want_dev = 0, want_ino = 0;
  const char* end = text.data() + text.size();
  const auto d = std::from_chars(text.data(), text.data() + colon, want_dev);
  const auto i = std::from_chars(text.data() + colon + 1, end, want_ino);
  if (d.ec != std::errc{} || d.ptr != text.data() + colon || i.ec != std::errc{} || i.ptr != end ||
      colon == 0 || colon + 1 == text.size()) {
    return false;
  }
  return want_dev == static_cast<unsigned long long>(dev) &&
         want_ino == static_cast<unsigned long long>(ino);
}

bool stderr_is_journal() {
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return journal_stream_matches(std::getenv("JOURNAL_STREAM"), st.st_dev, st.st_ino);
}

}  // namespace pgbackup
