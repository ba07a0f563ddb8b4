#include "agent/web/tls_context.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>

#include "agent/core/text.h"
#include "agent/web/tls_names.h"

namespace pgbackup {

struct TlsMaterial {
  TlsServerConfig config;  // the settings; PEM fields emptied
  std::unique_ptr<X509, decltype(&X509_free)> cert{nullptr, &X509_free};
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> chain{
      nullptr, [](STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }};
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, &EVP_PKEY_free};
  // Set when client certificates are verified: the client CAs, or the system's.
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> client_store{nullptr, &X509_STORE_free};
  // The CA names sent in the CertificateRequest; null when none is configured.
  std::unique_ptr<STACK_OF(X509_NAME), void (*)(STACK_OF(X509_NAME)*)> client_ca_names{
      nullptr, [](STACK_OF(X509_NAME) * s) { sk_X509_NAME_pop_free(s, X509_NAME_free); }};
  std::string ciphers;  // "" : TLS 1.3 only
  std::string groups;
  int verify_mode = SSL_VERIFY_NONE;
  bool verify_chain = false;
  // The session ID context: a session started under other material is not resumed, so a
  // changed client policy cannot be skipped by resuming (Go checks the same on resumption).
  std::string session_context;
};

namespace {

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;

Bio memory_bio(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
}

// Every certificate in `pem`, in order.
std::vector<X509*> read_certificates(const std::string& pem) {
  std::vector<X509*> certs;
  Bio bio = memory_bio(pem);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.push_back(cert);
  }
  ERR_clear_error();  // the end of the input reads as an error
  return certs;
}

// Where a PEM came from, for messages.
std::string origin(const std::filesystem::path& file, const char* file_key,
                   const char* inline_key) {
  return file.empty() ? std::string(inline_key) : std::string(file_key) + " " + file.string();
}

int to_openssl_version(TlsVersion v) {
  switch (v) {
    case TlsVersion::kTls10:
      return TLS1_VERSION;
    case TlsVersion::kTls11:
      return TLS1_1_VERSION;
    case TlsVersion::kTls12:
      return TLS1_2_VERSION;
    case TlsVersion::kTls13:
      return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

int verify_mode_of(ClientAuth auth) {
  switch (auth) {
    case ClientAuth::kNoClientCert:
      return SSL_VERIFY_NONE;
    case ClientAuth::kRequestClientCert:
    case ClientAuth::kVerifyClientCertIfGiven:
      return SSL_VERIFY_PEER;
    case ClientAuth::kRequireAnyClientCert:
    case ClientAuth::kRequireAndVerifyClientCert:
      return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  }
  return SSL_VERIFY_NONE;
}

// The SSL ex_data slot that holds each connection's material (a heap shared_ptr).
int material_index() {
  static const int index = SSL_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<std::shared_ptr<const TlsMaterial>*>(ptr);
      });
  return index;
}

const TlsMaterial* material_of(const SSL* ssl) {
  const auto* held = static_cast<const std::shared_ptr<const TlsMaterial>*>(
      SSL_get_ex_data(ssl, material_index()));
  return held != nullptr ? held->get() : nullptr;
}

