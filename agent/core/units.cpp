#include "agent/core/units.h"

#include <cctype>
#include <cstdio>
#include <stdexcept>

namespace pgbackup {
namespace {

struct Unit {
  std::string_view suffix;
  std::uint64_t factor;
};

constexpr Unit kDurationUnits[] = {{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}};
constexpr Unit kSizeUnits[] = {{"TiB", 1ULL << 40},
                               {"GiB", 1ULL << 30},
                               {"MiB", 1ULL << 20},
                               {"KiB", 1ULL << 10},
                               {"B", 1},
                               {"", 1}};

// Reads the leading digits of `text` into `value`; returns how many characters it used.
std::size_t read_number(std::string_view text, std::uint64_t& value) {
  std::size_t i = 0;
  value = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (value > (UINT64_MAX - 9) / 10) throw std::invalid_argument("number too large");
    value = value * 10 + static_cast<std::uint64_t>(text[i] - '0');
    ++i;
  }
  return i;
}

}  // namespace

std::chrono::seconds parse_duration(std::string_view text) {
  const std::string hint =
      "invalid duration \"" + std::string(text) +
      "\": expected a number with a unit s, m, h or d (e.g. 90s, 45m, 26h, 30d)";
  if (text.empty()) throw std::invalid_argument(hint);
  std::uint64_t total = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    std::uint64_t value = 0;
    const std::size_t digits = read_number(rest, value);
    if (digits == 0 || digits == rest.size()) throw std::invalid_argument(hint);
    rest.remove_prefix(digits);
    bool matched = false;
    for (const Unit& unit : kDurationUnits) {
      if (rest.substr(0, unit.suffix.size()) == unit.suffix) {
        total += value * unit.factor;
        rest.remove_prefix(unit.suffix.size());
        matched = true;
        break;
      }
    }
    if (!matched) throw std::invalid_argument(hint);
  }
  return std::chrono::seconds(static_cast<std::int64_t>(total));
}

std::uint64_t parse_size(std::string_view text) {
  const std::string hint = "invalid size \"" + std::string(text) +
                           "\": expected bytes or a number with KiB, MiB, GiB or TiB (e.g. 512KiB)";
  std::uint64_t value = 0;
  const std::size_t digits = read_number(text, value);
  if (digits == 0) throw std::invalid_argument(hint);
  const std::string_view suffix = text.substr(digits);
  for (const Unit& unit : kSizeUnits) {
    if (suffix == unit.suffix) return value * unit.factor;
  }
  throw std::invalid_argument(hint);
}

std::string format_duration(std::chrono::seconds d) {
  std::int64_t s = d.count();
  if (s == 0) return "0s";
  std::string out;
  if (s < 0) {
    out = "-";
    s = -s;
  }
  for (const Unit& unit : kDurationUnits) {
    const auto factor = static_cast<std::int64_t>(unit.factor);
    if (s >= factor) {
      out += std::to_string(s / factor) + std::string(unit.suffix);
      s %= factor;
    }
  }
  return out;
}

std::string format_size(std::uint64_t bytes) {
  for (const Unit& unit : kSizeUnits) {
    if (bytes != 0 && bytes % unit.factor == 0) {
      return std::to_string(bytes / unit.factor) + std::string(unit.suffix);
    }
  }
  return "0B";
}

std::string format_age(std::chrono::system_clock::time_point t,
                       std::chrono::system_clock::time_point now) {
  const auto age = std::chrono::duration_cast<std::chrono::seconds>(now - t);
  if (age < std::chrono::minutes(1)) return std::to_string(age.count()) + "s";
  return format_duration(std::chrono::duration_cast<std::chrono::minutes>(age));
}

std::string format_bytes(std::uint64_t bytes) {
  static constexpr const char* kNames[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, value < 10 ? "%.1f %s" : "%.0f %s", value, kNames[unit]);
  }
  return buf;
}

}  // namespace pgbackup
