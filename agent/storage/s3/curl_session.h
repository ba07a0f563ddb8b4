#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace pgbackup {

// A file descriptor closed when it goes out of scope.
class Fd {
 public:
  // Opens `path` (created 0600 with O_CREAT); throws OperationError "cannot <doing> <path>".
  Fd(const std::filesystem::path& path, int flags, const char* doing);
  ~Fd();
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

  // Reads exactly `size` bytes at `offset` (the file must not shrink meanwhile).
  void read_at(char* buffer, std::size_t size, std::uint64_t offset) const;

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

// What a request sends: nothing, a string, or a region of a file streamed with pread.
struct BodySource {
  const char* memory = nullptr;
  const Fd* file = nullptr;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::uint64_t position = 0;
};

// One HTTP exchange, signed already.
struct CurlRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  BodySource body;                   // PUT and POST
  const Fd* download_to = nullptr;   // GET: the body goes there when the answer is 2xx
  std::chrono::seconds connect_timeout{10};
  // A transfer that moves under 1 KiB/s for this long (a stalled connection, or a server that
  // takes the body and never answers) is abandoned as a network error.
  std::chrono::seconds stall_timeout{60};
  const std::atomic<bool>* cancel = nullptr;  // set by another thread to stop the transfer
};

struct CurlResponse {
  long status = 0;                             // 0: no answer (see network_error)
  std::string network_error;                   // why no answer came
  bool timed_out = false;                      // no answer: the connect or stall timeout
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;                            // the body (or the error body of a download)
  std::uint64_t downloaded = 0;

  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A libcurl easy handle, kept so connections are reused. One per thread.
class CurlSession {
 public:
  CurlSession();
  ~CurlSession();
  CurlSession(const CurlSession&) = delete;
  CurlSession& operator=(const CurlSession&) = delete;

  // Sends `request` once. A transfer slower than its stall_timeout allows is a network error.
  CurlResponse perform(const CurlRequest& request);

 private:
  void* curl_;  // CURL*
};

}  // namespace pgbackup
