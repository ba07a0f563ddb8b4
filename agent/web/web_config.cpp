#include "agent/web/web_config.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>

namespace pgbackup {
namespace {

// Keys of the exporter-toolkit format that we recognise but do not implement; naming them as
// unsupported is kinder than calling them unknown.
const std::set<std::string, std::less<>> kUnsupportedKeys = {"http_server_config",
                                                             "max_version",
                                                             "cipher_suites",
                                                             "curve_preferences",
                                                             "client_allowed_sans",
                                                             "prefer_server_cipher_suites",
                                                             "cert",
                                                             "key"};

std::string line_of(const YAML::Node& node) { return std::to_string(node.Mark().line + 1); }

[[noreturn]] void fail_at(const YAML::Node& node, const std::string& message) {
  throw std::invalid_argument("web config line " + line_of(node) + ": " + message);
}

// Rejects every key of `map` that is not in `known`, naming it and its line.
void check_keys(const YAML::Node& map, const std::string& section,
                std::initializer_list<std::string_view> known) {
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
    bool found = false;
    for (std::string_view k : known) found = found || k == key;
    if (found) continue;
    std::string allowed;
    for (std::string_view k : known) allowed += (allowed.empty() ? "" : ", ") + std::string(k);
    if (kUnsupportedKeys.contains(key)) {
      fail_at(entry.first, "key \"" + section + key + "\" is not supported by pgbackup-agent; " +
                               "hint: remove it (supported here: " + allowed + ")");
    }
    fail_at(entry.first, "unknown key \"" + section + key + "\"; hint: expected one of " + allowed);
  }
}

std::string scalar(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) fail_at(node, "\"" + key + "\" must be a string");
  return node.Scalar();
}

// Resolves `value` against `base_dir` and checks that the file can be opened for reading.
std::filesystem::path existing_file(const YAML::Node& node, const std::string& key,
                                    const std::filesystem::path& base_dir) {
  const std::string value = scalar(node, key);
  if (value.empty()) fail_at(node, "\"" + key + "\" is empty; hint: give the path of a PEM file");
  std::filesystem::path path(value);
  if (path.is_relative()) path = base_dir / path;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    fail_at(node, "\"" + key + "\": file " + path.string() +
                      " does not exist; hint: relative paths are resolved against the web "
                      "config file's folder");
  }
  if (!std::ifstream(path).good()) {
    fail_at(node, "\"" + key + "\": cannot read " + path.string() +
                      "; hint: check the file's permissions for the agent's user");
  }
  return path;
}

ClientAuth parse_client_auth(const YAML::Node& node) {
  const std::string value = scalar(node, "tls_server_config.client_auth_type");
  if (value == "" || value == "NoClientCert") return ClientAuth::kNoClientCert;
  if (value == "RequestClientCert") return ClientAuth::kRequestClientCert;
  if (value == "RequireAnyClientCert") return ClientAuth::kRequireAnyClientCert;
  if (value == "VerifyClientCertIfGiven") return ClientAuth::kVerifyClientCertIfGiven;
  if (value == "RequireAndVerifyClientCert") return ClientAuth::kRequireAndVerifyClientCert;
  fail_at(node, "invalid client_auth_type \"" + value +
                    "\"; hint: expected NoClientCert, RequestClientCert, RequireAnyClientCert, "
                    "VerifyClientCertIfGiven or RequireAndVerifyClientCert");
}

TlsVersion parse_tls_version(const YAML::Node& node) {
  const std::string value = scalar(node, "tls_server_config.min_version");
  if (value == "TLS10") return TlsVersion::kTls10;
  if (value == "TLS11") return TlsVersion::kTls11;
  if (value == "TLS12") return TlsVersion::kTls12;
  if (value == "TLS13") return TlsVersion::kTls13;
  fail_at(node,
          "invalid min_version \"" + value + "\"; hint: expected TLS10, TLS11, TLS12 or TLS13");
}

