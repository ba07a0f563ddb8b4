#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/web/web_config.h"

namespace pgbackup {

// A cipher suite of Go's tls.CipherSuites() (the names the exporter-toolkit accepts) with its
// OpenSSL name.
struct CipherSuiteName {
  std::string_view go;
  std::string_view openssl;
  bool tls13;  // TLS 1.3 suites: accepted, but, as in Go, they do not restrict TLS 1.3
};

// The cipher suite called `go_name` in Go, or nullopt when Go does not offer it.
std::optional<CipherSuiteName> find_cipher_suite(std::string_view go_name);

// The OpenSSL group for a Go curve name (CurveP256, CurveP384, CurveP521, X25519), or nullopt.
std::optional<std::string_view> find_curve(std::string_view go_name);

// The OpenSSL cipher list for TLS 1.0-1.2: the configured suites in their order, or Go's
// default suites when none is configured. With a minimum below TLS 1.2, OpenSSL's security
// level is lowered so that it still offers those old versions, as Go does. "" when only TLS 1.3
// suites are configured (then nothing below TLS 1.3 can be negotiated).
std::string tls12_cipher_list(const TlsServerConfig& tls);

// The OpenSSL groups list (e.g. "P-521:X25519"): the configured curves or Go's default ones.
std::string groups_list(const TlsServerConfig& tls);

// The reason Go's HTTP/2 server refuses `tls` (cipher_suites without an AES-128-GCM ECDHE
// suite while TLS 1.2 is allowed), or "".
std::string http2_cipher_problem(const TlsServerConfig& tls);

// The names the exporter-toolkit accepts, for hints.
std::vector<std::string> go_cipher_suite_names();
std::vector<std::string> go_curve_names();

}  // namespace pgbackup
