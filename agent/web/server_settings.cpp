#include "agent/web/server_settings.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <stdexcept>

#include "agent/core/text.h"

namespace pgbackup {
namespace {

FileStamp stamp_of(const std::filesystem::path& path) {
  FileStamp stamp;
  stamp.path = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return stamp;
  stamp.exists = true;
  stamp.mtime_ns = st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
  stamp.ctime_ns = st.st_ctim.tv_sec * 1'000'000'000LL + st.st_ctim.tv_nsec;
  stamp.inode = st.st_ino;
  stamp.size = st.st_size;
  return stamp;
}

}  // namespace

std::shared_ptr<const ServerSettings> build_server_settings(
    WebConfig config, std::shared_ptr<std::mutex> bcrypt_gate) {
  auto settings = std::make_shared<ServerSettings>();
  if (config.tls) settings->tls = build_tls_material(*config.tls, config.warnings);
  if (!config.basic_auth_users.empty()) {
    settings->basic_auth =
        std::make_shared<BasicAuth>(config.basic_auth_users, std::move(bcrypt_gate));
    for (std::string& w : slow_login_warnings(config.basic_auth_users)) {
      config.warnings.push_back(std::move(w));
    }
  }
  settings->config = std::move(config);
  return settings;
}

WebConfigFile::WebConfigFile(std::filesystem::path path) : path_(std::move(path)) {
  seen_ = stamps(std::nullopt);
  WebConfig config = load_web_config(*path_);
  settings_ = build_server_settings(std::move(config), bcrypt_gate_);
  for (const std::string& w : settings_->config.warnings) {
    spdlog::warn("web config {}: {}", path_->string(), w);
  }
}

WebConfigFile::WebConfigFile(WebConfig fixed) {
  if (fixed.tls) read_named_files(fixed);
  check_client_ca_policy(fixed);
  settings_ = build_server_settings(std::move(fixed), bcrypt_gate_);
}

std::vector<FileStamp> WebConfigFile::stamps(const std::optional<WebConfig>& config) const {
  std::vector<FileStamp> out = {stamp_of(*path_)};
  // The files a config names, and when the file on disk names others (a new config that
  // failed, e.g. on a certificate not written yet), those too.
  std::vector<std::filesystem::path> files;
  const auto add = [&files](const WebConfig& c) {
    if (!c.tls) return;
    for (const auto& file : {c.tls->cert_file, c.tls->key_file, c.tls->client_ca_file}) {
      if (!file.empty() && std::find(files.begin(), files.end(), file) == files.end()) {
        files.push_back(file);
      }
    }
  };
  if (config) add(*config);
  try {
    add(parse_config_file(*path_));
  } catch (const std::exception&) {
    // Unreadable or broken: only the config file itself can bring a change.
  }
  for (const auto& file : files) out.push_back(stamp_of(file));
  return out;
}

std::shared_ptr<const ServerSettings> WebConfigFile::current() {
  std::lock_guard lock(mu_);
  if (!path_) return settings_;
  bool changed = false;
  for (const FileStamp& s : seen_) changed = changed || !(stamp_of(s.path) == s);
  if (!changed) return settings_;
  // Taken before reading, so that a write while we read is seen next time.
  std::vector<FileStamp> before = stamps(settings_->config);
  try {
    WebConfig candidate = load_web_config(*path_);
    if (candidate.tls.has_value() != settings_->config.tls.has_value()) {
      throw std::invalid_argument(std::string("a changed web config cannot turn TLS ") +
                                  (candidate.tls ? "on" : "off") +
                                  " while the agent runs; hint: restart the agent");
    }
    settings_ = build_server_settings(std::move(candidate), bcrypt_gate_);
    last_error_.clear();
    spdlog::info("web config {} reloaded", path_->string());
    for (const std::string& w : settings_->config.warnings) {
      spdlog::warn("web config {}: {}", path_->string(), w);
    }
  } catch (const std::exception& e) {
    last_error_ = e.what();
    spdlog::error("web config {} changed but is not used, the previous one stays: {}",
                  path_->string(), e.what());
  }
  seen_ = std::move(before);
  return settings_;
}

std::string WebConfigFile::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

}  // namespace pgbackup
