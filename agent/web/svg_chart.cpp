#include "agent/web/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <sstream>

#include "agent/core/text.h"
#include "agent/core/units.h"

namespace pgbackup {
namespace {

// The drawing area inside the viewBox; the margins hold the axis labels.
constexpr double kWidth = 560, kHeight = 230;
constexpr double kLeft = 66, kRight = 14, kTop = 12, kBottom = 40;

// The value axis's unit: what a tick's number is divided by and the suffix it gets.
struct AxisUnit {
  double scale = 1;
  const char* suffix = "";
};

AxisUnit axis_unit(double max, ChartUnit unit) {
  if (unit == ChartUnit::bytes) {
    static const char* const kNames[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    AxisUnit u{1, kNames[0]};
    for (int i = 1; i < 6 && max >= std::pow(1024.0, i); ++i) u = {std::pow(1024.0, i), kNames[i]};
    return u;
  }
  if (max >= 2 * 3600) return {3600, "h"};
  if (max >= 120) return {60, "min"};
  return {1, "s"};
}

// A round step (1, 2, 2.5 or 5 times a power of ten) giving about four ticks up to `max`.
double nice_step(double max) {
  const double raw = max / 4;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0}) {
    if (m * magnitude >= raw) return m * magnitude;
  }
  return 10 * magnitude;
}

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  return text;
}

std::string tick_number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, v == std::floor(v) ? "%.0f" : "%g", v);
  return text;
}

// A round time step giving at most six ticks over `span` seconds.
double time_step(double span) {
  static const double kSteps[] = {
      1,    2,    5,     10,    15,    30,    60,     120,    300,     600,     900,     1800,
      3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 1209600, 2592000, 7776000, 31536000};
  for (double step : kSteps) {
    if (span / step <= 6) return step;
  }
  return 31536000 * std::ceil(span / 31536000 / 6);
}

// A time tick's label, as precise as the step needs.
std::string time_label(SysTime t, double step, double span) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  const char* format = step >= 86400  ? "%m-%d"
                       : step < 60    ? "%H:%M:%S"
                       : span > 86400 ? "%m-%d %H:%M"
                                      : "%H:%M";
  char text[32];
  std::strftime(text, sizeof text, format, &tm);
  return text;
}

std::string day_label(SysTime t) { return format_iso8601(t).substr(0, 10); }

}  // namespace

std::string format_chart_value(double value, ChartUnit unit) {
  if (unit == ChartUnit::bytes) return format_bytes(std::uint64_t(std::max(0.0, value)));
  if (value < 60) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1fs", value);
    return text;
  }
  return format_duration(std::chrono::seconds(std::llround(value)));
}

