#include "locations.h"

namespace bricks::manifest {

void ManifestLocations::add(std::string path, Location where) { places_[std::move(path)] = where; }

Location ManifestLocations::find(std::string_view path) const {
  while (!path.empty()) {
    auto it = places_.find(path);
    if (it != places_.end()) return it->second;
    path = parent_path(path);
  }
  return {};
}

bool ManifestLocations::has(std::string_view path) const {
  return places_.find(path) != places_.end();
}

std::string_view parent_path(std::string_view path) {
  if (path.empty()) return path;
  if (path.back() == ']') {
    const size_t open = path.rfind('[');
    return open == std::string_view::npos ? std::string_view{} : path.substr(0, open);
  }
  const size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? std::string_view{} : path.substr(0, dot);
}

}  // namespace bricks::manifest
