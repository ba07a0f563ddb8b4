// Hostile or damaged manifests (found by tests/fuzz/manifest_fuzz.cpp, or the hostile backup
// directory of issue 15): each is a clear std::runtime_error, never another exception or a path.
#include "agent/catalog/manifest.h"

#include <catch2/catch.hpp>

#include <stdexcept>

#include "agent/core/file_io.h"

using namespace pgbackup;

namespace {

nlohmann::json fixture() {
  return nlohmann::json::parse(read_file(std::string(PGBACKUP_SOURCE_DIR) +
                                         "/tests/fixtures/metrics/anomaly/"
                                         "shop_20260202_030000.dump.json"));
}

}  // namespace

TEST_CASE("a manifest with an unknown tier, kind or change type is malformed, not a crash") {
  // fuzz: parse_tier's std::invalid_argument escaped manifest_from_json (a logic_error, which
  // DumpCatalog::scan's callers did not expect from a manifest).
  nlohmann::json j = fixture();
  j["tier"] = "wee ly";
  CHECK_THROWS_AS(manifest_from_json(j), std::runtime_error);
  CHECK_THROWS_WITH(manifest_from_json(j), Catch::Contains("malformed manifest") &&
                                               Catch::Contains("unknown tier \"wee ly\""));
  j = fixture();
  j["tables"][0]["kind"] = "view";
  CHECK_THROWS_WITH(manifest_from_json(j), Catch::Contains("malformed manifest"));
}

TEST_CASE("a JSON document that is not an object is not a manifest") {
  for (const char* text : {"[]", "3", "\"pgbackup-manifest/1\"", "null"}) {
    INFO(text);
    CHECK_THROWS_WITH(manifest_from_json(nlohmann::json::parse(text)),
                      "not a pgbackup-manifest/1 document");
  }
}

TEST_CASE("a manifest whose file is a path, not the dump beside it, is malformed") {
  for (const char* file : {"../outside.dump", "/etc/passwd", "sub/x.dump", "..", ".", ""}) {
    INFO(file);
    nlohmann::json j = fixture();
    j["file"] = file;
    CHECK_THROWS_WITH(manifest_from_json(j),
                      Catch::Contains("must name the dump beside the manifest, not a path"));
  }
}

TEST_CASE("a manifest names the dump it describes, or says which other file it names") {
  const Manifest m = manifest_from_json(fixture());
  CHECK(manifest_mismatch(m, "shop_20260202_030000.dump").empty());
  CHECK_THAT(manifest_mismatch(m, "shop_20260203_030000.dump"),
             Catch::Contains("describes another file, \"shop_20260202_030000.dump\""));
}

TEST_CASE("timestamps outside what the clock holds are malformed, not an overflow") {
  // fuzz (s3_xml, manifest): a year past 2262 overflowed system_clock's nanoseconds (UBSan).
  nlohmann::json j = fixture();
  j["started_at"] = "4052-02-01T02:03:04Z";
  CHECK_THROWS_WITH(manifest_from_json(j), "malformed timestamp in started_at");
}

TEST_CASE("a manifest names its own companion file, beside it, or says which other one") {
  nlohmann::json j = fixture();
  j["globals"] = {
      {"file", "shop_20260202_030000.dump.globals"}, {"size_bytes", 10}, {"sha256", "00"}};
  CHECK(manifest_mismatch(manifest_from_json(j), "shop_20260202_030000.dump").empty());
  j["globals"]["file"] = "shop_20260101_030000.dump.globals";
  CHECK_THAT(
      manifest_mismatch(manifest_from_json(j), "shop_20260202_030000.dump"),
      Catch::Contains("names another companion file, \"shop_20260101_030000.dump.globals\""));
  for (const char* file : {"../shop_20260202_030000.dump.globals", "/etc/shadow", ""}) {
    INFO(file);
    j["globals"]["file"] = file;
    CHECK_THROWS_WITH(manifest_from_json(j),
                      Catch::Contains("must name the companion file beside the manifest"));
  }
}

TEST_CASE("a manifest whose counts are impossible numbers is malformed, not undefined behaviour") {
  // fuzz (manifest_fuzz.cpp, UBSan float-cast-overflow): "rows": 1e300 was cast to int64_t.
  for (const char* field : {"rows", "size_bytes", "toc_entries"}) {
    INFO(field);
    nlohmann::json j = fixture();
    if (std::string(field) == "rows") {
      j["tables"][0]["rows"] = 1e300;
    } else {
      j[field] = -1e300;
    }
    CHECK_THROWS_AS(manifest_from_json(j), std::runtime_error);
    CHECK_THROWS_WITH(manifest_from_json(j),
                      Catch::Contains("malformed manifest") &&
                          Catch::Contains(std::string("\"") + field + "\" must be a whole number"));
  }
  nlohmann::json j = fixture();
  j["tables"][0]["rows"] = 12.0;  // a whole number written as a float is still read
  CHECK(manifest_from_json(j).tables[0].rows == 12);
}

TEST_CASE("a manifest whose format is not a string is not a manifest, not a crash") {
  // fuzz (manifest_fuzz.cpp): value("format", "") threw a type_error outside the parser's try.
  nlohmann::json j = fixture();
  j["format"] = 1;
  CHECK_THROWS_WITH(manifest_from_json(j), "not a pgbackup-manifest/1 document");
}

TEST_CASE("an encrypted dump's manifest keeps the plaintext's size, SHA-256 and the recipients") {
  nlohmann::json j = fixture();
  j["file"] = "shop_20260202_030000.dump.age";
  j["encryption"] = {{"format", "age"},
                     {"recipients", {"age1a", "age1b"}},
                     {"fingerprints", {"f1", "f2"}},
                     {"plaintext_size_bytes", 1234},
                     {"plaintext_sha256", "ab"}};
  const Manifest m = manifest_from_json(j);
  REQUIRE(m.encryption);
  CHECK(m.encryption->recipients == std::vector<std::string>{"age1a", "age1b"});
  CHECK(m.encryption->plaintext_size_bytes == 1234);
  CHECK(manifest_from_json(manifest_to_json(m)).encryption->plaintext_sha256 == "ab");
  CHECK(manifest_mismatch(m, "shop_20260202_030000.dump.age").empty());
  CHECK_FALSE(manifest_from_json(fixture()).encryption);

  // The file's name and the manifest agree on whether it is encrypted.
  j["file"] = "shop_20260202_030000.dump";
  CHECK_THAT(manifest_mismatch(manifest_from_json(j), "shop_20260202_030000.dump"),
             Catch::Contains("says the dump is encrypted"));
  nlohmann::json plain = fixture();
  plain["file"] = "shop_20260202_030000.dump.age";
  CHECK_THAT(manifest_mismatch(manifest_from_json(plain), "shop_20260202_030000.dump.age"),
             Catch::Contains("describes a plaintext dump"));
  j["encryption"]["format"] = "gpg";
  CHECK_THROWS_WITH(manifest_from_json(j), Catch::Contains("must be \"age\""));
}
