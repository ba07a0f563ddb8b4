#pragma once

// Fields of JSON files the agent may not have written itself (manifests, companion files), read
// without the traps of nlohmann's conveniences (both found by tests/fuzz/manifest_fuzz.cpp):
// get<int>() casts a float such as 1e300 straight to the integer type (undefined behaviour), and
// value("format", "") throws when the field is there but not a string.

#include <nlohmann/json.hpp>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace pgbackup {

// Whether `j` is an object whose "format" is the string `format` ("pgbackup-manifest/1").
inline bool json_has_format(const nlohmann::json& j, std::string_view format) {
  if (!j.is_object()) return false;
  const auto it = j.find("format");
  return it != j.end() && it->is_string() && it->get_ref<const std::string&>() == format;
}

// `v` as T when it is a whole number T holds: an integer, or a float with an integral value
// (what another JSON writer may make of a large count). Else std::invalid_argument naming `what`.
template <std::integral T>
T json_whole_number(const nlohmann::json& v, const std::string& what) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (std::in_range<T>(u)) return static_cast<T>(u);
  } else if (v.is_number_integer()) {
    const auto i = v.get<std::int64_t>();
    if (std::in_range<T>(i)) return static_cast<T>(i);
  } else if (v.is_number_float()) {
    // [lowest, 2^digits): both ends are exact doubles, unlike max() of a 64-bit type.
    const double d = v.get<double>();
    const double end = std::ldexp(1.0, std::numeric_limits<T>::digits);
    const double lowest = std::is_signed_v<T> ? -end : 0.0;
    if (std::isfinite(d) && d == std::trunc(d) && d >= lowest && d < end) {
      return static_cast<T>(d);
    }
  }
  throw std::invalid_argument("\"" + what + "\" must be a whole number from " +
                              std::to_string(std::numeric_limits<T>::min()) + " to " +
                              std::to_string(std::numeric_limits<T>::max()) + ", not " +
                              (v.is_number() ? v.dump() : std::string(v.type_name())));
}

// The whole number at `key` of the object `j` (nlohmann's out_of_range when it is missing).
template <std::integral T>
T json_whole_number_at(const nlohmann::json& j, const std::string& key) {
  return json_whole_number<T>(j.at(key), key);
}

// The whole number at `key`, or `fallback` when the object has no such key.
template <std::integral T>
T json_whole_number_or(const nlohmann::json& j, const std::string& key, T fallback) {
  return j.contains(key) ? json_whole_number<T>(j.at(key), key) : fallback;
}

}  // namespace pgbackup
