#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace pgbackup {

// Who must present a client certificate, spelled as in the exporter-toolkit.
enum class ClientAuth {
  kNoClientCert,
  kRequestClientCert,
  kRequireAnyClientCert,
  kVerifyClientCertIfGiven,
  kRequireAndVerifyClientCert,
};

// Lowest TLS version the server accepts.
enum class TlsVersion { kTls10, kTls11, kTls12, kTls13 };

// The `tls_server_config` section; paths are absolute once parsed.
struct TlsServerConfig {
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  std::filesystem::path client_ca_file;  // empty when not configured
  TlsVersion min_version = TlsVersion::kTls12;
};

// The exporter-toolkit web config file (`--web.config.file`): TLS and basic auth.
struct WebConfig {
  std::optional<TlsServerConfig> tls;
  std::map<std::string, std::string> basic_auth_users;  // user name -> bcrypt hash
};

// Parses web config YAML; relative paths are resolved against `base_dir` (the file's folder).
// Throws std::invalid_argument naming the key and line, or a missing certificate/key file.
WebConfig parse_web_config(const std::string& yaml_text, const std::filesystem::path& base_dir);

// Reads and parses the web config file at `path`. Throws std::invalid_argument naming the file.
WebConfig load_web_config(const std::filesystem::path& path);

// True when `password` matches the bcrypt `bcrypt_hash` ($2a$, $2b$ or $2y$); the comparison
// takes the same time wherever the strings differ. A malformed hash, or one of cost above 14
// (parse_web_config refuses those), never matches.
bool verify_password(const std::string& password, const std::string& bcrypt_hash);

}  // namespace pgbackup
