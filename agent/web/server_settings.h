#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/web/basic_auth.h"
#include "agent/web/tls_context.h"
#include "agent/web/web_config.h"

namespace pgbackup {

// What the HTTP server serves with, built from one web config. Immutable; requests and
// connections hold the one they started with while a newer one takes over.
struct ServerSettings {
  WebConfig config;
  std::shared_ptr<const TlsMaterial> tls;  // null: plain HTTP
  std::shared_ptr<BasicAuth> basic_auth;   // null: no authentication
};

// Builds the settings of `config` (PEM fields filled); basic auth runs its bcrypt comparisons
// under `bcrypt_gate`. Adds a warning per user whose bcrypt cost makes logins slow (timed here
// at a cheap cost). Throws std::invalid_argument when the certificate or key cannot be used.
std::shared_ptr<const ServerSettings> build_server_settings(
    WebConfig config, std::shared_ptr<std::mutex> bcrypt_gate);

// The identity and state of a file: a change to any of them means it was rewritten.
struct FileStamp {
  std::filesystem::path path;
  bool exists = false;
  long long mtime_ns = 0;
  long long ctime_ns = 0;
  unsigned long long inode = 0;
  long long size = 0;
  bool operator==(const FileStamp&) const = default;
};

// The web config file and the files it names, re-read when one of them changes, like the
// exporter-toolkit does, so that certificates rotate without a restart.
class WebConfigFile {
 public:
  // Loads `path`. Throws std::invalid_argument naming the file and what is wrong.
  explicit WebConfigFile(std::filesystem::path path);
  // Settings that never change (no file).
  explicit WebConfigFile(WebConfig fixed);

  // The settings to serve with now. When the file or one it names changed since the last
  // call, it is read again; a new file that fails keeps the settings in use, and the reason
  // is logged once per change. TLS cannot be turned on or off (the listeners stay as they
  // are).
  std::shared_ptr<const ServerSettings> current();

  // The message of the last failed reload, "" when the settings in use are the newest.
  std::string last_error() const;

 private:
  std::vector<FileStamp> stamps(const std::optional<WebConfig>& config) const;

  std::optional<std::filesystem::path> path_;
  // One bcrypt comparison at a time, whichever version of the file the request was served with.
  const std::shared_ptr<std::mutex> bcrypt_gate_ = std::make_shared<std::mutex>();
  mutable std::mutex mu_;
  std::shared_ptr<const ServerSettings> settings_;
  std::vector<FileStamp> seen_;
  std::string last_error_;
};

}  // namespace pgbackup
