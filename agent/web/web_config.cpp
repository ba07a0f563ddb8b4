#include "agent/web/web_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "agent/core/text.h"
#include "agent/web/bcrypt.h"
#include "agent/web/tls_names.h"

namespace pgbackup {
namespace {

// Headers the exporter-toolkit lets an operator add, and the only values it allows for each
// (none listed: any value).
struct AllowedHeader {
  std::string_view name;
  std::vector<std::string_view> values;
};
const std::vector<AllowedHeader>& allowed_headers() {
  static const std::vector<AllowedHeader> kHeaders = {
      {"Strict-Transport-Security", {}},
      {"X-Content-Type-Options", {"nosniff"}},
      {"X-Frame-Options", {"deny", "sameorigin"}},
      {"X-XSS-Protection", {}},
      {"Content-Security-Policy", {}},
  };
  return kHeaders;
}

std::string line_of(const YAML::Node& node) { return std::to_string(node.Mark().line + 1); }

[[noreturn]] void fail_at(const YAML::Node& node, const std::string& message) {
  throw std::invalid_argument("web config line " + line_of(node) + ": " + message);
}

std::string quoted_names(const std::vector<std::string>& names) {
  std::vector<std::string> quoted;
  for (const std::string& n : names) quoted.push_back("\"" + n + "\"");
  return join(quoted, ", ");
}

// Rejects keys of `map` that are not in `known`, and keys given twice, as yaml.UnmarshalStrict
// does; a message names the key, its line and what is allowed.
void check_keys(const YAML::Node& map, const std::string& section,
                const std::vector<std::string>& known) {
  std::set<std::string> seen;
  for (const auto& entry : map) {
    // fuzz: a complex key ("? [a]: x") made as<std::string>() throw a YAML exception.
    if (!entry.first.IsScalar()) {
      const std::string where =
          section.empty() ? "the web config" : "\"" + section.substr(0, section.size() - 1) + "\"";
      fail_at(entry.first, "a key of " + where +
                               " must be a plain name, not a list or mapping; hint: write "
                               "\"name: value\"");
    }
    const std::string key = entry.first.Scalar();
    if (!seen.insert(key).second) {
      fail_at(entry.first, "key \"" + section + key + "\" is given twice; hint: keep one");
    }
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    fail_at(entry.first,
            "unknown key \"" + section + key + "\"; hint: expected one of " + join(known, ", "));
  }
}

std::string scalar(const YAML::Node& node, const std::string& key) {
  if (node.IsNull()) return "";
  if (!node.IsScalar()) fail_at(node, "\"" + key + "\" must be a string");
  return node.Scalar();
}

bool boolean(const YAML::Node& node, const std::string& key) {
  bool value = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
    fail_at(node, "\"" + key + "\" must be true or false");
  }
  return value;
}

std::vector<std::string> string_list(const YAML::Node& node, const std::string& key) {
  std::vector<std::string> out;
  if (node.IsNull()) return out;
  if (!node.IsSequence()) fail_at(node, "\"" + key + "\" must be a list of strings");
  for (const YAML::Node& item : node) out.push_back(scalar(item, key));
  return out;
}

// A path from the file, resolved against `base_dir`; "" stays "" (not configured).
std::filesystem::path path_value(const YAML::Node& node, const std::string& key,
                                 const std::filesystem::path& base_dir) {
  const std::string value = scalar(node, key);
  if (value.empty()) return {};
  std::filesystem::path path(value);
  return path.is_relative() ? base_dir / path : path;
}

ClientAuth parse_client_auth(const YAML::Node& node) {
  const std::string value = scalar(node, "tls_server_config.client_auth_type");
  if (value == "" || value == "NoClientCert") return ClientAuth::kNoClientCert;
  if (value == "RequestClientCert") return ClientAuth::kRequestClientCert;
  // "RequireClientCert": the old spelling, which the exporter-toolkit still accepts.
  if (value == "RequireAnyClientCert" || value == "RequireClientCert") {
    return ClientAuth::kRequireAnyClientCert;
  }
  if (value == "VerifyClientCertIfGiven") return ClientAuth::kVerifyClientCertIfGiven;
  if (value == "RequireAndVerifyClientCert") return ClientAuth::kRequireAndVerifyClientCert;
  fail_at(node, "invalid client_auth_type \"" + value +
                    "\"; hint: expected NoClientCert, RequestClientCert, RequireAnyClientCert, "
                    "VerifyClientCertIfGiven or RequireAndVerifyClientCert");
}

TlsVersion parse_tls_version(const YAML::Node& node, const std::string& key) {
  const std::string value = scalar(node, key);
  if (value == "TLS10") return TlsVersion::kTls10;
  if (value == "TLS11") return TlsVersion::kTls11;
  if (value == "TLS12") return TlsVersion::kTls12;
  if (value == "TLS13") return TlsVersion::kTls13;
  fail_at(node, "unknown TLS version \"" + value + "\" in " + key +
                    "; hint: expected TLS10, TLS11, TLS12 or TLS13");
}

// A list of names each of which must be one of `known` ("cipher", "curve": `what`).
std::vector<std::string> known_names(const YAML::Node& node, const std::string& key,
                                     const std::string& what,
                                     const std::vector<std::string>& known) {
  const std::vector<std::string> names = string_list(node, key);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (std::find(known.begin(), known.end(), names[i]) == known.end()) {
      fail_at(node[i], "unknown " + what + " \"" + names[i] + "\"; hint: Go's names, one of " +
                           join(known, ", "));
    }
  }
  return names;
}

