#include "diagnostic.h"

#include <algorithm>
#include <tuple>

namespace bricks::manifest {

std::string Diagnostic::format() const {
  std::string out = file;
  if (line > 0) {
    out += ':' + std::to_string(line);
    if (col > 0) out += ':' + std::to_string(col);
  }
  out += error ? ": error: " : ": warning: ";
  out += message;
  if (!fix.empty()) out += "; " + fix;
  return out;
}

void sort_diagnostics(std::vector<Diagnostic>& diags) {
  auto key = [](const Diagnostic& d) {
    return std::make_tuple(d.file, d.line <= 0, d.line, d.col);
  };
  std::stable_sort(diags.begin(), diags.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) { return key(a) < key(b); });
}

int count_errors(const std::vector<Diagnostic>& diags) {
  return static_cast<int>(
      std::count_if(diags.begin(), diags.end(), [](const Diagnostic& d) { return d.error; }));
}

}  // namespace bricks::manifest
