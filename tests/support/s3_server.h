#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "agent/config/config.h"

namespace pgtest {

namespace fs = std::filesystem;

// A child process running in the background until destroyed (SIGTERM, then SIGKILL).
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const fs::path& log);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  bool running() const;

 private:
  int pid_ = -1;
};

// An S3 for one test: s3rver (which accepts any signature) behind tests/s3/sigv4_proxy.py,
// which checks every request's SigV4 signature with botocore and the keys below. Random ports;
// the bucket exists; everything is removed when it goes away.
struct S3ServerOptions {
  std::vector<std::string> deny_storage_classes = {};  // answered AccessDenied
  int fail_next = 0;                                   // the first N requests get 503 SlowDown
  int fail_status = 503;                               // or 500 InternalError
  // The connection is cut halfway through the body of the next N PUTs / GETs of a .dump key.
  int cut_puts = 0;
  int cut_gets = 0;
  // The next N HEADs that find a .dump key report it one byte short.
  int wrong_head_sizes = 0;
  // The next N PUTs of a .dump key are read and never answered; the next N GETs stop halfway
  // through the body. Either connection then hangs for 30 s (longer than the tests'
  // offsite.s3.stall_timeout).
  int stall_puts = 0;
  int stall_gets = 0;
  // s3rver serves HTTPS itself (--key/--cert) with a throwaway self-signed certificate for the
  // host name "localhost" (ca_file()), and no proxy stands in front of it: what pgBackRest 2.45
  // talks to (it speaks only HTTPS and ignores IP SANs). The options above need the proxy.
  bool tls = false;
};

class S3Server {
 public:
  static constexpr const char* kAccessKey = "S3RVER";  // the only key id s3rver knows
  static constexpr const char* kSecretKey = "pgtest-secret-key";
  static constexpr const char* kBucket = "pgtest-bucket";

  explicit S3Server(const S3ServerOptions& options = {});
  ~S3Server();

  // The proxy's URL: what the agent under test talks to.
  std::string endpoint() const;
  // s3rver's own URL (no signature check), for the benchmark; https://localhost:PORT with tls.
  std::string direct_endpoint() const;
  int direct_port() const { return s3rver_port_; }
  // With tls: the certificate s3rver presents, which is its own CA.
  fs::path ca_file() const { return root_ / "cert.pem"; }
  // The directory holding the bucket's objects: key a/b/c is a/b/c._S3rver_object under it.
  fs::path bucket_dir() const { return root_ / "data" / kBucket; }
  static constexpr const char* kObjectSuffix = "._S3rver_object";
  // The requests the proxy saw so far, one JSON object each: method, path, query, headers.
  std::vector<nlohmann::json> requests() const;
  // While stalled, the proxy logs each UploadPart request, then holds it unanswered.
  void stall_upload_parts() const;
  void release_upload_parts() const;
  // The environment the agent needs for the keys (`secret` replaces the right one).
  std::vector<std::pair<std::string, std::string>> key_env(
      const std::string& secret = kSecretKey) const;
  // An offsite.s3 config for this server (path style; the tests' small part sizes).
  pgbackup::S3Config config(const std::string& prefix) const;
  // The offsite: YAML block for a target (indented for TestTarget's extra_yaml).
  std::string offsite_yaml(const std::string& prefix, const std::string& extra = "") const;

 private:
  fs::path root_;
  int s3rver_port_ = 0;
  int proxy_port_ = 0;
  bool tls_ = false;
  std::unique_ptr<BackgroundProcess> s3rver_;
  std::unique_ptr<BackgroundProcess> proxy_;
};

}  // namespace pgtest
