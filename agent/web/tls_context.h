#pragma once

#include <openssl/ssl.h>

#include <string>

#include "agent/web/web_config.h"

namespace pgbackup {

// Loads the certificate, key, protocol versions and client-certificate policy of `tls` into an
// SSL_CTX (CivetWeb's, from its init_ssl callback). Returns "" or what is wrong, with OpenSSL's
// reasons.
std::string configure_tls_context(SSL_CTX* ctx, const TlsServerConfig& tls);

// The OpenSSL error queue as one line, emptying it.
std::string openssl_errors();

}  // namespace pgbackup
