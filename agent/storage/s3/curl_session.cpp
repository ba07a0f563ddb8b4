#include "agent/storage/s3/curl_session.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "agent/core/errors.h"

namespace pgbackup {
namespace {

// curl_global_init is not thread-safe; run it once before any handle exists.
void init_curl_once() {
  static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  if (!done) throw OperationError("cannot initialise libcurl");
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) s.pop_back();
  const auto first = s.find_first_not_of(' ');
  return first == std::string::npos ? "" : s.substr(first);
}

size_t read_body(char* buffer, size_t size, size_t count, void* user) {
  auto* body = static_cast<BodySource*>(user);
  const std::size_t n = static_cast<std::size_t>(
      std::min<std::uint64_t>(size * count, body->length - body->position));
  if (n == 0) return 0;
  try {
    if (body->memory) {
      std::memcpy(buffer, body->memory + body->position, n);
    } else {
      body->file->read_at(buffer, n, body->offset + body->position);
    }
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return CURL_READFUNC_ABORT;
  }
  body->position += n;
  return n;
}

int seek_body(void* user, curl_off_t offset, int origin) {
  auto* body = static_cast<BodySource*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::uint64_t>(offset) > body->length) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  body->position = static_cast<std::uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

// What the header and body callbacks fill in.
struct Transfer {
  CurlResponse* response;
  CURL* curl;
  const Fd* download_to;
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  CurlResponse* r = static_cast<Transfer*>(user)->response;
  const std::string line(data, size * count);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    r->headers[lower(line.substr(0, colon))] = trim(line.substr(colon + 1));
  } else if (line.rfind("HTTP/", 0) == 0) {
    r->headers.clear();  // a new response (after 100 Continue)
  }
  return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  CurlResponse* r = t->response;
  const std::size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (t->download_to && status / 100 == 2) {
    // At an explicit offset: a retry after a broken transfer truncates the file but does not
    // move the descriptor's offset, and a plain write() would leave a hole of zeros.
    for (std::size_t done = 0; done < n;) {
      const ssize_t w = ::pwrite(t->download_to->get(), data + done, n - done,
                                 static_cast<off_t>(r->downloaded + done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return std::size_t{0};  // a write error (disk full) aborts the transfer
      done += static_cast<std::size_t>(w);
    }
    r->downloaded += n;
  } else if (r->body.size() < (64u << 20)) {
    r->body.append(data, n);
  }
  return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(user)->load() ? 1 : 0;
}

void set_method(CURL* curl, const CurlRequest& request, BodySource& body) {
  if (request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body.length));
  } else if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.length));
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(curl, CURLOPT_READDATA, &body);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, seek_body);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &body);
  }
}

}  // namespace

Fd::Fd(const std::filesystem::path& path, int flags, const char* doing) : path_(path) {
  fd_ = ::open(path.c_str(), flags | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    throw OperationError(std::string("cannot ") + doing + " " + path.string() + ": " +
                         std::strerror(errno));
  }
}

Fd::~Fd() { ::close(fd_); }

void Fd::read_at(char* buffer, std::size_t size, std::uint64_t offset) const {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd_, buffer + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw OperationError("cannot read " + path_.string() + ": " +
                           (n == 0 ? "it shrank while being uploaded" : std::strerror(errno)));
    }
    done += static_cast<std::size_t>(n);
  }
}

CurlSession::CurlSession() {
  init_curl_once();
  curl_ = curl_easy_init();
  if (curl_ == nullptr) throw OperationError("cannot create a libcurl handle");
}

CurlSession::~CurlSession() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

CurlResponse CurlSession::perform(const CurlRequest& request) {
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);  // keeps the connection cache
  CurlResponse response;
  Transfer transfer{&response, curl, request.download_to};
  BodySource body = request.body;
  body.position = 0;
  if (request.download_to && ::ftruncate(request.download_to->get(), 0) != 0) {
    throw OperationError(std::string("cannot truncate the download file: ") + std::strerror(errno));
  }
  char error_detail[CURL_ERROR_SIZE] = "";  // libcurl's own words: "Operation too slow ..."
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_detail);
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT,
                   static_cast<long>(request.connect_timeout.count()));
  // A stalled transfer is a network error (the client retries it).
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(request.stall_timeout.count()));
  curl_slist* headers = nullptr;
  for (const std::string& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  set_method(curl, request, body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  if (request.cancel) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, request.cancel);
  }
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    response.network_error = error_detail[0] != '\0' ? error_detail : curl_easy_strerror(rc);
    response.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    response.status = 0;
    return response;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace pgbackup
