#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pgbackup {

// Who must present a client certificate, spelled as in the exporter-toolkit.
enum class ClientAuth {
  kNoClientCert,
  kRequestClientCert,
  kRequireAnyClientCert,
  kVerifyClientCertIfGiven,
  kRequireAndVerifyClientCert,
};

// A TLS protocol version (min_version, max_version).
enum class TlsVersion { kTls10, kTls11, kTls12, kTls13 };

// The `tls_server_config` section. A PEM can come from a file (`*_file`, absolute once parsed)
// or inline; load_web_config() reads the files into the inline fields, so that `cert`, `key`
// and `client_ca` hold what is served while the paths only say where it came from.
struct TlsServerConfig {
  std::filesystem::path cert_file;  // empty when the certificate is inline
  std::filesystem::path key_file;
  std::filesystem::path client_ca_file;  // empty when not configured or inline
  std::string cert;                      // PEM: the certificate, then its chain
  std::string key;                       // PEM
  std::string client_ca;                 // PEM; empty: no client CA configured
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  // Set (even empty): the client certificate needs one of these SANs (DNS, IP, e-mail, URI).
  std::optional<std::vector<std::string>> client_allowed_sans;
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  std::vector<std::string> cipher_suites;      // Go names, in the configured order
  std::vector<std::string> curve_preferences;  // Go names, in the configured order
  bool prefer_server_cipher_suites = true;

  bool operator==(const TlsServerConfig&) const = default;
};

// The `http_server_config` section.
struct HttpServerConfig {
  bool http2 = true;  // accepted for compatibility; CivetWeb serves HTTP/1.1 only
  std::vector<std::pair<std::string, std::string>> headers;  // added to every response

  bool operator==(const HttpServerConfig&) const = default;
};

// The `rate_limit` section: a token bucket of `burst` tokens, one more every `interval`.
struct RateLimitConfig {
  std::chrono::nanoseconds interval{0};  // 0: no rate limit
  long long burst = 0;

  bool operator==(const RateLimitConfig&) const = default;
};

// The exporter-toolkit web config file (`--web.config.file`).
struct WebConfig {
  std::optional<TlsServerConfig> tls;  // nullopt: plain HTTP
  HttpServerConfig http;
  RateLimitConfig rate_limit;
  std::map<std::string, std::string> basic_auth_users;  // user name -> bcrypt hash
  std::vector<std::string> warnings;                    // accepted, but probably not what was meant

  bool operator==(const WebConfig&) const = default;
};

// Parses web config YAML as the exporter-toolkit does (unknown keys, unknown ciphers, curves
// or TLS versions, bad bcrypt hashes, forbidden headers are errors; see also
// check_client_ca_policy); relative paths are resolved against `base_dir` (the file's folder).
// Reads no file. Throws std::invalid_argument naming the line and the reason, with a hint.
WebConfig parse_web_config(const std::string& yaml_text, const std::filesystem::path& base_dir);

// Reads and parses the web config file at `path` (relative paths against its folder), reading
// no other file. Throws std::invalid_argument.
WebConfig parse_config_file(const std::filesystem::path& path);

// Reads the certificate, key and client CA files that `config` names into its PEM fields.
// Throws std::invalid_argument naming the key and the file.
void read_named_files(WebConfig& config);

// Throws std::invalid_argument when a client CA is configured without a client_auth_type. As
// in the toolkit this comes after the files were read (a missing CA file is reported first).
void check_client_ca_policy(const WebConfig& config);

// Reads and parses the web config file at `path`, then reads the certificate, key and client
// CA files it names into the config. Throws std::invalid_argument naming the file.
WebConfig load_web_config(const std::filesystem::path& path);

// Parses a Go duration ("1s", "1m30s", "250ms", "0"). Throws std::invalid_argument.
std::chrono::nanoseconds parse_go_duration(const std::string& text);

}  // namespace pgbackup
