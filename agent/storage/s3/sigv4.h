#pragma once

#include <string>
#include <utility>
#include <vector>

#include "agent/core/timeutil.h"

namespace pgbackup {

struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
};

// The x-amz-content-sha256 of a request without a body.
inline constexpr char kEmptyPayloadSha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// RFC 3986 percent-encoding as SigV4 wants it (unreserved kept; '/' kept when keep_slash).
std::string s3_uri_encode(const std::string& text, bool keep_slash);

// One request to sign with AWS Signature Version 4 (service s3).
struct SigV4Request {
  std::string method;
  std::string host;                                          // as sent in the Host header
  std::string path;                                          // already encoded
  std::string query;                                         // already encoded, any order
  std::vector<std::pair<std::string, std::string>> headers;  // besides host; any case
  std::string payload_sha256;
  std::string amz_date;  // YYYYMMDDTHHMMSSZ, also sent as x-amz-date
  std::string region;
};
// The Authorization header value for `request` signed with `credentials`. Headers are signed in
// the order of their names (x-amz-server-side-encryption before
// x-amz-server-side-encryption-aws-kms-key-id), query parameters in the order of theirs.
std::string sigv4_authorization(const SigV4Request& request, const S3Credentials& credentials);

// "20130524T000000Z": a time as x-amz-date wants it (UTC).
std::string amz_date(SysTime t);

// Signs a request about to be sent to `url` (scheme://host/path?query, path and query encoded)
// at `now`: adds x-amz-date, Host and Authorization to `header_lines` ("Name: value"), which
// must already hold every other header to sign, x-amz-content-sha256 included.
void sign_request(const std::string& method, const std::string& url,
                  const std::string& payload_sha256, const std::string& region,
                  const S3Credentials& credentials, SysTime now,
                  std::vector<std::string>& header_lines);

}  // namespace pgbackup