TlsServerConfig parse_tls(const YAML::Node& node, const std::filesystem::path& base_dir) {
  if (!node.IsMap()) fail_at(node, "\"tls_server_config\" must be a mapping");
  check_keys(node, "tls_server_config.",
             {"cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version"});
  if (!node["cert_file"] || !node["key_file"]) {
    fail_at(node,
            "\"tls_server_config\" needs both cert_file and key_file; hint: remove the section "
            "to serve plain HTTP");
  }
  TlsServerConfig tls;
  tls.cert_file = existing_file(node["cert_file"], "tls_server_config.cert_file", base_dir);
  tls.key_file = existing_file(node["key_file"], "tls_server_config.key_file", base_dir);
  if (node["client_auth_type"]) tls.client_auth = parse_client_auth(node["client_auth_type"]);
  if (node["client_ca_file"]) {
    tls.client_ca_file =
        existing_file(node["client_ca_file"], "tls_server_config.client_ca_file", base_dir);
  }
  if (node["min_version"]) tls.min_version = parse_tls_version(node["min_version"]);
  const bool verifies = tls.client_auth == ClientAuth::kVerifyClientCertIfGiven ||
                        tls.client_auth == ClientAuth::kRequireAndVerifyClientCert;
  if (verifies && tls.client_ca_file.empty()) {
    fail_at(node,
            "client_auth_type verifies client certificates but client_ca_file is not set; "
            "hint: add client_ca_file with the CA that signs client certificates");
  }
  return tls;
}

// bcrypt's work doubles with each step of its cost; at 31 one check would take days. Past this a
// hash is refused (htpasswd -B uses 5 by default; 10-12 is usual).
constexpr int kMaxBcryptCost = 14;

// "$2b$10$" followed by 53 characters; the cost (two digits) or -1.
int bcrypt_cost(const std::string& hash) {
  if (hash.size() != 60 ||
      !(hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$")) ||
      !std::isdigit(static_cast<unsigned char>(hash[4])) ||
      !std::isdigit(static_cast<unsigned char>(hash[5])) || hash[6] != '$') {
    return -1;
  }
  return (hash[4] - '0') * 10 + (hash[5] - '0');
}

bool looks_like_bcrypt(const std::string& hash) {
  const int cost = bcrypt_cost(hash);
  return cost >= 4 && cost <= kMaxBcryptCost;
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
  if (!root.IsMap()) fail_at(root, "the web config must be a mapping");
  check_keys(root, "", {"tls_server_config", "basic_auth_users"});

  if (const YAML::Node tls = root["tls_server_config"]; tls && !tls.IsNull()) {
    config.tls = parse_tls(tls, base_dir);
  }
  if (const YAML::Node users = root["basic_auth_users"]; users && !users.IsNull()) {
    if (!users.IsMap()) fail_at(users, "\"basic_auth_users\" must map user names to bcrypt hashes");
    for (const auto& entry : users) {
      const std::string name = scalar(entry.first, "basic_auth_users");
      const std::string hash = scalar(entry.second, "basic_auth_users." + name);
      if (name.empty() || name.find(':') != std::string::npos) {
        fail_at(entry.first, "invalid user name \"" + name + "\": must be non-empty without ':'");
      }
      if (const int cost = bcrypt_cost(hash); cost > kMaxBcryptCost) {
        fail_at(entry.second, "the bcrypt hash of user \"" + name + "\" has cost " +
                                  std::to_string(cost) + ", more than " +
                                  std::to_string(kMaxBcryptCost) +
                                  " (each login would take minutes or more); hint: hash the "
                                  "password again with htpasswd -nbBC 10");
      }
      if (!looks_like_bcrypt(hash)) {
        fail_at(entry.second,
                "the password of user \"" + name +
                    "\" is not a bcrypt hash; hint: store a hash, never the password, e.g. the "
                    "output of `htpasswd -nbBC 10 \"\" PASSWORD | tr -d ':\\n'`");
      }
      config.basic_auth_users[name] = hash;
    }
  }
  return config;
}

WebConfig load_web_config(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::invalid_argument("cannot read web config file " + path.string() +
                                "; hint: check --web.config.file and the file's permissions");
  }
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return parse_web_config(text.str(), std::filesystem::absolute(path).parent_path());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path.string() + ": " + e.what());
  }
}

bool verify_password(const std::string& password, const std::string& bcrypt_hash) {
  // crypt_r reads C strings: a NUL would cut the password short and let a prefix match.
  if (!looks_like_bcrypt(bcrypt_hash) || password.find('\0') != std::string::npos) return false;
  // struct crypt_data is about 32 KiB: too big for a CivetWeb worker's stack.
  auto data = std::make_unique<crypt_data>();
  const char* hashed = crypt_r(password.c_str(), bcrypt_hash.c_str(), data.get());
  if (hashed == nullptr || hashed[0] == '*') return false;
  const std::string_view computed(hashed);
  // Same length for every bcrypt output, so only the contents are compared, in constant time.
  return computed.size() == bcrypt_hash.size() &&
         CRYPTO_memcmp(computed.data(), bcrypt_hash.data(), computed.size()) == 0;
}

}  // namespace pgbackup
