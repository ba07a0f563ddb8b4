// The pure parts of the S3 client: encoding, signing, URLs, XML answers.
#include <catch2/catch.hpp>

#include <set>

#include "agent/storage/s3/client.h"

namespace pgbackup {

TEST_CASE("keys and query values are percent-encoded as SigV4 wants") {
  CHECK(s3_uri_encode("db1/pnode_20260101_020000.dump", true) == "db1/pnode_20260101_020000.dump");
  CHECK(s3_uri_encode("db1/", false) == "db1%2F");
  CHECK(s3_uri_encode("a b+c=d~e", false) == "a%20b%2Bc%3Dd~e");
  CHECK(s3_uri_encode("\xc3\xa9", false) == "%C3%A9");
}

TEST_CASE("requests go to path-style or virtual-hosted URLs") {
  S3Config c;
  c.endpoint = "https://s3.eu-west-1.amazonaws.com/";
  c.bucket = "backups";
  CHECK(s3_request_url(c, "db 1/x.dump", "") ==
        "https://backups.s3.eu-west-1.amazonaws.com/db%201/x.dump");
  CHECK(s3_request_url(c, "", "list-type=2") ==
        "https://backups.s3.eu-west-1.amazonaws.com/?list-type=2");
  c.path_style = true;
  c.endpoint = "http://127.0.0.1:9000";
  CHECK(s3_request_url(c, "db1/x.dump", "uploads=") ==
        "http://127.0.0.1:9000/backups/db1/x.dump?uploads=");
  CHECK(s3_request_url(c, "", "") == "http://127.0.0.1:9000/backups/");
}

TEST_CASE("the SigV4 signer reproduces AWS's documented GET Object example") {
  // docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html, "GET Object".
  SigV4Request r;
  r.method = "GET";
  r.host = "examplebucket.s3.amazonaws.com";
  r.path = "/test.txt";
  r.payload_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  r.amz_date = "20130524T000000Z";
  r.region = "us-east-1";
  r.headers = {{"Range", "bytes=0-9"},
               {"x-amz-content-sha256", r.payload_sha256},
               {"x-amz-date", r.amz_date}};
  CHECK(sigv4_authorization(r,
                            {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}) ==
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE(
    "headers whose names share a prefix are signed in name order, as botocore signs them "
    "(curl 7.88's own signer got this wrong, curl#14370)") {
  // Expected value computed with botocore's S3SigV4Auth (the reference the [s3] proxy uses).
  SigV4Request r;
  r.method = "PUT";
  r.host = "examplebucket.s3.amazonaws.com";
  r.path = "/db1/x_20260101_020000.dump";
  r.query = "uploadId=abc%2Fdef&partNumber=2";  // any order: the signer sorts it
  r.payload_sha256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
  r.amz_date = "20130524T000000Z";
  r.region = "us-east-1";
  r.headers = {
      {"x-amz-server-side-encryption-aws-kms-key-id", "arn:aws:kms:us-east-1:111122223333:key/k1"},
      {"x-amz-server-side-encryption", "aws:kms"},
      {"x-amz-storage-class", "GLACIER"},
      {"x-amz-content-sha256", r.payload_sha256},
      {"x-amz-date", r.amz_date}};
  CHECK(sigv4_authorization(r,
                            {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}) ==
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-server-side-encryption;"
        "x-amz-server-side-encryption-aws-kms-key-id;x-amz-storage-class, "
        "Signature=ddf0c8067ba379b11224bfd29d257083057f9383593acdbe674a099d2564074b");
}

TEST_CASE("a request is signed with the Host, x-amz-date and query it is sent with") {
  std::vector<std::string> headers = {"x-amz-content-sha256: " + std::string(kEmptyPayloadSha256)};
  sign_request("GET", "http://127.0.0.1:9000/backups/?prefix=db1%2F&list-type=2",
               kEmptyPayloadSha256, "us-east-1", {"AKID", "secret"},
               *parse_iso8601("2026-02-01T02:03:04Z"), headers);
  REQUIRE(headers.size() == 4);
  CHECK(headers[1] == "x-amz-date: 20260201T020304Z");
  CHECK(headers[2] == "Host: 127.0.0.1:9000");
  SigV4Request same;
  same.method = "GET";
  same.host = "127.0.0.1:9000";
  same.path = "/backups/";
  same.query = "list-type=2&prefix=db1%2F";
  same.payload_sha256 = kEmptyPayloadSha256;
  same.amz_date = "20260201T020304Z";
  same.region = "us-east-1";
  same.headers = {{"x-amz-content-sha256", kEmptyPayloadSha256},
                  {"x-amz-date", "20260201T020304Z"}};
  CHECK(headers[3] == "Authorization: " + sigv4_authorization(same, {"AKID", "secret"}));
}

TEST_CASE("s3:// addresses split into bucket and key, and malformed ones are refused") {
  const auto ok = parse_s3_url("s3://backups/pnode/pnode_20260101_020000.dump");
  REQUIRE(ok);
  CHECK(ok->bucket == "backups");
  CHECK(ok->key == "pnode/pnode_20260101_020000.dump");
  CHECK(format_s3_url(ok->bucket, ok->key) == "s3://backups/pnode/pnode_20260101_020000.dump");
  for (const char* bad : {"/backups/x.dump", "s3://backups", "s3://backups/", "s3:///x.dump"}) {
    INFO(bad);
    CHECK_FALSE(parse_s3_url(bad));
  }
}

TEST_CASE("a ListObjectsV2 page gives its objects and the token of the next page") {
  const std::string page =
      R"(<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name>)"
      R"(<Prefix>db1/</Prefix><IsTruncated>true</IsTruncated>)"
      R"(<Contents><Key>db1/a&amp;b.dump</Key><LastModified>2026-02-01T02:03:04.000Z</LastModified>)"
      R"(<ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag><Size>4096</Size>)"
      R"(<StorageClass>GLACIER</StorageClass></Contents>)"
      R"(<Contents><Key>db1/c.dump.json</Key><Size>12</Size><ETag>"x-2"</ETag></Contents>)"
      R"(<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>)"
      R"(</ListBucketResult>)";
  const S3ListPage p = parse_list_page(page);
  REQUIRE(p.objects.size() == 2);
  CHECK(p.objects[0].key == "db1/a&b.dump");
  CHECK(p.objects[0].size == 4096);
  CHECK(p.objects[0].etag == "0cc175b9c0f1b6a831c399e269772661");
  CHECK(p.objects[0].storage_class == "GLACIER");
  CHECK(p.objects[0].last_modified == parse_iso8601("2026-02-01T02:03:04Z"));
  CHECK(p.objects[1].etag == "x-2");
  CHECK(p.next_continuation_token == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");

  const S3ListPage last = parse_list_page(
      "<ListBucketResult><IsTruncated>false</IsTruncated>"
      "<NextContinuationToken>t</NextContinuationToken>"
      "</ListBucketResult>");
  CHECK(last.objects.empty());
  CHECK(last.next_continuation_token.empty());
}

TEST_CASE("an S3 error body gives its code and message") {
  const std::string body =
      "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated "
      "does not match &lt;the one&gt; you provided</Message></Error>";
  CHECK(xml_values(body, "Code") == std::vector<std::string>{"SignatureDoesNotMatch"});
  CHECK(xml_values(body, "Message").front() ==
        "The request signature we calculated does not match <the one> you provided");
  CHECK(xml_values(body, "Missing").empty());
}

TEST_CASE("a ListObjectsV2 page with a time the clock cannot hold lists the object without one") {
  // fuzz (s3_xml_fuzz.cpp): LastModified in 4052 overflowed system_clock (UBSan).
  const S3ListPage p = parse_list_page(
      "<ListBucketResult><Contents><Key>db1/a.dump</Key>"
      "<LastModified>4052-02-01T02:03:04.000Z</LastModified><Size>7</Size></Contents>"
      "</ListBucketResult>");
  REQUIRE(p.objects.size() == 1);
  CHECK(p.objects[0].key == "db1/a.dump");
  CHECK_FALSE(p.objects[0].last_modified);
}

TEST_CASE("an answer is retried for a reason, or not at all") {
  struct Row {
    long status;
    bool timed_out;
    std::optional<RetryReason> reason;
  };
  const Row rows[] = {
      {0, false, RetryReason::network},         // refused, reset, cut
      {0, true, RetryReason::timeout},          // stalled past stall_timeout, or no connection
      {429, false, RetryReason::throttled},     // Too Many Requests
      {503, false, RetryReason::throttled},     // SlowDown
      {500, false, RetryReason::server_error},  // InternalError
      {502, false, RetryReason::server_error},
      {599, false, RetryReason::server_error},
      {200, false, std::nullopt},
      {204, false, std::nullopt},
      {301, false, std::nullopt},
      {400, false, std::nullopt},
      {403, false, std::nullopt},  // wrong keys: trying again cannot help
      {404, false, std::nullopt},
      {409, false, std::nullopt},
  };
  for (const Row& r : rows) {
    INFO("HTTP " << r.status << (r.timed_out ? ", timed out" : ""));
    CHECK(retry_reason(r.status, r.timed_out) == r.reason);
  }
  std::set<std::string> names;
  for (RetryReason reason : kRetryReasons) names.insert(retry_reason_name(reason));
  CHECK(names == std::set<std::string>{"network", "timeout", "throttled", "server_error"});
}

}  // namespace pgbackup
