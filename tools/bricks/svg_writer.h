// A small SVG writer: shapes and text appended to one document, escaped as XML needs.
// Coordinates are in pixels from the top left. Not thread-safe; one writer per document.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bricks::cli {

// `s` with &, <, >, " and ' written as entities.
std::string xml_escape(std::string_view s);

class SvgWriter {
 public:
  SvgWriter(double width, double height);

  void rect(double x, double y, double w, double h, std::string_view fill,
            std::string_view stroke = "none");
  void line(double x1, double y1, double x2, double y2, std::string_view stroke, double width = 1.0,
            std::string_view dash = "");
  void polyline(const std::vector<std::pair<double, double>>& points, std::string_view stroke,
                double width = 1.5);
  void circle(double cx, double cy, double r, std::string_view fill);
  // anchor: start, middle or end; `rotate` in degrees about (x, y).
  void text(double x, double y, std::string_view s, double size = 12,
            std::string_view anchor = "start", double rotate = 0, std::string_view fill = "#222");
  // The whole document.
  std::string str() const;

 private:
  double width_, height_;
  std::string body_;
};

}  // namespace bricks::cli
