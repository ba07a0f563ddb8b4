#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/core/timeutil.h"

namespace pgbackup {

// A server-rendered time chart for the status page: inline SVG with a labelled time axis
// (UTC) and value axis, one <circle> per point with a <title> tooltip, flagged points in red.

enum class ChartUnit { bytes, seconds };

struct ChartPoint {
  SysTime at;
  double value = 0;
  std::string label;     // the tooltip, plain text (escaped when drawn)
  bool flagged = false;  // an anomaly or failure: drawn red and larger
};

struct ChartSeries {
  std::string name;  // the legend entry
  std::string color;
  std::vector<ChartPoint> points;  // oldest first
  bool dashed = false;
  bool markers = true;  // a circle per point; a line alone otherwise
};

// A horizontal line across the chart, e.g. the RTO target.
struct ChartThreshold {
  std::string label;
  double value = 0;
};

// Something that happened without a value, e.g. a failed backup: a red mark on the time axis.
struct ChartEvent {
  SysTime at;
  std::string label;
};

struct Chart {
  std::string id;     // the svg element's id
  std::string title;  // the caption above the chart
  ChartUnit unit = ChartUnit::bytes;
  std::vector<ChartSeries> series;
  std::vector<ChartThreshold> thresholds;
  std::vector<ChartEvent> failures;
};

// The chart as a <figure> holding the caption and the <svg>; a short note instead of the svg
// when no series has a point.
std::string render_chart(const Chart& chart);

// A value in the chart's unit for people: "1.5 GiB", "2m 5s", "0.4s".
std::string format_chart_value(double value, ChartUnit unit);

}  // namespace pgbackup
