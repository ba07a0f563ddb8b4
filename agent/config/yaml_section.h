#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "agent/config/config.h"

namespace pgbackup {

// Walks one YAML mapping of a config file, remembering where it is ("targets[0].backup") so
// every error can name the key and the line. Every reader throws ConfigError.
class Section {
 public:
  Section(const YAML::Node& node, std::string path, const std::string& source);

  // Rejects keys outside `allowed`, naming the ones known here.
  void allow_only(const std::vector<std::string_view>& allowed) const;

  bool has(const char* key) const { return static_cast<bool>(get(key)); }
  YAML::Node get(const char* key) const;
  Section section(const char* key) const { return Section(get(key), key_path(key), source_); }
  Section child(const YAML::Node& node, std::string path) const {
    return Section(node, std::move(path), source_);
  }
  std::string key_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  std::string string(const char* key, std::string fallback) const;
  std::string required_string(const char* key) const;
  long integer(const char* key, long fallback, long min, long max) const {
    return number<long>(key, fallback, min, max);
  }
  // A number in [min, max]; with an integral Number only whole numbers are accepted.
  template <typename Number>
  Number number(const char* key, Number fallback, std::type_identity_t<Number> min,
                std::type_identity_t<Number> max) const;
  std::chrono::seconds duration(const char* key, std::chrono::seconds fallback) const;
  // A duration that must be longer than 0s.
  std::chrono::seconds positive_duration(const char* key, std::chrono::seconds fallback) const;
  std::uint64_t size(const char* key, std::uint64_t fallback) const;
  // A 5-field cron expression, checked.
  std::string schedule(const char* key, std::string fallback) const;
  std::string choice(const char* key, std::string fallback,
                     const std::vector<std::string_view>& options) const;
  std::vector<std::string> string_list(const char* key) const;

  [[noreturn]] void fail(const YAML::Node& at, const std::string& message) const;

  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }

 private:
  template <typename Number>
  static std::string format_number(Number v) {
    std::ostringstream out;
    out << v;
    return out.str();
  }

  YAML::Node node_;
  std::string path_;
  const std::string& source_;
};

template <typename Number>
Number Section::number(const char* key, Number fallback, std::type_identity_t<Number> min,
                       std::type_identity_t<Number> max) const {
  constexpr bool whole = std::is_integral_v<Number>;
  const YAML::Node v = get(key);
  if (!v) return fallback;
  Number value{};
  try {
    std::size_t used = 0;
    if constexpr (whole) {
      value = std::stol(v.Scalar(), &used);
    } else {
      value = std::stod(v.Scalar(), &used);
    }
    if (used != v.Scalar().size()) throw std::invalid_argument("trailing characters");
  } catch (const std::exception&) {
    fail(v, key_path(key) + (whole ? " must be a whole number" : " must be a number") + ", got \"" +
                v.Scalar() + "\"");
  }
  if (value < min || value > max) {
    fail(v, key_path(key) + " must be between " + format_number(min) + " and " +
                format_number(max) + ", got " + v.Scalar());
  }
  return value;
}

}  // namespace pgbackup
