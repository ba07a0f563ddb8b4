#include "agent/storage/s3/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "agent/core/sha256.h"

namespace pgbackup {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// A header value as SigV4 signs it: no spaces around, runs of spaces inside made one.
std::string canonical_value(const std::string& value) {
  std::string out;
  for (const char c : value) {
    const bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The query's name=value pairs sorted by name, then value (a bare name gets "=").
std::string canonical_query(const std::string& query) {
  std::vector<std::pair<std::string, std::string>> params;
  for (std::size_t at = 0; at < query.size();) {
    std::size_t end = query.find('&', at);
    if (end == std::string::npos) end = query.size();
    const std::string param = query.substr(at, end - at);
    const std::size_t eq = param.find('=');
    if (!param.empty()) {
      params.emplace_back(param.substr(0, eq), eq == std::string::npos ? "" : param.substr(eq + 1));
    }
    at = end + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) out += (out.empty() ? "" : "&") + name + "=" + value;
  return out;
}

std::string hmac_sha256(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string sha256_hex(const std::string& data) {
  Sha256 sha;
  sha.update(data.data(), data.size());
  return sha.hex_digest();
}

}  // namespace

std::string s3_uri_encode(const std::string& text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string sigv4_authorization(const SigV4Request& r, const S3Credentials& credentials) {
  std::vector<std::pair<std::string, std::string>> headers = {{"host", r.host}};
  for (const auto& [name, value] : r.headers) {
    headers.emplace_back(lower(name), canonical_value(value));
  }
  std::sort(headers.begin(), headers.end());  // by name: names are unique
  std::string canonical_headers;
  std::string signed_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    signed_headers += (signed_headers.empty() ? "" : ";") + name;
  }
  const std::string canonical = r.method + "\n" + r.path + "\n" + canonical_query(r.query) + "\n" +
                                canonical_headers + "\n" + signed_headers + "\n" + r.payload_sha256;
  const std::string day = r.amz_date.substr(0, 8);
  const std::string scope = day + "/" + r.region + "/s3/aws4_request";
  const std::string to_sign =
      "AWS4-HMAC-SHA256\n" + r.amz_date + "\n" + scope + "\n" + sha256_hex(canonical);
  const std::string key = hmac_sha256(
      hmac_sha256(hmac_sha256(hmac_sha256("AWS4" + credentials.secret_access_key, day), r.region),
                  "s3"),
      "aws4_request");
  return "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
         ", SignedHeaders=" + signed_headers +
         ", Signature=" + hex_encode(hmac_sha256(key, to_sign));
}

std::string amz_date(SysTime t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  return stamp;
}

void sign_request(const std::string& method, const std::string& url,
                  const std::string& payload_sha256, const std::string& region,
                  const S3Credentials& credentials, SysTime now,
                  std::vector<std::string>& header_lines) {
  // The Host header is set explicitly, so what is sent is what was signed.
  const std::size_t host_at = url.find("://") + 3;
  const std::size_t path_at = url.find('/', host_at);
  const std::size_t query_at = url.find('?', path_at);
  SigV4Request r;
  r.method = method;
  r.host = url.substr(host_at, path_at - host_at);
  r.path = url.substr(path_at, query_at - path_at);
  r.query = query_at == std::string::npos ? "" : url.substr(query_at + 1);
  r.payload_sha256 = payload_sha256;
  r.region = region;
  r.amz_date = amz_date(now);
  header_lines.push_back("x-amz-date: " + r.amz_date);
  for (const std::string& line : header_lines) {
    const auto colon = line.find(':');
    r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  header_lines.push_back("Host: " + r.host);
  header_lines.push_back("Authorization: " + sigv4_authorization(r, credentials));
}

}  // namespace pgbackup
