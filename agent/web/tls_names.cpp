#include "agent/web/tls_names.h"

#include <array>

#include "agent/core/text.h"

namespace pgbackup {
namespace {

// Go's tls.CipherSuites(): the suites the exporter-toolkit accepts by name.
constexpr std::array<CipherSuiteName, 17> kCipherSuites = {{
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", false},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", false},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", false},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", false},
    {"TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", true},
    {"TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", true},
    {"TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", true},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA", false},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", false},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", false},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", false},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", false},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305", false},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", false},
}};

// Go's defaults when cipher_suites is empty: the ECDHE suites (no RSA key exchange).
constexpr const char* kGoDefaultTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA";

struct CurveName {
  std::string_view go;
  std::string_view openssl;
};
constexpr std::array<CurveName, 4> kCurves = {{
    {"CurveP256", "P-256"},
    {"CurveP384", "P-384"},
    {"CurveP521", "P-521"},
    {"X25519", "X25519"},
}};

// Go's default curve preference order.
constexpr const char* kGoDefaultGroups = "X25519:P-256:P-384:P-521";

}  // namespace

std::optional<CipherSuiteName> find_cipher_suite(std::string_view go_name) {
  for (const CipherSuiteName& suite : kCipherSuites) {
    if (suite.go == go_name) return suite;
  }
  return std::nullopt;
}

std::optional<std::string_view> find_curve(std::string_view go_name) {
  for (const CurveName& curve : kCurves) {
    if (curve.go == go_name) return curve.openssl;
  }
  return std::nullopt;
}

std::string tls12_cipher_list(const TlsServerConfig& tls) {
  std::vector<std::string> names;
  for (const std::string& go_name : tls.cipher_suites) {
    const std::optional<CipherSuiteName> suite = find_cipher_suite(go_name);
    if (suite && !suite->tls13) names.emplace_back(suite->openssl);
  }
  // Only TLS 1.3 suites configured: Go then has no suite for TLS 1.2 and below, and neither do
  // we; the caller allows TLS 1.3 only.
  if (!tls.cipher_suites.empty() && names.empty()) return "";
  std::string list = tls.cipher_suites.empty() ? kGoDefaultTls12Ciphers : join(names, ":");
  // OpenSSL 3 refuses TLS 1.0 and 1.1 above security level 0 (they sign with SHA-1).
  if (tls.min_version < TlsVersion::kTls12) list += ":@SECLEVEL=0";
  return list;
}

std::string groups_list(const TlsServerConfig& tls) {
  if (tls.curve_preferences.empty()) return kGoDefaultGroups;
  std::vector<std::string> names;
  for (const std::string& go_name : tls.curve_preferences) {
    if (const auto curve = find_curve(go_name)) names.emplace_back(*curve);
  }
  return join(names, ":");
}

std::string http2_cipher_problem(const TlsServerConfig& tls) {
  if (tls.cipher_suites.empty() || tls.min_version >= TlsVersion::kTls13) return "";
  for (const std::string& name : tls.cipher_suites) {
    if (name == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" ||
        name == "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256") {
      return "";
    }
  }
  return "cipher_suites is missing an HTTP/2-required AES_128_GCM_SHA256 cipher (need at least "
         "one of TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 or "
         "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)";
}

std::vector<std::string> go_cipher_suite_names() {
  std::vector<std::string> names;
  for (const CipherSuiteName& suite : kCipherSuites) names.emplace_back(suite.go);
  return names;
}

std::vector<std::string> go_curve_names() {
  std::vector<std::string> names;
  for (const CurveName& curve : kCurves) names.emplace_back(curve.go);
  return names;
}

}  // namespace pgbackup
