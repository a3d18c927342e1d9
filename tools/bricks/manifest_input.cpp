#include "manifest_input.h"

#include <cstdio>
#include <vector>

namespace bricks::cli {

std::optional<manifest::LoadedManifest> load_manifest_reporting(const std::string& file) {
  std::vector<manifest::Diagnostic> diags;
  std::optional<manifest::LoadedManifest> m = manifest::load_manifest(file, diags);
  for (const auto& d : diags) std::fprintf(stderr, "%s\n", d.format().c_str());
  return m;
}

}  // namespace bricks::cli
