#include "agent/schedule/cron.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <stdexcept>
#include <vector>

namespace pgbackup {
namespace {

using std::chrono::days;
using std::chrono::minutes;
using std::chrono::sys_days;

struct Field {
  std::string_view name;
  int min;
  int max;
  const std::string_view* names;  // names[i] spells value min + i; nullptr if none
  int name_count;
};

constexpr std::string_view kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                            "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::string_view kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

constexpr Field kMinute{"minute", 0, 59, nullptr, 0};
constexpr Field kHour{"hour", 0, 23, nullptr, 0};
constexpr Field kDayOfMonth{"day-of-month", 1, 31, nullptr, 0};
constexpr Field kMonth{"month", 1, 12, kMonthNames, 12};
// 7 is accepted as a second spelling of Sunday and folded onto 0 after parsing.
constexpr Field kDayOfWeek{"day-of-week", 0, 7, kDayNames, 7};

struct Macro {
  std::string_view name;
  std::string_view fields;
};

constexpr Macro kMacros[] = {{"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},
                             {"@midnight", "0 0 * * *"}, {"@weekly", "0 0 * * 0"},
                             {"@monthly", "0 0 1 * *"},  {"@yearly", "0 0 1 1 *"},
                             {"@annually", "0 0 1 1 *"}};

// The most days each month can have (February in a leap year).
constexpr int kMaxDaysInMonth[] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

// A run can be at most this far from any instant for a schedule that parse() accepted: the rarest
// schedules fire on Feb 29 only, which can be 8 years apart around 2100.
constexpr std::chrono::years kSearchLimit{50};
constexpr std::chrono::years kLookBack{5};

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::vector<std::string_view> split_whitespace(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const std::size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

// Parses one field ("*/15", "1-5,10", "MON-FRI") into a bit set; `fail` throws with context.
class FieldParser {
 public:
  FieldParser(std::string_view expression, const Field& field)
      : expression_(expression), field_(field) {}

  std::uint64_t parse(std::string_view text) const {
    std::uint64_t bits = 0;
    for (std::string_view item : split(text, ',')) {
      if (item.empty()) fail("\"" + std::string(text) + "\" has an empty list item");
      bits |= parse_item(item);
    }
    return bits;
  }

 private:
  [[noreturn]] void fail(const std::string& detail) const {
    throw std::invalid_argument("invalid cron schedule \"" + std::string(expression_) +
                                "\": " + std::string(field_.name) + " " + detail);
  }

  std::uint64_t parse_item(std::string_view item) const {
    std::string_view base = item;
    int step = 1;
    bool has_step = false;
    if (const std::size_t slash = item.find('/'); slash != std::string_view::npos) {
      base = item.substr(0, slash);
      const std::string_view step_text = item.substr(slash + 1);
      step = parse_number(step_text, "step");
      if (step < 1) fail("step " + std::string(step_text) + " must be at least 1");
      has_step = true;
    }
    int first = field_.min;
    int last = field_.max;
    if (base != "*") {
      if (const std::size_t dash = base.find('-'); dash != std::string_view::npos) {
        first = parse_value(base.substr(0, dash));
        last = parse_value(base.substr(dash + 1));
        if (first > last) fail("range " + std::string(base) + " runs backwards");
      } else {
        first = parse_value(base);
        // "5/15" means "from 5 to the end, every 15" (cronie and Vixie cron extension).
        last = has_step ? field_.max : first;
      }
    }
    std::uint64_t bits = 0;
    for (int v = first; v <= last; v += step) bits |= std::uint64_t{1} << v;
    return bits;
  }

  // A number or (for month and day-of-week) a name, checked against the field's range.
  int parse_value(std::string_view text) const {
    if (field_.names != nullptr && !text.empty() &&
        std::isalpha(static_cast<unsigned char>(text[0]))) {
      const std::string name = upper(text);
      for (int i = 0; i < field_.name_count; ++i) {
        if (field_.names[i] == name) return field_.min + i;
      }
      fail("\"" + std::string(text) + "\" is not a number or a name " +
           std::string(field_.names[0]) + "-" + std::string(field_.names[field_.name_count - 1]));
    }
    const int value = parse_number(text, "value");
    if (value < field_.min || value > field_.max) {
      fail(std::string(text) + " is out of range " + std::to_string(field_.min) + "-" +
           std::to_string(field_.max));
    }
    return value;
  }

  int parse_number(std::string_view text, std::string_view what) const {
    if (text.empty()) fail(std::string(what) + " is missing");
    int value = 0;
    for (char c : text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) {
        fail(std::string(what) + " \"" + std::string(text) + "\" is not a number");
      }
      value = std::min(value * 10 + (c - '0'), 100000);  // saturate: still out of range
    }
    return value;
  }

  std::string_view expression_;
  const Field& field_;
};

// The first set bit at or after `from`, or -1.
int first_bit_from(std::uint64_t bits, int from) {
  const std::uint64_t rest = bits & (~std::uint64_t{0} << from);
  return rest == 0 ? -1 : std::countr_zero(rest);
}

// The last set bit at or before `to`, or -1.
int last_bit_until(std::uint64_t bits, int to) {
  const std::uint64_t rest = bits & ((std::uint64_t{2} << to) - 1);
  return rest == 0 ? -1 : 63 - std::countl_zero(rest);
}

bool has_bit(std::uint64_t bits, unsigned bit) { return (bits >> bit) & 1; }

}  // namespace

CronSchedule CronSchedule::parse(std::string_view expression) {
  CronSchedule schedule;
  schedule.expression_ = std::string(expression);
  const std::string prefix = "invalid cron schedule \"" + std::string(expression) + "\": ";

  std::vector<std::string_view> fields = split_whitespace(expression);
  if (fields.size() == 1 && fields[0].starts_with('@')) {
    const std::string name = [&] {
      std::string lower(fields[0]);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return lower;
    }();
    const auto macro = std::find_if(std::begin(kMacros), std::end(kMacros),
                                    [&](const Macro& m) { return m.name == name; });
    if (macro == std::end(kMacros)) {
      throw std::invalid_argument(prefix + "unknown macro " + std::string(fields[0]) +
                                  " (expected @hourly, @daily, @midnight, @weekly, @monthly, "
                                  "@yearly or @annually)");
    }
    fields = split_whitespace(macro->fields);
  }
  if (fields.size() != 5) {
    throw std::invalid_argument(
        prefix + "expected 5 fields (minute hour day-of-month month day-of-week) but got " +
        std::to_string(fields.size()));
  }

  schedule.minutes_ = FieldParser(expression, kMinute).parse(fields[0]);
  schedule.hours_ = FieldParser(expression, kHour).parse(fields[1]);
  schedule.days_ = FieldParser(expression, kDayOfMonth).parse(fields[2]);
  schedule.months_ = FieldParser(expression, kMonth).parse(fields[3]);
  schedule.weekdays_ = FieldParser(expression, kDayOfWeek).parse(fields[4]);
  if (has_bit(schedule.weekdays_, 7)) schedule.weekdays_ = (schedule.weekdays_ & 0x7f) | 1;
  // Like Vixie cron, a field counts as unrestricted when it starts with '*' (so "*/2" too).
  schedule.days_unrestricted_ = fields[2].starts_with('*');
  schedule.weekdays_unrestricted_ = fields[4].starts_with('*');

  // Only a day-of-month rule ANDed with every weekday can miss every date: "0 0 30 2 *". In all
  // other cases some selected month has day 1 or the selected weekdays, which every month has.
  if (schedule.weekdays_unrestricted_) {
    bool possible = false;
    for (int month = 1; month <= 12; ++month) {
      if (has_bit(schedule.months_, month) &&
          first_bit_from(schedule.days_, 1) <= kMaxDaysInMonth[month]) {
        possible = true;
      }
    }
    if (!possible) {
      throw std::invalid_argument(prefix +
                                  "never fires: none of the months has any of the days of month");
    }
  }
  return schedule;
}

bool CronSchedule::matches_day(sys_days day) const {
  const std::chrono::year_month_day ymd{day};
  if (!has_bit(months_, static_cast<unsigned>(ymd.month()))) return false;
  const bool day_ok = has_bit(days_, static_cast<unsigned>(ymd.day()));
  const bool weekday_ok = has_bit(weekdays_, std::chrono::weekday{day}.c_encoding());
  // Vixie cron: when both day fields are restricted, either one selects the day.
  if (days_unrestricted_ || weekdays_unrestricted_) return day_ok && weekday_ok;
  return day_ok || weekday_ok;
}

bool CronSchedule::matches(SysTime t) const {
  const auto minute = std::chrono::floor<minutes>(t);
  const sys_days day = std::chrono::floor<days>(minute);
  const std::chrono::hh_mm_ss time{minute - day};
  return matches_day(day) && has_bit(hours_, time.hours().count()) &&
         has_bit(minutes_, time.minutes().count());
}

SysTime CronSchedule::next_after(SysTime t) const {
  const auto start = std::chrono::floor<minutes>(t) + minutes{1};
  sys_days day = std::chrono::floor<days>(start);
  const std::chrono::hh_mm_ss time{start - day};
  int hour = static_cast<int>(time.hours().count());
  int minute = static_cast<int>(time.minutes().count());
  const sys_days limit = std::chrono::floor<days>(start + kSearchLimit);
  while (day < limit) {
    const std::chrono::year_month_day ymd{day};
    if (!has_bit(months_, static_cast<unsigned>(ymd.month()))) {
      // Skip the rest of the month.
      day = sys_days{(ymd.year() / ymd.month() / 1) + std::chrono::months{1}};
      hour = minute = 0;
      continue;
    }
    if (matches_day(day)) {
      for (int h = first_bit_from(hours_, hour); h >= 0; h = first_bit_from(hours_, h + 1)) {
        const int m = first_bit_from(minutes_, h == hour ? minute : 0);
        if (m >= 0) return day + std::chrono::hours{h} + minutes{m};
      }
    }
    day += days{1};
    hour = minute = 0;
  }
  throw std::logic_error("cron schedule \"" + expression_ + "\" found no run within 50 years");
}

std::vector<SysTime> CronSchedule::next_runs(SysTime from, int n) const {
  std::vector<SysTime> runs;
  for (SysTime t = from; static_cast<int>(runs.size()) < n;) {
    t = next_after(t);
    runs.push_back(t);
  }
  return runs;
}

std::optional<SysTime> CronSchedule::last_at_or_before(SysTime t) const {
  const auto start = std::chrono::floor<minutes>(t);
  sys_days day = std::chrono::floor<days>(start);
  const std::chrono::hh_mm_ss time{start - day};
  int hour = static_cast<int>(time.hours().count());
  int minute = static_cast<int>(time.minutes().count());
  const auto limit = start - kLookBack;
  while (day + days{1} > limit) {
    const std::chrono::year_month_day ymd{day};
    if (!has_bit(months_, static_cast<unsigned>(ymd.month()))) {
      // Skip back to the last day of the previous month.
      day = sys_days{ymd.year() / ymd.month() / 1} - days{1};
      hour = 23;
      minute = 59;
      continue;
    }
    if (matches_day(day)) {
      for (int h = last_bit_until(hours_, hour); h >= 0;
           h = h == 0 ? -1 : last_bit_until(hours_, h - 1)) {
        const int m = last_bit_until(minutes_, h == hour ? minute : 59);
        if (m < 0) continue;
        const SysTime run = day + std::chrono::hours{h} + minutes{m};
        return run >= limit ? std::optional<SysTime>(run) : std::nullopt;
      }
    }
    day -= days{1};
    hour = 23;
    minute = 59;
  }
  return std::nullopt;
}

std::chrono::seconds CronSchedule::interval(SysTime from) const {
  const SysTime end = from + std::chrono::years{1};
  SysTime run = next_after(from);
  std::chrono::seconds longest{0};
  do {
    const SysTime next = next_after(run);
    longest = std::max(longest, std::chrono::duration_cast<std::chrono::seconds>(next - run));
    run = next;
  } while (run <= end);
  return longest;
}

const std::string& CronSchedule::expression() const { return expression_; }

}  // namespace pgbackup