// The section as the toolkit reads it: nullopt when none of the keys that turn TLS on
// (certificate, key, client CA, client policy) has a value.
std::optional<TlsServerConfig> parse_tls(const YAML::Node& node,
                                         const std::filesystem::path& base_dir) {
  if (!node.IsMap()) fail_at(node, "\"tls_server_config\" must be a mapping");
  check_keys(node, "tls_server_config.",
             {"cert", "key", "client_ca", "cert_file", "key_file", "client_auth_type",
              "client_ca_file", "cipher_suites", "curve_preferences", "min_version", "max_version",
              "prefer_server_cipher_suites", "client_allowed_sans"});
  TlsServerConfig tls;
  std::string auth_type;
  YAML::Node auth_node;
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    const YAML::Node& value = entry.second;
    const std::string name = "tls_server_config." + key;
    if (key == "cert") tls.cert = scalar(value, name);
    if (key == "key") tls.key = scalar(value, name);
    if (key == "client_ca") tls.client_ca = scalar(value, name);
    if (key == "cert_file") tls.cert_file = path_value(value, name, base_dir);
    if (key == "key_file") tls.key_file = path_value(value, name, base_dir);
    if (key == "client_ca_file") tls.client_ca_file = path_value(value, name, base_dir);
    if (key == "client_auth_type") {
      auth_type = scalar(value, name);
      auth_node = value;
    }
    if (key == "cipher_suites") {
      tls.cipher_suites = known_names(value, name, "cipher", go_cipher_suite_names());
    }
    if (key == "curve_preferences") {
      tls.curve_preferences = known_names(value, name, "curve", go_curve_names());
    }
    if (key == "min_version") tls.min_version = parse_tls_version(value, name);
    if (key == "max_version") tls.max_version = parse_tls_version(value, name);
    if (key == "prefer_server_cipher_suites") {
      tls.prefer_server_cipher_suites = boolean(value, name);
    }
    if (key == "client_allowed_sans") tls.client_allowed_sans = string_list(value, name);
  }
  const bool enabled = !tls.cert.empty() || !tls.key.empty() || !tls.client_ca.empty() ||
                       !tls.cert_file.empty() || !tls.key_file.empty() ||
                       !tls.client_ca_file.empty() || !auth_type.empty();
  if (!enabled) return std::nullopt;
  if (tls.cert_file.empty() && tls.cert.empty()) {
    fail_at(node,
            "missing one of cert or cert_file in tls_server_config; hint: give the server "
            "certificate, or remove the section to serve plain HTTP");
  }
  if (tls.key_file.empty() && tls.key.empty()) {
    fail_at(node,
            "missing one of key or key_file in tls_server_config; hint: give the server's "
            "private key, or remove the section to serve plain HTTP");
  }
  if (auth_node) tls.client_auth = parse_client_auth(auth_node);
  // As in the toolkit, a file wins over the same thing inline.
  if (!tls.cert_file.empty()) tls.cert.clear();
  if (!tls.key_file.empty()) tls.key.clear();
  if (!tls.client_ca_file.empty()) tls.client_ca.clear();
  if (tls.min_version > tls.max_version) {
    fail_at(node,
            "min_version is above max_version, so no TLS version is left; hint: raise "
            "max_version or lower min_version");
  }
  return tls;
}

