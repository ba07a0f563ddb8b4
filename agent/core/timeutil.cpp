#include "agent/core/timeutil.h"

#include <cstdio>
#include <ctime>

namespace pgbackup {
namespace {

std::tm to_utc_tm(SysTime t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

// SysTime counts nanoseconds in 64 bits: about 1678 to 2262. Times outside are refused rather
// than overflowed.
constexpr double kMaxUnixSeconds = 9.2e9;

std::optional<SysTime> from_utc_fields(int year, int mon, int day, int hour, int min, int sec) {
  if (year < 1900 || year > 2200 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour < 0 ||
      hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  const std::time_t secs = timegm(&tm);
  // timegm moves a day past the month's end into the next month (February 31 -> March 3).
  if (tm.tm_mday != day && sec != 60) return std::nullopt;
  return std::chrono::system_clock::from_time_t(secs);
}

}  // namespace

double to_unix_seconds(SysTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

SysTime from_unix_seconds(double seconds) {
  if (!(seconds > -kMaxUnixSeconds && seconds < kMaxUnixSeconds)) return SysTime{};  // NaN too
  return SysTime(
      std::chrono::duration_cast<SysTime::duration>(std::chrono::duration<double>(seconds)));
}

std::string format_iso8601(SysTime t) {
  const std::tm tm = to_utc_tm(t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<SysTime> parse_iso8601(std::string_view text) {
  int y, mo, d, h, mi, s, used = 0;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &used) !=
      6) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(static_cast<std::size_t>(used));
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') rest.remove_prefix(1);
  }
  if (rest != "Z" && rest != "+00:00") return std::nullopt;
  return from_utc_fields(y, mo, d, h, mi, s);
}

std::string format_file_stamp(SysTime t) {
  const std::tm tm = to_utc_tm(t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d_%H%M%S", &tm);
  return buf;
}

std::optional<SysTime> parse_file_stamp(std::string_view text) {
  if (text.size() != 15 || text[8] != '_') return std::nullopt;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i != 8 && (text[i] < '0' || text[i] > '9')) return std::nullopt;
  }
  auto num = [&](std::size_t pos, std::size_t len) {
    return std::stoi(std::string(text.substr(pos, len)));
  };
  return from_utc_fields(num(0, 4), num(4, 2), num(6, 2), num(9, 2), num(11, 2), num(13, 2));
}

}  // namespace pgbackup
