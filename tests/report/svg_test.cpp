// The SVG writer and charts produce well-formed XML: one <svg> root, balanced tags,
// quoted attributes, escaped text; and the shapes the data asks for.
#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

#include "svg_plot.h"
#include "svg_writer.h"

namespace bricks::cli {
namespace {

struct Parsed {
  bool ok = true;
  std::string error;
  std::vector<std::string> elements;  // every start tag's name, in order
  std::string root;
};

// A small XML checker: enough for documents with elements, attributes and text.
Parsed parse(const std::string& s) {
  Parsed p;
  auto fail = [&](const std::string& why, size_t at) {
    p.ok = false;
    p.error = why + " at " + std::to_string(at);
    return p;
  };
  size_t i = 0;
  if (s.rfind("<?xml", 0) == 0) i = s.find("?>") + 2;
  std::vector<std::string> open;
  while (i < s.size()) {
    if (s[i] != '<') {
      if (s[i] == '&') {
        const size_t semi = s.find(';', i);
        const std::string ent = s.substr(i, semi - i + 1);
        if (ent != "&amp;" && ent != "&lt;" && ent != "&gt;" && ent != "&quot;" &&
            ent != "&apos;") {
          return fail("bad entity " + ent, i);
        }
      }
      if (open.empty() && !std::isspace(static_cast<unsigned char>(s[i]))) {
        return fail("text outside the root", i);
      }
      ++i;
      continue;
    }
    const size_t end = s.find('>', i);
    if (end == std::string::npos) return fail("unclosed tag", i);
    std::string tag = s.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1)) return fail("mismatched </" + tag, i);
      open.pop_back();
      continue;
    }
    const bool self = tag.back() == '/';
    if (self) tag.pop_back();
    size_t k = 0;
    while (k < tag.size() && !std::isspace(static_cast<unsigned char>(tag[k]))) ++k;
    const std::string name = tag.substr(0, k);
    if (open.empty()) {
      if (!p.root.empty()) return fail("second root", i);
      p.root = name;
    }
    // Attributes: name="value" with no raw < or " inside.
    while (k < tag.size()) {
      while (k < tag.size() && std::isspace(static_cast<unsigned char>(tag[k]))) ++k;
      if (k >= tag.size()) break;
      const size_t eq = tag.find('=', k);
      if (eq == std::string::npos || eq + 1 >= tag.size() || tag[eq + 1] != '"') {
        return fail("unquoted attribute in <" + name, i);
      }
      const size_t close = tag.find('"', eq + 2);
      if (close == std::string::npos) return fail("unterminated attribute in <" + name, i);
      if (tag.substr(eq + 2, close - eq - 2).find('<') != std::string::npos) {
        return fail("< in attribute", i);
      }
      k = close + 1;
    }
    p.elements.push_back(name);
    if (!self) open.push_back(name);
  }
  if (!open.empty()) return fail("unclosed <" + open.back(), s.size());
  return p;
}

size_t count(const Parsed& p, const std::string& name) {
  size_t n = 0;
  for (const auto& e : p.elements) n += e == name ? 1 : 0;
  return n;
}

TEST(SvgWriter, EscapesTextAndAttributes) {
  EXPECT_EQ(xml_escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
  SvgWriter w(100, 50);
  w.text(10, 10, "p99 < 100 ms & \"ok\"", 12, "middle", -90);
  w.rect(0, 0, 10, 10, "#fff", "\"bad\"");
  w.line(0, 0, 5, 5, "red", 2, "4,2");
  w.polyline({{0, 0}, {1, 1}}, "blue");
  w.circle(3, 3, 1, "green");
  const Parsed p = parse(w.str());
  ASSERT_TRUE(p.ok) << p.error << "\n" << w.str();
  EXPECT_EQ(p.root, "svg");
  EXPECT_EQ(p.elements.size(), 6u);
  EXPECT_NE(w.str().find("p99 &lt; 100 ms &amp; &quot;ok&quot;"), std::string::npos);
}

TEST(SvgPlot, LineChartHasAxesSeriesAndLegend) {
  LineChart c;
  c.title = "TTFT <vs> rate";
  c.x_label = "rate";
  c.y_label = "ms";
  c.series.push_back({"fcfs P50", {{1, 10}, {2, 12}, {4, 30}}, false});
  c.series.push_back({"fcfs P99", {{1, 20}, {2, 40}, {4, 200}}, true});
  const std::string svg = render(c);
  const Parsed p = parse(svg);
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(count(p, "polyline"), 1u);  // the dashed series is drawn as segments
  EXPECT_EQ(count(p, "circle"), 6u);
  EXPECT_NE(svg.find("fcfs P99"), std::string::npos);
  EXPECT_NE(svg.find("TTFT &lt;vs&gt; rate"), std::string::npos);
}

TEST(SvgPlot, EmptyAndDegenerateChartsStillRender) {
  LineChart c;
  c.steps = true;
  c.series.push_back({"one point", {{5, 1}}, false});
  EXPECT_TRUE(parse(render(c)).ok);
  BarChart b;
  EXPECT_TRUE(parse(render(b)).ok);
}

TEST(SvgPlot, BarChartOneRectPerValue) {
  BarChart b;
  b.title = "capacity";
  b.bar_labels = {"capacity", "goodput"};
  b.groups = {{"fcfs", {3.5, 2.0}}, {"sarathi", {8.0, 6.5}}};
  const Parsed p = parse(render(b));
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(count(p, "rect"), 1u + 4u + 2u);  // background, bars, legend boxes
}

TEST(SvgPlot, NiceTicks) {
  EXPECT_EQ(nice_ticks(0, 10, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(nice_ticks(0, 0.9, 4), (std::vector<double>{0, 0.5, 1.0}));
  const auto t = nice_ticks(1, 8, 5);
  EXPECT_GE(t.back(), 8.0 - 1e-9);
  EXPECT_LE(t.front(), 1.0 + 1e-9);
  EXPECT_EQ(tick_label(0.25), "0.25");
  EXPECT_EQ(tick_label(10), "10");
}

}  // namespace
}  // namespace bricks::cli