HttpServerConfig parse_http(const YAML::Node& node, bool tls_enabled,
                            std::vector<std::string>& warnings) {
  if (!node.IsMap()) fail_at(node, "\"http_server_config\" must be a mapping");
  check_keys(node, "http_server_config.", {"http2", "headers"});
  HttpServerConfig http;
  if (const YAML::Node http2 = node["http2"]; http2 && !http2.IsNull()) {
    http.http2 = boolean(http2, "http_server_config.http2");
  }
  const YAML::Node headers = node["headers"];
  if (!headers || headers.IsNull()) return http;
  if (!headers.IsMap()) fail_at(headers, "\"http_server_config.headers\" must be a mapping");
  std::vector<std::string> names;
  for (const AllowedHeader& h : allowed_headers()) names.emplace_back(h.name);
  std::set<std::string> seen;
  for (const auto& entry : headers) {
    const std::string name = scalar(entry.first, "http_server_config.headers");
    std::string value = scalar(entry.second, "http_server_config.headers." + name);
    if (!seen.insert(name).second) fail_at(entry.first, "header \"" + name + "\" is given twice");
    const auto allowed = std::find_if(allowed_headers().begin(), allowed_headers().end(),
                                      [&](const AllowedHeader& h) { return h.name == name; });
    if (allowed == allowed_headers().end()) {
      fail_at(entry.first, "HTTP header \"" + name + "\" can not be configured; hint: expected " +
                               "one of " + join(names, ", "));
    }
    if (!allowed->values.empty() &&
        std::find(allowed->values.begin(), allowed->values.end(), value) == allowed->values.end()) {
      std::vector<std::string> values(allowed->values.begin(), allowed->values.end());
      fail_at(entry.second, "invalid value for " + name + ": expected one of " +
                                quoted_names(values) + ", but got \"" + value + "\"");
    }
    if (value.empty()) continue;  // "unset if blank"
    // Like Go's server: a line break cannot end the header early.
    std::replace_if(
        value.begin(), value.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
    if (name == "Strict-Transport-Security" && !tls_enabled) {
      warnings.push_back(
          "Strict-Transport-Security is sent over plain HTTP, where browsers ignore it");
    }
    http.headers.emplace_back(name, value);
  }
  return http;
}

RateLimitConfig parse_rate_limit(const YAML::Node& node) {
  if (!node.IsMap()) fail_at(node, "\"rate_limit\" must be a mapping");
  check_keys(node, "rate_limit.", {"interval", "burst"});
  RateLimitConfig limit;
  if (const YAML::Node interval = node["interval"]; interval && !interval.IsNull()) {
    try {
      limit.interval = parse_go_duration(scalar(interval, "rate_limit.interval"));
    } catch (const std::invalid_argument& e) {
      fail_at(interval, std::string("rate_limit.interval: ") + e.what());
    }
  }
  if (const YAML::Node burst = node["burst"]; burst && !burst.IsNull()) {
    if (!burst.IsScalar() || !YAML::convert<long long>::decode(burst, limit.burst) ||
        limit.burst < 0) {
      fail_at(burst, "\"rate_limit.burst\" must be a whole number, 0 or more");
    }
  }
  return limit;
}

void parse_users(const YAML::Node& users, WebConfig& config) {
  if (!users.IsMap()) fail_at(users, "\"basic_auth_users\" must map user names to bcrypt hashes");
  for (const auto& entry : users) {
    const std::string name = scalar(entry.first, "basic_auth_users");
    const std::string hash = scalar(entry.second, "basic_auth_users." + name);
    if (config.basic_auth_users.contains(name)) {
      fail_at(entry.first, "user \"" + name + "\" is given twice; hint: keep one");
    }
    if (const std::string problem = bcrypt_hash_problem(hash); !problem.empty()) {
      fail_at(entry.second, "the password of user \"" + name +
                                "\" is not a bcrypt hash: " + problem +
                                "; hint: store a hash, never the password, e.g. the output of "
                                "`htpasswd -nbBC 10 \"\" PASSWORD | tr -d ':\\n'`");
    }
    if (name.find(':') != std::string::npos || name.empty()) {
      config.warnings.push_back("basic_auth_users: user \"" + name +
                                "\" can never log in (basic auth user names are non-empty and "
                                "have no ':')");
    }
    config.basic_auth_users[name] = hash;
  }
}

// The file at `path` (a certificate, key or CA named by `key`), whole.
std::string read_pem_file(const std::filesystem::path& path, const std::string& key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    const bool exists = std::filesystem::exists(path, ec);
    throw std::invalid_argument(
        key + ": " + (exists ? "cannot read " : "no such file ") + path.string() +
        (exists ? "; hint: check the file's permissions for the agent's user"
                : "; hint: relative paths are resolved against the web config file's folder"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

WebConfig parse_web_config(const std::string& yaml_text, const std::filesystem::path& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw std::invalid_argument("web config line " + std::to_string(e.mark.line + 1) +
                                ": invalid YAML: " + e.msg);
  }
  WebConfig config;
  if (root.IsNull()) return config;  // an empty file: plain HTTP, no authentication
  if (!root.IsMap()) {
    fail_at(root,
            "the web config must be a mapping; hint: expected the keys tls_server_config, "
            "http_server_config, rate_limit, basic_auth_users");
  }
  check_keys(root, "",
             {"tls_server_config", "http_server_config", "rate_limit", "basic_auth_users"});
  const YAML::Node tls = root["tls_server_config"];
  std::optional<TlsServerConfig> parsed_tls;
  if (tls && !tls.IsNull()) parsed_tls = parse_tls(tls, base_dir);
  if (const YAML::Node http = root["http_server_config"]; http && !http.IsNull()) {
    config.http = parse_http(http, parsed_tls.has_value(), config.warnings);
  }
  if (const YAML::Node limit = root["rate_limit"]; limit && !limit.IsNull()) {
    config.rate_limit = parse_rate_limit(limit);
  }
  if (const YAML::Node users = root["basic_auth_users"]; users && !users.IsNull()) {
    parse_users(users, config);
  }
  config.tls = std::move(parsed_tls);
  if (config.tls && config.http.http2) {
    if (const std::string problem = http2_cipher_problem(*config.tls); !problem.empty()) {
      fail_at(tls, problem +
                       "; hint: add TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 to cipher_suites, or "
                       "set http_server_config.http2: false as for every exporter");
    }
  }
  return config;
}

WebConfig parse_config_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::invalid_argument("cannot read web config file " + path.string() +
                                "; hint: check --web.config.file and the file's permissions");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_web_config(text.str(), std::filesystem::absolute(path).parent_path());
}

void read_named_files(WebConfig& config) {
  if (!config.tls) return;
  TlsServerConfig& tls = *config.tls;
  if (!tls.cert_file.empty()) tls.cert = read_pem_file(tls.cert_file, "cert_file");
  if (!tls.key_file.empty()) tls.key = read_pem_file(tls.key_file, "key_file");
  if (!tls.client_ca_file.empty()) {
    tls.client_ca = read_pem_file(tls.client_ca_file, "client_ca_file");
  }
}

void check_client_ca_policy(const WebConfig& config) {
  if (!config.tls) return;
  const TlsServerConfig& tls = *config.tls;
  if ((!tls.client_ca_file.empty() || !tls.client_ca.empty()) &&
      tls.client_auth == ClientAuth::kNoClientCert) {
    throw std::invalid_argument(
        "tls_server_config: client CA's have been configured without a client auth policy; "
        "hint: set client_auth_type: RequireAndVerifyClientCert (or VerifyClientCertIfGiven)");
  }
}

WebConfig load_web_config(const std::filesystem::path& path) {
  try {
    WebConfig config = parse_config_file(path);
    read_named_files(config);
    check_client_ca_policy(config);
    return config;
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    if (message.starts_with("cannot read web config file")) throw;
    throw std::invalid_argument(path.string() + ": " + message);
  }
}

std::chrono::nanoseconds parse_go_duration(const std::string& text) {
  const std::string hint =
      "invalid duration \"" + text + "\"; hint: Go durations such as 1s, 250ms, 1m30s or 0";
  if (text == "0") return std::chrono::nanoseconds(0);
  // A bare number is nanoseconds, as when YAML gives Go an integer for a time.Duration.
  if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      })) {
    return std::chrono::nanoseconds(std::stoll(text));
  }
  struct Unit {
    std::string_view name;
    double ns;
  };
  static constexpr Unit kUnits[] = {{"ns", 1},  {"us", 1e3}, {"µs", 1e3},  {"ms", 1e6},
                                    {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  double total = 0;
  std::size_t i = 0;
  if (text.empty()) throw std::invalid_argument(hint);
  while (i < text.size()) {
    const std::size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (i == start) throw std::invalid_argument(hint);
    const double number = std::stod(text.substr(start, i - start));
    const Unit* best = nullptr;
    for (const Unit& unit : kUnits) {
      if (text.compare(i, unit.name.size(), unit.name) == 0 &&
          (best == nullptr || unit.name.size() > best->name.size())) {
        best = &unit;
      }
    }
    if (best == nullptr) throw std::invalid_argument(hint);
    i += best->name.size();
    total += number * best->ns;
  }
  return std::chrono::nanoseconds(static_cast<long long>(std::llround(total)));
}

}  // namespace pgbackup
