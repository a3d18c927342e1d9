// Charts as SVG documents: line charts (latency against rate, CDFs) and grouped bar
// charts (capacity and goodput per manifest), with axes, ticks and a legend.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace bricks::cli {

struct Series {
  std::string label;
  std::vector<std::pair<double, double>> points;  // (x, y), drawn in this order
  bool dashed = false;
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  bool markers = true;  // a dot at every point
  bool steps = false;   // a step function (CDFs)
};

struct BarChart {
  std::string title, y_label;
  std::vector<std::string> bar_labels;  // one colour each, in the legend
  std::vector<std::pair<std::string, std::vector<double>>> groups;  // (group, value per bar)
};

// About `target` round tick values covering [lo, hi] (steps of 1, 2 or 5 times 10^k).
std::vector<double> nice_ticks(double lo, double hi, int target = 5);
// A tick label without trailing zeros ("0.25", "10", "1e+06").
std::string tick_label(double v);

std::string render(const LineChart& chart);
std::string render(const BarChart& chart);

}  // namespace bricks::cli
