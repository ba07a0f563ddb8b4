// Fields of JSON files: whole numbers in range or a clear error, never a cast of an impossible
// float; a format that is not a string is simply another format.
#include "agent/core/json_fields.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>

using namespace pgbackup;

TEST_CASE("a JSON number is a whole number of the type when it fits, else a clear error") {
  struct Row {
    const char* json;
    std::optional<std::int64_t> as_int64;
    std::optional<std::uint64_t> as_uint64;
    std::optional<int> as_int;
  };
  const Row rows[] = {
      {"0", 0, 0u, 0},
      {"42", 42, 42u, 42},
      {"-1", -1, std::nullopt, -1},
      {"4096.0", 4096, 4096u, 4096},  // a float with an integral value
      {"2147483648", 2147483648, 2147483648u, std::nullopt},
      {"-2147483648", -2147483648LL, std::nullopt, -2147483647 - 1},
      {"9223372036854775807", 9223372036854775807LL, 9223372036854775807ULL, std::nullopt},
      {"18446744073709551615", std::nullopt, 18446744073709551615ULL, std::nullopt},
      {"9223372036854775808.0", std::nullopt, 9223372036854775808ULL, std::nullopt},  // 2^63
      {"-9223372036854775808.0", INT64_MIN, std::nullopt, std::nullopt},
      {"18446744073709551616.0", std::nullopt, std::nullopt, std::nullopt},  // 2^64
      {"1e300", std::nullopt, std::nullopt, std::nullopt},                   // the fuzzer's crash
      {"-1e300", std::nullopt, std::nullopt, std::nullopt},
      {"1.5", std::nullopt, std::nullopt, std::nullopt},
      {"\"12\"", std::nullopt, std::nullopt, std::nullopt},
      {"null", std::nullopt, std::nullopt, std::nullopt},
      {"[1]", std::nullopt, std::nullopt, std::nullopt},
  };
  for (const Row& r : rows) {
    INFO(r.json);
    const nlohmann::json v = nlohmann::json::parse(r.json);
    if (r.as_int64) {
      CHECK(json_whole_number<std::int64_t>(v, "rows") == *r.as_int64);
    } else {
      CHECK_THROWS_AS(json_whole_number<std::int64_t>(v, "rows"), std::invalid_argument);
    }
    if (r.as_uint64) {
      CHECK(json_whole_number<std::uint64_t>(v, "size_bytes") == *r.as_uint64);
    } else {
      CHECK_THROWS_AS(json_whole_number<std::uint64_t>(v, "size_bytes"), std::invalid_argument);
    }
    if (r.as_int) {
      CHECK(json_whole_number<int>(v, "toc_entries") == *r.as_int);
    } else {
      CHECK_THROWS_AS(json_whole_number<int>(v, "toc_entries"), std::invalid_argument);
    }
  }
  CHECK_THROWS_WITH(json_whole_number<int>(nlohmann::json::parse("1e300"), "toc_entries"),
                    "\"toc_entries\" must be a whole number from -2147483648 to 2147483647, not "
                    "1e+300");
  const nlohmann::json object = {{"chunks", 3}};
  CHECK(json_whole_number_or(object, "chunks", std::int64_t{0}) == 3);
  CHECK(json_whole_number_or(object, "compressed_chunks", std::int64_t{7}) == 7);
  CHECK_THROWS_AS(json_whole_number_at<int>(object, "missing"), nlohmann::json::out_of_range);
}

TEST_CASE("a document has a format only when its \"format\" is that string") {
  CHECK(json_has_format(nlohmann::json::parse(R"({"format": "pgbackup-manifest/1"})"),
                        "pgbackup-manifest/1"));
  for (const char* other : {R"({"format": "pgbackup-manifest/2"})", R"({"format": 1})",
                            R"({"format": null})", R"({"format": ["pgbackup-manifest/1"]})",
                            R"({})", R"(["format"])", R"("pgbackup-manifest/1")"}) {
    INFO(other);
    CHECK_FALSE(json_has_format(nlohmann::json::parse(other), "pgbackup-manifest/1"));
  }
}