std::string render_chart(const Chart& c) {
  std::vector<SysTime> times;
  double max_value = 0;
  std::size_t points = 0;
  for (const ChartSeries& s : c.series) {
    for (const ChartPoint& p : s.points) {
      times.push_back(p.at);
      max_value = std::max(max_value, p.value);
      ++points;
    }
  }
  std::ostringstream out;
  out << "<figure class=chart><figcaption>" << escape_html(c.title) << "</figcaption>";
  if (points == 0) {
    out << "<p class=muted>No data yet.</p></figure>";
    return out.str();
  }
  for (const ChartEvent& e : c.failures) times.push_back(e.at);
  for (const ChartThreshold& t : c.thresholds) max_value = std::max(max_value, t.value);
  if (max_value <= 0) max_value = 1;

  // Time axis: the span of the data, widened a little so end points are not on the frame.
  double t0 = to_unix_seconds(*std::min_element(times.begin(), times.end()));
  double t1 = to_unix_seconds(*std::max_element(times.begin(), times.end()));
  const double pad = t1 > t0 ? (t1 - t0) * 0.05 : 3600;  // one point: centred in two hours
  t0 -= pad;
  t1 += pad;
  const AxisUnit unit = axis_unit(max_value, c.unit);
  const double step = nice_step(max_value / unit.scale);
  const double top = std::ceil(max_value / unit.scale / step) * step;  // in axis units

  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  auto x = [&](SysTime at) { return kLeft + (to_unix_seconds(at) - t0) / (t1 - t0) * plot_w; };
  auto y = [&](double v) { return kTop + plot_h - v / unit.scale / top * plot_h; };

  out << "<svg id='" << escape_html(c.id) << "' viewBox='0 0 " << kWidth << " " << kHeight
      << "' role='img' aria-label='" << escape_html(c.title) << "'>";
  // Value axis: grid lines and labels.
  out << "<g class=axis>";
  for (double v = 0; v <= top + step / 2; v += step) {
    const double yy = kTop + plot_h - v / top * plot_h;
    out << "<line class=grid x1='" << kLeft << "' x2='" << kWidth - kRight << "' y1='" << number(yy)
        << "' y2='" << number(yy) << "'/><text x='" << kLeft - 6 << "' y='" << number(yy + 4)
        << "' text-anchor='end'>" << tick_number(v) << " " << unit.suffix << "</text>";
  }
  // Time axis: ticks at round times (UTC), the dates they span below.
  const double span = t1 - t0;
  const double bottom = kTop + plot_h;
  out << "<line x1='" << kLeft << "' x2='" << kWidth - kRight << "' y1='" << bottom << "' y2='"
      << bottom << "' stroke='#999'/>";
  const double tick_step = time_step(span);
  for (double at_s = std::ceil(t0 / tick_step) * tick_step; at_s <= t1; at_s += tick_step) {
    const SysTime at = from_unix_seconds(at_s);
    const double xx = x(at);
    out << "<line x1='" << number(xx) << "' x2='" << number(xx) << "' y1='" << bottom << "' y2='"
        << bottom + 4 << "' stroke='#999'/><text x='" << number(xx) << "' y='" << bottom + 16
        << "' text-anchor='" << (xx > kWidth - kRight - 30 ? "end" : "middle") << "'>"
        << time_label(at, tick_step, span) << "</text>";
  }
  const SysTime first = from_unix_seconds(t0 + pad), last = from_unix_seconds(t1 - pad);
  out << "<text x='" << kLeft + plot_w / 2 << "' y='" << kHeight - 4
      << "' text-anchor='middle' class=muted>time (UTC), " << day_label(first)
      << (day_label(first) == day_label(last) ? "" : " to " + day_label(last)) << "</text></g>";

  for (const ChartThreshold& t : c.thresholds) {
    const double yy = y(t.value);
    const double label_y = yy - 4 < kTop + 14 ? yy + 16 : yy - 4;  // below the line at the top
    out << "<g class=threshold><line x1='" << kLeft << "' x2='" << kWidth - kRight << "' y1='"
        << number(yy) << "' y2='" << number(yy) << "'/><text x='" << kWidth - kRight - 4 << "' y='"
        << number(label_y) << "' text-anchor='end'>" << escape_html(t.label) << " "
        << escape_html(format_chart_value(t.value, c.unit)) << "</text><title>"
        << escape_html(t.label) << " " << escape_html(format_chart_value(t.value, c.unit))
        << "</title></g>";
  }
  for (const ChartSeries& s : c.series) {
    std::string line;
    for (const ChartPoint& p : s.points) line += number(x(p.at)) + "," + number(y(p.value)) + " ";
    if (s.points.size() > 1) {
      out << "<polyline class=series fill='none' stroke='" << escape_html(s.color)
          << "' stroke-width='2'" << (s.dashed ? " stroke-dasharray='5 4'" : "") << " points='"
          << line << "'/>";
    }
    if (!s.markers) continue;
    for (const ChartPoint& p : s.points) {
      out << "<circle class='point" << (p.flagged ? " flagged" : "") << "' cx='" << number(x(p.at))
          << "' cy='" << number(y(p.value)) << "' r='" << (p.flagged ? 6 : 3.5) << "' fill='"
          << (p.flagged ? "#c53030" : escape_html(s.color)) << "'><title>" << escape_html(p.label)
          << "</title></circle>";
    }
  }
  for (const ChartEvent& e : c.failures) {
    const double xx = x(e.at);
    out << "<g class=failure><path d='M" << number(xx - 5) << "," << number(bottom - 10)
        << " l10,10 m0,-10 l-10,10' stroke='#c53030' stroke-width='2.5'/><title>"
        << escape_html(e.label) << "</title></g>";
  }
  out << "</svg><div class=legend>";
  for (const ChartSeries& s : c.series) {
    out << "<span><i style='border-color:" << escape_html(s.color) << "'"
        << (s.dashed ? " class=dashed" : "") << "></i>" << escape_html(s.name) << "</span>";
  }
  for (const ChartThreshold& t : c.thresholds) {
    out << "<span><i class=threshold></i>" << escape_html(t.label) << "</span>";
  }
  bool flagged = false;
  for (const ChartSeries& s : c.series) {
    for (const ChartPoint& p : s.points) flagged = flagged || p.flagged;
  }
  if (flagged) out << "<span><i class=flag></i>anomaly or failure</span>";
  if (!c.failures.empty()) out << "<span class=bad>✕ failed attempt</span>";
  out << "</div></figure>";
  return out.str();
}

}  // namespace pgbackup
