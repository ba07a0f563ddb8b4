#include "agent/web/civetweb_connection.h"

#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace pgbackup {
namespace {

// Where the request info sits in CivetWeb's connection object, -1 until learned. A member's
// offset is the same for every connection of the library loaded: learned once per process.
std::atomic<std::ptrdiff_t> g_request_info_offset{-1};

int on_probe_request(mg_connection* conn) {
  auto* offset = static_cast<std::atomic<std::ptrdiff_t>*>(mg_get_user_data(mg_get_context(conn)));
  if (const mg_request_info* info = mg_get_request_info(conn); info != nullptr) {
    offset->store(reinterpret_cast<const char*>(info) - reinterpret_cast<const char*>(conn));
  }
  mg_printf(conn, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
  return 204;  // handled
}

// Sends one request to 127.0.0.1:`port` and reads until the server closes (at most 5 s).
void send_probe_request(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  const timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0) {
    constexpr char kRequest[] = "GET / HTTP/1.0\r\n\r\n";
    if (::send(fd, kRequest, sizeof(kRequest) - 1, MSG_NOSIGNAL) > 0) {
      char buffer[256];
      while (::recv(fd, buffer, sizeof(buffer), 0) > 0) {
      }
    }
  }
  ::close(fd);
}

int port_of(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  }
  return -1;
}

// True when `fd` is a TCP socket from `remote_address`:`remote_port` to local `local_port`.
bool connects(int fd, const std::string& remote_address, int remote_port, int local_port) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  sockaddr_storage peer{};
  socklen_t length = sizeof(peer);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) return false;
  if (port_of(peer) != remote_port) return false;
  sockaddr_storage local{};
  socklen_t local_length = sizeof(local);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_length) != 0 ||
      port_of(local) != local_port) {
    return false;
  }
  char host[NI_MAXHOST] = {};
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&peer), length, host, sizeof(host), nullptr, 0,
                    NI_NUMERICHOST) != 0) {
    return false;
  }
  return remote_address == host;
}

}  // namespace

bool learn_connection_layout() {
  if (g_request_info_offset.load() >= 0) return true;
  // CivetWeb 1.15 fills a connection's addresses when a worker takes it, but
  // mg_get_request_info() answers only once a request was read, and no callback before that
  // gets the socket. So the offset is learned from one request to a throwaway server.
  std::atomic<std::ptrdiff_t> offset{-1};
  mg_callbacks callbacks{};
  callbacks.begin_request = &on_probe_request;
  callbacks.log_message = [](const mg_connection*, const char*) { return 1; };
  const char* options[] = {"listening_ports", "127.0.0.1:0", "num_threads", "1", nullptr};
  mg_context* ctx = mg_start(&callbacks, &offset, options);
  if (ctx == nullptr) return false;
  mg_server_port port{};
  if (mg_get_server_ports(ctx, 1, &port) == 1) send_probe_request(port.port);
  mg_stop(ctx);
  if (offset.load() < 0) return false;
  g_request_info_offset.store(offset.load());
  return true;
}

const mg_request_info* connection_info(const mg_connection* conn) {
  const std::ptrdiff_t offset = g_request_info_offset.load();
  if (conn == nullptr || offset < 0) return nullptr;
  return reinterpret_cast<const mg_request_info*>(reinterpret_cast<const char*>(conn) + offset);
}

bool shut_down_client_socket(const std::string& remote_address, int remote_port, int local_port) {
  // No CivetWeb callback before the request is read gets the socket, only the connection's
  // addresses and ports: the socket is found among this process's descriptors (a few hundred
  // at most, and only for a connection that is refused).
  struct CloseDir {
    void operator()(DIR* dir) const { ::closedir(dir); }
  };
  const std::unique_ptr<DIR, CloseDir> fds(::opendir("/proc/self/fd"));
  if (!fds) return false;
  const int own = ::dirfd(fds.get());
  while (const dirent* entry = ::readdir(fds.get())) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == own) continue;
    if (connects(static_cast<int>(fd), remote_address, remote_port, local_port)) {
      return ::shutdown(static_cast<int>(fd), SHUT_RDWR) == 0;
    }
  }
  return false;
}

}  // namespace pgbackup
