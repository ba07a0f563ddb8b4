#include "tests/support/s3_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/pg_cluster.h"
#include "tests/support/process.h"

namespace pgtest {

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, const fs::path& log) {
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::setpgid(0, 0);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
}

BackgroundProcess::~BackgroundProcess() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(-pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

bool BackgroundProcess::running() const {
  return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0;
}

namespace {

// Polls until `url` answers anything over HTTP.
void wait_until_listening(const std::string& url, const BackgroundProcess& process,
                          const fs::path& log) {
  for (int i = 0; i < 300; ++i) {
    if (http_get(url).status != 0) return;
    if (!process.running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("test S3 server did not start: " + read_text_file(log));
}

// A throwaway self-signed certificate (cert.pem, key.pem in `dir`) for the host name
// "localhost", valid for two days.
void make_localhost_certificate(const fs::path& dir) {
  pgbackup::ProcessSpec spec;
  spec.argv = {"openssl",  "req",
               "-x509",    "-newkey",
               "rsa:2048", "-nodes",
               "-days",    "2",
               "-subj",    "/CN=localhost",
               "-addext",  "subjectAltName=DNS:localhost",
               "-keyout",  (dir / "key.pem").string(),
               "-out",     (dir / "cert.pem").string()};
  spec.timeout = std::chrono::seconds(30);
  const auto made = pgbackup::run_process(spec);
  if (!made.ok()) throw std::runtime_error("openssl req failed: " + made.err);
}

}  // namespace

S3Server::S3Server(const S3ServerOptions& options) {
  root_ = make_temp_dir("s3");
  s3rver_port_ = free_port();
  proxy_port_ = free_port();
  tls_ = options.tls;
  const std::string source = PGBACKUP_SOURCE_DIR;
  // Without --openssl-legacy-provider s3rver answers paginated listings with 500 on Node 18+.
  std::vector<std::string> s3rver = {"node",
                                     "--openssl-legacy-provider",
                                     source + "/node_modules/s3rver/bin/s3rver.js",
                                     "-d",
                                     (root_ / "data").string(),
                                     "-a",
                                     "127.0.0.1",
                                     "-p",
                                     std::to_string(s3rver_port_),
                                     "--configure-bucket",
                                     kBucket};
  if (tls_) {
    make_localhost_certificate(root_);
    s3rver.insert(s3rver.end(),
                  {"--key", (root_ / "key.pem").string(), "--cert", ca_file().string()});
  }
  s3rver_ = std::make_unique<BackgroundProcess>(s3rver, root_ / "s3rver.log");
  wait_until_listening(direct_endpoint(), *s3rver_, root_ / "s3rver.log");
  if (tls_) return;
  // Debian's python has botocore (python3-botocore); a python earlier on PATH may not.
  std::vector<std::string> proxy = {"/usr/bin/python3",
                                    source + "/tests/s3/sigv4_proxy.py",
                                    "--port",
                                    std::to_string(proxy_port_),
                                    "--upstream",
                                    std::to_string(s3rver_port_),
                                    "--access-key",
                                    kAccessKey,
                                    "--secret-key",
                                    kSecretKey,
                                    "--log",
                                    (root_ / "requests.jsonl").string(),
                                    "--fail-next",
                                    std::to_string(options.fail_next),
                                    "--fail-status",
                                    std::to_string(options.fail_status),
                                    "--stall-file",
                                    (root_ / "stall-parts").string(),
                                    "--cut-puts",
                                    std::to_string(options.cut_puts),
                                    "--cut-gets",
                                    std::to_string(options.cut_gets),
                                    "--wrong-head-sizes",
                                    std::to_string(options.wrong_head_sizes),
                                    "--stall-puts",
                                    std::to_string(options.stall_puts),
                                    "--stall-gets",
                                    std::to_string(options.stall_gets)};
  for (const std::string& c : options.deny_storage_classes) {
    proxy.push_back("--deny-storage-class");
    proxy.push_back(c);
  }
  proxy_ = std::make_unique<BackgroundProcess>(proxy, root_ / "proxy.log");
  // Readiness probe: the proxy's log line, since any request would consume --fail-next.
  for (int i = 0;
       i < 300 && read_text_file(root_ / "proxy.log").find("listening") == std::string::npos; ++i) {
    if (!proxy_->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (read_text_file(root_ / "proxy.log").find("listening") == std::string::npos) {
    throw std::runtime_error("sigv4_proxy.py did not start: " +
                             read_text_file(root_ / "proxy.log"));
  }
}

S3Server::~S3Server() = default;

std::string S3Server::endpoint() const { return "http://127.0.0.1:" + std::to_string(proxy_port_); }

std::string S3Server::direct_endpoint() const {
  if (tls_) return "https://localhost:" + std::to_string(s3rver_port_);
  return "http://127.0.0.1:" + std::to_string(s3rver_port_);
}

std::vector<nlohmann::json> S3Server::requests() const {
  std::vector<nlohmann::json> out;
  std::istringstream in(read_text_file(root_ / "requests.jsonl"));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

void S3Server::stall_upload_parts() const { write_text(root_ / "stall-parts", ""); }

void S3Server::release_upload_parts() const { fs::remove(root_ / "stall-parts"); }

std::vector<std::pair<std::string, std::string>> S3Server::key_env(
    const std::string& secret) const {
  return {{"AWS_ACCESS_KEY_ID", kAccessKey}, {"AWS_SECRET_ACCESS_KEY", secret}};
}

pgbackup::S3Config S3Server::config(const std::string& prefix) const {
  pgbackup::S3Config c;
  c.endpoint = endpoint();
  c.bucket = kBucket;
  c.prefix = prefix;
  c.path_style = true;
  c.multipart_threshold = 5ull << 20;
  c.part_size = 5ull << 20;
  for (const char* tier : {"daily", "weekly", "monthly"}) c.storage_class[tier] = "STANDARD";
  return c;
}

std::string S3Server::offsite_yaml(const std::string& prefix, const std::string& extra) const {
  return "    offsite:\n      s3:\n        endpoint: \"" + endpoint() +
         "\"\n        bucket: " + kBucket + "\n        prefix: \"" + prefix +
         "\"\n        path_style: true\n        multipart_threshold: 5MiB\n"
         "        part_size: 5MiB\n" +
         extra;
}

}  // namespace pgtest
