#pragma once

#include <openssl/ssl.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/web/web_config.h"

namespace pgbackup {

// The OpenSSL objects of one tls_server_config: certificate chain, key, client CA store and
// the policy. Immutable once built; connections keep the one they started with.
struct TlsMaterial;

// Builds and checks the material of `tls` (whose PEM fields are filled, see load_web_config):
// the certificate and key parse and match. Appends to `warnings` what is accepted but odd (a
// client CA file without certificates). Throws std::invalid_argument with OpenSSL's reasons.
std::shared_ptr<const TlsMaterial> build_tls_material(const TlsServerConfig& tls,
                                                      std::vector<std::string>& warnings);

// Where each new TLS connection gets its material from (the current web config).
using TlsMaterialSource = std::function<std::shared_ptr<const TlsMaterial>()>;

// Prepares CivetWeb's SSL_CTX (from its init_ssl callback): every connection is configured
// from `source` when its ClientHello arrives, so a new certificate or policy applies to the
// next handshake. `source` must outlive the context.
void install_tls_source(SSL_CTX* ctx, const TlsMaterialSource* source);

// The SAN values of a certificate as Go prints them: DNS names, e-mail addresses, IP
// addresses and URIs.
std::vector<std::string> subject_alt_names(X509* cert);

// The OpenSSL error queue as one line, emptying it.
std::string openssl_errors();

}  // namespace pgbackup
