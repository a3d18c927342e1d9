#include "svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "svg_writer.h"

namespace bricks::cli {

namespace {

constexpr double kWidth = 720, kHeight = 440;
constexpr double kLeft = 70, kRight = 190, kTop = 40, kBottom = 56;  // margins
const char* const kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

const char* colour(size_t i) { return kColours[i % (sizeof kColours / sizeof kColours[0])]; }

// Maps data to pixels inside the plot area.
struct Frame {
  double x0, x1, y0, y1;
  double px(double x) const { return kLeft + (x - x0) / (x1 - x0) * (kWidth - kLeft - kRight); }
  double py(double y) const {
    return kHeight - kBottom - (y - y0) / (y1 - y0) * (kHeight - kTop - kBottom);
  }
};

void axes(SvgWriter& svg, const Frame& f, const std::vector<double>& xt,
          const std::vector<double>& yt, const std::string& title, const std::string& xl,
          const std::string& yl) {
  svg.rect(0, 0, kWidth, kHeight, "white");
  svg.text(kWidth / 2 - kRight / 2 + kLeft / 2, 22, title, 15, "middle");
  const double left = kLeft, right = kWidth - kRight, top = kTop, bottom = kHeight - kBottom;
  for (double y : yt) {
    svg.line(left, f.py(y), right, f.py(y), "#e4e4e4");
    svg.text(left - 6, f.py(y) + 4, tick_label(y), 11, "end");
  }
  for (double x : xt) {
    svg.line(f.px(x), bottom, f.px(x), bottom + 4, "#444");
    svg.text(f.px(x), bottom + 18, tick_label(x), 11, "middle");
  }
  svg.line(left, bottom, right, bottom, "#444");
  svg.line(left, top, left, bottom, "#444");
  if (!xl.empty()) svg.text((left + right) / 2, kHeight - 14, xl, 12, "middle");
  if (!yl.empty()) svg.text(18, (top + bottom) / 2, yl, 12, "middle", -90);
}

void legend_entry(SvgWriter& svg, size_t i, const std::string& label, bool dashed, bool box) {
  const double x = kWidth - kRight + 16, y = kTop + 8 + 18 * static_cast<double>(i);
  if (box) {
    svg.rect(x, y - 9, 14, 10, colour(i));
  } else {
    svg.line(x, y - 4, x + 18, y - 4, colour(i), 2, dashed ? "5,3" : "");
  }
  svg.text(x + 24, y, label, 11);
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) hi = lo + 1;
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  // From the tick at or below lo to the one at or above hi, so the ticks cover [lo, hi].
  const auto first = static_cast<long long>(std::floor(lo / step + 1e-9));
  const auto last = static_cast<long long>(std::ceil(hi / step - 1e-9));
  for (long long k = first; k <= last; ++k) ticks.push_back(static_cast<double>(k) * step);
  return ticks;
}

std::string tick_label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string render(const LineChart& c) {
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y1 = 0;
  for (const Series& s : c.series) {
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      x0 = std::min(x0, x);
      x1 = std::max(x1, x);
      y1 = std::max(y1, y);
    }
  }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1;
  if (x1 <= x0) x1 = x0 + 1;
  if (y1 <= 0) y1 = 1;
  const std::vector<double> xt = nice_ticks(x0, x1), yt = nice_ticks(0, y1 * 1.05);
  const Frame f{std::min(x0, xt.front()), std::max(x1, xt.back()), 0, std::max(y1, yt.back())};
  SvgWriter svg(kWidth, kHeight);
  axes(svg, f, xt, yt, c.title, c.x_label, c.y_label);
  for (size_t i = 0; i < c.series.size(); ++i) {
    const Series& s = c.series[i];
    std::vector<std::pair<double, double>> pts;
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      if (c.steps && !pts.empty()) pts.emplace_back(f.px(x), pts.back().second);
      pts.emplace_back(f.px(x), f.py(y));
    }
    if (pts.size() > 1) {
      if (s.dashed) {
        // A polyline has no dash attribute in this writer: draw the segments.
        for (size_t k = 1; k < pts.size(); ++k) {
          svg.line(pts[k - 1].first, pts[k - 1].second, pts[k].first, pts[k].second, colour(i), 1.5,
                   "5,3");
        }
      } else {
        svg.polyline(pts, colour(i));
      }
    }
    if (c.markers && !c.steps) {
      for (const auto& [x, y] : pts) svg.circle(x, y, 2.5, colour(i));
    }
    legend_entry(svg, i, s.label, s.dashed, false);
  }
  return svg.str();
}

std::string render(const BarChart& c) {
  double y1 = 0;
  for (const auto& [g, values] : c.groups) {
    for (double v : values) {
      if (std::isfinite(v)) y1 = std::max(y1, v);
    }
  }
  if (y1 <= 0) y1 = 1;
  const std::vector<double> yt = nice_ticks(0, y1 * 1.05);
  const Frame f{0, 1, 0, std::max(y1, yt.back())};
  SvgWriter svg(kWidth, kHeight);
  axes(svg, f, {}, yt, c.title, "", c.y_label);
  const double span = kWidth - kLeft - kRight;
  const double group_w = span / static_cast<double>(std::max<size_t>(1, c.groups.size()));
  const size_t bars = std::max<size_t>(1, c.bar_labels.size());
  const double bar_w = group_w * 0.7 / static_cast<double>(bars);
  for (size_t gi = 0; gi < c.groups.size(); ++gi) {
    const auto& [label, values] = c.groups[gi];
    const double gx = kLeft + group_w * static_cast<double>(gi) + group_w * 0.15;
    for (size_t b = 0; b < values.size() && b < bars; ++b) {
      const double v = std::isfinite(values[b]) ? values[b] : 0.0;
      const double x = gx + bar_w * static_cast<double>(b);
      svg.rect(x, f.py(v), bar_w * 0.92, f.py(0) - f.py(v), colour(b));
      svg.text(x + bar_w * 0.46, f.py(v) - 4, tick_label(std::round(v * 100) / 100), 10, "middle");
    }
    svg.text(gx + group_w * 0.35, kHeight - kBottom + 18, label, 11, "middle");
  }
  for (size_t b = 0; b < c.bar_labels.size(); ++b)
    legend_entry(svg, b, c.bar_labels[b], false, true);
  return svg.str();
}

}  // namespace bricks::cli
