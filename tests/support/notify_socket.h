#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <string>

namespace pgtest {

// A bound unix datagram socket standing in for systemd's notification socket ($NOTIFY_SOCKET).
class NotifySocket {
 public:
  // `address`: a path, or "@name" for the abstract namespace.
  explicit NotifySocket(const std::string& address) : address_(address) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    REQUIRE(address.size() < sizeof a.sun_path);
    std::memcpy(a.sun_path, address.data(), address.size());
    if (address[0] == '@') a.sun_path[0] = '\0';
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
    REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&a), len) == 0);
  }
  ~NotifySocket() {
    ::close(fd_);
    if (address_[0] == '/') ::unlink(address_.c_str());
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // The next datagram, or "" when none arrived within `timeout`.
  std::string receive(std::chrono::seconds timeout = std::chrono::seconds(2)) const {
    timeval tv{static_cast<time_t>(timeout.count()), 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  }

 private:
  std::string address_;
  int fd_ = -1;
};

}  // namespace pgtest
