#include "agent/rules/recovery_target.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <utility>

#include "agent/core/errors.h"

namespace pgbackup {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// The fraction of "...:SS.fff" (digits after the dot) as microseconds; nullopt when malformed.
std::optional<microseconds> fraction_of(std::string_view text) {
  const std::size_t seconds_end = text.find_first_of("Z+");
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos || dot > seconds_end) return microseconds(0);
  const std::string_view digits = text.substr(dot + 1, seconds_end - dot - 1);
  if (digits.empty() || digits.size() > 9) return std::nullopt;
  long long us = 0;
  for (std::size_t i = 0; i < 6; ++i) {
    const char c = i < digits.size() ? digits[i] : '0';
    if (c < '0' || c > '9') return std::nullopt;
    us = us * 10 + (c - '0');
  }
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return microseconds(us);
}

std::string window_text(const RecoveryWindow& w) {
  return format_target_time(*w.start) + " .. " + format_target_time(*w.end);
}

}  // namespace

RecoveryTarget RecoveryTarget::at_time(SysTime t) {
  RecoveryTarget r;
  r.kind = Kind::time;
  r.time = std::chrono::time_point_cast<microseconds>(t);
  return r;
}

RecoveryTarget RecoveryTarget::at_lsn(std::string lsn) {
  RecoveryTarget r;
  r.kind = Kind::lsn;
  r.lsn = std::move(lsn);
  return r;
}

std::string RecoveryTarget::describe() const {
  switch (kind) {
    case Kind::time:
      return "time " + format_target_time(time);
    case Kind::lsn:
      return "lsn " + lsn;
    case Kind::latest:
      break;
  }
  return "latest";
}

std::optional<SysTime> parse_target_time(std::string_view text) {
  const std::optional<SysTime> whole = parse_iso8601(text);
  if (!whole) return std::nullopt;
  const std::optional<microseconds> fraction = fraction_of(text);
  if (!fraction) return std::nullopt;
  return *whole + *fraction;
}

std::string format_target_time(SysTime t) {
  const auto us = duration_cast<microseconds>(t.time_since_epoch()).count() % 1000000;
  const auto whole = t - microseconds(us < 0 ? us + 1000000 : us);
  std::string out = format_iso8601(whole);
  if (us == 0) return out;
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(us < 0 ? us + 1000000 : us));
  std::string f = frac;
  while (f.back() == '0') f.pop_back();
  out.insert(out.size() - 1, f);
  return out;
}

std::optional<std::string> parse_lsn(std::string_view text) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view hi = text.substr(0, slash);
  const std::string_view lo = text.substr(slash + 1);
  for (std::string_view part : {hi, lo}) {
    if (part.empty() || part.size() > 8 || !std::all_of(part.begin(), part.end(), is_hex)) {
      return std::nullopt;
    }
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(std::stoul(std::string(hi), 0, 16)),
                static_cast<unsigned>(std::stoul(std::string(lo), 0, 16)));
  return std::string(buf);
}

std::uint64_t lsn_value(std::string_view lsn) {
  const std::size_t slash = lsn.find('/');
  const std::uint64_t hi = std::stoull(std::string(lsn.substr(0, slash)), nullptr, 16);
  const std::uint64_t lo = std::stoull(std::string(lsn.substr(slash + 1)), nullptr, 16);
  return (hi << 32) | lo;
}

RecoveryTarget parse_recovery_target(const std::optional<std::string>& time,
                                     const std::optional<std::string>& lsn, bool latest) {
  const int given = (time ? 1 : 0) + (lsn ? 1 : 0) + (latest ? 1 : 0);
  if (given > 1) {
    throw OperationError("--time, --lsn and --latest exclude each other: give one of them");
  }
  if (time) {
    const std::optional<SysTime> t = parse_target_time(*time);
    if (!t) {
      throw OperationError("--time '" + *time +
                           "' is not a time in UTC (hint: ISO 8601 as the agent prints it, "
                           "e.g. 2026-12-06T14:04:00Z; fractions of a second are allowed)");
    }
    return RecoveryTarget::at_time(*t);
  }
  if (lsn) {
    const std::optional<std::string> l = parse_lsn(*lsn);
    if (!l) {
      throw OperationError("--lsn '" + *lsn +
                           "' is not an LSN (hint: two hexadecimal numbers, e.g. 0/3000060)");
    }
    return RecoveryTarget::at_lsn(*l);
  }
  return RecoveryTarget::latest();
}

std::string check_in_window(const RecoveryTarget& target, const RecoveryWindow& window) {
  if (!window.start || !window.end) {
    return "no recovery window: the target has no good backup to restore from";
  }
  if (target.kind != RecoveryTarget::Kind::time) return "";
  if (target.time < *window.start) {
    return "target " + target.describe() + " is before the recovery window " + window_text(window) +
           " (the oldest good backup finished at its start)";
  }
  if (target.time > *window.end) {
    return "target " + target.describe() + " is after the recovery window " + window_text(window) +
           " (the archive ends there)";
  }
  return "";
}

SysTime random_time_in(const RecoveryWindow& window, double unit) {
  const SysTime start = *window.start;
  const SysTime end = *window.end;
  if (end <= start) return start;
  unit = std::clamp(unit, 0.0, 1.0);
  const auto span = duration_cast<milliseconds>(end - start);
  const auto offset =
      milliseconds(static_cast<long long>(static_cast<double>(span.count()) * unit));
  // Whole milliseconds from the window's start, so never before it nor after its end.
  return std::clamp(start + offset, start, end);
}

const CatalogEntry* choose_backup(const std::vector<CatalogEntry>& catalog,
                                  const RecoveryTarget& target) {
  const CatalogEntry* chosen = nullptr;
  for (const CatalogEntry& e : catalog) {
    if (!e.good()) continue;
    if (target.kind == RecoveryTarget::Kind::time && e.finished_at() > target.time) continue;
    if (chosen == nullptr || e.finished_at() >= chosen->finished_at()) chosen = &e;
  }
  return chosen;
}

}  // namespace pgbackup
