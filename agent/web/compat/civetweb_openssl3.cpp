// Built as a shared library whose file name and SONAME are "libssl.so" (see CMakeLists.txt).
//
// Why: Debian 12's libcivetweb1 (1.15) loads OpenSSL with dlopen("libssl.so") and looks up its
// functions by the OpenSSL 1.1 names. OpenSSL 3 no longer exports SSL_get_peer_certificate (it
// became a macro for SSL_get1_peer_certificate), so CivetWeb calls a null pointer on every TLS
// connection. The agent links this library; the dynamic loader then finds it under the SONAME
// "libssl.so", CivetWeb's dlopen returns it, and dlsym finds the missing function here and every
// other one in libssl.so.3, on which this library depends. It also means the agent does not need
// the unversioned libssl.so symlink from libssl-dev at run time.
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate

extern "C" {

// The OpenSSL 1.1 name; like SSL_get1_peer_certificate it returns a reference the caller frees.
__attribute__((visibility("default"))) X509* SSL_get_peer_certificate(const SSL* ssl) {
  return SSL_get1_peer_certificate(ssl);
}

// Referenced by the agent so that the linker keeps this library (--as-needed).
__attribute__((visibility("default"))) int pgbackup_civetweb_openssl3_compat() { return 1; }

}  // extern "C"