// Configures one connection from `m`. Returns false with OpenSSL's error queue filled.
bool apply(SSL* ssl, const TlsMaterial& m) {
  const TlsServerConfig& c = m.config;
  // CivetWeb 1.15 sets its OpenSSL 1.1 value of SSL_OP_ALL (0x80000BFF) and SSL_OP_NO_* bits.
  // Under OpenSSL 3 those bits mean other things: no extended master secret, client-initiated
  // renegotiation, no CA names in the CertificateRequest, ... So every option is set here:
  // OpenSSL 3's defaults, no renegotiation (Go has none either), and min/max_version decide
  // the protocol versions.
  SSL_clear_options(ssl, SSL_get_options(ssl));
  SSL_set_options(ssl, SSL_OP_NO_COMPRESSION | SSL_OP_ENABLE_MIDDLEBOX_COMPAT |
                           SSL_OP_NO_RENEGOTIATION |
                           (c.prefer_server_cipher_suites ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
  const TlsVersion min =
      m.ciphers.empty() ? std::max(c.min_version, TlsVersion::kTls13) : c.min_version;
  if (SSL_set_min_proto_version(ssl, to_openssl_version(min)) != 1 ||
      SSL_set_max_proto_version(ssl, to_openssl_version(c.max_version)) != 1) {
    return false;
  }
  if (!m.ciphers.empty() && SSL_set_cipher_list(ssl, m.ciphers.c_str()) != 1) return false;
  if (SSL_set1_groups_list(ssl, m.groups.c_str()) != 1) return false;
  if (SSL_use_cert_and_key(ssl, m.cert.get(), m.key.get(), m.chain.get(), 1) != 1) return false;
  SSL_set_verify(ssl, m.verify_mode, nullptr);
  if (SSL_set_session_id_context(ssl,
                                 reinterpret_cast<const unsigned char*>(m.session_context.data()),
                                 static_cast<unsigned int>(m.session_context.size())) != 1) {
    return false;
  }
  if (m.client_store && SSL_set1_verify_cert_store(ssl, m.client_store.get()) != 1) return false;
  if (m.client_ca_names) SSL_set_client_CA_list(ssl, SSL_dup_CA_list(m.client_ca_names.get()));
  return true;
}

int on_client_hello(SSL* ssl, int* alert, void* arg) {
  const auto* source = static_cast<const TlsMaterialSource*>(arg);
  std::shared_ptr<const TlsMaterial> material;
  try {
    material = (*source)();
  } catch (const std::exception& e) {
    spdlog::error("tls: no configuration for a new connection: {}", e.what());
  }
  if (!material) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  const TlsMaterial& m = *material;
  // A second ClientHello (after a HelloRetryRequest) replaces the material of the first.
  auto* previous =
      static_cast<std::shared_ptr<const TlsMaterial>*>(SSL_get_ex_data(ssl, material_index()));
  auto* held = new std::shared_ptr<const TlsMaterial>(std::move(material));
  if (SSL_set_ex_data(ssl, material_index(), held) != 1) {
    delete held;
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  delete previous;
  if (!apply(ssl, m)) {
    spdlog::error("tls: cannot configure a connection: {}", openssl_errors());
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

// Replaces OpenSSL's chain verification: the chain is checked only for the verifying
// policies (as Go does), then the leaf must carry an allowed SAN when client_allowed_sans is
// set, whatever the policy.
int verify_client_certificate(X509_STORE_CTX* store_ctx, void*) {
  const auto* ssl = static_cast<const SSL*>(
      X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  const TlsMaterial* m = ssl != nullptr ? material_of(ssl) : nullptr;
  if (m == nullptr) return 0;
  if (m->verify_chain && X509_verify_cert(store_ctx) <= 0) {
    spdlog::info("tls: refused a client certificate: {}",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(store_ctx)));
    return 0;
  }
  if (!m->config.client_allowed_sans) return 1;
  const std::vector<std::string> sans = subject_alt_names(X509_STORE_CTX_get0_cert(store_ctx));
  const std::vector<std::string>& allowed = *m->config.client_allowed_sans;
  for (const std::string& san : sans) {
    if (std::find(allowed.begin(), allowed.end(), san) != allowed.end()) return 1;
  }
  spdlog::info(
      "tls: refused a client certificate: none of its SANs ({}) is in "
      "client_allowed_sans",
      sans.empty() ? "none" : join(sans, ", "));
  X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

}  // namespace

std::string openssl_errors() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

std::shared_ptr<const TlsMaterial> build_tls_material(const TlsServerConfig& tls,
                                                      std::vector<std::string>& warnings) {
  ERR_clear_error();
  auto m = std::make_shared<TlsMaterial>();
  m->config = tls;
  m->config.cert.clear();
  m->config.key.clear();
  m->config.client_ca.clear();

  const std::string cert_origin = origin(tls.cert_file, "cert_file", "cert");
  const std::string key_origin = origin(tls.key_file, "key_file", "key");
  std::vector<X509*> certs = read_certificates(tls.cert);
  if (certs.empty()) {
    throw std::invalid_argument("failed to load X509KeyPair: " + cert_origin +
                                " holds no PEM certificate; hint: give the server certificate "
                                "in PEM (-----BEGIN CERTIFICATE-----)");
  }
  m->cert.reset(certs.front());
  m->chain.reset(sk_X509_new_null());
  for (std::size_t i = 1; i < certs.size(); ++i) sk_X509_push(m->chain.get(), certs[i]);

  Bio key_bio = memory_bio(tls.key);
  m->key.reset(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!m->key) {
    throw std::invalid_argument("failed to load X509KeyPair: " + key_origin +
                                " holds no usable PEM private key: " + openssl_errors() +
                                "; hint: an unencrypted PEM key (PKCS#1, PKCS#8 or EC)");
  }
  if (X509_check_private_key(m->cert.get(), m->key.get()) != 1) {
    throw std::invalid_argument("failed to load X509KeyPair: private key " + key_origin +
                                " does not match the certificate in " + cert_origin + " (" +
                                openssl_errors() +
                                "); hint: give the key made with this "
                                "certificate");
  }

  m->verify_mode = verify_mode_of(tls.client_auth);
  m->verify_chain = tls.client_auth == ClientAuth::kVerifyClientCertIfGiven ||
                    tls.client_auth == ClientAuth::kRequireAndVerifyClientCert;
  // SANs are checked on the certificate, so a client without one is turned away.
  if (tls.client_allowed_sans && m->verify_mode != SSL_VERIFY_NONE) {
    m->verify_mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  }
  if (m->verify_chain) {
    m->client_store.reset(X509_STORE_new());
    if (tls.client_ca.empty()) {
      // Like Go with no ClientCAs: clients are verified against the system's CAs.
      X509_STORE_set_default_paths(m->client_store.get());
      ERR_clear_error();
    }
  }
  if (!tls.client_ca.empty()) {
    std::vector<X509*> cas = read_certificates(tls.client_ca);
    if (cas.empty()) {
      warnings.push_back(origin(tls.client_ca_file, "client_ca_file", "client_ca") +
                         " holds no PEM certificate: no client certificate can be verified");
    }
    m->client_ca_names.reset(sk_X509_NAME_new_null());
    for (X509* ca : cas) {
      if (m->client_store) X509_STORE_add_cert(m->client_store.get(), ca);
      sk_X509_NAME_push(m->client_ca_names.get(), X509_NAME_dup(X509_get_subject_name(ca)));
      X509_free(ca);
    }
  }
  static std::atomic<unsigned long long> generation{0};
  m->session_context = "pgbackup-" + std::to_string(++generation);
  m->ciphers = tls12_cipher_list(tls);
  m->groups = groups_list(tls);
  ERR_clear_error();
  return m;
}

void install_tls_source(SSL_CTX* ctx, const TlsMaterialSource* source) {
  material_index();  // registered before the first connection, not inside a handshake
  SSL_CTX_set_client_hello_cb(ctx, on_client_hello, const_cast<TlsMaterialSource*>(source));
  SSL_CTX_set_cert_verify_callback(ctx, verify_client_certificate, nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);  // each connection sets its own
}

std::vector<std::string> subject_alt_names(X509* cert) {
  std::vector<std::string> out;
  if (cert == nullptr) return out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    const ASN1_STRING* text = nullptr;
    if (name->type == GEN_DNS) text = name->d.dNSName;
    if (name->type == GEN_EMAIL) text = name->d.rfc822Name;
    if (name->type == GEN_URI) text = name->d.uniformResourceIdentifier;
    if (text != nullptr) {
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                       static_cast<std::size_t>(ASN1_STRING_length(text)));
    } else if (name->type == GEN_IPADD) {
      const int length = ASN1_STRING_length(name->d.iPAddress);
      const unsigned char* bytes = ASN1_STRING_get0_data(name->d.iPAddress);
      char buf[INET6_ADDRSTRLEN] = {};
      if ((length == 4 && inet_ntop(AF_INET, bytes, buf, sizeof(buf)) != nullptr) ||
          (length == 16 && inet_ntop(AF_INET6, bytes, buf, sizeof(buf)) != nullptr)) {
        out.emplace_back(buf);
      }
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

}  // namespace pgbackup
